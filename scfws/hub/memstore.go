package hub

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/scfws/scfws-go/scfws"
)

// MemoryStore is a [Store] in this process's memory: for tests, the
// emulator, and a host that runs as one instance (package host without
// Redis, on one server, or one Web function instance with all its
// connections). It is NOT shared between processes: as soon as more than
// one instance may run (a Web function past its connections per instance,
// the legacy gateway's three functions), use a shared store such as
// redisstore. Make it with [NewMemoryStore]; it is safe for concurrent use.
type MemoryStore struct {
	// TTL is how long an untouched connection lives; 0 means DefaultTTL.
	// Set it before first use.
	TTL time.Duration
	// Now is the clock; nil means time.Now. Set it before first use (tests
	// move it to expire connections without sleeping).
	Now func() time.Time

	mu    sync.Mutex
	conns map[string]*memConn
	rooms map[string]map[string]struct{}
	users map[string]map[string]struct{}
}

type memConn struct {
	c       Conn
	expires time.Time
	rooms   map[string]struct{}
}

// NewMemoryStore returns an empty MemoryStore with the default TTL.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{
		conns: map[string]*memConn{},
		rooms: map[string]map[string]struct{}{},
		users: map[string]map[string]struct{}{},
	}
}

func (s *MemoryStore) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *MemoryStore) ttl() time.Duration {
	if s.TTL > 0 {
		return s.TTL
	}
	return DefaultTTL
}

// live returns the connection when stored and not expired at now, dropping
// it when expired; s.mu is held.
func (s *MemoryStore) live(id string, now time.Time) *memConn {
	mc := s.conns[id]
	if mc == nil {
		return nil
	}
	if !now.Before(mc.expires) {
		s.drop(id, mc)
		return nil
	}
	return mc
}

// drop removes a connection and its memberships; s.mu is held.
func (s *MemoryStore) drop(id string, mc *memConn) {
	for room := range mc.rooms {
		delete(s.rooms[room], id)
		if len(s.rooms[room]) == 0 {
			delete(s.rooms, room)
		}
	}
	if u := mc.c.UserID; u != "" {
		delete(s.users[u], id)
		if len(s.users[u]) == 0 {
			delete(s.users, u)
		}
	}
	delete(s.conns, id)
}

// Add implements [Store].
func (s *MemoryStore) Add(_ context.Context, c Conn) error {
	if c.ID == "" {
		return scfws.ErrEmptyConnectionID
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old := s.conns[c.ID]; old != nil {
		s.drop(c.ID, old)
	}
	c.Meta = maps.Clone(c.Meta)
	now := s.now()
	c.LastActive, c.Rooms = now, nil
	s.conns[c.ID] = &memConn{c: c, expires: now.Add(s.ttl()), rooms: map[string]struct{}{}}
	if c.UserID != "" {
		addTo(s.users, c.UserID, c.ID)
	}
	return nil
}

func addTo(sets map[string]map[string]struct{}, key, id string) {
	set := sets[key]
	if set == nil {
		set = map[string]struct{}{}
		sets[key] = set
	}
	set[id] = struct{}{}
}

// Remove implements [Store].
func (s *MemoryStore) Remove(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	mc := s.live(id, s.now())
	if mc == nil {
		return ErrNotFound
	}
	s.drop(id, mc)
	return nil
}

// Get implements [Store].
func (s *MemoryStore) Get(_ context.Context, id string) (Conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	mc := s.live(id, s.now())
	if mc == nil {
		return Conn{}, ErrNotFound
	}
	c := mc.c
	c.Meta = maps.Clone(c.Meta)
	c.Rooms = slices.Collect(maps.Keys(mc.rooms))
	return c, nil
}

// Touch implements [Store].
func (s *MemoryStore) Touch(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	mc := s.live(id, s.now())
	if mc == nil {
		return ErrNotFound
	}
	now := s.now()
	mc.c.LastActive, mc.expires = now, now.Add(s.ttl())
	return nil
}

// Join implements [Store].
func (s *MemoryStore) Join(_ context.Context, id, room string) error {
	if room == "" {
		return ErrEmptyRoom
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	mc := s.live(id, s.now())
	if mc == nil {
		return ErrNotFound
	}
	mc.rooms[room] = struct{}{}
	addTo(s.rooms, room, id)
	return nil
}

// Leave implements [Store].
func (s *MemoryStore) Leave(_ context.Context, id, room string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	mc := s.live(id, s.now())
	if mc == nil {
		return ErrNotFound
	}
	delete(mc.rooms, room)
	delete(s.rooms[room], id)
	if len(s.rooms[room]) == 0 {
		delete(s.rooms, room)
	}
	return nil
}

// Members implements [Store].
func (s *MemoryStore) Members(_ context.Context, room string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.liveIDs(s.rooms[room]), nil
}

// Rooms implements [Store]: Get's Rooms.
func (s *MemoryStore) Rooms(ctx context.Context, id string) ([]string, error) {
	c, err := s.Get(ctx, id)
	return c.Rooms, err
}

// UserConns implements [Store].
func (s *MemoryStore) UserConns(_ context.Context, userID string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.liveIDs(s.users[userID]), nil
}

// liveIDs lists the set's live connections, dropping expired ones; s.mu is held.
func (s *MemoryStore) liveIDs(set map[string]struct{}) []string {
	now := s.now()
	out := make([]string, 0, len(set))
	for _, id := range slices.Collect(maps.Keys(set)) {
		if s.live(id, now) != nil {
			out = append(out, id)
		}
	}
	return out
}
