// Command soak runs a parley server under churn for a long time and
// samples what must level off: the server's memory, goroutines and open
// descriptors, and the size of its database (file and write-ahead log).
//
// Churn: -conns clients each loop minting a token (signed CreateChatToken),
// connecting, staying 1 to 10 s and leaving; -revocations DisconnectUser
// calls a second on connected users (each checked closed before its call
// returned); rooms created and deleted; Chime users created and signed out.
// The server runs with short retention windows (-audit-retention,
// -token-lifetime) so that the steady state arrives within the run; the
// defaults reach the same state after the token lifetime (60 minutes) and
// the audit retention (90 days).
//
//	go build -o /tmp/parley ./cmd/parley && go run ./bench/soak -parley /tmp/parley -duration 30m
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
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
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ivschat"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

const (
	keyID   = "AKIASOAKSOAKSOAK0001"
	secret  = "soak-secret-soak-secret-soak-secret-0001"
	account = "123456789012"
)

func main() {
	parley := flag.String("parley", "", "path of the parley binary (required)")
	duration := flag.Duration("duration", 30*time.Minute, "how long to run")
	conns := flag.Int("conns", 3000, "clients churning connections")
	revocations := flag.Float64("revocations", 9, "DisconnectUser calls per second")
	rooms := flag.Int("rooms", 50, "rooms the clients spread over")
	every := flag.Duration("sample", time.Minute, "how often to sample")
	retention := flag.String("audit-retention", "5m", "the server's --audit-retention")
	lifetime := flag.String("token-lifetime", "2m", "the server's --token-lifetime")
	flag.Parse()
	if *parley == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*parley, *duration, *conns, *revocations, *rooms, *every, *retention, *lifetime); err != nil {
		log.Fatal(err)
	}
}

type soak struct {
	ivs     *ivschat.Client
	url     string
	dataDir string
	pid     int
	debug   string

	mu     sync.Mutex
	online map[string]map[string]net.Conn // room -> user -> socket
	rooms  []string

	opened, dialFail, revoked, revokeFail, lateClose, apiFail atomic.Int64
	revokeMax                                                 atomic.Int64 // nanoseconds, since the last sample
}

func run(bin string, duration time.Duration, conns int, revRate float64, nRooms int, every time.Duration, retention, lifetime string) error {
	dir, err := os.MkdirTemp("", "soak")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	s := &soak{dataDir: filepath.Join(dir, "data"), online: map[string]map[string]net.Conn{}, debug: freeAddr()}
	srv := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data", s.dataDir, "--throttle-scale", "0",
		"--max-connections-per-ip", "0", "--handshake-rate", "0", "--log-level", "error", "--debug-addr", s.debug,
		"--access-key-id", keyID, "--secret-access-key", secret, "--account-id", account,
		"--audit-retention", retention, "--token-lifetime", lifetime)
	srv.Stderr = os.Stderr
	srv.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := srv.StdoutPipe()
	if err != nil {
		return err
	}
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() { srv.Process.Kill(); srv.Wait() }()
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "endpoint URL:"); ok {
			s.url = strings.TrimSpace(v)
			break
		}
	}
	go io.Copy(io.Discard, out)
	if s.url == "" {
		return errors.New("parley did not start")
	}
	s.pid = srv.Process.Pid
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(keyID, secret, ""),
		HTTPClient: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	s.ivs = ivschat.NewFromConfig(cfg, func(o *ivschat.Options) { o.BaseEndpoint = aws.String(s.url) })
	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	for range nRooms {
		r, err := s.ivs.CreateRoom(ctx, &ivschat.CreateRoomInput{MaximumMessageRatePerSecond: aws.Int32(100)})
		if err != nil {
			return err
		}
		s.rooms = append(s.rooms, aws.ToString(r.Arn))
	}

	fmt.Printf("soak: %d churning clients, %.0f revocations/s, %d rooms, --audit-retention %s --token-lifetime %s, for %v\n",
		conns, revRate, nRooms, retention, lifetime, duration)
	fmt.Println("| minute | RSS MiB | goroutines | fds | db+wal MiB | sockets opened | revoked (closed before return) | slowest revocation since the last sample, ms | dial/API failures |")
	fmt.Println("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	var wg sync.WaitGroup
	for i := range conns {
		wg.Add(1)
		go func() { defer wg.Done(); s.client(ctx, i) }()
	}
	wg.Add(2)
	go func() { defer wg.Done(); s.revoke(ctx, revRate) }()
	go func() { defer wg.Done(); s.roomChurn(ctx) }()
	start := time.Now()
	t := time.NewTicker(every)
	s.sample(start)
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case <-t.C:
		}
		s.sample(start)
	}
	wg.Wait()
	return nil
}

// client churns one connection: token, connect, stay, leave.
func (s *soak) client(ctx context.Context, i int) {
	time.Sleep(time.Duration(rand.IntN(10000)) * time.Millisecond) // spread the first wave
	for n := 0; ctx.Err() == nil; n++ {
		room := s.rooms[rand.IntN(len(s.rooms))]
		user := fmt.Sprintf("c%d-%d", i, n)
		tok, err := s.ivs.CreateChatToken(ctx, &ivschat.CreateChatTokenInput{RoomIdentifier: aws.String(room), UserId: aws.String(user)})
		if err != nil {
			if ctx.Err() == nil {
				s.apiFail.Add(1)
			}
			time.Sleep(time.Second)
			continue
		}
		d := ws.Dialer{Protocols: []string{aws.ToString(tok.Token)}, Timeout: 10 * time.Second}
		nc, _, _, err := d.Dial(ctx, "ws"+strings.TrimPrefix(s.url, "http"))
		if err != nil {
			if ctx.Err() == nil && s.dialFail.Add(1) <= 10 { // the first few, to tell why
				fmt.Fprintf(os.Stderr, "soak: dial failed at %s: %v\n", time.Now().Format(time.TimeOnly), err)
			}
			time.Sleep(time.Second)
			continue
		}
		s.opened.Add(1)
		s.mu.Lock()
		if s.online[room] == nil {
			s.online[room] = map[string]net.Conn{}
		}
		s.online[room][user] = nc
		s.mu.Unlock()
		closed := make(chan struct{})
		go func() { // read until the server closes it, answering pings
			defer close(closed)
			for {
				if _, _, err := wsutil.ReadServerData(nc); err != nil {
					return
				}
			}
		}()
		select {
		case <-time.After(time.Duration(1000+rand.IntN(9000)) * time.Millisecond):
		case <-closed:
		case <-ctx.Done():
		}
		s.mu.Lock()
		delete(s.online[room], user)
		s.mu.Unlock()
		nc.Close()
		<-closed
	}
}

// revoke disconnects connected users at rate a second, and checks each
// socket was closed by the time its call returned.
func (s *soak) revoke(ctx context.Context, rate float64) {
	t := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer t.Stop()
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.mu.Lock()
		var room, user string
		var nc net.Conn
		for r, users := range s.online {
			for u, c := range users {
				room, user, nc = r, u, c
				break
			}
			if nc != nil {
				break
			}
		}
		s.mu.Unlock()
		if nc == nil {
			continue
		}
		go func() {
			start := time.Now()
			_, err := s.ivs.DisconnectUser(ctx, &ivschat.DisconnectUserInput{RoomIdentifier: aws.String(room), UserId: aws.String(user)})
			took := time.Since(start)
			if err != nil {
				if ctx.Err() == nil {
					s.revokeFail.Add(1)
				}
				return
			}
			for old := s.revokeMax.Load(); int64(took) > old && !s.revokeMax.CompareAndSwap(old, int64(took)); old = s.revokeMax.Load() {
			}
			s.revoked.Add(1)
			// Closed before the call returned: a read finds EOF or the
			// close frame at once, without waiting.
			nc.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			buf := make([]byte, 4096)
			for {
				if _, err := nc.Read(buf); err != nil {
					var ne net.Error
					if errors.As(err, &ne) && ne.Timeout() {
						s.lateClose.Add(1)
					}
					return
				}
			}
		}()
	}
}

// roomChurn creates and deletes a room every second.
func (s *soak) roomChurn(ctx context.Context) {
	for ctx.Err() == nil {
		r, err := s.ivs.CreateRoom(ctx, &ivschat.CreateRoomInput{})
		if err == nil {
			_, err = s.ivs.DeleteRoom(ctx, &ivschat.DeleteRoomInput{Identifier: r.Arn})
		}
		if err != nil && ctx.Err() == nil {
			s.apiFail.Add(1)
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func (s *soak) sample(start time.Time) {
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", s.pid))
	var db int64
	for _, name := range []string{"parley.db", "parley.db-wal"} {
		if fi, err := os.Stat(filepath.Join(s.dataDir, name)); err == nil {
			db += fi.Size()
		}
	}
	fmt.Printf("| %.0f | %.1f | %d | %d | %.2f | %d | %d (%d late) | %.1f | %d/%d |\n", time.Since(start).Minutes(), float64(rss(s.pid))/(1<<20),
		goroutines(s.debug), len(fds), float64(db)/(1<<20), s.opened.Load(), s.revoked.Load(), s.lateClose.Load(),
		float64(s.revokeMax.Swap(0))/1e6, s.dialFail.Load(), s.apiFail.Load()+s.revokeFail.Load())
}

func rss(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// goroutines reads the server's goroutine count from its pprof endpoint.
func goroutines(debug string) int {
	resp, err := http.Get("http://" + debug + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	line, _ := bufio.NewReader(resp.Body).ReadString('\n') // "goroutine profile: total N"
	n, _ := strconv.Atoi(strings.TrimSpace(line[strings.LastIndex(line, " ")+1:]))
	return n
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
