package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivschat"
	"github.com/aws/smithy-go"
)

// The storm phases (issue 13): connections per second to 10,000, and
// fan-out to 10,000 listeners of one room, flat out and paced, each
// measured against parley and, with -centrifugo, against Centrifugo with
// the same client processes and load shapes.

// stormOpts are the storm phases' flags.
type stormOpts struct {
	conns       int           // listeners / sockets opened
	dialConc    int           // handshakes in flight per client process
	publishers  int           // concurrent publishers, flat out
	flatFor     time.Duration // how long to publish flat out
	flatDrain   time.Duration // the most to wait for the backlog afterwards
	pacedRate   int           // messages per second, paced
	pacedFor    time.Duration
	pacedDrain  time.Duration // after the last paced message, what still counts
	profileDir  string        // CPU profiles of parley's measured windows
	summaryRows *[]string
}

// target is one server under test, started fresh for each cell.
type target struct {
	name       string // "parley" or "centrifugo"
	publishVia string
	start      func() error
	stop       func()
	pid        func() int
	wsURL      func() string
	// creds mints credentials for n listeners of one room: "cred user" lines.
	creds func(n int) ([]string, error)
	// publish sends one event carrying sent (Unix ns) as "bt".
	publish func(ctx context.Context, sent int64) error
	// profile, when not nil, writes a CPU profile of the next d to path.
	profile func(path string, d time.Duration)
}

func (b *bench) parleyTarget() *target {
	var room string
	return &target{
		name:       "parley",
		publishVia: "SendEvent through the API, signed with aws-sdk-go-v2 (EventName \"bench\", Attributes {\"bt\": send time})",
		start:      func() error { return b.start() },
		stop:       b.stop,
		pid:        func() int { return b.srv.Process.Pid },
		wsURL:      func() string { return "ws" + strings.TrimPrefix(b.url, "http") + "/" },
		creds: func(n int) ([]string, error) {
			var err error
			if room, err = b.room(); err != nil {
				return nil, err
			}
			return b.tokens(n, func(int) string { return room }, func(i int) string { return fmt.Sprintf("s%d", i) })
		},
		publish: func(ctx context.Context, sent int64) error {
			_, err := b.ivs.SendEvent(ctx, &ivschat.SendEventInput{RoomIdentifier: aws.String(room), EventName: aws.String("bench"),
				Attributes: map[string]string{"bt": strconv.FormatInt(sent, 10)}})
			return err
		},
		profile: func(path string, d time.Duration) {
			resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", b.debug, max(int(d.Seconds()), 1)))
			if err != nil {
				fmt.Fprintln(os.Stderr, "profile:", err)
				return
			}
			defer resp.Body.Close()
			f, err := os.Create(path)
			if err != nil {
				fmt.Fprintln(os.Stderr, "profile:", err)
				return
			}
			io.Copy(f, resp.Body)
			f.Close()
		},
	}
}

// stormClient is one storm client process as the orchestrator sees it.
type stormClient struct {
	cmd     *exec.Cmd
	in      *bufio.Writer
	stdin   io.WriteCloser
	ready   chan [2]int
	hs      chan *hist
	reports chan stormReport
	deliv   atomic.Int64
}

type stormReport struct {
	deliveries, dropped int64
	lat                 *hist
}

func (c *stormClient) watch(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 3 && f[0] == "HS":
			h, err := parseHist(f[1], f[2])
			if err != nil {
				fmt.Fprintln(os.Stderr, "chatbench:", err)
				h = new(hist)
			}
			c.hs <- h
		case len(f) == 3 && f[0] == "READY":
			n, _ := strconv.Atoi(f[1])
			failed, _ := strconv.Atoi(f[2])
			c.ready <- [2]int{n, failed}
		case len(f) == 2 && f[0] == "DELIV":
			n, _ := strconv.ParseInt(f[1], 10, 64)
			c.deliv.Store(n)
		case len(f) == 5 && f[0] == "REPORT":
			d, _ := strconv.ParseInt(f[1], 10, 64)
			dr, _ := strconv.ParseInt(f[2], 10, 64)
			h, err := parseHist(f[3], f[4])
			if err != nil {
				fmt.Fprintln(os.Stderr, "chatbench:", err)
				h = new(hist)
			}
			c.reports <- stormReport{d, dr, h}
		}
	}
}

// stormConnect opens one connection per line over client processes of at
// most perClient connections, all dialling at once: the credentials are
// handed to every process first, then each is told GO. It returns how
// long until every process was ready, and the handshake latencies.
func (b *bench) stormConnect(t *target, lines []string, conc int) (time.Duration, *hist, int, error) {
	self, _ := os.Executable()
	var cs []*stormClient
	for start := 0; start < len(lines); start += b.perClient {
		end := min(start+b.perClient, len(lines))
		c := &stormClient{cmd: exec.Command(self, "storm-client", t.name, t.wsURL(), strconv.Itoa(conc)),
			ready: make(chan [2]int, 1), hs: make(chan *hist, 1), reports: make(chan stormReport, 1)}
		c.cmd.Stderr = os.Stderr
		c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		c.stdin, _ = c.cmd.StdinPipe()
		stdout, _ := c.cmd.StdoutPipe()
		if err := c.cmd.Start(); err != nil {
			return 0, nil, 0, err
		}
		go c.watch(stdout)
		c.in = bufio.NewWriterSize(c.stdin, 1<<20)
		for _, l := range lines[start:end] {
			fmt.Fprintln(c.in, l)
		}
		if err := c.in.Flush(); err != nil {
			return 0, nil, 0, err
		}
		cs = append(cs, c)
		b.storm = append(b.storm, c)
	}
	time.Sleep(200 * time.Millisecond) // every process has read its lines
	start := time.Now()
	for _, c := range cs {
		fmt.Fprintln(c.in, "GO")
		c.in.Flush()
	}
	hs := new(hist)
	failed := 0
	for _, c := range cs {
		r := <-c.ready
		failed += r[1]
	}
	d := time.Since(start)
	for _, c := range cs {
		hs.merge(<-c.hs)
	}
	return d, hs, failed, nil
}

// stormReport asks every client process for its counts and latencies.
func (b *bench) stormReport() stormReport {
	for _, c := range b.storm {
		fmt.Fprintln(c.in, "REPORT")
		c.in.Flush()
	}
	sum := stormReport{lat: new(hist)}
	for _, c := range b.storm {
		r := <-c.reports
		sum.deliveries += r.deliveries
		sum.dropped += r.dropped
		sum.lat.merge(r.lat)
	}
	return sum
}

func (b *bench) stormDeliveries() int64 {
	var n int64
	for _, c := range b.storm {
		n += c.deliv.Load()
	}
	return n
}

// cpuTicks is the user and system CPU time of a process, from /proc.
func cpuTime(pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(data)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	k, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+k) * time.Second / clockTicks
}

// clockTicks is the kernel's USER_HZ, 100 on every Linux architecture Go
// supports.
const clockTicks = 100

// machineBusy is the CPU time all processes of the machine have used
// (every core, user and system), from /proc/stat.
func machineBusy() time.Duration {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0
	}
	var busy int64
	for i, v := range f[1:9] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		busy += n
	}
	return time.Duration(busy) * time.Second / clockTicks
}

// cpuMeter reads the CPU time of the server, the client processes and the
// orchestrator (which makes the API calls and publishes) over a window,
// and what the rest of the machine used meanwhile: the cores are shared
// with other work, which the load average alone does not tell apart from
// the benchmark's own processes.
type cpuMeter struct {
	b                    *bench
	pid                  int
	server, clients, own time.Duration
	busy                 time.Duration
	at                   time.Time
	others               float64 // cores used by other processes over the window, set by stop
}

func (b *bench) cpuStart(pid int) *cpuMeter {
	m := &cpuMeter{b: b, pid: pid}
	m.server, m.clients, m.own = m.read()
	m.busy, m.at = machineBusy(), time.Now()
	return m
}

func (m *cpuMeter) read() (server, clients, own time.Duration) {
	for _, c := range m.b.storm {
		clients += cpuTime(c.cmd.Process.Pid)
	}
	return cpuTime(m.pid), clients, cpuTime(os.Getpid())
}

// stop returns the CPU time of the server, the client processes and this
// process over the window, and sets m.others.
func (m *cpuMeter) stop() (server, clients, own time.Duration) {
	s, c, o := m.read()
	server, clients, own = s-m.server, c-m.clients, o-m.own
	others := machineBusy() - m.busy - server - clients - own
	m.others = max(others.Seconds(), 0) / time.Since(m.at).Seconds()
	return server, clients, own
}

// othersNote is "others N.N cores": what the rest of the machine used.
func (m *cpuMeter) othersNote() string { return fmt.Sprintf("other processes %.2f cores", m.others) }

func secs(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }

func loadavg() string {
	data, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func (o *stormOpts) row(format string, args ...any) {
	*o.summaryRows = append(*o.summaryRows, fmt.Sprintf(format, args...)+" | "+loadavg()+" |")
}

// profile starts a CPU profile of the next d of t, when -profile asks for
// one; the server must live until the returned function has returned.
func (o *stormOpts) profile(t *target, cell string, d time.Duration) (wait func()) {
	if o.profileDir == "" || t.profile == nil {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		t.profile(filepath.Join(o.profileDir, t.name+"-"+cell+".pprof"), d)
	}()
	return func() { <-done }
}

// stormSetup starts t and opens o.conns connections to one room.
func (b *bench) stormSetup(t *target, o *stormOpts, cell string) (time.Duration, *hist, string, error) {
	if err := t.start(); err != nil {
		return 0, nil, "", err
	}
	lines, err := t.creds(o.conns)
	if err != nil {
		return 0, nil, "", err
	}
	time.Sleep(500 * time.Millisecond)
	wait := o.profile(t, cell, 5*time.Second)
	cpu := b.cpuStart(t.pid())
	d, hs, failed, err := b.stormConnect(t, lines, o.dialConc)
	if err != nil {
		return 0, nil, "", err
	}
	wait()
	srv, cli, _ := cpu.stop()
	fmt.Printf("  %s: %d connections (%d client processes, %d handshakes in flight each) in %v = %.0f connections/s; %d failed\n",
		t.name, o.conns, len(b.storm), o.dialConc, d.Round(time.Millisecond), float64(o.conns-failed)/d.Seconds(), failed)
	fmt.Printf("    handshake %s; CPU over the window: server %s, client processes %s, %s\n", hs.latencies(), secs(srv), secs(cli), cpu.othersNote())
	cpuNote := fmt.Sprintf("CPU server %s, clients %s, %s", secs(srv), secs(cli), cpu.othersNote())
	if failed > 0 {
		return d, hs, cpuNote, fmt.Errorf("%s: %d of %d handshakes failed", t.name, failed, o.conns)
	}
	return d, hs, cpuNote, nil
}

// stormConnectCell is the "connections/s opening 10,000 sockets" cell.
func (b *bench) stormConnectCell(t *target, o *stormOpts) error {
	defer t.stop()
	fmt.Printf("\nconnect (%s): load average %s\n", t.name, loadavg())
	d, hs, cpuNote, err := b.stormSetup(t, o, "connect")
	if err != nil {
		return err
	}
	o.row("| %s | connect %d sockets, %d client processes of %d handshakes in flight | %.0f connections/s | handshake p50 %s, p99 %s, max %s; %s",
		t.name, o.conns, len(b.storm), o.dialConc, float64(o.conns)/d.Seconds(), ms(hs.pct(50)), ms(hs.pct(99)), ms(hs.pct(100)), cpuNote)
	return nil
}

// stormFlat publishes flat out for o.flatFor with o.publishers callers,
// then waits for the backlog to drain (up to o.flatDrain, or until no
// delivery arrived for 3 s).
func (b *bench) stormFlat(t *target, o *stormOpts) error {
	defer t.stop()
	fmt.Printf("\nfan-out flat out (%s): %d listeners, %d publishers for %v via %s; load average %s\n",
		t.name, o.conns, o.publishers, o.flatFor, t.publishVia, loadavg())
	if _, _, _, err := b.stormSetup(t, o, "fanout-flat-connect"); err != nil {
		return err
	}
	time.Sleep(time.Second)
	cpu := b.cpuStart(t.pid())
	retries0 := b.retries.Load()
	defer o.profile(t, "fanout-flat", o.flatFor)()
	var ok atomic.Int64
	fails := new(failures)
	calls := new(hist)
	start := time.Now()
	end := start.Add(o.flatFor)
	var wg sync.WaitGroup
	for w := 0; w < o.publishers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(end) {
				ctx, cancel := context.WithTimeout(context.Background(), publishTimeout)
				t0 := time.Now()
				err := t.publish(ctx, t0.UnixNano())
				cancel()
				if err != nil {
					fails.add(err)
				} else {
					calls.add(time.Since(t0))
					ok.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	pubEnd := time.Now()
	atPubEnd := b.stormDeliveries()
	// Every event the server did not refuse is expected: a publish that
	// timed out, or whose answer was lost, may still be delivered.
	want := (ok.Load() + fails.unknown.Load()) * int64(o.conns)
	last, lastAt := b.stormDeliveries(), time.Now()
	for {
		time.Sleep(20 * time.Millisecond)
		n := b.stormDeliveries()
		if n != last {
			last, lastAt = n, time.Now()
		}
		if n >= want || time.Since(lastAt) > 3*time.Second || time.Since(pubEnd) > o.flatDrain {
			break
		}
	}
	r := b.stormReport()
	srv, cli, own := cpu.stop()
	d := lastAt.Sub(start)
	if r.deliveries >= want {
		d = max(d, pubEnd.Sub(start))
	}
	fmt.Printf("  published %d events in %v (%.0f/s); %s; %d retries by the SDK\n", ok.Load(), pubEnd.Sub(start).Round(time.Millisecond),
		float64(ok.Load())/pubEnd.Sub(start).Seconds(), fails, b.retries.Load()-retries0)
	fmt.Printf("  publish call %s\n", calls.latencies())
	fmt.Printf("  delivered %d of the %d expected (events not refused × listeners, %.1f%%) by %v after the first publish = %.0f deliveries/s; while publishing %.0f/s; %d connections dropped\n",
		r.deliveries, want, 100*float64(r.deliveries)/float64(max(want, 1)), d.Round(time.Millisecond), float64(r.deliveries)/d.Seconds(),
		float64(atPubEnd)/pubEnd.Sub(start).Seconds(), r.dropped)
	fmt.Printf("  delivery latency (send to receipt) %s\n", r.lat.latencies())
	fmt.Printf("  CPU: server %s, client processes %s, publisher (this process) %s, %s\n", secs(srv), secs(cli), secs(own), cpu.othersNote())
	o.row("| %s | fan-out flat out to %d, %d publishers %v | %.0f deliveries/s (%d events, %d refused, %.1f%% of the rest delivered, %d dropped) | latency p50 %s, p99 %s, max %s; CPU server %s, clients %s, publisher %s, %s",
		t.name, o.conns, o.publishers, o.flatFor, float64(r.deliveries)/d.Seconds(), ok.Load(), fails.refused.Load(),
		100*float64(r.deliveries)/float64(max(want, 1)), r.dropped, ms(r.lat.pct(50)), ms(r.lat.pct(99)), ms(r.lat.pct(100)),
		secs(srv), secs(cli), secs(own), cpu.othersNote())
	return nil
}

// failures tallies failed publish calls: refused by the server (an error
// answer: parley's ThrottlingException, an error from Centrifugo's API),
// or unknown (a timeout or a lost connection: the event may still be
// delivered).
type failures struct {
	refused, unknown atomic.Int64
	mu               sync.Mutex
	codes            map[string]int
	first            error
}

func (f *failures) add(err error) {
	var ae smithy.APIError
	var re *refusal
	if errors.As(err, &ae) || errors.As(err, &re) {
		f.refused.Add(1)
	} else {
		f.unknown.Add(1)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.codes == nil {
		f.codes = map[string]int{}
	}
	f.codes[errorCode(err)]++
	if f.first == nil {
		f.first = err
	}
}

func (f *failures) String() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.first == nil {
		return "none failed"
	}
	return fmt.Sprintf("%d refused, %d failed without an answer %v (first: %v)", f.refused.Load(), f.unknown.Load(), f.codes, f.first)
}

// refusal is an error answer from a server that is not an AWS API.
type refusal struct{ msg string }

func (r *refusal) Error() string { return r.msg }

// publishTimeout bounds one publish call. Centrifugo's own HTTP server
// gives a request 10 s to be answered (then closes the connection: EOF).
const publishTimeout = 10 * time.Second

// stormPaced publishes o.pacedRate events a second for o.pacedFor, each
// at its scheduled time whether or not the previous one returned, and
// counts the deliveries received by o.pacedDrain after the last one.
func (b *bench) stormPaced(t *target, o *stormOpts) error {
	defer t.stop()
	fmt.Printf("\nfan-out paced (%s): %d events/s to %d listeners for %v (%d deliveries/s asked) via %s; load average %s\n",
		t.name, o.pacedRate, o.conns, o.pacedFor, o.pacedRate*o.conns, t.publishVia, loadavg())
	if _, _, _, err := b.stormSetup(t, o, "fanout-paced-connect"); err != nil {
		return err
	}
	time.Sleep(time.Second)
	cpu := b.cpuStart(t.pid())
	retries0 := b.retries.Load()
	defer o.profile(t, "fanout-paced", o.pacedFor)()
	var ok atomic.Int64
	fails := new(failures)
	var wg sync.WaitGroup
	calls := new(hist)
	n := int(float64(o.pacedRate) * o.pacedFor.Seconds())
	interval := time.Second / time.Duration(o.pacedRate)
	parent, cancelAll := context.WithCancel(context.Background())
	defer cancelAll()
	start := time.Now()
	for i := 0; i < n; i++ {
		time.Sleep(time.Until(start.Add(time.Duration(i) * interval)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(parent, publishTimeout)
			defer cancel()
			t0 := time.Now()
			if err := t.publish(ctx, t0.UnixNano()); err != nil {
				fails.add(err)
				return
			}
			calls.add(time.Since(t0))
			ok.Add(1)
		}()
	}
	// The window ends drain after the last event was due, whether or not
	// every publish call has returned.
	time.Sleep(time.Until(start.Add(o.pacedFor + o.pacedDrain)))
	r := b.stormReport()
	srv, cli, own := cpu.stop()
	okN, failedN, failNote := ok.Load(), fails.refused.Load()+fails.unknown.Load(), fails.String()
	cancelAll()
	wg.Wait()
	// Every event asked for is expected, refused or not: the cell asks for
	// 50 a second, and one refused is one the listeners did not get.
	want := int64(n) * int64(o.conns)
	fmt.Printf("  by the end of the window %d of %d publish calls had succeeded, %d were still waiting; %s; %d retries by the SDK\n", okN, n, int64(n)-okN-failedN, failNote, b.retries.Load()-retries0)
	fmt.Printf("  publish call %s\n", calls.latencies())
	fmt.Printf("  delivered %d of %d (%.1f%%) within the run and %v after it; %d connections dropped\n",
		r.deliveries, want, 100*float64(r.deliveries)/float64(max(want, 1)), o.pacedDrain, r.dropped)
	fmt.Printf("  delivery latency (send to receipt) %s\n", r.lat.latencies())
	fmt.Printf("  CPU: server %s, client processes %s, publisher (this process) %s, %s\n", secs(srv), secs(cli), secs(own), cpu.othersNote())
	o.row("| %s | paced %d/s to %d for %v (+%v drain) | %.1f%% delivered (%d events refused, %d dropped) | latency p50 %s, p99 %s, max %s; CPU server %s, clients %s, publisher %s, %s",
		t.name, o.pacedRate, o.conns, o.pacedFor, o.pacedDrain, 100*float64(r.deliveries)/float64(max(want, 1)), fails.refused.Load(), r.dropped,
		ms(r.lat.pct(50)), ms(r.lat.pct(99)), ms(r.lat.pct(100)), secs(srv), secs(cli), secs(own), cpu.othersNote())
	return nil
}
