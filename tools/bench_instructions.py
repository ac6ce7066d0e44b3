#!/usr/bin/env python3
"""Noise-free companion of the issue-5 table (tools/bench.sh --instructions):
the server's user-space instructions per operation, counted by callgrind.
Rows 1-4: inside tls_bench's ServeOnce (the whole server side of one
connection: wrap/accept, handshake, writes, close), one variant at a time.
Rows 5-6 (vs the raw server): inside HttpsServer's EventLoop::Run and the
raw server's threads, https_compare --ir_mode sending a fixed request count.
CPU-time ratios on a shared 2-core machine swing by +-15% run to run;
instruction counts do not (kernel work is not counted).

  python3 tools/bench_instructions.py --tls_bench=PATH \
      --https_compare=PATH --out=ir.json
"""

import argparse
import json
import os
import re
import subprocess
import tempfile

# (row id, group, subject, baseline, ops per sample)
PAIRS = [
    ("1-one-way", "handshake-one-way", "facade", "raw", 200),
    ("2-one-way", "handshake-one-way", "lmdb", "facade", 200),
    ("1-mutual", "handshake-mutual", "facade", "raw", 100),
    ("2-mutual", "handshake-mutual", "lmdb", "facade", 100),
    ("3", "resumed", "facade", "raw", 300),
    ("4", "bulk", "facade", "raw", 32),  # ops are MB
]


def count(tls_bench, variant, group, ops, tmp):
    out = os.path.join(tmp, f"cg.{variant}.{group}")
    cmd = ["valgrind", "--tool=callgrind", "--toggle-collect=*ServeOnce*",
           f"--callgrind-out-file={out}", tls_bench, f"--only={variant}",
           f"--group={group}", f"--ops={ops}"]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=600)
    return totals(out) / ops


# (row id, https_compare --ir_mode, requests)
HTTPS_ROWS = [
    ("5-one-way-raw", "new-one-way", 150),
    ("5-mutual-raw", "new-mutual", 80),
    ("6-raw", "keepalive", 2000),
]


def totals(path):
    with open(path) as f:
        for line in f:
            m = re.match(r"(summary|totals): (\d+)", line)
            if m:
                return int(m.group(2))
    raise RuntimeError(f"no totals in {path}")


def https_counts(https_compare, mode, requests, tmp):
    """Returns {server name: instructions per request}."""
    out = os.path.join(tmp, f"cgh.{mode}.%p")
    cmd = ["valgrind", "--tool=callgrind",
           "--toggle-collect=*EventLoop::Run*",
           "--toggle-collect=*RunRawHttpsServer*",
           f"--callgrind-out-file={out}", https_compare,
           f"--ir_mode={mode}", f"--requests={requests}"]
    run = subprocess.run(cmd, check=True, capture_output=True, text=True,
                         timeout=1200)
    result = {}
    for line in run.stdout.splitlines():
        m = re.match(r"pid=(\d+) requests=(\d+) errors=(\d+) name=(.*)", line)
        if m:
            path = out.replace("%p", m.group(1))
            result[m.group(4)] = totals(path) / int(m.group(2))
    return result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tls_bench", required=True)
    ap.add_argument("--https_compare", default="")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    result = {}
    cache = {}
    with tempfile.TemporaryDirectory() as tmp:
        for row, group, subject, baseline, ops in PAIRS:
            for v in (subject, baseline):
                if (v, group) not in cache:
                    cache[(v, group)] = count(args.tls_bench, v, group, ops, tmp)
            s, b = cache[(subject, group)], cache[(baseline, group)]
            result[row] = {"subject_ir_per_op": s, "baseline_ir_per_op": b,
                           "ratio": b / s if s else 0}
        for row, mode, requests in HTTPS_ROWS if args.https_compare else []:
            per = https_counts(args.https_compare, mode, requests, tmp)
            s = next(v for k, v in per.items() if "HttpsServer" in k)
            b = next(v for k, v in per.items() if "raw" in k)
            result[row] = {"subject_ir_per_op": s, "baseline_ir_per_op": b,
                           "ratio": b / s if s else 0}
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
