// Command webecho is examples/echo moved off API Gateway: the same Router,
// served by package host instead of the SCF runtime — in a Web function
// (scf_bootstrap starts it; it listens on 0.0.0.0:$PORT, 9000 by default)
// or on any server.
package main

import (
	"context"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/scfws/scfws-go/scfws"
	"github.com/scfws/scfws-go/scfws/host"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Options.Redis joins the instances; nil: one instance.
	srv, err := host.New(&host.Options{Addr: os.Getenv("ADDR")})
	if err != nil {
		log.Fatal(err)
	}
	push, err := scfws.NewPushClient(srv.PushURL(), &scfws.PushOptions{HTTPClient: srv.Client()})
	if err != nil {
		log.Fatal(err)
	}
	app := &scfws.Router{
		RegisterOptions: &scfws.RegisterOptions{Subprotocols: []string{"echo"}},
		Register:        func(ctx context.Context, ev *scfws.RegisterEvent) error { return nil },
		Transmission: func(ctx context.Context, ev *scfws.TransmissionEvent) error {
			return push.Send(ctx, ev.ConnectionID(), ev.Message())
		},
		Cleanup: func(ctx context.Context, ev *scfws.CleanupEvent) error { return nil },
	}
	if err := srv.Serve(ctx, scfws.Functions{Register: app, Transmission: app, Cleanup: app}); err != nil {
		log.Fatal(err)
	}
}
