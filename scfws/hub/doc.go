// Package hub keeps connection state for scfws functions and fans messages
// out to it: SCF instances share no memory, and the three functions never
// do, so state lives in a [Store] that every instance reaches.
//
// # Stores
//
// A [Store] holds connections ([Conn]), the rooms they joined and the users
// they belong to. Every connection expires TTL after it was added or last
// touched ([DefaultTTL] unless configured), because the cleanup function is
// best effort. [NewMemoryStore] is in-process, for tests and the emulator;
// package redisstore is the store for the cloud; package hubtest is the
// conformance suite every Store passes.
//
// # Hub
//
// A [Hub] joins a Store and a scfws.PushClient: [Hub.Register] and
// [Hub.Cleanup] do the bookkeeping of the register and cleanup events,
// [Hub.Send], [Hub.SendRoom] and [Hub.SendUser] push and prune every
// connection the gateway refused, [Hub.Disconnect], [Hub.CloseUser] and
// [Hub.CloseRoom] close clients and forget them. Sends to many report
// failures as a *scfws.BroadcastError.
//
// [Hub.OnMessage] and [Hub.OnClose] wrap the transmission and cleanup
// functions so that the event's stored connection (user, meta, subprotocol,
// rooms) is in ctx ([ConnFrom]), touched for you, and removed after cleanup.
//
// A connection's details — connected at, last active (kept by Touch), user,
// meta, rooms — are [Store.Get]'s; ErrNotFound means it is gone. There is no send
// to every connection of the app: a store would have to list every key (a
// SCAN over every Redis Cluster node) for each send; have every connection
// join a room such as "all" at register time instead.
//
// # Errors
//
// Stores return [ErrNotFound] for a connection they do not hold,
// [ErrEmptyRoom] for a room named "", and scfws.ErrEmptyConnectionID for a
// connection without an ID; other errors are the backend's, wrapped.
package hub
