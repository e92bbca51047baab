#!/usr/bin/env bash
# Sets up gst-mediaserver (as ./run.sh does) and runs the whole test suite,
# each test once: the suite "sanitized" (units, elements and the integration
# tests of every mount kind) built with AddressSanitizer and
# UndefinedBehaviorSanitizer, the rest in the normal build, then each fuzz
# target for a short bounded time (tests/fuzz, built with clang). Ends with
# "tests: N passed, N failed".
#   ./test.sh             everything
#   ./test.sh --quick     normal build only (no sanitizer pass, no fuzzing)
#   ./test.sh --tsan      only the unit and element tests built with
#                         ThreadSanitizer (build-tsan; a build of its own,
#                         so not part of the default run)
#   ./test.sh --bench     only the benchmarks beside a stock gst-rtsp-server
#                         (tests/bench/run.sh; --bench-full: the long sweep)
#
# An integration or fault test binary that fails is run once more on its own, and the
# summary names it: those tests start real servers and clients, and a loaded
# machine can make one miss a deadline. A test that fails twice counts as
# failed.
set -uo pipefail
cd "$(dirname "$0")"

./run.sh --setup-only || { echo "tests: 0 passed, 1 failed"; exit 1; }

if [[ "${1:-}" == "--bench" || "${1:-}" == "--bench-full" ]]; then
  exec tests/bench/run.sh "$1"
fi

# Builds in DIR what the tests of the given suites need (the server, its
# library and plugin, those tests' programs): each pass below runs only a
# part of the suite, and compiling the other part's programs would be minutes
# of CPU spent for nothing. Its passes then run with --no-rebuild.
build_for() {
  local dir="$1"; shift
  local targets
  targets=$(python3 tests/targets_for.py "$dir" "$@") || return 1
  # shellcheck disable=SC2086
  ninja -C "$dir" $targets
}

# Where the time goes, for the log of a CI run.
phase() { echo "=== test.sh: $* at +${SECONDS}s"; }

results=()
tail_of_failures=()
# Test programs at once. The integration tests mostly wait on real-time
# media (two at a time kept two cores about 60 % busy), so a pass runs more
# of them than there are cores; each uses ports of its own.
procs=2
# run_suite DIR MESON_TEST_ARGS...: runs the tests the arguments select (and
# those named in $only, if set), then once more on their own the live ones
# that failed. Each run of a pass writes DIR/meson-logs/$logbase.json.
run_suite() {
  local dir="$1"; shift
  local base="${logbase:-testlog}"
  # shellcheck disable=SC2086
  meson test -C "$dir" --print-errorlogs --num-processes "$procs" --logbase "$base" "$@" ${only:-}
  results+=("$dir/meson-logs/$base.json")
  local failed
  failed=$(python3 - "$dir/meson-logs/$base.json" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    t = json.loads(line)
    # "gst-mediaserver:integration+sanitized / files_play"
    suites, _, name = t.get("name", "").partition(" / ")
    # Tests that start real servers and clients: the integration and fault
    # suites.
    live = {"integration", "faults"} & set(suites.split(":")[-1].split("+"))
    if t.get("result") not in ("OK", "SKIP", "EXPECTEDFAIL") and live:
        print(name)
PY
)
  if [[ -n "$failed" ]]; then
    echo "running again on their own: $failed"
    local out="$dir/$base-retry-output.txt"
    # shellcheck disable=SC2086
    if ! meson test -C "$dir" --print-errorlogs --logbase "$base-retry" "$@" $failed >"$out" 2>&1; then
      # Failed twice: its own words go last, where a CI summary shows them.
      tail_of_failures+=("$out")
    fi
    cat "$out"
    results+=("$dir/meson-logs/$base-retry.json")
  fi
}

# The sanitizer build (AddressSanitizer and UndefinedBehaviorSanitizer) and
# the fuzz targets' build (clang), in the background under SCHED_IDLE: they
# get a core only when no test wants it, so they cannot delay a test's
# real-time media (plain nice still did, now and then).
build_asan() {
  rm -f build-asan/wave-* build-asan/ninja-output.txt
  if [[ ! -f build-asan/build.ninja ]]; then
    meson setup build-asan -Dtests=enabled -Dbenchmarks=disabled \
      -Db_sanitize=address,undefined -Db_lundef=false \
      -Dbuildtype=debug >/dev/null || { mkdir -p build-asan; echo 1 >build-asan/wave-long; return 1; }
  fi
  # The long tests first (see sanitized_wave): build-asan/wave-long says
  # when their programs are built, and the short tests' follow.
  local wave targets rc
  for wave in long short; do
    rc=1
    if targets=$(python3 tests/targets_for.py build-asan --suite sanitized "--$wave"); then
      # shellcheck disable=SC2086
      chrt --idle 0 ninja -j 2 -C build-asan $targets >>build-asan/ninja-output.txt 2>&1
      rc=$?
    fi
    echo "$rc" >"build-asan/wave-$wave"
    [[ $rc -eq 0 ]] || return 1
  done
}
# Waits until the programs of a wave are built (or the build ended without
# them); true if they were.
wave_built() {
  while [[ ! -f "build-asan/wave-$1" ]] && kill -0 "$asan_pid" 2>/dev/null; do
    sleep 1
  done
  [[ "$(cat "build-asan/wave-$1" 2>/dev/null)" == 0 ]]
}
# The sanitizer pass in two waves: the long tests (servers and real
# clients) run while the short ones (units, elements) still compile, on
# the CPU those mostly-waiting tests leave idle.
sanitized_wave() {
  local names
  names=$(python3 tests/targets_for.py build-asan --suite sanitized "--$1" --names) || return 1
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 procs=3 logbase="asan-$1" only="$names" \
    run_suite build-asan --no-rebuild --timeout-multiplier 3 --suite sanitized
}
build_fuzz() {
  chrt --idle 0 tests/fuzz/run.sh --build-only >/dev/null 2>&1
}

# Each test runs once: the tests of the suite "sanitized" run in the
# sanitizer pass below (and in the normal build with --quick).
if [[ "${1:-}" == "--tsan" ]]; then
  if [[ ! -f build-tsan/build.ninja ]]; then
    meson setup build-tsan -Dtests=enabled -Dbenchmarks=disabled \
      -Db_sanitize=thread -Db_lundef=false -Dbuildtype=debug >/dev/null
  fi
  if ninja -C build-tsan >/dev/null; then
    # tests/tsan.supp says which reports are GLib's and GStreamer's own.
    TSAN_OPTIONS="suppressions=$PWD/tests/tsan.supp:halt_on_error=0:second_deadlock_stack=1" \
      run_suite build-tsan --timeout-multiplier 4 --suite unit --suite elements
  else
    echo "ThreadSanitizer build failed"
    results+=("BUILD-FAILED")
  fi
elif [[ "${1:-}" == "--quick" ]]; then
  ninja -C build || { echo "tests: 0 passed, 1 failed"; exit 1; }
  run_suite build --no-rebuild
else
  # The sanitizer build compiles while the normal pass runs, on idle CPU
  # only: those tests mostly wait on real-time media (they use about a
  # sixth of two cores), so the build takes what is left without slowing
  # them, and the whole run is minutes shorter than building in turn.
  build_for build --no-suite sanitized || { echo "tests: 0 passed, 1 failed"; exit 1; }
  phase "normal build done"
  build_asan &
  asan_pid=$!
  procs=4 run_suite build --no-rebuild --no-suite sanitized
fi
if [[ "${1:-}" != "--quick" && "${1:-}" != "--tsan" ]]; then
  phase "normal pass done"
  asan_ok=false
  if wave_built long; then
    phase "sanitizer build of the long tests done"
    sanitized_wave long
    wait "$asan_pid" && asan_ok=true
  else
    wait "$asan_pid"
  fi
  phase "sanitizer build done"
  # The fuzz build after the sanitizer build (which the sanitizer pass
  # needs first), on the CPU that pass leaves idle, then the short fuzz runs
  # at the lowest priority beside it (each runs for a fixed wall-clock time,
  # so a loaded machine makes it test fewer inputs, not take longer).
  rm -f build-fuzz/meson-logs/testlog.json
  (build_fuzz && nice -n 19 tests/fuzz/run.sh >build-fuzz/fuzz-output.txt 2>&1) &
  fuzz_pid=$!
  if $asan_ok; then
    # Unit and element tests, and the integration tests that drive the
    # sanitized server through real clients in every mount kind (the suite
    # "sanitized", see tests/meson.build).
    sanitized_wave short
  else
    echo "sanitizer build failed:"
    tail -n 40 build-asan/ninja-output.txt
    results+=("BUILD-FAILED")
  fi
fi

# The fuzz targets, each for a short bounded time (tests/fuzz/run.sh; clang).
if [[ "${1:-}" != "--quick" && "${1:-}" != "--tsan" ]]; then
  phase "sanitizer pass done"
  wait "$fuzz_pid"
  cat build-fuzz/fuzz-output.txt 2>/dev/null
  phase "fuzz runs done"
  if [[ -f build-fuzz/meson-logs/testlog.json ]]; then
    results+=("build-fuzz/meson-logs/testlog.json")
  else
    echo "fuzz build failed"
    tail -n 40 build-fuzz/ninja-output.txt 2>/dev/null
    results+=("BUILD-FAILED")
  fi
fi

for f in "${tail_of_failures[@]}"; do
  echo "=== failed twice: the end of $f ==="
  grep -v '^$' "$f" | tail -n 60
done

python3 - "${results[@]}" <<'PY'
# Counts GoogleTest cases from meson's JUnit files (testlog.junit.xml beside
# each testlog.json). A binary run again replaces its first run's cases; a
# binary that failed without a failing case (crash, timeout) counts as one.
import json, os, re, sys, xml.etree.ElementTree as ET
passed = failed = skipped = 0
retried = []
def binary_of(suite_name):
    # "gst-mediaserver.gst-mediaserver:integration / files_play.FilesPlay"
    m = re.search(r" / ([^.]+)", suite_name or "")
    return m.group(1) if m else suite_name
def cases(junit):
    out = {}
    try:
        data = open(junit, "rb").read()
    except OSError:
        return None
    # A test killed at its time-out leaves its raw output in the file,
    # terminal colour codes included, which XML does not allow.
    data = re.sub(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]", b"", data)
    try:
        root = ET.fromstring(data)
    except ET.ParseError as e:
        print(f"{junit}: cannot be read ({e}): its cases are not counted")
        return {("unreadable " + junit, "", ""): "fail"}
    for suite in root.iter("testsuite"):
        for case in suite.iter("testcase"):
            # A binary that crashed or timed out has one case of its own,
            # named after the test ("…:integration / embed") in a suite
            # named after the project.
            where = suite.get("name") or ""
            where = where if " / " in where else case.get("name")
            key = (binary_of(where), case.get("classname"), case.get("name"))
            if case.find("failure") is not None or case.find("error") is not None:
                out[key] = "fail"
            elif case.find("skipped") is not None:
                out[key] = "skip"
            else:
                out[key] = "pass"
    return out
def binaries(log):
    res = {}
    for line in open(log):
        t = json.loads(line)
        res[binary_of(t["name"]) if " / " in t["name"] else t["name"]] = t.get("result", "")
    return res
runs = {}  # build dir -> (cases, binary results)
for arg in sys.argv[1:]:
    if arg == "BUILD-FAILED":
        failed += 1
        continue
    # A pass's log and its retry's: DIR/meson-logs/BASE.json and BASE-retry.json.
    d = arg[:-len(".json")]
    d = d[:-len("-retry")] if d.endswith("-retry") else d
    junit = arg[:-len(".json")] + ".junit.xml"
    c = cases(junit) or {}
    b = binaries(arg) if os.path.exists(arg) else {}
    if d in runs:  # a retry: its binaries replace the first run's
        old_c, old_b = runs[d]
        for name, r in b.items():
            if r == "OK":
                retried.append(name)
            old_c = {k: v for k, v in old_c.items() if k[0] != name}
            old_b[name] = r
        old_c.update(c)
        runs[d] = (old_c, old_b)
    else:
        runs[d] = (c, b)
for d, (c, b) in runs.items():
    fails_by_binary = {}
    for (suite, _, _), v in c.items():
        if v == "pass":
            passed += 1
        elif v == "skip":
            skipped += 1
        else:
            failed += 1
            fails_by_binary[suite] = fails_by_binary.get(suite, 0) + 1
    for name, r in b.items():
        if r not in ("OK", "SKIP", "EXPECTEDFAIL") and not fails_by_binary.get(name):
            failed += 1  # crashed or timed out without a failing case
if retried:
    print("passed when run again on their own: " + ", ".join(sorted(set(retried))))
line = f"tests: {passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
sys.exit(1 if failed or passed == 0 else 0)
PY
