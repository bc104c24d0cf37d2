package benchtest

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// Linear fails t when f's CPU time grows faster than linearly: f(n) and
// f(10n) run alternately, three times each (each time repeated until the
// small size takes some 20 ms), and the least CPU time of each is compared.
// f(10n) may cost at most 30 times f(n), plus 2 ms: a linear path measures 9
// to 13 times on an idle machine and up to about 16 times with busy loops on
// the other hyperthread; a quadratic one about 100 times. f(10n) must also
// stay under limit. The calling thread's CPU clock is read, with the
// collector off, so that load beside the test and the heap's growth do not
// decide.
func Linear(t testing.TB, n int, limit time.Duration, f func(n int)) {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	// enough repetitions that the small size runs 20 ms, above the
	// granularity of the CPU clock
	start := time.Now()
	f(n)
	reps := int(min(max(20*time.Millisecond/max(time.Since(start), 1), 1), 1000))
	repeat := func(n int) func() {
		return func() {
			for range reps {
				f(n)
			}
		}
	}
	// without the collector: the garbage heap's size crossing its first
	// threshold between the two sizes is not the code's doing
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	measure := func(n int) time.Duration {
		runtime.GC()
		return threadCPU(repeat(n)) / time.Duration(reps)
	}
	small, large := time.Duration(1<<62), time.Duration(1<<62)
	for range 3 {
		small = min(small, measure(n))
		large = min(large, measure(10*n))
	}
	runtime.GC()
	t.Logf("size %d: %v, size %d: %v (%.1f×)", n, small, 10*n, large, float64(large)/float64(max(small, 1)))
	if large > 30*small+2*time.Millisecond {
		t.Errorf("not linear: size %d took %v of CPU, size %d took %v (%.1f×)", n, small, 10*n, large,
			float64(large)/float64(max(small, 1)))
	}
	if large > limit {
		t.Errorf("size %d took %v of CPU, over %v", 10*n, large, limit)
	}
}
