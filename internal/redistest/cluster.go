package redistest

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Cluster is a real three-shard Redis Cluster on loopback: three
// redis-server processes started with --cluster-enabled yes and joined by
// redis-cli --cluster create, no replicas.
type Cluster struct {
	// Addrs are the three nodes' host:port.
	Addrs []string
	stop  []func()
}

// Close stops every node and removes their files.
func (c *Cluster) Close() {
	for _, f := range c.stop {
		f()
	}
}

// StartCluster starts a cluster and writes one line to log; an error when
// redis-server or redis-cli is not installed (a Cluster cannot be faked).
func StartCluster(log io.Writer) (*Cluster, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, err
	}
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		return nil, err
	}
	c := &Cluster{}
	for range 3 {
		port, err := freePort(true)
		if err != nil {
			c.Close()
			return nil, err
		}
		dir, err := os.MkdirTemp("", "scfws-cluster-")
		if err != nil {
			c.Close()
			return nil, err
		}
		cmd, err := startServer(bin, port, dir, "--cluster-enabled", "yes",
			"--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000")
		if err != nil {
			_ = os.RemoveAll(dir)
			c.Close()
			return nil, err
		}
		c.stop = append(c.stop, func() { _ = cmd.Process.Kill(); _ = cmd.Wait(); _ = os.RemoveAll(dir) })
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		c.Addrs = append(c.Addrs, addr)
		if err := waitPing(addr); err != nil {
			c.Close()
			return nil, err
		}
	}
	args := append([]string{"--cluster", "create"}, c.Addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		c.Close()
		return nil, fmt.Errorf("redistest: redis-cli --cluster create: %w: %s", err, out)
	}
	if err := c.waitOK(); err != nil {
		c.Close()
		return nil, err
	}
	fmt.Fprintf(log, "redistest: Redis Cluster of 3 shards on %s\n", strings.Join(c.Addrs, ", "))
	return c, nil
}

// waitOK waits until every node says cluster_state:ok and a client can
// write to every shard.
func (c *Cluster) waitOK() error {
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for _, addr := range c.Addrs {
		rdb := redis.NewClient(&redis.Options{Addr: addr})
		for {
			info, err := rdb.ClusterInfo(ctx).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				_ = rdb.Close()
				return fmt.Errorf("redistest: cluster not ok on %s: %v %s", addr, err, info)
			}
			time.Sleep(50 * time.Millisecond)
		}
		_ = rdb.Close()
	}
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs})
	defer cc.Close()
	for i := range 64 { // keys over many slots, so over every shard
		for {
			err := cc.Set(ctx, "redistest:probe:"+strconv.Itoa(i), "1", time.Minute).Err()
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("redistest: cluster not writable: %w", err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}
