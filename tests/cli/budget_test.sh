#!/usr/bin/env bash
# Budgets: a runaway scenario (tests/fixtures/runaway.toml, hours of work, a
# step budget too large to help) ends on the wall clock with verdict
# wall-budget, in one run and in a sweep, instead of hanging CI.
set -u
blksim=$1
src=$2
runaway=$src/tests/fixtures/runaway.toml
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# One run: exit 1 (a failing verdict), the verdict named, within seconds of its budget.
SECONDS=0
out=$("$blksim" run "$runaway" --wall-budget 1 2>&1)
rc=$?
[ "$rc" -eq 1 ] || fail "run --wall-budget 1 exited $rc, expected 1: $out"
grep -qE '^verdict     wall-budget: wall-clock budget of 1 s exceeded after [0-9]+ events \([0-9]+ dispatched\)' <<<"$out" ||
  fail "run: no wall-budget verdict: $out"
[ "$SECONDS" -le 30 ] || fail "run --wall-budget 1 took $SECONDS s"

# A sweep: each seed ends with wall-budget at its seed timeout (no worker killed).
SECONDS=0
"$blksim" explore "$runaway" --seeds 2 -j 2 --wall-budget 1 --json --no-progress >"$tmp/sweep.jsonl" 2>"$tmp/sweep.txt"
rc=$?
[ "$rc" -eq 1 ] || fail "explore exited $rc, expected 1: $(cat "$tmp/sweep.txt")"
n=$(grep -c '"verdict":"wall-budget"' "$tmp/sweep.jsonl")
[ "$n" -eq 2 ] || fail "explore: $n of 2 seeds ended with wall-budget: $(cat "$tmp/sweep.jsonl")"
[ "$SECONDS" -le 30 ] || fail "explore --wall-budget 1 took $SECONDS s"

# Shrinking needs a deterministic failure; the wall clock is not one.
out=$("$blksim" shrink "$runaway" --wall-budget 1 -o "$tmp/small" 2>&1)
rc=$?
[ "$rc" -eq 2 ] || fail "shrink exited $rc, expected 2: $out"
grep -q 'depends on the machine' <<<"$out" || fail "shrink: message: $out"

# An impossible budget is bad input.
out=$("$blksim" run "$runaway" --wall-budget -1 2>&1)
[ $? -eq 2 ] || fail "--wall-budget -1 was accepted: $out"

echo "budget test: $failures failures"
[ "$failures" -eq 0 ]
