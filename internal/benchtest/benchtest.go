// Package benchtest compares code with its baseline inside one benchmark,
// so that both see the same machine noise.
package benchtest

import (
	"testing"
	"time"
)

// Interleave runs code and baseline once each per b.Loop round, swapping
// which goes first every round (the second of a pair runs on a warmer, or
// busier, machine), then after, if not nil, untimed. It returns the total
// time spent in code and in baseline.
func Interleave(b *testing.B, code, baseline, after func()) (codeTime, baseTime time.Duration) {
	timed := func(f func(), total *time.Duration) {
		t0 := time.Now()
		f()
		*total += time.Since(t0)
	}
	odd := false
	for b.Loop() {
		if odd = !odd; odd {
			timed(code, &codeTime)
			timed(baseline, &baseTime)
		} else {
			timed(baseline, &baseTime)
			timed(code, &codeTime)
		}
		if after != nil {
			after()
		}
	}
	return codeTime, baseTime
}
