// Command chatbench measures parley's messaging endpoint under load on one
// machine: memory per idle connection, fan-out deliveries per second, and
// DisconnectUser call-to-close latency. It starts a parley server (the
// binary given by -parley) and spreads the WebSocket clients over several
// client processes (itself, re-run as "chatbench client"), because one
// process may hold at most 20,000 open files here.
//
//	go build -o /tmp/parley ./cmd/parley && go run ./bench/chatbench -parley /tmp/parley
//
// The storm phases of issue 13 (-only storms, or any of api, connect,
// fanout-flat, fanout-paced) are not run by default: signed DisconnectUser
// and CreateChatToken calls per second, connections per second to 10,000,
// and fan-out to 10,000 listeners flat out and paced. With -centrifugo
// they also measure a Centrifugo v6 server, configured by centrifugo.json
// beside this file, with the same client processes and load shapes:
//
//	GOBIN=/tmp/centrifugo-bin GOFLAGS=-mod=mod go install github.com/centrifugal/centrifugo/v6@v6.9.1
//	go run ./bench/chatbench -parley /tmp/parley -centrifugo /tmp/centrifugo-bin/centrifugo -only storms
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ivschat"
)

const (
	keyID   = "AKIACHATBENCH0000001"
	secret  = "chatbench-secret-key-00000000000000000001"
	account = "123456789012"
)

func main() {
	if len(os.Args) > 4 && os.Args[1] == "storm-client" {
		conc, _ := strconv.Atoi(os.Args[4])
		if err := runStormClient(os.Args[2], os.Args[3], conc); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) > 2 && os.Args[1] == "client" {
		if err := runClient(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	parley := flag.String("parley", "", "path of the parley binary to measure (required)")
	memSteps := flag.String("mem", "1000,10000,19000", "connection counts at which to measure memory")
	fanListeners := flag.Int("fanout-listeners", 10000, "listeners in the fan-out room")
	fanMessages := flag.Int("fanout-messages", 200, "events sent to the fan-out room")
	discConns := flag.Int("disconnect-conns", 15000, "connections open during the DisconnectUser runs")
	discCalls := flag.Int("disconnects", 200, "DisconnectUser calls to time")
	deafPct := flag.Int("deaf-percent", 1, "percent of the DisconnectUser phase's connections that never read (nor answer a close)")
	perClient := flag.Int("per-client", 5000, "connections per client process")
	clusterStore := flag.String("cluster-store", "", "with -cluster-bus: also measure a 3-node cluster on this PostgreSQL URL")
	clusterBus := flag.String("cluster-bus", "", "the NATS URL of the cluster")
	clusterConns := flag.Int("cluster-conns", 30000, "connections over the cluster's nodes during the DisconnectUser runs")
	only := flag.String("only", "", "run only these phases (comma-separated: memory, fanout, disconnect, cluster;\n"+
		"the storm phases of issue 13, not run by default: api, connect, fanout-flat, fanout-paced, or storms for the four)")
	centrifugoBin := flag.String("centrifugo", "", "path of a Centrifugo v6 binary: run the connect and fan-out storm phases against it too (configured by bench/chatbench/centrifugo.json)")
	apiOps := flag.String("api-ops", "DisconnectUser,CreateChatToken", "api phase: the operations to call")
	apiWorkers := flag.String("api-workers", "16,64", "api phase: concurrent callers, one measurement each")
	apiFor := flag.Duration("api-duration", 8*time.Second, "api phase: how long each measurement lasts")
	apiWarm := flag.Duration("api-warmup", 2*time.Second, "api phase: calls made before each measurement, not counted")
	apiIdle := flag.Int("api-idle-conns", 0, "api phase: idle connections per host the SDK's HTTP transport keeps (0: one per worker; the SDK's default is 10)")
	apiRooms := flag.Int("api-rooms", 16, "api phase: rooms the calls are spread over")
	stormConns := flag.Int("storm-conns", 10000, "storm phases: sockets opened (connect) and listeners of the room (fan-out)")
	dialConc := flag.Int("dial-concurrency", 64, "storm phases: handshakes in flight per client process")
	publishers := flag.Int("publishers", 4, "fanout-flat: concurrent publishers")
	flatFor := flag.Duration("flat-duration", 5*time.Second, "fanout-flat: how long to publish flat out")
	flatDrain := flag.Duration("flat-drain", 30*time.Second, "fanout-flat: the most to wait for the backlog after publishing (it also ends after 3 s without a delivery)")
	pacedRate := flag.Int("paced-rate", 50, "fanout-paced: events per second")
	pacedFor := flag.Duration("paced-duration", 10*time.Second, "fanout-paced: how long to publish")
	pacedDrain := flag.Duration("paced-drain", 5*time.Second, "fanout-paced: deliveries received this long after the run still count")
	profileDir := flag.String("profile", "", "storm phases: write CPU profiles of parley's measured windows into this directory")
	var serverArgs args
	flag.Var(&serverArgs, "parley-arg", "an argument added to every parley serve command line (repeat for more, e.g. -parley-arg=--fanout-backlog=20000)")
	flag.Parse()
	if *only == "storms" || strings.Contains(*only, "storms,") || strings.HasSuffix(*only, ",storms") {
		*only = strings.ReplaceAll(*only, "storms", "api,connect,fanout-flat,fanout-paced")
	}
	if *parley == "" && *centrifugoBin == "" {
		flag.Usage()
		os.Exit(2)
	}
	b := &bench{parley: *parley, perClient: *perClient, args: serverArgs}
	var summary []string
	so := &stormOpts{conns: *stormConns, dialConc: *dialConc, publishers: *publishers, flatFor: *flatFor, flatDrain: *flatDrain,
		pacedRate: *pacedRate, pacedFor: *pacedFor, pacedDrain: *pacedDrain, profileDir: *profileDir, summaryRows: &summary}
	ao := &apiOpts{duration: *apiFor, warmup: *apiWarm, idleConns: *apiIdle, rooms: *apiRooms, stormOpts: so}
	for _, op := range strings.Split(*apiOps, ",") {
		ao.ops = append(ao.ops, strings.TrimSpace(op))
	}
	for _, w := range strings.Split(*apiWorkers, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(w))
		if err != nil || n < 1 {
			fmt.Fprintln(os.Stderr, "chatbench: bad -api-workers")
			os.Exit(2)
		}
		ao.workers = append(ao.workers, n)
	}
	if *profileDir != "" {
		os.MkdirAll(*profileDir, 0o755)
	}
	var targets []*target
	if *parley != "" {
		targets = append(targets, b.parleyTarget())
	}
	if *centrifugoBin != "" {
		t, err := b.centrifugoTarget(*centrifugoBin)
		if err != nil {
			fmt.Fprintln(os.Stderr, "chatbench:", err)
			os.Exit(1)
		}
		targets = append(targets, t)
	}
	// Each storm cell runs against every target in turn, side by side.
	each := func(cell func(*target, *stormOpts) error) func() error {
		return func() error {
			for _, t := range targets {
				if err := cell(t, so); err != nil {
					return err
				}
			}
			return nil
		}
	}
	var steps []int
	for _, s := range strings.Split(*memSteps, ",") {
		n, _ := strconv.Atoi(s)
		steps = append(steps, n)
	}
	single := func() error { return b.start() }
	cluster := func() error { return b.startCluster(3, *clusterStore, *clusterBus) }
	phases := []struct {
		name string
		run  func() error
	}{
		{"memory", func() error { return b.memory(steps) }},
		{"fanout", func() error { return b.fanout(*fanListeners, *fanMessages, single) }},
		{"disconnect", func() error { return b.disconnects(*discConns, *discCalls, *deafPct, single) }},
		{"api", func() error {
			for _, op := range ao.ops {
				for _, w := range ao.workers {
					if err := b.apiCell(op, w, ao); err != nil {
						return err
					}
				}
			}
			return nil
		}},
		{"connect", each(b.stormConnectCell)},
		{"fanout-flat", each(b.stormFlat)},
		{"fanout-paced", each(b.stormPaced)},
	}
	if *clusterStore != "" && *clusterBus != "" {
		phases = append(phases,
			struct {
				name string
				run  func() error
			}{"cluster", func() error { return b.fanout(*fanListeners, *fanMessages, cluster) }},
			struct {
				name string
				run  func() error
			}{"cluster", func() error { return b.disconnects(*clusterConns, *discCalls, *deafPct, cluster) }})
	}
	storm := map[string]bool{"api": true, "connect": true, "fanout-flat": true, "fanout-paced": true}
	for _, ph := range phases {
		if *only == "" && storm[ph.name] || *only != "" && !strings.Contains(","+*only+",", ","+ph.name+",") {
			continue
		}
		if *parley == "" && !storm[ph.name] {
			fmt.Fprintf(os.Stderr, "chatbench: phase %s needs -parley\n", ph.name)
			os.Exit(2)
		}
		if *parley == "" && ph.name == "api" {
			continue
		}
		if err := ph.run(); err != nil {
			fmt.Fprintln(os.Stderr, "chatbench:", err)
			os.Exit(1)
		}
	}
	if len(summary) > 0 {
		fmt.Printf("\nsummary (load average 1/5/15 min read at the end of each cell):\n\n")
		fmt.Println("| server | cell | throughput | latency, CPU | load average |")
		fmt.Println("|---|---|---|---|---|")
		for _, r := range summary {
			fmt.Println(r)
		}
	}
}

type bench struct {
	parley    string
	perClient int
	args      []string     // added to every serve command line (-parley-arg)
	retries   atomic.Int64 // retries b.ivs made

	srvs    []*exec.Cmd // srvs[0] is the one measured and called
	urls    []string
	srv     *exec.Cmd
	url     string
	ivs     *ivschat.Client
	clients []*client
	storm   []*stormClient // the storm phases' client processes
	debug   string         // the pprof address of the last server started
}

// start runs a fresh parley server; with extra args (--store, --bus) it
// can be called again to add nodes of one cluster.
func (b *bench) start(extra ...string) error {
	dir, err := os.MkdirTemp("", "chatbench")
	if err != nil {
		return err
	}
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", filepath.Join(dir, "data"), "--throttle-scale", "0",
		// Every benchmark client shares 127.0.0.1: no per-address limits.
		"--max-connections-per-ip", "0", "--handshake-rate", "0",
		"--access-key-id", keyID, "--secret-access-key", secret, "--account-id", account, "--log-level", "error",
		"--debug-addr", b.debugAddr()}, slices.Concat(b.args, extra)...)
	srv := exec.Command(b.parley, args...)
	srv.Stderr = os.Stderr
	srv.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // no orphans if chatbench dies
	out, err := srv.StdoutPipe()
	if err != nil {
		return err
	}
	if err := srv.Start(); err != nil {
		return err
	}
	url := ""
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "endpoint URL:"); ok {
			url = strings.TrimSpace(v)
			break
		}
	}
	go io.Copy(io.Discard, out)
	if url == "" {
		return errors.New("parley did not start")
	}
	b.srvs, b.urls = append(b.srvs, srv), append(b.urls, url)
	if len(b.srvs) > 1 {
		return nil
	}
	b.srv, b.url = srv, url
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(keyID, secret, "")}
	b.ivs = ivschat.NewFromConfig(cfg, func(o *ivschat.Options) {
		o.BaseEndpoint = aws.String(b.url)
		o.Retryer = counting{retry.NewStandard(), &b.retries}
	})
	return nil
}

// counting is the SDK's standard retryer (3 attempts, backing off with
// jitter, retrying ThrottlingException) counting the retries it makes:
// a publisher's retried call is one the server refused at first.
type counting struct {
	*retry.Standard
	n *atomic.Int64
}

func (r counting) GetRetryToken(ctx context.Context, opErr error) (func(error) error, error) {
	r.n.Add(1)
	return r.Standard.GetRetryToken(ctx, opErr)
}

// stop ends the server and the client processes.
func (b *bench) stop() {
	for _, c := range b.clients {
		c.cmd.Process.Kill()
		c.cmd.Wait()
	}
	b.clients = nil
	b.stopStorm()
	for _, srv := range b.srvs {
		srv.Process.Kill()
		srv.Wait()
	}
	b.srvs, b.urls = nil, nil
}

// stopStorm ends the storm phases' client processes.
func (b *bench) stopStorm() {
	for _, c := range b.storm {
		c.cmd.Process.Kill()
		c.cmd.Wait()
	}
	b.storm = nil
}

// startCluster runs n nodes on one PostgreSQL schema of their own and one NATS.
func (b *bench) startCluster(n int, store, bus string) error {
	u, err := url.Parse(store)
	if err != nil {
		return err
	}
	q := u.Query()
	q.Set("search_path", fmt.Sprintf("chatbench_%d", time.Now().UnixNano()))
	u.RawQuery = q.Encode()
	for i := 0; i < n; i++ {
		if err := b.start("--store", u.String(), "--bus", bus); err != nil {
			return err
		}
	}
	return nil
}

// debugAddr picks the address of the server's pprof listener:
// CHATBENCH_DEBUG_ADDR, or a free port. The memory phase uses it to
// collect garbage before each reading.
func (b *bench) debugAddr() string {
	b.debug = os.Getenv("CHATBENCH_DEBUG_ADDR")
	if b.debug == "" {
		if l, err := net.Listen("tcp", "127.0.0.1:0"); err == nil {
			b.debug = l.Addr().String()
			l.Close()
		}
	}
	return b.debug
}

// collect makes the measured server run a garbage collection, so that a
// reading does not depend on when the runtime last collected.
func (b *bench) collect() {
	if resp, err := http.Get("http://" + b.debug + "/debug/pprof/heap?gc=1"); err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// rss returns the server's resident memory in bytes.
func (b *bench) rss() int64 {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", b.srv.Process.Pid))
	m := regexp.MustCompile(`VmRSS:\s+(\d+) kB`).FindSubmatch(data)
	if m == nil {
		return 0
	}
	kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return kb << 10
}

// metric reads one unlabelled value from the server's /metrics.
func (b *bench) metric(name string) float64 {
	resp, err := http.Get(b.url + "/metrics")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return 0
}

func (b *bench) room() (string, error) {
	out, err := b.ivs.CreateRoom(context.Background(), &ivschat.CreateRoomInput{MaximumMessageRatePerSecond: aws.Int32(100)})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.Arn), nil
}

// tokens mints n tokens for users named by user(i) in room(i).
func (b *bench) tokens(n int, room, user func(int) string) ([]string, error) {
	toks := make([]string, n)
	var wg sync.WaitGroup
	var firstErr atomic.Value
	next := atomic.Int64{}
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				out, err := b.ivs.CreateChatToken(context.Background(), &ivschat.CreateChatTokenInput{RoomIdentifier: aws.String(room(i)), UserId: aws.String(user(i)),
					SessionDurationInMinutes: aws.Int32(180)})
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				toks[i] = aws.ToString(out.Token) + " " + user(i)
			}
		}()
	}
	wg.Wait()
	if err, ok := firstErr.Load().(error); ok {
		return nil, err
	}
	return toks, nil
}

// connect opens one connection per token line, in client processes of at
// most perClient connections each, and waits until all are open. Line i
// goes to node i % len(nodes).
func (b *bench) connect(lines []string) error {
	byNode := make([][]string, len(b.urls))
	for i, l := range lines {
		byNode[i%len(b.urls)] = append(byNode[i%len(b.urls)], l)
	}
	for n, ls := range byNode {
		if err := b.connectTo(b.urls[n], ls); err != nil {
			return err
		}
	}
	return nil
}

func (b *bench) connectTo(url string, lines []string) error {
	self, _ := os.Executable()
	for start := 0; start < len(lines); start += b.perClient {
		end := min(start+b.perClient, len(lines))
		c := &client{cmd: exec.Command(self, "client", "ws"+strings.TrimPrefix(url, "http")+"/"), ready: make(chan int, 1)}
		c.cmd.Stderr = os.Stderr
		c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		stdin, _ := c.cmd.StdinPipe()
		stdout, _ := c.cmd.StdoutPipe()
		if err := c.cmd.Start(); err != nil {
			return err
		}
		go c.watch(stdout)
		w := bufio.NewWriter(stdin)
		for _, l := range lines[start:end] {
			fmt.Fprintln(w, l)
		}
		fmt.Fprintln(w, "GO")
		w.Flush()
		b.clients = append(b.clients, c)
		if n := <-c.ready; n != end-start {
			return fmt.Errorf("client process opened %d of %d connections", n, end-start)
		}
	}
	return nil
}

// client is one client process as the orchestrator sees it.
type client struct {
	cmd    *exec.Cmd
	ready  chan int
	frames atomic.Int64
	mu     sync.Mutex
	closed map[string]time.Time
}

func (c *client) watch(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 3 && f[0] == "READY":
			n, _ := strconv.Atoi(f[1])
			c.ready <- n
		case len(f) == 2 && f[0] == "FRAMES":
			n, _ := strconv.ParseInt(f[1], 10, 64)
			c.frames.Store(n)
		case len(f) == 3 && f[0] == "CLOSED":
			ns, _ := strconv.ParseInt(f[2], 10, 64)
			c.mu.Lock()
			if c.closed == nil {
				c.closed = map[string]time.Time{}
			}
			c.closed[f[1]] = time.Unix(0, ns)
			c.mu.Unlock()
		}
	}
}

func (b *bench) totalFrames() int64 {
	var n int64
	for _, c := range b.clients {
		n += c.frames.Load()
	}
	return n
}

func (b *bench) closedAt(user string) (time.Time, bool) {
	for _, c := range b.clients {
		c.mu.Lock()
		t, ok := c.closed[user]
		c.mu.Unlock()
		if ok {
			return t, true
		}
	}
	return time.Time{}, false
}

// Memory is read twice at each step: 10 s after the connections opened,
// and again after the Go runtime's periodic forced GC (every 2 minutes),
// by when the garbage of their handshakes has been collected and returned:
// that second reading is the memory an idle connection really holds.
const (
	settle     = 10 * time.Second
	settleLong = 130 * time.Second
)

// memory measures the server's memory per idle connection at each step.
func (b *bench) memory(steps []int) error {
	if err := b.start(); err != nil {
		return err
	}
	defer b.stop()
	room, err := b.room()
	if err != nil {
		return err
	}
	time.Sleep(time.Second)
	b.collect()
	if p := os.Getenv("CHATBENCH_HOLD"); p != "" {
		defer func() { fmt.Println("holding for profiling"); time.Sleep(60 * time.Second) }()
	}
	base, baseHeap, baseStack := b.rss(), b.metric("go_memstats_heap_inuse_bytes"), b.metric("go_memstats_stack_inuse_bytes")
	fmt.Printf("memory per idle connection (server RSS, read after a forced GC; baseline %.1f MiB)\n", float64(base)/(1<<20))
	// "other" is what RSS holds beyond the heap and the stacks in use: the
	// runtime's own structures, the collector's headroom (heap spans not in
	// use) and pages freed but not yet given back.
	fmt.Printf("%8s %6s %10s %14s %14s %15s %15s %11s\n", "conns", "after", "RSS MiB", "RSS/conn KiB", "heap/conn KiB", "stack/conn KiB", "other/conn KiB", "goroutines")
	open := 0
	for _, n := range steps {
		toks, err := b.tokens(n-open, func(int) string { return room }, func(i int) string { return fmt.Sprintf("m%d", open+i) })
		if err != nil {
			return err
		}
		if err := b.connect(toks); err != nil {
			return err
		}
		open = n
		for _, wait := range []time.Duration{settle, settleLong - settle} {
			time.Sleep(wait)
			b.collect()
			rss, heap, stack := b.rss(), b.metric("go_memstats_heap_inuse_bytes"), b.metric("go_memstats_stack_inuse_bytes")
			perHeap, perStack := (heap-baseHeap)/float64(n)/1024, (stack-baseStack)/float64(n)/1024
			perRSS := float64(rss-base) / float64(n) / 1024
			fmt.Printf("%8d %6s %10.1f %14.2f %14.2f %15.2f %15.2f %11.0f\n", n, map[bool]string{true: "10s", false: "130s"}[wait == settle],
				float64(rss)/(1<<20), perRSS, perHeap, perStack, perRSS-perHeap-perStack, b.metric("go_goroutines"))
		}
	}
	return nil
}

// fanout measures deliveries per second to a room of n listeners, spread
// over the nodes that start starts.
func (b *bench) fanout(n, messages int, startNodes func() error) error {
	if err := startNodes(); err != nil {
		return err
	}
	defer b.stop()
	room, err := b.room()
	if err != nil {
		return err
	}
	toks, err := b.tokens(n, func(int) string { return room }, func(i int) string { return fmt.Sprintf("f%d", i) })
	if err != nil {
		return err
	}
	// Tokens are minted first, so this times the handshakes alone (client
	// processes of -per-client connections, one after another).
	connectStart := time.Now()
	if err := b.connect(toks); err != nil {
		return err
	}
	cd := time.Since(connectStart)
	fmt.Printf("\nconnect: %d connections in %v = %.0f connections/s\n", n, cd.Round(time.Millisecond), float64(n)/cd.Seconds())
	time.Sleep(time.Second)
	want := int64(n) * int64(messages)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < messages; i += 4 {
				b.ivs.SendEvent(context.Background(), &ivschat.SendEventInput{RoomIdentifier: aws.String(room), EventName: aws.String("bench"),
					Attributes: map[string]string{"i": strconv.Itoa(i)}})
			}
		}(w)
	}
	wg.Wait()
	deadline := time.Now().Add(2 * time.Minute)
	for b.totalFrames() < want && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	d := time.Since(start)
	got := b.totalFrames()
	fmt.Printf("\nfan-out: %d events to a room of %d listeners on %d node(s): %d of %d deliveries in %v = %.0f deliveries/s\n",
		messages, n, len(b.urls), got, want, d.Round(time.Millisecond), float64(got)/d.Seconds())
	return nil
}

// disconnects times DisconnectUser with conns connections open: the API
// call's duration (it returns once the sockets are closed) and the time
// until the client process saw the close frame.
func (b *bench) disconnects(conns, calls, deafPct int, startNodes func() error) error {
	if err := startNodes(); err != nil {
		return err
	}
	defer b.stop()
	const perRoom = 150
	var rooms []string
	for i := 0; i < (conns+perRoom-1)/perRoom; i++ {
		r, err := b.room()
		if err != nil {
			return err
		}
		rooms = append(rooms, r)
	}
	// One connection in 100/deafPct never reads: a client that froze, or
	// a hostile one. They sit in the same rooms as everyone else.
	every := 0
	if deafPct > 0 {
		every = 100 / deafPct
	}
	name := func(i int) string {
		if every > 0 && i%every == every/2 {
			return fmt.Sprintf("deaf-d%d", i)
		}
		return fmt.Sprintf("d%d", i)
	}
	toks, err := b.tokens(conns, func(i int) string { return rooms[i/perRoom] }, name)
	if err != nil {
		return err
	}
	if err := b.connect(toks); err != nil {
		return err
	}
	time.Sleep(time.Second)
	var callLat, closeLat, deafLat []time.Duration
	for k := 0; k < calls; k++ {
		i := (k * 7919) % conns // spread over rooms and client processes
		user := name(i)
		if strings.HasPrefix(user, "deaf-") {
			continue
		}
		start := time.Now()
		if _, err := b.ivs.DisconnectUser(context.Background(), &ivschat.DisconnectUserInput{RoomIdentifier: aws.String(rooms[i/perRoom]), UserId: aws.String(user)}); err != nil {
			return err
		}
		callLat = append(callLat, time.Since(start))
		deadline := time.Now().Add(10 * time.Second)
		for {
			if at, ok := b.closedAt(user); ok {
				closeLat = append(closeLat, at.Sub(start))
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("client of %s never saw the close", user)
			}
			time.Sleep(200 * time.Microsecond)
		}
	}
	// The deaf ones themselves: the server may not wait on them.
	for i := 0; every > 0 && i < conns && len(deafLat) < calls; i++ {
		user := name(i)
		if !strings.HasPrefix(user, "deaf-") {
			continue
		}
		start := time.Now()
		if _, err := b.ivs.DisconnectUser(context.Background(), &ivschat.DisconnectUserInput{RoomIdentifier: aws.String(rooms[i/perRoom]), UserId: aws.String(user)}); err != nil {
			return err
		}
		deafLat = append(deafLat, time.Since(start))
	}
	fmt.Printf("\nDisconnectUser on node 1 of %d with %d connections open (%d rooms of %d, spread over the nodes; %d%% never read), %d calls:\n",
		len(b.urls), conns, len(rooms), perRoom, deafPct, len(callLat))
	fmt.Printf("  call returned (sockets closed):  p50 %v  p99 %v  max %v\n", pct(callLat, 50), pct(callLat, 99), pct(callLat, 100))
	fmt.Printf("  client saw the close frame:      p50 %v  p99 %v  max %v\n", pct(closeLat, 50), pct(closeLat, 99), pct(closeLat, 100))
	if len(deafLat) > 0 {
		fmt.Printf("  targets that never read, %d calls: p50 %v  p99 %v  max %v\n", len(deafLat), pct(deafLat, 50), pct(deafLat, 99), pct(deafLat, 100))
	}
	return nil
}

func pct(d []time.Duration, p int) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := (len(s)*p + 99) / 100
	if i > 0 {
		i--
	}
	return s[min(i, len(s)-1)].Round(10 * time.Microsecond)
}

// args is a repeatable string flag.
type args []string

func (a *args) String() string     { return strings.Join(*a, " ") }
func (a *args) Set(v string) error { *a = append(*a, v); return nil }
