#!/usr/bin/env bash
# blksim conform against Debian's qemu-io: an engine mutant's difference is
# found, shrunk to its shortest sequence and printed with both command lines; a
# case where both sides hit the same blkdebug assertion agrees; bad input is
# exit 2. (The 1,000-case sweep is its own ctest entry.)
set -u
blksim=$1
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
if ! [ -x /usr/bin/qemu-io ]; then
  echo "conform_test: /usr/bin/qemu-io is missing (scripts/install-deps.sh --tests installs qemu-utils)"
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A mutant that turns an -ENOTSUP zero write into an error must differ.
"$blksim" conform --cases 100 --seed 1 --mutant no-zero-fallback --stop-on-first >"$tmp/mutant.txt" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "mutant sweep: exit $rc, expected 1"
grep -q "^DIFFERS case " "$tmp/mutant.txt" || fail "mutant sweep: no DIFFERS line"
grep -q "shortest sequence that still differs (1 of " "$tmp/mutant.txt" || fail "mutant sweep: not shrunk to one command"
grep -q "qemu-io: /usr/bin/qemu-io --image-opts driver=blkdebug," "$tmp/mutant.txt" || fail "mutant sweep: no qemu-io command line"
grep -q "replay: blksim conform --seed 1 --case " "$tmp/mutant.txt" || fail "mutant sweep: no replay line"

# Case 0 of seed 1: a discard QEMU and the reference both fragment into an
# unaligned piece; qemu-io aborts in blkdebug, blksim's fault driver flags it.
"$blksim" conform --seed 1 --case 0 >"$tmp/case0.txt" 2>&1
rc=$?
[ $rc -eq 0 ] || fail "case 0: exit $rc, expected 0"
grep -q "both stop at command 3 \`discard 215509 3882\` in blkdebug_co_pdiscard" "$tmp/case0.txt" ||
  fail "case 0: the shared blkdebug assertion is not reported"

# The same case, replayed, prints the same thing.
"$blksim" conform --seed 1 --case 0 2>&1 | sed 's/ in [0-9.]* s$//' >"$tmp/again.txt"
sed 's/ in [0-9.]* s$//' "$tmp/case0.txt" | cmp -s - "$tmp/again.txt" || fail "case 0 replayed differently"

# Bad input.
"$blksim" conform --qemu-io /nonexistent/qemu-io --cases 1 >"$tmp/bad.txt" 2>&1
rc=$?
[ $rc -eq 2 ] || fail "missing qemu-io: exit $rc, expected 2"
grep -q "cannot run '/nonexistent/qemu-io'" "$tmp/bad.txt" || fail "missing qemu-io: message"
"$blksim" conform --cases 0 >"$tmp/bad.txt" 2>&1
[ $? -eq 2 ] || fail "--cases 0: expected exit 2"
"$blksim" conform --mutant no-such-mutant --cases 1 >"$tmp/bad.txt" 2>&1
[ $? -eq 2 ] || fail "unknown mutant: expected exit 2"

if [ $failures -ne 0 ]; then
  echo "conform_test: $failures failures"
  cat "$tmp/mutant.txt" | grep -v '^[0-9a-f]\{8\}:' | head -40
  exit 1
fi
echo "conform_test: all checks passed"
