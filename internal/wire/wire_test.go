package wire

import (
	"encoding/base64"
	"encoding/json"
	"testing"
)

// reference is the push body as encoding/json writes it.
type reference struct {
	WebSocket struct {
		Action          string `json:"action"`
		SecConnectionID string `json:"secConnectionID"`
		DataType        string `json:"dataType,omitempty"`
		Data            string `json:"data,omitempty"`
	} `json:"websocket"`
}

// FuzzPush: the hand-written encoder writes exactly what encoding/json
// writes; every body Decode accepts encodes back to one it decodes the
// same; no body makes Decode panic.
func FuzzPush(f *testing.F) {
	f.Add("CQ1RaJAf4vzaVAkNUdHLZA==", "hello", false, []byte(`{"websocket":{"action":"closing","secConnectionID":"a"}}`))
	f.Add(`a+/b=<&>"\`+"\u2028\x00é", "\xff\xfe", true, []byte(`{"websocket":{"action":"data send","secConnectionID":"x","dataType":"binary","data":"AA=="}}`))
	f.Add("x", "", false, []byte(`{"WEBSOCKET":{"Action":"data send","secconnectionid":"x","dataType":"text","data":null}}`))
	f.Fuzz(func(t *testing.T, id, data string, binary bool, body []byte) {
		dataType := DataText
		if binary {
			dataType, data = DataBinary, base64.StdEncoding.EncodeToString([]byte(data))
		}
		enc, err := Encode(ActionDataSend, dataType, data)
		if err != nil {
			t.Fatal(err)
		}
		var ref reference
		ref.WebSocket.Action, ref.WebSocket.SecConnectionID, ref.WebSocket.DataType = ActionDataSend, id, dataType
		want, _ := json.Marshal(ref)
		want = append(want[:len(want)-2], []byte(`,"data":`+string(mustJSON(data))+`}}`)...)
		if got := enc.Body(nil, id); string(got) != string(want) {
			t.Fatalf("encoded %s, encoding/json %s", got, want)
		}

		p, err := Decode(body)
		if err != nil {
			return
		}
		again, err := p.Marshal()
		if err != nil {
			t.Fatalf("decoded %+v from %s but cannot encode it: %v", p, body, err)
		}
		if q, err := Decode(again); err != nil || q != p {
			t.Fatalf("%s decodes to %+v, encodes to %s, decodes to %+v (%v)", body, p, again, q, err)
		}
	})
}

func mustJSON(s string) []byte {
	b, _ := json.Marshal(s)
	return b
}

func TestAnswerBody(t *testing.T) {
	for a, want := range map[Answer]string{
		NotFound:                     `{"errNo":1001,"errMsg":"connection not found"}`,
		{ErrNo: 0, ErrMsg: "ok"}:     `{"errNo":0,"errMsg":"ok"}`,
		{ErrNo: 0, ErrMsg: "fine"}:   `{"errNo":0,"errMsg":"fine"}`,
		{ErrNo: -3, ErrMsg: `<"é">`}: `{"errNo":-3,"errMsg":"\u003c\"é\"\u003e"}`,
	} {
		if got := string(a.Body()); got != want {
			t.Errorf("%+v: %s, want %s", a, got, want)
		}
	}
}
