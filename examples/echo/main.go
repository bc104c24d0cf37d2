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
	push, err := scfws.NewPushClientFromEnv(nil) // SCFWS_PUSH_URL: the API's reverse-push address
	if err != nil {
		log.Fatal(err)
	}
	cloudfunction.StartHandler(&scfws.Router{
		RegisterOptions: &scfws.RegisterOptions{Subprotocols: []string{"echo"}},
		Register:        func(ctx context.Context, ev *scfws.RegisterEvent) error { return nil },
		Transmission: func(ctx context.Context, ev *scfws.TransmissionEvent) error {
			return push.SendMessage(ctx, ev.ConnectionID(), ev.Message())
		},
		Cleanup: func(ctx context.Context, ev *scfws.CleanupEvent) error { return nil },
	})
}
