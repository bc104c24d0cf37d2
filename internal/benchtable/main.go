// Command benchtable reads `go test -bench` output from the benchmarks that
// scripts/bench runs and prints the README's performance table: each
// comparison's ratio, measured in one loop with its baseline, against its
// goal.
package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// row is one line of the table: metric of benchmark, against a goal (a
// row without one, met nil, reports a measure in unit).
type row struct {
	what, bench, metric, goal string
	met                       func(float64) bool
	unit                      string
}

func atMost(x float64) func(float64) bool  { return func(v float64) bool { return v <= x } }
func atLeast(x float64) func(float64) bool { return func(v float64) bool { return v >= x } }

var rows = []row{
	{"register `Invoke` (encoding/json, negotiation, answer), browser event (14 headers, query string), vs bare `encoding/json` of the same structs (time)", "BenchmarkRegister/vs-bare-json", "x-bare", "≤ 1.2", atMost(1.2), ""},
	{"transmission `Invoke` vs bare `encoding/json` (time)", "BenchmarkTransmission", "x-bare", "≤ 1.1", atMost(1.1), ""},
	{"`Send` throughput vs a plain keep-alive `net/http` client, 1 goroutine", "BenchmarkSend/1-goroutine", "x-nethttp", "≥ 0.95", atLeast(0.95), ""},
	{"`Send` throughput vs plain `net/http`, 32 goroutines", "BenchmarkSend/32-goroutines", "x-nethttp", "≥ 0.95", atLeast(0.95), ""},
	{"`Send` vs the seed's new connection per push (time)", "BenchmarkSend/vs-seed", "x-seed", "< 1", atMost(1), ""},
	{"`Broadcast` to 1,000 (Concurrency 32) vs a `net/http` pool of 32, gateway answering at once (time)", "BenchmarkBroadcast/gateway+0s", "x-pool", "≤ 1.05", atMost(1.05), ""},
	{"`Broadcast` to 1,000 vs the pool, gateway +2 ms (time)", "BenchmarkBroadcast/gateway+2ms", "x-pool", "≤ 1.05", atMost(1.05), ""},
	{"`Hub.SendRoom` to 1,000 vs `Broadcast`, memory store (time)", "BenchmarkHubSendRoom/memory", "x-broadcast", "≤ 1.10", atMost(1.10), ""},
	{"`Hub.SendRoom` to 1,000 vs `Broadcast`, real `redis-server` (time)", "BenchmarkHubSendRoom/redis", "x-broadcast", "≤ 1.10", atMost(1.10), ""},
	{"emulator echo, in-process functions, 100 clients, vs a plain echo server (msgs/s)", "BenchmarkEcho/inprocess-100", "x-plain", "≥ 0.35", atLeast(0.35), ""},
	{"emulator echo, 100 clients: p99 round trip vs the plain server's", "BenchmarkEcho/inprocess-100", "p99-x", "≤ 3", atMost(3), ""},
	{"emulator echo, in-process functions, 1,000 clients (msgs/s)", "BenchmarkEcho/inprocess-1000", "x-plain", "≥ 0.35", atLeast(0.35), ""},
	{"emulator echo, 1,000 clients: p99 vs the plain server's", "BenchmarkEcho/inprocess-1000", "p99-x", "≤ 3", atMost(3), ""},
	{"`scfws local` way: the echo SCF binary over the runtime protocol, 100 clients (msgs/s)", "BenchmarkEcho/binary-100", "x-plain", "≥ 0.2", atLeast(0.2), ""},
	{"host echo (package host), in-process functions and pushes, 100 clients, vs a plain coder/websocket echo server (msgs/s)", "BenchmarkEcho/host-100", "x-plain", "≥ 0.7", atLeast(0.7), ""},
	{"host echo, 100 clients: p99 round trip vs the plain server's", "BenchmarkEcho/host-100", "p99-x", "≤ 2", atMost(2), ""},
	{"host echo, 1,000 clients (msgs/s)", "BenchmarkEcho/host-1000", "x-plain", "≥ 0.7", atLeast(0.7), ""},
	{"host echo, 1,000 clients: p99 vs the plain server's", "BenchmarkEcho/host-1000", "p99-x", "≤ 2", atMost(2), ""},
	{"push to a connection on another host instance over `redis-server` (Send → the bus's script → XREAD → client) vs a bare go-redis PUBLISH loop (throughput)", "BenchmarkCrossPush", "x-publish", "≥ 0.5", atLeast(0.5), ""},
	{"a room message to 10,000 members held by 100 instances, on `redis-server`: time until every instance has its frame, vs one PUBLISH per instance (the same bytes, pipelined)", "BenchmarkRoomFanout", "x-floor", "≤ 2", atMost(2), ""},
	{"memory per idle connection, 10,000 in one host process, vs the plain server's (RSS)", "BenchmarkIdleMemory", "x-plain", "≤ 1.5", atMost(1.5), ""},
	{"memory per connection with permessage-deflate asked with context takeover, after a 32 KB echo, 1,000 connections, vs without compression (RSS)", "BenchmarkDeflateMemory", "x-plain", "≤ 1.5", atMost(1.5), ""},
	{"reliable mode: 100 pushes at a time to one connection from its own instance, read by package client, vs a plain connection of the same host (throughput)", "BenchmarkReliablePush/local", "x-plain", "≥ 0.8", atLeast(0.8), ""},
	{"reliable mode, pushes from its own instance: p99 push-to-read vs plain", "BenchmarkReliablePush/local", "p99-x", "≤ 1.5", atMost(1.5), ""},
	{"reliable mode: pushes from another instance over `redis-server` vs plain ones (throughput)", "BenchmarkReliablePush/cross", "x-plain", "≥ 0.8", atLeast(0.8), ""},
	{"reliable mode, pushes from another instance: p99 vs plain", "BenchmarkReliablePush/cross", "p99-x", "≤ 1.5", atMost(1.5), ""},
	{"Redis memory per detached connection during its window (1,000 cut at once), nothing buffered (`used_memory`)", "BenchmarkParkedMemory", "B/parked", "report", nil, " B"},
	{"the same, with ten 60-byte pushes buffered for each", "BenchmarkParkedMemory", "B/parked+10msgs", "report", nil, " B"},
	{"cold start: the echo binary (scfws, resty inside) vs a bare scf-go-lib function (time to answer)", "BenchmarkColdStart", "x-hello", "≤ 1.05", atMost(1.05), ""},
}

var line = regexp.MustCompile(`^(Benchmark\S+?)(-\d+)?\s+\d+\s+(.*)$`)

func main() {
	metrics := map[string]map[string]float64{}
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		fields := strings.Fields(m[3])
		got := map[string]float64{}
		for i := 0; i+1 < len(fields); i += 2 {
			if v, err := strconv.ParseFloat(fields[i], 64); err == nil {
				got[fields[i+1]] = v
			}
		}
		metrics[m[1]] = got
	}
	fmt.Println("| comparison (same loop, alternating) | ratio | goal | |")
	fmt.Println("|---|---|---|---|")
	missing := 0
	for _, r := range rows {
		v, ok := metrics[r.bench][r.metric]
		if !ok {
			fmt.Printf("| %s | not measured | %s | |\n", r.what, r.goal)
			missing++
			continue
		}
		if r.met == nil {
			fmt.Printf("| %s | %.0f%s | %s | measured |\n", r.what, v, r.unit, r.goal)
			continue
		}
		mark := "met"
		if !r.met(v) {
			mark = "**not met**"
		}
		fmt.Printf("| %s | %.2f× | %s | %s |\n", r.what, v, r.goal, mark)
	}
	if missing > 0 {
		os.Exit(1)
	}
}
