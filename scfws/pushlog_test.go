package scfws_test

import (
	"bytes"
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scfws/scfws-go/scfws"
	"github.com/scfws/scfws-go/scfws/scfwstest"
)

func TestPushLogsWithoutData(t *testing.T) {
	g := scfwstest.NewGateway()
	defer g.Close()
	for _, logData := range []bool{false, true} {
		var buf bytes.Buffer
		log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
		c := newClient(t, g, &scfws.PushOptions{Logger: log, LogData: logData})
		require.NoError(t, c.Send(context.Background(), connID, scfws.Text("secret-message")))
		assert.Contains(t, buf.String(), `secConnectionID="`+connID+`"`)
		assert.Contains(t, buf.String(), "status=200")
		assert.Contains(t, buf.String(), "attempts=1")
		assert.Equal(t, logData, bytes.Contains(buf.Bytes(), []byte("secret-message")))
	}
}
