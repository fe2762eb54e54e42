package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ivschat"
	"github.com/aws/aws-sdk-go-v2/service/ivschat/types"
	"github.com/aws/smithy-go"
)

// apiOpts are the api phase's flags.
type apiOpts struct {
	ops       []string
	workers   []int
	duration  time.Duration
	warmup    time.Duration
	idleConns int // the SDK transport's idle connections per host; 0: as many as workers
	rooms     int
	stormOpts *stormOpts
}

// apiCell measures one operation at one concurrency: a fresh server with
// its default security (every request SigV4-verified), o.rooms rooms, and
// workers goroutines calling op in a loop through one aws-sdk-go-v2
// client, which signs every request. No retries: a failed call counts as
// failed. DisconnectUser names users who are not connected (its cheap
// path: the audit record and the command, no socket to close).
func (b *bench) apiCell(op string, workers int, o *apiOpts) error {
	if err := b.start(); err != nil {
		return err
	}
	defer b.stop()
	var rooms []string
	for i := 0; i < o.rooms; i++ {
		r, err := b.room()
		if err != nil {
			return err
		}
		rooms = append(rooms, r)
	}
	idle := o.idleConns
	if idle == 0 {
		idle = workers
	}
	httpClient := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConnsPerHost, t.MaxIdleConns = idle, max(idle, 100)
	})
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(keyID, secret, ""), HTTPClient: httpClient}
	client := ivschat.NewFromConfig(cfg, func(opt *ivschat.Options) {
		opt.BaseEndpoint = aws.String(b.url)
		opt.Retryer = aws.NopRetryer{}
	})
	var seq atomic.Int64
	call := func(ctx context.Context) error {
		i := seq.Add(1)
		room := aws.String(rooms[int(i)%len(rooms)])
		switch op {
		case "DisconnectUser":
			_, err := client.DisconnectUser(ctx, &ivschat.DisconnectUserInput{RoomIdentifier: room,
				UserId: aws.String(fmt.Sprintf("absent-%d", i)), Reason: aws.String("chatbench")})
			return err
		case "CreateChatToken":
			_, err := client.CreateChatToken(ctx, &ivschat.CreateChatTokenInput{RoomIdentifier: room,
				UserId: aws.String(fmt.Sprintf("u-%d", i)), Capabilities: []types.ChatTokenCapability{types.ChatTokenCapabilitySendMessage}})
			return err
		}
		return fmt.Errorf("unknown operation %q", op)
	}
	run := func(d time.Duration, h *hist) (ok, failed int64, errs map[string]int) {
		end := time.Now().Add(d)
		var okN, failN atomic.Int64
		var mu sync.Mutex
		errs = map[string]int{}
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(end) {
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					start := time.Now()
					err := call(ctx)
					took := time.Since(start)
					cancel()
					if err != nil {
						failN.Add(1)
						mu.Lock()
						errs[errorCode(err)]++
						mu.Unlock()
						continue
					}
					okN.Add(1)
					if h != nil {
						h.add(took)
					}
				}
			}()
		}
		wg.Wait()
		return okN.Load(), failN.Load(), errs
	}
	fmt.Printf("\n%s, %d workers (one aws-sdk-go-v2 client, %d idle connections per host, no retries), %v after %v of warm-up; load average %s\n",
		op, workers, idle, o.duration, o.warmup, loadavg())
	if op == "DisconnectUser" {
		fmt.Printf("  (every call names a user who is not connected: the cheap path, nothing to close)\n")
	}
	run(o.warmup, nil)
	cpu := b.cpuStart(b.srv.Process.Pid)
	defer o.stormOpts.profile(b.parleyTarget(), fmt.Sprintf("%s-%d", op, workers), o.duration)()
	h := new(hist)
	start := time.Now()
	ok, failed, errs := run(o.duration, h)
	d := time.Since(start)
	srv, _, own := cpu.stop()
	fmt.Printf("  %d calls in %v = %.0f calls/s; %d failed %v\n", ok, d.Round(time.Millisecond), float64(ok)/d.Seconds(), failed, errs)
	fmt.Printf("  latency %s\n", h.latencies())
	fmt.Printf("  CPU: server %s (%.2f cores), client (this process) %s (%.2f cores), %s\n",
		secs(srv), srv.Seconds()/d.Seconds(), secs(own), own.Seconds()/d.Seconds(), cpu.othersNote())
	o.stormOpts.row("| parley | %s, %d workers, %v | %.0f calls/s (%d failed) | latency p50 %s, p99 %s, max %s; CPU server %s, client %s, %s",
		op, workers, o.duration, float64(ok)/d.Seconds(), failed, ms(h.pct(50)), ms(h.pct(99)), ms(h.pct(100)), secs(srv), secs(own), cpu.othersNote())
	return nil
}

// errorCode names an API error by its code, or its Go type.
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	var oe *smithy.OperationError
	if errors.As(err, &oe) {
		return fmt.Sprintf("%T", oe.Unwrap())
	}
	return fmt.Sprintf("%T", err)
}
