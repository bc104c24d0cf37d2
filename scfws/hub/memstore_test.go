package hub_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scfws/scfws-go/scfws/hub"
	"github.com/scfws/scfws-go/scfws/hub/hubtest"
)

func TestMemoryStore(t *testing.T) {
	hubtest.TestStore(t, func(t *testing.T, ttl time.Duration) hub.Store {
		s := hub.NewMemoryStore()
		s.TTL = ttl
		return s
	})
}

// TestMemoryStoreClock: expiry follows the store's clock exactly.
func TestMemoryStoreClock(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	s := hub.NewMemoryStore()
	s.TTL, s.Now = time.Minute, func() time.Time { return now }
	ctx := context.Background()
	require.NoError(t, s.Add(ctx, hub.Conn{ID: "a", UserID: "u"}))
	require.NoError(t, s.Join(ctx, "a", "r"))
	now = now.Add(59 * time.Second)
	require.NoError(t, s.Touch(ctx, "a"))
	now = now.Add(59 * time.Second)
	members, err := s.Members(ctx, "r")
	require.NoError(t, err)
	assert.Equal(t, []string{"a"}, members, "touched 59 s ago: alive")
	now = now.Add(time.Second)
	members, err = s.Members(ctx, "r")
	require.NoError(t, err)
	assert.Empty(t, members, "a TTL after the touch: gone")
	_, err = s.Get(ctx, "a")
	require.ErrorIs(t, err, hub.ErrNotFound)
	conns, err := s.UserConns(ctx, "u")
	require.NoError(t, err)
	assert.Empty(t, conns)
}
