#!/usr/bin/env bash
# Every test: install what is missing, build Release (g++ -O2), the blksim binary
# and the fuzz targets with clang++, and Debug (g++ -O0) with AddressSanitizer
# and UBSan, all with -Werror; run the Release tests, fuzz the parsers briefly,
# measure engine coverage (clang, gated at 95% of lines), then the Debug tests,
# which include the check that all three builds give the same fingerprints.
# Ends with ctest's summary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --tests

jobs=2
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

echo "== build: Release (g++ -O2)"
configure build/release -DCMAKE_BUILD_TYPE=Release
build build/release
echo "== build: blksim and the fuzz targets with clang++ -O2 (libFuzzer instrumentation)"
CXX=clang++ configure build/clang -DCMAKE_BUILD_TYPE=Release -DBLKSIM_BUILD_TESTS=OFF -DBLKSIM_FUZZ=ON
build build/clang blksim
build build/clang fuzz_scenario
build build/clang fuzz_repro
echo "== build: Debug (g++ -O0) with ASan + UBSan"
configure build/debug -DCMAKE_BUILD_TYPE=Debug -DBLKSIM_SANITIZE=ON \
  "-DBLKSIM_CROSS_BUILD_BINARIES=$PWD/build/release/blksim;$PWD/build/clang/blksim"
build build/debug

echo "== tests: Release"
if ! (cd build/release && ctest -j"$jobs" --output-on-failure >ctest.log 2>&1); then
  cat build/release/ctest.log
  echo "test.sh: Release tests failed"
  exit 1
fi
tail -n 3 build/release/ctest.log | sed -n 1p

echo "== fuzz: scenario and repro parsers (a fixed number of inputs from a fixed seed)"
bash scripts/fuzz.sh build/clang --runs 100000

echo "== coverage: engine/ by the whole suite (clang source-based; at least 95% of lines)"
bash scripts/coverage.sh | tail -n 2

echo "== tests: Debug with sanitizers, and the cross-build determinism check"
cd build/debug
# The default suite, the golden check and the 1,000 conformance cases ran in
# Release; under the sanitizers every library scenario still runs (the
# cross-build check runs the pinned seeds with this build and compares its
# fingerprints with Release and clang), and conformance runs its shorter test;
# the mutants rebuild blksim (Release) on their own, so they run once.
exec ctest -j"$jobs" --output-on-failure -E "^(library: the default suite|determinism: golden fingerprints|conformance: 1000|mutants:)"
