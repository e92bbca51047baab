#!/usr/bin/env bash
# ./test.sh --bench (and --bench-full): builds, runs the meson benchmark
# suite "bench" (gst-mediaserver beside a stock gst-rtsp-server program,
# each scenario in turn, never in parallel), prints one table and writes
# build/bench-results.json. Not part of the normal test run.
#   --bench        quick: 200 and 400 viewers, about 10 minutes on 2 cores
#   --bench-full   the long sweep (GMS_BENCH_FULL=1): up to 3000 viewers
# Viewer counts can be set: GMS_BENCH_VIEWERS=200,400,1000 (fan-out),
# GMS_BENCH_PROXY_VIEWERS=100, GMS_BENCH_FILE_VIEWERS=16,32,64.
set -uo pipefail
cd "$(dirname "$0")/../.."

if [[ "${1:-}" == "--bench-full" ]]; then
  export GMS_BENCH_FULL=1
else
  export GMS_BENCH_FULL=0
fi

# live555 for the bench only: live555ProxyServer relays in the proxy
# scenario when it is on PATH. Debian 12 has no livemedia-utils package;
# installed where the archive has one.
if ! command -v live555ProxyServer >/dev/null 2>&1 &&
   apt-cache policy livemedia-utils 2>/dev/null | grep -q 'Candidate: [0-9]'; then
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq livemedia-utils >/dev/null || true
fi
if command -v live555ProxyServer >/dev/null 2>&1; then
  export GMS_BENCH_LIVE555="not run"  # rows without a live555 figure
else
  export GMS_BENCH_LIVE555="skipped"
  echo "live555: skipped (live555ProxyServer not on PATH; Debian 12 has no livemedia-utils)"
fi

# ./run.sh leaves the benchmark programs out of the build: they are only
# needed here.
meson configure build -Dbenchmarks=enabled >/dev/null || exit 1
ninja -C build || exit 1
export GMS_BENCH_RESULTS_DIR="$PWD/build/bench"
rm -rf "$GMS_BENCH_RESULTS_DIR"
mkdir -p "$GMS_BENCH_RESULTS_DIR"
start=$(date +%s)
meson test -C build --no-rebuild --benchmark --suite bench --num-processes 1 -v \
  --logbase bench >build/bench-output.txt 2>&1
status=$?
grep -E '^(fanout|proxy|files|record) |^  lossy|^[^ ]+ / vs_stock' build/bench-output.txt
echo "bench: $(( $(date +%s) - start )) s; the whole output in build/bench-output.txt"
echo
python3 tests/bench/collect.py "$GMS_BENCH_RESULTS_DIR" build/bench-results.json \
  "./test.sh ${1:---bench}" || status=1
exit $status
