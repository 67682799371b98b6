#!/usr/bin/env bash
#   hunt_test.sh BLKSIM PROBES_DIR (the fixed-seed hunt's probes go to PROBES_DIR/hunt.txt)
# blksim hunt: a fixed-seed hunt of the engine holds (no new signature, no
# generated scenario the parser refuses); with an engine mutant it finds a new
# signature and writes a scenario that reproduces it; a seed always shows the
# same scenario; bad options exit 2.
set -u
blksim=$1
probes_dir=${2:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

probes_args=()
if [ -n "$probes_dir" ]; then
  mkdir -p "$probes_dir" && rm -f "$probes_dir/hunt.txt"
  probes_args=(--probes-out "$probes_dir/hunt.txt")
fi
# The open findings of the hunt (scenarios/hunt/open-findings.txt) are reported, not new.
baseline=$(cd "$(dirname "$0")/../.." && pwd)/scenarios/hunt/open-findings.txt
out=$("$blksim" hunt --scenarios 300 -j 2 --no-progress --baseline "$baseline" "${probes_args[@]}" 2>&1)
rc=$?
[ "$rc" -eq 0 ] || fail "hunt of scenarios 0..299 exited $rc, expected 0 (a new signature, or a generator bug): $out"
grep -qE '^hunt: 300 scenarios \(seeds 0\.\.[0-9]+, swarm, [1-9][0-9]* mutated\), 900 runs, .* corpus [1-9][0-9]*, [1-9][0-9]* coverage features$' <<<"$out" ||
  fail "hunt summary (feedback: some scenarios mutated, a corpus): $out"
grep -qE '^summary: 0 new signatures, [0-9]+ known defect signatures?, [0-9]+ of [0-9]+ open findings of the baseline, 0 generated scenarios refused by the parser' <<<"$out" ||
  fail "hunt: $out"
grep -q '^known defect cor-max-transfer: ' <<<"$out" || fail "hunt: the known defect cor-max-transfer should be found and labelled: $out"

# The same hunt whatever the number of workers (the corpus grows in scenario
# order), and without feedback no scenario is mutated.
strip() { sed -E 's/ in [0-9.]+ s;/;/'; }
# --log writes each scenario's runs with their fingerprints: the same lines.
one=$("$blksim" hunt --scenarios 60 -j 1 --no-progress --log "$tmp/one.log" 2>&1 | strip)
two=$("$blksim" hunt --scenarios 60 -j 2 --no-progress --log "$tmp/two.log" 2>&1 | strip)
[ "$one" = "$two" ] || fail "hunt -j 1 and -j 2 differ: $one /// $two"
cmp -s "$tmp/one.log" "$tmp/two.log" || fail "hunt --log -j 1 and -j 2 differ: $(diff "$tmp/one.log" "$tmp/two.log" | head -5)"
[ "$(grep -cE '^hunt-[0-9]+(-1m[0-9]+)? text [0-9a-f]{16}( \| [0-2] [a-z-]+ [0-9a-f]{16}){3}$' "$tmp/one.log")" -eq 60 ] ||
  fail "hunt --log: expected 60 lines 'NAME text HASH | SEED VERDICT FINGERPRINT' x3: $(head -3 "$tmp/one.log")"
"$blksim" hunt --scenarios 1 --log /nonexistent/dir/log --no-progress >"$tmp/bad.txt" 2>&1
[ $? -eq 2 ] && grep -q -- '--log /nonexistent/dir/log: cannot write' "$tmp/bad.txt" || fail "hunt --log to a missing directory: $(cat "$tmp/bad.txt")"
out=$("$blksim" hunt --scenarios 30 --no-feedback --coverage --no-progress 2>&1)
grep -qE '^hunt: 30 scenarios \(seeds 0..29, swarm\), 90 runs' <<<"$out" || fail "hunt --no-feedback: $out"
grep -q '^probes no scenario reached:$' <<<"$out" || fail "hunt --coverage lists no unreached probes: $out"
grep -qE '^  write.rmw_head [0-9]+ \(first hunt-[0-9]+\)$' <<<"$out" || fail "hunt --coverage: write.rmw_head not reached: $out"

# Shards of a hunt merge into the hunt: without feedback, shards 1..3 of 3
# are the unsharded hunt's seeds, and the merged report is its report.
norm() { sed -E 's/ \([^)]*\)//; s/ in [0-9.]+ s;/;/; s/, [0-9]+ of [0-9]+ open findings of the baseline//'; }
"$blksim" hunt --scenarios 45 --no-feedback --baseline "$baseline" --json "$tmp/all.json" --no-progress >"$tmp/all.txt" 2>&1
all_rc=$?
for k in 1 2 3; do
  "$blksim" hunt --scenarios 15 --shard "$k/3" --no-feedback --baseline "$baseline" --json "$tmp/s$k.json" --no-progress >/dev/null 2>&1
done
# The merge exits as the unsharded hunt does (1 if it shows a new signature).
"$blksim" merge "$tmp/s3.json" "$tmp/s1.json" "$tmp/s2.json" >"$tmp/merged.txt" 2>&1
merged_rc=$?
[ "$merged_rc" -eq "$all_rc" ] && [ "$all_rc" -le 1 ] ||
  fail "merge of hunt shards exited $merged_rc, the unsharded hunt $all_rc: $(cat "$tmp/merged.txt")"
[ "$(norm <"$tmp/all.txt")" = "$(norm <"$tmp/merged.txt")" ] ||
  fail "merged shards differ from the unsharded hunt: $(diff <(norm <"$tmp/all.txt") <(norm <"$tmp/merged.txt"))"
grep -q '^hunt: 45 scenarios (3 of 3 shards from seed 0, swarm), 135 runs' "$tmp/merged.txt" || fail "merge: $(head -1 "$tmp/merged.txt")"
"$blksim" merge "$tmp/s1.json" "$tmp/s1.json" >"$tmp/bad.txt" 2>&1
[ $? -eq 2 ] && grep -q 'shard 1/3 given twice' "$tmp/bad.txt" || fail "merge of one shard twice: $(cat "$tmp/bad.txt")"
"$blksim" merge "$tmp/s1.json" "$tmp/all.json" >"$tmp/bad.txt" 2>&1
[ $? -eq 2 ] && grep -q 'not a shard of the same hunt' "$tmp/bad.txt" || fail "merge of two hunts: $(cat "$tmp/bad.txt")"

# A mutant the library catches is caught without the library.
out=$("$blksim" hunt --scenarios 40 --mutant drain-no-wait --out "$tmp/found" --no-progress 2>&1)
rc=$?
[ "$rc" -eq 1 ] || fail "hunt --mutant drain-no-wait exited $rc, expected 1: $out"
grep -q '^NEW   oracle:drain \[in flight after drained_begin\]' <<<"$out" || fail "hunt --mutant drain-no-wait: $out"
# The repro line of that signature (the mutant may show others before it).
repro=$(awk '/^NEW   oracle:drain \[in flight after drained_begin\]/ {found = 1} found && /^      repro: / {sub(/^      repro: /, ""); print; exit}' <<<"$out")
[ -n "$repro" ] || fail "hunt --out: no repro line: $out"
ls "$tmp"/found/hunt-*.toml >/dev/null 2>&1 || fail "hunt --out wrote no scenario file"
# Each new signature shrunk (same signature), with its repro and report, and in the table.
ls "$tmp"/found/hunt-*.shrunk.toml "$tmp"/found/hunt-*.shrunk.repro.json "$tmp"/found/hunt-*.shrunk.html >/dev/null 2>&1 ||
  fail "hunt --out: no shrunk scenario, repro or report: $(ls "$tmp/found")"
grep -qE '^  oracle:drain \[in flight after drained_begin\] \| first hunt-[0-9]+(-[0-9]+m[0-9]+)? \| [0-9]+ runs? \| shrunk 1 jobs, [12] commands' <<<"$out" ||
  fail "hunt --out: the summary table has no shrunk row for the drain signature: $out"
set -- $repro
shift  # the program name as printed
run=$("$blksim" "$@" 2>&1)
[ $? -eq 1 ] || fail "the written scenario does not fail again: $repro: $run"
grep -q 'signature   oracle:drain \[in flight after drained_begin\]' <<<"$run" || fail "the repro fails differently: $run"

# Every build and compiler generates the same scenarios (the pinned digest).
pinned=$(grep -v '^#' "$(dirname "$0")/../golden/hunt-scenarios.txt")
digest=$("$blksim" hunt --show 0..99 | sha256sum | cut -d' ' -f1)
[ "$digest" = "$pinned" ] || fail "hunt --show 0..99 gives $digest, the pinned scenarios are $pinned (tests/golden/hunt-scenarios.txt)"

# A seed shows the same scenario every time, and it parses.
"$blksim" hunt --show 7 >"$tmp/a.toml" && "$blksim" hunt --show 7 >"$tmp/b.toml" || fail "hunt --show failed"
cmp -s "$tmp/a.toml" "$tmp/b.toml" || fail "hunt --show 7 differs between two calls"
"$blksim" hunt --show 6..8 | awk '/^# generated by blksim hunt, seed 7;/ {on = 1; print; next} /^# generated/ {on = 0} on' >"$tmp/c.toml"
cmp -s "$tmp/a.toml" "$tmp/c.toml" || fail "hunt --show 6..8 does not hold --show 7's scenario: $(diff "$tmp/a.toml" "$tmp/c.toml" | head -5)"
"$blksim" run "$tmp/a.toml" --seed 0 >/dev/null 2>&1
[ $? -le 1 ] || fail "the scenario of seed 7 does not run"

# Bad input: exit 2 with what was expected.
for args in "--scenarios 0" "--seeds-per 0" "--show x" "--mutant nope" "-j 0" "--shard 0/3" "--shard 4/3" "--shard x"; do
  # shellcheck disable=SC2086
  "$blksim" hunt $args --no-progress >"$tmp/bad.txt" 2>&1
  rc=$?
  [ "$rc" -eq 2 ] || fail "hunt $args exited $rc, expected 2: $(cat "$tmp/bad.txt")"
done

[ "$failures" -eq 0 ] && echo "hunt: all checks passed"
exit $((failures > 0))
