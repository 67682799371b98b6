#!/usr/bin/env bash
# The blksim command line as a user meets it: exit codes, one-line errors with
# file:line, replay from a tape, graphs written, the suite summary.
set -u
blksim=$1
src=$2
. "$(dirname "$0")/expect.sh"
lib=$src/scenarios/library
skeleton=$lib/overlapping-writers.toml

expect 2 '^blksim: error: .*--frobnicate' -- "$blksim" run "$skeleton" --frobnicate
expect 2 '^blksim: error: ' -- "$blksim"
expect 2 '^blksim: error: .*nothere.toml: cannot open scenario file' -- "$blksim" run "$tmp/nothere.toml"
expect 2 "strategy 'lifo'" -- "$blksim" run "$skeleton" --strategy lifo
expect 2 'pct:D with D from 1 to 64' -- "$blksim" run "$skeleton" --strategy pct:99
expect 2 'needs --tape' -- "$blksim" run "$skeleton" --strategy replay
expect 2 "^blksim: error: --seed: expected an integer from 0 to 18446744073709551615, got 'minus-one'$" -- "$blksim" run "$skeleton" --seed minus-one
expect 2 "got '-1'" -- "$blksim" run "$skeleton" --seed -1
expect 2 "got '99999999999999999999'" -- "$blksim" run "$skeleton" --seed 99999999999999999999
expect 0 '^seed        18446744073709551615$' -- "$blksim" run "$skeleton" --seed 18446744073709551615
expect 2 'is a directory, not a scenario file' -- "$blksim" run "$lib"
expect 2 "unknown graph format 'gif'" -- "$blksim" graph "$skeleton" -o "$tmp/x.gif"
expect 0 'Usage' -- "$blksim" --help

sed 's/request_alignment = 4096/request_alignment = 3000/' "$skeleton" >"$tmp/bad-align.toml"
expect 2 "^blksim: error: $tmp/bad-align.toml:[0-9]+:[0-9]+: node .disk0..request_alignment: expected a power of two, got 3000$" \
  -- "$blksim" run "$tmp/bad-align.toml"
printf '[scenario\nname = "x"\n' >"$tmp/syntax.toml"
expect 2 "$tmp/syntax.toml:1:[0-9]+: TOML syntax" -- "$blksim" run "$tmp/syntax.toml"
printf 'not a tape' >"$tmp/bad.tape"
expect 2 'bad.tape: choice tape entry 1' -- "$blksim" run "$skeleton" --tape "$tmp/bad.tape"

# A run prints its verdict and fingerprint; the same seed gives the same fingerprint.
expect 0 '^fingerprint [0-9a-f]{16}$' -- "$blksim" run "$skeleton" --seed 5
fp1=$("$blksim" run "$skeleton" --seed 5 --strategy pct:3 --tape-out "$tmp/run.tape" | awk '/^fingerprint/ {print $2}')
fp2=$("$blksim" run "$skeleton" --seed 5 --strategy pct:3 | awk '/^fingerprint/ {print $2}')
[ -n "$fp1" ] && [ "$fp1" = "$fp2" ] || fail "same seed gave fingerprints '$fp1' and '$fp2'"
fp3=$("$blksim" run "$skeleton" --seed 5 --tape "$tmp/run.tape" | awk '/^fingerprint/ {print $2}')
[ "$fp1" = "$fp3" ] || fail "replaying the tape gave $fp3, the run gave $fp1"
"$blksim" run "$skeleton" --seed 5 --tape "$tmp/run.tape" | grep -q '^divergence' && fail "replay reported a divergence"

# The trace streams as JSON Lines, one event per line.
"$blksim" run "$skeleton" --seed 2 --trace-out "$tmp/trace.jsonl" >"$tmp/run.txt"
events=$(awk '/^events/ {print $2}' "$tmp/run.txt")
lines=$(wc -l <"$tmp/trace.jsonl")
[ "$events" = "$lines" ] || fail "trace has $lines lines for $events events"
grep -q '"ev":"wait_begin".*"reason":"serialising"' "$tmp/trace.jsonl" || fail "trace shows no serialising wait"

# Machine-readable output: JSON Lines and JUnit.
"$blksim" run "$skeleton" --seed 4 --json >"$tmp/run.json"
python3 - "$tmp/run.json" <<'PY' || fail "run --json is not one JSON object with verdict and fingerprint"
import json, sys
d = json.loads(open(sys.argv[1]).read())
assert d["verdict"] == "pass" and len(d["fingerprint"]) == 16 and d["seed"] == 4
PY
mkdir "$tmp/mixed-results" && cp "$skeleton" "$src/tests/fixtures/wrong-read.toml" "$tmp/mixed-results/"
"$blksim" suite "$tmp/mixed-results" --seeds 3 --json --junit "$tmp/junit.xml" >"$tmp/suite.jsonl" 2>"$tmp/suite.txt"
[ $? -eq 1 ] || fail "a suite with a failing scenario did not exit 1"
grep -q '^summary: 2 scenarios, 6 runs, 3 held, 3 failed (3 new, 0 known, 0 expected), 0 unexpected passes$' "$tmp/suite.txt" || fail "suite --json summary missing from stderr"
python3 - "$tmp/suite.jsonl" "$tmp/junit.xml" <<'PY' || fail "suite --json / --junit output is wrong"
import json, sys
import xml.dom.minidom as m
runs = [json.loads(line) for line in open(sys.argv[1])]
assert len(runs) == 6, runs
failed = [r for r in runs if r["verdict"] != "pass"]
assert len(failed) == 3 and all(r["repro"].startswith("blksim run ") for r in failed)
doc = m.parse(sys.argv[2]).documentElement
assert doc.getAttribute("tests") == "6" and doc.getAttribute("failures") == "3"
failures = doc.getElementsByTagName("failure")
# The failure's type is its signature: here the scenario's own read -P expectation.
assert len(failures) == 3 and failures[0].getAttribute("type") == "oracle:expect [read -P: other data]", failures[0].getAttribute("type")
assert all(r["signature"] == "oracle:expect [read -P: other data]" for r in failed)
PY
[ ! -e "$tmp/junit.xml.tmp" ] || fail "a temporary JUnit file was left behind"

# Lists.
expect 0 '^rmw-breakpoints  \(' -- "$blksim" list scenarios --dir "$lib"
expect 0 '^pct:D ' -- "$blksim" list strategies
expect 0 '^cow ' -- "$blksim" list drivers
expect 0 '^pwritev_rmw_after_tail$' -- "$blksim" list events
expect 0 'ENOSPC' -- "$blksim" list errnos
expect 0 '^block_resize$' -- "$blksim" list actions
expect 0 '^pdiscard, -ENOTSUP: ignore$' -- "$blksim" list error-table
expect 0 '^top ' -- "$blksim" list drivers
expect 2 "list: unknown kind 'oracless'" -- "$blksim" list oracless

# Images: visible and durable contents of each mem node as raw files.
mkdir "$tmp/images"
expect 0 "^exported    $tmp/images/disk0.durable.raw$" -- "$blksim" run "$skeleton" --seed 1 --export-images "$tmp/images"
[ "$(stat -c %s "$tmp/images/disk0.visible.raw")" = 65536 ] || fail "visible image is not the node's size"
[ "$(head -c 40961 "$tmp/images/disk0.visible.raw" | tail -c 1 | od -An -tx1 | tr -d ' ')" = 31 ] || fail "visible image lacks the flusher's write"
expect 0 "^exported    $tmp/new/dir/disk0.visible.raw$" -- "$blksim" run "$skeleton" --export-images "$tmp/new/dir"
: >"$tmp/afile"
expect 2 'export-images: cannot create the directory' -- "$blksim" run "$skeleton" --export-images "$tmp/afile/x"

# A failing run: exit 1, the violated property and a repro line.
wrong=$src/tests/fixtures/wrong-read.toml
expect 1 '^verdict     oracle: read -P: job .j.' -- "$blksim" run "$wrong" --seed 3
expect 1 "^repro       blksim run $wrong --seed 3 --strategy random$" -- "$blksim" run "$wrong" --seed 3

# Graphs in each format.
expect 0 'wait graph' -- "$blksim" graph "$skeleton" --seed 1 -o "$tmp/w.dot"
grep -q '^digraph waits {' "$tmp/w.dot" || fail "DOT output does not start with the graph"
expect 0 'wait graph' -- "$blksim" graph "$skeleton" --seed 1 -o "$tmp/w.svg"
grep -q '<svg' "$tmp/w.svg" || fail "SVG output has no <svg> element"
expect 0 'wait graph' -- "$blksim" graph "$skeleton" --seed 1 -o "$tmp/w.png"
[ "$(head -c 4 "$tmp/w.png" | tail -c 3)" = "PNG" ] || fail "PNG output lacks the PNG signature"

# The suite: a summary line, one wait graph per scenario; a bad file fails it all with exit 2.
# (Three scenarios, one run again with a known defect's fix: the library's
# own entries run all of them.)
mkdir "$tmp/glib" && cp "$lib/fua-crash.toml" "$lib/backend-drains.toml" "$lib/cache-modes.toml" "$tmp/glib/"
expect 0 '^summary: 3 scenarios, [0-9]+ runs, [0-9]+ held, [0-9]+ failed [(]0 new, ' -- "$blksim" suite "$tmp/glib" --seeds 2 --baseline "$lib/known-failures.txt" --graph-dir "$tmp/graphs"
for name in fua-crash fua-crash+fix-fua-clean-node backend-drains cache-modes; do
  [ -s "$tmp/graphs/$name.svg" ] || fail "suite wrote no wait graph $name.svg: $(ls "$tmp/graphs")"
done
mkdir "$tmp/mixed" && cp "$skeleton" "$tmp/bad-align.toml" "$tmp/mixed/"
expect 2 'request_alignment: expected a power of two' -- "$blksim" suite "$tmp/mixed"
expect 2 'not a directory' -- "$blksim" suite "$tmp/none"

# explore: worker processes, failing seeds with repro lines, shards, JSON Lines, JUnit, repro files.
fua=$lib/fua-crash.toml
expect 0 '^explored 12 seeds of overlapping-writers with 2 workers in [0-9]+ ms \([0-9]+ seeds/s\): 12 held, 0 failed$' \
  -- "$blksim" explore "$skeleton" --seeds 12 -j 2
expect 1 '^FAIL oracle:serialisation \[.*\]: [0-9] seeds?, first seed 3: ' \
  -- "$blksim" explore "$skeleton" --seed-range 3..5 --mutant skip-serialising-wait
expect 1 '^     repro: blksim run /.*overlapping-writers.toml --seed 3 --strategy random --mutant skip-serialising-wait$' \
  -- "$blksim" explore "$skeleton" --seed-range 3..5 --mutant skip-serialising-wait
expect 1 '^FAIL seed 3: oracle:serialisation \[.*\]: ' \
  -- "$blksim" explore "$skeleton" --seed-range 3..5 --mutant skip-serialising-wait --each
"$blksim" explore "$skeleton" --seeds 9 -j 2 --mutant skip-serialising-wait --json >"$tmp/all.jsonl" 2>/dev/null
for k in 1 2 3; do
  "$blksim" explore "$skeleton" --seeds 9 --shard $k/3 --mutant skip-serialising-wait --json 2>/dev/null
done | python3 -c 'import json,sys; print("\n".join(sorted(json.dumps({k: v for k, v in json.loads(l).items() if k != "shard"}, sort_keys=True) for l in sys.stdin)))' >"$tmp/shards.txt"
python3 -c 'import json,sys; print("\n".join(sorted(json.dumps(json.loads(l), sort_keys=True) for l in open(sys.argv[1]))))' "$tmp/all.jsonl" >"$tmp/whole.txt"
cmp -s "$tmp/whole.txt" "$tmp/shards.txt" || fail "the union of three shards differs from the whole sweep"
[ "$(wc -l <"$tmp/whole.txt")" = 9 ] || fail "explore --json printed $(wc -l <"$tmp/whole.txt") lines for 9 seeds"
expect 1 'explored 1 seeds .* 0 held, 1 failed \(1 signature\), 19 not run \(stopped at the first failure\)' \
  -- "$blksim" explore "$fua" --seeds 20 --stop-on-first
"$blksim" explore "$fua" --seeds 3 --repro-dir "$tmp/repros" --junit "$tmp/explore.xml" >/dev/null
[ $? -eq 1 ] || fail "explore with failing seeds did not exit 1"
ls "$tmp/repros"/fua-crash.seed{0,1,2}.repro.json >/dev/null 2>&1 || fail "explore --repro-dir wrote no repro files"
grep -q 'failures="3"' "$tmp/explore.xml" || fail "explore --junit does not count 3 failures"
# The budget is checked before each worker starts: a seed run finishing within
# the microsecond may still report its first chunk (at most 6 of 50 seeds).
expect 0 'explored [0-6] seeds .* [0-6] held, 0 failed, (4[4-9]|50) not run \(time budget\)' \
  -- "$blksim" explore "$skeleton" --time-budget 0.000001
expect 2 "--shard: expected K/N with 1 <= K <= N, got '4/3'" -- "$blksim" explore "$skeleton" --shard 4/3
expect 2 "--seed-range: expected A..B" -- "$blksim" explore "$skeleton" --seed-range 7
expect 2 "give --seeds or --seed-range, not both" -- "$blksim" explore "$skeleton" --seeds 3 --seed-range 1..2
expect 2 "unknown mutant 'typo'" -- "$blksim" explore "$skeleton" --mutant typo

# replay: a repro file runs bit for bit; an edited one reports where it diverges.
expect 1 '^replay      identical: [0-9]+ events, fingerprint [0-9a-f]{16}$' -- "$blksim" replay "$tmp/repros/fua-crash.seed1.repro.json"
expect 1 '^property    durability$' -- "$blksim" replay "$tmp/repros/fua-crash.seed1.repro.json"
"$blksim" run "$lib/rmw-alignments.toml" --seed 2 --repro-out "$tmp/rmw.repro.json" >/dev/null || fail "run --repro-out failed"
expect 0 '^replay      identical' -- "$blksim" replay "$tmp/rmw.repro.json"
python3 - "$tmp/rmw.repro.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["checkpoints"][2:] = ["0" * 16 for _ in d["checkpoints"][2:]]
d["expected"]["fingerprint"] = "0" * 16
json.dump(d, open(sys.argv[1], "w"))
PY
expect 1 '^replay      DIVERGED: the first differing event is in \[512, 768\)' -- "$blksim" replay "$tmp/rmw.repro.json"
expect 2 'is a repro file: it fixes the seed' -- "$blksim" replay "$tmp/rmw.repro.json" --seed 3
printf '{"blksim_repro": 7}' >"$tmp/future.json"
expect 2 'format 7, this blksim reads formats 1 to 2' -- "$blksim" replay "$tmp/future.json"

# shrink: smaller scenario and tape, the same property, files that replay.
expect 1 '^after       1 jobs, [0-9] commands, 0 events, 0 fault rules' \
  -- "$blksim" shrink "$lib/flush-crash.toml" --seed 0 --mutant skip-flush-to-disk -o "$tmp/small"
[ -s "$tmp/small.toml" ] && [ -s "$tmp/small.repro.json" ] || fail "shrink wrote no files"
expect 1 '^property    flush-order$' -- "$blksim" run "$tmp/small.toml" --seed 0 --mutant skip-flush-to-disk
expect 1 '^replay      identical' -- "$blksim" replay "$tmp/small.repro.json"
expect 2 'holds every property; there is no failure to shrink' -- "$blksim" shrink "$skeleton" --seed 0

# trace: text and JSON Lines, filtered by node, up to an event.
expect 0 '^#0 t=0 ' -- "$blksim" trace "$skeleton" --seed 1 --at-event 5
[ "$("$blksim" trace "$skeleton" --seed 1 --at-event 9 2>/dev/null | wc -l)" = 10 ] || fail "trace --at-event 9 did not print 10 events"
"$blksim" trace "$skeleton" --seed 1 --format jsonl --node disk0 -o "$tmp/t.jsonl" 2>/dev/null
python3 -c 'import json,sys; rows=[json.loads(l) for l in open(sys.argv[1])]; assert rows and all(r["node"]=="disk0" for r in rows)' "$tmp/t.jsonl" \
  || fail "trace --node printed events of other nodes"
expect 2 "--node: no node named 'disk9'" -- "$blksim" trace "$skeleton" --node disk9
expect 2 'give --at-event or --at-time, not both' -- "$blksim" graph "$skeleton" -o "$tmp/g.dot" --at-event 3 --at-time 5
expect 1 'wait graph' -- "$blksim" graph "$lib/breakpoint-deadlock.toml" -o "$tmp/deadlock.dot"
grep -q 'color="red"\|color=red' "$tmp/deadlock.dot" || fail "the deadlock graph does not highlight its cycle"

# Views and reports.
expect 2 "--view: expected whole, snapshot or deadlock, got 'side'" -- "$blksim" graph "$skeleton" -o "$tmp/v.dot" --view side
"$blksim" graph "$lib/breakpoint-deadlock.toml" -o "$tmp/dl.dot" >/dev/null
grep -q 'waits open at the end; the cycle in red' "$tmp/dl.dot" || fail "a deadlocked run's graph is not the deadlock view"
"$blksim" graph "$skeleton" --seed 2 --at-event 60 -o "$tmp/snap.dot" >/dev/null
grep -q 'waits open at the snapshot' "$tmp/snap.dot" || fail "graph --at-event is not a snapshot"
expect 1 '^report      .*bug.html$' -- "$blksim" report "$fua" --seed 1 -o "$tmp/bug.html"
grep -q '<svg' "$tmp/bug.html" && grep -q 'blksim run .*fua-crash.toml --seed 1' "$tmp/bug.html" || fail "report lacks its picture or repro line"
expect 2 'a report is an .html file' -- "$blksim" report "$fua" -o "$tmp/bug.txt"
"$blksim" explore "$fua" --seeds 2 --report-dir "$tmp/reports" >/dev/null
ls "$tmp/reports"/fua-crash.seed{0,1}.html >/dev/null 2>&1 || fail "explore --report-dir wrote no reports"

# Oracles and mutants are listed; the suite knows expected failures and golden fingerprints.
expect 0 '^durability     after a crash' -- "$blksim" list oracles
expect 0 '^skip-flush-to-disk ' -- "$blksim" list mutants
# (A scenario expected to fail, and one that fails by a known defect.)
mkdir "$tmp/xlib" && cp "$lib/breakpoint-deadlock.toml" "$lib/fua-crash.toml" "$tmp/xlib/"
expect 0 'XFAIL breakpoint-deadlock: 0/2 seeds held' -- "$blksim" suite "$tmp/xlib" --seeds 2 --baseline "$lib/known-failures.txt" -j 2
expect 1 'summary: .* 4 failed \(2 new' -- "$blksim" suite "$tmp/xlib" --seeds 2 -j 2
printf '# known\noverlapping-writers 3\n' >"$tmp/known.txt"
expect 2 "known.txt:2: expected SCENARIO SEED VERDICT\\[:PROPERTY\\]" -- "$blksim" suite "$lib" --baseline "$tmp/known.txt"
mkdir "$tmp/one" && cp "$skeleton" "$tmp/one/"
expect 0 '' -- "$blksim" suite "$tmp/one" --seeds 2 --golden "$tmp/golden.txt" --update-golden
sed -i 's/ [0-9a-f]\{16\}$/ 0000000000000000/' "$tmp/golden.txt"
expect 1 'behaviour changed for 2 runs' -- "$blksim" suite "$tmp/one" --seeds 2 --golden "$tmp/golden.txt"

# bench prints figures (not judged) and rejects impossible parameters.
expect 0 'requests per CPU-second, oracles off +[0-9]+' -- "$blksim" bench -c 2000 --reps 1 --in-flight 0 --scenarios none
expect 0 '2000 requests in flight at once: [0-9]+ bytes per request .*, -?[0-9]+ beyond its 4096-byte data buffer' \
  -- "$blksim" bench -c 500 -w --reps 1 --in-flight 2000 --scenarios none
mkdir -p "$tmp/bench-lib"
cp "$lib/fua-crash.toml" "$lib/discard-vs-rmw.toml" "$tmp/bench-lib/"
out=$("$blksim" bench -c 500 --reps 1 --in-flight 0 --scenarios "$tmp/bench-lib" 2>&1)
for name in fua-crash discard-vs-rmw; do
  grep -qE "^  $name +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+$" <<<"$out" || fail "bench --scenarios: no figures for $name: $out"
done
grep -qE '^  peak RSS [0-9]+ MiB$' <<<"$out" || fail "bench: no peak RSS: $out"
expect 2 'not a directory' -- "$blksim" bench --scenarios "$tmp/none-here"
expect 2 '-s: expected a multiple of 512' -- "$blksim" bench -s 1000
expect 2 '-d: expected 1 to 1024' -- "$blksim" bench -d 0
expect 2 'Could not convert|expected' -- "$blksim" bench -c lots

finish cli_test
