package scfws

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
)

// Message is one outgoing message in its wire form: what a push carries as
// websocket.dataType and websocket.data. Build it with [Text], [Binary] or
// [JSON], or take a client's message as it came with
// [TransmissionEvent.Message]. A Message is a plain value, safe to share.
type Message struct {
	// DataType is DataText or DataBinary; a push of any other value is an
	// error before any request.
	DataType DataType
	// Data is the text, or the standard base64 of the binary data.
	Data string
}

// Text returns a text message.
func Text(s string) Message { return Message{DataType: DataText, Data: s} }

// Binary returns a binary message carrying b.
func Binary(b []byte) Message {
	return Message{DataType: DataBinary, Data: base64.StdEncoding.EncodeToString(b)}
}

// JSON returns a text message holding v marshalled as JSON, once. It fails
// only when encoding/json cannot marshal v.
func JSON(v any) (Message, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return Message{}, fmt.Errorf("scfws: marshal message: %w", err)
	}
	return Message{DataType: DataText, Data: string(b)}, nil
}
