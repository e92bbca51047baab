#!/usr/bin/env python3
"""Prints the ninja targets a test pass needs, one per line.

    tests/targets_for.py BUILD_DIR [--suite S]... [--no-suite S]...
                         [--long | --short] [--names]

The server, its library and plugin (everything not defined under tests/),
the programs the selected tests run and what those tests depend on. ./test.sh
builds only these: each of its passes runs a part of the suite, and
compiling the test programs of the other part would be time spent for
nothing.

--long selects the tests with a time-out of LONG seconds or more (the
programs that start servers and clients), --short the others; ./test.sh
builds and runs the long ones first, so they run while the short ones are
still compiling. --names prints the selected tests' names instead.
"""
import json
import os
import subprocess
import sys

LONG = 180


def introspect(build, what):
    out = subprocess.run(["meson", "introspect", build, what], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def suites_of(test):
    # "gst-mediaserver:integration+sanitized" or a list of "project:suite".
    names = set()
    for s in test["suite"]:
        names.update(s.split(":")[-1].split("+"))
    return names


def selected(test, want, skip, length):
    names = suites_of(test)
    if want and not names & want:
        return False
    if length and (test["timeout"] >= LONG) != (length == "--long"):
        return False
    return not names & skip


def main(argv):
    build = os.path.abspath(argv[1])
    want, skip = set(), set()
    args = argv[2:]
    names_only = "--names" in args
    length = next((a for a in args if a in ("--long", "--short")), None)
    args = [a for a in args if a not in ("--names", "--long", "--short")]
    for flag, value in zip(args[::2], args[1::2]):
        (want if flag == "--suite" else skip).add(value)
    if names_only:
        for t in introspect(build, "--tests"):
            if selected(t, want, skip, length):
                print(t["name"])
        return

    targets = introspect(build, "--targets")
    by_id = {t["id"]: t for t in targets}
    out = set()
    for t in targets:
        if not os.path.dirname(t["defined_in"]).endswith("tests"):
            out.update(t["filename"])
    for t in introspect(build, "--tests"):
        if not selected(t, want, skip, length):
            continue
        for dep in t.get("depends", []):
            if dep in by_id:
                out.update(by_id[dep]["filename"])
        if t["cmd"] and t["cmd"][0].startswith(build + "/"):
            out.add(t["cmd"][0])
    # Programs the tests run by path, not as arguments meson can see.
    out.add(os.path.join(build, "tests", "load_plugin_and_library"))
    for f in sorted(out):
        print(os.path.relpath(f, build))


if __name__ == "__main__":
    main(sys.argv)
