package scfws_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scfws/scfws-go/scfws"
	"github.com/scfws/scfws-go/scfws/scfwstest"
)

func TestBroadcast(t *testing.T) {
	g := scfwstest.NewGateway()
	defer g.Close()
	g.SetRule("bad1", scfwstest.Rule{Status: 400})
	g.SetRule("bad2", scfwstest.Rule{ErrNo: 7})
	c := newClient(t, g, nil)
	ids := []string{"a", "bad1", "b", "a", "bad2", "b", "c"}
	err := c.Broadcast(context.Background(), ids, scfws.Text("hi"))
	be, ok := errors.AsType[*scfws.BroadcastError](err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, 3, be.Sent)
	require.Len(t, be.Failed, 2)
	require.ErrorIs(t, be.Failed["bad1"], scfws.ErrPushRefused)
	require.ErrorIs(t, be.Failed["bad2"], scfws.ErrPushRefused)
	require.ErrorIs(t, err, scfws.ErrPushRefused)
	assert.Nil(t, be.Pruned)
	assert.Equal(t, 5, g.Requests(), "duplicates are sent once")

	g.Reset()
	require.NoError(t, c.Broadcast(context.Background(), []string{"x", "y"}, scfws.Binary([]byte{1})))
	for _, p := range g.Pushes() {
		assert.Equal(t, scfws.Binary([]byte{1}), p.Message)
	}
	require.NoError(t, c.Broadcast(context.Background(), nil, scfws.Text("nobody")))
}

// TestBroadcastConcurrencyBound: never more than Concurrency pushes in
// flight, and more than one at a time when allowed (bounds only: the
// scheduler decides the rest).
func TestBroadcastConcurrencyBound(t *testing.T) {
	g := scfwstest.NewGateway()
	defer g.Close()
	g.SetDefault(scfwstest.Rule{Delay: 20 * time.Millisecond})
	for _, conc := range []int{1, 8, 24} {
		g.Reset()
		c := newClient(t, g, &scfws.PushOptions{Concurrency: conc})
		require.NoError(t, c.Broadcast(context.Background(), ids(10*conc), scfws.Text("x")))
		assert.LessOrEqual(t, g.MaxInFlight(), conc, "concurrency %d", conc)
		if conc > 1 {
			assert.Greater(t, g.MaxInFlight(), 1, "concurrency %d", conc)
		}
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
	err := c.Broadcast(ctx, all, scfws.Text("x"))
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
	_ = c.Broadcast(context.Background(), append(ids(200), "bad"), scfws.Text("x"))
	hc.CloseIdleConnections()
	g.Close()
	assert.Eventually(t, func() bool { return runtime.NumGoroutine() <= before }, 5*time.Second, 10*time.Millisecond)
}

func ids(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("conn-%05d", i)
	}
	return out
}
