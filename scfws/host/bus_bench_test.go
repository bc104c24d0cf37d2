package host

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scfws/scfws-go/internal/benchtest"
	"github.com/scfws/scfws-go/internal/redistest"
)

// BenchmarkRoomFanout: one room message to 10,000 members held by 100
// instances, over the bus on redis-server: the time until every instance
// has read its frame, against the floor of one PUBLISH per instance (the
// same bytes, pipelined, to 100 subscribers), interleaved. Each instance
// and subscriber has a Redis client of its own, as processes would.
// Reported: x-floor (our time / the floor's), ms per message, frames
// (XADD) per message, and every Redis command per message, those run by
// scripts and the readers included, for both.
func BenchmarkRoomFanout(b *testing.B) {
	const instances, perInstance = 100, 100
	rs, err := redistest.Start(os.Stderr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(rs.Close)
	ctx := context.Background()
	client := func() *redis.Client {
		c := redis.NewClient(&redis.Options{Addr: rs.Addr})
		b.Cleanup(func() { _ = c.Close() })
		return c
	}
	got := make(chan struct{}, instances)
	cfg := func() busConfig {
		return busConfig{prefix: "bench:", self: newInstanceID(), lease: time.Minute, maxBacklog: defaultMaxBusBacklog,
			deliver: func(frame) { got <- struct{}{} }, fence: func() {}}
	}
	start := func(c busConfig) *bus {
		bus, err := startBus(ctx, client(), c)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = bus.close(ctx) })
		return bus
	}
	pub := start(cfg())
	groups := map[string][]string{}
	for range instances {
		c := cfg()
		start(c)
		for range perInstance {
			var r [12]byte
			_, _ = rand.Read(r[:])
			groups[c.self] = append(groups[c.self], c.self+base64.StdEncoding.EncodeToString(r[:]))
		}
	}
	msg := []byte(`{"type":"message","room":"lobby","from":"ann","text":"a chat message of ordinary length"}`)

	floorGot := make(chan struct{}, instances)
	var channels []string
	var payloads [][]byte
	for inst, ids := range groups {
		sub := client().Subscribe(ctx, "floor:"+inst)
		if _, err := sub.Receive(ctx); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = sub.Close() })
		go func() {
			for range sub.Channel() {
				floorGot <- struct{}{}
			}
		}()
		channels = append(channels, "floor:"+inst)
		f := frame{sender: pub.self, kind: kindText, ids: ids, data: msg}
		payloads = append(payloads, appendFrame(nil, f))
	}
	floorClient := client()

	wait := func(ch chan struct{}) {
		for range instances {
			select {
			case <-ch:
			case <-time.After(10 * time.Second):
				b.Fatal("a frame did not arrive")
			}
		}
	}
	ours := func() {
		pub.send(ctx, groups, kindText, msg, func(_ []string, r busResult, err error) {
			if err != nil || r != busDelivered {
				b.Fatalf("push: %v %v", r, err)
			}
		})
		wait(got)
	}
	floor := func() {
		_, err := floorClient.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, ch := range channels {
				p.Publish(ctx, ch, payloads[i])
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		wait(floorGot)
	}
	ours() // scripts loaded, streams made
	floor()

	// commands per message, each side alone
	count := func(f func()) (frames, calls, cpu float64) {
		const n = 50
		before, cpu0 := calls0(b, floorClient), redisCPU(b, floorClient)
		for range n {
			f()
		}
		cpu1, after := redisCPU(b, floorClient), calls0(b, floorClient)
		return float64(after["xadd"]-before["xadd"]) / n, float64(after[""]-before[""]-2) / n, // less INFO itself
			float64((cpu1 - cpu0).Microseconds()) / n
	}
	frames, calls, cpu := count(ours)
	_, floorCalls, floorCPU := count(floor)

	t, base := benchtest.Interleave(b, ours, floor, nil)
	b.ReportMetric(float64(t)/float64(base), "x-floor")
	b.ReportMetric(float64(t.Milliseconds())/float64(b.N), "ms/msg")
	b.ReportMetric(float64(base.Milliseconds())/float64(b.N), "floor-ms/msg")
	b.ReportMetric(frames, "frames/msg")
	b.ReportMetric(calls, "redis-cmds/msg")
	b.ReportMetric(floorCalls, "floor-cmds/msg")
	b.ReportMetric(cpu/instances, "redis-us/frame")
	b.ReportMetric(floorCPU/instances, "floor-redis-us/frame")
}

// redisCPU reads the server's CPU time (user and system) from INFO cpu.
func redisCPU(b *testing.B, c *redis.Client) time.Duration {
	info, err := c.Info(context.Background(), "cpu").Result()
	if err != nil {
		b.Fatal(err)
	}
	var total float64
	for _, line := range strings.Split(info, "\n") {
		for _, k := range []string{"used_cpu_user:", "used_cpu_sys:"} {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), k); ok {
				f, _ := strconv.ParseFloat(v, 64)
				total += f
			}
		}
	}
	return time.Duration(total * float64(time.Second))
}

// calls0 reads INFO commandstats (redistest.CommandStats).
func calls0(b *testing.B, c *redis.Client) map[string]int64 {
	stats, err := redistest.CommandStats(context.Background(), c)
	if err != nil {
		b.Fatal(err)
	}
	return stats
}
