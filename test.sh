#!/usr/bin/env bash
# Sets up gst-mediaserver (as ./run.sh does) and runs the whole test suite:
# once in the normal build and once more built with AddressSanitizer and
# UndefinedBehaviorSanitizer. Ends with "tests: N passed, N failed".
#   ./test.sh             everything
#   ./test.sh --quick     normal build only (no sanitizer pass)
set -uo pipefail
cd "$(dirname "$0")"

./run.sh --setup-only || { echo "tests: 0 passed, 1 failed"; exit 1; }

results=()
run_suite() {
  local dir="$1"; shift
  meson test -C "$dir" --print-errorlogs --num-processes 2 "$@"
  results+=("$dir/meson-logs/testlog.junit.xml")
}

run_suite build
if [[ "${1:-}" != "--quick" ]]; then
  if [[ ! -f build-asan/build.ninja ]]; then
    meson setup build-asan -Dtests=enabled -Db_sanitize=address,undefined -Db_lundef=false \
      -Dbuildtype=debug >/dev/null
  fi
  if ninja -C build-asan >/dev/null; then
    # Unit and element tests, and the integration tests that drive the
    # sanitized server through real clients in every mount kind; the longest
    # file and publish-lifecycle runs stay in the normal pass only, so the
    # whole script keeps within ten minutes on two cores.
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 run_suite build-asan --timeout-multiplier 3 \
      --suite sanitized
  else
    echo "sanitizer build failed"
    results+=("BUILD-FAILED")
  fi
fi

python3 - "${results[@]}" <<'PY'
# Counts test cases from meson's JUnit files (one line per GoogleTest case);
# a test binary that failed without a failing case (crash, timeout) counts
# as one failure more.
import json, os, sys, xml.etree.ElementTree as ET
passed = failed = skipped = 0
for path in sys.argv[1:]:
    if path == "BUILD-FAILED":
        failed += 1
        continue
    case_failures = 0
    try:
        root = ET.parse(path).getroot()
        for case in root.iter("testcase"):
            if case.find("failure") is not None or case.find("error") is not None:
                case_failures += 1
            elif case.find("skipped") is not None:
                skipped += 1
            else:
                passed += 1
    except Exception as e:
        print(f"cannot read {path}: {e}")
        case_failures += 1
    bad_binaries = 0
    log = os.path.join(os.path.dirname(path), "testlog.json")
    if os.path.exists(log):
        for line in open(log):
            r = json.loads(line).get("result", "")
            if r not in ("OK", "SKIP", "EXPECTEDFAIL"):
                bad_binaries += 1
    failed += max(case_failures, bad_binaries)
line = f"tests: {passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
sys.exit(1 if failed or passed == 0 else 0)
PY
