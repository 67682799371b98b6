#!/usr/bin/env bash
# Every test: install what is missing; build with -Werror three ways: blksim
# Release (g++ -O2), everything with clang++ -O2 carrying coverage and libFuzzer
# instrumentation, and everything Debug (g++ -O0) with AddressSanitizer and
# UBSan. Fuzz the parsers briefly and measure engine coverage (clang build,
# gated at 95% of lines), then run every test under the sanitizers, including
# the check that all three builds give the same fingerprints.
# Ends with ctest's summary.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS=0
bash scripts/install-deps.sh --tests

jobs=2
elapsed() { printf '%dm%02ds' $((SECONDS / 60)) $((SECONDS % 60)); }
configure() {  # dir, extra cmake args...
  local dir=$1
  shift
  cmake -S . -B "$dir" -G Ninja -DBLKSIM_WERROR=ON "$@" >/dev/null
}
build() {  # dir, [target]
  local log
  log=$(mktemp)
  if ! cmake --build "$1" -j"$jobs" ${2:+--target "$2"} >"$log" 2>&1; then
    cat "$log"
    echo "test.sh: build of $1 failed"
    exit 1
  fi
  rm -f "$log"
}

echo "== build: blksim, Release (g++ -O2)"
configure build/release -DCMAKE_BUILD_TYPE=Release
build build/release blksim
echo "== build: everything with clang++ -O2, coverage and libFuzzer instrumentation [$(elapsed)]"
CXX=clang++ configure build/clang -DCMAKE_BUILD_TYPE=Release -DBLKSIM_COVERAGE=ON -DBLKSIM_FUZZ=ON
build build/clang
echo "== build: everything Debug (g++ -O0) with ASan + UBSan [$(elapsed)]"
configure build/debug -DCMAKE_BUILD_TYPE=Debug -DBLKSIM_SANITIZE=ON \
  "-DBLKSIM_CROSS_BUILD_BINARIES=$PWD/build/release/blksim;$PWD/build/clang/blksim"
build build/debug

echo "== fuzz: scenario and repro parsers (a fixed number of inputs from a fixed seed) [$(elapsed)]"
bash scripts/fuzz.sh build/clang --runs 100000

echo "== coverage: engine/ by the suite in the clang build (at least 95% of lines) [$(elapsed)]"
bash scripts/coverage.sh build/clang | tail -n 2

echo "== tests: all of them, Debug with ASan + UBSan [$(elapsed)]"
# Includes the golden fingerprints of this build and the check that the
# Release (g++) and clang builds give the same ones.
cd build/debug
exec ctest -j"$jobs" --output-on-failure
