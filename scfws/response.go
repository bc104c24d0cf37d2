package scfws

import "encoding/json"

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

// okBody is the answer of the transmission and cleanup adapters.
const okBody = `{"errNo":0,"errMsg":"ok"}`

// marshal never fails: a Response holds only strings and ints.
func (r *Response) marshal() []byte {
	b, err := json.Marshal(r)
	if err != nil {
		panic("scfws: marshal response: " + err.Error())
	}
	return b
}
