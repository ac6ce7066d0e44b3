#!/usr/bin/env bash
# The issue-5 benchmark table in one command: builds the benchmarks with
# `-c opt`, runs every comparison side by side on this machine (subject and
# baseline interleaved, >= 3 runs each), and prints the table as Markdown
# (stdout) and JSON (/tmp/sslshim-bench/bench.json, or $BENCH_OUT/bench.json),
# with the CPU model, min/median of the runs, the achieved rate and the
# server's CPU time per operation.
#   tools/bench.sh                 # 3 runs
#   tools/bench.sh --runs=5        # more runs
#   tools/bench.sh --quick         # 1 run, short samples (smoke test only)
#   tools/bench.sh --instructions  # add callgrind instructions/op (rows 1-6)
# Environment: BAZEL_OUTPUT_BASE (optional Bazel --output_base), BENCH_OUT.
# Needs nginx (Debian package `nginx-light` or `nginx`) for the nginx rows.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=3
quick=0
instructions=0
for arg in "$@"; do
  case "$arg" in
    --runs=*) runs="${arg#--runs=}" ;;
    --quick) quick=1; runs=1 ;;
    --instructions) instructions=1 ;;
    *) echo "usage: $0 [--runs=N] [--quick] [--instructions]" >&2; exit 2 ;;
  esac
done

tools/install_deps.sh --bench

bazel_cmd=(bazel)
[[ -n "${BAZEL_OUTPUT_BASE:-}" ]] && bazel_cmd+=(--output_base="$BAZEL_OUTPUT_BASE")
out="${BENCH_OUT:-/tmp/sslshim-bench}"
mkdir -p "$out"

# Rows 7 (SNI) and 8 (cold start) come from optional benchmarks that print
# the same JSON rows; they are run when their targets exist.
optional=()
for t in sni_bench cold_start_bench; do
  if grep -q "name = \"$t\"" tests/bench/BUILD; then optional+=("//tests/bench:$t"); fi
done

"${bazel_cmd[@]}" build -c opt --jobs=2 //tests/bench:tls_bench \
  //tests/bench:https_compare "${optional[@]}" >&2
bin="$("${bazel_cmd[@]}" info -c opt bazel-bin 2>/dev/null)/tests/bench"

scale=1; seconds=2; idle=10000
if [[ $quick -eq 1 ]]; then scale=0.2; seconds=0.5; idle=1000; fi

jsons=()
"$bin/tls_bench" --runs="$runs" --scale="$scale" --json="$out/tls.json" >/dev/null
jsons+=("$out/tls.json")
nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"
"$bin/https_compare" --runs="$runs" --seconds="$seconds" \
  --idle_connections="$idle" --nginx="$nginx_bin" --json="$out/https.json" \
  >/dev/null || echo "https_compare: nginx rows missing (is nginx installed?)" >&2
[[ -s "$out/https.json" ]] && jsons+=("$out/https.json")
for t in "${optional[@]}"; do
  name="${t##*:}"
  if "$bin/$name" --runs="$runs" --json="$out/$name.json" >/dev/null; then
    jsons+=("$out/$name.json")
  fi
done

ir_args=()
if [[ $instructions -eq 1 ]] && command -v valgrind >/dev/null; then
  python3 tools/bench_instructions.py --tls_bench="$bin/tls_bench" \
    --https_compare="$bin/https_compare" --out="$out/instructions.json" && ir_args+=(--instructions="$out/instructions.json")
fi

python3 tools/bench_table.py --runs="$runs" --out="$out/bench.json" \
  "${ir_args[@]}" "${jsons[@]}"
