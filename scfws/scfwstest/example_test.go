package scfwstest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/scfws/scfws-go/scfws"
	"github.com/scfws/scfws-go/scfws/scfwstest"
)

// The fake gateway records what a PushClient sends and answers as told.
func ExampleNewGateway() {
	gw := scfwstest.NewGateway()
	defer gw.Close()
	gw.SetRule("gone", scfwstest.Rule{Status: 404, ErrNo: 1001, ErrMsg: "connection not found"})
	gw.SetRule("busy", scfwstest.Rule{Status: 503, Times: 1}) // once, then success
	push, _ := scfws.NewPushClient(gw.URL, &scfws.PushOptions{MinBackoff: time.Millisecond})

	ctx := context.Background()
	fmt.Println(push.Send(ctx, "k+/9aJAf4vzaVAkNUdHLZA==", "hello"))
	fmt.Println(push.Send(ctx, "busy", "retried"))
	fmt.Println(push.Disconnect(ctx, "gone"))
	for _, p := range gw.Pushes() {
		fmt.Printf("%s %s %q %v\n", p.Action, p.ConnectionID, p.Data, p.Keys)
	}
	// Output:
	// <nil>
	// <nil>
	// scfws: push to "gone": scfws: push refused: HTTP 404 (errMsg "connection not found")
	// data send k+/9aJAf4vzaVAkNUdHLZA== "hello" [action data dataType secConnectionID]
	// data send busy "retried" [action data dataType secConnectionID]
	// data send busy "retried" [action data dataType secConnectionID]
	// closing gone "" [action secConnectionID]
}

// Event builders return the typed event and the JSON the gateway sends.
func ExampleNewRegisterEvent() {
	ev, raw := scfwstest.NewRegisterEvent("CQ1RaJAf4vzaVAkNUdHLZA==",
		scfwstest.WithSubprotocols("chat, superchat"), scfwstest.WithSourceIP("203.0.113.7"))
	fmt.Println(ev.Subprotocols(), ev.RequestContext.SourceIP)
	fmt.Println(string(raw))
	// Output:
	// [chat superchat] 203.0.113.7
	// {"requestContext":{"serviceId":"service-scfwstest","path":"/websocket","httpMethod":"GET","requestId":"scfwstest-request","identity":{},"sourceIp":"203.0.113.7","stage":"release","websocketEnable":true},"websocket":{"action":"connecting","secConnectionID":"CQ1RaJAf4vzaVAkNUdHLZA==","secWebSocketProtocol":"chat, superchat"}}
}

func ExampleInvokeRegister() {
	h := scfws.NewRegisterHandler(nil, &scfws.RegisterOptions{Subprotocols: []string{"superchat"}})
	_, raw := scfwstest.NewRegisterEvent("CQ1RaJAf4vzaVAkNUdHLZA==", scfwstest.WithSubprotocols("chat, superchat"))
	resp, err := scfwstest.InvokeRegister(context.Background(), h, raw)
	fmt.Println(resp.Accepted(), resp.WebSocket.SecWebSocketProtocol, err)

	_, noContext := scfwstest.NewRegisterEvent("x", scfwstest.WithoutRequestContext())
	resp, _ = scfwstest.InvokeRegister(context.Background(), h, noContext)
	fmt.Println(resp.ErrNo, resp.ErrMsg)
	// Output:
	// true superchat <nil>
	// 101 not found request context
}

func ExampleNewBinaryTransmissionEvent() {
	ev, raw := scfwstest.NewBinaryTransmissionEvent("CQ1RaJAf4vzaVAkNUdHLZA==", []byte{0xca, 0xfe})
	b, _ := ev.Payload()
	fmt.Printf("%x %s\n", b, raw)
	// Output:
	// cafe {"websocket":{"action":"data send","secConnectionID":"CQ1RaJAf4vzaVAkNUdHLZA==","dataType":"binary","data":"yv4="}}
}
