#!/usr/bin/env bash
# Line and branch coverage of engine/ by the test suite, with clang's
# source-based coverage (llvm-cov): it sees inside coroutines, gcov does not.
# The counters are placed before optimisation, so an optimised build counts
# exactly and runs the suite several times faster than -O0.
#   bash scripts/coverage.sh                 # per-file table and totals (build/coverage)
#   bash scripts/coverage.sh BUILD_DIR       # an existing build configured with -DBLKSIM_COVERAGE=ON
#   bash scripts/coverage.sh --report BUILD  # only judge the profiles BUILD's tests left
#   COVERAGE_HTML=1 bash scripts/coverage.sh # also BUILD_DIR/html/index.html
# In a coverage build every ctest entry writes its profiles to BUILD/profiles
# and the last entry runs the --report mode (tests/CMakeLists.txt), so
# running the tests is measuring them. Fails if line coverage of engine/ is
# below BLKSIM_MIN_ENGINE_LINES (default 95).
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in llvm-profdata-14 llvm-cov-14; do
  command -v "$tool" >/dev/null || { echo "coverage: $tool missing (apt-get install llvm-14)" >&2; exit 2; }
done
report_only=0
if [ "${1:-}" = "--report" ]; then
  report_only=1
  shift
  [ $# -eq 1 ] || { echo "usage: scripts/coverage.sh --report BUILD_DIR" >&2; exit 2; }
fi
dir=${1:-build/coverage}
if [ $# -eq 0 ]; then
  bash scripts/install-deps.sh
  CXX=clang++ cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBLKSIM_COVERAGE=ON >/dev/null
elif ! grep -qx "BLKSIM_COVERAGE:BOOL=ON" "$dir/CMakeCache.txt" 2>/dev/null; then
  echo "coverage: $dir is not a build configured with -DBLKSIM_COVERAGE=ON" >&2
  exit 2
fi

summary() {  # the per-file table of report.txt, for a person
  # llvm-cov 14 columns: file, regions (3), functions (3), lines (3), branches (3).
  awk 'BEGIN {printf "%-28s %8s %8s %9s\n", "file", "lines", "missed", "branches"}
       /^[a-z_]+\.(cc|h) / || /^TOTAL/ {printf "%-28s %8s %8s %9s\n", $1, $10, $9, $13}' "$dir/report.txt"
}

if [ $report_only -eq 0 ]; then
  cmake --build "$dir" -j2 >/dev/null
  # The whole suite; its last entry comes back here with --report.
  (cd "$dir" && BLKSIM_COVERAGE_GATE=1 ctest -j2 >/dev/null) || { echo "coverage: tests failed (ctest in $dir says which)"; exit 1; }
  summary
  tail -n 1 "$dir/coverage.txt"
  if [ "${COVERAGE_HTML:-0}" = 1 ]; then
    objects=("$dir/tests/engine_tests")
    for bin in "$dir"/tests/sim_tests "$dir"/tests/scenario_tests "$dir"/tests/viz_tests "$dir"/blksim; do
      objects+=(-object "$bin")
    done
    llvm-cov-14 show "${objects[@]}" -instr-profile="$dir/merged.profdata" -format=html -output-dir="$dir/html" "$PWD/engine/"
    echo "coverage: $dir/html/index.html"
  fi
  exit 0
fi

shopt -s nullglob
profiles=("$dir"/profiles/*.profraw)
[ ${#profiles[@]} -gt 0 ] || { echo "coverage: no profiles in $dir/profiles (run the tests of $dir first)"; exit 1; }
llvm-profdata-14 merge -sparse "${profiles[@]}" -o "$dir/merged.profdata"
objects=("$dir/tests/engine_tests")
for bin in "$dir"/tests/sim_tests "$dir"/tests/scenario_tests "$dir"/tests/viz_tests "$dir"/blksim; do
  objects+=(-object "$bin")
done
llvm-cov-14 report "${objects[@]}" -instr-profile="$dir/merged.profdata" "$PWD/engine/" | sed "s|$PWD/||" >"$dir/report.txt"
summary
min=${BLKSIM_MIN_ENGINE_LINES:-95}
read -r lines branches < <(awk '/^TOTAL/ {print $10, $13}' "$dir/report.txt" | tr -d '%')
echo "coverage: engine/ lines ${lines}%, branches ${branches}% (minimum lines ${min}%)" | tee "$dir/coverage.txt"
awk -v l="$lines" -v m="$min" 'BEGIN {exit !(l < m)}' && { echo "coverage: below the minimum"; exit 1; }
exit 0
