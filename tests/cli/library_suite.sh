#!/usr/bin/env bash
# The default suite against its baseline; the code probes it reaches go to
# PROBES_DIR/suite.txt for the probe gate (tests/probes/check.sh).
#   library_suite.sh BLKSIM SOURCE_DIR PROBES_DIR [CLEAN_STAMP]
# With CLEAN_STAMP: once the suite holds, the stamp of this binary and
# library (tests/mutants/clean_stamp.sh) is written there, so the mutants'
# entry need not run the same unmutated suite again.
set -u
blksim=$1
src=$2
probes_dir=$3
stamp_file=${4:-}
mkdir -p "$probes_dir"
rm -f "$probes_dir/suite.txt"
[ -z "$stamp_file" ] || rm -f "$stamp_file"
"$blksim" suite "$src/scenarios/library" -j 2 --baseline "$src/scenarios/library/known-failures.txt" \
  --probes-out "$probes_dir/suite.txt"
rc=$?
if [ $rc -eq 0 ] && [ -n "$stamp_file" ]; then
  bash "$src/tests/mutants/clean_stamp.sh" "$blksim" "$src/scenarios/library" >"$stamp_file"
fi
exit $rc
