package route_test

import (
	"context"
	"fmt"

	"github.com/scfws/scfws-go/scfws"
	"github.com/scfws/scfws-go/scfws/route"
	"github.com/scfws/scfws-go/scfws/scfwstest"
)

// One handler per action; a message no route takes is answered to its
// sender, who stays connected.
func ExampleHandle() {
	gw := scfwstest.NewGateway()
	defer gw.Close()
	push, _ := scfws.NewPushClient(gw.URL, nil)

	type sendMessage struct {
		Room string `json:"room"`
		Text string `json:"text"`
	}
	mux := route.New(push, nil)
	route.Handle(mux, "sendmessage", func(ctx context.Context, ev *scfws.TransmissionEvent, m sendMessage) error {
		fmt.Printf("to %s: %s\n", m.Room, m.Text)
		return nil
	})
	fn := scfws.NewTransmissionHandler(mux.Transmission)

	ctx := context.Background()
	for _, msg := range []map[string]string{
		{"action": "sendmessage", "room": "lobby", "text": "hi"},
		{"action": "dance"},
	} {
		_, err := scfwstest.Invoke(ctx, fn, scfwstest.NewJSONTransmissionEvent("conn-1", msg))
		fmt.Println(err)
	}
	fmt.Println(gw.Pushes()[0].Message.Data)
	// Output:
	// to lobby: hi
	// <nil>
	// <nil>
	// {"action":"error","error":"unknown action \"dance\""}
}
