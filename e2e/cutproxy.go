package e2e

import (
	"fmt"
	"io"
	"net"
	"sync"
)

// CutProxy forwards TCP connections from its own address to a target, and can
// cut them: Cut closes every open connection and refuses (accepts and closes at
// once) new ones until Restore. Put between a controller and the API server, it
// makes the API server unavailable to that controller alone, for as long as a
// test says, without restarting anything.
type CutProxy struct {
	target string
	ln     net.Listener

	mu    sync.Mutex
	cut   bool
	conns map[net.Conn]struct{}
	// Refused counts the connections refused while cut.
	refused int
	wg      sync.WaitGroup
}

// NewCutProxy listens on a free port of 127.0.0.1 and forwards to target (host:port).
func NewCutProxy(target string) (*CutProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("cut proxy to %s: %w", target, err)
	}
	p := &CutProxy{target: target, ln: ln, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the address to connect to instead of the target.
func (p *CutProxy) Addr() string { return p.ln.Addr().String() }

// Cut closes the open connections and refuses new ones until Restore.
func (p *CutProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for c := range p.conns {
		c.Close()
	}
}

// Restore forwards new connections again.
func (p *CutProxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = false
}

// Refused is how many connections were refused while cut.
func (p *CutProxy) Refused() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refused
}

// Close stops listening and closes every connection.
func (p *CutProxy) Close() error {
	err := p.ln.Close()
	p.Cut()
	p.wg.Wait()
	return err
}

func (p *CutProxy) accept() {
	defer p.wg.Done()
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		p.mu.Lock()
		if p.cut {
			p.refused++
			p.mu.Unlock()
			in.Close()
			continue
		}
		p.conns[in] = struct{}{}
		p.mu.Unlock()
		p.wg.Add(1)
		go p.forward(in)
	}
}

// forward copies both ways until either side ends or Cut closes the client's side;
// the target's side is registered too, so that Cut ends both.
func (p *CutProxy) forward(in net.Conn) {
	defer p.wg.Done()
	defer p.drop(in)
	out, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	if !p.track(out) {
		out.Close()
		return
	}
	defer p.drop(out)
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src) // an error (a reset, Cut) ends the pair as EOF does
		dst.Close()
		src.Close()
		done <- struct{}{}
	}
	go pipe(out, in)
	go pipe(in, out)
	<-done
	<-done
}

// track registers c unless the proxy was cut since the client connected.
func (p *CutProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *CutProxy) drop(c net.Conn) {
	c.Close()
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}
