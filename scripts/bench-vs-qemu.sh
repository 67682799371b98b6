#!/usr/bin/env bash
# The same workload through real QEMU (Debian's qemu-img bench over null-co)
# and through blksim (engine + null driver in the simulator), both in requests
# per CPU-second (user + system), and their ratio. A benchmark: it prints.
#   bash scripts/bench-vs-qemu.sh [COUNT] [BLKSIM] [PAIRS]
#
# The machines this runs on drift by tens of percent within a minute, so the
# two are measured in interleaved pairs (qemu-img, then blksim, then again)
# and the ratio printed is the median of the pairs' ratios, with its range.
set -euo pipefail
count=${1:-200000}
blksim=${2:-build/release/blksim}
pairs=${3:-5}
command -v qemu-img >/dev/null || { echo "bench-vs-qemu: qemu-img missing (scripts/install-deps.sh --tests)"; exit 2; }
[ -x "$blksim" ] || { echo "bench-vs-qemu: no $blksim (build first)"; exit 2; }

# CPU seconds (user + sys) of one run of a command.
cpu_of() {
  { TIMEFORMAT='%U %S'; time "$@" >/dev/null 2>&1; } 2>&1 | awk '{print $1 + $2}'
}

# Median, minimum and maximum of the numbers on stdin.
summary() { sort -g | awk '{v[NR] = $1} END {printf "%s (%s to %s)", v[int((NR + 1) / 2)], v[1], v[NR]}'; }

for mode in read write; do
  flag=""
  [ "$mode" = write ] && flag="-w"
  qrates=() offs=() ons=() roff=() ron=()
  for _ in $(seq "$pairs"); do
    q=$(cpu_of qemu-img bench -c "$count" -d 64 -s 4096 $flag --image-opts driver=null-co,size=1G)
    qrate=$(awk -v c="$count" -v t="$q" 'BEGIN {printf "%.0f", c / t}')
    out=$("$blksim" bench -c "$count" -d 64 -s 4096 $flag --reps 1 --in-flight 0 --scenarios none)
    off=$(echo "$out" | awk '/oracles off/ {print $NF}')
    on=$(echo "$out" | awk '/data oracle on/ {for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+$/) v = $i; print v}')
    qrates+=("$qrate") offs+=("$off") ons+=("$on")
    roff+=("$(awk -v a="$off" -v b="$qrate" 'BEGIN {printf "%.2f", a / b}')")
    ron+=("$(awk -v a="$on" -v b="$qrate" 'BEGIN {printf "%.2f", a / b}')")
  done
  echo "$mode ($pairs interleaved pairs, median (range)):"
  echo "  qemu-img bench         $(printf '%s\n' "${qrates[@]}" | summary) req/CPU-s"
  echo "  blksim, oracles off    $(printf '%s\n' "${offs[@]}" | summary) req/CPU-s; ratio $(printf '%s\n' "${roff[@]}" | summary)x"
  echo "  blksim, data oracle on $(printf '%s\n' "${ons[@]}" | summary) req/CPU-s; ratio $(printf '%s\n' "${ron[@]}" | summary)x"
done
