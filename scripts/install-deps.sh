#!/usr/bin/env bash
# Installs the Debian packages blksim needs, only those missing. Run as root on
# Debian 12 (bookworm); a no-op when everything is there. --tests adds what
# only the tests use: Chromium (the HTML failure report, opened headless),
# qemu-utils (qemu-io, the real block layer of the conformance test) and
# python3-yaml (the scaling test reads the deployment examples).
set -euo pipefail

packages=(
  g++ clang llvm cmake ninja-build pkg-config     # toolchains (clang: cross-compiler check and coverage)
  libabsl-dev libcli11-dev libtomlplusplus-dev nlohmann-json3-dev zlib1g-dev
  graphviz libgraphviz-dev                         # wait graphs: cgraph + gvc, and the dot plugins
  catch2 librapidcheck-dev                         # tests
)

case "${1:-}" in
  --tests) packages+=(chromium qemu-utils python3-yaml) ;;
  "") ;;
  *) echo "install-deps: unknown option '$1' (expected --tests or nothing)" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: run as root, or: sudo apt-get install ${missing[*]}" >&2
  exit 2
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
