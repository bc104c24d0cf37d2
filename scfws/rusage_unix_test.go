//go:build unix

package scfws_test

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time this process has used (user + system).
func cpuTime() time.Duration {
	var r syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &r)
	return time.Duration(r.Utime.Nano() + r.Stime.Nano())
}
