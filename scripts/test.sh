#!/usr/bin/env bash
# Every test: install what is missing; build with -Werror: blksim Release
# (g++ -O2), everything with clang++ -O2 carrying coverage and libFuzzer
# instrumentation, and everything with AddressSanitizer and UBSan (g++ -O1).
# Fuzz the parsers briefly and measure engine coverage (clang build, gated at
# 95% of lines) while the mutants' own build gets ready, then run every test
# under the sanitizers, including the check that all three builds give the
# same fingerprints.
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
echo "== build: everything with ASan + UBSan (g++ -O1, assertions as in Debug) [$(elapsed)]"
# -O1, as AddressSanitizer recommends: the suite runs several times faster than
# at -O0 (the library suite 22 s instead of 136 s). Its fingerprints are
# pinned; the Release and clang builds must give the same (three builds, two
# compilers, -O1 without sibling calls and -O2 with them).
# -g1 (line tables): what ASan and UBSan need to name file and line, without
# the full debug info that made heavy template code compile far slower.
configure build/asan -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-g1 -O1" -DBLKSIM_SANITIZE=ON \
  "-DBLKSIM_CROSS_BUILD_BINARIES=$PWD/build/release/blksim;$PWD/build/clang/blksim"
build build/asan

# The mutants' out-of-tree blksim (tests/mutants/run) builds meanwhile: the
# fuzzer and the reach measurement leave a core idle. Its ctest entry then
# starts from a built tree.
mutants_log=build/mutants-prepare.log
bash tests/mutants/run --prepare --work "$PWD/build/asan/mutants" >"$mutants_log" 2>&1 &
mutants_prepare=$!

echo "== fuzz: scenario and repro parsers (a fixed number of inputs from a fixed seed) [$(elapsed)]"
bash scripts/fuzz.sh build/clang --runs 100000

echo "== coverage: engine/ by the suite in the clang build (at least 95% of lines) [$(elapsed)]"
bash scripts/coverage.sh build/clang | tail -n 2
# docs/port-audit.md's "reached by" column must say what the harness reaches.
python3 scripts/port_reach.py build/clang --check

if ! wait "$mutants_prepare"; then
  cat "$mutants_log"
  echo "test.sh: preparing the mutants' build failed"
  exit 1
fi
echo "== tests: all of them, with ASan + UBSan [$(elapsed)]"
# Includes the golden fingerprints of this build and the check that the
# Release (g++) and clang builds give the same ones.
cd build/asan
exec ctest -j"$jobs" --output-on-failure
