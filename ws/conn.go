package ws

import (
	"encoding/json"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gobwas/ws"
	"github.com/parley-chat/parley"
	"golang.org/x/time/rate"
)

// Limits of one connection.
const (
	maxFrame       = 64 << 10         // a client frame larger than this closes the connection (1009)
	maxQueuedBytes = 4 << 20          // a reader this far behind is disconnected as slow (frames: Config.SendQueue)
	writeTimeout   = 10 * time.Second // a write that takes longer drops the connection
	// The kernel's send buffer per socket. Left to autotuning it grows to
	// 4 MiB on Linux, which would let a slow reader lag that far behind
	// before its queue even starts to fill, and costs kernel memory per
	// connection; 256 KiB is hundreds of chat frames.
	socketSendBuffer = 256 << 10
	closeWait        = 2 * time.Second // how long to wait for the peer's close frame
	// A revocation's notices and close frame must be written within
	// revokeWrite, and the peer has revokeClose more to answer the close;
	// then the socket is closed without ceremony. The party being revoked
	// cannot hold a revocation up for longer than that.
	revokeWrite = 50 * time.Millisecond
	revokeClose = 50 * time.Millisecond
	requestRate = 10 // messaging requests per second per connection
)

// conn is one client connection. While idle it holds no buffers and no
// goroutine but the reader blocked in the kernel: frames are read straight
// from the socket, and the writer goroutine exists only while frames are
// queued.
type conn struct {
	hub     *Hub
	nc      net.Conn
	user    string
	expires time.Time // the end of the session
	ip      string

	// An IVS chat connection has a room and a grant; a Chime device
	// connection has a device session.
	room    *room
	grant   *parley.ChatToken
	device  *parley.DeviceSession
	rooms   map[string]struct{} // a device's Chime rooms; guarded by hub.mu
	roomGen int                 // counts membership commands applied to rooms; guarded by hub.mu

	lastRead atomic.Int64 // Unix nanoseconds of the last frame read, for dead-peer detection
	limiter  *rate.Limiter

	mu         sync.Mutex
	raw        syscall.RawConn // the socket, for writes that must not block; nil if it has none
	queue      [][]byte
	queued     int
	writing    bool
	closing    bool // a close frame is queued; nothing else will be
	peerClosed bool // the peer sent its close frame first
	closed     bool
	done       chan struct{} // closed once the socket is closed

	// A revocation's short write deadline, and who waits for notices to be
	// written: frames are counted as they are queued (enq) and written (wrote).
	deadline   time.Time
	revoked    bool
	enq, wrote uint64
	waiters    []waiter
}

// waiter is told when the frames queued up to pos are written.
type waiter struct {
	pos uint64
	ch  chan struct{}
}

// send queues a compiled frame. A connection whose queue is full is too
// slow to keep up with its room and is dropped rather than let it stall others.
func (c *conn) send(frame []byte) { c.sendFrame(frame, false) }

// ping sends a ping. A round of pings reaches every connection at once; so
// that it does not start a writer goroutine on each (the runtime keeps a
// goroutine's descriptor for reuse after it ends, about 0.5 KiB per
// connection), a ping to a connection with nothing queued is written
// straight to the socket, which takes it unless the peer is far behind.
// Other frames keep using the writer, which batches them into one writev.
func (c *conn) ping(frame []byte) { c.sendFrame(frame, true) }

func (c *conn) sendFrame(frame []byte, inline bool) {
	c.mu.Lock()
	if c.closing || c.closed {
		c.mu.Unlock()
		return
	}
	if len(c.queue) >= c.hub.cfg.SendQueue || c.queued+len(frame) > maxQueuedBytes {
		// What is queued will never be read by a client that is being
		// dropped; free it, so that the close frame is next on the wire.
		c.enq -= uint64(len(c.queue))
		c.queue, c.queued = nil, 0
		c.mu.Unlock()
		c.hub.log.Warn("disconnecting slow client", "user", c.user)
		c.hub.stats.slowDrops.Add(1)
		c.closeWith(ws.StatusPolicyViolation, "slow consumer")
		return
	}
	if inline && !c.writing && c.raw != nil {
		frame = frame[c.writeNow(frame):]
		if len(frame) == 0 {
			c.mu.Unlock()
			return
		}
	}
	c.enqueueLocked(frame)
	c.mu.Unlock()
}

// writeNow writes what the socket takes without blocking and returns how
// much that was. Errors are left for the writer to meet on its next write.
func (c *conn) writeNow(b []byte) int {
	n := 0
	c.raw.Write(func(fd uintptr) bool {
		if m, err := syscall.Write(int(fd), b); err == nil {
			n = m
		}
		return true // never wait for the socket to become writable
	})
	return n
}

func (c *conn) enqueueLocked(frame []byte) {
	c.queue = append(c.queue, frame)
	c.queued += len(frame)
	c.enq++
	if !c.writing {
		c.writing = true
		go c.writeLoop()
	}
}

// sendJSON queues a text frame with payload.
func (c *conn) sendJSON(payload []byte) { c.send(compile(ws.OpText, payload)) }

// closeWith queues a close frame; the socket closes when the peer answers
// or after closeWait. Frames queued before it are written first.
func (c *conn) closeWith(code ws.StatusCode, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing || c.closed {
		return
	}
	c.closing = true
	c.enqueueLocked(compile(ws.OpClose, ws.NewCloseFrameBody(code, reason)))
}

// revoke queues notices and then a close frame, to be written within
// revokeWrite, and returns a channel closed once the socket is closed: when
// the peer answers the close, or revokeClose after the close frame is
// written, or at once if a write does not finish in time. Frames queued
// before are written first, under the same deadline.
func (c *conn) revoke(code ws.StatusCode, reason string, notices ...[]byte) <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return c.done
	}
	if !c.closing {
		for _, f := range notices {
			c.enqueueLocked(f)
		}
		c.closing = true
		c.enqueueLocked(compile(ws.OpClose, ws.NewCloseFrameBody(code, reason)))
	}
	c.revoked = true
	c.shortenLocked()
	return c.done
}

// notify queues a notice to be written within revokeWrite and returns a
// channel closed once it is written. If it is not written in time, the
// writer's deadline passes and the socket is closed (c.done).
func (c *conn) notify(frame []byte) <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing || c.closed {
		return c.done
	}
	c.enqueueLocked(frame)
	w := waiter{pos: c.enq, ch: make(chan struct{})}
	c.waiters = append(c.waiters, w)
	c.shortenLocked()
	return w.ch
}

// shortenLocked moves the write deadline to revokeWrite from now, for a
// write in progress too; c.mu is held, which orders it with the writer's own.
func (c *conn) shortenLocked() {
	d := time.Now().Add(revokeWrite)
	if c.deadline.IsZero() || d.Before(c.deadline) {
		c.deadline = d
	}
	if c.writing && c.nc != nil {
		c.nc.SetWriteDeadline(c.deadline)
	}
}

func (c *conn) writeLoop() {
	for {
		c.mu.Lock()
		if len(c.queue) == 0 || c.closed {
			c.writing = false
			c.mu.Unlock()
			return
		}
		batch := net.Buffers(c.queue)
		n := uint64(len(c.queue))
		c.queue, c.queued = nil, 0
		closing, peerClosed := c.closing, c.peerClosed
		d := time.Now().Add(writeTimeout)
		if !c.deadline.IsZero() && c.deadline.Before(d) {
			d = c.deadline
		}
		c.nc.SetWriteDeadline(d)
		c.mu.Unlock()

		if _, err := batch.WriteTo(c.nc); err != nil {
			c.kill()
			return
		}
		c.mu.Lock()
		c.wrote += n
		kept := c.waiters[:0]
		for _, w := range c.waiters {
			if w.pos <= c.wrote {
				close(w.ch)
			} else {
				kept = append(kept, w)
			}
		}
		c.waiters = kept
		if len(kept) == 0 && !c.revoked {
			c.deadline = time.Time{}
		}
		revoked := c.revoked
		c.mu.Unlock()
		if closing {
			// The close frame was the last one queued and is now written.
			switch {
			case peerClosed:
				c.kill()
			case revoked:
				time.AfterFunc(revokeClose, c.kill)
			default:
				time.AfterFunc(closeWait, c.kill)
			}
		}
	}
}

// start attaches the upgraded socket and lets queued frames flow. Until
// then writing is true, so that nothing tries to write to a nil socket.
func (c *conn) start(nc net.Conn) {
	var raw syscall.RawConn
	if sc, ok := nc.(syscall.Conn); ok {
		raw, _ = sc.SyscallConn()
	}
	c.mu.Lock()
	c.nc, c.raw = nc, raw
	closed := c.closed
	c.writing = false
	if len(c.queue) > 0 && !closed {
		c.writing = true
		go c.writeLoop()
	}
	c.mu.Unlock()
	if closed {
		nc.Close()
		return
	}
	go c.readLoop()
}

// kill closes the socket at once and forgets the connection.
func (c *conn) kill() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.queue = nil
	nc := c.nc
	c.mu.Unlock()
	if nc != nil {
		nc.Close()
	}
	// Forgotten before done is signalled: whoever waits on done (a
	// DisconnectUser) must find the hub without it.
	c.hub.remove(c)
	close(c.done)
}

// readLoop reads frames until the connection ends.
func (c *conn) readLoop() {
	var message []byte
	for {
		h, err := ws.ReadHeader(c.nc)
		if err != nil {
			c.kill()
			return
		}
		c.lastRead.Store(time.Now().UnixNano())
		if !h.Masked {
			c.protocolError(ws.StatusProtocolError, "client frames must be masked")
			return
		}
		if h.Length > maxFrame || int64(len(message))+h.Length > maxFrame {
			c.protocolError(ws.StatusMessageTooBig, "frame too large")
			return
		}
		payload := make([]byte, h.Length)
		if _, err := io.ReadFull(c.nc, payload); err != nil {
			c.kill()
			return
		}
		ws.Cipher(payload, h.Mask, 0)

		switch h.OpCode {
		case ws.OpPing:
			c.send(compile(ws.OpPong, payload))
		case ws.OpPong:
		case ws.OpClose:
			c.mu.Lock()
			initiated := c.closing
			c.peerClosed = true
			c.mu.Unlock()
			if initiated {
				c.kill() // the peer answered our close
				return
			}
			code, _ := ws.ParseCloseFrameData(payload)
			if code == 0 {
				code = ws.StatusNormalClosure
			}
			c.closeWith(code, "") // the writer closes the socket once this is written
			return
		case ws.OpText, ws.OpBinary, ws.OpContinuation:
			message = append(message, payload...)
			if !h.Fin {
				continue
			}
			if c.isClosing() {
				message = nil
				continue
			}
			c.handle(message)
			message = nil
		default:
			c.protocolError(ws.StatusProtocolError, "unknown opcode")
			return
		}
	}
}

func (c *conn) isClosing() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closing || c.closed
}

// protocolError closes the connection for a WebSocket protocol violation.
func (c *conn) protocolError(code ws.StatusCode, reason string) {
	c.closeWith(code, reason)
}

// fail answers a request with an ERROR frame.
func (c *conn) fail(requestID string, code int, msg string) {
	c.sendJSON(errorFrame(requestID, code, msg))
}

// handle runs one client request. Every request gets either its broadcast
// or an ERROR: the JS client's promises have no timeout.
func (c *conn) handle(payload []byte) {
	var req request
	if err := json.Unmarshal(payload, &req); err != nil {
		c.fail("", 400, "request must be a JSON object")
		return
	}
	requestID, _, ok := str(req.RequestID)
	if !ok {
		c.fail("", 400, "RequestId must be a string")
		return
	}
	now := c.hub.clock.Now()
	if !now.Before(c.expires) {
		c.fail(requestID, 401, "connection expired")
		return
	}
	if c.limiter == nil {
		c.limiter = rate.NewLimiter(requestRate, requestRate)
	}
	if !c.limiter.AllowN(now, 1) {
		c.fail(requestID, 429, "too many requests on this connection")
		return
	}
	action, _, ok := str(req.Action)
	if !ok {
		c.fail(requestID, 400, "Action must be a string")
		return
	}
	if c.device != nil {
		c.hub.deviceRequest(c, requestID, action, &req)
		return
	}
	switch action {
	case actionSendMessage:
		c.hub.sendMessage(c, requestID, &req)
	case actionDeleteMessage:
		c.hub.deleteMessage(c, requestID, &req)
	case actionDisconnectUser:
		c.hub.disconnectUser(c, requestID, &req)
	case "":
		c.fail(requestID, 400, "Action is required")
	default:
		c.fail(requestID, 400, "unknown Action "+action)
	}
}

// compile returns a server frame (unmasked) ready to write.
func compile(op ws.OpCode, payload []byte) []byte {
	b, _ := ws.CompileFrame(ws.NewFrame(op, true, payload))
	return b
}
