package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"
)

// Listener bounds the connections a server holds, so that no client, and
// no crowd of clients without credentials, can take every file descriptor.
//
// Of Max connections in all, the last Headroom are reserved: a connection
// accepted into them is served /healthz and /metrics only (see Reserved),
// so that the server stays observable while saturated. Beyond Max, and
// beyond PerIP from one address, connections are refused at once. The file
// descriptors the process may hold above Max are the store's and the bus's.
type Listener struct {
	net.Listener
	Max      int // 0: no limit
	Headroom int
	PerIP    int // 0: no limit
	Log      *slog.Logger
	// Refused, if set, is told of each refused connection and why
	// ("max_connections", "per_ip_connections").
	Refused func(reason string)

	mu    sync.Mutex
	open  int
	perIP map[netip.Prefix]int
}

// Open returns the number of connections open through l.
func (l *Listener) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open
}

// Accept waits for a connection the limits allow.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		nc, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		addr := AddrKey(nc.RemoteAddr())
		l.mu.Lock()
		if l.perIP == nil {
			l.perIP = map[netip.Prefix]int{}
		}
		reason := ""
		switch {
		case l.Max > 0 && l.open >= l.Max:
			reason = "max_connections"
		case l.PerIP > 0 && l.perIP[addr] >= l.PerIP:
			reason = "per_ip_connections"
		}
		if reason != "" {
			l.mu.Unlock()
			l.refuse(nc, reason)
			continue
		}
		l.open++
		l.perIP[addr]++
		reserved := l.Max > 0 && l.open > l.Max-l.Headroom
		l.mu.Unlock()
		return &limitedConn{Conn: nc, l: l, addr: addr, reserved: reserved}, nil
	}
}

// refuse answers 503 and closes, without waiting on the client: the write
// fits the empty send buffer of a new socket.
func (l *Listener) refuse(nc net.Conn, reason string) {
	if l.Refused != nil {
		l.Refused(reason)
	}
	if l.Log != nil {
		l.Log.Warn("connection refused", "reason", reason, "remote_addr", nc.RemoteAddr().String())
	}
	nc.SetWriteDeadline(time.Now().Add(10 * time.Millisecond))
	nc.Write([]byte("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\nRetry-After: 1\r\n\r\n"))
	nc.Close()
}

func (l *Listener) release(addr netip.Prefix) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	if l.perIP[addr]--; l.perIP[addr] <= 0 {
		delete(l.perIP, addr)
	}
}

// AddrKey is what per-address limits count by: an IPv4 address, or an
// IPv6 /64 (one subscriber's usual allocation, which a client could
// otherwise rotate through at will).
func AddrKey(a net.Addr) netip.Prefix {
	var ap netip.AddrPort
	switch t := a.(type) {
	case *net.TCPAddr:
		ap = t.AddrPort()
	default:
		ap, _ = netip.ParseAddrPort(a.String())
	}
	ip := ap.Addr().Unmap()
	bits := 32
	if ip.Is6() {
		bits = 64
	}
	p, _ := ip.Prefix(bits)
	return p
}

// limitedConn is a connection counted against its Listener until closed.
type limitedConn struct {
	net.Conn
	l        *Listener
	addr     netip.Prefix
	reserved bool
	once     sync.Once
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.addr) })
	return err
}

// SyscallConn exposes the socket, for the WebSocket layer's non-blocking writes.
func (c *limitedConn) SyscallConn() (syscall.RawConn, error) {
	if sc, ok := c.Conn.(syscall.Conn); ok {
		return sc.SyscallConn()
	}
	return nil, errors.ErrUnsupported
}

// SetWriteBuffer sizes the socket's send buffer, for the WebSocket layer.
func (c *limitedConn) SetWriteBuffer(n int) error {
	if tc, ok := c.Conn.(interface{ SetWriteBuffer(int) error }); ok {
		return tc.SetWriteBuffer(n)
	}
	return errors.ErrUnsupported
}

type reservedKey struct{}

// ConnContext is for http.Server.ConnContext: it marks the requests of a
// connection accepted into the Listener's headroom.
func ConnContext(ctx context.Context, nc net.Conn) context.Context {
	if lc, ok := nc.(*limitedConn); ok && lc.reserved {
		return context.WithValue(ctx, reservedKey{}, true)
	}
	return ctx
}

// Reserved reports whether ctx is a request on a headroom connection.
func Reserved(ctx context.Context) bool {
	v, _ := ctx.Value(reservedKey{}).(bool)
	return v
}
