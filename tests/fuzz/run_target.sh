#!/usr/bin/env bash
# One fuzz target for a bounded time: TARGET SCRATCH_CORPUS SEED_CORPUS SECONDS.
# A crash, a leak, a time-out of one input (10 s) or memory over 2 GB fails;
# the input that did it is left in the build directory (crash-*, timeout-*).
set -euo pipefail
target="$1" scratch="$2" seeds="$3" seconds="$4"
mkdir -p "$scratch"
cd "$(dirname "$scratch")"
here="$(cd "$(dirname "$0")" && pwd)"
# The slow unwinder: GLib has no frame pointers, and the suppressions need
# the whole stack of an allocation.
export LSAN_OPTIONS="suppressions=$here/lsan.supp:fast_unwind_on_malloc=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export ASAN_OPTIONS="fast_unwind_on_malloc=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
# libFuzzer exits 77 on a finding by default, which meson reads as "skipped":
# a crash or a leak must fail the test.
exec "$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -error_exitcode=1 -timeout_exitcode=1 \
  -print_final_stats=1 "$scratch" "$seeds"
