#!/usr/bin/env bash
# The default suite against its baseline, and the code probes it reaches
# against tests/probes/reached.txt: a probe that stops being reached (a
# scenario lost its reach) or a probe newly reached and not yet listed fails.
#   library_suite.sh BLKSIM SOURCE_DIR
set -u
export LC_ALL=C
blksim=$1
src=$2
probes=$(mktemp)
trap 'rm -f "$probes"' EXIT
"$blksim" suite "$src/scenarios/library" -j 2 --baseline "$src/scenarios/library/known-failures.txt" --probes-out "$probes"
status=$?
[ $status -eq 0 ] || exit $status
reached=$(awk '$2 > 0 {print $1}' "$probes")
expected=$(grep -v '^#' "$src/tests/probes/reached.txt")
lost=$(comm -13 <(echo "$reached") <(echo "$expected"))
gained=$(comm -23 <(echo "$reached") <(echo "$expected"))
if [ -n "$lost" ]; then
  echo "code probes no longer reached by the default suite:"; echo "$lost"; exit 1
fi
if [ -n "$gained" ]; then
  echo "code probes reached but not listed in tests/probes/reached.txt (add them):"; echo "$gained"; exit 1
fi
echo "code probes: $(echo "$reached" | wc -l) of $(wc -l < "$probes") reached, as listed"
