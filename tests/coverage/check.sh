#!/usr/bin/env bash
# The cleanup entry of a coverage build's tests (tests/CMakeLists.txt): from
# the profiles every test left in BUILD/profiles, engine/ line coverage with
# its minimum, then the port audit's reach column.
#   tests/coverage/check.sh BUILD_DIR SOURCE_DIR
# Gated when BLKSIM_COVERAGE_GATE=1 (scripts/test.sh and scripts/coverage.sh
# set it for a whole run). Otherwise, as after `ctest -R one-test`, the
# profiles are a part of the suite's: the figures are printed, not judged.
set -uo pipefail
build=$(cd "$1" && pwd)
cd "$2"
if [ "${BLKSIM_COVERAGE_GATE:-0}" != 1 ]; then
  echo "coverage: not judged (BLKSIM_COVERAGE_GATE unset: the tests run may be a part of the suite)"
  bash scripts/coverage.sh --report "$build" || true
  python3 scripts/port_reach.py "$build" --check || true
  exit 0
fi
set -e
bash scripts/coverage.sh --report "$build"
python3 scripts/port_reach.py "$build" --check
