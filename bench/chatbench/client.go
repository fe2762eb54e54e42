package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
)

// runClient is a load-generating client process. It reads "token user"
// lines from stdin until "GO", opens one connection per line, prints
// "READY n", then reports on stdout: "FRAMES n" (text frames received, at
// most every 50 ms) and "CLOSED user unixnano" when the server closes a
// connection with a close frame.
func runClient(url string) error {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 64<<10), 64<<10)
	type job struct{ token, user string }
	var jobs []job
	for in.Scan() {
		line := in.Text()
		if line == "GO" {
			break
		}
		tok, user, _ := strings.Cut(line, " ")
		jobs = append(jobs, job{tok, user})
	}
	var out sync.Mutex
	say := func(format string, args ...any) {
		out.Lock()
		fmt.Fprintf(os.Stdout, format+"\n", args...)
		out.Unlock()
	}
	var frames atomic.Int64
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	var failed atomic.Int64
	for _, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func(j job) {
			defer wg.Done()
			d := ws.Dialer{Protocols: []string{j.token}, Timeout: 30 * time.Second}
			nc, br, _, err := d.Dial(context.Background(), url)
			<-sem
			if err != nil {
				failed.Add(1)
				fmt.Fprintln(os.Stderr, "dial:", err)
				return
			}
			if strings.HasPrefix(j.user, "deaf-") {
				// A client that never reads, nor answers anything.
				deafMu.Lock()
				deaf = append(deaf, nc)
				deafMu.Unlock()
				return
			}
			var r io.Reader = nc
			if br != nil {
				r = io.MultiReader(br, nc)
			}
			go readFrames(nc, r, j.user, &frames, say)
		}(j)
	}
	wg.Wait()
	say("READY %d %d", len(jobs)-int(failed.Load()), failed.Load())
	last := int64(-1)
	for {
		time.Sleep(50 * time.Millisecond)
		if n := frames.Load(); n != last {
			last = n
			say("FRAMES %d", n)
		}
	}
}

// deaf holds the connections of users named deaf-*, which are never read.
var (
	deafMu sync.Mutex
	deaf   []net.Conn
)

func readFrames(nc net.Conn, r io.Reader, user string, frames *atomic.Int64, say func(string, ...any)) {
	defer nc.Close()
	buf := make([]byte, 512)
	for {
		h, err := ws.ReadHeader(r)
		if err != nil {
			return
		}
		if int64(cap(buf)) < h.Length {
			buf = make([]byte, h.Length)
		}
		payload := buf[:h.Length]
		if _, err := io.ReadFull(r, payload); err != nil {
			return
		}
		switch h.OpCode {
		case ws.OpText:
			frames.Add(1)
		case ws.OpPing:
			ws.WriteFrame(nc, ws.MaskFrameInPlace(ws.NewPongFrame(append([]byte(nil), payload...))))
		case ws.OpClose:
			say("CLOSED %s %d", user, time.Now().UnixNano())
			ws.WriteFrame(nc, ws.MaskFrameInPlace(ws.NewCloseFrame(payload)))
			return
		}
	}
}
