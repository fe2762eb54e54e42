package ws

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

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

	// An IVS chat connection has a room and what its token granted (kept
	// compact: the decoded token is not kept for the connection's life); a Chime device
	// connection has a device session.
	room    *room
	caps    capSet            // what the chat token allows
	attrs   map[string]string // the chat token's attributes; nil for none
	device  *parley.DeviceSession
	rooms   map[string]struct{} // a device's Chime rooms; guarded by hub.mu
	roomGen int                 // counts membership commands applied to rooms; guarded by hub.mu

	lastRead atomic.Int64 // Unix nanoseconds of the last frame read, for dead-peer detection

	// The reader's state: a fragmented message being put together, and the
	// connection's registration with the hub's poller.
	readMu    sync.Mutex
	message   []byte
	messageOp ws.OpCode // OpText or OpBinary while a fragmented message is open
	pollID    uint64
	limiter   *rate.Limiter
	control   *rate.Limiter // the client's control frames; made at the first one (the reader's only)

	mu         sync.Mutex
	raw        syscall.RawConn // the socket, for writes that must not block; nil if it has none
	queue      [][]byte
	queued     int
	counted    int      // frames of queue counted in the hub's backlog (at most perConnBacklog)
	writingN   int      // frames being written, counted in the hub's backlog
	writing    bool     // a writer goroutine or a flusher is writing; nothing else may
	dirty      bool     // on fl's list
	fl         *flusher // nil: every burst starts a writer goroutine
	closing    bool     // a close frame is queued; nothing else will be
	peerClosed bool     // the peer sent its close frame first
	closed     bool
	done       chan struct{} // closed once the socket is closed

	// A revocation's short write deadline, and who waits for notices to be
	// written: frames are counted as they are queued (enq) and written (wrote).
	deadline   time.Time
	wdl        time.Time // the write deadline set on the socket
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
		c.uncountLocked()
		c.mu.Unlock()
		c.hub.log.Warn("disconnecting slow client", "user", c.user)
		c.hub.stats.slowDrops.Add(1)
		c.closeWith(ws.StatusPolicyViolation, "slow consumer")
		return
	}
	// Only with nothing queued (a connection on its flusher's list is not
	// writing): a ping cut short would otherwise be finished after frames
	// queued before it, inside them on the wire.
	if inline && !c.writing && len(c.queue) == 0 && c.raw != nil {
		// An error is left for the writer to meet on its next write.
		rest, _ := writevNow(c.raw, [][]byte{frame})
		if len(rest) == 0 {
			c.mu.Unlock()
			return
		}
		frame = rest[0]
	}
	c.enqueueLocked(frame)
	c.mu.Unlock()
}

func (c *conn) enqueueLocked(frame []byte) {
	c.queue = append(c.queue, frame)
	c.queued += len(frame)
	c.enq++
	if c.counted+c.writingN < perConnBacklog {
		c.counted++
		c.hub.backlog.add(1)
	}
	c.scheduleLocked()
}

// scheduleLocked sees that the queue gets written: by the connection's
// flusher if it is plain traffic, else by a writer goroutine, which owns
// the write deadline and who waits for frames to be written. A close
// frame, a revocation and a notice go to the writer at once, even if the
// connection is on its flusher's list (which then finds it busy).
func (c *conn) scheduleLocked() {
	if c.writing || len(c.queue) == 0 {
		return
	}
	if c.fl != nil && !c.closing && c.deadline.IsZero() && len(c.waiters) == 0 {
		if !c.dirty {
			c.dirty = true
			c.fl.add(c)
		}
		return
	}
	c.writing = true
	go c.writeLoop()
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
	c.scheduleLocked()
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
	c.scheduleLocked() // the writer, not a flusher, tells waiters
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
		c.wdl = c.deadline
	}
}

// takeLocked takes the queue for one write (writeLoop's or a flusher's):
// its frames' count in the hub's backlog moves to writingN, and the
// socket's write deadline is moved if need be. A deadline that has passed
// fails even a write that would not wait, so it is moved when a
// revocation set one, or when less than half of writeTimeout is left of
// the last: setting it costs more than the write of a small frame, on
// every burst.
func (c *conn) takeLocked() [][]byte {
	batch := c.queue
	c.queue, c.queued = nil, 0
	c.writingN, c.counted = c.counted, 0
	now := time.Now()
	if !c.deadline.IsZero() || c.wdl.Sub(now) < writeTimeout/2 {
		d := now.Add(writeTimeout)
		if !c.deadline.IsZero() && c.deadline.Before(d) {
			d = c.deadline
		}
		c.nc.SetWriteDeadline(d)
		c.wdl = d
	}
	return batch
}

func (c *conn) writeLoop() {
	for {
		c.mu.Lock()
		if len(c.queue) == 0 || c.closed {
			c.writing = false
			c.mu.Unlock()
			return
		}
		batch := net.Buffers(c.takeLocked())
		n := uint64(len(batch))
		closing, peerClosed := c.closing, c.peerClosed
		c.mu.Unlock()

		_, err := batch.WriteTo(c.nc)
		c.mu.Lock()
		c.hub.backlog.done(c.writingN)
		c.writingN = 0
		c.mu.Unlock()
		if err != nil {
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

// uncountLocked takes the frames of a queue that is thrown away off the
// hub's backlog; c.mu is held.
func (c *conn) uncountLocked() {
	c.hub.backlog.done(c.counted)
	c.counted = 0
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
	if raw != nil {
		c.fl = c.hub.flusher()
	}
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
	// An idle connection has no goroutine: the poller starts one when
	// there is something to read. Bytes the upgrade read ahead are read now.
	if c.hub.poller != nil && !c.buffered() {
		if err := c.park(); err == nil {
			return
		}
	}
	go c.serve()
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
	c.uncountLocked()
	nc := c.nc
	c.mu.Unlock()
	if nc != nil {
		nc.Close()
	}
	if p := c.hub.poller; p != nil {
		p.remove(c)
	}
	// Forgotten before done is signalled: whoever waits on done (a
	// DisconnectUser) must find the hub without it.
	c.hub.remove(c)
	close(c.done)
}

// readLoop reads frames until the connection ends. It holds clients to
// RFC 6455 strictly (section 5 framing, 7.4 close codes, 8.1 UTF-8): a
// violation closes the connection with the code the RFC prescribes, never
// silently accepted, so that no peer relies on leniency.
func (c *conn) readLoop() {
	for c.readFrame() {
	}
}

// serve reads what an idle connection's socket has, when the hub's poller
// says it is readable: frames until the socket is drained, then the socket
// goes back to the poller and the goroutine ends. Without a poller (not
// Linux, or a socket it cannot watch) the connection keeps a reader
// goroutine, as readLoop.
func (c *conn) serve() {
	// Held across the hand-over to the poller: the next serve, started by
	// the poller, waits for this one to be done with the reader's state.
	c.readMu.Lock()
	defer c.readMu.Unlock()
	for {
		if !c.readFrame() {
			return
		}
		if c.buffered() || readable(c) {
			continue
		}
		if err := c.park(); err != nil {
			c.readLoop()
		}
		return
	}
}

// park hands the drained socket to the hub's poller.
func (c *conn) park() error {
	p := c.hub.poller
	if p == nil {
		return errors.ErrUnsupported
	}
	if c.isClosing() {
		// A closing connection reads on only for the peer's close frame.
		return errors.ErrUnsupported
	}
	if c.pollID == 0 {
		return p.add(c)
	}
	return p.rearm(c)
}

// buffered reports whether the upgrade left bytes read ahead of the socket.
func (c *conn) buffered() bool {
	bc, ok := c.nc.(*bufferedConn)
	return ok && bc.r.Buffered() > 0
}

// readFrame reads and handles one frame; false when the connection ended.
// It holds clients to RFC 6455 strictly (section 5 framing, 7.4 close
// codes, 8.1 UTF-8): a violation closes the connection with the code the
// RFC prescribes, never silently accepted, so that no peer relies on
// leniency. A fragmented message's state lives in the connection between
// reads, which may be on different goroutines.
func (c *conn) readFrame() bool {
	h, err := ws.ReadHeader(c.nc)
	if err != nil {
		c.kill()
		return false
	}
	c.lastRead.Store(time.Now().UnixNano())
	if !h.Masked {
		c.protocolError(ws.StatusProtocolError, "client frames must be masked")
		return false
	}
	if code, reason := checkHeader(h, c.messageOp != 0); code != 0 {
		c.protocolError(code, reason)
		return false
	}
	if h.Length > maxFrame || int64(len(c.message))+h.Length > maxFrame {
		c.protocolError(ws.StatusMessageTooBig, "frame too large")
		return false
	}
	// Pings are limited: each costs a pong written back. A pong costs
	// nothing but its read, and every live client sends one per ping
	// round, so counting those would give each idle connection a limiter.
	if h.OpCode == ws.OpPing && !c.allowControl() {
		c.protocolError(ws.StatusPolicyViolation, "too many control frames")
		return false
	}
	payload := make([]byte, h.Length)
	if _, err := io.ReadFull(c.nc, payload); err != nil {
		c.kill()
		return false
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
			return false
		}
		code, reason := closeReply(payload)
		c.closeWith(code, reason) // the writer closes the socket once this is written
		return false
	case ws.OpText, ws.OpBinary, ws.OpContinuation:
		if h.OpCode != ws.OpContinuation {
			c.messageOp = h.OpCode
		}
		c.message = append(c.message, payload...)
		if !h.Fin {
			return true
		}
		op, message := c.messageOp, c.message
		c.messageOp, c.message = 0, nil
		if op == ws.OpText && !utf8.Valid(message) {
			c.protocolError(ws.StatusInvalidFramePayloadData, "text frames must be UTF-8")
			return false
		}
		if !c.isClosing() {
			c.handle(message)
		}
	}
	return true
}

// checkHeader returns the close code and reason for a frame header RFC 6455
// forbids, given whether a fragmented message is open; 0 if it is allowed.
func checkHeader(h ws.Header, fragmented bool) (ws.StatusCode, string) {
	switch {
	case h.Rsv != 0:
		return ws.StatusProtocolError, "reserved bits set without an extension"
	case h.OpCode.IsReserved():
		return ws.StatusProtocolError, "unknown opcode"
	case h.OpCode.IsControl() && h.Length > ws.MaxControlFramePayloadSize:
		return ws.StatusProtocolError, "control frame over 125 bytes"
	case h.OpCode.IsControl() && !h.Fin:
		return ws.StatusProtocolError, "fragmented control frame"
	case h.OpCode == ws.OpContinuation && !fragmented:
		return ws.StatusProtocolError, "continuation frame without a message to continue"
	case (h.OpCode == ws.OpText || h.OpCode == ws.OpBinary) && fragmented:
		return ws.StatusProtocolError, "new message before the fragmented one ended"
	}
	return 0, ""
}

// closeReply is the close frame that answers a peer's close payload: its
// code echoed if it is one an endpoint may send, 1000 for none, else a
// protocol error (1002), or 1007 for a reason that is not UTF-8.
func closeReply(payload []byte) (ws.StatusCode, string) {
	if len(payload) == 0 {
		return ws.StatusNormalClosure, ""
	}
	if len(payload) == 1 {
		return ws.StatusProtocolError, "close payload of one byte"
	}
	code, reason := ws.ParseCloseFrameData(payload)
	if !utf8.ValidString(reason) {
		return ws.StatusInvalidFramePayloadData, "close reason must be UTF-8"
	}
	if !sendableCloseCode(code) {
		return ws.StatusProtocolError, "invalid close code"
	}
	return code, ""
}

// sendableCloseCode reports whether an endpoint may send code in a close
// frame: the codes RFC 6455 section 7.4.1 defines for use on the wire and
// those registered with IANA since (1012-1014), or 3000-4999 for libraries
// and applications. 1004 is reserved; 1005, 1006 and 1015 must never be sent.
func sendableCloseCode(code ws.StatusCode) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// allowControl takes a token for a control frame from the client.
func (c *conn) allowControl() bool {
	if c.control == nil {
		r, b := c.hub.cfg.ControlRate, c.hub.cfg.ControlBurst
		if r <= 0 {
			r = 5
		}
		if b <= 0 {
			b = 20
		}
		c.control = rate.NewLimiter(rate.Limit(r), b)
	}
	return c.control.Allow()
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

// capSet is a chat token's capabilities as bits: an idle connection is
// mostly this record, so it is kept small.
type capSet uint8

var capBits = []parley.Capability{parley.CapSendMessage, parley.CapDisconnectUser, parley.CapDeleteMessage}

func capsOf(caps []parley.Capability) capSet {
	var s capSet
	for i, c := range capBits {
		if slices.Contains(caps, c) {
			s |= 1 << i
		}
	}
	return s
}

// can reports whether the token allowed c.
func (s capSet) can(c parley.Capability) bool {
	i := slices.Index(capBits, c)
	return i >= 0 && s&(1<<i) != 0
}

// list returns the capabilities, in the order capBits names them.
func (s capSet) list() []parley.Capability {
	out := []parley.Capability{}
	for i, c := range capBits {
		if s&(1<<i) != 0 {
			out = append(out, c)
		}
	}
	return out
}
