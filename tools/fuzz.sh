#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang-14 (ASan + UBSan +
# LeakSanitizer, .bazelrc's `fuzz` config) under their own Bazel output base,
# and runs each for a bounded time on a copy of its seed corpus.
#   tools/fuzz.sh                          # every fuzzer, 300 s each
#   tools/fuzz.sh --seconds 60 url sealing # some, 60 s each
#   tools/fuzz.sh --seconds 20 --jobs 2 --results DIR  # as tools/test.sh does
# Prints per fuzzer: PASS/FAIL, executions, libFuzzer's final cov:/ft:, and
# the corpus size before -> after. A crash, leak, timeout (10 s per input) or
# out-of-memory fails the fuzzer; the input is saved under
# $FUZZ_FINDINGS/<name>/ and the command to replay it is printed.
# --results DIR writes DIR/fuzz_<name>/test.xml (one test case per fuzzer)
# for tools/count_results.py. Exits 1 when any fuzzer fails or the build
# fails.
set -uo pipefail
cd "$(dirname "$0")/.."

cache="${XDG_CACHE_HOME:-$HOME/.cache}"
# Never the gcc build's output base: its own server and cache.
FUZZ_OUTPUT_BASE="${FUZZ_OUTPUT_BASE:-$cache/sslshim-fuzz}"
FUZZ_FINDINGS="${FUZZ_FINDINGS:-$cache/sslshim-fuzz-findings}"
seconds=300
jobs=1
results=""
names=()
while (($#)); do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    --results) results="$2"; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) names+=("${1%_fuzzer}"); shift ;;
  esac
done
if ((${#names[@]} == 0)); then
  for f in tests/fuzz/*_fuzzer.cc; do
    f="${f##*/}"
    names+=("${f%_fuzzer.cc}")
  done
fi
for n in "${names[@]}"; do
  if [[ ! -f "tests/fuzz/${n}_fuzzer.cc" ]]; then
    echo "fuzz.sh: no fuzzer named $n (see tests/fuzz/*_fuzzer.cc)" >&2
    exit 2
  fi
done

# write_result NAME STATUS MESSAGE SECONDS: one gtest-style test.xml.
write_result() {
  [[ -n "$results" ]] || return 0
  local dir="$results/fuzz_$1"
  mkdir -p "$dir"
  local failure=""
  if [[ "$2" != PASS ]]; then
    failure="<failure message=\"$(printf '%s' "$3" | sed 's/&/\&amp;/g; s/"/\&quot;/g; s/</\&lt;/g')\"/>"
  fi
  printf '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites><testsuite name="fuzz" tests="1"><testcase name="%s" classname="fuzz" time="%s">%s</testcase></testsuite></testsuites>\n' \
    "$1" "$4" "$failure" > "$dir/test.xml"
}

# The fuzz build's Bazel server exits after 15 idle minutes (a second JVM
# next to the gcc build's should not linger on a test machine).
bazel_fuzz=(bazel "--output_base=$FUZZ_OUTPUT_BASE" --max_idle_secs=900)
targets=()
for n in "${names[@]}"; do targets+=("//tests/fuzz:${n}_fuzzer"); done
echo "building ${#targets[@]} fuzzers with clang-14 (output base $FUZZ_OUTPUT_BASE)" >&2
build_log="$(mktemp)"
if ! "${bazel_fuzz[@]}" build --config=fuzz --jobs="$(nproc)" "${targets[@]}" \
    >"$build_log" 2>&1; then
  grep -v "Cannot export local symbol" "$build_log" | tail -40 >&2
  rm -f "$build_log"
  for n in "${names[@]}"; do write_result "$n" FAIL "fuzzer did not build" 0; done
  echo "fuzz build failed" >&2
  exit 1
fi
rm -f "$build_log"
bin="$("${bazel_fuzz[@]}" info --config=fuzz bazel-bin 2>/dev/null)/tests/fuzz"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# run_one NAME: runs one fuzzer, leaves its one-line summary in $work/NAME.sum.
run_one() {
  local n="$1" dir="$work/$1"
  local findings="$FUZZ_FINDINGS/$n"
  mkdir -p "$dir/corpus" "$findings"
  cp tests/fuzz/corpus/"$n"/* "$dir/corpus/" 2>/dev/null
  local before start rc
  before="$(ls "$dir/corpus" | wc -l)"
  start="$(date +%s)"
  # The outer timeout only guards against a fuzzer that ignores its own.
  ASAN_OPTIONS="detect_leaks=1:detect_odr_violation=0" \
  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
    timeout --kill-after=10 $((seconds + 120)) \
    "$bin/${n}_fuzzer" "$dir/corpus" -max_total_time="$seconds" -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$findings/" \
      >"$dir/log" 2>&1
  rc=$?
  local took=$(( $(date +%s) - start ))
  local execs cov ft after status message
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)"
  cov="$(grep -a -o 'cov: [0-9]*' "$dir/log" | tail -1 | cut -d' ' -f2)"
  ft="$(grep -a -o 'ft: [0-9]*' "$dir/log" | tail -1 | cut -d' ' -f2)"
  after="$(ls "$dir/corpus" | wc -l)"
  if ((rc == 0)); then
    status=PASS
    message=""
  else
    status=FAIL
    local artifact
    artifact="$(grep -a -o "Test unit written to [^ ]*" "$dir/log" | tail -1 | cut -d' ' -f5)"
    message="exit $rc${artifact:+, input saved as $artifact}"
    cp "$dir/log" "$findings/last.log"
    {
      echo "---- $n: last lines of the log (whole log: $findings/last.log)"
      grep -a -v "^#[0-9]" "$dir/log" | tail -40
      [[ -n "$artifact" ]] && echo "replay: $bin/${n}_fuzzer $artifact"
    } >"$dir/failure"
  fi
  printf '%-16s %s  %s execs in %ss, cov: %s ft: %s, corpus %s -> %s%s\n' \
    "$n" "$status" "${execs:-?}" "$took" "${cov:-?}" "${ft:-?}" "$before" "$after" \
    "${message:+  ($message)}" >"$dir.sum"
  write_result "$n" "$status" "$message" "$took"
}

running=0
for n in "${names[@]}"; do
  if ((running >= jobs)); then
    wait -n
    running=$((running - 1))
  fi
  run_one "$n" &
  running=$((running + 1))
done
wait

failed=0
for n in "${names[@]}"; do
  cat "$work/$n.sum"
  if [[ -f "$work/$n/failure" ]]; then
    failed=$((failed + 1))
    cat "$work/$n/failure" >&2
  fi
done
echo "fuzz: $(( ${#names[@]} - failed )) passed, $failed failed (${seconds}s each)"
((failed == 0))
