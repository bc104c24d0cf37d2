package scfws

import "github.com/tencentyun/scf-go-lib/cloudfunction"

// Functions are an app's three functions, as package host and the
// emulator serve them: the adapters of this package, a *Router (the same
// one may serve all three), or any scf-go-lib cloudfunction.Handler — the
// same values that cloudfunction.StartHandler takes behind the legacy
// gateway. A nil Register accepts every connection with no subprotocol and
// no extension; a nil Transmission drops messages; a nil Cleanup is
// skipped.
type Functions struct {
	// Register is invoked before a handshake is accepted.
	Register cloudfunction.Handler
	// Transmission is invoked for each client message, in order.
	Transmission cloudfunction.Handler
	// Cleanup is invoked once when a connection ends.
	Cleanup cloudfunction.Handler
}
