package scfws

import (
	"context"
	"sync"
	"sync/atomic"
)

// Broadcast pushes text to every connection in connectionIDs, one request
// per distinct ID, with at most PushOptions.Concurrency in flight. It returns
// nil when all succeeded, else a *BroadcastError listing every failed ID. Once
// ctx ends it starts no further push; the IDs it did not reach are failed
// with the ctx's error.
func (c *PushClient) Broadcast(ctx context.Context, connectionIDs []string, text string) error {
	return c.BroadcastMessage(ctx, connectionIDs, TextMessage(text))
}

// BroadcastMessage is [PushClient.Broadcast] for a prepared message of
// either type (see [TextMessage], [BinaryMessage], [JSONMessage]).
func (c *PushClient) BroadcastMessage(ctx context.Context, connectionIDs []string, m Message) error {
	p, err := prepare(m)
	if err != nil {
		return err
	}
	return c.broadcast(ctx, unique(connectionIDs), p)
}

// broadcast pushes p to ids, which hold no repeats.
func (c *PushClient) broadcast(ctx context.Context, ids []string, p prepared) error {
	if len(ids) == 0 {
		return nil
	}
	var (
		next   atomic.Int64 // the index of the next ID to push
		mu     sync.Mutex
		failed map[string]error
		wg     sync.WaitGroup
	)
	fail := func(id string, err error) {
		mu.Lock()
		if failed == nil {
			failed = make(map[string]error)
		}
		failed[id] = err
		mu.Unlock()
	}
	for range min(c.opts.Concurrency, len(ids)) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= len(ids) {
					return
				}
				if err := c.push(ctx, ids[i], p); err != nil {
					fail(ids[i], err)
				}
			}
		})
	}
	wg.Wait()
	// IDs no worker took: ctx ended first
	for _, id := range ids[min(int(next.Load()), len(ids)):] {
		fail(id, &PushError{ConnectionID: id, Err: timeoutOr(ctx.Err())})
	}
	if len(failed) == 0 {
		return nil
	}
	return &BroadcastError{Failed: failed, Sent: len(ids) - len(failed)}
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
