// Command scfws deploys the functions of a Tencent Cloud WebSocket app as a
// Web function with a function URL, runs a local Tencent Cloud to try that,
// packages functions for upload, and runs legacy event functions behind an
// emulated API gateway.
//
//	scfws deploy [-plan] [-adopt] [-name NAME] [-region REGION] [flags] PACKAGE
//	scfws destroy [-name NAME] [-region REGION] [PACKAGE]
//	scfws fakecloud [-addr 127.0.0.1:9500] [-secret-id ID -secret-key KEY] [-v]
//	scfws package [-webfunc] [-o FILE.zip] [-name main] PACKAGE
//	scfws local (-router BIN | -register BIN -transmission BIN [-cleanup BIN]) [flags]
//
// Flags may come before or after the package; "scfws COMMAND -h" lists a
// command's flags.
//
// # From your own module
//
// Add the command as a tool of your module, then run it with go tool:
//
//	go get -tool github.com/scfws/scfws-go/scfws/cmd/scfws
//	go tool scfws deploy -region ap-guangzhou -env 'REDIS_URL=${REDIS_URL}' .
//
// # deploy and destroy
//
// deploy builds a main package for a Web function (as package -webfunc),
// then makes Tencent Cloud match it: the Web function with WebSocket on
// (created, or its code and configuration updated where they differ,
// waiting until it is Active), and its function URL; it prints the wss://
// and ws:// addresses the API gives. -plan only prints what would change.
// Configuration comes from flags or scfws.json; credentials from
// TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY (and
// TENCENTCLOUD_SESSION_TOKEN or TENCENTCLOUD_SECURITY_TOKEN), else
// ~/.tencentcloud/credentials, else tccli's profile. It only takes over a
// function scfws deployed (-adopt for another), and warns when no Redis is
// configured between the instances. destroy removes the URL and the
// function, only one scfws deployed, waiting out one still changing.
//
// # fakecloud
//
// fakecloud serves a local Tencent Cloud — the SCF API calls deploy and
// destroy make, checked as Tencent documents them (TC3 signatures, fields,
// the function's states), and function URLs that run what was deployed —
// and prints the deploy and destroy commands to use with it. It runs
// whatever is deployed to it, so it listens beyond loopback only with
// credentials other than its well-known defaults.
//
// # package
//
// package cross-compiles a main package for SCF (GOOS=linux GOARCH=amd64
// CGO_ENABLED=0, -trimpath -ldflags="-s -w"), names the binary "main" (the
// Go runtime's default handler name; see -name) and zips it, ready to
// upload. With -webfunc the zip also has the scf_bootstrap a Web function
// starts (bash, LF, mode 0755, starting the binary by its absolute path).
//
// # local
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
// -keep-on-failed-push and -apply-extensions relax each. It runs until
// interrupted, then closes every connection.
package main
