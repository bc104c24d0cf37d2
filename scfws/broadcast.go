package scfws

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/scfws/scfws-go/internal/fanout"
)

// Broadcast pushes m to every connection in connectionIDs, one request per
// distinct ID, with at most PushOptions.Concurrency in flight; each push is
// as [PushClient.Send]. On package host the whole broadcast is handed over
// at once: one Redis command per instance that holds some of the
// connections, the message's bytes once in each. It returns nil when all succeeded, else a
// *BroadcastError listing every failed ID. Once ctx ends it starts no
// further push; the IDs it did not reach fail with ctx's error. An invalid
// Message is an error before any request.
func (c *PushClient) Broadcast(ctx context.Context, connectionIDs []string, m Message) error {
	enc, err := encodePush(ActionDataSend, m)
	if err != nil {
		return err
	}
	ids := unique(connectionIDs)
	if len(ids) == 0 {
		return nil
	}
	var (
		mu     sync.Mutex
		failed map[string]error
	)
	fail := func(id string, err error) {
		mu.Lock()
		if failed == nil {
			failed = make(map[string]error)
		}
		failed[id] = err
		mu.Unlock()
	}
	if c.direct != nil {
		c.deliverMany(ctx, ids, enc, fail)
	} else {
		c.pushEach(ctx, ids, enc, fail)
	}
	if len(failed) == 0 {
		return nil
	}
	return &BroadcastError{Failed: failed, Sent: len(ids) - len(failed)}
}

// pushEach sends one request per ID, at most PushOptions.Concurrency at
// once.
func (c *PushClient) pushEach(ctx context.Context, ids []string, enc encodedPush, fail func(string, error)) {
	for _, id := range fanout.Each(ctx, c.opts.Concurrency, ids, func(id string) {
		if err := c.push(ctx, id, enc); err != nil {
			fail(id, err)
		}
	}) { // ctx ended before these were tried
		fail(id, &PushError{ConnectionID: id, Err: transportError(ctx, id, ctx.Err()).Err})
	}
}

// deliverMany hands the whole broadcast to the in-process gateway at once
// (package host: one Redis command per instance, whatever the number of
// connections), within PushOptions.Timeout; each answer is classified as
// a push's.
func (c *PushClient) deliverMany(ctx context.Context, ids []string, enc encodedPush, fail func(string, error)) {
	start := time.Now()
	ctx, cancel, pushURL, err := c.begin(ctx)
	defer cancel()
	if i := slices.Index(ids, ""); i >= 0 { // as Send: an error before any push
		fail("", &PushError{Err: ErrEmptyConnectionID})
		ids = slices.Delete(slices.Clone(ids), i, i+1)
	}
	if err != nil {
		for _, id := range ids {
			fail(id, &PushError{ConnectionID: id, Err: err})
		}
		return
	}
	c.direct.DeliverPush(ctx, pushURL, ids, enc.Closing, string(enc.msg.DataType), enc.msg.Data,
		func(id string, status int, answer []byte, err error) {
			var perr *PushError
			if err != nil {
				perr = transportError(ctx, id, err)
			} else {
				perr = classify(id, status, answer)
			}
			c.log(ctx, id, enc, status, perr, 1, time.Since(start))
			if perr != nil {
				fail(id, perr)
			}
		})
}

// unique returns ids without repeats, in first-seen order.
func unique(ids []string) []string {
	if len(ids) < 2 {
		return ids
	}
	seen := make(map[string]struct{}, len(ids))
	out := ids[:0:0]
	for _, id := range ids {
		if _, dup := seen[id]; dup {
			continue
		}
		seen[id] = struct{}{}
		out = append(out, id)
	}
	return out
}

// BroadcastError is the error of a send to many connections
// ([PushClient.Broadcast], and the sends of package hub) when some failed.
type BroadcastError struct {
	// Failed maps each failed connection ID to its error (a *PushError);
	// IDs never attempted because ctx ended are in it too.
	Failed map[string]error
	// Sent is how many distinct connections the push reached.
	Sent int
	// Pruned lists the connections a hub removed from its store: after a
	// send, those whose push was refused (the gateway dropped them); after
	// Hub.CloseUser or CloseRoom, those closed or already gone. Nil from a
	// PushClient.
	Pruned []string
}

// Error counts the failures.
func (e *BroadcastError) Error() string {
	msg := fmt.Sprintf("scfws: broadcast: %d of %d pushes failed", len(e.Failed), len(e.Failed)+e.Sent)
	if len(e.Pruned) > 0 {
		msg += fmt.Sprintf(", %d connections pruned", len(e.Pruned))
	}
	return msg
}

// Unwrap returns the failed pushes' errors, so that errors.Is(err,
// ErrPushRefused) tells whether any push was refused.
func (e *BroadcastError) Unwrap() []error {
	out := make([]error, 0, len(e.Failed))
	for _, err := range e.Failed {
		out = append(out, err)
	}
	return out
}
