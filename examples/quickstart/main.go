// Command quickstart is the README's quick start: one binary deployed as the
// register, transmission and cleanup functions of an echo API.
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
		RegisterOptions: &scfws.RegisterOptions{Subprotocols: []string{"chat"}},
		Register:        func(ctx context.Context, ev *scfws.RegisterEvent) error { return nil },
		Transmission: func(ctx context.Context, ev *scfws.TransmissionEvent) error {
			return push.SendMessage(ctx, ev.ConnectionID(), ev.Message()) // echo
		},
		Cleanup: func(ctx context.Context, ev *scfws.CleanupEvent) error { return nil },
	})
}
