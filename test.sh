#!/usr/bin/env bash
# Runs parley's whole test suite: vet, then every Go test (with the race
# detector where a C compiler is available). Tests that need an outside
# program or service (the AWS CLI, ...) say SKIPPED when it is missing,
# and fail instead when PARLEY_TEST_REQUIRE_BACKENDS=1, as in CI.
set -euo pipefail
cd "$(dirname "$0")"

echo "== go vet"
go vet ./...

# The official JS clients' tests (test/js) need their pinned packages.
if command -v npm >/dev/null 2>&1; then
	echo "== npm ci (test/js)"
	npm ci --prefix test/js --no-audit --no-fund --loglevel=error >/dev/null
else
	echo "note: npm not found, the JS client tests will be skipped"
fi

race=()
if command -v gcc >/dev/null 2>&1 && [ "$(go env CGO_ENABLED)" = "1" ]; then
	race=(-race)
else
	echo "note: no C compiler, running without the race detector"
fi

echo "== go test ${race[*]} ./..."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
go test "${race[@]}" -count=1 -v ./... >"$log" 2>&1
status=$?
set -e
# Package results and failures in full; skips are listed so none goes unseen.
grep -E '^(ok|FAIL|---|panic|\s+\S+_test\.go:[0-9]+:)' "$log" | grep -v -E '^\s*--- PASS' || true
skipped=$(grep -E -c '^\s*--- SKIP' "$log" || true)
passed=$(grep -E -c '^\s*--- PASS' "$log" || true)
failed=$(grep -E -c '^\s*--- FAIL' "$log" || true)
if [ "$skipped" -gt 0 ]; then
	echo "SKIPPED tests (install what they name, or see README):"
	grep -E -A1 '^\s*--- SKIP' "$log" | grep -E 'SKIPPED' | sort -u || true
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ $status -eq 0 ] || exit $status

# A short fuzz of every parser of outside bytes (their seed corpora in
# testdata/fuzz already ran above, with the tests); FUZZING.md has the
# longer campaign. PARLEY_FUZZTIME=0 skips it.
fuzztime=${PARLEY_FUZZTIME:-4s}
if [ "$fuzztime" != "0" ]; then
	for target in .:FuzzParseARN ./sigv4:FuzzVerifyForged ./sigv4:FuzzVerifySigned ./chattoken:FuzzOpen \
		./ivsapi:FuzzIVSAPI ./chimeapi:FuzzChimeAPI ./ws:FuzzClientFrames; do
		pkg=${target%%:*} name=${target##*:}
		echo "== fuzz $name ($pkg, $fuzztime)"
		# A failure that names a failing input is a finding and fails the run.
		# Go's fuzzing coordinator can also fail without one, "context deadline
		# exceeded" at the -fuzztime boundary on a loaded machine (a race in
		# internal/fuzz, golang/go#75804, fixed in Go 1.27): that is retried once.
		for try in 1 2; do
			flog=$(mktemp)
			if go test -run='^$' -fuzz="^$name\$" -fuzztime="$fuzztime" -parallel=1 "$pkg" >"$flog" 2>&1; then
				tail -n 3 "$flog"
				rm -f "$flog"
				break
			fi
			cat "$flog"
			if grep -q -E 'Failing input written to|failure while testing seed corpus' "$flog" || [ "$try" = 2 ]; then
				rm -f "$flog"
				exit 1
			fi
			rm -f "$flog"
			echo "== fuzz $name failed without an input: once more"
		done
	done
fi
