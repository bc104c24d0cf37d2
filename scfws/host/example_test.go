package host_test

import (
	"context"
	"fmt"

	"github.com/coder/websocket"

	"github.com/scfws/scfws-go/scfws"
	"github.com/scfws/scfws-go/scfws/host"
)

// A host serving an echo app: its functions push through the host's own
// client, and shutting down closes each connection with 1001.
func Example() {
	srv, err := host.New(&host.Options{Addr: "127.0.0.1:0"}) // nil Options: 0.0.0.0:$PORT, as a Web function needs
	if err != nil {
		panic(err)
	}
	push, err := scfws.NewPushClient(srv.PushURL(), &scfws.PushOptions{HTTPClient: srv.Client()})
	if err != nil {
		panic(err)
	}
	app := &scfws.Router{Transmission: func(ctx context.Context, ev *scfws.TransmissionEvent) error {
		return push.Send(ctx, ev.ConnectionID(), scfws.Text("echo: "+ev.WebSocket.Data))
	}}
	ctx, shutdown := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, scfws.Functions{Register: app, Transmission: app, Cleanup: app}) }()

	c, _, err := websocket.Dial(context.Background(), srv.URL(), nil)
	if err != nil {
		panic(err)
	}
	_ = c.Write(context.Background(), websocket.MessageText, []byte("hello"))
	_, got, _ := c.Read(context.Background())
	fmt.Println(string(got))

	shutdown() // as on SIGTERM
	_, _, err = c.Read(context.Background())
	fmt.Println(websocket.CloseStatus(err), <-served)
	// Output:
	// echo: hello
	// StatusGoingAway <nil>
}
