// Command cleanup is the usage document's cleanup function, ported to scfws.
// It logs the connection that left; a real one removes it from storage.
package main

import (
	"context"
	"log"

	"github.com/scfws/scfws-go/scfws"
	"github.com/tencentyun/scf-go-lib/cloudfunction"
)

func main() {
	cloudfunction.StartHandler(scfws.NewCleanupHandler(func(_ context.Context, ev *scfws.CleanupEvent) error {
		log.Printf("closing: connection id %s", ev.ConnectionID())
		return nil
	}))
}
