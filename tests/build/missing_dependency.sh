#!/usr/bin/env bash
# Configure must stop on a missing dependency and name the Debian package.
# CMAKE_DISABLE_FIND_PACKAGE_<P> hides a config package; an empty pkg-config
# search path hides the Graphviz libraries.
set -u
src=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

check() {  # expected-package, cmake args / env...
  local package=$1
  shift
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  if [ "$rc" -eq 0 ]; then
    echo "FAIL: configure succeeded with $package hidden"
    failures=$((failures + 1))
  elif ! grep -q "apt-get install $package" <<<"$out"; then
    echo "FAIL: configure did not name '$package':"
    echo "$out" | tail -8
    failures=$((failures + 1))
  fi
  rm -rf "$tmp/b"
}

check libcli11-dev cmake -S "$src" -B "$tmp/b" -DCMAKE_DISABLE_FIND_PACKAGE_CLI11=TRUE
check libtomlplusplus-dev cmake -S "$src" -B "$tmp/b" -DCMAKE_DISABLE_FIND_PACKAGE_tomlplusplus=TRUE
check libabsl-dev cmake -S "$src" -B "$tmp/b" -DCMAKE_DISABLE_FIND_PACKAGE_absl=TRUE
check catch2 cmake -S "$src" -B "$tmp/b" -DCMAKE_DISABLE_FIND_PACKAGE_Catch2=TRUE
check librapidcheck-dev cmake -S "$src" -B "$tmp/b" -DCMAKE_DISABLE_FIND_PACKAGE_rapidcheck=TRUE
check "libgraphviz-dev graphviz" env PKG_CONFIG_LIBDIR=/nonexistent PKG_CONFIG_PATH= cmake -S "$src" -B "$tmp/b"

[ "$failures" -eq 0 ] && echo "every missing dependency names its package"
[ "$failures" -eq 0 ]
