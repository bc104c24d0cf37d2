// Command fn is an SCF Go function for scfrpc's tests: its payload says
// what to do.
package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/tencentyun/scf-go-lib/cloudfunction"
	"github.com/tencentyun/scf-go-lib/functioncontext"
)

type handler struct{}

func (handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	switch cmd := string(payload); {
	case cmd == "panic":
		panic("told to panic")
	case cmd == "error":
		return nil, errors.New("told to fail")
	case cmd == "exit":
		os.Exit(3)
	case cmd == "sleep":
		time.Sleep(2 * time.Second)
	case cmd == "ctx":
		fc, _ := functioncontext.FromContext(ctx)
		d, _ := ctx.Deadline()
		left := "long"
		if time.Until(d) < 10*time.Second {
			left = "short"
		}
		return []byte(fc.RequestID + "|" + fc.FunctionName + "|" + left), nil
	case strings.HasPrefix(cmd, "env "):
		return []byte(os.Getenv(strings.TrimPrefix(cmd, "env "))), nil
	}
	return payload, nil
}

func main() {
	if d := os.Getenv("FN_SPAWN"); d != "" { // a process of its own that outlives a careless parent
		cmd := exec.Command("sleep", d)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // not even in our process group
		_ = cmd.Start()
	}
	cloudfunction.StartHandler(handler{})
}
