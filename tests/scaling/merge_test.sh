#!/usr/bin/env bash
# Sharded sweeps and blksim merge: the merged result of N shards equals one
# unsharded run (the same JSON lines, the same JUnit file), whatever the order
# of the shards; overlapping shards that agree merge, ones that disagree and
# malformed lines are exit 2 with file:line. The shard commands of the
# Kubernetes manifest and of the CI matrix example run here as written, with a
# small seed range.
set -u
blksim=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
src=$2
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
scenario=$src/scenarios/library/overlapping-writers.toml

# One run, then four shards, with a mutant so that failures are in the mix.
"$blksim" explore "$scenario" --seed-range 0..39 -j 2 --json --no-progress --mutant skip-serialising-wait \
  --junit "$tmp/single.xml" >"$tmp/single.jsonl" 2>/dev/null
[ $? -eq 1 ] || fail "the single run should report failures (exit 1)"
for k in 1 2 3 4; do
  "$blksim" explore "$scenario" --seed-range 0..39 -j 1 --json --no-progress --mutant skip-serialising-wait \
    --shard $k/4 >"$tmp/shard$k.jsonl" 2>/dev/null
done
[ "$(cat "$tmp"/shard*.jsonl | wc -l)" -eq 40 ] || fail "four shards should cover 40 seeds exactly"
"$blksim" merge "$tmp/shard3.jsonl" "$tmp/shard1.jsonl" "$tmp/shard4.jsonl" "$tmp/shard2.jsonl" --json \
  --junit "$tmp/merged.xml" >"$tmp/merged.jsonl" 2>"$tmp/merged.txt"
[ $? -eq 1 ] || fail "merge of failing shards should exit 1"
cmp -s "$tmp/single.jsonl" "$tmp/merged.jsonl" || fail "merged JSON lines differ from the single run"
cmp -s "$tmp/single.xml" "$tmp/merged.xml" || fail "merged JUnit differs from the single run's"
grep -q "merged 4 files: 40 runs of 1 scenario" "$tmp/merged.txt" || fail "merge summary: $(tail -1 "$tmp/merged.txt")"

# Overlap that agrees is fine; a disagreeing line is named by file and line.
"$blksim" merge "$tmp/shard1.jsonl" "$tmp/shard1.jsonl" "$tmp"/shard[234].jsonl >/dev/null 2>&1
[ $? -eq 1 ] || fail "merging a shard twice should just merge (exit 1: it has failures)"
# Lines carry their shard K/N: an incomplete set is an error, not a smaller sweep.
out=$("$blksim" merge "$tmp/shard1.jsonl" "$tmp/shard3.jsonl" 2>&1)
[ $? -eq 2 ] || fail "merging 2 of 4 shards should be bad input: $out"
grep -q "was split into 4 shards, but shard 2/4, 4/4 is missing" <<<"$out" || fail "merge of 2 of 4 shards: $out"
sed '2s/"verdict":"[a-z]*"/"verdict":"pass"/' "$tmp/shard1.jsonl" >"$tmp/tampered.jsonl"
"$blksim" merge "$tmp/shard1.jsonl" "$tmp/tampered.jsonl" >"$tmp/err.txt" 2>&1
[ $? -eq 2 ] || fail "disagreeing shards: expected exit 2"
grep -q "tampered.jsonl:2: overlapping-writers seed" "$tmp/err.txt" || fail "disagreeing shards: $(cat "$tmp/err.txt")"
echo '{"scenario":"x","seed":-1,"verdict":"pass"}' >"$tmp/bad.jsonl"
"$blksim" merge "$tmp/bad.jsonl" >"$tmp/err.txt" 2>&1
[ $? -eq 2 ] && grep -q "bad.jsonl:1: expected an unsigned integer 'seed'" "$tmp/err.txt" || fail "bad seed: $(cat "$tmp/err.txt")"
echo 'not json' >"$tmp/bad.jsonl"
"$blksim" merge "$tmp/bad.jsonl" >"$tmp/err.txt" 2>&1
[ $? -eq 2 ] || fail "not JSON: expected exit 2"

# The Kubernetes Indexed Job's command, for each completion index.
/usr/bin/python3 - "$src/deploy/kubernetes/blksim-sweep.yaml" >"$tmp/k8s.sh" <<'PY'
import sys, yaml
job = yaml.safe_load(open(sys.argv[1]))
spec = job["spec"]
container = spec["template"]["spec"]["containers"][0]
env = {e["name"]: e["value"] for e in container["env"]}
assert spec["completionMode"] == "Indexed" and spec["completions"] == int(env["SHARDS"]), "completions != SHARDS"
assert container["command"] == ["/bin/sh", "-c"]
print(container["args"][0])
PY
[ -s "$tmp/k8s.sh" ] || fail "cannot read the Kubernetes manifest"
mkdir -p "$tmp/k8s/build/release" "$tmp/k8s/results"
ln -s "$blksim" "$tmp/k8s/build/release/blksim"
for index in 0 1 2 3 4; do
  (cd "$tmp/k8s" && JOB_COMPLETION_INDEX=$index SHARDS=5 SCENARIO=$scenario SEEDS=0..39 STRATEGY=random \
     RESULTS=$tmp/k8s/results sh "$tmp/k8s.sh" 2>/dev/null) || fail "k8s shard $index: the command failed"
done
"$blksim" explore "$scenario" --seed-range 0..39 -j 2 --json --no-progress >"$tmp/plain.jsonl" 2>/dev/null
"$blksim" merge "$tmp"/k8s/results/shard-*.jsonl --json >"$tmp/k8s.jsonl" 2>/dev/null
cmp -s "$tmp/plain.jsonl" "$tmp/k8s.jsonl" || fail "the Kubernetes shards merged differ from one run"

# The CI matrix example's explore step, for each shard, then its merge step.
/usr/bin/python3 - "$src/deploy/ci/github-actions-sweep.yml" >"$tmp/ci.txt" <<'PY'
import sys, yaml
wf = yaml.safe_load(open(sys.argv[1]))
shard = wf["jobs"]["shard"]
shards = shard["strategy"]["matrix"]["shard"]
run = next(s["run"] for s in shard["steps"] if s.get("name") == "explore")
merge = next(s["run"] for s in wf["jobs"]["merge"]["steps"] if s.get("name") == "merge")
print(len(shards))
print(run.replace("\n", " ").replace("\\ ", " "))
print(merge)
PY
n=$(sed -n 1p "$tmp/ci.txt")
explore_step=$(sed -n 2p "$tmp/ci.txt")
merge_step=$(sed -n 3p "$tmp/ci.txt")
mkdir -p "$tmp/ci/build/release"
ln -s "$blksim" "$tmp/ci/build/release/blksim"
ln -s "$src/scenarios" "$tmp/ci/scenarios"
for k in $(seq 1 "$n"); do
  step=${explore_step//'${{ matrix.shard }}'/$k}
  step=${step//0..99999/0..39}
  (cd "$tmp/ci" && mkdir -p "shards/shard-$k" && sh -c "$step" 2>/dev/null && mv "shard-$k.jsonl" "shards/shard-$k/") ||
    fail "CI shard $k: the step failed"
done
(cd "$tmp/ci" && sh -c "$merge_step" >/dev/null) || fail "CI merge step failed"
[ -s "$tmp/ci/sweep.xml" ] || fail "CI merge step wrote no JUnit"
(cd "$tmp/ci" && "$blksim" explore scenarios/library/overlapping-writers.toml --seed-range 0..39 -j 2 --json \
   --no-progress >"$tmp/ci-plain.jsonl" 2>/dev/null)
"$blksim" merge "$tmp"/ci/shards/*/*.jsonl --json 2>/dev/null | cmp -s "$tmp/ci-plain.jsonl" - ||
  fail "the CI shards merged differ from one run"

if [ $failures -ne 0 ]; then
  echo "merge_test: $failures failures"
  exit 1
fi
echo "merge_test: all checks passed"
