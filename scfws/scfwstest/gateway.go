package scfwstest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/scfws/scfws-go/internal/wire"
	"github.com/scfws/scfws-go/scfws"
)

// Push is one request the fake gateway received.
type Push struct {
	// Action is ActionDataSend or ActionClosing.
	Action scfws.Action
	// ConnectionID is the connection pushed to.
	ConnectionID string
	// Message is what a data push carries; zero for a closing.
	Message scfws.Message
	// Err is why the body is not a valid push (the other fields are then
	// zero); the gateway answered as the emulator does, 400 with errNo 1002.
	Err error
	// Body is the raw request body.
	Body []byte
	// ContentType is the request's Content-Type header.
	ContentType string
}

// Rule tells the fake gateway how to answer. The zero Rule answers
// 200 {"errNo":0,"errMsg":"ok"}.
type Rule struct {
	// Status is the HTTP status; 0 means 200.
	Status int
	// ErrNo is the JSON answer's errNo.
	ErrNo int
	// ErrMsg is the JSON answer's errMsg; "" means "ok" for ErrNo 0 and
	// "error" otherwise.
	ErrMsg string
	// Body, when set, is sent instead of the JSON answer.
	Body string
	// Location, when set, is sent as the Location header (with a 3xx Status,
	// a redirect).
	Location string
	// Delay holds the answer back (ended early if the client goes away).
	Delay time.Duration
	// Drop closes the connection without an answer, after reading the request.
	Drop bool
	// Times limits the rule to the first Times matching requests; 0 means
	// always. Afterwards the gateway answers success.
	Times int
}

// Gateway is a fake reverse-push endpoint on a real HTTP server
// (httptest): it records every push and answers as its rules say. It needs
// no testing.T. All methods are safe for concurrent use.
type Gateway struct {
	// URL is the push URL to give a PushClient.
	URL string
	srv *httptest.Server

	mu          sync.Mutex
	pushes      []Push
	def         ruleState
	rules       map[string]*ruleState
	inFlight    int
	maxInFlight int
}

// NewGateway starts a fake gateway that accepts every push. Close it when done.
func NewGateway() *Gateway {
	g := &Gateway{rules: map[string]*ruleState{}}
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	g.URL = g.srv.URL + "/api-scfwstest"
	return g
}

// SetDefault sets the rule for connections without their own.
func (g *Gateway) SetDefault(r Rule) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.def = ruleState{rule: r}
}

// SetRule sets the rule for one connection ID.
func (g *Gateway) SetRule(connectionID string, r Rule) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.rules[connectionID] = &ruleState{rule: r}
}

// Pushes returns the pushes received so far, in arrival order.
func (g *Gateway) Pushes() []Push {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.pushes)
}

// PushesTo returns the pushes received for one connection.
func (g *Gateway) PushesTo(connectionID string) []Push {
	return slices.DeleteFunc(g.Pushes(), func(p Push) bool { return p.ConnectionID != connectionID })
}

// Requests returns how many requests arrived.
func (g *Gateway) Requests() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.pushes)
}

// MaxInFlight returns the largest number of requests it was answering at once.
func (g *Gateway) MaxInFlight() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.maxInFlight
}

// Reset forgets the recorded pushes and the in-flight maximum (rules stay).
func (g *Gateway) Reset() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.pushes, g.maxInFlight = nil, 0
}

// Close shuts the server down, waiting for requests in flight.
func (g *Gateway) Close() { g.srv.Close() }

func (g *Gateway) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	p := Push{Body: body, ContentType: r.Header.Get("Content-Type")}
	if wp, err := wire.Decode(body); err != nil {
		p.Err = err
	} else {
		p.Action, p.ConnectionID = scfws.Action(wp.Action), wp.ConnectionID
		if wp.Action == wire.ActionDataSend {
			p.Message = scfws.Message{DataType: scfws.DataType(wp.DataType), Data: wp.Data}
		}
	}
	g.mu.Lock()
	g.pushes = append(g.pushes, p)
	g.inFlight++
	g.maxInFlight = max(g.maxInFlight, g.inFlight)
	rule := g.ruleFor(p.ConnectionID)
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.inFlight--
		g.mu.Unlock()
	}()

	if p.Err != nil {
		rule = Rule{Status: wire.Malformed.Status, ErrNo: wire.Malformed.ErrNo, ErrMsg: wire.Malformed.ErrMsg}
	}
	if rule.Delay > 0 {
		t := time.NewTimer(rule.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if rule.Drop {
		panic(http.ErrAbortHandler) // the server closes the connection, no answer
	}
	answer := rule.Body
	if answer == "" {
		msg := rule.ErrMsg
		if msg == "" {
			msg = "ok"
			if rule.ErrNo != 0 {
				msg = "error"
			}
		}
		answer = string(wire.Answer{ErrNo: rule.ErrNo, ErrMsg: msg}.Body())
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(answer)))
	if rule.Location != "" {
		w.Header().Set("Location", rule.Location)
	}
	status := rule.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, answer)
}

// ruleState is a rule and how many requests it has answered.
type ruleState struct {
	rule Rule
	used int
}

// ruleFor picks and counts the rule for id; g.mu is held.
func (g *Gateway) ruleFor(id string) Rule {
	st, ok := g.rules[id]
	if !ok {
		st = &g.def
	}
	st.used++
	if st.rule.Times > 0 && st.used > st.rule.Times {
		return Rule{}
	}
	return st.rule
}
