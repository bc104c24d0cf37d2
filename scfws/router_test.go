package scfws

import (
	"bytes"
	"context"
	"testing"
)

// invoker is scf-go-lib's cloudfunction.Handler.
type invoker interface {
	Invoke(context.Context, []byte) ([]byte, error)
}

// assertRouterAgrees: the Router answers payload exactly as the adapter of
// its action does (the register adapter when no action can be read): the
// same bytes, or an invocation error with the same text.
func assertRouterAgrees(t testing.TB, router, reg, tx, cl invoker, payload []byte) {
	t.Helper()
	adapter := reg
	if _, role, err := decode(payload); err == nil {
		switch role {
		case ActionDataSend:
			adapter = tx
		case ActionClosing:
			adapter = cl
		}
	}
	want, wantErr := adapter.Invoke(context.Background(), payload)
	got, gotErr := router.Invoke(context.Background(), payload)
	if !bytes.Equal(want, got) || (wantErr == nil) != (gotErr == nil) ||
		(wantErr != nil && wantErr.Error() != gotErr.Error()) {
		t.Fatalf("payload %q: the adapter answered %q, %v; the Router %q, %v", payload, want, wantErr, got, gotErr)
	}
}

// TestRouterAnswersAsAdapters runs every fixture and every payload of this
// file's tables through the Router and the adapter of its action, with the
// same funcs: the answers are identical (one decode path, one answer builder).
func TestRouterAnswersAsAdapters(t *testing.T) {
	var payloads [][]byte
	for _, raw := range fixtures(t) {
		payloads = append(payloads, raw)
	}
	for _, tc := range registerCases {
		payloads = append(payloads, []byte(tc.payload))
	}
	for _, tc := range streamCases {
		payloads = append(payloads, []byte(tc.payload))
	}
	opts := &RegisterOptions{Subprotocols: []string{"chat", "superchat"}, Extensions: []string{"permessage-deflate"}}
	funcs := map[string]struct {
		reg RegisterFunc
		tx  TransmissionFunc
		cl  CleanupFunc
	}{
		"nil funcs": {},
		"accepting funcs": {func(context.Context, *RegisterEvent) error { return nil },
			func(context.Context, *TransmissionEvent) error { return nil },
			func(context.Context, *CleanupEvent) error { return nil }},
		"failing funcs": {func(context.Context, *RegisterEvent) error { return Reject(4000, "no") },
			func(context.Context, *TransmissionEvent) error { return errSecret },
			func(context.Context, *CleanupEvent) error { panic(errBoom) }},
	}
	for name, f := range funcs {
		t.Run(name, func(t *testing.T) {
			router := &Router{Register: f.reg, Transmission: f.tx, Cleanup: f.cl, RegisterOptions: opts}
			reg, tx, cl := NewRegisterHandler(f.reg, opts), NewTransmissionHandler(f.tx), NewCleanupHandler(f.cl)
			for _, p := range payloads {
				assertRouterAgrees(t, router, reg, tx, cl, p)
			}
		})
	}
}
