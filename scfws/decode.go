package scfws

import (
	"encoding/json"
	"fmt"
)

// wireEvent is the union of the three events, decoded once; pointers tell
// absent from empty.
type wireEvent struct {
	RequestContext        *RequestContext `json:"requestContext"`
	WebSocket             *wireWebSocket  `json:"websocket"`
	Headers               Params          `json:"headers"`
	HeaderParameters      Params          `json:"headerParameters"`
	QueryString           Params          `json:"queryString"`
	QueryStringParameters Params          `json:"queryStringParameters"`
	PathParameters        Params          `json:"pathParameters"`
}

type wireWebSocket struct {
	Action                 Action   `json:"action"`
	SecConnectionID        string   `json:"secConnectionID"`
	SecWebSocketProtocol   string   `json:"secWebSocketProtocol"`
	SecWebSocketExtensions string   `json:"secWebSocketExtensions"`
	DataType               DataType `json:"dataType"`
	Data                   string   `json:"data"`
}

func decodeWire(payload []byte) (*wireEvent, error) {
	var w wireEvent
	if err := json.Unmarshal(payload, &w); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedEvent, err)
	}
	if w.WebSocket == nil {
		return &w, ErrMissingWebSocket
	}
	return &w, nil
}

func (w *wireEvent) check(actions ...Action) error {
	if w.WebSocket == nil {
		return ErrMissingWebSocket
	}
	ok := false
	for _, a := range actions {
		ok = ok || w.WebSocket.Action == a
	}
	if !ok {
		return fmt.Errorf("%w: %q", ErrWrongAction, w.WebSocket.Action)
	}
	if w.WebSocket.SecConnectionID == "" {
		return ErrMissingConnectionID
	}
	return nil
}

func (w *wireEvent) register() (*RegisterEvent, error) {
	if w.RequestContext == nil {
		return nil, ErrMissingRequestContext
	}
	if err := w.check(ActionConnecting); err != nil {
		return nil, err
	}
	ws := w.WebSocket
	return &RegisterEvent{
		RequestContext: w.RequestContext,
		WebSocket: RegisterWebSocket{
			Action:                 ws.Action,
			SecConnectionID:        ws.SecConnectionID,
			SecWebSocketProtocol:   ws.SecWebSocketProtocol,
			SecWebSocketExtensions: ws.SecWebSocketExtensions,
		},
		Headers:               w.Headers,
		HeaderParameters:      w.HeaderParameters,
		QueryString:           w.QueryString,
		QueryStringParameters: w.QueryStringParameters,
		PathParameters:        w.PathParameters,
	}, nil
}

func (w *wireEvent) transmission() (*TransmissionEvent, error) {
	if err := w.check(ActionDataSend, ActionDataRecv); err != nil {
		return nil, err
	}
	ws := w.WebSocket
	if ws.DataType != DataText && ws.DataType != DataBinary {
		return nil, fmt.Errorf("%w: dataType %q is neither %q nor %q",
			ErrMalformedEvent, ws.DataType, DataText, DataBinary)
	}
	return &TransmissionEvent{
		RequestContext: w.RequestContext,
		WebSocket: TransmissionWebSocket{
			Action:          ws.Action,
			SecConnectionID: ws.SecConnectionID,
			DataType:        ws.DataType,
			Data:            ws.Data,
		},
	}, nil
}

func (w *wireEvent) cleanup() (*CleanupEvent, error) {
	if err := w.check(ActionClosing); err != nil {
		return nil, err
	}
	return &CleanupEvent{
		RequestContext: w.RequestContext,
		WebSocket: CleanupWebSocket{
			Action:          w.WebSocket.Action,
			SecConnectionID: w.WebSocket.SecConnectionID,
		},
	}, nil
}

// DecodeRegisterEvent decodes a register event leniently (unknown fields are
// ignored) and checks what the adapter checks, in this order. Its errors wrap
// [ErrMalformedEvent], [ErrMissingRequestContext], [ErrMissingWebSocket],
// [ErrWrongAction] (action is not "connecting") or [ErrMissingConnectionID].
func DecodeRegisterEvent(payload []byte) (*RegisterEvent, error) {
	w, err := decodeWire(payload)
	if w == nil {
		return nil, err
	}
	return w.register()
}

// DecodeTransmissionEvent decodes a transmission event ("data send" or
// "data recv"). Its errors wrap [ErrMalformedEvent] (also for a dataType
// other than "text" or "binary"), [ErrMissingWebSocket], [ErrWrongAction] or
// [ErrMissingConnectionID].
func DecodeTransmissionEvent(payload []byte) (*TransmissionEvent, error) {
	w, err := decodeWire(payload)
	if err != nil {
		return nil, err
	}
	return w.transmission()
}

// DecodeCleanupEvent decodes a cleanup event ("closing"). Its errors wrap
// [ErrMalformedEvent], [ErrMissingWebSocket], [ErrWrongAction] or
// [ErrMissingConnectionID].
func DecodeCleanupEvent(payload []byte) (*CleanupEvent, error) {
	w, err := decodeWire(payload)
	if err != nil {
		return nil, err
	}
	return w.cleanup()
}
