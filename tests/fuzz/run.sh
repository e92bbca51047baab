#!/usr/bin/env bash
# Builds the libFuzzer targets with clang in build-fuzz/ and runs each for
# SECONDS (default 10), two at a time. ./test.sh runs it with the default;
# for a long run:
#   tests/fuzz/run.sh 720       # ten targets, two at a time: about an hour
#   tests/fuzz/run.sh --build-only   # build, run nothing (./test.sh builds
#                                    # while other tests run)
# Findings (crash-*, leak-*, timeout-*, oom-*) are left in build-fuzz/tests/fuzz/.
set -euo pipefail
cd "$(dirname "$0")/../.."
build_only=false
if [[ "${1:-}" == "--build-only" ]]; then
  build_only=true
  shift
fi
seconds="${1:-10}"
if [[ ! -f build-fuzz/build.ninja ]]; then
  CC=clang CXX=clang++ meson setup build-fuzz -Dfuzz=enabled -Dtests=disabled \
    -Dbenchmarks=disabled -Dbuildtype=plain -Db_pie=true >/dev/null
fi
meson configure build-fuzz -Dfuzz_seconds="$seconds" >/dev/null
ninja -C build-fuzz >build-fuzz/ninja-output.txt || { tail -n 40 build-fuzz/ninja-output.txt; exit 1; }
if $build_only; then
  exit 0
fi
exec meson test -C build-fuzz --suite fuzz --num-processes 2 --print-errorlogs
