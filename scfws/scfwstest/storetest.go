package scfwstest

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
)

// NewStoreFunc makes an empty store whose connections live for ttl.
type NewStoreFunc func(t *testing.T, ttl time.Duration) scfws.Store

// oddIDs are connection IDs as the gateway makes them, and worse.
var oddIDs = []string{
	"CQ1RaJAf4vzaVAkNUdHLZA==", "k+/9aJAf4vzaVAkNUdHLZA==", "a/b/../c", "{tag}x", "a:b:c",
	"*", "with space", "é漢字", "x\ny", `"quoted"`, "%2F",
}

// TestStore runs the conformance suite for a [scfws.Store] implementation:
// the contract of every method, odd IDs and names, removal cascades, expiry
// and concurrent use. Call it from a test with a function that returns an
// empty store; run it with -race.
func TestStore(t *testing.T, newStore NewStoreFunc) {
	t.Run("AddGetRemove", func(t *testing.T) { testAddGetRemove(t, newStore(t, time.Hour)) })
	t.Run("OddIDs", func(t *testing.T) { testOddIDs(t, newStore(t, time.Hour)) })
	t.Run("RoomsAndUsers", func(t *testing.T) { testRoomsAndUsers(t, newStore(t, time.Hour)) })
	t.Run("RemoveCascades", func(t *testing.T) { testRemoveCascades(t, newStore(t, time.Hour)) })
	t.Run("NotFound", func(t *testing.T) { testNotFound(t, newStore(t, time.Hour)) })
	t.Run("Expiry", func(t *testing.T) { testExpiry(t, newStore(t, 400*time.Millisecond)) })
	t.Run("Concurrency", func(t *testing.T) { testConcurrency(t, newStore(t, time.Hour)) })
	t.Run("JoinRacesRemove", func(t *testing.T) { testJoinRacesRemove(t, newStore(t, time.Hour)) })
}

func testAddGetRemove(t *testing.T, s scfws.Store) {
	ctx := context.Background()
	at := time.Date(2026, 11, 28, 12, 0, 0, 123000000, time.UTC)
	c := scfws.Conn{ID: "CQ1RaJAf4vzaVAkNUdHLZA==", UserID: "u1", Subprotocol: "chat", SourceIP: "10.0.0.1",
		ConnectedAt: at, Meta: map[string]string{"nick": "ann", "": "empty key"}}
	require.NoError(t, s.Add(ctx, c))
	got, err := s.Get(ctx, c.ID)
	require.NoError(t, err)
	assert.Equal(t, c.ID, got.ID)
	assert.Equal(t, c.UserID, got.UserID)
	assert.Equal(t, c.Subprotocol, got.Subprotocol)
	assert.Equal(t, c.SourceIP, got.SourceIP)
	assert.True(t, c.ConnectedAt.Equal(got.ConnectedAt), "ConnectedAt %v != %v", c.ConnectedAt, got.ConnectedAt)
	assert.Equal(t, c.Meta, got.Meta)

	got.Meta["nick"] = "mallory" // the caller's copy only
	again, err := s.Get(ctx, c.ID)
	require.NoError(t, err)
	assert.Equal(t, "ann", again.Meta["nick"])

	replaced := scfws.Conn{ID: c.ID, UserID: "u2"}
	require.NoError(t, s.Add(ctx, replaced))
	got, err = s.Get(ctx, c.ID)
	require.NoError(t, err)
	assert.Equal(t, "u2", got.UserID)
	assert.Empty(t, got.Meta)
	assertSame(t, nil, must(s.UserConns(ctx, "u1")))
	assertSame(t, []string{c.ID}, must(s.UserConns(ctx, "u2")))

	require.NoError(t, s.Remove(ctx, c.ID))
	_, err = s.Get(ctx, c.ID)
	require.ErrorIs(t, err, scfws.ErrNotFound)
	require.ErrorIs(t, s.Remove(ctx, c.ID), scfws.ErrNotFound)
	require.ErrorIs(t, s.Add(ctx, scfws.Conn{}), scfws.ErrEmptyConnectionID)
}

func testOddIDs(t *testing.T, s scfws.Store) {
	ctx := context.Background()
	for _, id := range oddIDs {
		require.NoError(t, s.Add(ctx, scfws.Conn{ID: id, UserID: id}), id)
		require.NoError(t, s.Join(ctx, id, id), id)
		require.NoError(t, s.Join(ctx, id, "room"), id)
	}
	assertSame(t, oddIDs, must(s.Members(ctx, "room")))
	for _, id := range oddIDs {
		got, err := s.Get(ctx, id)
		require.NoError(t, err, id)
		assert.Equal(t, id, got.ID)
		assertSame(t, []string{id}, must(s.Members(ctx, id)))
		assertSame(t, []string{id}, must(s.UserConns(ctx, id)))
		assertSame(t, []string{id, "room"}, must(s.Rooms(ctx, id)))
	}
	// prefix-like IDs do not see each other
	require.NoError(t, s.Add(ctx, scfws.Conn{ID: "abc"}))
	require.NoError(t, s.Add(ctx, scfws.Conn{ID: "abc:rooms"}))
	require.NoError(t, s.Remove(ctx, "abc"))
	_, err := s.Get(ctx, "abc:rooms")
	require.NoError(t, err)
}

func testRoomsAndUsers(t *testing.T, s scfws.Store) {
	ctx := context.Background()
	for i, u := range []string{"u1", "u1", "u2", ""} {
		require.NoError(t, s.Add(ctx, scfws.Conn{ID: fmt.Sprint("c", i), UserID: u}))
	}
	require.NoError(t, s.Join(ctx, "c0", "lobby"))
	require.NoError(t, s.Join(ctx, "c0", "lobby")) // twice is fine
	require.NoError(t, s.Join(ctx, "c1", "lobby"))
	require.NoError(t, s.Join(ctx, "c3", "lobby"))
	require.NoError(t, s.Join(ctx, "c1", "games"))
	require.ErrorIs(t, s.Join(ctx, "c1", ""), scfws.ErrEmptyRoom)
	assertSame(t, []string{"c0", "c1", "c3"}, must(s.Members(ctx, "lobby")))
	assertSame(t, []string{"c1"}, must(s.Members(ctx, "games")))
	assertSame(t, nil, must(s.Members(ctx, "nobody-here")))
	assertSame(t, []string{"lobby", "games"}, must(s.Rooms(ctx, "c1")))
	assertSame(t, nil, must(s.Rooms(ctx, "c2")))
	assertSame(t, []string{"c0", "c1"}, must(s.UserConns(ctx, "u1")))
	assertSame(t, []string{"c2"}, must(s.UserConns(ctx, "u2")))
	assertSame(t, nil, must(s.UserConns(ctx, "u3")))

	require.NoError(t, s.Leave(ctx, "c1", "lobby"))
	require.NoError(t, s.Leave(ctx, "c1", "lobby")) // twice is fine
	require.NoError(t, s.Leave(ctx, "c2", "never-joined"))
	assertSame(t, []string{"c0", "c3"}, must(s.Members(ctx, "lobby")))
	assertSame(t, []string{"games"}, must(s.Rooms(ctx, "c1")))
}

func testRemoveCascades(t *testing.T, s scfws.Store) {
	ctx := context.Background()
	require.NoError(t, s.Add(ctx, scfws.Conn{ID: "a", UserID: "u"}))
	require.NoError(t, s.Add(ctx, scfws.Conn{ID: "b", UserID: "u"}))
	for _, room := range []string{"r1", "r2", "r3"} {
		require.NoError(t, s.Join(ctx, "a", room))
	}
	require.NoError(t, s.Join(ctx, "b", "r1"))
	require.NoError(t, s.Remove(ctx, "a"))
	assertSame(t, []string{"b"}, must(s.Members(ctx, "r1")))
	assertSame(t, nil, must(s.Members(ctx, "r2")))
	assertSame(t, nil, must(s.Members(ctx, "r3")))
	assertSame(t, []string{"b"}, must(s.UserConns(ctx, "u")))
	// re-adding the same ID starts clean
	require.NoError(t, s.Add(ctx, scfws.Conn{ID: "a"}))
	assertSame(t, nil, must(s.Rooms(ctx, "a")))
	assertSame(t, []string{"b"}, must(s.Members(ctx, "r1")))
}

func testNotFound(t *testing.T, s scfws.Store) {
	ctx := context.Background()
	_, err := s.Get(ctx, "ghost")
	require.ErrorIs(t, err, scfws.ErrNotFound)
	require.ErrorIs(t, s.Remove(ctx, "ghost"), scfws.ErrNotFound)
	require.ErrorIs(t, s.Touch(ctx, "ghost"), scfws.ErrNotFound)
	require.ErrorIs(t, s.Join(ctx, "ghost", "r"), scfws.ErrNotFound)
	require.ErrorIs(t, s.Leave(ctx, "ghost", "r"), scfws.ErrNotFound)
	_, err = s.Rooms(ctx, "ghost")
	require.ErrorIs(t, err, scfws.ErrNotFound)
	assertSame(t, nil, must(s.Members(ctx, "r")), "a failed join leaves no member")
}

// testExpiry runs on a store whose TTL is 400 ms.
func testExpiry(t *testing.T, s scfws.Store) {
	ctx := context.Background()
	for _, id := range []string{"idle", "active"} {
		require.NoError(t, s.Add(ctx, scfws.Conn{ID: id, UserID: "u"}))
		require.NoError(t, s.Join(ctx, id, "room"))
	}
	deadline := time.Now().Add(1200 * time.Millisecond)
	for time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		require.NoError(t, s.Touch(ctx, "active"))
	}
	_, err := s.Get(ctx, "idle")
	require.ErrorIs(t, err, scfws.ErrNotFound, "an untouched connection expires")
	_, err = s.Get(ctx, "active")
	require.NoError(t, err, "a touched connection lives on")
	assertSame(t, []string{"active"}, must(s.Members(ctx, "room")))
	assertSame(t, []string{"active"}, must(s.UserConns(ctx, "u")))
	require.ErrorIs(t, s.Touch(ctx, "idle"), scfws.ErrNotFound)

	time.Sleep(600 * time.Millisecond)
	assertSame(t, nil, must(s.Members(ctx, "room")))
	assertSame(t, nil, must(s.UserConns(ctx, "u")))
}

// testConcurrency: goroutines add, join, leave and remove their own
// connections in shared rooms at once; afterwards each room lists exactly
// the connections whose last operation left them in it.
func testConcurrency(t *testing.T, s scfws.Store) {
	ctx := context.Background()
	const workers, perWorker = 8, 25
	rooms := []string{"r0", "r1", "r2"}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		want   = map[string][]string{}
		errs   []error
		record = func(err error) {
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}
	)
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				id := fmt.Sprintf("w%d+c%d/=", w, i)
				record(s.Add(ctx, scfws.Conn{ID: id, UserID: fmt.Sprint("user", w)}))
				for _, r := range rooms {
					record(s.Join(ctx, id, r))
				}
				switch i % 3 {
				case 0: // stays everywhere
					mu.Lock()
					for _, r := range rooms {
						want[r] = append(want[r], id)
					}
					mu.Unlock()
				case 1: // leaves r1
					record(s.Leave(ctx, id, "r1"))
					mu.Lock()
					want["r0"] = append(want["r0"], id)
					want["r2"] = append(want["r2"], id)
					mu.Unlock()
				case 2: // removed
					record(s.Remove(ctx, id))
				}
			}
		})
	}
	wg.Wait()
	require.Empty(t, errs)
	for _, r := range rooms {
		assertSame(t, want[r], must(s.Members(ctx, r)), r)
	}
	for w := range workers {
		conns := must(s.UserConns(ctx, fmt.Sprint("user", w)))
		assert.Len(t, conns, perWorker-perWorker/3, "user%d", w)
	}
}

// testJoinRacesRemove: a connection removed while it is joining rooms
// (cleanup racing a message) is not left behind as a phantom member.
func testJoinRacesRemove(t *testing.T, s scfws.Store) {
	ctx := context.Background()
	const conns, joiners, rooms = 100, 4, 4
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for i := range conns {
		id := fmt.Sprintf("race%d+/=", i)
		require.NoError(t, s.Add(ctx, scfws.Conn{ID: id, UserID: "racer"}))
		for j := range joiners {
			wg.Go(func() {
				for k := 0; ; k++ {
					err := s.Join(ctx, id, fmt.Sprint("room", (j+k)%rooms))
					if errors.Is(err, scfws.ErrNotFound) {
						return // removed: joining must now fail
					}
					if err != nil {
						mu.Lock()
						errs = append(errs, err)
						mu.Unlock()
						return
					}
				}
			})
		}
		wg.Go(func() {
			time.Sleep(time.Duration(i%5) * time.Millisecond)
			if err := s.Remove(ctx, id); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	require.Empty(t, errs)
	for j := range rooms {
		assertSame(t, nil, must(s.Members(ctx, fmt.Sprint("room", j))), "room%d", j)
	}
	assertSame(t, nil, must(s.UserConns(ctx, "racer")))
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

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
