package hub

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned by a [Store] for a connection it does not hold
// (never added, removed, or expired).
var ErrNotFound = errors.New("hub: connection not found")

// ErrEmptyRoom is returned by a [Store] asked to join a room named "".
var ErrEmptyRoom = errors.New("hub: empty room name")

// DefaultTTL is how long a store keeps a connection that is neither touched
// nor removed, when its options say 0. The cleanup function is best effort,
// so every stored connection expires.
const DefaultTTL = 2 * time.Hour

// Conn is a stored connection.
type Conn struct {
	// ID is the gateway's secConnectionID: opaque, standard base64.
	ID string
	// UserID is your user's ID; "" for an anonymous connection.
	UserID string
	// Subprotocol is the negotiated subprotocol, "" for none.
	Subprotocol string
	// SourceIP is the client's address from the register event.
	SourceIP string
	// ConnectedAt is when the connection registered.
	ConnectedAt time.Time
	// LastActive is when the store last added or touched the connection
	// (Touch on activity); set by the store, ignored by Add.
	LastActive time.Time
	// Meta is small application data (a nickname, a tenant).
	Meta map[string]string
	// Rooms are the rooms the connection joined, in no particular order;
	// filled by Get, ignored by Add.
	Rooms []string
}

// Store keeps connections, the rooms they joined and the users they belong
// to, shared by every instance of every function (SCF instances share no
// memory). Connection IDs are opaque strings that contain '+', '/' and '=';
// room and user names are any non-empty strings. Implementations are safe
// for concurrent use, and every connection expires TTL after it was added or
// last touched. Run hubtest.TestStore against an implementation.
type Store interface {
	// Add stores c (replacing a connection with the same ID, and dropping
	// its rooms) and starts its TTL. An empty c.ID is scfws.ErrEmptyConnectionID.
	Add(ctx context.Context, c Conn) error
	// Remove deletes the connection, its room memberships and its place in
	// its user's connections. ErrNotFound when it is not stored.
	Remove(ctx context.Context, id string) error
	// Get returns the connection, with its LastActive and Rooms, in one
	// round trip to the backend, or ErrNotFound.
	Get(ctx context.Context, id string) (Conn, error)
	// Touch restarts the connection's TTL and sets its LastActive (on
	// activity). ErrNotFound when it is not stored.
	Touch(ctx context.Context, id string) error
	// Join adds the connection to room; joining twice is no error. An
	// empty room name is ErrEmptyRoom; ErrNotFound when the connection is
	// not stored.
	Join(ctx context.Context, id, room string) error
	// Leave removes the connection from room; leaving a room it is not in
	// is no error. ErrNotFound when the connection is not stored.
	Leave(ctx context.Context, id, room string) error
	// Members returns the IDs of the live connections in room, in no
	// particular order; an unknown room has none.
	Members(ctx context.Context, room string) ([]string, error)
	// Rooms returns the rooms the connection is in, or ErrNotFound: what
	// Get's Rooms holds (kept for the v1 contract; both stores answer it
	// with Get).
	Rooms(ctx context.Context, id string) ([]string, error)
	// UserConns returns the IDs of the user's live connections.
	UserConns(ctx context.Context, userID string) ([]string, error)
}
