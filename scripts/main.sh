#!/usr/bin/env bash
# The main job: install what is missing, build blksim (Release), run the default
# scenario suite with its seeds, and render each scenario's wait graph.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DBLKSIM_BUILD_TESTS=OFF >/dev/null
cmake --build build/release -j2 --target blksim >/dev/null
./build/release/blksim suite scenarios/library -j2 --baseline scenarios/library/known-failures.txt \
  --graph-dir build/release/graphs
echo "wait graphs: build/release/graphs/*.svg (breakpoint-deadlock.svg shows its deadlock cycle in red)"
