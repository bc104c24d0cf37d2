package scfws

import (
	"fmt"

	"github.com/scfws/scfws-go/internal/wire"
)

// encodedPush is a push body without its connection ID (internal/wire),
// encoded once for a Broadcast, with the message as given (for an
// in-process gateway and the log).
type encodedPush struct {
	wire.Encoded
	msg Message
}

func encodePush(a Action, m Message) (encodedPush, error) {
	e, err := wire.Encode(string(a), string(m.DataType), m.Data)
	if err != nil {
		return encodedPush{}, fmt.Errorf("scfws: %w", err)
	}
	return encodedPush{Encoded: e, msg: m}, nil
}
