#!/usr/bin/env bash
# The same workload through real QEMU (Debian's qemu-img bench over null-co)
# and through blksim (engine + null driver in the simulator), both in requests
# per CPU-second (user + system), and their ratio. A benchmark: it prints.
#   bash scripts/bench-vs-qemu.sh [COUNT] [BLKSIM]
set -euo pipefail
count=${1:-200000}
blksim=${2:-build/release/blksim}
command -v qemu-img >/dev/null || { echo "bench-vs-qemu: qemu-img missing (scripts/install-deps.sh --tests)"; exit 2; }
[ -x "$blksim" ] || { echo "bench-vs-qemu: no $blksim (build first)"; exit 2; }

# CPU seconds (user + sys) of a command, median of three.
cpu_of() {
  local runs=()
  for _ in 1 2 3; do
    local t
    t=$( { TIMEFORMAT='%U %S'; time "$@" >/dev/null 2>&1; } 2>&1 | awk '{print $1 + $2}')
    runs+=("$t")
  done
  printf '%s\n' "${runs[@]}" | sort -g | sed -n 2p
}

for mode in read write; do
  flag=""
  [ "$mode" = write ] && flag="-w"
  q=$(cpu_of qemu-img bench -c "$count" -d 64 -s 4096 $flag --image-opts driver=null-co,size=1G)
  qrate=$(awk -v c="$count" -v t="$q" 'BEGIN {printf "%.0f", c / t}')
  out=$("$blksim" bench -c "$count" -d 64 -s 4096 $flag --in-flight 0 --scenarios none)
  off=$(echo "$out" | awk '/oracles off/ {print $NF}')
  on=$(echo "$out" | awk '/data oracle on/ {for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+$/) v = $i; print v}')
  echo "$mode: qemu-img bench $qrate req/CPU-s; blksim $off (oracles off, $(awk -v a="$off" -v b="$qrate" 'BEGIN {printf "%.2f", a / b}')x), $on (data oracle on, $(awk -v a="$on" -v b="$qrate" 'BEGIN {printf "%.2f", a / b}')x)"
done
