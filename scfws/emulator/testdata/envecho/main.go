// Command envecho is an SCF function for the emulator's tests: it answers
// each message with what SCFWS_PUSH_URL was when the process started,
// pushing through a client that reads the URL at first use.
package main

import (
	"context"
	"log"
	"os"

	"github.com/tencentyun/scf-go-lib/cloudfunction"

	"github.com/scfws/scfws-go/scfws"
)

var atStart = os.Getenv("SCFWS_PUSH_URL")

func main() {
	push, err := scfws.NewPushClientFromEnv(nil)
	if err != nil {
		log.Fatal(err)
	}
	cloudfunction.StartHandler(&scfws.Router{
		Transmission: func(ctx context.Context, ev *scfws.TransmissionEvent) error {
			return push.Send(ctx, ev.ConnectionID(), scfws.Text("atStart="+atStart))
		},
	})
}
