// Command transmission is the usage document's transmission function,
// ported to scfws. It forwards each message, unchanged (same dataType and
// data), to the connection named by TARGET_CONNECTION_ID, or back to the
// sender when that is unset, through the push URL in SCFWS_PUSH_URL (else
// wsBackUrl). A failed push fails the invocation instead of being ignored.
package main

import (
	"context"
	"fmt"
	"os"
	"sync"

	"github.com/scfws/scfws-go/scfws"
	"github.com/tencentyun/scf-go-lib/cloudfunction"
)

func main() {
	// The runtime may set the environment with the first invocation, so the
	// client is made then, once.
	pushClient := sync.OnceValues(func() (*scfws.PushClient, error) { return scfws.NewPushClientFromEnv(nil) })
	cloudfunction.StartHandler(scfws.NewTransmissionHandler(func(ctx context.Context, ev *scfws.TransmissionEvent) error {
		c, err := pushClient()
		if err != nil {
			return err
		}
		target := os.Getenv("TARGET_CONNECTION_ID")
		if target == "" {
			target = ev.ConnectionID()
		}
		if err := c.SendMessage(ctx, target, ev.Message()); err != nil {
			return fmt.Errorf("forward to %s: %w", target, err)
		}
		return nil
	}))
}
