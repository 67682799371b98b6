#!/usr/bin/env bash
# Every pinned run must give its recorded fingerprint: in any build, with any
# compiler. A behaviour change shows up here; if it is intended, regenerate with
#   tests/determinism/check_golden.sh build/release/blksim . --update
set -u
blksim=$1
src=$2
golden=$src/tests/golden/fingerprints.txt
. "$(dirname "$0")/golden.sh"

if [ "${3:-}" = "--update" ]; then
  golden_runs "$src" | while read -r scenario seed strategy; do
    echo "$scenario $seed $strategy $(fingerprint_of "$blksim" "$src" "$scenario" "$seed" "$strategy")"
  done >"$golden"
  echo "wrote $(wc -l <"$golden") fingerprints to $golden"
  exit 0
fi

[ -s "$golden" ] || { echo "no golden fingerprints at $golden"; exit 1; }
failures=0
checked=0
while read -r scenario seed strategy expected; do
  actual=$(fingerprint_of "$blksim" "$src" "$scenario" "$seed" "$strategy")
  checked=$((checked + 1))
  if [ "$actual" != "$expected" ]; then
    echo "CHANGED: $scenario seed $seed $strategy: recorded $expected, now ${actual:-<no fingerprint>}"
    failures=$((failures + 1))
  fi
done <"$golden"
# Every library scenario must be pinned.
missing=$(comm -23 <(golden_runs "$src" | sort) <(awk '{print $1, $2, $3}' "$golden" | sort))
if [ -n "$missing" ]; then
  echo "not pinned (run with --update):"
  echo "$missing"
  failures=$((failures + 1))
fi
echo "$checked pinned runs checked, $failures differ"
[ "$failures" -eq 0 ]
