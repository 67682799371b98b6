#!/usr/bin/env bash
# One consistent command line: help with plain types and defaults, unknown
# commands and options said plainly with a suggestion, one name per option,
# repro files wherever one run is asked for, pure JSON where JSON is asked for,
# the library found from any directory.
set -u
blksim=$1
src=$2
. "$(dirname "$0")/expect.sh"
lib=$src/scenarios/library

# Help: usage names blksim, types are plain, defaults shown, exit codes and docs listed.
for cmd in run graph trace explore replay shrink report suite bench merge conform list help; do
  out=$("$blksim" "$cmd" --help 2>&1)
  grep -q "^Usage: blksim $cmd " <<<"$out" || fail "$cmd --help: usage does not say 'blksim $cmd': $(head -2 <<<"$out")"
  if grep -qE '\b(TEXT|FLOAT|UINT|INT)\b|in \[' <<<"$out"; then fail "$cmd --help shows a library type name: $out"; fi
done
expect 0 '--seed N +seed of the run \(default 0\)' -- "$blksim" run --help
expect 0 '--wall-budget S .*\(default 120\)' -- "$blksim" explore --help
expect 0 'file FILE .*a scenario file \(\.toml\), or a repro file' -- "$blksim" graph --help
expect 0 '^Exit codes: 0 every run held' -- "$blksim" --help
expect 0 'docs/reference-defects.md' -- "$blksim" --help
expect 0 '9cdcfd9f7a' -- "$blksim" --version
expect 0 '^Usage: blksim explore ' -- "$blksim" help explore
expect 0 '^Usage: blksim ' -- "$blksim" help

# Unknown commands and options, said plainly, with the nearest command.
expect 2 "^blksim: error: unknown command 'exlpore'; did you mean 'explore'\?" -- "$blksim" exlpore x.toml
expect 2 "^blksim: error: unknown command 'frobnicate' \(see blksim --help\)$" -- "$blksim" frobnicate
expect 2 "^blksim: error: help: unknown command 'replya'; did you mean 'replay'\?" -- "$blksim" help replya
expect 2 '^blksim: error: unknown option --frobnicate \(see blksim run --help\)$' -- "$blksim" run "$lib/flush-crash.toml" --frobnicate
expect 2 '^blksim: error: --seed needs a value' -- "$blksim" run "$lib/flush-crash.toml" --seed
expect 2 '^blksim: error: --wall-budget: -3 is out of range \(expected 0 to 1e\+09\)' -- "$blksim" run "$lib/flush-crash.toml" --wall-budget -3
expect 2 '^blksim: error: missing a command' -- "$blksim"

# One option, one name: explore takes no --seed (it sweeps seeds) and its
# per-seed budget is --wall-budget, as for one run.
expect 2 'unknown option --seed' -- "$blksim" explore "$lib/flush-crash.toml" --seed 7
expect 2 'unknown option --seed-timeout' -- "$blksim" explore "$lib/flush-crash.toml" --seed-timeout 5
if "$blksim" explore --help | grep -- '--strategy' | grep -q replay; then fail "explore --help offers the replay strategy"; fi
expect 2 'replay follows one tape' -- "$blksim" explore "$lib/flush-crash.toml" --strategy replay
# The suite has the sweep options explore has.
mkdir -p "$tmp/one" && cp "$lib/flush-crash.toml" "$tmp/one/"
expect 0 '^PASS  flush-crash: 3/3 seeds held, strategy fifo' -- "$blksim" suite "$tmp/one" --seeds 3 --strategy fifo --wall-budget 60
expect 0 'stopped by the time budget|^summary: 1 scenarios' -- "$blksim" suite "$tmp/one" --seeds 3 --time-budget 600 --stop-on-first

# A repro file wherever one run is asked for.
"$blksim" run "$lib/breakpoint-deadlock.toml" --seed 0 --repro-out "$tmp/dl.repro.json" >/dev/null 2>&1
expect 1 'wait graph  ' -- "$blksim" graph "$tmp/dl.repro.json" -o "$tmp/dl.dot"
grep -q 'color=red' "$tmp/dl.dot" || fail "graph of a deadlock repro does not draw the cycle"
expect 1 'trace: [0-9]+ of [0-9]+ events' -- "$blksim" trace "$tmp/dl.repro.json" -o "$tmp/dl.trace"
expect 2 'is a repro file: replay it' -- "$blksim" run "$tmp/dl.repro.json"
expect 2 'is a repro file: it fixes the seed' -- "$blksim" graph "$tmp/dl.repro.json" --seed 3 -o "$tmp/x.dot"

# JSON where JSON is asked for, and nothing else on stdout.
"$blksim" run "$lib/flush-crash.toml" --seed 1 --json --export-images "$tmp/img" --repro-out "$tmp/r.json" >"$tmp/run.json" 2>/dev/null
python3 -c 'import json,sys; json.loads(open(sys.argv[1]).read())' "$tmp/run.json" || fail "run --json printed more than one JSON object: $(cat "$tmp/run.json")"
"$blksim" explore "$lib/breakpoint-deadlock.toml" --seeds 2 --json --no-progress >"$tmp/dl.jsonl" 2>/dev/null
python3 - "$tmp/dl.jsonl" <<'PY' || fail "explore --json does not carry each failure's details and signature"
import json, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
assert len(runs) == 2
for r in runs:
    assert r["signature"].startswith("deadlock [cycle "), r
    assert any(d.startswith("wait cycle:") for d in r["details"]), r["details"]
PY
"$blksim" shrink "$tmp/dl.repro.json" --json -o "$tmp/small" >"$tmp/shrink.json" 2>/dev/null
python3 - "$tmp/shrink.json" <<'PY' || fail "shrink --json is not one JSON object with the signature: $(cat "$tmp/shrink.json")"
import json, sys
j = json.loads(open(sys.argv[1]).read())
assert j["signature"].startswith("deadlock [cycle ") and j["checked"].startswith("identical"), j
PY
"$blksim" conform --cases 3 --seed 1 --json >"$tmp/conform.json" 2>/dev/null
python3 -c 'import json,sys; j = json.loads(open(sys.argv[1]).read()); assert j["cases"] == 3 and j["differ"] == 0, j' \
  "$tmp/conform.json" || fail "conform --json is not one JSON summary: $(cat "$tmp/conform.json")"
# replay's verdict and comparison go to stdout.
"$blksim" replay "$tmp/dl.repro.json" >"$tmp/replay.out" 2>/dev/null
grep -q '^replay      identical' "$tmp/replay.out" || fail "replay's comparison is not on stdout: $(cat "$tmp/replay.out")"

# The library from any directory.
expect 0 '^flush-crash  \(' -- in_dir / "$blksim" list scenarios

finish consistency_test
