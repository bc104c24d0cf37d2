package scfws

import (
	"strconv"

	"github.com/scfws/scfws-go/internal/wire"
)

// Response is the {errNo, errMsg} answer of the protocol: the register
// function's answer (errNo 0 with a websocket object accepts the connection,
// anything else refuses it), the transmission and cleanup adapters' answer
// (ignored by the gateway), and the gateway's answer to a push. ErrNo and
// ErrMsg are always encoded.
type Response struct {
	// ErrNo is 0 for success.
	ErrNo int `json:"errNo"`
	// ErrMsg is "ok" on success, else the reason.
	ErrMsg string `json:"errMsg"`
	// WebSocket is present in an accepting register answer only.
	WebSocket *RegisterWebSocket `json:"websocket,omitempty"`
}

// marshal encodes r byte for byte as encoding/json does, without reflection.
func (r *Response) marshal() []byte {
	b := make([]byte, 0, 96+len(r.ErrMsg))
	b = append(b, `{"errNo":`...)
	b = strconv.AppendInt(b, int64(r.ErrNo), 10)
	b = append(b, `,"errMsg":`...)
	b = wire.AppendString(b, r.ErrMsg)
	if ws := r.WebSocket; ws != nil {
		b = append(b, `,"websocket":{"action":`...)
		b = wire.AppendString(b, string(ws.Action))
		b = append(b, `,"secConnectionID":`...)
		b = wire.AppendString(b, ws.SecConnectionID)
		if ws.SecWebSocketProtocol != "" {
			b = append(b, `,"secWebSocketProtocol":`...)
			b = wire.AppendString(b, ws.SecWebSocketProtocol)
		}
		if ws.SecWebSocketExtensions != "" {
			b = append(b, `,"secWebSocketExtensions":`...)
			b = wire.AppendString(b, ws.SecWebSocketExtensions)
		}
		b = append(b, '}')
	}
	return append(b, '}')
}
