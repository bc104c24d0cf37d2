// Command scfws runs Tencent Cloud WebSocket functions on your machine and
// packages them for upload.
//
//	scfws local -register ./bin/register -transmission ./bin/transmission -cleanup ./bin/cleanup
//	scfws local -router ./bin/app [-addr 127.0.0.1:8080] [-path /release/websocket] [-idle 60s]
//	scfws package ./examples/chatroom -o chatroom.zip   (flags may come before or after the package)
//
// local starts the emulated API gateway (package emulator) with SCF Go
// binaries — any SCF Go function, not only one built with scfws — and prints
// the ws:// URL to connect to and the push URL the functions get in
// SCFWS_PUSH_URL. The binaries inherit scfws local's environment, so
// configuration such as REDIS_ADDR is passed as usual:
//
//	REDIS_ADDR=127.0.0.1:6379 scfws local -router ./bin/chatroom
//
// It is as strict as the gateway's documents allow (see package emulator):
// cleanup only for closes the client starts, the push URL only in each
// invocation's environment, a client dropped after a failed push, an accepted
// extension answered but not applied. -cleanup-on-server-close, -env-at-start,
// -keep-on-failed-push and -apply-extensions relax each.
//
// It runs until interrupted, then closes every connection.
//
// package cross-compiles a main package for SCF (GOOS=linux GOARCH=amd64
// CGO_ENABLED=0, -trimpath -ldflags="-s -w"), names the binary "main" (the
// Go runtime's default handler name; see -name) and zips it, ready to upload.
package main
