package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

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
