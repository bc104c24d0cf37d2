package host

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/redis/go-redis/v9"
)

// busChannelSize is how many pushes from other instances may wait for the
// delivering goroutine (which only queues them, so it never waits long).
const busChannelSize = 4096

// bus is this instance's place on Redis pub/sub: one channel per instance,
// sharded (SSUBSCRIBE/SPUBLISH) when the server has it, so that a Redis
// Cluster sends each push to one shard, not to every node.
type bus struct {
	rdb     redis.UniversalClient
	prefix  string
	sharded bool
	ps      *redis.PubSub
	done    chan struct{}
}

func startBus(ctx context.Context, rdb redis.UniversalClient, prefix, self string,
	deliver func(context.Context, []byte), logger *slog.Logger) (*bus, error) {
	b := &bus{rdb: rdb, prefix: prefix, sharded: true, done: make(chan struct{})}
	ch := b.channel(self)
	b.ps = rdb.SSubscribe(ctx, ch)
	if _, err := b.ps.Receive(ctx); err != nil {
		_ = b.ps.Close()
		if !isUnknownCommand(err) {
			return nil, fmt.Errorf("host: subscribing to %s on Redis: %w", ch, err)
		}
		b.sharded = false // before Redis 7
		b.ps = rdb.Subscribe(ctx, ch)
		if _, err := b.ps.Receive(ctx); err != nil {
			_ = b.ps.Close()
			return nil, fmt.Errorf("host: subscribing to %s on Redis: %w", ch, err)
		}
	}
	msgs := b.ps.Channel(redis.WithChannelSize(busChannelSize))
	go func() {
		defer close(b.done)
		for m := range msgs {
			deliver(context.Background(), []byte(m.Payload))
		}
	}()
	if logger != nil {
		logger.Info("host: on the bus", "channel", ch, "sharded", b.sharded)
	}
	return b, nil
}

// channel names an instance's channel; the braces are a Cluster hash tag.
func (b *bus) channel(instance string) string { return b.prefix + "{" + instance + "}" }

// publish sends body to instance's channel; false when no one received it
// (the instance is gone).
func (b *bus) publish(ctx context.Context, instance string, body []byte) (bool, error) {
	var n int64
	var err error
	if b.sharded {
		n, err = b.rdb.SPublish(ctx, b.channel(instance), body).Result()
	} else {
		n, err = b.rdb.Publish(ctx, b.channel(instance), body).Result()
	}
	return n > 0, err
}

// close leaves the bus and waits for the delivering goroutine.
func (b *bus) close() error {
	err := b.ps.Close()
	<-b.done
	return err
}

func isUnknownCommand(err error) bool {
	var re redis.Error
	return errors.As(err, &re) && strings.Contains(strings.ToLower(err.Error()), "unknown command")
}
