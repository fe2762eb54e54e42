// Package testenv finds the outside programs and services that some tests
// need. A test that lacks one skips, and says so, unless
// PARLEY_TEST_REQUIRE_BACKENDS=1 (set by CI), where it fails instead: in CI
// nothing can be silently skipped.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// Required reports whether missing backends fail tests instead of skipping them.
func Required() bool { return os.Getenv("PARLEY_TEST_REQUIRE_BACKENDS") == "1" }

// Unavailable skips t, or fails it when backends are required.
func Unavailable(t testing.TB, what string) {
	t.Helper()
	if Required() {
		t.Fatalf("%s is required (PARLEY_TEST_REQUIRE_BACKENDS=1) but unavailable", what)
	}
	t.Skipf("SKIPPED: %s unavailable", what)
}

// AWSCLI returns the path of the AWS CLI: $PARLEY_AWS_CLI, else Debian's
// /usr/bin/aws, else aws on PATH.
func AWSCLI(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("PARLEY_AWS_CLI"); p != "" {
		return p
	}
	if _, err := os.Stat("/usr/bin/aws"); err == nil {
		return "/usr/bin/aws"
	}
	p, err := exec.LookPath("aws")
	if err != nil {
		Unavailable(t, "the AWS CLI (apt-get install awscli)")
	}
	return p
}
