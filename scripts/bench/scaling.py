#!/usr/bin/env python
"""Time the two operations that used to be quadratic, at growing sizes, and print a table.

    python scripts/bench.py scaling                    # sizes 10k, 20k, 100k; each case capped at 300 s
    python scripts/bench.py scaling --sizes 1000 2000  # smaller, for a quick look
    PYTHONPATH=/path/to/old/checkout python scripts/bench.py scaling --timeout 120   # an older mpnet

* ``to_topology``: ``Network(topologies).to_topology()`` for N small sampled topologies (``random_dag(3, 2,
  8, avg_in_degree=2)``, about 24 edges each), i.e. reading a trained batch back; building the Network is
  timed apart.
* ``random_dag``: ``sample.random_dag(4, 2, N, avg_in_degree=10)``, N hidden neurons, about 10 N edges.

Each case runs in its own process (killed at ``--timeout`` seconds, then shown as ``> timeout``, and the larger
sizes of that operation are not run), with one torch
thread, best of ``--repeats`` runs; wall-clock and CPU seconds of that process (CPU time is steadier on a busy
machine). "ratio" is the CPU time over the CPU time at the previous size: a linear operation shows about the
ratio of the sizes (2x from 10k to 20k, 5x from 20k to 100k), a quadratic one its square.
"""
import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))   # scripts/: the argument types
from _args import Parser, guarded, int_at_least, number  # noqa: E402

CHILD = r"""
import json, sys, time
import torch
torch.set_num_threads(1)
import mpnet
from mpnet import sample
what, n, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
best, cpu, extra = float("inf"), float("inf"), {}
if what == "to_topology":
    topos = [sample.random_dag(3, 2, 8, avg_in_degree=2.0, seed=s) for s in range(n)]
    t0 = time.perf_counter()
    net = mpnet.Network(topos, seed=0)
    extra["build_s"] = time.perf_counter() - t0
    extra["edges"] = sum(t.num_edges for t in topos)
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        back = net.to_topology()
        best, cpu = min(best, time.perf_counter() - t0), min(cpu, time.process_time() - c0)
        del back
else:
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        topo = sample.random_dag(4, 2, n, avg_in_degree=10, seed=0)
        best, cpu = min(best, time.perf_counter() - t0), min(cpu, time.process_time() - c0)
    extra["edges"] = topo.num_edges
print(json.dumps({"seconds": best, "cpu": cpu, **extra}))
"""


def measure(what: str, n: int, repeats: int, timeout: float):
    try:
        out = subprocess.run([sys.executable, "-c", CHILD, what, str(n), str(repeats)], capture_output=True,
                             text=True, timeout=timeout, env={**os.environ, "OMP_NUM_THREADS": "1"})
    except subprocess.TimeoutExpired:
        return None
    if out.returncode != 0:
        raise RuntimeError(f"{what} at {n} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = Parser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int_at_least(1, 10_000_000), nargs="+", default=[10_000, 20_000, 100_000])
    parser.add_argument("--repeats", type=int_at_least(1), default=3, help="best of this many runs per case")
    parser.add_argument("--timeout", type=number(0, open_low=True), default=300,
                        help="seconds before a case is given up")
    parser.add_argument("--only", choices=["to_topology", "random_dag"], default=None)
    args = parser.parse_args(argv)
    import mpnet
    print(f"mpnet from {os.path.dirname(os.path.abspath(mpnet.__file__))}; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; best of {args.repeats}, cap {args.timeout:.0f} s")
    print(f"{'operation':<12} | {'N':>7} | {'edges':>9} | {'wall s':>8} | {'CPU s':>8} | {'ratio':>6} | note")
    print("-" * 13 + "|" + "-" * 9 + "|" + "-" * 11 + "|" + "-" * 10 + "|" + "-" * 10 + "|" + "-" * 8 + "|" + "-" * 16)
    for what in ("to_topology", "random_dag"):
        if args.only and what != args.only:
            continue
        prev, gave_up = None, False
        for n in args.sizes:
            if gave_up:   # a smaller size already ran past the cap: a larger one would too
                print(f"{what:<12} | {n:>7} | {'-':>9} | {'> ' + str(int(args.timeout)):>8} | {'-':>8} | {'-':>6} | "
                      f"not run (a smaller size ran past the cap)", flush=True)
                continue
            t0 = time.perf_counter()
            r = measure(what, n, args.repeats, args.timeout)
            if r is None:
                print(f"{what:<12} | {n:>7} | {'-':>9} | {'> ' + str(int(args.timeout)):>8} | {'-':>8} | {'-':>6} | "
                      f"killed after {time.perf_counter() - t0:.0f} s", flush=True)
                prev, gave_up = None, True
                continue
            ratio = f"{r['cpu'] / prev:.2f}" if prev else "-"
            note = f"build {r['build_s']:.1f} s" if "build_s" in r else ""
            print(f"{what:<12} | {n:>7} | {r['edges']:>9} | {r['seconds']:>8.2f} | {r['cpu']:>8.2f} | {ratio:>6} | "
                  f"{note}", flush=True)
            prev = r["cpu"]
    return 0


if __name__ == "__main__":
    sys.exit(guarded(main))
