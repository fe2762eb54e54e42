package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/parley-chat/parley/internal/testenv"
)

// Ensure the official JS clients work unchanged against parley: the
// amazon-ivs-chat-messaging client over WebSocket and @aws-sdk/client-ivschat
// (test/js, installed by ./test.sh with npm ci).
func TestJSClients(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Unavailable(t, "node")
	}
	dir, _ := filepath.Abs("../../test/js")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "amazon-ivs-chat-messaging")); err != nil {
		testenv.Unavailable(t, "test/js/node_modules (run: npm ci --prefix test/js)")
	}
	m := MustRunMain(t)
	cmd := exec.Command(node, "--test", "--test-reporter=spec", "chat.test.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PARLEY_ENDPOINT="+m.URL, "AWS_ACCESS_KEY_ID="+testKeyID, "AWS_SECRET_ACCESS_KEY="+testSecret,
		"AWS_REGION="+testRegion, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	out, err := cmd.CombinedOutput()
	t.Logf("node --test:\n%s", out)
	if err != nil {
		t.Fatalf("the JS client tests failed: %v", err)
	}
}
