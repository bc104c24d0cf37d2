package redisstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/scfws/scfws-go/internal/benchtest"
	"github.com/scfws/scfws-go/scfws"
	"github.com/scfws/scfws-go/scfws/hub"
	"github.com/scfws/scfws-go/scfws/scfwstest"
)

// BenchmarkHubSendRoom sends to a room of 1,000 members through the fake
// gateway, on the memory store and on Redis. Each iteration also makes the
// baseline, a plain Broadcast to the same IDs, so both see the same
// machine noise: x-broadcast is the Hub's time over the baseline's (the
// target is at most 1.10), store-% the share of the Hub's time spent in the
// store (listing the room).
func BenchmarkHubSendRoom(b *testing.B) {
	const members = 1000
	g := scfwstest.NewGateway()
	defer g.Close()
	push, err := scfws.NewPushClient(g.URL, nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	ids := make([]string, members)
	for i := range ids {
		ids[i] = fmt.Sprintf("%022d==", i)
	}
	msg := scfws.Text(`{"from":"ann","text":"hello room"}`)
	redis, _ := newStore(b, time.Hour)
	for _, tc := range []struct {
		name  string
		store hub.Store
	}{{"memory", hub.NewMemoryStore()}, {"redis", redis}} {
		for _, id := range ids {
			if err := tc.store.Add(ctx, hub.Conn{ID: id}); err != nil {
				b.Fatal(err)
			}
			if err := tc.store.Join(ctx, id, "bench"); err != nil {
				b.Fatal(err)
			}
		}
		timed := &timedStore{Store: tc.store}
		h := hub.New(timed, push, nil)
		b.Run(tc.name, func(b *testing.B) {
			timed.spent = 0
			b.ReportAllocs()
			hubTime, baseTime := benchtest.Interleave(b, func() {
				if err := h.SendRoom(ctx, "bench", msg); err != nil {
					b.Fatal(err)
				}
			}, func() {
				if err := push.Broadcast(ctx, ids, msg); err != nil {
					b.Fatal(err)
				}
			}, g.Reset)
			b.ReportMetric(float64(hubTime)/float64(baseTime), "x-broadcast")
			b.ReportMetric(100*float64(timed.spent)/float64(hubTime), "store-%")
		})
	}
}

// timedStore measures the time spent listing members.
type timedStore struct {
	hub.Store
	spent time.Duration
}

func (s *timedStore) Members(ctx context.Context, room string) ([]string, error) {
	start := time.Now()
	defer func() { s.spent += time.Since(start) }()
	return s.Store.Members(ctx, room)
}
