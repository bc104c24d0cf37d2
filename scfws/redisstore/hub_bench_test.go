package redisstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/scfws/scfws-go/scfws"
	"github.com/scfws/scfws-go/scfws/scfwstest"
)

// BenchmarkHubSendRoom sends to a room of 1,000 members through the fake
// gateway: "broadcast" is the baseline (a plain Broadcast to the same IDs),
// "memory" and "redis" go through a Hub on that store. store-% is the share
// of the time spent in the store (listing the room).
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
	msg := scfws.TextMessage(`{"from":"ann","text":"hello room"}`)

	b.Run("broadcast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := push.BroadcastMessage(ctx, ids, msg); err != nil {
				b.Fatal(err)
			}
			g.Reset()
		}
	})
	redis, _ := newStore(b, time.Hour)
	for name, store := range map[string]scfws.Store{"memory": scfws.NewMemoryStore(), "redis": redis} {
		for _, id := range ids {
			if err := store.Add(ctx, scfws.Conn{ID: id}); err != nil {
				b.Fatal(err)
			}
			if err := store.Join(ctx, id, "bench"); err != nil {
				b.Fatal(err)
			}
		}
		timed := &timedStore{Store: store}
		hub := scfws.NewHub(timed, push, nil)
		b.Run(name, func(b *testing.B) {
			timed.spent = 0
			b.ReportAllocs()
			start := time.Now()
			for b.Loop() {
				d, err := hub.SendRoom(ctx, "bench", msg)
				if err != nil || d.Delivered != members {
					b.Fatal(err, d)
				}
				g.Reset()
			}
			b.ReportMetric(100*float64(timed.spent)/float64(time.Since(start)), "store-%")
		})
	}
}

// timedStore measures the time spent listing members.
type timedStore struct {
	scfws.Store
	spent time.Duration
}

func (s *timedStore) Members(ctx context.Context, room string) ([]string, error) {
	start := time.Now()
	defer func() { s.spent += time.Since(start) }()
	return s.Store.Members(ctx, room)
}
