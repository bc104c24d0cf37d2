package route_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scfws/scfws-go/scfws"
	"github.com/scfws/scfws-go/scfws/route"
	"github.com/scfws/scfws-go/scfws/scfwstest"
)

type say struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

func TestMux(t *testing.T) {
	g := scfwstest.NewGateway()
	defer g.Close()
	push, err := scfws.NewPushClient(g.URL, nil)
	require.NoError(t, err)
	var said []string
	var bin [][]byte
	m := route.New(push, &route.Options{Key: "type", Binary: func(ctx context.Context, ev *scfws.TransmissionEvent) error {
		b, err := ev.Payload()
		bin = append(bin, b)
		return err
	}})
	route.Handle(m, "say", func(ctx context.Context, ev *scfws.TransmissionEvent, msg say) error {
		said = append(said, msg.Text)
		return nil
	})
	route.Handle(m, "fail", func(context.Context, *scfws.TransmissionEvent, struct{}) error { return errors.New("told to") })
	h := scfws.NewTransmissionHandler(m.Transmission)
	ctx := context.Background()

	cases := map[string]string{ // message → the error answered ("" for none)
		`{"type":"say","text":"hi"}`:   "",
		`{"text":"x","type":"say"}`:    "",
		`not json`:                     `a message is a JSON object with a "type"`,
		`[1]`:                          `a message is a JSON object with a "type"`,
		`{"text":"no type"}`:           `a message names its "type"`,
		`{"type":7}`:                   `a message names its "type"`,
		`{"type":"dance"}`:             `unknown type "dance"`,
		`{"type":"say","text":["x"]}`:  `type "say": the message does not fit it`,
		`{"type":"say","TYPE":"fail"}`: `a message names its "type" once, in that case (it has "TYPE" too)`,
	}
	for msg, want := range cases {
		g.Reset()
		resp, err := scfwstest.Invoke(ctx, h, scfwstest.NewTransmissionEvent("c1", scfws.Text(msg)))
		require.NoError(t, err, "%s: the connection survives", msg)
		assert.Equal(t, 0, resp.ErrNo)
		if want == "" {
			assert.Zero(t, g.Requests(), msg)
			continue
		}
		require.Len(t, g.PushesTo("c1"), 1, msg)
		var answer map[string]string
		require.NoError(t, json.Unmarshal([]byte(g.PushesTo("c1")[0].Message.Data), &answer))
		assert.Equal(t, "error", answer["type"], msg)
		assert.Contains(t, answer["error"], want, msg)
	}
	assert.ElementsMatch(t, []string{"hi", "x"}, said)

	_, err = scfwstest.Invoke(ctx, h, scfwstest.NewTransmissionEvent("c1", scfws.Binary([]byte{1, 2})))
	require.NoError(t, err)
	assert.Equal(t, [][]byte{{1, 2}}, bin, "binary messages are routed too")

	_, err = scfwstest.Invoke(ctx, h, scfwstest.NewTransmissionEvent("c1", scfws.Text(`{"type":"fail"}`)))
	require.ErrorContains(t, err, "told to", "a handler's error fails the invocation")

	g.Reset()
	plain := scfws.NewTransmissionHandler(route.New(push, nil).Transmission)
	_, err = scfwstest.Invoke(ctx, plain, scfwstest.NewTransmissionEvent("c2", scfws.Binary([]byte{1})))
	require.NoError(t, err)
	require.Len(t, g.PushesTo("c2"), 1)
	assert.JSONEq(t, `{"action":"error","error":"binary messages are not accepted"}`, g.PushesTo("c2")[0].Message.Data,
		"the default key is action")
}
