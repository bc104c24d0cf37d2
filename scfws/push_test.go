package scfws_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scfws/scfws-go/scfws"
	"github.com/scfws/scfws-go/scfws/scfwstest"
)

const connID = "CQ1RaJAf4vzaVAkNUdHLZA=="

func newClient(t testing.TB, g *scfwstest.Gateway, opts *scfws.PushOptions) *scfws.PushClient {
	t.Helper()
	if opts == nil {
		opts = &scfws.PushOptions{}
	}
	if opts.MinBackoff == 0 {
		opts.MinBackoff, opts.MaxBackoff = time.Millisecond, 5*time.Millisecond
	}
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
	cases := map[string]struct {
		push func() error
		want []byte
		keys []string
	}{
		"text": {func() error { return c.Send(ctx, connID, "hello") },
			expectedBody("data send", connID, ptr("text"), ptr("hello")), []string{"action", "data", "dataType", "secConnectionID"}},
		"empty text": {func() error { return c.Send(ctx, connID, "") },
			expectedBody("data send", connID, ptr("text"), ptr("")), []string{"action", "data", "dataType", "secConnectionID"}},
		"escaping": {func() error { return c.Send(ctx, odd, odd) },
			expectedBody("data send", odd, ptr("text"), ptr(odd)), []string{"action", "data", "dataType", "secConnectionID"}},
		"binary": {func() error { return c.SendBinary(ctx, connID, []byte{0, 1, 0xff}) },
			expectedBody("data send", connID, ptr("binary"), ptr("AAH/")), []string{"action", "data", "dataType", "secConnectionID"}},
		"json": {func() error { return c.SendJSON(ctx, connID, map[string]any{"a": 1, "b": "<x>"}) },
			expectedBody("data send", connID, ptr("text"), ptr(`{"a":1,"b":"\u003cx\u003e"}`)), []string{"action", "data", "dataType", "secConnectionID"}},
		"disconnect": {func() error { return c.Disconnect(ctx, connID) },
			expectedBody("closing", connID, nil, nil), []string{"action", "secConnectionID"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g.Reset()
			require.NoError(t, tc.push())
			pushes := g.Pushes()
			require.Len(t, pushes, 1)
			assert.Equal(t, string(tc.want), string(pushes[0].Body))
			assert.Equal(t, tc.keys, pushes[0].Keys)
			assert.Equal(t, "application/json", pushes[0].ContentType)
		})
	}
}

func TestPushRefusesEmptyConnectionID(t *testing.T) {
	g := scfwstest.NewGateway()
	defer g.Close()
	c := newClient(t, g, nil)
	require.ErrorIs(t, c.Send(context.Background(), "", "x"), scfws.ErrEmptyConnectionID)
	require.ErrorIs(t, c.Disconnect(context.Background(), ""), scfws.ErrEmptyConnectionID)
	assert.Equal(t, 0, g.Requests())
}

func TestNewPushClientValidatesURL(t *testing.T) {
	for _, u := range []string{"", "set-xxx.apigateway.tencentyun.com/api-1", "ftp://x/y", "http://", "://x", "http//x"} {
		_, err := scfws.NewPushClient(u, nil)
		require.Error(t, err, u)
		assert.Contains(t, err.Error(), fmt.Sprintf("%q", u))
	}
	c, err := scfws.NewPushClient("http://set-websocket.cb-common.apigateway.tencentyun.com/api-xxxx", nil)
	require.NoError(t, err)
	assert.Equal(t, "http://set-websocket.cb-common.apigateway.tencentyun.com/api-xxxx", c.URL())
}

func TestNewPushClientFromEnv(t *testing.T) {
	t.Setenv("SCFWS_PUSH_URL", "")
	t.Setenv("wsBackUrl", "")
	_, err := scfws.NewPushClientFromEnv(nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "SCFWS_PUSH_URL")
	assert.Contains(t, err.Error(), "wsBackUrl")

	t.Setenv("wsBackUrl", "http://back.example/api-1")
	c, err := scfws.NewPushClientFromEnv(nil)
	require.NoError(t, err)
	assert.Equal(t, "http://back.example/api-1", c.URL())

	t.Setenv("SCFWS_PUSH_URL", "https://push.example/api-2")
	c, err = scfws.NewPushClientFromEnv(nil)
	require.NoError(t, err)
	assert.Equal(t, "https://push.example/api-2", c.URL())
}

// TestPushAnswers: every kind of answer, with the attempts it costs.
func TestPushAnswers(t *testing.T) {
	cases := map[string]struct {
		rule      scfwstest.Rule
		retries   int
		wantErr   error // nil: success
		attempts  int   // requests the gateway saw
		status    int
		errNo     int
		transient bool
	}{
		"ok":                    {scfwstest.Rule{}, 0, nil, 1, 0, 0, false},
		"201 ok":                {scfwstest.Rule{Status: 201}, 0, nil, 1, 0, 0, false},
		"200 empty body":        {scfwstest.Rule{Body: " "}, 0, nil, 1, 0, 0, false},
		"200 errNo":             {scfwstest.Rule{ErrNo: 1101, ErrMsg: "connection not found"}, 0, scfws.ErrPushRefused, 1, 200, 1101, false},
		"200 not json":          {scfwstest.Rule{Body: "<html>proxy</html>"}, 0, scfws.ErrPushBadAnswer, 1, 200, 0, false},
		"400":                   {scfwstest.Rule{Status: 400, ErrNo: 400}, 0, scfws.ErrPushRefused, 1, 400, 400, false},
		"404 html":              {scfwstest.Rule{Status: 404, Body: "not found"}, 0, scfws.ErrPushRefused, 1, 404, 0, false},
		"500 not retried":       {scfwstest.Rule{Status: 500, ErrNo: 500}, 0, scfws.ErrPushRefused, 1, 500, 500, false},
		"429 retried":           {scfwstest.Rule{Status: 429}, 0, scfws.ErrPushUnavailable, 3, 429, 0, true},
		"502 retried":           {scfwstest.Rule{Status: 502}, 0, scfws.ErrPushUnavailable, 3, 502, 0, true},
		"503 retried":           {scfwstest.Rule{Status: 503}, 0, scfws.ErrPushUnavailable, 3, 503, 0, true},
		"504 retried":           {scfwstest.Rule{Status: 504}, 0, scfws.ErrPushUnavailable, 3, 504, 0, true},
		"503 then ok":           {scfwstest.Rule{Status: 503, Times: 1}, 0, nil, 2, 0, 0, false},
		"503 five retries":      {scfwstest.Rule{Status: 503}, 5, scfws.ErrPushUnavailable, 6, 503, 0, true},
		"503 never retried":     {scfwstest.Rule{Status: 503}, -1, scfws.ErrPushUnavailable, 1, 503, 0, true},
		"dropped retried":       {scfwstest.Rule{Drop: true}, 0, scfws.ErrPushUnavailable, 3, 0, 0, true},
		"dropped once then ok":  {scfwstest.Rule{Drop: true, Times: 1}, 0, nil, 2, 0, 0, false},
		"big body excerpt only": {scfwstest.Rule{Status: 400, Body: string(bytes.Repeat([]byte("x"), 1<<20))}, 0, scfws.ErrPushRefused, 1, 400, 0, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := scfwstest.NewGateway()
			defer g.Close()
			g.SetRule(connID, tc.rule)
			c := newClient(t, g, &scfws.PushOptions{MaxRetries: tc.retries})
			err := c.Send(context.Background(), connID, "hi")
			assert.Equal(t, tc.attempts, g.Requests())
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
			assert.Equal(t, tc.attempts, pe.Attempts)
			assert.Equal(t, tc.transient, pe.Transient())
			assert.LessOrEqual(t, len(pe.Body), 512+len("…"))
		})
	}
}

func TestPushHonoursRetryAfter(t *testing.T) {
	g := scfwstest.NewGateway()
	defer g.Close()
	g.SetRule(connID, scfwstest.Rule{Status: 503, RetryAfter: "1", Times: 1})
	c := newClient(t, g, nil)
	start := time.Now()
	require.NoError(t, c.Send(context.Background(), connID, "x"))
	assert.GreaterOrEqual(t, time.Since(start), 900*time.Millisecond, "waited for Retry-After")
	assert.Equal(t, 2, g.Requests())
}

func TestPushNeverRetriesPastDeadline(t *testing.T) {
	g := scfwstest.NewGateway()
	defer g.Close()
	g.SetRule(connID, scfwstest.Rule{Status: 503, RetryAfter: "30"})
	c := newClient(t, g, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := c.Send(ctx, connID, "x")
	require.ErrorIs(t, err, scfws.ErrPushUnavailable)
	assert.Equal(t, 1, g.Requests(), "a retry after 30 s cannot finish within the deadline")
	assert.NoError(t, ctx.Err(), "gave up without waiting for the deadline")
}

func TestPushDeadline(t *testing.T) {
	g := scfwstest.NewGateway()
	defer g.Close()
	g.SetRule(connID, scfwstest.Rule{Delay: 10 * time.Second})
	c := newClient(t, g, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := c.Send(ctx, connID, "x")
	require.ErrorIs(t, err, scfws.ErrPushTimeout)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, 1, g.Requests())

	// the per-attempt timeout is transient: retried
	c = newClient(t, g, &scfws.PushOptions{Timeout: 50 * time.Millisecond, MaxRetries: 1})
	err = c.Send(context.Background(), connID, "x")
	require.ErrorIs(t, err, scfws.ErrPushTimeout)
	assert.Equal(t, 3, g.Requests())
}

func TestPushCancelled(t *testing.T) {
	g := scfwstest.NewGateway()
	defer g.Close()
	c := newClient(t, g, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := c.Send(ctx, connID, "x")
	require.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, scfws.ErrPushTimeout)
}

func TestPushLogsWithoutData(t *testing.T) {
	g := scfwstest.NewGateway()
	defer g.Close()
	for _, logData := range []bool{false, true} {
		var buf bytes.Buffer
		log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
		c := newClient(t, g, &scfws.PushOptions{Logger: log, LogData: logData})
		require.NoError(t, c.Send(context.Background(), connID, "secret-message"))
		assert.Contains(t, buf.String(), `secConnectionID="`+connID+`"`)
		assert.Contains(t, buf.String(), "status=200")
		assert.Contains(t, buf.String(), "attempts=1")
		assert.Equal(t, logData, bytes.Contains(buf.Bytes(), []byte("secret-message")))
	}
}

func TestBroadcast(t *testing.T) {
	g := scfwstest.NewGateway()
	defer g.Close()
	g.SetRule("bad1", scfwstest.Rule{Status: 400})
	g.SetRule("bad2", scfwstest.Rule{ErrNo: 7})
	c := newClient(t, g, nil)
	ids := []string{"a", "bad1", "b", "a", "bad2", "b", "c"}
	err := c.Broadcast(context.Background(), ids, "hi")
	be, ok := errors.AsType[*scfws.BroadcastError](err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, 3, be.Sent)
	require.Len(t, be.Failed, 2)
	require.ErrorIs(t, be.Failed["bad1"], scfws.ErrPushRefused)
	require.ErrorIs(t, be.Failed["bad2"], scfws.ErrPushRefused)
	assert.Equal(t, 5, g.Requests(), "duplicates are sent once")

	g.Reset()
	require.NoError(t, c.BroadcastMessage(context.Background(), []string{"x", "y"}, scfws.BinaryMessage([]byte{1})))
	for _, p := range g.Pushes() {
		assert.Equal(t, scfws.DataBinary, p.DataType)
		assert.Equal(t, "AQ==", p.Data)
	}
	require.NoError(t, c.Broadcast(context.Background(), nil, "nobody"))
}

func TestBroadcastConcurrencyBound(t *testing.T) {
	g := scfwstest.NewGateway()
	defer g.Close()
	g.SetDefault(scfwstest.Rule{Delay: 20 * time.Millisecond})
	for _, conc := range []int{1, 8, 24} {
		g.Reset()
		c := newClient(t, g, &scfws.PushOptions{Concurrency: conc})
		require.NoError(t, c.Broadcast(context.Background(), ids(10*conc), "x"))
		assert.Equal(t, conc, g.MaxInFlight(), "concurrency %d", conc)
		assert.Equal(t, 10*conc, g.Requests())
	}
}

func TestBroadcastStopsWhenContextEnds(t *testing.T) {
	g := scfwstest.NewGateway()
	defer g.Close()
	g.SetDefault(scfwstest.Rule{Delay: 50 * time.Millisecond})
	c := newClient(t, g, &scfws.PushOptions{Concurrency: 4})
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Millisecond)
	defer cancel()
	all := ids(1000)
	err := c.Broadcast(ctx, all, "x")
	be, ok := errors.AsType[*scfws.BroadcastError](err)
	require.True(t, ok)
	assert.Equal(t, len(all), be.Sent+len(be.Failed), "every ID is accounted for")
	assert.Less(t, g.Requests(), 100, "scheduling stopped")
	for id, err := range be.Failed {
		require.ErrorIs(t, err, scfws.ErrPushTimeout, id)
	}
}

func TestBroadcastLeaksNoGoroutine(t *testing.T) {
	g := scfwstest.NewGateway()
	before := runtime.NumGoroutine()
	hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	c := newClient(t, g, &scfws.PushOptions{HTTPClient: hc, Concurrency: 16})
	g.SetRule("bad", scfwstest.Rule{Status: 503})
	_ = c.Broadcast(context.Background(), append(ids(200), "bad"), "x")
	hc.CloseIdleConnections()
	g.Close()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	assert.LessOrEqual(t, runtime.NumGoroutine(), before)
}

func ids(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("conn-%05d", i)
	}
	return out
}
