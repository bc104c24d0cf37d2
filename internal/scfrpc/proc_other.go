//go:build !linux

package scfrpc

import (
	"os/exec"
	"syscall"
)

func SysProcAttr() *syscall.SysProcAttr { return nil }

func isolatedAttrs() []*syscall.SysProcAttr { return []*syscall.SysProcAttr{nil} }

func KillGroup(cmd *exec.Cmd) { _ = cmd.Process.Kill() }

// listensOn cannot be checked here.
func listensOn(pid, port int) bool { return true }
