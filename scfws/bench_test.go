package scfws

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/scfws/scfws-go/internal/benchtest"
)

// The adapters' cost is compared, in one loop, with two baselines on the
// same realistic event (testdata/events/register-browser.json: a browser's
// 14 headers and a query string): bare json.Unmarshal + json.Marshal of the
// same structs, and the seed's untyped function through scf-go-lib's
// reflective handler path.

// benchRegister is the register adapter the benchmarks measure.
func benchRegister() *RegisterHandler {
	return NewRegisterHandler(func(context.Context, *RegisterEvent) error { return nil },
		&RegisterOptions{Subprotocols: []string{"chat"}, Extensions: []string{"permessage-deflate"}})
}

// bareRegister is its baseline: decode the event and encode the answer it
// gives, with encoding/json and nothing else.
func bareRegister(b *testing.B, raw []byte) {
	var ev RegisterEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		b.Fatal(err)
	}
	resp := Response{ErrMsg: "ok", WebSocket: &RegisterWebSocket{
		Action: ActionConnecting, SecConnectionID: ev.WebSocket.SecConnectionID,
		SecWebSocketProtocol: "chat", SecWebSocketExtensions: "permessage-deflate"}}
	if _, err := json.Marshal(&resp); err != nil {
		b.Fatal(err)
	}
}

// rounds runs f n times: one round of an interleaved comparison.
func rounds(n int, f func()) func() {
	return func() {
		for range n {
			f()
		}
	}
}

// BenchmarkRegister alternates rounds of 100 register Invokes with rounds
// of each baseline; x-bare and x-seed are the adapter's time over the
// baseline's (below 1: faster).
func BenchmarkRegister(b *testing.B) {
	raw := fixtures(b)["register-browser"]
	h := benchRegister()
	seed := reflectiveHandler(seedRegister)
	ctx := context.Background()
	invoke := func() {
		if _, err := h.Invoke(ctx, raw); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("vs-bare-json", func(b *testing.B) {
		b.ReportAllocs()
		ours, base := benchtest.Interleave(b, rounds(100, invoke), rounds(100, func() { bareRegister(b, raw) }), nil)
		b.ReportMetric(float64(ours)/float64(base), "x-bare")
		b.ReportMetric(float64(ours)/float64(b.N*100), "ns/invoke")
	})
	b.Run("vs-seed", func(b *testing.B) {
		ours, base := benchtest.Interleave(b, rounds(100, invoke), rounds(100, func() {
			if _, err := seed(ctx, raw); err != nil {
				b.Fatal(err)
			}
		}), nil)
		b.ReportMetric(float64(ours)/float64(base), "x-seed")
	})
}

// BenchmarkRegisterInvoke is one register Invoke, for allocations and profiles.
func BenchmarkRegisterInvoke(b *testing.B) {
	raw := fixtures(b)["register-browser"]
	h := benchRegister()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Invoke(ctx, raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTransmission alternates rounds of 100 transmission Invokes with
// rounds of bare JSON of the same structs; x-bare as above.
func BenchmarkTransmission(b *testing.B) {
	raw := fixtures(b)["transmission-text"]
	h := NewTransmissionHandler(func(context.Context, *TransmissionEvent) error { return nil })
	ctx := context.Background()
	b.ReportAllocs()
	ours, base := benchtest.Interleave(b, rounds(100, func() {
		if _, err := h.Invoke(ctx, raw); err != nil {
			b.Fatal(err)
		}
	}), rounds(100, func() {
		var ev TransmissionEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			b.Fatal(err)
		}
		if _, err := json.Marshal(&Response{ErrMsg: "ok"}); err != nil {
			b.Fatal(err)
		}
	}), nil)
	b.ReportMetric(float64(ours)/float64(base), "x-bare")
}

// reflectiveHandler mirrors scf-go-lib's cloudfunction.Start path (its
// handler.go): the event type is found by reflection, decoded into a new
// value, the func is called through reflect.Value.Call and the answer
// marshalled. scf-go-lib does not export it, so it is rebuilt here.
func reflectiveHandler(fn any) func(context.Context, []byte) ([]byte, error) {
	v := reflect.ValueOf(fn)
	eventType := v.Type().In(1)
	return func(ctx context.Context, payload []byte) ([]byte, error) {
		event := reflect.New(eventType)
		if err := json.Unmarshal(payload, event.Interface()); err != nil {
			return nil, err
		}
		out := v.Call([]reflect.Value{reflect.ValueOf(ctx), event.Elem()})
		if err, _ := out[1].Interface().(error); err != nil {
			return nil, err
		}
		return json.Marshal(out[0].Interface())
	}
}

// seedRegister is the usage document's register function as people port it
// to Go: a map in, a map out, the subprotocol list echoed back.
func seedRegister(_ context.Context, event map[string]interface{}) (map[string]interface{}, error) {
	if _, ok := event["requestContext"]; !ok {
		return map[string]interface{}{"errNo": 101, "errMsg": "not found request context"}, nil
	}
	ws, ok := event["websocket"].(map[string]interface{})
	if !ok {
		return map[string]interface{}{"errNo": 102, "errMsg": "not found websocket"}, nil
	}
	answer := map[string]interface{}{"action": "connecting", "secConnectionID": ws["secConnectionID"]}
	if p, ok := ws["secWebSocketProtocol"]; ok {
		answer["secWebSocketProtocol"] = p
	}
	if _, ok := ws["secWebSocketExtensions"]; ok {
		answer["secWebSocketExtensions"] = ""
	}
	return map[string]interface{}{"errNo": 0, "errMsg": "ok", "websocket": answer}, nil
}
