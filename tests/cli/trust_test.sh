#!/usr/bin/env bash
# Verdicts a user can trust (tests/fixtures/regressions: inputs that once gave
# wrong answers): bad input is exit 2 with file:line:column and never a verdict
# against the engine; shrinking keeps the failure's signature and ends with a
# checked result at its budget; repro files carry their images and digests and
# replay from any directory; sweeps group failures by signature and name known
# defects; expectations and fixes work both ways.
set -u
blksim=$1
src=$2
. "$(dirname "$0")/expect.sh"
reg=$src/tests/fixtures/regressions
lib=$src/scenarios/library

# --- Offsets near 2^64: bad input with file:line:column, never a verdict.
for n in 1 2 3 4 5 6 7 8 9 10; do
  expect 2 "^blksim: error: .*ovf$n.toml:[0-9]+:[0-9]+: " -- "$blksim" run "$reg/scenarios/ovf$n.toml"
done
sed 's/read 18446744073709551615 1/read 65000 1000/' "$reg/scenarios/ovf2.toml" >"$tmp/past.toml"
expect 2 "past.toml:12:13: 'read 65000 1000' ends past the end of node 'disk' \(65536 bytes\): expected OFFSET \+ LENGTH <= 65536" \
  -- "$blksim" run "$tmp/past.toml"
expect 2 'offset 9223372036854775808: expected at most 9223372036854775807' -- "$blksim" run "$reg/scenarios/ovf3.toml"

# --- Names are printable text.
expect 2 'markup.toml:[0-9]+:[0-9]+: \[\[node\]\].name: names must be printable text: byte [0-9]+ is a control character \(U\+000A\)' \
  -- "$blksim" run "$reg/scenarios/markup.toml"
expect 2 'nul.toml:2:[0-9]+: \[scenario\].name: names must be printable text: byte 1 is a control character \(U\+0000\)' \
  -- "$blksim" run "$reg/scenarios/nul.toml"
sed 's/\\n-- \]\]>/-- ]]>/' "$reg/scenarios/markup.toml" >"$tmp/bidi.toml"
expect 2 'bidirectional formatting character \(U\+202E\)' -- "$blksim" run "$tmp/bidi.toml"

# --- Configurations QEMU refuses are bad input.
expect 2 "shared-child-cow.toml:[0-9]+:[0-9]+: node 'top2'.file: 'f' is already the file of format node 'top'" \
  -- "$blksim" run "$reg/scenarios/shared-child-cow.toml"

# --- Repro files: numbers in range, the version said, errors named by the repro.
expect 2 'seedhuge.json: not a usable blksim repro file: seed: expected an integer from 0 to 18446744073709551615, got 1e\+30' \
  -- "$blksim" replay "$reg/repros/seedhuge.json"
expect 2 'seedneg.json: .*seed: expected an integer .*got -1' -- "$blksim" replay "$reg/repros/seedneg.json"
expect 1 'written by blksim 9\.9\.9, this is blksim' -- in_dir "$src" "$blksim" replay "$reg/repros/version.json"
expect 2 '^blksim: error: .*scenbad.json: in the scenario text it embeds' -- in_dir "$src" "$blksim" replay "$reg/repros/scenbad.json"

# --- A repro carries its images: it replays from anywhere, whatever happens to the file.
cp -r "$reg/image-repro" "$tmp/img"
(cd "$tmp/img" && "$blksim" run img.toml --seed 0 --repro-out "$tmp/img.repro.json" >/dev/null 2>&1)
[ $? -eq 1 ] || fail "image-repro: the run should fail its read -P (the image holds other bytes)"
grep -q '"zlib_base64"' "$tmp/img.repro.json" || fail "image-repro: the repro file carries no image"
printf 'changed' | dd of="$tmp/img/seed.raw" conv=notrunc status=none
mkdir -p "$tmp/elsewhere"
expect 1 'replay      identical' -- in_dir "$tmp/elsewhere" "$blksim" replay "$tmp/img.repro.json"
rm -rf "$tmp/img"
expect 1 'replay      identical' -- in_dir / "$blksim" replay "$tmp/img.repro.json"
sed 's/read -P 0x41 0 4k/read -P 0x43 0 4k/' "$tmp/img.repro.json" >"$tmp/edited.repro.json"
expect 2 'does not match scenario_digest' -- "$blksim" replay "$tmp/edited.repro.json"

# --- Shrinking keeps the failure's signature.
cd "$tmp" || exit 2
out=$("$blksim" shrink "$lib/breakpoint-deadlock.toml" --seed 0 -o "$tmp/bd" 2>/dev/null)
[ $? -eq 1 ] || fail "shrink breakpoint-deadlock: expected exit 1"
grep -q '^signature   deadlock \[cycle ' <<<"$out" || fail "shrink breakpoint-deadlock lost the wait cycle: $out"
grep -q '^checked     identical' <<<"$out" || fail "shrink breakpoint-deadlock: the result was not re-checked: $out"
grep -qE "name = [\"']breakpoint-deadlock-shrunk[\"']" "$tmp/bd.toml" || fail "the shrunk scenario is not named <name>-shrunk"
grep -qE "description = [\"']shrunk from .*reproduces deadlock \[cycle " "$tmp/bd.toml" || fail "the shrunk description does not say what it reproduces"
grep -q 'wait_break' "$tmp/bd.toml" && grep -q 'aio_write' "$tmp/bd.toml" && grep -qE "[\"']write " "$tmp/bd.toml" ||
  fail "the shrunk deadlock lost a side of its cycle: $(cat "$tmp/bd.toml")"

out=$("$blksim" shrink "$reg/scenarios/race4k-data.toml" --seed 0 --mutant skip-serialising-wait -o "$tmp/race" 2>/dev/null)
[ $? -eq 1 ] || fail "shrink race4k-data: expected exit 1"
grep -q '^signature   oracle:data \[' <<<"$out" || fail "shrink race4k-data: not a data failure: $out"
# The shrunk scenario is the mutant's defect: without the mutant it holds, under any strategy.
expect 0 'verdict     pass' -- "$blksim" run "$tmp/race.toml" --seed 0
expect 0 'verdict     pass' -- "$blksim" run "$tmp/race.toml" --seed 0 --strategy fifo
expect 1 '' -- "$blksim" replay "$tmp/race.repro.json"

# At its budget the shrink writes the smallest failure so far, checked, and says so.
out=$("$blksim" shrink "$lib/breakpoint-deadlock.toml" --seed 0 --max-runs 2 -o "$tmp/budget" 2>&1)
[ $? -eq 1 ] || fail "shrink --max-runs 2: expected exit 1, got output: $out"
grep -q 'stopped at --max-runs 2: the smallest failing scenario found so far' <<<"$out" || fail "shrink --max-runs 2 does not say it stopped: $out"
[ -s "$tmp/budget.toml" ] && [ -s "$tmp/budget.repro.json" ] || fail "shrink --max-runs 2 wrote nothing"
expect 1 'replay      identical' -- "$blksim" replay "$tmp/budget.repro.json"

# --- Every repro line works as printed, from any directory.
line=$(cd "$src" && "$blksim" run scenarios/library/fua-crash.toml --seed 3 2>/dev/null | sed -n 's/^repro       //p')
[ -n "$line" ] || fail "run printed no repro line"
(cd / && eval "${line/#blksim/$blksim}" >/dev/null 2>&1; [ $? -eq 1 ]) || fail "the printed repro line fails from /: $line"
"$blksim" run "$lib/overlapping-writers.toml" --seed 3 --mutant skip-serialising-wait --tape-out "$tmp/t.tape" >/dev/null 2>&1
line=$("$blksim" run "$lib/overlapping-writers.toml" --seed 3 --tape "$tmp/t.tape" --mutant skip-serialising-wait 2>/dev/null |
  sed -n 's/^repro       //p')
grep -q -- "--tape $tmp/t.tape" <<<"$line" || fail "a replayed tape's repro line does not name the tape: $line"
(cd / && eval "${line/#blksim/$blksim}" >/dev/null 2>&1; [ $? -eq 1 ]) || fail "the tape repro line fails from /: $line"

# --- Failures grouped by signature; known defects named.
out=$("$blksim" explore "$reg/scenarios/flushcrash.toml" --seeds 500 -j 2 --no-progress 2>&1)
[ "$(grep -c '^FAIL ' <<<"$out")" -eq 1 ] || fail "explore flushcrash: expected one grouped line: $out"
grep -q '^FAIL known defect fua-clean-node: oracle:durability \[after crash: .*: [0-9]+ seeds, first seed' <<<"$out" ||
  grep -qE '^FAIL known defect fua-clean-node: oracle:durability \[after crash: .*\]: [0-9]+ seeds, first seed' <<<"$out" ||
  fail "explore flushcrash: the group is not labelled fua-clean-node: $out"
out=$("$blksim" explore "$reg/scenarios/flushcrash.toml" --seeds 500 -j 2 --no-progress --fix fua-clean-node 2>&1)
[ $? -eq 0 ] || fail "explore flushcrash --fix fua-clean-node should hold: $out"
each=$("$blksim" explore "$reg/scenarios/flushcrash.toml" --seeds 40 -j 2 --no-progress --each 2>&1 | grep -c '^FAIL seed ')
[ "$each" -gt 1 ] || fail "explore --each prints one line per failing seed"

# --- A sweep that stops early says which seeds finished; --resume runs exactly the rest.
out=$("$blksim" explore "$reg/scenarios/flushcrash.toml" --seeds 300 -j 2 --no-progress --stop-on-first \
  --resume-out "$tmp/sweep.resume.json" 2>&1)
[ $? -eq 1 ] || fail "explore --stop-on-first: expected exit 1: $out"
grep -q '^finished seeds: ' <<<"$out" || fail "explore --stop-on-first does not say which seeds finished: $out"
grep -q "^resume: blksim explore --resume $tmp/sweep.resume.json -j 2$" <<<"$out" || fail "no resume line: $out"
"$blksim" explore --resume "$tmp/sweep.resume.json" -j 2 --json --no-progress >"$tmp/resumed.jsonl" 2>"$tmp/resumed.txt"
python3 - "$tmp/resumed.jsonl" <<'PY' || fail "the resumed sweep is not the whole sweep: $(cat "$tmp/resumed.txt")"
import json, sys
seeds = [json.loads(line)["seed"] for line in open(sys.argv[1])]
assert seeds == list(range(300)), seeds[:10]
PY
grep -q '^explored 300 seeds of flushcrash' "$tmp/resumed.txt" || fail "resumed summary: $(cat "$tmp/resumed.txt")"
expect 2 'fixes the scenario, seeds' -- "$blksim" explore "$reg/scenarios/flushcrash.toml" --resume "$tmp/sweep.resume.json"
cp "$reg/scenarios/flushcrash.toml" "$tmp/fc.toml"
"$blksim" explore "$tmp/fc.toml" --seeds 50 --stop-on-first --resume-out "$tmp/fc.resume.json" --no-progress >/dev/null 2>&1
echo "# edited" >>"$tmp/fc.toml"
expect 2 'changed since the sweep began' -- "$blksim" explore --resume "$tmp/fc.resume.json"

# A suite that stops early too: it says so, marks what did not finish, and resumes.
mkdir -p "$tmp/fua" && cp "$lib/fua-crash.toml" "$tmp/fua/"
out=$("$blksim" suite "$tmp/fua" --stop-on-first --resume-out "$tmp/suite.resume.json" 2>&1)
[ $? -eq 1 ] || fail "suite --stop-on-first: expected exit 1: $out"
grep -q '^INCOMPLETE fua-crash: 0/1 seeds held (19 of 20 seeds not run)' <<<"$out" || fail "suite --stop-on-first: $out"
grep -q '^summary: INCOMPLETE: 0 of 1 scenarios finished' <<<"$out" || fail "suite --stop-on-first summary: $out"
grep -q "^resume: blksim suite --resume $tmp/suite.resume.json$" <<<"$out" || fail "suite: no resume line: $out"
out=$("$blksim" suite --resume "$tmp/suite.resume.json" --json 2>"$tmp/suite.err" | wc -l)
[ "$out" -eq 40 ] || fail "the resumed suite should report 20 seeds and 20 with the fix, got $out lines: $(cat "$tmp/suite.err")"
grep -q '^summary: 1 scenarios, 40 runs, 20 held, 20 failed (20 new' "$tmp/suite.err" || fail "resumed suite: $(cat "$tmp/suite.err")"

# A failure the baseline knows does not stop it: seeds past it run, as a new
# failure behind it would be missed otherwise.
printf 'defect fua-clean-node\n' >"$tmp/fua.baseline"
out=$("$blksim" suite "$tmp/fua" --stop-on-first --baseline "$tmp/fua.baseline" 2>&1)
[ $? -eq 0 ] || fail "suite --stop-on-first with every failure known: expected exit 0: $out"
grep -q '^PASS  fua-crash: 0/20 seeds held, 20 known failures' <<<"$out" || fail "suite --stop-on-first stopped at a known failure: $out"

# --- Fixes both ways; expectations.
expect 1 'known       defect fua-clean-node' -- "$blksim" run "$lib/fua-crash.toml" --seed 0
expect 0 'verdict     pass' -- "$blksim" run "$lib/fua-crash.toml" --seed 0 --fix fua-clean-node
expect 2 "--fix: unknown fix 'nope'" -- "$blksim" run "$lib/fua-crash.toml" --fix nope
cat >"$tmp/expect.toml" <<'EOF'
[scenario]
name = "expect"
[[node]]
name = "disk"
driver = "mem"
size = "64k"
[[node]]
name = "dbg"
driver = "fault"
file = "disk"
[[node.rule]]
event = "write_aio"
errno = "EIO"
after = 1
once = true
[[job]]
name = "guest"
node = "dbg"
commands = ["write -P 0x01 0 4k => ok", "write -P 0x02 4k 4k => EIO", "read -P 0x01 0 4k => ok"]
EOF
expect 0 'verdict     pass' -- "$blksim" run "$tmp/expect.toml"
sed 's/4k 4k => EIO/4k 4k => ok/' "$tmp/expect.toml" >"$tmp/expect-wrong.toml"
expect 1 'signature   oracle:expect \[write => ok\]' -- "$blksim" run "$tmp/expect-wrong.toml"
sed 's/=> EIO/=> EWHAT/' "$tmp/expect.toml" >"$tmp/expect-bad.toml"
expect 2 "expect-bad.toml:[0-9]+:[0-9]+: '=> EWHAT': expected ok or an errno" -- "$blksim" run "$tmp/expect-bad.toml"

# --- Suites: one name per scenario, golden files checked.
mkdir -p "$tmp/dup"
cp "$lib/flush-crash.toml" "$tmp/dup/a.toml"
cp "$lib/flush-crash.toml" "$tmp/dup/b.toml"
expect 2 "b.toml: scenario name 'flush-crash' is also the name of .*a.toml" -- "$blksim" suite "$tmp/dup"
mkdir -p "$tmp/one"
cp "$lib/flush-crash.toml" "$tmp/one/"
expect 2 '--golden .*nothere.txt: no such file' -- "$blksim" suite "$tmp/one" --golden "$tmp/nothere.txt"
printf 'flush-crash 0 zzzz\n' >"$tmp/badgold.txt"
expect 2 'badgold.txt:1: expected a fingerprint of 16 lowercase hex digits' -- "$blksim" suite "$tmp/one" --golden "$tmp/badgold.txt"
"$blksim" suite "$tmp/one" --seeds 3 --golden "$tmp/gold.txt" --update-golden >/dev/null 2>&1
expect 0 '0 golden fingerprints changed, 0 missing' -- "$blksim" suite "$tmp/one" --seeds 3 --golden "$tmp/gold.txt"
expect 1 '2 runs have no golden fingerprint' -- "$blksim" suite "$tmp/one" --seeds 5 --golden "$tmp/gold.txt"
printf 'defect no-such-defect\n' >"$tmp/badbase.txt"
expect 2 "badbase.txt:1: unknown defect 'no-such-defect'" -- "$blksim" suite "$tmp/one" --baseline "$tmp/badbase.txt"

finish trust_test
