package hub_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scfws/scfws-go/scfws"
	"github.com/scfws/scfws-go/scfws/hub"
	"github.com/scfws/scfws-go/scfws/scfwstest"
)

// newHub returns a hub on a memory store and a fake gateway.
func newHub(t *testing.T, store hub.Store) (*hub.Hub, *scfwstest.Gateway) {
	t.Helper()
	g := scfwstest.NewGateway()
	t.Cleanup(g.Close)
	push, err := scfws.NewPushClient(g.URL, nil)
	require.NoError(t, err)
	return hub.New(store, push, nil), g
}

func register(t *testing.T, h *hub.Hub, store hub.Store, id, user, room string) {
	t.Helper()
	ev := scfwstest.NewRegisterEvent(id)
	require.NoError(t, h.Register(context.Background(), ev, user, map[string]string{"nick": id}))
	if room != "" {
		require.NoError(t, store.Join(context.Background(), id, room))
	}
}

func members(t *testing.T, store hub.Store, room string) []string {
	t.Helper()
	m, err := store.Members(context.Background(), room)
	require.NoError(t, err)
	sort.Strings(m)
	return m
}

// TestHubSendRoomPrunesExactlyTheRefused: every answer but success prunes;
// no answer (a dropped connection) does not.
func TestHubSendRoomPrunesExactlyTheRefused(t *testing.T) {
	store := hub.NewMemoryStore()
	h, g := newHub(t, store)
	for i := range 8 {
		register(t, h, store, fmt.Sprintf("c%d+/=", i), "", "lobby")
	}
	g.SetRule("c2+/=", scfwstest.Rule{Status: 400})                   // refused
	g.SetRule("c3+/=", scfwstest.Rule{ErrNo: 1, ErrMsg: "not found"}) // refused: errNo
	g.SetRule("c4+/=", scfwstest.Rule{Status: 503})                   // refused: non-200
	g.SetRule("c5+/=", scfwstest.Rule{Body: "<html>"})                // refused: not the gateway's answer
	g.SetRule("c6+/=", scfwstest.Rule{Drop: true})                    // no answer: kept

	err := h.SendRoom(context.Background(), "lobby", scfws.Text("hi"), "c0+/=")
	be, ok := errors.AsType[*scfws.BroadcastError](err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, 2, be.Sent)
	assert.Len(t, be.Failed, 5)
	sort.Strings(be.Pruned)
	assert.Equal(t, []string{"c2+/=", "c3+/=", "c4+/=", "c5+/="}, be.Pruned)
	require.ErrorIs(t, be.Failed["c6+/="], scfws.ErrPushUnavailable)
	assert.Empty(t, g.PushesTo("c0+/="), "the sender is skipped")
	assert.Equal(t, []string{"c0+/=", "c1+/=", "c6+/=", "c7+/="}, members(t, store, "lobby"))
}

// TestHubNoPruneWithoutAnswer: an unreachable gateway empties no store.
func TestHubNoPruneWithoutAnswer(t *testing.T) {
	store := hub.NewMemoryStore()
	h, g := newHub(t, store)
	for _, id := range []string{"a", "b", "c"} {
		register(t, h, store, id, "u", "r")
	}
	g.Close()
	err := h.SendRoom(context.Background(), "r", scfws.Text("x"))
	require.ErrorIs(t, err, scfws.ErrPushUnavailable)
	be, ok := errors.AsType[*scfws.BroadcastError](err)
	require.True(t, ok)
	assert.Empty(t, be.Pruned)
	assert.Equal(t, []string{"a", "b", "c"}, members(t, store, "r"))
	require.ErrorIs(t, h.Send(context.Background(), "a", scfws.Text("x")), scfws.ErrPushUnavailable)
	assert.Equal(t, []string{"a", "b", "c"}, members(t, store, "r"))
}

func TestHubSendUser(t *testing.T) {
	store := hub.NewMemoryStore()
	h, g := newHub(t, store)
	register(t, h, store, "phone", "ann", "")
	register(t, h, store, "laptop", "ann", "")
	register(t, h, store, "other", "bob", "")
	require.NoError(t, h.SendUser(context.Background(), "ann", scfws.Binary([]byte("x"))))
	assert.Len(t, g.PushesTo("phone"), 1)
	assert.Len(t, g.PushesTo("laptop"), 1)
	assert.Empty(t, g.PushesTo("other"))
}

func TestHubSendPrunesOne(t *testing.T) {
	store := hub.NewMemoryStore()
	h, g := newHub(t, store)
	register(t, h, store, "gone", "", "r")
	register(t, h, store, "here", "", "r")
	g.SetRule("gone", scfwstest.Rule{Status: 404, ErrNo: 1001})
	require.ErrorIs(t, h.Send(context.Background(), "gone", scfws.Text("x")), scfws.ErrPushRefused)
	require.NoError(t, h.Send(context.Background(), "here", scfws.Text("x")))
	assert.Equal(t, []string{"here"}, members(t, store, "r"))
}

func TestHubRegisterCleanupDisconnect(t *testing.T) {
	store := hub.NewMemoryStore()
	h, g := newHub(t, store)
	ctx := context.Background()
	const id = "k+/9aJAf4vzaVAkNUdHLZA=="
	ev := scfwstest.NewRegisterEvent(id)
	ev.RequestContext.SourceIP = "10.9.8.7"
	ev.Negotiated.Subprotocol = "chat"
	require.NoError(t, h.Register(ctx, ev, "ann", map[string]string{"nick": "Ann"}))
	c, err := store.Get(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, "ann", c.UserID)
	assert.Equal(t, "chat", c.Subprotocol)
	assert.Equal(t, "10.9.8.7", c.SourceIP)
	assert.False(t, c.ConnectedAt.IsZero())
	assert.Equal(t, "Ann", c.Meta["nick"])

	cl := scfwstest.NewCleanupEvent(id)
	require.NoError(t, h.Cleanup(ctx, cl))
	require.NoError(t, h.Cleanup(ctx, cl), "cleanup twice is fine")
	_, err = store.Get(ctx, id)
	require.ErrorIs(t, err, hub.ErrNotFound)

	register(t, h, store, "kick", "", "r")
	g.SetRule("kick", scfwstest.Rule{Status: 400})
	require.ErrorIs(t, h.Disconnect(ctx, "kick"), scfws.ErrPushRefused)
	_, err = store.Get(ctx, "kick")
	require.ErrorIs(t, err, hub.ErrNotFound, "removed whatever the push answered")
	assert.Equal(t, scfws.ActionClosing, g.PushesTo("kick")[0].Action)
}

func TestHubStoreErrors(t *testing.T) {
	h, g := newHub(t, failingStore{hub.NewMemoryStore()})
	ctx := context.Background()
	require.ErrorIs(t, h.SendRoom(ctx, "r", scfws.Text("x")), errStoreDown)
	require.ErrorIs(t, h.SendUser(ctx, "u", scfws.Text("x")), errStoreDown)

	g.SetRule("a", scfwstest.Rule{Status: 400})
	err := h.Send(ctx, "a", scfws.Text("x"))
	require.ErrorIs(t, err, scfws.ErrPushRefused)
	require.ErrorIs(t, err, errStoreDown, "a failed prune is reported")

	// a room listed, then a refused push whose prune fails
	mem := hub.NewMemoryStore()
	h, g = newHub(t, removeFails{mem})
	register(t, h, mem, "b", "", "r")
	g.SetRule("b", scfwstest.Rule{Status: 400})
	err = h.SendRoom(ctx, "r", scfws.Text("x"))
	be, ok := errors.AsType[*scfws.BroadcastError](err)
	require.True(t, ok, "%v", err)
	require.ErrorIs(t, be.Failed["b"], scfws.ErrPushRefused)
	require.ErrorIs(t, be.Failed["b"], errStoreDown, "the failed prune is reported with its push")
	assert.Empty(t, be.Pruned)

	require.ErrorContains(t, h.Send(ctx, "a", scfws.Message{DataType: "blob"}), `dataType "blob"`)
}

var errStoreDown = errors.New("store down")

type failingStore struct{ hub.Store }

func (failingStore) Members(context.Context, string) ([]string, error)   { return nil, errStoreDown }
func (failingStore) UserConns(context.Context, string) ([]string, error) { return nil, errStoreDown }
func (failingStore) Remove(context.Context, string) error                { return errStoreDown }

type removeFails struct{ hub.Store }

func (removeFails) Remove(context.Context, string) error { return errStoreDown }

// TestHubPrunedCountsOnlyRemoved: a refused connection the store no longer
// held is not reported as pruned.
func TestHubPrunedCountsOnlyRemoved(t *testing.T) {
	mem := hub.NewMemoryStore()
	h, g := newHub(t, ghostMembers{mem})
	register(t, h, mem, "real", "", "r")
	g.SetDefault(scfwstest.Rule{Status: 404})
	err := h.SendRoom(context.Background(), "r", scfws.Text("x"))
	be, ok := errors.AsType[*scfws.BroadcastError](err)
	require.True(t, ok, "%v", err)
	assert.Len(t, be.Failed, 2)
	assert.Equal(t, []string{"real"}, be.Pruned, "the ghost was not in the store")
}

// ghostMembers lists a member the store does not hold.
type ghostMembers struct{ hub.Store }

func (g ghostMembers) Members(ctx context.Context, room string) ([]string, error) {
	m, err := g.Store.Members(ctx, room)
	return append(m, "ghost"), err
}

func TestHubCloseUserAndRoom(t *testing.T) {
	store := hub.NewMemoryStore()
	h, g := newHub(t, store)
	ctx := context.Background()
	register(t, h, store, "ann-phone", "ann", "lobby")
	register(t, h, store, "ann-laptop", "ann", "games")
	register(t, h, store, "bob", "bob", "lobby")
	register(t, h, store, "carol", "carol", "lobby")

	require.NoError(t, h.CloseUser(ctx, "ann"))
	for _, id := range []string{"ann-phone", "ann-laptop"} {
		require.Len(t, g.PushesTo(id), 1)
		assert.Equal(t, scfws.ActionClosing, g.PushesTo(id)[0].Action)
		_, err := store.Get(ctx, id)
		require.ErrorIs(t, err, hub.ErrNotFound)
	}
	assert.Equal(t, []string{"bob", "carol"}, members(t, store, "lobby"))

	g.SetRule("carol", scfwstest.Rule{Status: 404})
	err := h.CloseRoom(ctx, "lobby")
	be, ok := errors.AsType[*scfws.BroadcastError](err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, 1, be.Sent)
	require.ErrorIs(t, be.Failed["carol"], scfws.ErrPushRefused)
	sort.Strings(be.Pruned)
	assert.Equal(t, []string{"bob", "carol"}, be.Pruned, "removed whatever the push answered")
	assert.Empty(t, members(t, store, "lobby"))
	require.NoError(t, h.CloseRoom(ctx, "nobody-here"))
}

func TestHubConnectionContext(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	store := hub.NewMemoryStore()
	store.Now = func() time.Time { return now }
	h, _ := newHub(t, countingStore{Store: store})
	ctx := context.Background()
	register(t, h, store, "ann", "u-ann", "lobby")

	var seen hub.Conn
	var found bool
	msg := h.OnMessage(func(ctx context.Context, ev *scfws.TransmissionEvent) error {
		seen, found = hub.ConnFrom(ctx)
		return nil
	})
	gets.Store(0)
	require.NoError(t, msg(ctx, scfwstest.NewTransmissionEvent("ann", scfws.Text("hi"))))
	require.True(t, found)
	assert.Equal(t, "u-ann", seen.UserID)
	assert.Equal(t, []string{"lobby"}, seen.Rooms)
	assert.Equal(t, "ann", seen.Meta["nick"])
	assert.Equal(t, int64(1), gets.Load(), "one store round trip")

	c, err := store.Get(ctx, "ann")
	require.NoError(t, err)
	assert.Equal(t, now, c.LastActive, "touched a moment ago: not touched again")
	now = now.Add(2 * time.Minute)
	require.NoError(t, msg(ctx, scfwstest.NewTransmissionEvent("ann", scfws.Text("later"))))
	c, err = store.Get(ctx, "ann")
	require.NoError(t, err)
	assert.Equal(t, now, c.LastActive, "over a minute since: touched, its expiry restarted")

	require.NoError(t, msg(ctx, scfwstest.NewTransmissionEvent("ghost", scfws.Text("hi"))))
	assert.False(t, found, "a connection the store does not hold")

	left := false
	closeFn := h.OnClose(func(ctx context.Context, ev *scfws.CleanupEvent) error {
		c, ok := hub.ConnFrom(ctx)
		left = ok && slices.Equal(c.Rooms, []string{"lobby"})
		return errors.New("the app failed")
	})
	err = closeFn(ctx, scfwstest.NewCleanupEvent("ann"))
	require.ErrorContains(t, err, "the app failed")
	assert.True(t, left, "the cleanup function sees the rooms it is leaving")
	_, err = store.Get(ctx, "ann")
	require.ErrorIs(t, err, hub.ErrNotFound, "removed even so")
}

var gets atomic.Int64

// countingStore counts Get calls.
type countingStore struct{ hub.Store }

func (s countingStore) Get(ctx context.Context, id string) (hub.Conn, error) {
	gets.Add(1)
	return s.Store.Get(ctx, id)
}

// TestHubCloseRemovesOnlyTheClosed: a closing push that got no answer, or
// that was never tried because ctx ended, leaves the connection stored (it
// may still be open); counts say what happened.
func TestHubCloseRemovesOnlyTheClosed(t *testing.T) {
	store := hub.NewMemoryStore()
	h, g := newHub(t, store)
	ctx := context.Background()
	for _, id := range []string{"a", "b", "c"} {
		register(t, h, store, id, "", "r")
	}
	g.SetRule("b", scfwstest.Rule{Drop: true})
	err := h.CloseRoom(ctx, "r")
	be, ok := errors.AsType[*scfws.BroadcastError](err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, 2, be.Sent)
	require.ErrorIs(t, be.Failed["b"], scfws.ErrPushUnavailable)
	assert.ElementsMatch(t, []string{"a", "c"}, be.Pruned)
	assert.Equal(t, []string{"b"}, members(t, store, "r"), "no answer: b may be open, it stays")

	// many members and a deadline: what was not closed stays
	const n = 300
	for i := range n {
		register(t, h, store, fmt.Sprint("m", i), "", "big")
	}
	g.SetDefault(scfwstest.Rule{Delay: 20 * time.Millisecond})
	dctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	err = h.CloseRoom(dctx, "big")
	be, ok = errors.AsType[*scfws.BroadcastError](err)
	require.True(t, ok, "%v", err)
	left := members(t, store, "big")
	assert.Equal(t, n, be.Sent+len(be.Failed), "every member counted once")
	assert.Len(t, be.Pruned, n-len(left), "Pruned is what left the store")
	assert.Len(t, left, len(be.Failed), "exactly the members not closed stay")
	assert.NotEmpty(t, left, "the deadline stopped it before the end")
	for _, id := range left {
		require.Error(t, be.Failed[id], id)
	}
}

// TestHubCloseDeliveredButNotRemoved: pushes that were delivered are not
// counted as failed when the store fails to remove them.
func TestHubCloseDeliveredButNotRemoved(t *testing.T) {
	mem := hub.NewMemoryStore()
	h, _ := newHub(t, removeFails{mem})
	for _, id := range []string{"a", "b", "c"} {
		register(t, h, mem, id, "u", "")
	}
	err := h.CloseUser(context.Background(), "u")
	require.ErrorIs(t, err, errStoreDown)
	_, isBroadcast := errors.AsType[*scfws.BroadcastError](err)
	assert.False(t, isBroadcast, "all 3 pushes were delivered: %v", err)
	assert.NotContains(t, err.Error(), "pushes failed")
}

// TestHubOnCloseRemovesWhatever: the connection is removed when the cleanup
// function panics, and when loading it failed (the function still runs).
func TestHubOnCloseRemovesWhatever(t *testing.T) {
	store := hub.NewMemoryStore()
	h, _ := newHub(t, store)
	ctx := context.Background()
	register(t, h, store, "p", "", "r")
	closeFn := h.OnClose(func(context.Context, *scfws.CleanupEvent) error {
		panic("assignment to entry in nil map") // as a nil-map write would
	})
	func() {
		defer func() { assert.NotNil(t, recover(), "the panic goes on to the adapter") }()
		_ = closeFn(ctx, scfwstest.NewCleanupEvent("p"))
	}()
	_, err := store.Get(ctx, "p")
	require.ErrorIs(t, err, hub.ErrNotFound, "removed although the function panicked")
	assert.Empty(t, members(t, store, "r"))

	register(t, h, store, "q", "", "r")
	h2, _ := newHub(t, getFails{store})
	ran := false
	err = h2.OnClose(func(context.Context, *scfws.CleanupEvent) error { ran = true; return nil })(ctx, scfwstest.NewCleanupEvent("q"))
	require.ErrorIs(t, err, errStoreDown)
	assert.True(t, ran, "the function runs without the connection")
	_, err = store.Get(ctx, "q")
	require.ErrorIs(t, err, hub.ErrNotFound, "removed although loading failed")
}

type getFails struct{ hub.Store }

func (getFails) Get(context.Context, string) (hub.Conn, error) { return hub.Conn{}, errStoreDown }
