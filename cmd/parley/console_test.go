package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/internal/testenv"
)

// chromium returns the headless browser the console tests drive:
// $PARLEY_CHROMIUM, else Debian's /usr/bin/chromium.
func chromium(t *testing.T) string {
	t.Helper()
	p := os.Getenv("PARLEY_CHROMIUM")
	if p == "" {
		p = "/usr/bin/chromium"
	}
	if _, err := os.Stat(p); err != nil {
		testenv.Unavailable(t, "Chromium at "+p+" (apt-get install chromium)")
	}
	return p
}

// Ensure the operator console works in a real browser (headless Chromium
// driven by playwright-core, test/js/console.test.mjs): sign-in, a room
// made with the AWS CLI, an official amazon-ivs-chat-messaging client seen
// connected and disconnected from the page, a Chime device signed out by a
// suspension, the audit trail, tenancy, and cross-site refusal. The test
// writes screenshots of the main pages to $PARLEY_CONSOLE_SCREENSHOTS, else
// to a fresh temporary directory it names in its log (the committed set in
// console/testdata/screenshots is refreshed by pointing the variable there).
func TestConsoleInBrowser(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Unavailable(t, "node")
	}
	dir, _ := filepath.Abs("../../test/js")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "playwright-core")); err != nil {
		testenv.Unavailable(t, "test/js/node_modules/playwright-core (run: npm ci --prefix test/js)")
	}
	browser := chromium(t)
	m := MustRunMain(t)
	cli := newCLI(t, m)

	// The first tenant's room, made with the AWS CLI.
	arn := cli.mustRun("ivschat", "create-room", "--name", "cli-lobby", "--tags", "event=launch", "--query", "arn")
	// A second tenant, with a room of its own.
	other := &parley.AccessKey{ID: "AKIAPARLEYOTHER00001", Secret: "other/tenant/secret", AccountID: "210987654321", CreateTime: m.Clock.Now()}
	if err := m.Store.PutAccessKey(ctx(), other); err != nil {
		t.Fatal(err)
	}
	IVSAs(m, other.ID, other.Secret, testRegion).CreateRoom(ctx(), nil)
	// A Chime user with a device, signed in.
	account := typedAccount(t, m, "Acme", "EnterpriseLWA")
	user := registeredUser(t, m, account, "dana@example.com")
	device := mustSession(t, m, account, user)

	shots := os.Getenv("PARLEY_CONSOLE_SCREENSHOTS")
	if shots == "" {
		if shots, err = os.MkdirTemp("", "parley-console-screenshots-"); err != nil {
			t.Fatal(err)
		}
	}
	shots, _ = filepath.Abs(shots)
	cmd := exec.Command(node, "--test", "--test-reporter=spec", "console.test.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PARLEY_ENDPOINT="+m.URL, "AWS_ACCESS_KEY_ID="+testKeyID, "AWS_SECRET_ACCESS_KEY="+testSecret,
		"AWS_REGION="+testRegion, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"PARLEY_CHROMIUM="+browser, "PARLEY_SCREENSHOTS="+shots, "ROOM_ARN="+arn,
		"OTHER_KEY_ID="+other.ID, "OTHER_SECRET="+other.Secret,
		"CHIME_ACCOUNT="+account, "CHIME_USER="+user, "DEVICE_TOKEN="+device)
	out, err := cmd.CombinedOutput()
	t.Logf("node --test:\n%s", out)
	if err != nil {
		t.Fatalf("the console's browser tests failed: %v", err)
	}
	t.Logf("screenshots: %s", shots)

	// What the page did went through the API operations: audited with the
	// operator's key as the caller.
	recs, _, err := m.Store.ListAudit(ctx(), testAccount, parley.Page{MaxResults: 100})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, r := range recs {
		if r.Caller == testKeyID {
			actions = append(actions, r.Action)
		}
	}
	for _, want := range []string{"DisconnectUser", "BatchSuspendUser"} {
		if !strings.Contains(strings.Join(actions, " "), want) {
			t.Errorf("audit trail by %s = %v, want %s", testKeyID, actions, want)
		}
	}
}

// consoleSession signs in to m's console and returns a client that sends
// the session cookie and the console's header to any node.
func consoleSession(t *testing.T, m *Main) func(m *Main, method, path, body string) (int, []byte) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	call := func(m *Main, method, path, body string) (int, []byte) {
		req, _ := http.NewRequest(method, m.URL+path, strings.NewReader(body))
		req.Header.Set("X-Parley-Console", "1")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	if status, body := call(m, "POST", "/console/api/session", `{"accessKeyId":"`+testKeyID+`","secretAccessKey":"`+testSecret+`"}`); status != 200 {
		t.Fatalf("console sign-in: %d %s", status, body)
	}
	return call
}

// Ensure the console on one node of a cluster shows every node and who is
// connected where, and its Disconnect closes a client on another node.
func TestClusterConsole(t *testing.T) {
	c := startCluster(t, 2)
	a, b := c.nodes[0], c.nodes[1]
	room := newRoom(t, a, nil)
	x := dial(t, b, token(t, a, room.Arn, "far-away"))
	console := consoleSession(t, a)
	var live struct {
		Nodes []struct {
			ID       string
			Live     bool
			Snapshot *struct {
				IVSRooms []struct {
					RoomID      string
					Connections int
					Users       []struct{ UserID string }
				}
			}
		}
	}
	status, body := console(a, "GET", "/console/api/live?room="+url.QueryEscape(aws.ToString(room.Arn)), "")
	if status != 200 {
		t.Fatalf("live: %d %s", status, body)
	}
	if err := json.Unmarshal(body, &live); err != nil {
		t.Fatal(err)
	}
	where := map[string]string{}
	for _, n := range live.Nodes {
		if n.Snapshot == nil || !n.Live {
			t.Fatalf("node %s: live %v, answered %v; want every node live and answering", n.ID, n.Live, n.Snapshot != nil)
		}
		for _, r := range n.Snapshot.IVSRooms {
			for _, u := range r.Users {
				where[u.UserID] = n.ID
			}
		}
	}
	if len(live.Nodes) != 2 || where["far-away"] != b.NodeID {
		t.Fatalf("live = %s; want 2 nodes, far-away on node B (%s)", body, b.NodeID)
	}
	// Any node serves the session: its cookie is sealed with a key they share.
	if status, body := console(b, "GET", "/console/api/session", ""); status != 200 {
		t.Fatalf("node A's session on node B: %d %s", status, body)
	}
	if status, body := console(a, "POST", "/console/api/ivschat/DisconnectUser", `{"roomIdentifier":"`+aws.ToString(room.Arn)+`","userId":"far-away","reason":"from the console"}`); status != 200 {
		t.Fatalf("DisconnectUser through the console: %d %s", status, body)
	}
	if f := x.NextOf("EVENT"); f.EventName != "aws:DISCONNECT_USER" || f.Attributes["Reason"] != "from the console" {
		t.Fatalf("the client on node B got %+v", f)
	}
	if code := x.WantClose(); code != 1000 {
		t.Fatalf("close %d, want 1000", code)
	}
}
