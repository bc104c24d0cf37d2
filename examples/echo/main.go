// Command echo is the smallest complete scfws program: one binary deployed
// as the register, transmission and cleanup functions, echoing every
// message back to its sender through the reverse-push address.
package main

import (
	"context"
	"log"

	"github.com/scfws/scfws-go/scfws"
	"github.com/tencentyun/scf-go-lib/cloudfunction"
)

func main() {
	// SCFWS_PUSH_URL (the API's reverse-push address) is read at the first
	// push: SCF may set the environment only with the first invocation.
	push, err := scfws.NewPushClientFromEnv(nil)
	if err != nil {
		log.Fatal(err) // set, but not a URL
	}
	cloudfunction.StartHandler(&scfws.Router{
		RegisterOptions: &scfws.RegisterOptions{Subprotocols: []string{"echo"}},
		Register:        func(ctx context.Context, ev *scfws.RegisterEvent) error { return nil },
		Transmission: func(ctx context.Context, ev *scfws.TransmissionEvent) error {
			return push.Send(ctx, ev.ConnectionID(), ev.Message())
		},
		Cleanup: func(ctx context.Context, ev *scfws.CleanupEvent) error { return nil },
	})
}
