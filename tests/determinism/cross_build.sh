#!/usr/bin/env bash
# The same runs must give the same fingerprints from every build: g++ -O2
# (the golden check runs it against the pins) and clang++ -O1 with the
# sanitizers (CI's). Here every build given must give the pinned ones too, so
# all agree without a slow build running the golden check as well.
#   cross_build.sh SOURCE_DIR BLKSIM...
set -u
src=$1
shift
golden=$src/tests/golden/fingerprints.txt
. "$(dirname "$0")/golden.sh"
[ -s "$golden" ] || { echo "no golden fingerprints at $golden"; exit 1; }
[ $# -gt 0 ] || { echo "no other builds to compare"; exit 1; }
failures=0
runs=0
# Seed 0 of every scenario and strategy (the golden check runs every pin on
# the Release build), one suite per strategy: an ASan process costs ten times
# a Release one to start. A suite also runs a scenario with the fixes of its
# known defects ("fixes" in its JSON line): those runs are not pinned.
for other in "$@"; do
  for strategy in fifo random pct:3; do
    while read -r scenario seed actual; do
      expected=$(awk -v s="$scenario" -v st="$strategy" '$1 == s && $2 == 0 && $3 == st {print $4}' "$golden")
      runs=$((runs + 1))
      if [ "$actual" != "$expected" ]; then
        echo "DIFFER: $scenario seed $seed $strategy: pinned ${expected:-<none>}, $other gives '${actual:-<no fingerprint>}'"
        failures=$((failures + 1))
      fi
    done < <("$other" suite "$src/scenarios/library" --seeds 1 --strategy "$strategy" --json 2>/dev/null |
               python3 -c '
import json, os, sys
for line in sys.stdin:
    run = json.loads(line)
    if "fixes" not in run:
        print(os.path.basename(run["file"]), run["seed"], run.get("fingerprint", ""))')
  done
done
pinned_runs=$(awk '$2 == 0' "$golden" | wc -l)
[ "$runs" -eq $((pinned_runs * $#)) ] || {
  echo "DIFFER: $runs runs compared, expected the $pinned_runs pinned runs of seed 0 for each of $# builds"
  failures=$((failures + 1))
}
# And the hunter generates the same scenarios in every build.
pinned=$(grep -v '^#' "$src/tests/golden/hunt-scenarios.txt")
for other in "$@"; do
  digest=$("$other" hunt --show 0..99 | sha256sum | cut -d' ' -f1)
  if [ "$digest" != "$pinned" ]; then
    echo "DIFFER: $other generates other hunt scenarios (hunt --show 0..99: $digest, pinned $pinned)"
    failures=$((failures + 1))
  fi
done
echo "compared $runs runs of $# other builds with the pinned fingerprints: $failures differ"
[ "$failures" -eq 0 ] && [ "$runs" -gt 0 ]
