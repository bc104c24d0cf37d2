package scfws

import (
	"encoding/json"
	"errors"
	"fmt"
)

// PushRequest is the body of one reverse push, the one definition that the
// client encodes and the emulator and scfwstest's fake gateway decode:
//
//	{"websocket":{"action":"data send","secConnectionID":"…","dataType":"text","data":"hello"}}
//	{"websocket":{"action":"closing","secConnectionID":"…"}}
//
// There is no batching: one connection per request.
type PushRequest struct {
	// Action is ActionDataSend or ActionClosing.
	Action Action
	// ConnectionID is websocket.secConnectionID.
	ConnectionID string
	// Message is websocket.dataType and websocket.data; ActionDataSend only.
	Message Message
}

// MarshalJSON encodes exactly the documented keys of the action, in the
// order above. An unknown action or data type, or an empty connection ID, is
// an error.
func (p PushRequest) MarshalJSON() ([]byte, error) {
	if p.ConnectionID == "" {
		return nil, ErrEmptyConnectionID
	}
	enc, err := encodePush(p.Action, p.Message)
	if err != nil {
		return nil, err
	}
	return enc.body(nil, p.ConnectionID), nil
}

// UnmarshalJSON decodes a push body and checks it as the gateway would: a
// websocket object with a non-empty secConnectionID, action "data send"
// (with dataType "text" or "binary") or "closing". Unknown keys are ignored.
func (p *PushRequest) UnmarshalJSON(b []byte) error {
	w, err := decodeWire(b) // a push body is shaped as an event
	if err != nil {
		return fmt.Errorf("scfws: push body: %w", err)
	}
	ws := w.WebSocket
	switch {
	case ws == nil:
		return errors.New("scfws: push body: no websocket object")
	case ws.SecConnectionID == "":
		return fmt.Errorf("scfws: push body: %w", ErrEmptyConnectionID)
	case ws.Action == ActionClosing:
		*p = PushRequest{Action: ActionClosing, ConnectionID: ws.SecConnectionID}
		return nil
	case ws.Action != ActionDataSend:
		return fmt.Errorf("scfws: push body: action %q is neither %q nor %q", ws.Action, ActionDataSend, ActionClosing)
	case ws.DataType != DataText && ws.DataType != DataBinary:
		return fmt.Errorf("scfws: push body: dataType %q is neither %q nor %q", ws.DataType, DataText, DataBinary)
	}
	*p = PushRequest{Action: ActionDataSend, ConnectionID: ws.SecConnectionID,
		Message: Message{DataType: ws.DataType, Data: ws.Data}}
	return nil
}

// encodedPush is a push body without its connection ID, encoded once for a
// Broadcast: body appends the whole body for one ID.
type encodedPush struct {
	closing bool
	suffix  []byte  // `,"dataType":…,"data":…}}`
	msg     Message // as given, for an in-process gateway and the log
}

func encodePush(a Action, m Message) (encodedPush, error) {
	switch a {
	case ActionClosing:
		return encodedPush{closing: true}, nil
	case ActionDataSend:
	default:
		return encodedPush{}, fmt.Errorf("scfws: push action %q is neither %q nor %q", a, ActionDataSend, ActionClosing)
	}
	if m.DataType != DataText && m.DataType != DataBinary {
		return encodedPush{}, fmt.Errorf("scfws: message dataType %q is neither %q nor %q", m.DataType, DataText, DataBinary)
	}
	suffix := make([]byte, 0, len(m.Data)+40)
	suffix = append(suffix, `,"dataType":"`...)
	suffix = append(suffix, m.DataType...)
	suffix = append(suffix, `","data":`...)
	suffix = appendString(suffix, m.Data)
	suffix = append(suffix, "}}"...)
	return encodedPush{suffix: suffix, msg: m}, nil
}

// body appends the push body for connectionID to dst: byte for byte what
// encoding/json makes of the wire object.
func (e encodedPush) body(dst []byte, connectionID string) []byte {
	if e.closing {
		dst = append(dst, `{"websocket":{"action":"closing","secConnectionID":`...)
		dst = appendString(dst, connectionID)
		return append(dst, "}}"...)
	}
	dst = append(dst, `{"websocket":{"action":"data send","secConnectionID":`...)
	dst = appendString(dst, connectionID)
	return append(dst, e.suffix...)
}

// appendString appends s as a JSON string, as encoding/json writes it.
func appendString(dst []byte, s string) []byte {
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
