package scfws

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/scfws/scfws-go/internal/benchtest"
)

// The adapters' cost is measured against a bare json.Unmarshal + json.Marshal
// of the same structs in the same run: compare BenchmarkRegisterInvoke with
// BenchmarkRegisterBareJSON, and BenchmarkTransmissionInvoke with
// BenchmarkTransmissionBareJSON.

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

func BenchmarkRegisterInvoke(b *testing.B) {
	raw := fixtures(b)["register-full"]
	h := benchRegister()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Invoke(ctx, raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRegisterBareJSON(b *testing.B) {
	raw := fixtures(b)["register-full"]
	b.ReportAllocs()
	for b.Loop() {
		bareRegister(b, raw)
	}
}

// BenchmarkRegisterInvokeInterleaved alternates rounds of 100 register
// Invokes with rounds of 100 bare Unmarshal + Marshal of the same structs,
// so that both see the same machine noise; x-bare is the adapter's time over
// the bare JSON's (the target is at most about 1.5).
func BenchmarkRegisterInvokeInterleaved(b *testing.B) {
	raw := fixtures(b)["register-full"]
	h := benchRegister()
	ctx := context.Background()
	ours, bare := benchtest.Interleave(b, func() {
		for range 100 {
			if _, err := h.Invoke(ctx, raw); err != nil {
				b.Fatal(err)
			}
		}
	}, func() {
		for range 100 {
			bareRegister(b, raw)
		}
	}, nil)
	b.ReportMetric(float64(ours)/float64(bare), "x-bare")
}

func BenchmarkTransmissionInvoke(b *testing.B) {
	raw := fixtures(b)["transmission-text"]
	h := NewTransmissionHandler(func(context.Context, *TransmissionEvent) error { return nil })
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Invoke(ctx, raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTransmissionBareJSON(b *testing.B) {
	raw := fixtures(b)["transmission-text"]
	b.ReportAllocs()
	for b.Loop() {
		var ev TransmissionEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			b.Fatal(err)
		}
		if _, err := json.Marshal(&Response{ErrMsg: "ok"}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRouterInvokeRegister(b *testing.B) {
	raw := fixtures(b)["register-full"]
	r := &Router{RegisterOptions: &RegisterOptions{Subprotocols: []string{"chat"}, Extensions: []string{"permessage-deflate"}}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Invoke(ctx, raw); err != nil {
			b.Fatal(err)
		}
	}
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

// BenchmarkRegisterSeedStyle is the baseline for BenchmarkRegisterInvoke: the
// seed's register function, untyped, through the reflective handler.
func BenchmarkRegisterSeedStyle(b *testing.B) {
	raw := fixtures(b)["register-full"]
	h := reflectiveHandler(seedRegister)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h(ctx, raw); err != nil {
			b.Fatal(err)
		}
	}
}
