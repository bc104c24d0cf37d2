package scfws

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tencentyun/scf-go-lib/functioncontext"
)

const okRegister = `{"requestContext":{"requestId":"r1"},"websocket":{"action":"connecting","secConnectionID":"CQ1RaJAf4vzaVAkNUdHLZA=="}}`

var errSecret = errors.New("db password is hunter2")

// registerCases: payload and RegisterFunc in, the exact JSON answer out.
var registerCases = map[string]struct {
	payload string
	fn      RegisterFunc
	want    string
}{
	"accept": {okRegister, nil,
		`{"errNo":0,"errMsg":"ok","websocket":{"action":"connecting","secConnectionID":"CQ1RaJAf4vzaVAkNUdHLZA=="}}`},
	"not json":             {`{"requestContext":`, nil, `{"errNo":103,"errMsg":"malformed event"}`},
	"empty payload":        {``, nil, `{"errNo":103,"errMsg":"malformed event"}`},
	"json string":          {`"connecting"`, nil, `{"errNo":103,"errMsg":"malformed event"}`},
	"websocket wrong type": {`{"requestContext":{},"websocket":[]}`, nil, `{"errNo":103,"errMsg":"malformed event"}`},
	"null":                 {`null`, nil, `{"errNo":101,"errMsg":"not found request context"}`},
	"empty object":         {`{}`, nil, `{"errNo":101,"errMsg":"not found request context"}`},
	"requestContext not an object": {`{"requestContext":"x","websocket":{"action":"connecting","secConnectionID":"x"}}`, nil,
		`{"errNo":101,"errMsg":"not found request context"}`},
	"no requestContext": {`{"websocket":{"action":"connecting","secConnectionID":"x"}}`, nil,
		`{"errNo":101,"errMsg":"not found request context"}`},
	"no websocket":   {`{"requestContext":{}}`, nil, `{"errNo":102,"errMsg":"not found websocket"}`},
	"null websocket": {`{"requestContext":{},"websocket":null}`, nil, `{"errNo":102,"errMsg":"not found websocket"}`},
	"wrong action": {`{"requestContext":{},"websocket":{"action":"data send","secConnectionID":"x"}}`, nil,
		`{"errNo":104,"errMsg":"unexpected action"}`},
	"empty id": {`{"requestContext":{},"websocket":{"action":"connecting","secConnectionID":""}}`, nil,
		`{"errNo":105,"errMsg":"not found secConnectionID"}`},
	"reject": {okRegister, func(context.Context, *RegisterEvent) error { return Reject(4001, "banned") },
		`{"errNo":4001,"errMsg":"banned"}`},
	"reject wrapped": {okRegister, func(context.Context, *RegisterEvent) error {
		return errors.Join(errors.New("x"), Reject(-3, "nope"))
	}, `{"errNo":-3,"errMsg":"nope"}`},
	"reject zero": {okRegister, func(context.Context, *RegisterEvent) error { return Reject(0, "zero") },
		`{"errNo":500,"errMsg":"zero"}`},
	"RejectError zero": {okRegister, func(context.Context, *RegisterEvent) error { return &RejectError{ErrMsg: "zero"} },
		`{"errNo":500,"errMsg":"zero"}`},
	"typed nil RejectError": {okRegister, func(context.Context, *RegisterEvent) error { return (*RejectError)(nil) },
		`{"errNo":500,"errMsg":"internal error"}`},
	"Error method panics": {okRegister, func(context.Context, *RegisterEvent) error { return panicky{} },
		`{"errNo":500,"errMsg":"internal error"}`},
	"Unwrap panics": {okRegister, func(context.Context, *RegisterEvent) error { return unwrapPanics{} },
		`{"errNo":500,"errMsg":"internal error"}`},
	"Unwrap returns itself": {okRegister, func(context.Context, *RegisterEvent) error { return selfUnwrap{} },
		`{"errNo":500,"errMsg":"internal error"}`},
	"a rejection behind a long chain": {okRegister, func(context.Context, *RegisterEvent) error {
		err := Reject(4001, "deep")
		for range 100 {
			err = fmt.Errorf("layer: %w", err)
		}
		return err
	}, `{"errNo":4001,"errMsg":"deep"}`},
	"user error does not leak": {okRegister, func(context.Context, *RegisterEvent) error { return errSecret },
		`{"errNo":500,"errMsg":"internal error"}`},
	"panic": {okRegister, func(context.Context, *RegisterEvent) error { panic("hunter2") },
		`{"errNo":500,"errMsg":"internal error"}`},
	"nil pointer panic": {okRegister, func(context.Context, *RegisterEvent) error {
		var m map[string]int
		//lint:ignore SA5000 the panic is what is tested
		m["x"]++
		return nil
	}, `{"errNo":500,"errMsg":"internal error"}`},
}

func TestRegisterHandler(t *testing.T) {
	for name, tc := range registerCases {
		t.Run(name, func(t *testing.T) {
			var logs bytes.Buffer
			h := NewRegisterHandler(tc.fn, &RegisterOptions{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			out, err := h.Invoke(context.Background(), []byte(tc.payload))
			require.NoError(t, err)
			assert.JSONEq(t, tc.want, string(out))
			assert.NotContains(t, string(out), "hunter2")
			if bytes.Contains(out, []byte(`"internal error"`)) {
				assert.Contains(t, logs.String(), "errNo=500", "the refusal is logged")
				assert.Contains(t, logs.String(), "err=", "with its cause")
			}
			if name == "user error does not leak" || name == "panic" {
				assert.Contains(t, logs.String(), "hunter2", "the cause is logged, not sent")
			}
		})
	}
}

// panicky is an error whose Error method panics.
type panicky struct{}

func (panicky) Error() string { panic("Error() panics") }

// unwrapPanics is an error whose Unwrap method panics.
type unwrapPanics struct{}

func (unwrapPanics) Error() string { return "unwrap panics" }
func (unwrapPanics) Unwrap() error { panic("Unwrap() panics") }

// selfUnwrap is an error whose Unwrap returns itself: errors.As never ends
// on it.
type selfUnwrap struct{}

func (selfUnwrap) Error() string   { return "self" }
func (e selfUnwrap) Unwrap() error { return e }

func TestRegisterSeesNegotiated(t *testing.T) {
	var got *RegisterEvent
	h := NewRegisterHandler(func(_ context.Context, ev *RegisterEvent) error {
		got = ev
		return nil
	}, &RegisterOptions{Subprotocols: []string{"binary"}})
	_, err := h.Invoke(context.Background(), fixtures(t)["register-full"])
	require.NoError(t, err)
	require.NotNil(t, got)
	assert.Equal(t, Negotiated{Subprotocol: "binary"}, got.Negotiated)
	assert.Equal(t, "10.0.2.14", got.RequestContext.SourceIP)
}

func TestRequireSubprotocolRefusesBeforeUserFunc(t *testing.T) {
	called := false
	h := NewRegisterHandler(func(context.Context, *RegisterEvent) error { called = true; return nil },
		&RegisterOptions{Subprotocols: []string{"mqtt"}, RequireSubprotocol: true})
	out, err := h.Invoke(context.Background(), fixtures(t)["register-full"])
	require.NoError(t, err)
	assert.JSONEq(t, `{"errNo":106,"errMsg":"no supported subprotocol"}`, string(out))
	assert.False(t, called)
}

// streamCases: transmission and cleanup answers through their adapters and the Router.
var streamCases = map[string]struct {
	payload string
	fail    error // returned by the func
	panics  bool
	wantErr error // nil: success with okBody
}{
	"text":          {`{"websocket":{"action":"data send","secConnectionID":"a","dataType":"text","data":"x"}}`, nil, false, nil},
	"data recv":     {`{"websocket":{"action":"data recv","secConnectionID":"a","dataType":"text","data":"x"}}`, nil, false, nil},
	"binary":        {`{"websocket":{"action":"data send","secConnectionID":"a","dataType":"binary","data":"AA=="}}`, nil, false, nil},
	"user error":    {`{"websocket":{"action":"data send","secConnectionID":"a","dataType":"text","data":"x"}}`, errSecret, false, errSecret},
	"panic":         {`{"websocket":{"action":"data send","secConnectionID":"a","dataType":"text","data":"x"}}`, nil, true, errBoom},
	"no data type":  {`{"websocket":{"action":"data send","secConnectionID":"a","data":"x"}}`, nil, false, nil},
	"no id":         {`{"websocket":{"action":"data send","dataType":"text","data":"x"}}`, nil, false, ErrMissingConnectionID},
	"closing":       {`{"websocket":{"action":"closing","secConnectionID":"a"}}`, nil, false, nil},
	"closing error": {`{"websocket":{"action":"closing","secConnectionID":"a"}}`, errSecret, false, errSecret},
	"closing panic": {`{"websocket":{"action":"closing","secConnectionID":"a"}}`, nil, true, errBoom},
	"closing no id": {`{"websocket":{"action":"closing"}}`, nil, false, ErrMissingConnectionID},
}

func TestTransmissionAndCleanupHandlers(t *testing.T) {
	for name, tc := range streamCases {
		t.Run(name, func(t *testing.T) {
			calls := 0
			fn := func(ctx context.Context) error {
				calls++
				if tc.panics {
					panic(errBoom)
				}
				return tc.fail
			}
			tx := func(ctx context.Context, _ *TransmissionEvent) error { return fn(ctx) }
			cl := func(ctx context.Context, _ *CleanupEvent) error { return fn(ctx) }
			closing := bytes.Contains([]byte(tc.payload), []byte(`"closing"`))
			var adapter interface {
				Invoke(context.Context, []byte) ([]byte, error)
			} = NewTransmissionHandler(tx)
			if closing {
				adapter = NewCleanupHandler(cl)
			}
			for _, h := range []interface {
				Invoke(context.Context, []byte) ([]byte, error)
			}{adapter, &Router{Transmission: tx, Cleanup: cl}} {
				out, err := h.Invoke(context.Background(), []byte(tc.payload))
				if tc.wantErr == nil {
					require.NoError(t, err)
					assert.JSONEq(t, `{"errNo":0,"errMsg":"ok"}`, string(out))
					continue
				}
				require.ErrorIs(t, err, tc.wantErr)
				assert.Nil(t, out)
				if tc.panics {
					pe, ok := errors.AsType[*PanicError](err)
					require.True(t, ok)
					assert.Contains(t, string(pe.Stack), "handler_test.go")
				}
			}
			// the wrong adapter refuses the event as a wrong action
			var wrong interface {
				Invoke(context.Context, []byte) ([]byte, error)
			} = NewCleanupHandler(cl)
			if closing {
				wrong = NewTransmissionHandler(tx)
			}
			_, err := wrong.Invoke(context.Background(), []byte(tc.payload))
			require.ErrorIs(t, err, ErrWrongAction)
		})
	}
}

var errBoom = errors.New("boom")

func TestStreamHandlersMalformed(t *testing.T) {
	cases := map[string]error{
		``: ErrMalformedEvent, `{`: ErrMalformedEvent, `[1]`: ErrMalformedEvent, `{"websocket":1}`: ErrMalformedEvent,
		`{}`: ErrMissingWebSocket, `{"websocket":{"action":"hello","secConnectionID":"a"}}`: ErrWrongAction,
	}
	for payload, want := range cases {
		out, err := NewTransmissionHandler(nil).Invoke(context.Background(), []byte(payload))
		require.ErrorIs(t, err, want, payload)
		assert.Nil(t, out)
		out, err = NewCleanupHandler(nil).Invoke(context.Background(), []byte(payload))
		require.ErrorIs(t, err, want, payload)
		assert.Nil(t, out)
	}
}

func TestRouterUnattributable(t *testing.T) {
	cases := map[string]string{
		`{`:                     `{"errNo":103,"errMsg":"malformed event"}`,
		`{}`:                    `{"errNo":101,"errMsg":"not found request context"}`,
		`{"requestContext":{}}`: `{"errNo":102,"errMsg":"not found websocket"}`,
		`{"websocket":{"action":"foo","secConnectionID":"a"}}`: `{"errNo":104,"errMsg":"unexpected action"}`,
		`{"websocket":{"secConnectionID":"a"}}`:                `{"errNo":104,"errMsg":"unexpected action"}`,
	}
	for payload, want := range cases {
		out, err := (&Router{}).Invoke(context.Background(), []byte(payload))
		require.NoError(t, err, payload)
		assert.JSONEq(t, want, string(out), payload)
	}
}

func TestRouterNilFuncs(t *testing.T) {
	var r Router
	for name, raw := range fixtures(t) {
		out, err := r.Invoke(context.Background(), raw)
		require.NoError(t, err, name)
		var resp Response
		require.NoError(t, json.Unmarshal(out, &resp), name)
		if name == "register-template-no-requestcontext" {
			assert.Equal(t, ErrNoMissingRequestContext, resp.ErrNo)
		} else {
			assert.Equal(t, 0, resp.ErrNo, name)
		}
	}
}

// TestFunctionContextReachable: what scf-go-lib puts in ctx (request ID,
// deadline) reaches the user func unchanged.
func TestFunctionContextReachable(t *testing.T) {
	deadline := time.Now().Add(time.Minute)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	ctx = functioncontext.NewContext(ctx, &functioncontext.FunctionContext{RequestID: "req-42"})

	var ids []string
	check := func(ctx context.Context) {
		fc, ok := functioncontext.FromContext(ctx)
		if ok {
			ids = append(ids, fc.RequestID)
		}
		d, _ := ctx.Deadline()
		assert.Equal(t, deadline, d)
	}
	r := &Router{
		Register:     func(ctx context.Context, _ *RegisterEvent) error { check(ctx); return nil },
		Transmission: func(ctx context.Context, _ *TransmissionEvent) error { check(ctx); return nil },
		Cleanup:      func(ctx context.Context, _ *CleanupEvent) error { check(ctx); return nil },
	}
	fx := fixtures(t)
	for _, name := range []string{"register-full", "transmission-text", "cleanup"} {
		_, err := r.Invoke(ctx, fx[name])
		require.NoError(t, err)
	}
	assert.Equal(t, []string{"req-42", "req-42", "req-42"}, ids)
}

func TestRegisterFuncCannotCorruptAnswer(t *testing.T) {
	h := NewRegisterHandler(func(_ context.Context, ev *RegisterEvent) error {
		ev.Negotiated.Subprotocol = "chat,binary"
		ev.WebSocket.SecConnectionID = "someone else"
		return nil
	}, &RegisterOptions{Subprotocols: []string{"chat"}})
	out, err := h.Invoke(context.Background(), fixtures(t)["register-full"])
	require.NoError(t, err)
	assert.JSONEq(t, `{"errNo":0,"errMsg":"ok","websocket":{"action":"connecting","secConnectionID":"CQ1RaJAf4vzaVAkNUdHLZA==","secWebSocketProtocol":"chat"}}`, string(out))
}
