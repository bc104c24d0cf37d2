// Command transmission is the usage document's transmission function,
// ported to scfws. It forwards each message, unchanged (same dataType and
// data), to the connection named by TARGET_CONNECTION_ID, or back to the
// sender when that is unset, through the push URL in SCFWS_PUSH_URL (else
// wsBackUrl). A failed push fails the invocation instead of being ignored.
package main

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/scfws/scfws-go/scfws"
	"github.com/tencentyun/scf-go-lib/cloudfunction"
)

func main() {
	// SCFWS_PUSH_URL is read at the first push: the runtime may set the
	// environment only with the first invocation.
	push, err := scfws.NewPushClientFromEnv(nil)
	if err != nil {
		log.Fatal(err) // set, but not a URL
	}
	cloudfunction.StartHandler(scfws.NewTransmissionHandler(func(ctx context.Context, ev *scfws.TransmissionEvent) error {
		target := os.Getenv("TARGET_CONNECTION_ID")
		if target == "" {
			target = ev.ConnectionID()
		}
		if err := push.Send(ctx, target, ev.Message()); err != nil {
			return fmt.Errorf("forward to %s: %w", target, err)
		}
		return nil
	}))
}
