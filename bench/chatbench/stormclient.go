package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
)

// runStormClient is the client process of the storm phases (connect,
// fanout-flat, fanout-paced), for a parley server (mode "parley": the
// token is the WebSocket subprotocol, as the IVS chat messaging client
// sends it) or a Centrifugo server (mode "centrifugo": JSON protocol, a
// connect command with a JWT whose "channels" claim subscribes the
// connection to the room on the server side, so that one round trip
// authenticates and joins, as a parley token does).
//
// It reads "credential user" lines from stdin until "GO", then opens one
// connection per line, at most conc handshakes in flight, and prints
// "HS max buckets" (the handshake latencies: from the dial until the
// server accepted the credential) and "READY opened failed". Then it
// reports "DELIV n" (deliveries received, at most every 50 ms) and answers
// each "REPORT" line on stdin with "REPORT deliveries dropped max buckets":
// the deliveries counted so far, the connections the server closed or
// lost, and the histogram of delivery latencies (receipt time less the
// send time the publisher put in the payload as "bt", Unix nanoseconds).
func runStormClient(mode, url string, conc int) error {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 64<<10), 64<<10)
	type job struct{ cred, user string }
	var jobs []job
	for in.Scan() {
		line := in.Text()
		if line == "GO" {
			break
		}
		cred, user, _ := strings.Cut(line, " ")
		jobs = append(jobs, job{cred, user})
	}
	var out sync.Mutex
	say := func(format string, args ...any) {
		out.Lock()
		fmt.Fprintf(os.Stdout, format+"\n", args...)
		out.Unlock()
	}
	s := &stormConns{mode: mode}
	hs := new(hist)
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(conc, 1))
	var failed atomic.Int64
	var firstErr atomic.Value
	for _, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func(j job) {
			defer wg.Done()
			start := time.Now()
			nc, r, err := s.open(url, j.cred)
			<-sem
			if err != nil {
				failed.Add(1)
				firstErr.CompareAndSwap(nil, err)
				return
			}
			hs.add(time.Since(start))
			go s.read(nc, r)
		}(j)
	}
	wg.Wait()
	if err, ok := firstErr.Load().(error); ok {
		fmt.Fprintf(os.Stderr, "storm client: %d handshakes failed, the first: %v\n", failed.Load(), err)
	}
	say("HS %s", hs)
	say("READY %d %d", len(jobs)-int(failed.Load()), failed.Load())
	go func() {
		for in.Scan() {
			if in.Text() == "REPORT" {
				say("REPORT %d %d %s", s.deliveries.Load(), s.dropped.Load(), &s.lat)
			}
		}
		os.Exit(0) // the orchestrator is gone
	}()
	last := int64(-1)
	for {
		time.Sleep(50 * time.Millisecond)
		if n := s.deliveries.Load(); n != last {
			last = n
			say("DELIV %d", n)
		}
	}
}

// stormConns is what a storm client process's connections share.
type stormConns struct {
	mode       string
	deliveries atomic.Int64
	dropped    atomic.Int64
	lat        hist
}

// open dials and authenticates; it returns the connection and the reader
// of its frames.
func (s *stormConns) open(url, cred string) (net.Conn, *bufio.Reader, error) {
	d := ws.Dialer{Timeout: 30 * time.Second}
	if s.mode == "parley" {
		d.Protocols = []string{cred}
	}
	nc, br, _, err := d.Dial(context.Background(), url)
	if err != nil {
		return nil, nil, err
	}
	var src io.Reader = nc
	if br != nil {
		src = io.MultiReader(br, nc)
	}
	// Buffered, so that a frame's header and payload cost one read(2), not
	// three: the client processes share the cores with the server.
	r := bufio.NewReaderSize(src, 4096)
	if s.mode == "parley" {
		return nc, r, nil
	}
	connect := fmt.Appendf(nil, `{"id":1,"connect":{"token":%q,"name":"chatbench"}}`, cred)
	if err := ws.WriteFrame(nc, ws.MaskFrameInPlace(ws.NewTextFrame(connect))); err != nil {
		nc.Close()
		return nil, nil, err
	}
	nc.SetReadDeadline(time.Now().Add(30 * time.Second))
	defer nc.SetReadDeadline(time.Time{})
	for {
		h, err := ws.ReadHeader(r)
		if err != nil {
			nc.Close()
			return nil, nil, err
		}
		payload := make([]byte, h.Length)
		if _, err := io.ReadFull(r, payload); err != nil {
			nc.Close()
			return nil, nil, err
		}
		if h.OpCode == ws.OpClose {
			nc.Close()
			return nil, nil, fmt.Errorf("closed during connect: %q", payload)
		}
		if h.OpCode != ws.OpText {
			continue
		}
		for line := range bytes.SplitSeq(payload, []byte("\n")) {
			if !bytes.HasPrefix(line, []byte(`{"id":1,`)) {
				continue
			}
			if !bytes.Contains(line, []byte(`"connect":`)) || bytes.Contains(line, []byte(`"error":`)) {
				nc.Close()
				return nil, nil, fmt.Errorf("connect refused: %s", line)
			}
			return nc, r, nil
		}
	}
}

var (
	btKey       = []byte(`"bt":`)
	centrifPing = []byte(`{}`)
)

// read counts the deliveries on one connection until it ends.
func (s *stormConns) read(nc net.Conn, r *bufio.Reader) {
	defer nc.Close()
	buf := make([]byte, 1024)
	for {
		h, err := ws.ReadHeader(r)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				s.dropped.Add(1)
			}
			return
		}
		if int64(cap(buf)) < h.Length {
			buf = make([]byte, h.Length)
		}
		payload := buf[:h.Length]
		if _, err := io.ReadFull(r, payload); err != nil {
			s.dropped.Add(1)
			return
		}
		if h.Masked {
			ws.Cipher(payload, h.Mask, 0)
		}
		switch h.OpCode {
		case ws.OpText, ws.OpContinuation:
			now := time.Now().UnixNano()
			// One frame may hold several messages (Centrifugo batches its
			// pushes, one JSON object a line): every "bt" is a delivery.
			p := payload
			for {
				i := bytes.Index(p, btKey)
				if i < 0 {
					break
				}
				p = p[i+len(btKey):]
				if len(p) > 0 && p[0] == '"' {
					p = p[1:]
				}
				j := 0
				for j < len(p) && p[j] >= '0' && p[j] <= '9' {
					j++
				}
				if sent, err := strconv.ParseInt(string(p[:j]), 10, 64); err == nil {
					s.lat.add(time.Duration(now - sent))
					s.deliveries.Add(1)
				}
				p = p[j:]
			}
			// Centrifugo's ping is an empty object on a line of its own,
			// answered with the same.
			if s.mode == "centrifugo" && bytes.Contains(payload, centrifPing) {
				for line := range bytes.SplitSeq(payload, []byte("\n")) {
					if bytes.Equal(bytes.TrimSpace(line), centrifPing) {
						ws.WriteFrame(nc, ws.MaskFrameInPlace(ws.NewTextFrame([]byte(`{}`))))
						break
					}
				}
			}
		case ws.OpPing:
			ws.WriteFrame(nc, ws.MaskFrameInPlace(ws.NewPongFrame(append([]byte(nil), payload...))))
		case ws.OpClose:
			s.dropped.Add(1)
			ws.WriteFrame(nc, ws.MaskFrameInPlace(ws.NewCloseFrame(payload)))
			return
		}
	}
}
