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
# longer campaign. Each target runs a number of inputs, about 4 s of them
# on a 2-core machine: a count, not a duration, because Go's fuzzing
# coordinator can fail a duration run at its deadline with "context
# deadline exceeded" and no input (a race in internal/fuzz,
# golang/go#75804, fixed in Go 1.27), and did so twice in a row under CI.
# PARLEY_FUZZTIME, any -fuzztime value (30s, 100000x), applies to every
# target instead; 0 skips the step.
fuzztime=${PARLEY_FUZZTIME:-}
if [ "$fuzztime" != "0" ]; then
	for target in .:FuzzParseARN:50000x ./sigv4:FuzzVerifyForged:25000x ./sigv4:FuzzVerifySigned:10000x \
		./chattoken:FuzzOpen:20000x ./ivsapi:FuzzIVSAPI:10000x ./chimeapi:FuzzChimeAPI:4000x ./ws:FuzzClientFrames:15000x; do
		IFS=: read -r pkg name count <<<"$target"
		budget=${fuzztime:-$count}
		echo "== fuzz $name ($pkg, $budget)"
		# A failure that names a failing input is a finding and fails the run.
		# One without (the coordinator's race above, if a duration was asked
		# for) is retried once.
		for try in 1 2; do
			flog=$(mktemp)
			if go test -run='^$' -fuzz="^$name\$" -fuzztime="$budget" -parallel=1 "$pkg" >"$flog" 2>&1; then
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
