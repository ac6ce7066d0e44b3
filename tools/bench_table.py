#!/usr/bin/env python3
"""Renders the issue-5 benchmark table (tools/bench.sh) from the JSON rows
the tests/bench programs write: Markdown on stdout, one combined JSON file.

  python3 tools/bench_table.py --runs=3 --out=bench-results/bench.json \
      bench-results/tls.json bench-results/https.json
"""

import argparse
import datetime
import json
import os
import subprocess

# Rows of the issue's table that other benchmarks own; listed as "not
# measured yet" until a JSON file provides a row whose id starts with them.
EXPECTED = [
    ("7", "handshakes/s with 10,000 tenant certificates chosen by SNI",
     "single-certificate server", ">= 0.9"),
    ("8", "first verified handshake after process start",
     "CPython 3.11 ssl.create_default_context() + handshake, same bundle",
     "<= 0.5 (time)"),
]


def cpu_model():
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{model} ({os.cpu_count()} CPUs)"


def fmt(x):
    if x is None:
        return "-"
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def series(s):
    return f"{fmt(s['median'])} (min {fmt(s['min'])})"


def ir_cell(row):
    ir = row.get("instructions")
    if not ir:
        return ""
    return (f"{ir['ratio']:.3f} ({ir['subject_ir_per_op']:,.0f} vs "
            f"{ir['baseline_ir_per_op']:,.0f})")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", required=True)
    ap.add_argument("--instructions", default="",
                    help="bench_instructions.py output (optional)")
    ap.add_argument("inputs", nargs="*")
    args = ap.parse_args()
    rows = []
    for path in args.inputs:
        with open(path) as f:
            rows.extend(json.load(f))
    instructions = {}
    if args.instructions:
        with open(args.instructions) as f:
            instructions = json.load(f)
    for r in rows:
        if r["id"] in instructions:
            r["instructions"] = instructions[r["id"]]
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True,
                                check=False).stdout.strip()
    except OSError:
        commit = ""
    doc = {
        "cpu": cpu_model(),
        "date": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "commit": commit,
        "runs": args.runs,
        "rows": rows,
        "not_measured": [
            {"id": i, "figure": f, "baseline": b, "target": t}
            for i, f, b, t in EXPECTED
            if not any(r["id"].startswith(i) for r in rows)
        ],
    }
    with open(args.out, "w") as f:
        json.dump(doc, f, indent=1)

    print(f"CPU: {doc['cpu']}; {args.runs} runs per figure, subject and "
          f"baseline interleaved; commit {commit}; {doc['date']}\n")
    print("Rates are medians (min) of the runs as achieved; CPU is the "
          "server's CPU time per operation (median (min)); the ratio is "
          "judged on CPU per operation (= throughput per server core), "
          "except memory (KiB per idle connection).\n")
    print("| # | figure | subject | baseline | subject rate | baseline rate "
          "| subject CPU µs/op | baseline CPU µs/op | ratio | target | met "
          "| instructions/op ratio (callgrind) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        unit = r["unit"]
        cpu_unit_note = " /MB" if unit == "MB/s" else ""
        subj_cpu = series(r["subject_cpu_us"]) if r["subject_cpu_us"]["runs"] else "-"
        base_cpu = series(r["baseline_cpu_us"]) if r["baseline_cpu_us"]["runs"] else "-"
        met = "yes" if r["met"] else "**no**"
        note = f" ({r['note']})" if r.get("note") else ""
        print(f"| {r['id']} | {r['figure']} | {r['subject']} | {r['baseline']} "
              f"| {series(r['subject_rate'])} {unit} "
              f"| {series(r['baseline_rate'])} {unit} "
              f"| {subj_cpu}{cpu_unit_note} | {base_cpu}{cpu_unit_note} "
              f"| {r['ratio']:.3f} | {r['target']} | {met}{note} "
              f"| {ir_cell(r)} |")
    for m in doc["not_measured"]:
        print(f"| {m['id']} | {m['figure']} | - | {m['baseline']} | not measured yet "
              f"| | | | | {m['target']} | - | |")
    print(f"\nJSON: {args.out}")


if __name__ == "__main__":
    main()
