package benchtest

import (
	"syscall"
	"time"
	"unsafe"
)

// threadCPU returns the CPU time f used on the calling (locked) thread, by
// the thread's own clock (CLOCK_THREAD_CPUTIME_ID): time the thread waits
// for a core, with load beside it, is not counted.
func threadCPU(f func()) time.Duration {
	before := threadClock()
	f()
	return threadClock() - before
}

func threadClock() time.Duration {
	const clockThreadCPUTime = 3 // CLOCK_THREAD_CPUTIME_ID
	var ts syscall.Timespec
	_, _, _ = syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTime, uintptr(unsafe.Pointer(&ts)), 0)
	return time.Duration(ts.Nano())
}
