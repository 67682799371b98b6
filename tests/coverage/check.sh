#!/usr/bin/env bash
# The cleanup entry of a coverage build's tests (tests/CMakeLists.txt): from
# the profiles every test left in BUILD/profiles, engine/ line coverage with
# its minimum, then the port audit's reach column.
#   tests/coverage/check.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
cd "$2"
bash scripts/coverage.sh --report "$build"
python3 scripts/port_reach.py "$build" --check
