# Shared by the command-line tests (sourced): a scratch directory, failures
# counted, and `expect CODE PATTERN -- command...` (the exit code, and an
# extended regular expression that stdout + stderr must match).
set -u
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

expect() {
  local code=$1 pattern=$2
  shift 3
  local out rc
  out=$("$@" 2>&1 </dev/null)
  rc=$?
  [ "$rc" -eq "$code" ] || fail "'$*' exited $rc, expected $code; output: $out"
  if [ -n "$pattern" ] && ! grep -qE -- "$pattern" <<<"$out"; then
    fail "'$*' output lacks /$pattern/: $out"
  fi
}

# in_dir DIR command...: the command run from DIR (for `expect ... -- in_dir DIR ...`:
# a failure inside a `( cd DIR && expect ... )` subshell would not be counted).
in_dir() {
  local dir=$1
  shift
  (cd "$dir" && exec "$@")
}

# finish NAME: the verdict of the test script.
finish() {
  if [ "$failures" -ne 0 ]; then
    echo "$1: $failures checks failed"
    exit 1
  fi
  echo "$1: all checks passed"
}
