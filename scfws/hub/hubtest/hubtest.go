// Package hubtest is the conformance suite of hub.Store: run [TestStore]
// against an implementation, with -race.
package hubtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scfws/scfws-go/scfws"
	"github.com/scfws/scfws-go/scfws/hub"
)

// oddIDs are connection IDs as the gateway makes them, and worse.
var oddIDs = []string{
	"CQ1RaJAf4vzaVAkNUdHLZA==", "k+/9aJAf4vzaVAkNUdHLZA==", "a/b/../c", "{tag}x", "a:b:c",
	"*", "with space", "é漢字", "x\ny", `"quoted"`, "%2F",
}

// TestStore runs the conformance suite for a [hub.Store] implementation:
// the contract of every method, odd IDs and names, removal cascades, expiry,
// concurrent use, and a [hub.Hub] pruning on it against a fake gateway. newStore returns an empty store whose connections live
// for ttl; the suite needs real time to pass for expiry (about 2 s at most).
func TestStore(t *testing.T, newStore func(t *testing.T, ttl time.Duration) hub.Store) {
	t.Run("AddGetRemove", func(t *testing.T) { testAddGetRemove(t, newStore(t, time.Hour)) })
	t.Run("OddIDs", func(t *testing.T) { testOddIDs(t, newStore(t, time.Hour)) })
	t.Run("RoomsAndUsers", func(t *testing.T) { testRoomsAndUsers(t, newStore(t, time.Hour)) })
	t.Run("RemoveCascades", func(t *testing.T) { testRemoveCascades(t, newStore(t, time.Hour)) })
	t.Run("NotFound", func(t *testing.T) { testNotFound(t, newStore(t, time.Hour)) })
	t.Run("Expiry", func(t *testing.T) { testExpiry(t, newStore) })
	t.Run("Concurrency", func(t *testing.T) { testConcurrency(t, newStore(t, time.Hour)) })
	t.Run("JoinRacesRemove", func(t *testing.T) { testJoinRacesRemove(t, newStore(t, time.Hour)) })
	t.Run("Interleaving", func(t *testing.T) { testInterleaving(t, newStore(t, time.Hour)) })
	t.Run("HubPrunes", func(t *testing.T) { testHubPrunes(t, newStore(t, time.Hour)) })
	t.Run("TouchKeepsMemberships", func(t *testing.T) { testTouchKeepsMemberships(t, newStore(t, 2*time.Second)) })
	t.Run("EmptyingIsLinear", func(t *testing.T) { testEmptyingIsLinear(t, newStore(t, time.Hour)) })
}

// testEmptyingIsLinear: removing every member of a 10,000-member room
// costs about what filling it did (within 3×, and a second of slack for a
// busy machine): no step may read the whole room.
func testEmptyingIsLinear(t *testing.T, s hub.Store) {
	const n, workers = 10000, 16
	ctx := context.Background()
	each := func(f func(i int) error) time.Duration {
		start := time.Now()
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := range workers {
			wg.Go(func() {
				for i := w; i < n; i += workers {
					if err := f(i); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		require.NoError(t, <-errs)
		return time.Since(start)
	}
	fill := each(func(i int) error {
		id := fmt.Sprint("member-", i)
		if err := s.Add(ctx, hub.Conn{ID: id}); err != nil {
			return err
		}
		return s.Join(ctx, id, "big")
	})
	require.Len(t, must(t)(s.Members(ctx, "big")), n)
	empty := each(func(i int) error { return s.Remove(ctx, fmt.Sprint("member-", i)) })
	assert.Empty(t, must(t)(s.Members(ctx, "big")))
	assert.Less(t, empty, 3*fill+time.Second, "filled in %v, emptied in %v", fill, empty)
	t.Logf("10,000 members: filled in %v, emptied in %v", fill, empty)
}

// testTouchKeepsMemberships: a connection touched well within its TTL,
// long past it, is still in its room and its user's list, however quiet
// the room (nothing else joined or left it).
func testTouchKeepsMemberships(t *testing.T, s hub.Store) {
	ctx := context.Background()
	require.NoError(t, s.Add(ctx, hub.Conn{ID: "long", UserID: "u1"}))
	require.NoError(t, s.Join(ctx, "long", "quiet"))
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(400 * time.Millisecond) {
		require.NoError(t, s.Touch(ctx, "long"))
	}
	c, err := s.Get(ctx, "long")
	require.NoError(t, err)
	assert.Equal(t, []string{"quiet"}, c.Rooms)
	assert.Equal(t, []string{"long"}, must(t)(s.Members(ctx, "quiet")), "still a member of its room")
	assert.Equal(t, []string{"long"}, must(t)(s.UserConns(ctx, "u1")), "still one of its user's connections")
}

func testAddGetRemove(t *testing.T, s hub.Store) {
	ctx := context.Background()
	at := time.Date(2026, 11, 28, 12, 0, 0, 123000000, time.UTC)
	c := hub.Conn{ID: "CQ1RaJAf4vzaVAkNUdHLZA==", UserID: "u1", Subprotocol: "chat", SourceIP: "10.0.0.1",
		ConnectedAt: at, Meta: map[string]string{"nick": "ann", "": "empty key"}}
	require.NoError(t, s.Add(ctx, c))
	got, err := s.Get(ctx, c.ID)
	require.NoError(t, err)
	assert.Equal(t, c.ID, got.ID)
	assert.Equal(t, c.UserID, got.UserID)
	assert.Equal(t, c.Subprotocol, got.Subprotocol)
	assert.Equal(t, c.SourceIP, got.SourceIP)
	assert.True(t, c.ConnectedAt.Equal(got.ConnectedAt), "ConnectedAt %v != %v", c.ConnectedAt, got.ConnectedAt)
	assert.WithinDuration(t, time.Now(), got.LastActive, time.Minute, "LastActive is set by Add")
	time.Sleep(5 * time.Millisecond)
	require.NoError(t, s.Touch(ctx, c.ID))
	touched, err := s.Get(ctx, c.ID)
	require.NoError(t, err)
	assert.True(t, touched.LastActive.After(got.LastActive), "Touch moves LastActive: %v, then %v", got.LastActive, touched.LastActive)
	assert.Equal(t, c.Meta, got.Meta)

	got.Meta["nick"] = "mallory" // the caller's copy only
	again, err := s.Get(ctx, c.ID)
	require.NoError(t, err)
	assert.Equal(t, "ann", again.Meta["nick"])

	replaced := hub.Conn{ID: c.ID, UserID: "u2"}
	require.NoError(t, s.Add(ctx, replaced))
	got, err = s.Get(ctx, c.ID)
	require.NoError(t, err)
	assert.Equal(t, "u2", got.UserID)
	assert.Empty(t, got.Meta)
	assertSame(t, nil, must(t)(s.UserConns(ctx, "u1")))
	assertSame(t, []string{c.ID}, must(t)(s.UserConns(ctx, "u2")))

	require.NoError(t, s.Remove(ctx, c.ID))
	_, err = s.Get(ctx, c.ID)
	require.ErrorIs(t, err, hub.ErrNotFound)
	require.ErrorIs(t, s.Remove(ctx, c.ID), hub.ErrNotFound)
	require.ErrorIs(t, s.Add(ctx, hub.Conn{}), scfws.ErrEmptyConnectionID)
}

func testOddIDs(t *testing.T, s hub.Store) {
	ctx := context.Background()
	for _, id := range oddIDs {
		require.NoError(t, s.Add(ctx, hub.Conn{ID: id, UserID: id}), id)
		require.NoError(t, s.Join(ctx, id, id), id)
		require.NoError(t, s.Join(ctx, id, "room"), id)
	}
	assertSame(t, oddIDs, must(t)(s.Members(ctx, "room")))
	for _, id := range oddIDs {
		got, err := s.Get(ctx, id)
		require.NoError(t, err, id)
		assert.Equal(t, id, got.ID)
		assertSame(t, []string{id}, must(t)(s.Members(ctx, id)))
		assertSame(t, []string{id}, must(t)(s.UserConns(ctx, id)))
		assertSame(t, []string{id, "room"}, must(t)(s.Rooms(ctx, id)))
	}
	// prefix-like IDs do not see each other
	require.NoError(t, s.Add(ctx, hub.Conn{ID: "abc"}))
	require.NoError(t, s.Add(ctx, hub.Conn{ID: "abc:rooms"}))
	require.NoError(t, s.Remove(ctx, "abc"))
	_, err := s.Get(ctx, "abc:rooms")
	require.NoError(t, err)
}

func testRoomsAndUsers(t *testing.T, s hub.Store) {
	ctx := context.Background()
	for i, u := range []string{"u1", "u1", "u2", ""} {
		require.NoError(t, s.Add(ctx, hub.Conn{ID: fmt.Sprint("c", i), UserID: u}))
	}
	require.NoError(t, s.Join(ctx, "c0", "lobby"))
	require.NoError(t, s.Join(ctx, "c0", "lobby")) // twice is fine
	require.NoError(t, s.Join(ctx, "c1", "lobby"))
	require.NoError(t, s.Join(ctx, "c3", "lobby"))
	require.NoError(t, s.Join(ctx, "c1", "games"))
	require.ErrorIs(t, s.Join(ctx, "c1", ""), hub.ErrEmptyRoom)
	assertSame(t, []string{"c0", "c1", "c3"}, must(t)(s.Members(ctx, "lobby")))
	assertSame(t, []string{"c1"}, must(t)(s.Members(ctx, "games")))
	assertSame(t, nil, must(t)(s.Members(ctx, "nobody-here")))
	assertSame(t, []string{"lobby", "games"}, must(t)(s.Rooms(ctx, "c1")))
	c1, err := s.Get(ctx, "c1")
	require.NoError(t, err)
	assertSame(t, []string{"lobby", "games"}, c1.Rooms, "Get returns the rooms too")
	assertSame(t, nil, must(t)(s.Rooms(ctx, "c2")))
	assertSame(t, []string{"c0", "c1"}, must(t)(s.UserConns(ctx, "u1")))
	assertSame(t, []string{"c2"}, must(t)(s.UserConns(ctx, "u2")))
	assertSame(t, nil, must(t)(s.UserConns(ctx, "u3")))

	require.NoError(t, s.Leave(ctx, "c1", "lobby"))
	require.NoError(t, s.Leave(ctx, "c1", "lobby")) // twice is fine
	require.NoError(t, s.Leave(ctx, "c2", "never-joined"))
	assertSame(t, []string{"c0", "c3"}, must(t)(s.Members(ctx, "lobby")))
	assertSame(t, []string{"games"}, must(t)(s.Rooms(ctx, "c1")))
}

func testRemoveCascades(t *testing.T, s hub.Store) {
	ctx := context.Background()
	require.NoError(t, s.Add(ctx, hub.Conn{ID: "a", UserID: "u"}))
	require.NoError(t, s.Add(ctx, hub.Conn{ID: "b", UserID: "u"}))
	for _, room := range []string{"r1", "r2", "r3"} {
		require.NoError(t, s.Join(ctx, "a", room))
	}
	require.NoError(t, s.Join(ctx, "b", "r1"))
	require.NoError(t, s.Remove(ctx, "a"))
	assertSame(t, []string{"b"}, must(t)(s.Members(ctx, "r1")))
	assertSame(t, nil, must(t)(s.Members(ctx, "r2")))
	assertSame(t, nil, must(t)(s.Members(ctx, "r3")))
	assertSame(t, []string{"b"}, must(t)(s.UserConns(ctx, "u")))
	// re-adding the same ID starts clean
	require.NoError(t, s.Add(ctx, hub.Conn{ID: "a"}))
	assertSame(t, nil, must(t)(s.Rooms(ctx, "a")))
	assertSame(t, []string{"b"}, must(t)(s.Members(ctx, "r1")))
}

func testNotFound(t *testing.T, s hub.Store) {
	ctx := context.Background()
	_, err := s.Get(ctx, "ghost")
	require.ErrorIs(t, err, hub.ErrNotFound)
	require.ErrorIs(t, s.Remove(ctx, "ghost"), hub.ErrNotFound)
	require.ErrorIs(t, s.Touch(ctx, "ghost"), hub.ErrNotFound)
	require.ErrorIs(t, s.Join(ctx, "ghost", "r"), hub.ErrNotFound)
	require.ErrorIs(t, s.Leave(ctx, "ghost", "r"), hub.ErrNotFound)
	_, err = s.Rooms(ctx, "ghost")
	require.ErrorIs(t, err, hub.ErrNotFound)
	assertSame(t, nil, must(t)(s.Members(ctx, "r")), "a failed join leaves no member")
}

// testExpiry: an idle connection expires with its memberships; a touched
// one lives on. It asserts only what the measured times imply, so a busy
// machine that delays a step makes it retry, never fail.
func testExpiry(t *testing.T, newStore func(t *testing.T, ttl time.Duration) hub.Store) {
	const ttl = 300 * time.Millisecond
	ctx := context.Background()
	for try := 0; ; try++ {
		s := newStore(t, ttl)
		for _, id := range []string{"idle", "active"} {
			require.NoError(t, s.Add(ctx, hub.Conn{ID: id, UserID: "u"}))
			require.NoError(t, s.Join(ctx, id, "room"))
		}
		added := time.Now()
		time.Sleep(ttl * 2 / 3)
		require.NoError(t, s.Touch(ctx, "active"))
		touched := time.Now()
		time.Sleep(ttl * 2 / 3)
		_, activeErr := s.Get(ctx, "active")
		checked := time.Now()
		if checked.Sub(touched) >= ttl || touched.Sub(added) >= ttl {
			require.Less(t, try, 5, "the machine is too busy to time a %v TTL", ttl)
			continue // a step was late: the outcome says nothing
		}
		require.NoError(t, activeErr, "a touched connection lives on")
		require.Eventually(t, func() bool {
			_, err := s.Get(ctx, "idle")
			return errors.Is(err, hub.ErrNotFound)
		}, 5*time.Second, 20*time.Millisecond, "an untouched connection expires")
		require.ErrorIs(t, s.Touch(ctx, "idle"), hub.ErrNotFound)
		require.Eventually(t, func() bool {
			m, err := s.Members(ctx, "room")
			return err == nil && !slices.Contains(m, "idle")
		}, 5*time.Second, 20*time.Millisecond, "an expired connection leaves its rooms")
		require.Eventually(t, func() bool {
			m, err1 := s.Members(ctx, "room")
			u, err2 := s.UserConns(ctx, "u")
			return err1 == nil && err2 == nil && len(m) == 0 && len(u) == 0
		}, 5*time.Second, 20*time.Millisecond, "every connection expires in the end")
		return
	}
}

// assertSame compares two lists as sets.
func assertSame(t *testing.T, want, got []string, msg ...any) {
	t.Helper()
	want, got = slices.Clone(want), slices.Clone(got)
	slices.Sort(want)
	slices.Sort(got)
	if len(want) == 0 && len(got) == 0 {
		return
	}
	assert.Equal(t, want, got, msg...)
}

// must fails the test on a store error and returns the list.
func must(t *testing.T) func([]string, error) []string {
	return func(v []string, err error) []string {
		t.Helper()
		require.NoError(t, err)
		return v
	}
}
