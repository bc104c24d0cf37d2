//go:build !linux

package benchtest

import "time"

// threadCPU returns the wall time f took (no per-thread CPU clock here).
func threadCPU(f func()) time.Duration {
	start := time.Now()
	f()
	return time.Since(start)
}
