#!/usr/bin/env python3
"""Noise-free companion of the issue-5 table (tools/bench.sh --instructions):
the server's user-space instructions per operation for rows 1-4, counted by
callgrind inside tls_bench's ServeOnce (the whole server side of one
connection: wrap/accept, handshake, writes, close), one variant at a time.
CPU-time ratios on a shared 2-core machine swing by +-15% run to run;
instruction counts do not (kernel work is not counted).

  python3 tools/bench_instructions.py --tls_bench=PATH --out=ir.json
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
    with open(out) as f:
        for line in f:
            m = re.match(r"(summary|totals): (\d+)", line)
            if m:
                return int(m.group(2)) / ops
    raise RuntimeError(f"no totals in {out}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tls_bench", required=True)
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
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
