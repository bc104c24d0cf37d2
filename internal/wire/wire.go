// Package wire is the reverse-push protocol's byte format, defined once:
// the push body the client encodes and the gateways (the emulator's, the
// host's, scfwstest's) decode, the gateway's answers, and the JSON string
// encoding the hand-written encoders share. Package scfws's types (Action,
// Message) are converted at its edges: this package imports nothing of
// scfws.
package wire

import (
	"encoding/json"
	"errors"
	"fmt"
)

// The actions and data types of a push.
const (
	ActionDataSend = "data send"
	ActionClosing  = "closing"
	DataText       = "text"
	DataBinary     = "binary"
)

// OK is the gateway's answer to a push delivered (and the transmission and
// cleanup adapters' answer): HTTP 200 and this body.
var OK = []byte(`{"errNo":0,"errMsg":"ok"}`)

// The gateways' refusals of a push; what the real gateway answers is not
// documented, so these are scfws's own, alike in every fake.
var (
	NotFound  = Answer{404, 1001, "connection not found"}
	Malformed = Answer{400, 1002, "malformed push"}
	BadBinary = Answer{400, 1004, "invalid binary data"}
	TooLarge  = Answer{413, 1005, "push too large"}
	// TooLargeKept is the host's: the push was too large and the client
	// stays connected (the emulator, as the legacy gateway, drops a client
	// after any answer but success: TooLarge).
	TooLargeKept = Answer{413, 1007, "push too large: the connection stays"}
	QueueFull    = Answer{502, 1006, "delivery failed: send queue full"}
)

// Answer is a gateway's answer to a push.
type Answer struct {
	Status int
	ErrNo  int
	ErrMsg string
}

// Body is the answer's JSON body.
func (a Answer) Body() []byte {
	if a.ErrNo == 0 && (a.ErrMsg == "ok" || a.ErrMsg == "") {
		return OK
	}
	b := append([]byte(`{"errNo":`), fmt.Sprint(a.ErrNo)...)
	b = append(b, `,"errMsg":`...)
	b = AppendString(b, a.ErrMsg)
	return append(b, '}')
}

// Push is one push body:
//
//	{"websocket":{"action":"data send","secConnectionID":"…","dataType":"text","data":"hello"}}
//	{"websocket":{"action":"closing","secConnectionID":"…"}}
type Push struct {
	Action       string
	ConnectionID string
	DataType     string // data send only
	Data         string // data send only; base64 for binary
}

type body struct {
	WebSocket *struct {
		Action          string `json:"action"`
		SecConnectionID string `json:"secConnectionID"`
		DataType        string `json:"dataType"`
		Data            string `json:"data"`
	} `json:"websocket"`
}

// Decode decodes a push body with encoding/json and checks it as the
// gateway would: a websocket object with a non-empty secConnectionID,
// action "data send" (dataType "text" or "binary") or "closing". Unknown
// keys are ignored.
func Decode(b []byte) (Push, error) {
	var w body
	if err := json.Unmarshal(b, &w); err != nil {
		return Push{}, fmt.Errorf("push body: %w", err)
	}
	ws := w.WebSocket
	switch {
	case ws == nil:
		return Push{}, errors.New("push body: no websocket object")
	case ws.SecConnectionID == "":
		return Push{}, errors.New("push body: empty secConnectionID")
	case ws.Action == ActionClosing:
		return Push{Action: ActionClosing, ConnectionID: ws.SecConnectionID}, nil
	case ws.Action != ActionDataSend:
		return Push{}, fmt.Errorf("push body: action %q is neither %q nor %q", ws.Action, ActionDataSend, ActionClosing)
	case ws.DataType != DataText && ws.DataType != DataBinary:
		return Push{}, fmt.Errorf("push body: dataType %q is neither %q nor %q", ws.DataType, DataText, DataBinary)
	}
	return Push{Action: ActionDataSend, ConnectionID: ws.SecConnectionID, DataType: ws.DataType, Data: ws.Data}, nil
}

// Encoded is a push body without its connection ID, encoded once for many
// connections (a broadcast): Body appends the whole body for one ID.
type Encoded struct {
	Closing bool
	suffix  []byte // `,"dataType":…,"data":…}}`
}

// Encode encodes a push of action; an unknown action or data type is an
// error.
func Encode(action, dataType, data string) (Encoded, error) {
	switch action {
	case ActionClosing:
		return Encoded{Closing: true}, nil
	case ActionDataSend:
	default:
		return Encoded{}, fmt.Errorf("push action %q is neither %q nor %q", action, ActionDataSend, ActionClosing)
	}
	if dataType != DataText && dataType != DataBinary {
		return Encoded{}, fmt.Errorf("message dataType %q is neither %q nor %q", dataType, DataText, DataBinary)
	}
	suffix := make([]byte, 0, len(data)+40)
	suffix = append(suffix, `,"dataType":"`...)
	suffix = append(suffix, dataType...)
	suffix = append(suffix, `","data":`...)
	suffix = AppendString(suffix, data)
	suffix = append(suffix, "}}"...)
	return Encoded{suffix: suffix}, nil
}

// Body appends the push body for connectionID to dst: byte for byte what
// encoding/json makes of the wire object.
func (e Encoded) Body(dst []byte, connectionID string) []byte {
	if e.Closing {
		dst = append(dst, `{"websocket":{"action":"closing","secConnectionID":`...)
		dst = AppendString(dst, connectionID)
		return append(dst, "}}"...)
	}
	dst = append(dst, `{"websocket":{"action":"data send","secConnectionID":`...)
	dst = AppendString(dst, connectionID)
	return append(dst, e.suffix...)
}

// Size is the length of Body's output for an ID of n bytes, at least.
func (e Encoded) Size(n int) int { return 64 + n + len(e.suffix) }

// Marshal encodes p.
func (p Push) Marshal() ([]byte, error) {
	if p.ConnectionID == "" {
		return nil, errors.New("push: empty connection ID")
	}
	e, err := Encode(p.Action, p.DataType, p.Data)
	if err != nil {
		return nil, err
	}
	return e.Body(nil, p.ConnectionID), nil
}

// AppendString appends s as a JSON string, as encoding/json writes it.
func AppendString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			b, _ := json.Marshal(s) // a string always marshals
			return append(dst, b...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}
