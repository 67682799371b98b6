#!/usr/bin/env bash
# The default suite against its baseline; the code probes it reaches go to
# PROBES_DIR/suite.txt for the probe gate (tests/probes/check.sh).
#   library_suite.sh BLKSIM SOURCE_DIR PROBES_DIR
set -u
blksim=$1
src=$2
probes_dir=$3
mkdir -p "$probes_dir"
rm -f "$probes_dir/suite.txt"
exec "$blksim" suite "$src/scenarios/library" -j 2 --baseline "$src/scenarios/library/known-failures.txt" \
  --probes-out "$probes_dir/suite.txt"
