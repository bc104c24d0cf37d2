package scfws_test

import (
	"context"
	"fmt"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scfws/scfws-go/scfws"
	"github.com/scfws/scfws-go/scfws/scfwstest"
)

func newHub(t *testing.T, opts *scfws.HubOptions) (*scfws.Hub, *scfwstest.Gateway, *scfws.MemoryStore) {
	t.Helper()
	g := scfwstest.NewGateway()
	t.Cleanup(g.Close)
	store := scfws.NewMemoryStore()
	return scfws.NewHub(store, newClient(t, g, &scfws.PushOptions{MaxRetries: 1}), opts), g, store
}

func register(t *testing.T, h *scfws.Hub, id, user, room string) {
	t.Helper()
	ev, _ := scfwstest.NewRegisterEvent(id, scfwstest.WithSourceIP("10.1.2.3"))
	require.NoError(t, h.Register(context.Background(), ev, user, map[string]string{"nick": id}))
	if room != "" {
		require.NoError(t, h.Store().Join(context.Background(), id, room))
	}
}

func TestHubSendRoomPrunesExactlyTheRefused(t *testing.T) {
	h, g, store := newHub(t, nil)
	ctx := context.Background()
	for i := range 10 {
		register(t, h, fmt.Sprintf("c%d+/=", i), "", "lobby")
	}
	g.SetRule("c3+/=", scfwstest.Rule{Status: 400})                   // refused: pruned
	g.SetRule("c4+/=", scfwstest.Rule{ErrNo: 1, ErrMsg: "not found"}) // refused: pruned
	g.SetRule("c5+/=", scfwstest.Rule{Status: 503})                   // transient: kept
	g.SetRule("c6+/=", scfwstest.Rule{Body: "<html>"})                // bad answer: kept

	d, err := h.SendRoom(ctx, "lobby", scfws.TextMessage("hi"), "c0+/=")
	require.NoError(t, err)
	assert.Equal(t, 5, d.Delivered)
	assert.Equal(t, 4, d.Failed)
	assert.Equal(t, 2, d.Pruned)
	assert.Len(t, d.Errors, 4)
	require.ErrorIs(t, d.Err(), scfws.ErrPushRefused)
	assert.Empty(t, g.PushesTo("c0+/="), "the sender is skipped")

	members, err := store.Members(ctx, "lobby")
	require.NoError(t, err)
	sort.Strings(members)
	assert.Equal(t, []string{"c0+/=", "c1+/=", "c2+/=", "c5+/=", "c6+/=", "c7+/=", "c8+/=", "c9+/="}, members)
	_, err = store.Get(ctx, "c3+/=")
	require.ErrorIs(t, err, scfws.ErrNotFound)
}

func TestHubShouldPrune(t *testing.T) {
	h, g, store := newHub(t, &scfws.HubOptions{ShouldPrune: func(error) bool { return false }})
	register(t, h, "a", "", "r")
	g.SetRule("a", scfwstest.Rule{Status: 410})
	d, err := h.SendRoom(context.Background(), "r", scfws.TextMessage("x"))
	require.NoError(t, err)
	assert.Equal(t, scfws.Delivery{Failed: 1, Errors: d.Errors}, d)
	_, err = store.Get(context.Background(), "a")
	require.NoError(t, err)
}

func TestHubSendUser(t *testing.T) {
	h, g, _ := newHub(t, nil)
	register(t, h, "phone", "ann", "")
	register(t, h, "laptop", "ann", "")
	register(t, h, "other", "bob", "")
	d, err := h.SendUser(context.Background(), "ann", scfws.BinaryMessage([]byte("x")))
	require.NoError(t, err)
	assert.Equal(t, 2, d.Delivered)
	assert.NoError(t, d.Err())
	assert.Len(t, g.PushesTo("phone"), 1)
	assert.Len(t, g.PushesTo("laptop"), 1)
	assert.Empty(t, g.PushesTo("other"))
}

func TestHubRegisterCleanupDisconnect(t *testing.T) {
	h, g, store := newHub(t, nil)
	ctx := context.Background()
	ev, _ := scfwstest.NewRegisterEvent("k+/9aJAf4vzaVAkNUdHLZA==", scfwstest.WithSourceIP("10.9.8.7"))
	ev.Negotiated.Subprotocol = "chat"
	require.NoError(t, h.Register(ctx, ev, "ann", map[string]string{"nick": "Ann"}))
	c, err := store.Get(ctx, "k+/9aJAf4vzaVAkNUdHLZA==")
	require.NoError(t, err)
	assert.Equal(t, "ann", c.UserID)
	assert.Equal(t, "chat", c.Subprotocol)
	assert.Equal(t, "10.9.8.7", c.SourceIP)
	assert.False(t, c.ConnectedAt.IsZero())
	assert.Equal(t, "Ann", c.Meta["nick"])

	cl, _ := scfwstest.NewCleanupEvent("k+/9aJAf4vzaVAkNUdHLZA==")
	require.NoError(t, h.Cleanup(ctx, cl))
	require.NoError(t, h.Cleanup(ctx, cl), "cleanup twice is fine")
	_, err = store.Get(ctx, "k+/9aJAf4vzaVAkNUdHLZA==")
	require.ErrorIs(t, err, scfws.ErrNotFound)

	register(t, h, "kick", "", "r")
	g.SetRule("kick", scfwstest.Rule{Status: 400})
	require.ErrorIs(t, h.Disconnect(ctx, "kick"), scfws.ErrPushRefused)
	_, err = store.Get(ctx, "kick")
	require.ErrorIs(t, err, scfws.ErrNotFound, "removed whatever the push answered")
	assert.Equal(t, scfws.ActionClosing, g.PushesTo("kick")[0].Action)
}

func TestHubStoreErrors(t *testing.T) {
	g := scfwstest.NewGateway()
	defer g.Close()
	h := scfws.NewHub(failingStore{scfws.NewMemoryStore()}, newClient(t, g, nil), nil)
	_, err := h.SendRoom(context.Background(), "r", scfws.TextMessage("x"))
	require.ErrorIs(t, err, errStoreDown)
	g.SetRule("a", scfwstest.Rule{Status: 400})
	d, err := h.Send(context.Background(), []string{"a", "b", "a"}, scfws.TextMessage("x"))
	require.ErrorIs(t, err, errStoreDown, "a failed prune is reported")
	assert.Equal(t, scfws.Delivery{Delivered: 1, Failed: 1, Errors: d.Errors}, d)
	_, err = h.Send(context.Background(), []string{"a"}, scfws.Message{DataType: "blob"})
	require.ErrorIs(t, err, scfws.ErrInvalidData)
}

var errStoreDown = fmt.Errorf("store down")

type failingStore struct{ scfws.Store }

func (failingStore) Members(context.Context, string) ([]string, error) { return nil, errStoreDown }
func (failingStore) Remove(context.Context, string) error              { return errStoreDown }
