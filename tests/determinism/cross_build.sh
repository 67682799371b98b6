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
# the Release build): an ASan process costs ten times a Release one to start.
while read -r scenario seed strategy expected; do
  [ "$seed" = 0 ] || continue
  for other in "$@"; do
    actual=$(fingerprint_of "$other" "$src" "$scenario" "$seed" "$strategy")
    runs=$((runs + 1))
    if [ "$actual" != "$expected" ]; then
      echo "DIFFER: $scenario seed $seed $strategy: pinned $expected, $other gives '${actual:-<no fingerprint>}'"
      failures=$((failures + 1))
    fi
  done
done <"$golden"
# And the hunter generates the same scenarios in every build.
pinned=$(grep -v '^#' "$src/tests/golden/hunt-scenarios.txt")
for other in "$@"; do
  digest=$(for s in $(seq 0 99); do "$other" hunt --show "$s"; done | sha256sum | cut -d' ' -f1)
  if [ "$digest" != "$pinned" ]; then
    echo "DIFFER: $other generates other hunt scenarios (hunt --show 0..99: $digest, pinned $pinned)"
    failures=$((failures + 1))
  fi
done
echo "compared $runs runs of $# other builds with the pinned fingerprints: $failures differ"
[ "$failures" -eq 0 ] && [ "$runs" -gt 0 ]
