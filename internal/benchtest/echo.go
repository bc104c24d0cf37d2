package benchtest

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// PlainEcho is the baseline WebSocket server of the echo benchmarks: a
// coder/websocket echo with no functions and no push.
func PlainEcho() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, data, err := c.Read(r.Context())
			if err != nil {
				return
			}
			if err := c.Write(r.Context(), typ, data); err != nil {
				return
			}
		}
	})
}

// Dial dials n clients to url, 32 at a time; they are closed when b ends.
func Dial(b *testing.B, url string, n int) []*websocket.Conn { return DialWith(b, url, n, nil) }

// DialWith is Dial with opts.
func DialWith(b *testing.B, url string, n int, opts *websocket.DialOptions) []*websocket.Conn {
	conns := make([]*websocket.Conn, n)
	sem := make(chan struct{}, 32)
	var wg sync.WaitGroup
	for i := range conns {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			c, _, err := websocket.Dial(ctx, url, opts)
			if err != nil {
				b.Error(err)
				return
			}
			conns[i] = c
		})
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
	b.Cleanup(func() {
		for _, c := range conns {
			_ = c.CloseNow()
		}
	})
	return conns
}

// EchoRound returns a round in which every client sends one chat-sized
// message and reads its echo, all at once; each round trip is appended to
// lat.
func EchoRound(b *testing.B, conns []*websocket.Conn, lat *[]time.Duration) func() {
	msg := []byte(`{"type":"say","text":"a chat message of ordinary length"}`)
	var mu sync.Mutex
	return func() {
		var wg sync.WaitGroup
		for _, c := range conns {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				defer cancel()
				t0 := time.Now()
				if err := c.Write(ctx, websocket.MessageText, msg); err != nil {
					b.Error(err)
					return
				}
				if _, _, err := c.Read(ctx); err != nil {
					b.Error(err)
					return
				}
				d := time.Since(t0)
				mu.Lock()
				*lat = append(*lat, d)
				mu.Unlock()
			})
		}
		wg.Wait()
	}
}

// P99 returns the 99th percentile of lat (sorting it).
func P99(lat []time.Duration) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	slices.Sort(lat)
	return lat[len(lat)*99/100]
}
