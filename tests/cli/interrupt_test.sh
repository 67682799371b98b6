#!/usr/bin/env bash
# An interrupted sweep (SIGINT from a terminal reaches the whole process group;
# SIGTERM from a batch system reaches blksim alone) stops, kills its workers,
# and leaves complete result files that cover exactly the seeds that ran, with a
# summary saying so; the exit code is 128 + the signal. An interrupted suite
# never rewrites a baseline.
set -u
blksim=$1
src=$2
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Many seeds, each quick even under the sanitizers, so that some finish first.
slow=$src/scenarios/library/overlapping-writers.toml

check_results() {  # name, jsonl, junit, stderr, rc, expected rc, signal name
  local name=$1 jsonl=$2 junit=$3 err=$4 rc=$5 want=$6 sig=$7
  [ "$rc" -eq "$want" ] || fail "$name: exit $rc, expected $want"
  grep -q "not run (interrupted by $sig)" "$err" || fail "$name: no interrupted summary: $(tail -1 "$err")"
  local lines
  lines=$(wc -l <"$jsonl")
  [ "$lines" -gt 0 ] || fail "$name: no results"
  /usr/bin/python3 - "$jsonl" "$junit" "$lines" <<'PY' || fail "$name: result files incomplete or inconsistent"
import json, sys, xml.etree.ElementTree as ET
runs = [json.loads(l) for l in open(sys.argv[1])]
root = ET.parse(sys.argv[2]).getroot()
cases = root.findall(".//testcase")
assert len(runs) == int(sys.argv[3]) == len(cases), (len(runs), len(cases))
assert sorted(r["seed"] for r in runs) == sorted(int(c.get("name").split()[1]) for c in cases)
PY
  # The seeds that finished need not be a prefix (workers run chunks): the
  # resume file lists exactly those in the results, and says how to go on.
  local resume=${jsonl%.jsonl}.resume.json
  grep -q "^resume: blksim explore --resume $resume -j 2$" "$err" || fail "$name: no resume line: $(tail -3 "$err")"
  /usr/bin/python3 - "$jsonl" "$resume" <<'PY' || fail "$name: the resume file does not list the seeds that finished"
import json, sys
ran = sorted(json.loads(l)["seed"] for l in open(sys.argv[1]))
state = json.load(open(sys.argv[2]))
assert sorted(o["seed"] for o in state["finished"]) == ran
assert len(state["seeds"]) == 1000000
PY
}

# SIGINT to the process group, as Ctrl-C does (setsid: a group of its own).
setsid "$blksim" explore "$slow" --seeds 1000000 -j 2 --json --junit "$tmp/int.xml" --resume-out "$tmp/int.resume.json" \
  >"$tmp/int.jsonl" 2>"$tmp/int.err" &
pid=$!
sleep 3
kill -INT -- "-$pid" 2>/dev/null || kill -INT "$pid"
wait "$pid"
rc=$?
# Results are printed when the sweep ends, so they exist only now.
check_results "explore, SIGINT to the group" "$tmp/int.jsonl" "$tmp/int.xml" "$tmp/int.err" "$rc" 130 SIGINT

# SIGTERM to blksim alone: it must kill its own workers.
"$blksim" explore "$slow" --seeds 1000000 -j 2 --json --junit "$tmp/term.xml" --resume-out "$tmp/term.resume.json" \
  >"$tmp/term.jsonl" 2>"$tmp/term.err" &
pid=$!
sleep 3
kill -TERM "$pid"
wait "$pid"
rc=$?
check_results "explore, SIGTERM to blksim" "$tmp/term.jsonl" "$tmp/term.xml" "$tmp/term.err" "$rc" 143 SIGTERM
sleep 0.5
pgrep -f "explore $slow --seeds 1000000" >/dev/null && fail "explore, SIGTERM: workers left running"

# An interrupted suite: complete JUnit, no baseline written.
"$blksim" suite "$src/scenarios/library" --seeds 1000000 -j 2 --junit "$tmp/suite.xml" \
  --write-baseline "$tmp/baseline.txt" >"$tmp/suite.out" 2>&1 &
pid=$!
sleep 2
kill -TERM "$pid"
wait "$pid"
rc=$?
[ "$rc" -eq 143 ] || fail "suite, SIGTERM: exit $rc, expected 143"
grep -q "interrupted by SIGTERM: 0 of [0-9]* scenarios finished" "$tmp/suite.out" || fail "suite: no interrupted line: $(tail -2 "$tmp/suite.out")"
# What did not finish is not PASS, and the summary does not count it as run.
grep -q "^INCOMPLETE " "$tmp/suite.out" || fail "suite: the scenario the signal stopped is not marked INCOMPLETE: $(cat "$tmp/suite.out")"
if grep -q "^PASS " "$tmp/suite.out"; then fail "suite: a scenario passed before the signal? $(cat "$tmp/suite.out")"; fi
grep -q "^summary: INCOMPLETE: 0 of [0-9]* scenarios finished" "$tmp/suite.out" || fail "suite: the summary claims the scenarios: $(tail -1 "$tmp/suite.out")"
[ -e "$tmp/baseline.txt" ] && fail "suite: an interrupted run wrote a baseline"
/usr/bin/python3 -c "import sys, xml.etree.ElementTree as ET; ET.parse(sys.argv[1])" "$tmp/suite.xml" || fail "suite: JUnit not well-formed"

if [ $failures -ne 0 ]; then
  echo "interrupt_test: $failures failures"
  exit 1
fi
echo "interrupt_test: all checks passed"
