//go:build linux

package ws

import (
	"errors"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// poller tells which idle connections have something to read, so that no
// goroutine is parked on a quiet socket: one epoll instance per hub,
// watched by one goroutine, with each socket registered one-shot. When a
// socket becomes readable its connection gets a goroutine that reads what
// is there (see conn.serve) and then registers the socket again.
//
// The socket is the one Go's own netpoller already watches (an fd can be
// in several epoll sets), so reads and writes keep going through net.Conn
// with its deadlines; the fd is not duplicated, which would halve the
// connections a process can hold under its open-file limit. That is also
// why no library is used here: easygo's netpoll duplicates the fd, and
// nbio would replace gobwas/ws and the whole connection layer.
type poller struct {
	epfd  int
	wake  int // an eventfd in the set: close writes to it, and wait stops
	stop  sync.Once
	mu    sync.Mutex
	conns map[uint64]*conn
	next  uint64 // connections' IDs start at 1; 0 is wake's
}

const pollEvents = unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLONESHOT

func newPoller() (*poller, error) {
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	wake, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	if err := unix.EpollCtl(fd, unix.EPOLL_CTL_ADD, wake, &unix.EpollEvent{Events: unix.EPOLLIN}); err != nil {
		unix.Close(wake)
		unix.Close(fd)
		return nil, err
	}
	p := &poller{epfd: fd, wake: wake, conns: map[uint64]*conn{}}
	go p.wait()
	return p, nil
}

// add watches c's socket; c must be read (c.serve) when it becomes readable.
func (p *poller) add(c *conn) error {
	if c.raw == nil {
		return errors.ErrUnsupported
	}
	// pollID is set under p.mu: kill may read it (remove) on another
	// goroutine while the connection's first read is handed over here.
	p.mu.Lock()
	p.next++
	id := p.next
	p.conns[id] = c
	c.pollID = id
	p.mu.Unlock()
	if err := p.ctl(c, unix.EPOLL_CTL_ADD); err != nil {
		p.mu.Lock()
		delete(p.conns, id)
		c.pollID = 0
		p.mu.Unlock()
		return err
	}
	return nil
}

// rearm watches c's socket again, after a read drained it.
func (p *poller) rearm(c *conn) error { return p.ctl(c, unix.EPOLL_CTL_MOD) }

func (p *poller) ctl(c *conn, op int) error {
	ev := unix.EpollEvent{Events: pollEvents, Fd: int32(uint32(c.pollID)), Pad: int32(uint32(c.pollID >> 32))}
	var err error
	if cerr := c.raw.Control(func(fd uintptr) { err = unix.EpollCtl(p.epfd, op, int(fd), &ev) }); cerr != nil {
		return cerr
	}
	return err
}

// remove forgets c. Its socket leaves the epoll set when it is closed.
func (p *poller) remove(c *conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c.pollID != 0 {
		delete(p.conns, c.pollID)
	}
}

func (p *poller) wait() {
	events := make([]unix.EpollEvent, 256)
	for {
		n, err := unix.EpollWait(p.epfd, events, -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return // closed
		}
		for _, ev := range events[:n] {
			id := uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
			if id == 0 {
				// Closed. The descriptors are closed here, by the only
				// goroutine that waits on them: closed under a blocked
				// epoll_wait, the number could be reused (by another hub's
				// poller in the same process) before this loop waits again,
				// and the loop would take that set's events.
				unix.Close(p.wake)
				unix.Close(p.epfd)
				return
			}
			p.mu.Lock()
			c := p.conns[id]
			p.mu.Unlock()
			if c != nil {
				go c.serve()
			}
		}
	}
}

// close stops the poller; its goroutine closes the descriptors.
func (p *poller) close() {
	p.stop.Do(func() {
		one := [8]byte{1}
		unix.Write(p.wake, one[:])
	})
}

// readable reports whether c's socket has bytes to read (or has reached its
// end, which a read then reports), without blocking.
func readable(c *conn) bool {
	if c.raw == nil {
		return true // no socket to look at: the reader blocks as it always did
	}
	var err error
	var b [1]byte
	c.raw.Read(func(fd uintptr) bool {
		_, _, err = unix.Recvfrom(int(fd), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
		return true // never wait: this is only a look
	})
	// Anything else (a byte, the end of the stream, an error) is for a read to meet.
	return err != unix.EAGAIN && err != unix.EWOULDBLOCK
}

// canWritevNow: writevNow works here.
const canWritevNow = true

// writevNow writes bufs to the socket with writev, as much as it takes
// without waiting, and returns what it did not take (with the error, if
// one ended the write).
func writevNow(raw syscall.RawConn, bufs [][]byte) ([][]byte, error) {
	var err error
	werr := raw.Write(func(fd uintptr) bool {
		for len(bufs) > 0 {
			iov := bufs[:min(len(bufs), 1024)] // IOV_MAX
			var n int
			n, err = unix.Writev(int(fd), iov)
			switch err {
			case nil:
				bufs = consume(bufs, n)
			case unix.EINTR:
			case unix.EAGAIN:
				err = nil
				return true
			default:
				return true
			}
		}
		return true // never wait for the socket to become writable
	})
	if werr != nil {
		return bufs, werr
	}
	return bufs, err
}

// consume drops the first n bytes of bufs.
func consume(bufs [][]byte, n int) [][]byte {
	for len(bufs) > 0 && n >= len(bufs[0]) {
		n -= len(bufs[0])
		bufs[0] = nil
		bufs = bufs[1:]
	}
	if n > 0 {
		bufs[0] = bufs[0][n:]
	}
	return bufs
}
