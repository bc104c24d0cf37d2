package scfws

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
)

// Message is one outgoing message in its wire form: what a push carries as
// websocket.dataType and websocket.data. Build it with [TextMessage],
// [BinaryMessage] or [JSONMessage], or take a client's message as it came
// with [TransmissionEvent.Message]. A Message is a plain value, safe to share.
type Message struct {
	// DataType is DataText or DataBinary.
	DataType DataType
	// Data is the text, or the standard base64 of the binary data.
	Data string
}

// TextMessage returns a text message.
func TextMessage(text string) Message { return Message{DataType: DataText, Data: text} }

// BinaryMessage returns a binary message carrying data.
func BinaryMessage(data []byte) Message {
	return Message{DataType: DataBinary, Data: base64.StdEncoding.EncodeToString(data)}
}

// JSONMessage returns a text message holding v marshalled as JSON once.
// It fails only when encoding/json cannot marshal v.
func JSONMessage(v any) (Message, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return Message{}, fmt.Errorf("scfws: marshal message: %w", err)
	}
	return Message{DataType: DataText, Data: string(b)}, nil
}
