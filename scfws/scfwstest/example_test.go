package scfwstest_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/scfws/scfws-go/scfws"
	"github.com/scfws/scfws-go/scfws/scfwstest"
)

// The fake gateway records what a PushClient sends and answers as told.
func ExampleNewGateway() {
	gw := scfwstest.NewGateway()
	defer gw.Close()
	gw.SetRule("gone", scfwstest.Rule{Status: 404, ErrNo: 1001, ErrMsg: "connection not found"})
	push, _ := scfws.NewPushClient(gw.URL, nil)

	ctx := context.Background()
	fmt.Println(push.Send(ctx, "k+/9aJAf4vzaVAkNUdHLZA==", scfws.Text("hello")))
	fmt.Println(push.Disconnect(ctx, "gone"))
	for _, p := range gw.Pushes() {
		fmt.Printf("%s %s %q\n", p.Action, p.ConnectionID, p.Message.Data)
	}
	// Output:
	// <nil>
	// scfws: push to "gone": scfws: push refused: HTTP 404 (errMsg "connection not found")
	// data send k+/9aJAf4vzaVAkNUdHLZA== "hello"
	// closing gone ""
}

// Event builders return the event the gateway sends; change its fields as
// the test needs, and marshal it for the raw payload.
func ExampleNewRegisterEvent() {
	ev := scfwstest.NewRegisterEvent("CQ1RaJAf4vzaVAkNUdHLZA==")
	ev.WebSocket.SecWebSocketProtocol = "chat, superchat"
	ev.RequestContext.SourceIP = "203.0.113.7"
	raw, _ := json.Marshal(ev)
	fmt.Println(string(raw))
	// Output:
	// {"requestContext":{"serviceId":"service-scfwstest","path":"/websocket","httpMethod":"GET","requestId":"scfwstest-request","identity":{},"sourceIp":"203.0.113.7","stage":"release","websocketEnable":true},"websocket":{"action":"connecting","secConnectionID":"CQ1RaJAf4vzaVAkNUdHLZA==","secWebSocketProtocol":"chat, superchat"}}
}

func ExampleInvoke() {
	h := scfws.NewRegisterHandler(nil, &scfws.RegisterOptions{Subprotocols: []string{"superchat"}})
	ev := scfwstest.NewRegisterEvent("CQ1RaJAf4vzaVAkNUdHLZA==")
	ev.WebSocket.SecWebSocketProtocol = "chat, superchat"
	resp, err := scfwstest.Invoke(context.Background(), h, ev)
	fmt.Println(resp.ErrNo, resp.WebSocket.SecWebSocketProtocol, err)

	ev.RequestContext = nil // as the console's test template
	resp, _ = scfwstest.Invoke(context.Background(), h, ev)
	fmt.Println(resp.ErrNo, resp.ErrMsg)
	// Output:
	// 0 superchat <nil>
	// 101 not found request context
}

func ExampleNewTransmissionEvent() {
	ev := scfwstest.NewTransmissionEvent("CQ1RaJAf4vzaVAkNUdHLZA==", scfws.Binary([]byte{0xca, 0xfe}))
	b, _ := ev.Payload()
	raw, _ := json.Marshal(ev)
	fmt.Printf("%x %s\n", b, raw)
	// Output:
	// cafe {"websocket":{"action":"data send","secConnectionID":"CQ1RaJAf4vzaVAkNUdHLZA==","dataType":"binary","data":"yv4="}}
}
