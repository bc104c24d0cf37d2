package emulator

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/coder/websocket"

	"github.com/scfws/scfws-go/scfws"
)

// The reverse-push answers (see the package documentation).
const (
	errNoNotFound   = 1001
	errNoMalformed  = 1002
	errNoAction     = 1003
	errNoBinary     = 1004
	errNoTooLarge   = 1005
	errNoDelivery   = 1006
	deliveryTimeout = 5 * time.Second
)

func (s *Server) servePush(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	status, errNo, errMsg, id, action := s.push(r)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	body, _ := json.Marshal(struct {
		ErrNo  int    `json:"errNo"`
		ErrMsg string `json:"errMsg"`
	}{errNo, errMsg})
	_, _ = w.Write(body)
	attrs := []any{"action", action, "secConnectionID", id, "status", status, "errNo", errNo, "latency", time.Since(start)}
	if errNo != 0 {
		s.log.Warn("emulator: push failed", append(attrs, "errMsg", errMsg)...)
		return
	}
	s.log.Info("emulator: push", attrs...)
}

// push handles one reverse-push request.
func (s *Server) push(r *http.Request) (status, errNo int, errMsg, id, action string) {
	if r.Method != http.MethodPost {
		return http.StatusMethodNotAllowed, errNoMalformed, "malformed push: use POST", "", ""
	}
	limit := s.opts.MaxMessageSize*4/3 + 4096 // base64 and the JSON around it
	raw, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return http.StatusBadRequest, errNoMalformed, "malformed push", "", ""
	}
	if int64(len(raw)) > limit {
		return http.StatusRequestEntityTooLarge, errNoTooLarge, "push too large", "", ""
	}
	var body struct {
		WebSocket *struct {
			Action          scfws.Action   `json:"action"`
			SecConnectionID string         `json:"secConnectionID"`
			DataType        scfws.DataType `json:"dataType"`
			Data            string         `json:"data"`
		} `json:"websocket"`
	}
	if err := json.Unmarshal(raw, &body); err != nil || body.WebSocket == nil || body.WebSocket.SecConnectionID == "" {
		return http.StatusBadRequest, errNoMalformed, "malformed push", "", ""
	}
	p := body.WebSocket
	id, action = p.SecConnectionID, string(p.Action)
	switch p.Action {
	case scfws.ActionDataSend:
	case scfws.ActionClosing:
		c := s.lookup(id)
		if c == nil {
			return http.StatusNotFound, errNoNotFound, "connection not found", id, action
		}
		c.close(websocket.StatusNormalClosure, "")
		return http.StatusOK, 0, "ok", id, action
	default:
		return http.StatusBadRequest, errNoAction, "unknown action", id, action
	}
	typ, data := websocket.MessageText, []byte(p.Data)
	switch p.DataType {
	case scfws.DataText:
	case scfws.DataBinary:
		typ = websocket.MessageBinary
		if data, err = base64.StdEncoding.DecodeString(p.Data); err != nil {
			return http.StatusBadRequest, errNoBinary, "invalid binary data", id, action
		}
	default:
		return http.StatusBadRequest, errNoMalformed, fmt.Sprintf("malformed push: dataType %q", p.DataType), id, action
	}
	if int64(len(data)) > s.opts.MaxMessageSize {
		return http.StatusRequestEntityTooLarge, errNoTooLarge, "push too large", id, action
	}
	c := s.lookup(id)
	if c == nil {
		return http.StatusNotFound, errNoNotFound, "connection not found", id, action
	}
	ctx, cancel := context.WithTimeout(r.Context(), deliveryTimeout)
	defer cancel()
	ws, ok := c.conn(ctx)
	if !ok {
		return http.StatusNotFound, errNoNotFound, "connection not found", id, action
	}
	if err := ws.Write(ctx, typ, data); err != nil {
		return http.StatusBadGateway, errNoDelivery, "delivery failed", id, action
	}
	return http.StatusOK, 0, "ok", id, action
}
