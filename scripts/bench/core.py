"""Time mpnet's forward and forward+backward on the question network and a 6,000-edge random DAG.

    python scripts/bench.py core [--threads N] [--batch 256] [--repeats 200]

Without ``--threads`` torch keeps its default thread count and mpnet picks each pass's threads
(mpnet/threads.py); ``--threads N`` sets torch's. Prints the median and the minimum over the repeats
(the minimum is the better estimate on a busy machine) and fwd+bwd / fwd. scripts/bench.py compares
these passes with the peers.
"""
import os
import sys
import time

import torch

import mpnet
import mpnet.threads
from mpnet import sample
from mpnet.examples import question_network

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))   # scripts/: the argument types
from _args import Parser, guarded, int_at_least  # noqa: E402


def measure(fn, repeats: int):
    for _ in range(5):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2] * 1e3, times[0] * 1e3


def main(argv=None):
    parser = Parser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int_at_least(1, 1024), help="torch threads (default: torch's own)")
    parser.add_argument("--batch", type=int_at_least(1, 1_000_000), default=256)
    parser.add_argument("--repeats", type=int_at_least(1), default=200)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    graphs = [("question network", question_network()),
              ("random DAG", sample.random_dag(16, 8, 488, avg_in_degree=6000 / 496, seed=0))]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} torch thread(s), mpnet thread policy "
          f"{mpnet.threads.get_threads()!r}, batch {args.batch}, {args.repeats} repeats")
    print(f"{'graph':18s} {'neurons':>7s} {'edges':>6s} {'depth':>5s} {'fwd median':>11s} {'fwd min':>8s} "
          f"{'fwd+bwd median':>15s} {'fwd+bwd min':>12s} {'fwd+bwd / fwd':>14s}")
    for name, topo in graphs:
        net = mpnet.Network(topo, seed=0)
        x = torch.randn(args.batch, len(topo.inputs))

        def forward():
            with torch.no_grad():
                net(x)

        def forward_backward():
            net.zero_grad(set_to_none=True)
            net(x).sum().backward()

        f_med, f_min = measure(forward, args.repeats)
        b_med, b_min = measure(forward_backward, args.repeats)
        print(f"{name:18s} {topo.num_nodes:7d} {topo.num_edges:6d} {len(net.plan.levels):5d} {f_med:9.3f}ms "
              f"{f_min:6.3f}ms {b_med:13.3f}ms {b_min:10.3f}ms {b_med / f_med:14.2f}")


if __name__ == "__main__":
    sys.exit(guarded(main))
