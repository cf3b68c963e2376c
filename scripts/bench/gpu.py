#!/usr/bin/env python
"""CPU against CUDA on the graphs of scripts/bench.py: the 6,000-edge DAG, the 50k-edge DAG, and populations of
1,000 and 100,000 NEAT-sized genomes (the 100,000 are the 1,000 repeated 100 times), forward and
forward+backward, float32. Each CUDA result is checked against the CPU's before it is timed.

    python scripts/bench.py gpu                   # needs a CUDA GPU; scripts/gpu_check.sh runs it
    python scripts/bench.py gpu --quick           # fewer repeats, no 100,000 population

CPU times use the threads given by --threads (default: torch's default); CUDA times synchronise before and
after each call (median of repeats after warm-up), so they include the launch of every level's kernels.
"""
import os
import random
import statistics
import sys
import time
from typing import Callable, List

import torch

import mpnet
import mpnet.graph.sample

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))   # scripts/: the argument types
from _args import Parser, fail, guarded, int_at_least  # noqa: E402

# the graphs and genomes of scripts/bench.py, written out again: bench.py needs neat-python, which a GPU
# machine without internet access may lack
GRAPHS = {"dag-6k": (lambda: mpnet.sample.random_dag(16, 8, 488, avg_in_degree=6000 / 496, seed=0, weights=True), 256),
          "dag-50k": (lambda: mpnet.sample.random_dag(32, 16, 4952, avg_in_degree=50000 / 4968, seed=0,
                                                      weights=True), 1024)}


def with_biases(topo: mpnet.Topology, seed: int) -> mpnet.Topology:
    rng = random.Random(seed)
    return topo.with_weights({}, {n: rng.gauss(0.0, 0.1) for n in topo.nodes if n not in topo.inputs})


def genomes(count: int) -> List[mpnet.Topology]:
    """NEAT-sized genomes: 2 inputs, 7 hidden, 1 output, ~25 edges each."""
    return [with_biases(mpnet.sample.random_dag(2, 1, 7, avg_in_degree=25 / 8, seed=s, weights=True), s)
            for s in range(count)]


def timed(run: Callable[[], None], cuda: bool, repeats: int, warmup: int = 2) -> float:
    """Median seconds of ``run()`` (synchronised on CUDA)."""
    for _ in range(warmup):
        run()
    times = []
    for _ in range(repeats):
        if cuda:
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        run()
        if cuda:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def passes(net: mpnet.Network, x: torch.Tensor):
    def fwd():
        with torch.no_grad():
            net(x)

    def fwd_bwd():
        net(x).sum().backward()
        net.zero_grad(set_to_none=True)
    return {"fwd": fwd, "fwd+bwd": fwd_bwd}


def cases(quick: bool):
    """(name, topologies, batch, description) of each row group."""
    out = []
    for name in ("dag-6k", "dag-50k"):
        build, batch = GRAPHS[name]
        topo = with_biases(build(), seed=1)
        out.append((name, topo, batch, f"{topo.num_nodes:,} neurons, {topo.num_edges:,} edges, "
                                       f"depth {max(topo.depth().values())}"))
    small = genomes(1000)
    out.append(("population x1,000", small, 256, f"{sum(t.num_edges for t in small):,} edges in all"))
    if not quick:
        many = small * 100
        out.append(("population x100,000", many, 256, f"the 1,000 x 100: {sum(t.num_edges for t in many):,} edges"))
    return out


def main(argv=None) -> None:
    parser = Parser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int_at_least(1, 1024), default=torch.get_num_threads())
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        fail("needs a CUDA GPU (torch.cuda.is_available() is False).")
    torch.set_num_threads(args.threads)
    repeats = 3 if args.quick else 7
    print(f"command: python scripts/bench.py gpu {' '.join(argv or sys.argv[1:])}")
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name()}, CPU: {args.threads} torch threads of "
          f"{os.cpu_count()} cores; float32; ms = median of {repeats} calls after warm-up")
    rows: List[List[str]] = []
    for name, topos, batch, info in cases(args.quick):
        t0 = time.perf_counter()
        cpu, gpu = mpnet.Network(topos), mpnet.Network(topos, device="cuda")
        built = time.perf_counter() - t0
        x = torch.randn(batch, len((topos if isinstance(topos, mpnet.Topology) else topos[0]).inputs),
                        generator=torch.Generator().manual_seed(0))
        xg = x.cuda()
        with torch.no_grad():
            torch.testing.assert_close(gpu(xg).cpu(), cpu(x), rtol=1e-4, atol=1e-4)
        print(f"  {name}: {info}, batch {batch}; both networks built in {built:.1f} s", flush=True)
        for kind in ("fwd", "fwd+bwd"):
            t_cpu = timed(passes(cpu, x)[kind], False, repeats)
            t_gpu = timed(passes(gpu, xg)[kind], True, repeats)
            rows.append([name, kind, f"{t_cpu * 1e3:,.2f}", f"{t_gpu * 1e3:,.2f}", f"{t_cpu / t_gpu:,.1f}x"])
        del cpu, gpu
        torch.cuda.empty_cache()
    head = ["graph", "pass", "CPU ms", "CUDA ms", "CUDA speed-up"]
    widths = [max(len(r[i]) for r in [head] + rows) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths)))
             for line in [head] + rows]
    print("\n" + "\n".join([lines[0], "-" * len(lines[0])] + lines[1:]))


if __name__ == "__main__":
    sys.exit(guarded(main))
