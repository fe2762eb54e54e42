package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivschat"
)

// Tests of what a client without credentials, or with bad intent, can do
// to the server: each stays bounded in connections and time.

// rawHTTP opens a plain TCP connection to addr (host:port of a URL).
func rawHTTP(t *testing.T, url string) net.Conn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", strings.TrimPrefix(url, "http://"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return nc
}

// readStatus reads an HTTP response's status from nc within d; 0 if none came.
func readStatus(nc net.Conn, d time.Duration) int {
	nc.SetReadDeadline(time.Now().Add(d))
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// closedWithin reports whether the server closes nc within d (reading and
// dropping anything it sends first).
func closedWithin(nc net.Conn, d time.Duration) bool {
	nc.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, nc)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return false
	}
	return true
}

// rssKiB is the resident memory of process pid.
func rssKiB(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("SKIPPED: no /proc to measure memory: %v", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// Ensure bodies sent without valid credentials are never read: 300
// connections each sending a 1 MiB body and holding it leave the server's
// memory about where it was (the issue saw 33 -> 596 MB with 500).
func TestHeldBodiesNotRead(t *testing.T) {
	p := startProcessArgs(t)
	before := rssKiB(t, p.cmd.Process.Pid)
	const n, size = 300, 1<<20 - 1
	body := make([]byte, size)
	for i := range body {
		body[i] = '{'
	}
	auths := []string{"", // unsigned
		"AWS4-HMAC-SHA256 Credential=AKIANOBODY0000000000/" + time.Now().UTC().Format("20060102") + "/us-east-1/ivschat/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + strings.Repeat("0", 64)}
	statuses := make([]int, n)
	conns := make([]net.Conn, n)
	var wg sync.WaitGroup
	for i := range n {
		conns[i] = rawHTTP(t, p.URL)
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			nc := conns[i]
			hdr := fmt.Sprintf("POST /CreateRoom HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\nX-Amz-Date: %s\r\n",
				size, time.Now().UTC().Format("20060102T150405Z"))
			if a := auths[i%2]; a != "" {
				hdr += "Authorization: " + a + "\r\n"
			}
			nc.SetWriteDeadline(time.Now().Add(3 * time.Second))
			nc.Write([]byte(hdr + "\r\n"))
			nc.Write(body[:size-1]) // all but the last byte, then hold
			statuses[i] = readStatus(nc, 5*time.Second)
		}(i)
	}
	wg.Wait()
	after := rssKiB(t, p.cmd.Process.Pid)
	for i, s := range statuses {
		if s != http.StatusForbidden {
			t.Fatalf("connection %d: status %d, want 403 before the body", i, s)
		}
	}
	t.Logf("RSS %d KiB before, %d KiB with %d held 1 MiB bodies", before, after, n)
	if growth := after - before; growth > 64<<10 {
		t.Fatalf("RSS grew by %d KiB holding %d unauthenticated bodies; bound 64 MiB", growth, n)
	}
}

// Ensure a body larger than the limit is refused from its Content-Length,
// before it is read, even from a valid signer.
func TestOversizedBodyRefused(t *testing.T) {
	m := MustRunMain(t)
	nc := rawHTTP(t, m.URL)
	req, _ := http.NewRequest("POST", m.URL+"/CreateRoom", nil)
	req = sign(t, req, nil, "ivschat", time.Now())
	req.ContentLength = 2 << 20
	req.Header.Set("Content-Length", strconv.Itoa(2<<20))
	fmt.Fprintf(nc, "POST /CreateRoom HTTP/1.1\r\nHost: %s\r\n", req.Host)
	req.Header.Write(nc)
	io.WriteString(nc, "\r\n")
	if s := readStatus(nc, 2*time.Second); s != http.StatusBadRequest {
		t.Fatalf("status %d, want 400 at once", s)
	}
}

// Ensure a body that trickles in is cut at the body timeout, and headers
// that trickle in at the header timeout.
func TestSlowRequestsCut(t *testing.T) {
	m := MustRunMain(t, func(c *Config) { c.BodyTimeout, c.ReadHeaderTimeout = time.Second, time.Second })
	body := []byte(`{"name":"slow"}                                        `)
	req, _ := http.NewRequest("POST", m.URL+"/CreateRoom", nil)
	req = sign(t, req, body, "ivschat", time.Now())
	nc := rawHTTP(t, m.URL)
	fmt.Fprintf(nc, "POST /CreateRoom HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n", req.Host, len(body))
	req.Header.Write(nc)
	io.WriteString(nc, "\r\n")
	start := time.Now()
	done := make(chan int, 1)
	go func() { done <- readStatus(nc, 5*time.Second) }()
	for i := 0; i < len(body); i++ { // a byte every 200ms: 11s for all
		select {
		case s := <-done:
			if s != http.StatusRequestTimeout || time.Since(start) > 3*time.Second {
				t.Fatalf("slow body: status %d after %v, want 408 after about 1s", s, time.Since(start))
			}
			goto headers
		case <-time.After(200 * time.Millisecond):
		}
		nc.Write(body[i : i+1])
	}
	t.Fatal("a body sent over 11s was read in full")
headers:
	slow := rawHTTP(t, m.URL)
	start = time.Now()
	go func() {
		for _, c := range "GET /healthz HTTP/1.1\r\nHost: x\r\n" {
			if _, err := slow.Write([]byte(string(c))); err != nil {
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
	}()
	if !closedWithin(slow, 4*time.Second) {
		t.Fatal("slow headers were not cut within 4s")
	}
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Fatalf("slow headers cut after %v, before the 1s timeout", d)
	}
	// A connection that says nothing at all is cut as well.
	silent := rawHTTP(t, m.URL)
	if !closedWithin(silent, 4*time.Second) {
		t.Fatal("a silent connection was not cut within 4s")
	}
}

// Ensure the connection cap holds, while /healthz still answers on the
// headroom kept for it, and a cap per address.
func TestConnectionCap(t *testing.T) {
	const max, headroom = 30, 4
	m := MustRunMain(t, func(c *Config) { c.MaxConnections, c.HealthHeadroom, c.ConnsPerIP = max, headroom, 0 })
	// Fill all but the headroom with idle connections (cut by the header
	// timeout of 10s, longer than the test).
	for range max - headroom {
		rawHTTP(t, m.URL)
	}
	eventually(t, "the idle connections to be accepted", func() bool { return openConns(t, m) >= max-headroom })

	get := func(path string) int {
		nc := rawHTTP(t, m.URL)
		fmt.Fprintf(nc, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path)
		return readStatus(nc, 5*time.Second)
	}
	if s := get("/healthz"); s != http.StatusOK {
		t.Fatalf("/healthz at the cap = %d, want 200", s)
	}
	noKeepAlive := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	c := ivschat.NewFromConfig(awsConfig(testKeyID, testSecret, testRegion), func(o *ivschat.Options) {
		o.BaseEndpoint, o.HTTPClient = aws.String(m.URL), noKeepAlive
	})
	_, err := c.ListRooms(ctx(), &ivschat.ListRoomsInput{})
	var re interface{ HTTPStatusCode() int }
	if err == nil || !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusServiceUnavailable {
		t.Fatalf("API request at the cap: %v, want 503", err)
	}
	// The headroom full too: refused at once. First the server must have let
	// go of the two connections above (it closes them after answering), or
	// some of these would be refused and the count would then fall short.
	eventually(t, "the answered connections to close", func() bool { return openConns(t, m) == max-headroom })
	for range headroom {
		rawHTTP(t, m.URL)
	}
	eventually(t, "the headroom to fill", func() bool { return openConns(t, m) >= max })
	nc := rawHTTP(t, m.URL)
	if s := readStatus(nc, 2*time.Second); s != http.StatusServiceUnavailable {
		t.Fatalf("connection past the cap: status %d, want 503 at once", s)
	}

	// Per address.
	m2 := MustRunMain(t, func(c *Config) { c.ConnsPerIP = 5 })
	for range 5 {
		rawHTTP(t, m2.URL)
	}
	nc = rawHTTP(t, m2.URL)
	if s := readStatus(nc, 2*time.Second); s != http.StatusServiceUnavailable {
		t.Fatalf("6th connection from one address: status %d, want 503", s)
	}
	if v := metricValue(t, m2, "parley_connections_refused_total", "reason", "per_ip_connections"); v != 1 {
		t.Fatalf("parley_connections_refused_total{reason=per_ip_connections} = %v, want 1", v)
	}
}

// openConns reads parley_open_connections.
func openConns(t *testing.T, m *Main) int {
	return int(metricValue(t, m, "parley_open_connections", "", ""))
}

// metricValue reads a gauge or counter straight from m's registry (a
// server at its connection limit would not answer /metrics to the test's
// address); -1 if it has no such series.
func metricValue(t *testing.T, m *Main, name, label, value string) float64 {
	t.Helper()
	mfs, err := m.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, metric := range mf.GetMetric() {
			if label == "" { // a metric without labels
				if metric.GetCounter() != nil {
					return metric.GetCounter().GetValue()
				}
				return metric.GetGauge().GetValue()
			}
			for _, l := range metric.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					if metric.GetCounter() != nil {
						return metric.GetCounter().GetValue()
					}
					return metric.GetGauge().GetValue()
				}
			}
		}
	}
	return -1
}
