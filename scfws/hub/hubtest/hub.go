package hubtest

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scfws/scfws-go/scfws"
	"github.com/scfws/scfws-go/scfws/hub"
	"github.com/scfws/scfws-go/scfws/scfwstest"
)

// testHubPrunes: a Hub on the store prunes every connection whose push the
// gateway answered with anything but success, and none when no answer came.
func testHubPrunes(t *testing.T, s hub.Store) {
	ctx := context.Background()
	g := scfwstest.NewGateway()
	defer g.Close()
	push, err := scfws.NewPushClient(g.URL, nil)
	require.NoError(t, err)
	h := hub.New(s, push, nil)
	refused := map[string]scfwstest.Rule{
		"r429+/=": {Status: 429}, "r500+/=": {Status: 500}, "r502+/=": {Status: 502}, "r503+/=": {Status: 503},
		"r504+/=": {Status: 504}, "r201+/=": {Status: 201}, "r404+/=": {Status: 404, ErrNo: 1001},
		"errno+/=": {ErrNo: 1, ErrMsg: "gone"}, "html+/=": {Body: "<html>"},
	}
	for id, rule := range refused {
		g.SetRule(id, rule)
	}
	g.SetRule("dropped+/=", scfwstest.Rule{Drop: true})
	ids := []string{"ok+/=", "dropped+/="}
	for id := range refused {
		ids = append(ids, id)
	}
	for _, id := range ids {
		require.NoError(t, h.Register(ctx, scfwstest.NewRegisterEvent(id), "user", nil))
		require.NoError(t, s.Join(ctx, id, "room"))
	}

	err = h.SendRoom(ctx, "room", scfws.Text("x"))
	be, ok := errors.AsType[*scfws.BroadcastError](err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, 1, be.Sent)
	assertSame(t, keys(refused), be.Pruned)
	assertSame(t, []string{"ok+/=", "dropped+/="}, must(t)(s.Members(ctx, "room")), "pruned exactly the refused")
	assertSame(t, []string{"ok+/=", "dropped+/="}, must(t)(s.UserConns(ctx, "user")))

	g.Close() // nothing answers now
	err = h.SendUser(ctx, "user", scfws.Text("x"))
	require.ErrorIs(t, err, scfws.ErrPushUnavailable)
	require.ErrorIs(t, h.Send(ctx, "ok+/=", scfws.Text("x")), scfws.ErrPushUnavailable)
	assertSame(t, []string{"ok+/=", "dropped+/="}, must(t)(s.Members(ctx, "room")), "an unreachable gateway prunes nothing")
}

func keys(m map[string]scfwstest.Rule) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
