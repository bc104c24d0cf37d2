package scfws

import "encoding/json"

// RegisterResponse is the register function's answer. ErrNo 0 accepts the
// connection; any other value refuses it. ErrNo and ErrMsg are always sent.
type RegisterResponse struct {
	// ErrNo is 0 to accept, anything else to refuse.
	ErrNo int `json:"errNo"`
	// ErrMsg is "ok" on acceptance, else the refusal's reason.
	ErrMsg string `json:"errMsg"`
	// WebSocket is present on acceptance only.
	WebSocket *RegisterResponseWebSocket `json:"websocket,omitempty"`
}

// RegisterResponseWebSocket is the websocket object of an accepting answer.
type RegisterResponseWebSocket struct {
	// Action is always "connecting".
	Action Action `json:"action"`
	// SecConnectionID is the event's connection ID.
	SecConnectionID string `json:"secConnectionID"`
	// SecWebSocketProtocol is one token the client offered; the key is
	// omitted when none was chosen (never "" and never a list).
	SecWebSocketProtocol string `json:"secWebSocketProtocol,omitempty"`
	// SecWebSocketExtensions is the accepted extension; the key is omitted
	// when none is accepted (the default).
	SecWebSocketExtensions string `json:"secWebSocketExtensions,omitempty"`
}

// Accepted reports whether the answer accepts the connection.
func (r *RegisterResponse) Accepted() bool { return r.ErrNo == ErrNoOK }

// refusal returns the answer refusing with errNo and its fixed errMsg.
func refusal(errNo int) *RegisterResponse {
	return &RegisterResponse{ErrNo: errNo, ErrMsg: errMsgs[errNo]}
}

// okBody is the body the transmission and cleanup adapters answer with; the
// gateway ignores it.
const okBody = `{"errNo":0,"errMsg":"ok"}`

// marshalResponse never fails: the response holds only strings and ints.
func marshalResponse(r *RegisterResponse) []byte {
	b, err := json.Marshal(r)
	if err != nil {
		panic("scfws: marshal register response: " + err.Error())
	}
	return b
}
