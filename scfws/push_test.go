package scfws_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tencentyun/scf-go-lib/functioncontext"

	"github.com/scfws/scfws-go/scfws"
	"github.com/scfws/scfws-go/scfws/scfwstest"
)

const connID = "CQ1RaJAf4vzaVAkNUdHLZA=="

func newClient(t testing.TB, g *scfwstest.Gateway, opts *scfws.PushOptions) *scfws.PushClient {
	t.Helper()
	c, err := scfws.NewPushClient(g.URL, opts)
	require.NoError(t, err)
	return c
}

// wireBody is the documented push body, marshalled by encoding/json.
type wireBody struct {
	WebSocket struct {
		Action          string  `json:"action"`
		SecConnectionID string  `json:"secConnectionID"`
		DataType        *string `json:"dataType,omitempty"`
		Data            *string `json:"data,omitempty"`
	} `json:"websocket"`
}

func expectedBody(action, id string, dataType, data *string) []byte {
	var w wireBody
	w.WebSocket.Action, w.WebSocket.SecConnectionID, w.WebSocket.DataType, w.WebSocket.Data = action, id, dataType, data
	b, _ := json.Marshal(w)
	return b
}

func ptr(s string) *string { return &s }

func TestPushBodiesByteForByte(t *testing.T) {
	g := scfwstest.NewGateway()
	defer g.Close()
	c := newClient(t, g, nil)
	ctx := context.Background()
	odd := `a+/b=<&>"\` + "\u2028\x00é"
	jsonMsg, err := scfws.JSON(map[string]any{"a": 1, "b": "<x>"})
	require.NoError(t, err)
	cases := map[string]struct {
		push func() error
		want []byte
	}{
		"text": {func() error { return c.Send(ctx, connID, scfws.Text("hello")) },
			expectedBody("data send", connID, ptr("text"), ptr("hello"))},
		"empty text": {func() error { return c.Send(ctx, connID, scfws.Text("")) },
			expectedBody("data send", connID, ptr("text"), ptr(""))},
		"escaping": {func() error { return c.Send(ctx, odd, scfws.Text(odd)) },
			expectedBody("data send", odd, ptr("text"), ptr(odd))},
		"binary": {func() error { return c.Send(ctx, connID, scfws.Binary([]byte{0, 1, 0xff})) },
			expectedBody("data send", connID, ptr("binary"), ptr("AAH/"))},
		"json": {func() error { return c.Send(ctx, connID, jsonMsg) },
			expectedBody("data send", connID, ptr("text"), ptr(`{"a":1,"b":"\u003cx\u003e"}`))},
		"disconnect": {func() error { return c.Disconnect(ctx, connID) },
			expectedBody("closing", connID, nil, nil)},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g.Reset()
			require.NoError(t, tc.push())
			pushes := g.Pushes()
			require.Len(t, pushes, 1)
			assert.Equal(t, string(tc.want), string(pushes[0].Body))
			assert.Equal(t, "application/json", pushes[0].ContentType)
			require.NoError(t, pushes[0].Err, "the fake gateway decodes what the client sends")
		})
	}
}

func TestPushRefusesEmptyConnectionID(t *testing.T) {
	g := scfwstest.NewGateway()
	defer g.Close()
	c := newClient(t, g, nil)
	require.ErrorIs(t, c.Send(context.Background(), "", scfws.Text("x")), scfws.ErrEmptyConnectionID)
	require.ErrorIs(t, c.Disconnect(context.Background(), ""), scfws.ErrEmptyConnectionID)
	require.ErrorIs(t, c.Broadcast(context.Background(), []string{""}, scfws.Text("x")), scfws.ErrEmptyConnectionID)
	require.ErrorContains(t, c.Send(context.Background(), connID, scfws.Message{DataType: "blob"}), `dataType "blob"`)
	assert.Equal(t, 0, g.Requests())
}

func TestNewPushClientValidatesURL(t *testing.T) {
	for _, u := range []string{"", "set-xxx.apigateway.tencentyun.com/api-1", "ftp://x/y", "http://", "://x", "http//x"} {
		_, err := scfws.NewPushClient(u, nil)
		require.Error(t, err, u)
		assert.Contains(t, err.Error(), fmt.Sprintf("%q", u))
	}
	_, err := scfws.NewPushClient("http://set-websocket.cb-common.apigateway.tencentyun.com/api-xxxx", nil)
	require.NoError(t, err)
}

// TestPushClientFromEnvAtFirstUse: the push URL may arrive only with the
// first invocation's environment (scf-go-lib sets it per invocation).
func TestPushClientFromEnvAtFirstUse(t *testing.T) {
	g := scfwstest.NewGateway()
	defer g.Close()
	t.Setenv("SCFWS_PUSH_URL", "")
	t.Setenv("wsBackUrl", "")
	c, err := scfws.NewPushClientFromEnv(nil)
	require.NoError(t, err, "nothing to read yet is no error")
	err = c.Send(context.Background(), connID, scfws.Text("x"))
	require.ErrorIs(t, err, scfws.ErrPushUnavailable)
	assert.Contains(t, err.Error(), "SCFWS_PUSH_URL")
	assert.Contains(t, err.Error(), "wsBackUrl")

	// the invocation's environment, as scf-go-lib passes it in ctx
	ctx := functioncontext.NewContext(context.Background(), &functioncontext.FunctionContext{
		Environment: map[string]string{"wsBackUrl": g.URL}})
	require.NoError(t, c.Send(ctx, connID, scfws.Text("x")))
	require.NoError(t, c.Send(context.Background(), connID, scfws.Text("y")), "the URL, once found, is kept")
	assert.Equal(t, 2, g.Requests())

	// the process environment
	t.Setenv("SCFWS_PUSH_URL", g.URL)
	c, err = scfws.NewPushClientFromEnv(nil)
	require.NoError(t, err)
	require.NoError(t, c.Send(context.Background(), connID, scfws.Text("z")))

	t.Setenv("SCFWS_PUSH_URL", "not a url")
	_, err = scfws.NewPushClientFromEnv(nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "SCFWS_PUSH_URL")
}

// TestPushAnswers: success is HTTP 200 with errNo 0; every other answer is
// final (ErrPushRefused) and costs exactly one request.
func TestPushAnswers(t *testing.T) {
	cases := map[string]struct {
		rule    scfwstest.Rule
		wantErr error // nil: success
		status  int
		errNo   int
	}{
		"ok":                    {scfwstest.Rule{}, nil, 0, 0},
		"ok other errMsg":       {scfwstest.Rule{Body: ` {"errNo":0,"errMsg":"success"} `}, nil, 0, 0},
		"201":                   {scfwstest.Rule{Status: 201}, scfws.ErrPushRefused, 201, 0},
		"204":                   {scfwstest.Rule{Status: 204, Body: " "}, scfws.ErrPushRefused, 204, 0},
		"200 empty body":        {scfwstest.Rule{Body: " "}, scfws.ErrPushRefused, 200, 0},
		"200 no errNo":          {scfwstest.Rule{Body: `{"errMsg":"ok"}`}, scfws.ErrPushRefused, 200, 0},
		"200 errNo":             {scfwstest.Rule{ErrNo: 1101, ErrMsg: "connection not found"}, scfws.ErrPushRefused, 200, 1101},
		"200 not json":          {scfwstest.Rule{Body: "<html>proxy</html>"}, scfws.ErrPushRefused, 200, 0},
		"400":                   {scfwstest.Rule{Status: 400, ErrNo: 400}, scfws.ErrPushRefused, 400, 400},
		"404":                   {scfwstest.Rule{Status: 404, Body: "not found"}, scfws.ErrPushRefused, 404, 0},
		"429":                   {scfwstest.Rule{Status: 429}, scfws.ErrPushRefused, 429, 0},
		"500":                   {scfwstest.Rule{Status: 500, ErrNo: 500}, scfws.ErrPushRefused, 500, 500},
		"502":                   {scfwstest.Rule{Status: 502}, scfws.ErrPushRefused, 502, 0},
		"503":                   {scfwstest.Rule{Status: 503}, scfws.ErrPushRefused, 503, 0},
		"504":                   {scfwstest.Rule{Status: 504}, scfws.ErrPushRefused, 504, 0},
		"dropped after sending": {scfwstest.Rule{Drop: true}, scfws.ErrPushUnavailable, 0, 0},
		"big body excerpt only": {scfwstest.Rule{Status: 400, Body: string(bytes.Repeat([]byte("x"), 1<<20))}, scfws.ErrPushRefused, 400, 0},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := scfwstest.NewGateway()
			defer g.Close()
			g.SetRule(connID, tc.rule)
			c := newClient(t, g, nil)
			err := c.Send(context.Background(), connID, scfws.Text("hi"))
			assert.Equal(t, 1, g.Requests(), "never resent")
			if tc.wantErr == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.wantErr)
			pe, ok := errors.AsType[*scfws.PushError](err)
			require.True(t, ok)
			assert.Equal(t, connID, pe.ConnectionID)
			assert.Equal(t, tc.status, pe.StatusCode)
			assert.Equal(t, tc.errNo, pe.ErrNo)
			assert.LessOrEqual(t, len(pe.Body), 512+len("…"))
		})
	}
}

// TestPushNeverFollowsRedirects: the body never reaches another host, and
// the caller's http.Client is not changed.
func TestPushNeverFollowsRedirects(t *testing.T) {
	var reached atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		_, _ = io.WriteString(w, `{"errNo":0,"errMsg":"ok"}`)
	}))
	defer target.Close()
	g := scfwstest.NewGateway()
	defer g.Close()
	hc := &http.Client{}
	for _, status := range []int{301, 302, 307, 308} {
		g.SetRule(connID, scfwstest.Rule{Status: status, Location: target.URL})
		if status == 302 {
			g.SetRule(connID, scfwstest.Rule{Status: status, Location: "file:///etc/passwd"})
		}
		c := newClient(t, g, &scfws.PushOptions{HTTPClient: hc})
		err := c.Send(context.Background(), connID, scfws.Text("secret"))
		require.ErrorIs(t, err, scfws.ErrPushRefused, "%d", status)
		pe, _ := errors.AsType[*scfws.PushError](err)
		assert.Equal(t, status, pe.StatusCode)
	}
	assert.Zero(t, reached.Load())
	assert.Nil(t, hc.CheckRedirect, "the caller's client is copied, not changed")
}

// TestPushTimeoutNotResent: a push whose answer did not come in time may
// have been delivered: it is reported, never sent twice.
func TestPushTimeoutNotResent(t *testing.T) {
	g := scfwstest.NewGateway()
	defer g.Close()
	g.SetRule(connID, scfwstest.Rule{Delay: 10 * time.Second})
	c := newClient(t, g, &scfws.PushOptions{Timeout: 100 * time.Millisecond})
	err := c.Send(context.Background(), connID, scfws.Text("x"))
	require.ErrorIs(t, err, scfws.ErrPushTimeout)

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err = newClient(t, g, nil).Send(ctx, connID, scfws.Text("x"))
	require.ErrorIs(t, err, scfws.ErrPushTimeout)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	time.Sleep(100 * time.Millisecond) // a resend would have arrived by now
	assert.Equal(t, 2, g.Requests())
}

// TestPushUnreachable: nothing listens: ErrPushUnavailable, within the deadline.
func TestPushUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	c, err := scfws.NewPushClient("http://"+addr+"/api-x", nil)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err = c.Send(ctx, connID, scfws.Text("x"))
	require.ErrorIs(t, err, scfws.ErrPushUnavailable)
	require.NoError(t, ctx.Err(), "gave up before the deadline")
}

// TestPushRetriesOnlyDialFailures: a connection that could not be made
// carried nothing: it is retried, and the push then delivered once.
func TestPushRetriesOnlyDialFailures(t *testing.T) {
	g := scfwstest.NewGateway()
	defer g.Close()
	var dials atomic.Int64
	var d net.Dialer
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		if dials.Add(1) <= 2 {
			return nil, &net.OpError{Op: "dial", Net: network, Err: errors.New("connection refused")}
		}
		return d.DialContext(ctx, network, addr)
	}}
	c := newClient(t, g, &scfws.PushOptions{HTTPClient: &http.Client{Transport: tr}})
	require.NoError(t, c.Send(context.Background(), connID, scfws.Text("x")))
	assert.Equal(t, int64(3), dials.Load())
	assert.Equal(t, 1, g.Requests())

	dials.Store(-100) // always fails from now on
	tr.CloseIdleConnections()
	err := c.Send(context.Background(), connID, scfws.Text("x"))
	require.ErrorIs(t, err, scfws.ErrPushUnavailable)
	assert.Equal(t, 1, g.Requests(), "nothing reached the gateway")
}

func TestPushCancelled(t *testing.T) {
	g := scfwstest.NewGateway()
	defer g.Close()
	c := newClient(t, g, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := c.Send(ctx, connID, scfws.Text("x"))
	require.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, scfws.ErrPushTimeout)
}

// TestPushNeverRetriesWhatCannotImprove: a TLS certificate the client does
// not trust fails once, with no second connection.
func TestPushNeverRetriesWhatCannotImprove(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	c, err := scfws.NewPushClient(srv.URL+"/api-x", nil)
	require.NoError(t, err)
	err = c.Send(context.Background(), connID, scfws.Text("x"))
	require.ErrorIs(t, err, scfws.ErrPushUnavailable)
	assert.ErrorContains(t, err, "certificate")
	assert.Equal(t, int64(1), conns.Load(), "not retried")
}

// TestPushClientFollowsInvocationEnvironment: a client made from the
// environment pushes where each invocation's environment says (one client
// serving functions of two emulators, say); a client made with a URL does not.
func TestPushClientFollowsInvocationEnvironment(t *testing.T) {
	g1, g2 := scfwstest.NewGateway(), scfwstest.NewGateway()
	defer g1.Close()
	defer g2.Close()
	t.Setenv("SCFWS_PUSH_URL", "")
	t.Setenv("wsBackUrl", "")
	env := func(url string) context.Context {
		return functioncontext.NewContext(context.Background(), &functioncontext.FunctionContext{
			Environment: map[string]string{"SCFWS_PUSH_URL": url}})
	}
	c, err := scfws.NewPushClientFromEnv(nil)
	require.NoError(t, err)
	require.NoError(t, c.Send(env(g1.URL), connID, scfws.Text("1")))
	require.NoError(t, c.Send(env(g2.URL), connID, scfws.Text("2")))
	require.NoError(t, c.Send(context.Background(), connID, scfws.Text("3")), "without an environment: the last one")
	assert.Equal(t, 1, g1.Requests())
	assert.Equal(t, 2, g2.Requests())

	fixed, err := scfws.NewPushClient(g1.URL, nil)
	require.NoError(t, err)
	require.NoError(t, fixed.Send(env(g2.URL), connID, scfws.Text("4")))
	assert.Equal(t, 2, g1.Requests(), "an explicit URL is kept")
}

// TestAnswerNotWholeIsNoAnswer: a success status whose body is cut short
// is ErrPushUnavailable, one whose body stalls past the timeout is
// ErrPushTimeout — never ErrPushRefused, which would make a hub prune a
// live connection.
func TestAnswerNotWholeIsNoAnswer(t *testing.T) {
	raw := func(write func(c net.Conn)) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			c, _, err := http.NewResponseController(w).Hijack()
			if err != nil {
				return
			}
			defer c.Close()
			write(c)
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	cut := raw(func(c net.Conn) {
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"errNo\":0")
	})
	stall := raw(func(c net.Conn) {
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 25\r\n\r\n{\"errNo\"")
		time.Sleep(2 * time.Second)
	})
	for url, want := range map[string]error{cut: scfws.ErrPushUnavailable, stall: scfws.ErrPushTimeout} {
		c, err := scfws.NewPushClient(url, &scfws.PushOptions{Timeout: 300 * time.Millisecond})
		require.NoError(t, err)
		err = c.Send(context.Background(), "id", scfws.Text("x"))
		require.ErrorIs(t, err, want)
		assert.NotErrorIs(t, err, scfws.ErrPushRefused)
	}
}
