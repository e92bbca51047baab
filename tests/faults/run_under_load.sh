#!/usr/bin/env bash
# Runs fault tests N times with three CPU hogs beside them (each hog ends
# with the script, or after 30 min at the latest) and prints the pass rate:
#   tests/faults/run_under_load.sh [BUILD_DIR] [N] [GTEST_FILTER] [TEST_BINARY]
# e.g. tests/faults/run_under_load.sh build 20 '*LargeSdp*:*PlayThenSilence*'
#      tests/faults/run_under_load.sh build 20 '*PlayRangeTwice' files_control_test
set -uo pipefail
cd "$(dirname "$0")/../.."
build=$(realpath "${1:-build}"); n=${2:-20}; filter=${3:-'*LargeSdp*:*PlayThenSilence*'}
binary=${4:-backend_faults_test}
hogs=()
for _ in 1 2 3; do timeout 1800 yes >/dev/null & hogs+=($!); done
trap 'kill "${hogs[@]}" 2>/dev/null' EXIT
logs=$(mktemp -d)
pass=0
for i in $(seq 1 "$n"); do
  if GMS_BUILD_DIR="$build" GMS_SOURCE_DIR="$PWD" GST_REGISTRY="$build/tests/registry.bin" \
     GST_PLUGIN_PATH_1_0="$build/plugins" GST_DEBUG='*:1,gms*:3' \
     timeout 300 "$build/tests/$binary" --gtest_filter="$filter" >"$logs/run$i.log" 2>&1; then
    pass=$((pass + 1)); echo "run $i: ok"
  else
    echo "run $i: FAILED ($logs/run$i.log)"; grep -E "Failure|took|still running" -A2 "$logs/run$i.log" | head -8
  fi
done
echo "passed $pass of $n"
