package redistest

import (
	"bytes"
	"net"
	"sync"
	"time"
)

// Proxy is a TCP proxy in front of a Redis server (or of any TCP
// servers: host instances behind a load balancer), for fault tests: a
// client given Proxy.Addr talks to the server through it, and the test
// cuts the link ([Proxy.Cut]), slows the replies ([Proxy.Delay]), loses
// one reply after Redis ran its command ([Proxy.DropReply]) or sends new
// links elsewhere ([Proxy.To]).
type Proxy struct {
	// Addr is the proxy's host:port.
	Addr string
	l    net.Listener

	mu      sync.Mutex
	targets []string
	cut     bool
	delay   time.Duration
	marker  []byte // armed DropReply
	dropped int
	links   map[*link]struct{}
	wg      sync.WaitGroup
	closed  chan struct{}
}

type link struct {
	client, server net.Conn
	mu             sync.Mutex
	dropNext       bool
}

// StartProxy listens on a free loopback port and forwards to target.
func StartProxy(target string) (*Proxy, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{Addr: l.Addr().String(), targets: []string{target}, l: l, links: map[*link]struct{}{}, closed: make(chan struct{})}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		cut, targets := p.cut, p.targets
		p.mu.Unlock()
		if cut {
			_ = c.Close()
			continue
		}
		var s net.Conn
		for _, t := range targets {
			if s, err = net.DialTimeout("tcp", t, time.Second); err == nil {
				break
			}
		}
		if s == nil {
			_ = c.Close()
			continue
		}
		lk := &link{client: c, server: s}
		p.mu.Lock()
		p.links[lk] = struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(lk, true)
		go p.pipe(lk, false)
	}
}

// pipe copies one direction of a link: requests (up) or replies.
func (p *Proxy) pipe(lk *link, up bool) {
	defer p.wg.Done()
	defer p.closeLink(lk)
	src, dst := lk.server, lk.client
	if up {
		src, dst = lk.client, lk.server
	}
	buf := make([]byte, 64<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			chunk := buf[:n]
			p.mu.Lock()
			delay := p.delay
			if up && p.marker != nil && bytes.Contains(chunk, p.marker) {
				p.marker = nil
				lk.mu.Lock()
				lk.dropNext = true
				lk.mu.Unlock()
			}
			p.mu.Unlock()
			if !up {
				lk.mu.Lock()
				drop := lk.dropNext
				lk.dropNext = false
				lk.mu.Unlock()
				if drop {
					p.mu.Lock()
					p.dropped++
					p.mu.Unlock()
					continue
				}
				if delay > 0 {
					select {
					case <-time.After(delay):
					case <-p.closed: // a held reply is dropped on Close
						return
					}
				}
			}
			if _, werr := dst.Write(chunk); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *Proxy) closeLink(lk *link) {
	_ = lk.client.Close()
	_ = lk.server.Close()
	p.mu.Lock()
	delete(p.links, lk)
	p.mu.Unlock()
}

// Cut closes every open link and refuses new ones until [Proxy.Restore].
func (p *Proxy) Cut() {
	p.mu.Lock()
	p.cut = true
	links := make([]*link, 0, len(p.links))
	for lk := range p.links {
		links = append(links, lk)
	}
	p.mu.Unlock()
	for _, lk := range links {
		_ = lk.client.Close()
		_ = lk.server.Close()
	}
}

// Restore accepts links again.
func (p *Proxy) Restore() {
	p.mu.Lock()
	p.cut = false
	p.mu.Unlock()
}

// To sends new links to the first of targets that accepts one (those
// open stay where they are).
func (p *Proxy) To(targets ...string) {
	p.mu.Lock()
	p.targets = targets
	p.mu.Unlock()
}

// Delay holds each reply chunk for d before passing it on (0: none).
func (p *Proxy) Delay(d time.Duration) {
	p.mu.Lock()
	p.delay = d
	p.mu.Unlock()
}

// DropReply arms the proxy: the first request chunk that contains marker
// reaches Redis, and the next reply chunk on its link is thrown away — a
// reply lost after Redis ran the command.
func (p *Proxy) DropReply(marker string) {
	p.mu.Lock()
	p.marker = []byte(marker)
	p.mu.Unlock()
}

// Dropped counts the replies thrown away.
func (p *Proxy) Dropped() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dropped
}

// Close stops the proxy and closes every link.
func (p *Proxy) Close() {
	close(p.closed)
	_ = p.l.Close()
	p.Cut()
	p.wg.Wait()
}
