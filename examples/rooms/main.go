// Command rooms is a complete host app with rooms: clients connect to
// ws://HOST/?user=ann&room=lobby, send {"action":"say","text":"hi"} to
// everyone in their room or {"action":"join","room":"games"} to move, and
// hear who comes and goes. One instance keeps its state in memory; with
// REDIS_URL, any number of instances share it on Redis.
package main

import (
	"context"
	"errors"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/redis/go-redis/v9"

	"github.com/scfws/scfws-go/scfws"
	"github.com/scfws/scfws-go/scfws/host"
	"github.com/scfws/scfws-go/scfws/hub"
	"github.com/scfws/scfws-go/scfws/hub/redisstore"
	"github.com/scfws/scfws-go/scfws/route"
)

type say struct {
	Text string `json:"text"`
}

type join struct {
	Room string `json:"room"`
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// State and the bus between instances: Redis when REDIS_URL is set.
	var store hub.Store = hub.NewMemoryStore()
	var rdb redis.UniversalClient
	if url := os.Getenv("REDIS_URL"); url != "" {
		opts, err := redis.ParseURL(url)
		if err != nil {
			log.Fatal(err)
		}
		rdb = redis.NewClient(opts)
		if store, err = redisstore.New(rdb, nil); err != nil {
			log.Fatal(err)
		}
	}

	srv, err := host.New(&host.Options{Addr: os.Getenv("ADDR"), Redis: rdb}) // "": 0.0.0.0:$PORT
	if err != nil {
		log.Fatal(err)
	}
	push, err := scfws.NewPushClient(srv.PushURL(), &scfws.PushOptions{HTTPClient: srv.Client()})
	if err != nil {
		log.Fatal(err)
	}
	h := hub.New(store, push, nil)

	mux := route.New(push, nil)
	route.Handle(mux, "say", func(ctx context.Context, ev *scfws.TransmissionEvent, m say) error {
		c, _ := hub.ConnFrom(ctx)
		msg, _ := scfws.JSON(map[string]string{"from": c.UserID, "text": m.Text})
		return ignoreGone(h.SendRoom(ctx, c.Meta["room"], msg))
	})
	route.Handle(mux, "join", func(ctx context.Context, ev *scfws.TransmissionEvent, m join) error {
		c, _ := hub.ConnFrom(ctx)
		c.Meta = map[string]string{"room": m.Room}
		if err := store.Add(ctx, c); err != nil { // replaces it, and leaves its rooms
			return err
		}
		return store.Join(ctx, c.ID, m.Room)
	})

	app := &scfws.Router{
		Register: func(ctx context.Context, ev *scfws.RegisterEvent) error {
			user, room := ev.QueryString["user"], ev.QueryString["room"]
			if user == "" {
				return scfws.Reject(4001, "who are you? connect with ?user=NAME")
			}
			if room == "" {
				room = "lobby"
			}
			if err := h.Register(ctx, ev, user, map[string]string{"room": room}); err != nil {
				return err
			}
			return store.Join(ctx, ev.ConnectionID(), room)
		},
		Transmission: h.OnMessage(mux.Transmission),
		Cleanup: h.OnClose(func(ctx context.Context, ev *scfws.CleanupEvent) error {
			c, ok := hub.ConnFrom(ctx)
			if !ok {
				return nil
			}
			msg, _ := scfws.JSON(map[string]string{"left": c.UserID})
			return ignoreGone(h.SendRoom(ctx, c.Meta["room"], msg))
		}),
	}
	log.Printf("rooms on ws://%s/?user=NAME&room=lobby", srv.Addr())
	if err := srv.Serve(ctx, scfws.Functions{Register: app, Transmission: app, Cleanup: app}); err != nil {
		log.Fatal(err)
	}
}

// ignoreGone: a send that failed only for connections that have left (the
// hub pruned them) is no error of the sender's.
func ignoreGone(err error) error {
	var be *scfws.BroadcastError
	if errors.As(err, &be) && len(be.Pruned) == len(be.Failed) {
		return nil
	}
	return err
}
