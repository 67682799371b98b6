#!/usr/bin/env bash
# Every test: install what is missing; build with -Werror: blksim Release
# (g++ -O2), and everything with clang++ -O1 carrying AddressSanitizer, UBSan,
# coverage and libFuzzer instrumentation at once (one build, one run of the
# tests, which also measures engine coverage and the port audit's reach).
# Fuzz the parsers briefly, then run every test, including the check that
# both builds (two compilers, two optimisation levels) give the same
# fingerprints. The mutants' own build gets ready meanwhile.
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
# The mutants' out-of-tree blksim (tests/mutants/run) builds alongside: its
# ctest entry then starts from a built tree.
mutants_log=build/mutants-prepare.log
mkdir -p build/asan
bash tests/mutants/run --prepare --work "$PWD/build/asan/mutants" >"$mutants_log" 2>&1 &
mutants_prepare=$!

echo "== build: everything with clang++ -O1: ASan + UBSan, coverage and libFuzzer instrumentation [$(elapsed)]"
# One build serves the sanitizers, the coverage measurement and the fuzzers:
# each of them alone cost about as much to compile as all of them together.
# -O1, as AddressSanitizer recommends (the suite runs several times faster
# than at -O0); -g1 (line tables): what ASan and UBSan need to name file and
# line. Its fingerprints are pinned, and the Release g++ build must give the
# same ones.
CXX=clang++ configure build/asan -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-g1 -O1" \
  -DBLKSIM_SANITIZE=ON -DBLKSIM_COVERAGE=ON -DBLKSIM_FUZZ=ON \
  "-DBLKSIM_RELEASE_BLKSIM=$PWD/build/release/blksim"
build build/asan

echo "== fuzz: scenario and repro parsers (a fixed number of inputs from a fixed seed) [$(elapsed)]"
bash scripts/fuzz.sh build/asan --runs 100000

if ! wait "$mutants_prepare"; then
  cat "$mutants_log"
  echo "test.sh: preparing the mutants' build failed"
  exit 1
fi
echo "== tests: all of them, with ASan + UBSan; the last measures coverage [$(elapsed)]"
# Includes the golden fingerprints of this build and the check that the
# Release (g++) build gives the same ones.
cd build/asan
# The last entry gates coverage and the reach column: this is a whole run.
BLKSIM_COVERAGE_GATE=1 exec ctest -j"$jobs" --output-on-failure
