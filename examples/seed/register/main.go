// Command register is the usage document's register function, ported to
// scfws. It accepts every connection. Where the Python sample echoed the
// client's whole subprotocol list (which browsers reject), it answers one
// subprotocol it supports ("chat", else "binary") when the client offered
// it; it declines every extension, as the sample did.
package main

import (
	"context"
	"log"

	"github.com/scfws/scfws-go/scfws"
	"github.com/tencentyun/scf-go-lib/cloudfunction"
)

func main() {
	opts := &scfws.RegisterOptions{Subprotocols: []string{"chat", "binary"}}
	cloudfunction.StartHandler(scfws.NewRegisterHandler(func(_ context.Context, ev *scfws.RegisterEvent) error {
		log.Printf("connecting: connection id %s", ev.ConnectionID())
		return nil
	}, opts))
}
