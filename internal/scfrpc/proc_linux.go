package scfrpc

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// SysProcAttr puts the child in a process group of its own and has the
// kernel kill it when this process dies (PR_SET_PDEATHSIG), even by SIGKILL.
func SysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// isolatedAttrs are SysProcAttr with a PID namespace of the child's own
// (as root; else in a user namespace too, mapping this user): when the
// child dies — killed with us by the parent-death signal — the kernel kills
// every process it started, even those that left its process group. The
// second is the fallback where namespaces are not allowed.
func isolatedAttrs() []*syscall.SysProcAttr {
	pidns := SysProcAttr()
	pidns.Cloneflags = syscall.CLONE_NEWPID
	if os.Geteuid() != 0 {
		pidns.Cloneflags |= syscall.CLONE_NEWUSER
		pidns.UidMappings = []syscall.SysProcIDMap{{ContainerID: os.Getuid(), HostID: os.Getuid(), Size: 1}}
		pidns.GidMappings = []syscall.SysProcIDMap{{ContainerID: os.Getgid(), HostID: os.Getgid(), Size: 1}}
	}
	return []*syscall.SysProcAttr{pidns, SysProcAttr()}
}

// KillGroup kills the child and whatever it started.
func KillGroup(cmd *exec.Cmd) {
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	_ = cmd.Process.Kill()
}

// listensOn reports whether process pid holds the socket listening on
// port: its /proc/pid/fd links name the inode that /proc/net/tcp{,6} lists
// in state LISTEN (0A) for that port.
func listensOn(pid, port int) bool {
	inodes := map[string]bool{}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return false
	}
	for _, fd := range fds {
		link, err := os.Readlink(filepath.Join(fmt.Sprintf("/proc/%d/fd", pid), fd.Name()))
		if inode, ok := strings.CutPrefix(link, "socket:["); err == nil && ok {
			inodes[strings.TrimSuffix(inode, "]")] = true
		}
	}
	hexPort := fmt.Sprintf(":%04X", port)
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(table)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) > 9 && strings.HasSuffix(fields[1], hexPort) && fields[3] == "0A" && inodes[fields[9]] {
				_ = f.Close()
				return true
			}
		}
		_ = f.Close()
	}
	return false
}
