#!/usr/bin/env bash
# Every test: install what is missing; build with -Werror: blksim Release
# (g++ -O2; the mutants' tree), and everything with clang++ -O1 carrying AddressSanitizer, UBSan,
# coverage and libFuzzer instrumentation at once (one build, one run of the
# tests, which also measures engine coverage and the port audit's reach).
# Fuzz the parsers briefly, then run every test, including the check that
# both builds (two compilers, two optimisation levels) give the same
# fingerprints.
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

echo "== build: blksim, Release (g++ -O2), in the copy of the sources the mutants edit"
# One g++ build serves twice: the mutants' ctest entry rebuilds this tree with
# each mutant (tests/mutants/run; a second full build cost CI about two
# minutes), and a copy of its blksim, which those rebuilds cannot touch, is
# the Release blksim of the volume tests and the cross-build check.
mkdir -p build/asan
mutants_log=build/mutants-prepare.log
if ! bash tests/mutants/run --prepare --work "$PWD/build/asan/mutants" --cmake-arg -DBLKSIM_WERROR=ON >"$mutants_log" 2>&1; then
  cat "$mutants_log"
  echo "test.sh: the Release build (the mutants' unmutated tree) failed"
  exit 1
fi
mkdir -p build/release-blksim
cp build/asan/mutants/build/blksim build/release-blksim/blksim

echo "== build: everything with clang++ -O1: ASan + UBSan, coverage and libFuzzer instrumentation [$(elapsed)]"
# One build serves the sanitizers, the coverage measurement and the fuzzers:
# each of them alone cost about as much to compile as all of them together.
# -O1, as AddressSanitizer recommends (the suite runs several times faster
# than at -O0); -g1 (line tables): what ASan and UBSan need to name file and
# line. Its fingerprints are pinned, and the Release g++ build must give the
# same ones.
CXX=clang++ configure build/asan -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-g1 -O1" \
  -DBLKSIM_SANITIZE=ON -DBLKSIM_COVERAGE=ON -DBLKSIM_FUZZ=ON \
  "-DBLKSIM_RELEASE_BLKSIM=$PWD/build/release-blksim/blksim"
build build/asan

echo "== fuzz: scenario and repro parsers (a fixed number of inputs from a fixed seed) [$(elapsed)]"
bash scripts/fuzz.sh build/asan --runs 100000

echo "== tests: all of them, with ASan + UBSan; the last measures coverage [$(elapsed)]"
# Includes the golden fingerprints of this build and the check that the
# Release (g++) build gives the same ones.
cd build/asan
# The last entry gates coverage and the reach column: this is a whole run.
BLKSIM_COVERAGE_GATE=1 exec ctest -j"$jobs" --output-on-failure
