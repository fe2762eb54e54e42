package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/chime"
	"github.com/aws/aws-sdk-go-v2/service/chime/types"
	"github.com/aws/aws-sdk-go-v2/service/ivschat"
	ivstypes "github.com/aws/aws-sdk-go-v2/service/ivschat/types"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// parleyBinary builds the parley command once per test run.
func parleyBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "parley-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "parley")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// process is a parley server running as a child process.
type process struct {
	cmd *exec.Cmd
	URL string
}

// startProcess runs the binary on dataDir and waits for its banner.
func startProcess(t *testing.T, dataDir string) *process {
	t.Helper()
	return startProcessArgs(t, "--data", dataDir)
}

// startProcessArgs runs the binary with the test credential and args.
func startProcessArgs(t *testing.T, args ...string) *process {
	t.Helper()
	if !containsArg(args, "--data") {
		args = append(args, "--data", t.TempDir())
	}
	cmd := exec.Command(parleyBinary(t), append([]string{"serve", "--addr", "127.0.0.1:0", "--throttle-scale", "0",
		"--access-key-id", testKeyID, "--secret-access-key", testSecret, "--account-id", testAccount}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	url := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "endpoint URL:"); ok {
				url <- strings.TrimSpace(v)
			}
		}
	}()
	select {
	case u := <-url:
		return &process{cmd: cmd, URL: u}
	case <-time.After(30 * time.Second):
		t.Fatal("parley did not print its endpoint")
	}
	return nil
}

func (p *process) client() *ivschat.Client { return IVS(&Main{URL: p.URL}) }

// Ensure everything acknowledged before kill -9 is there after a restart.
func TestKillAndRestart(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	p := startProcess(t, dataDir)
	c := p.client()
	cfg := must(c.CreateLoggingConfiguration(ctx(), &ivschat.CreateLoggingConfigurationInput{Name: aws.String("logs"),
		DestinationConfiguration: &ivstypes.DestinationConfigurationMemberS3{Value: ivstypes.S3DestinationConfiguration{BucketName: aws.String("bucket")}}}))(t, "CreateLoggingConfiguration")
	var rooms []string
	for i := 0; i < 20; i++ {
		r := must(c.CreateRoom(ctx(), &ivschat.CreateRoomInput{Name: aws.String(fmt.Sprint("r", i)), Tags: map[string]string{"i": fmt.Sprint(i)},
			LoggingConfigurationIdentifiers: []string{aws.ToString(cfg.Arn)}}))(t, "CreateRoom")
		rooms = append(rooms, aws.ToString(r.Arn))
	}
	must(c.TagResource(ctx(), &ivschat.TagResourceInput{ResourceArn: aws.String(rooms[0]), Tags: map[string]string{"last": "write"}}))(t, "TagResource")
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.cmd.Wait()

	p = startProcess(t, dataDir)
	c = p.client()
	list := must(c.ListRooms(ctx(), &ivschat.ListRoomsInput{MaxResults: aws.Int32(50)}))(t, "ListRooms")
	if len(list.Rooms) != len(rooms) {
		t.Fatalf("after kill -9: %d rooms, want %d", len(list.Rooms), len(rooms))
	}
	tags := must(c.ListTagsForResource(ctx(), &ivschat.ListTagsForResourceInput{ResourceArn: aws.String(rooms[0])}))(t, "ListTagsForResource")
	if tags.Tags["last"] != "write" || tags.Tags["i"] != "0" {
		t.Fatalf("after kill -9: tags = %v", tags.Tags)
	}
	got := must(c.GetRoom(ctx(), &ivschat.GetRoomInput{Identifier: aws.String(rooms[19])}))(t, "GetRoom")
	if len(got.LoggingConfigurationIdentifiers) != 1 || aws.ToString(got.Name) != "r19" {
		t.Fatalf("after kill -9: room = %+v", got)
	}

	// SIGTERM shuts down cleanly, and the data is still there after that too.
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Wait(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 0 {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	}
	p = startProcess(t, dataDir)
	must(p.client().GetLoggingConfiguration(ctx(), &ivschat.GetLoggingConfigurationInput{Identifier: cfg.Arn}))(t, "GetLoggingConfiguration after SIGTERM")
}

// Ensure a generated credential is kept: the second start uses the first one's key.
func TestGeneratedCredentialPersists(t *testing.T) {
	dir := t.TempDir()
	first := NewMain()
	first.Config.Addr, first.Config.DataDir = "127.0.0.1:0", dir
	if err := first.Run(ctx()); err != nil {
		t.Fatal(err)
	}
	key := *first.Key
	first.Close(ctx())
	if len(key.ID) != 20 || !strings.HasPrefix(key.ID, "AKIA") || len(key.Secret) != 40 || len(key.AccountID) != 12 {
		t.Fatalf("generated key = %+v", key)
	}
	second := NewMain()
	second.Config.Addr, second.Config.DataDir = "127.0.0.1:0", dir
	if err := second.Run(ctx()); err != nil {
		t.Fatal(err)
	}
	defer second.Close(ctx())
	if *second.Key != key {
		t.Fatalf("second start key = %+v, want %+v", *second.Key, key)
	}
	must(IVSAs(second, key.ID, key.Secret, "us-east-1").ListRooms(ctx(), &ivschat.ListRoomsInput{}))(t, "ListRooms with the generated key")
}

// Ensure a crash in the middle of BatchSuspendUser never leaves a user half
// done: after a restart every user is either suspended with every earlier
// session refused, or untouched with its session still good.
func TestKillDuringBatchSuspend(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	p := startProcess(t, dataDir)
	m := &Main{URL: p.URL}
	acc := typedAccount(t, m, "Crash", "EnterpriseLWA")
	var users []string
	for i := 0; i < 50; i++ {
		users = append(users, registeredUser(t, m, acc, fmt.Sprintf("u%d@example.com", i)))
	}
	body, _ := json.Marshal(map[string][]string{"UserIdList": users})
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	partial := 0
	for round := 0; round < 5; round++ {
		tokens := map[string]string{}
		for _, u := range users {
			tokens[u] = mustSession(t, m, acc, u)
		}
		// Suspend all 50 and kill the server after a random moment.
		go signedRequestNoFail(m, "POST", "/accounts/"+acc+"/users?operation=suspend", body)
		time.Sleep(time.Duration(rng.IntN(40_000)) * time.Microsecond)
		p.cmd.Process.Signal(syscall.SIGKILL)
		p.cmd.Wait()

		p = startProcess(t, dataDir)
		m.URL = p.URL
		suspended := 0
		for _, u := range users {
			got := must(Chime(m).GetUser(ctx(), &chime.GetUserInput{AccountId: aws.String(acc), UserId: aws.String(u)}))(t, "GetUser").User
			c, status := device(t, m, tokens[u])
			switch got.UserRegistrationStatus {
			case types.RegistrationStatusSuspended:
				suspended++
				if c != nil || status != http.StatusForbidden {
					t.Fatalf("round %d: user %s is suspended but its session got %d", round, u, status)
				}
			case types.RegistrationStatusRegistered:
				if c == nil {
					t.Fatalf("round %d: user %s is untouched but its session was refused (%d): signed out without being suspended", round, u, status)
				}
				c.NC.Close()
			default:
				t.Fatalf("round %d: user %s is %s", round, u, got.UserRegistrationStatus)
			}
		}
		if suspended > 0 && suspended < len(users) {
			partial++
		}
		t.Logf("round %d: %d of %d users suspended when the server was killed", round, suspended, len(users))
		must(Chime(m).BatchUnsuspendUser(ctx(), &chime.BatchUnsuspendUserInput{AccountId: aws.String(acc), UserIdList: users}))(t, "BatchUnsuspendUser")
	}
	t.Logf("%d of 5 rounds were killed part-way through the batch", partial)
}

// signedRequestNoFail sends a signed chime request and ignores the outcome
// (the server may be killed while it runs).
func signedRequestNoFail(m *Main, method, path string, body []byte) {
	req, err := http.NewRequest(method, m.URL+path, bytes.NewReader(body))
	if err != nil {
		return
	}
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256(body)
	if v4.NewSigner().SignHTTP(ctx(), aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret}, req, hex.EncodeToString(sum[:]), "chime", testRegion, time.Now()) != nil {
		return
	}
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
}

func containsArg(args []string, a string) bool {
	for _, x := range args {
		if x == a {
			return true
		}
	}
	return false
}
