#!/usr/bin/env python3
"""Counts gtest cases from bazel-testlogs/**/test.xml.

Prints one line "N passed, N failed" and exits 1 when any case failed, any
test target produced no XML, or no case ran at all. Skipped (DISABLED_ or
GTEST_SKIP) cases are reported as skipped, never as passed.

  count_results.py TESTLOGS [MORE_DIRS...] [--bazel-failed]

Further directories are walked the same way: tools/fuzz.sh --results DIR
writes DIR/fuzz_<name>/test.xml, one case per fuzzer run.
"""
import os
import sys
import xml.etree.ElementTree as ET


def walk_all(dirs):
    """Yields (root, dirs, files) of os.walk over every directory in turn."""
    for d in dirs:
        yield from os.walk(d)


def result_files(dirs):
    """Yields every test.xml to count, one set per test target.

    A target run with --runs_per_test=N writes run_K_of_N/test.xml beside an
    older test.xml of a single run (and the reverse): only the newer of the
    two kinds is this invocation's, so the stale one is left out.
    """
    for root, subdirs, files in walk_all(dirs):
        runs = [d for d in subdirs if d.startswith("run_") and "_of_" in d]
        top = os.path.join(root, "test.xml") if "test.xml" in files else None
        run_files = [os.path.join(root, d, "test.xml") for d in runs
                     if os.path.exists(os.path.join(root, d, "test.xml"))]
        # The run_* directories are handled here, not by the walk.
        subdirs[:] = [d for d in subdirs if d not in runs]
        if top and run_files:
            newest_run = max(os.path.getmtime(f) for f in run_files)
            if os.path.getmtime(top) >= newest_run:
                run_files = []
            else:
                top = None
        if top:
            yield top
        yield from run_files


def main(testlogs, bazel_failed, more_dirs=()):
    passed = failed = skipped = 0
    targets = 0
    for path in result_files([testlogs, *more_dirs]):
        targets += 1
        try:
            tree = ET.parse(path)
        except ET.ParseError as e:
            print(f"unreadable {path}: {e}", file=sys.stderr)
            failed += 1
            continue
        cases = list(tree.iter("testcase"))
        if not cases:
            # Bazel writes a synthetic XML when the binary crashed before gtest
            # reported; count the target as one failure.
            failed += 1
            continue
        for case in cases:
            if case.find("failure") is not None or case.find("error") is not None:
                failed += 1
            elif (case.get("status") == "notrun" or case.get("result") == "skipped"
                  or case.find("skipped") is not None):
                skipped += 1
            else:
                passed += 1
    if bazel_failed and failed == 0:
        # Bazel failed (a target did not build, or a test timed out before
        # writing XML): never let that read as a clean run.
        print("bazel reported a failure not visible in test.xml (build error "
              "or timeout)", file=sys.stderr)
        failed = 1
    line = f"{passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    print(line)
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--bazel-failed"]
    sys.exit(main(args[0] if args else "bazel-testlogs",
                  "--bazel-failed" in sys.argv[1:], args[1:]))
