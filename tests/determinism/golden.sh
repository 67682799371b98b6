# Shared by the determinism checks: the runs whose fingerprints are pinned.
# One line per run: scenario file (relative to scenarios/library), seed, strategy.
golden_runs() {
  local f
  for f in "$1"/scenarios/library/*.toml; do
    for strategy in fifo random pct:3; do
      for seed in 0 7; do
        echo "$(basename "$f") $seed $strategy"
      done
    done
  done
}

fingerprint_of() {  # blksim source scenario seed strategy
  "$1" run "$2/scenarios/library/$3" --seed "$4" --strategy "$5" | awk '/^fingerprint/ {print $2}'
}
