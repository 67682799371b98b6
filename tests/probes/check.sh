#!/usr/bin/env bash
# The probe gate: the code probes the default suite and the fixed-seed hunt
# reach together (PROBES_DIR/suite.txt and hunt.txt, written by those ctest
# entries, this entry's fixtures) must be those tests/probes/reached.txt
# lists. A probe no longer reached means a scenario or the generator lost its
# reach; one newly reached is added to the list on purpose.
#   check.sh SOURCE_DIR PROBES_DIR
set -u
export LC_ALL=C
src=$1
probes_dir=$2
for f in suite hunt; do
  [ -s "$probes_dir/$f.txt" ] || { echo "no probes from the $f entry in $probes_dir/$f.txt"; exit 1; }
done
all=$(cat "$probes_dir/suite.txt" "$probes_dir/hunt.txt" | awk '{print $1}' | sort -u)
reached=$(cat "$probes_dir/suite.txt" "$probes_dir/hunt.txt" | awk '$2 > 0 {print $1}' | sort -u)
expected=$(grep -v '^#' "$src/tests/probes/reached.txt")
lost=$(comm -13 <(echo "$reached") <(echo "$expected"))
gained=$(comm -23 <(echo "$reached") <(echo "$expected"))
status=0
if [ -n "$lost" ]; then
  echo "code probes no longer reached by the default suite nor the fixed-seed hunt:"; echo "$lost"; status=1
fi
if [ -n "$gained" ]; then
  echo "code probes reached but not listed in tests/probes/reached.txt (add them):"; echo "$gained"; status=1
fi
suite_only=$(awk '$2 > 0 {print $1}' "$probes_dir/suite.txt" | sort -u)
hunt_only=$(awk '$2 > 0 {print $1}' "$probes_dir/hunt.txt" | sort -u)
echo "code probes: $(echo "$reached" | wc -l) of $(echo "$all" | wc -l) reached, as listed" \
  "(the suite $(echo "$suite_only" | wc -l), the hunt $(echo "$hunt_only" | wc -l)," \
  "the hunt alone $(comm -13 <(echo "$suite_only") <(echo "$hunt_only") | wc -l))"
exit $status
