// Package scfrpc is a client of the SCF Go runtime protocol: the net/rpc
// (gob) service "Function" that scf-go-lib's cloudfunction.StartHandler
// serves on the port named by _LAMBDA_SERVER_PORT, with the methods Ping and
// Invoke. It runs SCF Go binaries the way the cloud does, for tests and the
// local emulator.
package scfrpc
