#!/usr/bin/env bash
# Runs the libFuzzer targets for SECONDS each (default 30) from a seed corpus:
# every library scenario, repro files made from them, and the regressions.
#   CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DBLKSIM_FUZZ=ON -DBLKSIM_BUILD_TESTS=OFF
#   cmake --build build/fuzz --target blksim fuzz_scenario fuzz_repro
#   bash scripts/fuzz.sh build/fuzz [SECONDS]     # time-limited, a new random seed each run
#   bash scripts/fuzz.sh build/fuzz --runs N       # N inputs per target from seed 1: the same run every time (CI)
# A crash stops with the input saved in the working directory (crash-*): add it
# to fuzz/regressions/ once fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:?usage: scripts/fuzz.sh BUILD_DIR [SECONDS | --runs N]}
if [ "${2:-}" = "--runs" ]; then
  limit=(-runs="${3:?--runs needs a number}" -seed=1)
  what="${3} inputs from seed 1"
else
  limit=(-max_total_time="${2:-30}")
  what="${2:-30} s"
fi
# A build that also carries coverage instrumentation would leave a profile per
# process here; nothing reads them.
export LLVM_PROFILE_FILE=${LLVM_PROFILE_FILE:-/dev/null}
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
mkdir -p "$corpus/scenario" "$corpus/repro"
cp scenarios/library/*.toml fuzz/regressions/scenario/* "$corpus/scenario/" 2>/dev/null || true
cp fuzz/regressions/repro/* "$corpus/repro/" 2>/dev/null || true
for f in scenarios/library/overlapping-writers.toml scenarios/library/flush-crash.toml scenarios/library/breakpoint-deadlock.toml; do
  "$build/blksim" run "$f" --seed 1 --repro-out "$corpus/repro/$(basename "$f" .toml).json" >/dev/null 2>&1 || true
done
# Both targets at once, one core each.
pids=()
for target in scenario repro; do
  "$build/fuzz_$target" "${limit[@]}" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 "$corpus/$target" >"$corpus/$target.log" 2>&1 &
  pids+=($!)
done
crashed=0
for i in 0 1; do
  target=$([ $i -eq 0 ] && echo scenario || echo repro)
  set +e
  wait "${pids[$i]}"
  rc=$?
  set -e
  echo "fuzz_$target: $(ls "$corpus/$target" | wc -l) inputs in its corpus at the end, $what"
  grep -E "^stat::(number_of_executed_units|new_units_added)" "$corpus/$target.log" | sed 's/^/  /' || true
  if [ "$rc" -ne 0 ]; then
    tail -n 40 "$corpus/$target.log"
    echo "fuzz_$target: a crash (the input is saved as crash-* in $(pwd))"
    crashed=1
  fi
done
[ $crashed -eq 0 ] || exit 1
echo "fuzz: no crash"
