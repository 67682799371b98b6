#!/usr/bin/env bash
# The identity of one unmutated suite run: the blksim binary's content and
# every file of the library. tests/mutants/run skips its clean suite when a
# stamp of the same identity says that suite already held (its own earlier
# run, or the library's ctest entry on an identical binary).
#   clean_stamp.sh BLKSIM LIBRARY_DIR
set -euo pipefail
(sha256sum <"$1"; find "$2" -type f -print0 | sort -z | xargs -0 sha256sum | sed "s| $2/| |") | sha256sum | cut -d' ' -f1
