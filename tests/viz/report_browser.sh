#!/usr/bin/env bash
# The failure report in a real browser: Debian's Chromium opens it headless; the
# page must render (a screenshot of some size is taken), both pictures must be
# in its DOM, its console must show the page's own sign of life and no error,
# and a name with markup in it must arrive as text, not as markup.
set -u
blksim=$1
src=$2
chromium=$(command -v chromium || true)
if [ -z "$chromium" ]; then
  echo "report_browser: chromium is not installed (scripts/install-deps.sh --tests installs it)"
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# A failing run whose node and job names carry markup.
sed -e 's/name = "disk"/name = "<b>disk<\/b>"/' -e 's/node = "disk"/node = "<b>disk<\/b>"/' \
    -e 's/name = "guest"/name = "g\&amp;<script>x<\/script>"/' -e 's/after_job = "guest"/after_job = "g\&amp;<script>x<\/script>"/' \
    "$src/scenarios/library/fua-crash.toml" >"$tmp/markup.toml"
"$blksim" run "$tmp/markup.toml" --seed 0 --repro-out "$tmp/bug.repro.json" >/dev/null
"$blksim" report "$tmp/bug.repro.json" -o "$tmp/report.html" --shrink >/dev/null
[ $? -eq 1 ] || fail "report of a failing repro did not exit 1"
[ -s "$tmp/report.html" ] || { echo "FAIL: no report written"; exit 1; }

browse() {
  timeout 120 "$chromium" --headless=new --no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
    --user-data-dir="$tmp/profile" --enable-logging=stderr --v=0 "$@" "file://$tmp/report.html"
}
browse --window-size=1400,2400 --screenshot="$tmp/shot.png" >/dev/null 2>"$tmp/shot.err"
size=$(stat -c %s "$tmp/shot.png" 2>/dev/null || echo 0)
[ "$size" -gt 20000 ] || fail "the screenshot is missing or nearly empty ($size bytes)"
browse --dump-dom >"$tmp/dom.html" 2>"$tmp/dom.err"
[ "$(grep -o '<svg' "$tmp/dom.html" | wc -l)" -ge 2 ] || fail "the rendered page lacks the timeline and the wait graph"
grep -q 'id="wait-graph"' "$tmp/dom.html" || fail "no wait graph section"
grep -q 'durability' "$tmp/dom.html" || fail "the verdict's property is not on the page"
grep -q 'Shrunk scenario' "$tmp/dom.html" || fail "no shrunk scenario"
grep -q '&lt;b&gt;disk&lt;/b&gt;' "$tmp/dom.html" || fail "a node name with markup was not escaped"
grep -q '<b>disk</b>' "$tmp/dom.html" && fail "a node name became markup"
grep -q '<script>x</script>' "$tmp/dom.html" && fail "a job name became a script"
grep -q 'CONSOLE.*blksim report rendered: 2 svg' "$tmp/dom.err" || fail "the page's script did not run to its end"
if grep -E 'CONSOLE' "$tmp/dom.err" "$tmp/shot.err" | grep -v 'blksim report rendered' | grep -q .; then
  fail "console messages besides the page's own: $(grep -E 'CONSOLE' "$tmp/dom.err" | grep -v 'blksim report rendered' | head -3)"
fi
if grep -E 'Uncaught|ERROR:CONSOLE' "$tmp/dom.err" "$tmp/shot.err" | grep -q .; then
  fail "console errors: $(grep -E 'Uncaught|ERROR:CONSOLE' "$tmp/dom.err" | head -3)"
fi

if [ "$failures" -ne 0 ]; then
  echo "$failures report checks failed"
  exit 1
fi
echo "the report renders in Chromium: screenshot $size bytes, 2+ SVG, console clean"
