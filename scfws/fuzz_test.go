package scfws

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

// seedEvents adds the fixture corpus and a few broken events to f.
func seedEvents(f *testing.F) {
	for _, raw := range fixtures(f) {
		f.Add(raw)
	}
	for _, s := range []string{``, `{`, `null`, `[]`, `{"websocket":null}`, `{"requestContext":{},"websocket":{"action":"connecting","secConnectionID":"a","secWebSocketProtocol":"a,,b","secWebSocketExtensions":"x;\"y"}}`} {
		f.Add([]byte(s))
	}
}

// FuzzInvoke: no payload makes an adapter panic, the register answer is
// always a JSON object with errNo, an accepting answer names at most one
// subprotocol, one the client offered, and the Router answers exactly as the
// adapter of the payload's action.
func FuzzInvoke(f *testing.F) {
	seedEvents(f)
	opts := &RegisterOptions{Subprotocols: []string{"chat", "binary", "superchat"}, Extensions: []string{"permessage-deflate"}}
	reg := NewRegisterHandler(nil, opts)
	router := &Router{RegisterOptions: opts}
	tx, cl := NewTransmissionHandler(nil), NewCleanupHandler(nil)
	f.Fuzz(func(t *testing.T, payload []byte) {
		ctx := context.Background()
		out, err := reg.Invoke(ctx, payload)
		if err != nil {
			t.Fatalf("register returned an invocation error: %v", err)
		}
		var resp struct {
			ErrNo     *int               `json:"errNo"`
			ErrMsg    *string            `json:"errMsg"`
			WebSocket *RegisterWebSocket `json:"websocket"`
		}
		if err := json.Unmarshal(out, &resp); err != nil || resp.ErrNo == nil || resp.ErrMsg == nil {
			t.Fatalf("register answer %s is not an errNo/errMsg object: %v", out, err)
		}
		if *resp.ErrNo == 0 {
			w, role, err := decode(payload)
			if err != nil || role != ActionConnecting {
				t.Fatalf("accepted an event that does not decode as a register event: %v", err)
			}
			if p := resp.WebSocket.SecWebSocketProtocol; p != "" && !slices.Contains(ParseSubprotocols(w.WebSocket.SecWebSocketProtocol), p) {
				t.Fatalf("answered subprotocol %q not offered in %q", p, w.WebSocket.SecWebSocketProtocol)
			}
		}
		_, _ = tx.Invoke(ctx, payload)
		_, _ = cl.Invoke(ctx, payload)
		assertRouterAgrees(t, router, reg, tx, cl, payload)
	})
}

// FuzzParseHeaders: parsing never panics, what it returns is well formed,
// and negotiation only answers an extension the client offered.
func FuzzParseHeaders(f *testing.F) {
	for _, raw := range fixtures(f) {
		if w, _, err := decode(raw); err == nil {
			f.Add(w.WebSocket.SecWebSocketProtocol)
			f.Add(w.WebSocket.SecWebSocketExtensions)
		}
	}
	for _, v := range negotiationVectors {
		f.Add(v.protocols)
		f.Add(v.extensions)
	}
	f.Fuzz(func(t *testing.T, header string) {
		protos := ParseSubprotocols(header)
		for i, p := range protos {
			if !isToken(p) || !strings.Contains(header, p) || slices.Contains(protos[:i], p) {
				t.Fatalf("ParseSubprotocols(%q) returned %q", header, protos)
			}
		}
		offers := ParseExtensions(header)
		for _, o := range offers {
			if !isToken(o.Name) || !strings.Contains(header, o.Name) {
				t.Fatalf("ParseExtensions(%q) returned name %q", header, o.Name)
			}
		}
		ans := negotiateExtensions(offers, []string{"permessage-deflate"})
		if ans == "" {
			return
		}
		back := ParseExtensions(ans)
		if len(back) != 1 || back[0].Name != "permessage-deflate" {
			t.Fatalf("answer %q to %q is not one permessage-deflate element", ans, header)
		}
		if _, ok := negotiateDeflate(back[0]); !ok {
			t.Fatalf("answer %q to %q is not valid permessage-deflate", ans, header)
		}
	})
}

// FuzzPushRequest: the hand-written push encoder writes exactly what
// encoding/json writes, and every body PushRequest accepts encodes back to
// one it decodes the same.
func FuzzPushRequest(f *testing.F) {
	f.Add("CQ1RaJAf4vzaVAkNUdHLZA==", "hello", false, []byte(`{"websocket":{"action":"closing","secConnectionID":"a"}}`))
	f.Add(`a+/b=<&>"\`+"\u2028\x00é", "\xff\xfe", true, []byte(`{"websocket":{"action":"data send","secConnectionID":"x","dataType":"binary","data":"AA=="}}`))
	f.Fuzz(func(t *testing.T, id, data string, binary bool, body []byte) {
		m := Text(data)
		if binary {
			m = Binary([]byte(data))
		}
		enc, err := encodePush(ActionDataSend, m)
		if err != nil {
			t.Fatal(err)
		}
		type wire struct {
			Action          Action   `json:"action"`
			SecConnectionID string   `json:"secConnectionID"`
			DataType        DataType `json:"dataType"`
			Data            string   `json:"data"`
		}
		want, _ := json.Marshal(struct {
			WebSocket wire `json:"websocket"`
		}{wire{ActionDataSend, id, m.DataType, m.Data}})
		if got := enc.body(nil, id); string(got) != string(want) {
			t.Fatalf("encoded %s, encoding/json %s", got, want)
		}

		var p PushRequest
		err = json.Unmarshal(body, &p)
		if ref, refErr := pushReference(body); (err == nil) != (refErr == nil) || (err == nil && ref != p) {
			t.Fatalf("%q: decoded %+v (%v), encoding/json %+v (%v)", body, p, err, ref, refErr)
		}
		if err != nil {
			return
		}
		again, err := json.Marshal(p)
		if err != nil {
			t.Fatalf("decoded %+v from %s but cannot encode it: %v", p, body, err)
		}
		var q PushRequest
		if err := json.Unmarshal(again, &q); err != nil || q != p {
			t.Fatalf("%s decodes to %+v, encodes to %s, decodes to %+v (%v)", body, p, again, q, err)
		}
	})
}

// pushReference decodes a push body with encoding/json, as PushRequest
// did at first.
func pushReference(b []byte) (PushRequest, error) {
	var w struct {
		WebSocket *wireWebSocket `json:"websocket"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return PushRequest{}, err
	}
	ws := w.WebSocket
	switch {
	case ws == nil || ws.SecConnectionID == "":
		return PushRequest{}, errors.New("no websocket or connection")
	case ws.Action == ActionClosing:
		return PushRequest{Action: ActionClosing, ConnectionID: ws.SecConnectionID}, nil
	case ws.Action != ActionDataSend || ws.DataType != DataText && ws.DataType != DataBinary:
		return PushRequest{}, errors.New("bad action or data type")
	}
	return PushRequest{Action: ActionDataSend, ConnectionID: ws.SecConnectionID,
		Message: Message{DataType: ws.DataType, Data: ws.Data}}, nil
}
