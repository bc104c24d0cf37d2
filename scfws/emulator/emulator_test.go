package emulator_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tencentyun/scf-go-lib/cloudfunction"
	"github.com/tencentyun/scf-go-lib/functioncontext"

	"github.com/scfws/scfws-go/scfws"
	"github.com/scfws/scfws-go/scfws/emulator"
)

// app is an echo application that records what the gateway told it.
type app struct {
	mu        sync.Mutex
	registers []*scfws.RegisterEvent
	messages  []*scfws.TransmissionEvent
	cleanups  map[string]int
	requests  []string
	push      *scfws.PushClient
	pushURL   string
	// failOn makes the transmission fail for that text.
	failOn string
}

func (a *app) router(opts *scfws.RegisterOptions) *scfws.Router {
	return &scfws.Router{
		RegisterOptions: opts,
		Register: func(ctx context.Context, ev *scfws.RegisterEvent) error {
			a.mu.Lock()
			defer a.mu.Unlock()
			a.registers = append(a.registers, ev)
			if fc, ok := functioncontext.FromContext(ctx); ok {
				a.requests = append(a.requests, fc.FunctionName+":"+fc.RequestID)
			}
			if ev.RequestContext.SourceIP == "" {
				return errors.New("no source IP")
			}
			return nil
		},
		Transmission: func(ctx context.Context, ev *scfws.TransmissionEvent) error {
			a.mu.Lock()
			a.messages = append(a.messages, ev)
			fail := a.failOn != "" && ev.WebSocket.Data == a.failOn
			a.mu.Unlock()
			if fail {
				return errors.New("told to fail")
			}
			return a.push.Send(ctx, ev.ConnectionID(), ev.Message())
		},
		Cleanup: func(ctx context.Context, ev *scfws.CleanupEvent) error {
			a.mu.Lock()
			defer a.mu.Unlock()
			a.cleanups[ev.ConnectionID()]++
			return nil
		},
	}
}

func (a *app) cleanupCount(id string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cleanups[id]
}

func (a *app) lastRegister() *scfws.RegisterEvent {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.registers[len(a.registers)-1]
}

// start runs an emulator with the echo app (or fns when given).
func start(t *testing.T, opts *emulator.Options, regOpts *scfws.RegisterOptions, fns *scfws.Functions) (*emulator.Server, *app) {
	t.Helper()
	s, err := emulator.NewUnstartedServer(opts)
	require.NoError(t, err)
	push, err := scfws.NewPushClient(s.PushURL(), nil)
	require.NoError(t, err)
	a := &app{cleanups: map[string]int{}, push: push, pushURL: s.PushURL()}
	r := a.router(regOpts)
	f := scfws.Functions{Register: r, Transmission: r, Cleanup: r}
	if fns != nil {
		f = *fns
	}
	require.NoError(t, s.Start(context.Background(), f))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	})
	return s, a
}

func dial(t *testing.T, s *emulator.Server, protocols ...string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, s.URL(), &websocket.DialOptions{Subprotocols: protocols})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.CloseNow() })
	return c
}

func read(t *testing.T, c *websocket.Conn) (websocket.MessageType, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	typ, b, err := c.Read(ctx)
	require.NoError(t, err)
	return typ, string(b)
}

// eventually waits for cond, up to 5 s.
func eventually(t *testing.T, cond func() bool, msg string) {
	t.Helper()
	assert.Eventually(t, cond, 5*time.Second, 5*time.Millisecond, msg)
}

func TestRegisterEventAndSubprotocols(t *testing.T) {
	s, a := start(t, &emulator.Options{Path: "/test/websocket"}, &scfws.RegisterOptions{Subprotocols: []string{"chat", "superchat"}}, nil)

	c := dial(t, s)
	assert.Equal(t, "", c.Subprotocol())
	ev := a.lastRegister()
	assert.Len(t, ev.ConnectionID(), 24)
	assert.Empty(t, ev.WebSocket.SecWebSocketProtocol, "absent when the client sent none")
	assert.Equal(t, "test", ev.RequestContext.Stage)
	assert.Equal(t, "/websocket", ev.RequestContext.Path)
	assert.Equal(t, "GET", ev.RequestContext.HTTPMethod)
	assert.Equal(t, "127.0.0.1", ev.RequestContext.SourceIP)
	assert.True(t, ev.RequestContext.WebSocketEnable)
	assert.Len(t, ev.RequestContext.RequestID, 36)

	c = dial(t, s, "superchat", "chat")
	assert.Equal(t, "chat", c.Subprotocol(), "the server's preference")
	assert.Equal(t, "superchat,chat", a.lastRegister().WebSocket.SecWebSocketProtocol, "the raw header")

	c = dial(t, s, "mqtt")
	assert.Equal(t, "", c.Subprotocol())

	a.mu.Lock()
	defer a.mu.Unlock()
	require.Len(t, a.requests, 3)
	assert.Regexp(t, `^register:[0-9a-f-]{36}$`, a.requests[0])
	assert.NotEqual(t, a.requests[0], a.requests[1], "a fresh request ID each time")
}

func TestRefusals(t *testing.T) {
	slow := scfws.NewRegisterHandler(func(ctx context.Context, _ *scfws.RegisterEvent) error {
		<-ctx.Done()
		return ctx.Err()
	}, nil)
	cases := map[string]struct {
		register   cloudfunction.Handler
		protocols  []string
		wantStatus int
	}{
		"rejected": {scfws.NewRegisterHandler(func(context.Context, *scfws.RegisterEvent) error {
			return scfws.Reject(4001, "no")
		}, nil), nil, http.StatusForbidden},
		"required subprotocol": {scfws.NewRegisterHandler(nil, &scfws.RegisterOptions{
			Subprotocols: []string{"chat"}, RequireSubprotocol: true}), []string{"mqtt"}, http.StatusForbidden},
		"invocation error": {invokerFunc(func(context.Context, []byte) ([]byte, error) {
			return nil, errors.New("boom")
		}), nil, http.StatusBadGateway},
		"panic": {invokerFunc(func(context.Context, []byte) ([]byte, error) { panic("boom") }), nil, http.StatusBadGateway},
		"not a response": {invokerFunc(func(context.Context, []byte) ([]byte, error) {
			return []byte(`"ok"`), nil
		}), nil, http.StatusBadGateway},
		"subprotocol not offered": {answer(`{"errNo":0,"errMsg":"ok","websocket":{"action":"connecting","secConnectionID":"x","secWebSocketProtocol":"mqtt"}}`),
			[]string{"chat"}, http.StatusBadGateway},
		"subprotocol list": {answer(`{"errNo":0,"errMsg":"ok","websocket":{"action":"connecting","secConnectionID":"x","secWebSocketProtocol":"chat,binary"}}`),
			[]string{"chat", "binary"}, http.StatusBadGateway},
		"timeout": {slow, nil, http.StatusGatewayTimeout},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cleanups := 0
			var mu sync.Mutex
			cleanup := scfws.NewCleanupHandler(func(context.Context, *scfws.CleanupEvent) error {
				mu.Lock()
				cleanups++
				mu.Unlock()
				return nil
			})
			s, _ := start(t, &emulator.Options{InvokeTimeout: 200 * time.Millisecond}, nil,
				&scfws.Functions{Register: tc.register, Cleanup: cleanup})
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, resp, err := websocket.Dial(ctx, s.URL(), &websocket.DialOptions{Subprotocols: tc.protocols})
			require.Error(t, err)
			require.NotNil(t, resp)
			assert.Equal(t, tc.wantStatus, resp.StatusCode)
			mu.Lock()
			assert.Equal(t, 0, cleanups, "a refused connection is never cleaned up")
			mu.Unlock()
		})
	}
}

type invokerFunc func(context.Context, []byte) ([]byte, error)

func (f invokerFunc) Invoke(ctx context.Context, p []byte) ([]byte, error) { return f(ctx, p) }

func answer(s string) cloudfunction.Handler {
	return invokerFunc(func(context.Context, []byte) ([]byte, error) { return []byte(s), nil })
}

func TestMessagesAndPushes(t *testing.T) {
	s, a := start(t, nil, nil, nil)
	c := dial(t, s)
	id := a.lastRegister().ConnectionID()
	ctx := context.Background()

	require.NoError(t, c.Write(ctx, websocket.MessageText, []byte("hello")))
	typ, got := read(t, c)
	assert.Equal(t, websocket.MessageText, typ)
	assert.Equal(t, "hello", got)

	require.NoError(t, c.Write(ctx, websocket.MessageBinary, []byte{0, 1, 0xff}))
	typ, got = read(t, c)
	assert.Equal(t, websocket.MessageBinary, typ)
	assert.Equal(t, string([]byte{0, 1, 0xff}), got)

	a.mu.Lock()
	require.Len(t, a.messages, 2)
	assert.Equal(t, scfws.TransmissionWebSocket{Action: scfws.ActionDataSend, SecConnectionID: id, DataType: scfws.DataText, Data: "hello"}, a.messages[0].WebSocket)
	assert.Equal(t, scfws.TransmissionWebSocket{Action: scfws.ActionDataSend, SecConnectionID: id, DataType: scfws.DataBinary, Data: "AAH/"}, a.messages[1].WebSocket)
	a.mu.Unlock()

	// pushes from outside any invocation
	n, err := scfws.JSON(map[string]int{"n": 1})
	require.NoError(t, err)
	require.NoError(t, a.push.Send(ctx, id, n))
	_, got = read(t, c)
	assert.JSONEq(t, `{"n":1}`, got)

	err = a.push.Send(ctx, "CQ1RaJAf4vzaVAkNUdHLZA==", scfws.Text("nobody"))
	pe, ok := errors.AsType[*scfws.PushError](err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, http.StatusNotFound, pe.StatusCode)
	assert.Equal(t, 1001, pe.ErrNo)
	require.ErrorIs(t, err, scfws.ErrPushRefused)

	resp, err := http.Post(s.PushURL(), "application/json", nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
}
