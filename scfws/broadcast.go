package scfws

import (
	"context"
	"sync"
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
	workers := min(c.opts.Concurrency, len(ids))
	jobs := make(chan string)
	var (
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
	for range workers {
		wg.Go(func() {
			for id := range jobs {
				if err := c.push(ctx, id, p); err != nil {
					fail(id, err)
				}
			}
		})
	}
	skip := func(rest []string) {
		for _, id := range rest {
			fail(id, &PushError{ConnectionID: id, Err: timeoutOr(ctx.Err())})
		}
	}
schedule:
	for i, id := range ids {
		if ctx.Err() != nil { // a ready worker must not win over an ended ctx
			skip(ids[i:])
			break
		}
		select {
		case jobs <- id:
		case <-ctx.Done():
			skip(ids[i:])
			break schedule
		}
	}
	close(jobs)
	wg.Wait()
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
