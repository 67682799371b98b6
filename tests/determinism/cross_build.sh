#!/usr/bin/env bash
# The same runs must give the same fingerprints from every build: Debug (-O0)
# and Release (-O2), g++ and clang++.
set -u
src=$1
shift
. "$(dirname "$0")/golden.sh"
reference=$1
failures=0
runs=0
while read -r scenario seed strategy; do
  expected=$(fingerprint_of "$reference" "$src" "$scenario" "$seed" "$strategy")
  for other in "${@:2}"; do
    actual=$(fingerprint_of "$other" "$src" "$scenario" "$seed" "$strategy")
    runs=$((runs + 1))
    if [ -z "$expected" ] || [ "$actual" != "$expected" ]; then
      echo "DIFFER: $scenario seed $seed $strategy: $reference gives '$expected', $other gives '$actual'"
      failures=$((failures + 1))
    fi
  done
done < <(golden_runs "$src")
echo "compared $runs runs across $# builds: $failures differ"
[ "$failures" -eq 0 ] && [ "$runs" -gt 0 ]
