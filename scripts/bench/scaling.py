#!/usr/bin/env python
"""Time every path whose cost grows with the size of the network, at sizes a decade apart, and print a table.

    python scripts/bench.py scaling                           # 10k, 100k, 1M edges; 1k, 10k, 100k topologies
    python scripts/bench.py scaling --sizes 1000 10000 --graphs 100 1000     # smaller, for a quick look
    python scripts/bench.py scaling --only edges              # one group: edges, arrays, graphs or random_dag
    PYTHONPATH=/path/to/old/checkout python scripts/bench.py scaling --timeout 120   # an older mpnet

The operations, by group (each group and size runs in a fresh process, so one size's heap never slows the next):

* ``edges`` (E = ``--sizes``): a random layered DAG of E edges (string ids ``x0, h0, ..., y0``, about 10 sources
  a neuron, 8 layers) given as ``(src, dst, weight)`` tuples. ``from_edges``: ``Topology.from_edges`` of them;
  ``edges_network``: that and ``Network(topology)``, the tuples-to-ready-network time; ``read_objects``:
  ``network.to_topology()`` of that network (with the declared weights it holds). Two floors, no mpnet: what
  this machine charges for the ends themselves. ``floor_lookup``: a dict lookup of every end's id (its position
  among the nodes; ends in edge order, so targets come in random order); ``floor_sort``: ``np.argsort`` of the 2 E
  ends' identities (``id``), which is how ``Topology.from_edges`` codes the ends instead.
* ``arrays`` (E = ``--sizes``): the same graph as index columns. ``arrays_network``: ``ArrayTopology.from_arrays``
  and ``Network``; ``read_arrays``: ``network.to_topology()`` of that network.
* ``graphs`` (N = ``--graphs``): N small sampled topologies (``random_dag(3, 2, 8, avg_in_degree=2)``, about 20
  edges each). ``from_topologies``: ``ArrayTopology.from_topologies``; ``graphs_network``: ``Network`` of the
  list; ``read_batch``: its ``to_topology()``, the list read back.
* ``random_dag`` (E = ``--sizes``): ``sample.random_dag(4, 2, E // 10, avg_in_degree=10)``, about E edges.

Each operation runs ``--repeats`` times on one torch thread (more, up to 20, while its runs add up to less than a
second: a tenth of a second is easily doubled by a neighbour's burst); the table shows the best wall-clock and CPU
seconds (CPU time is steadier on a busy machine: say what the load was). "ratio" is the CPU time over the CPU time at
the previous size; "x linear" divides it by the ratio of the sizes (1.0: linear; the goal is at most 1.3 a
decade). Inputs are made before the clock starts.
"""
import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))   # scripts/: the argument types
from _args import Parser, guarded, int_at_least, number  # noqa: E402

GROUPS = {"edges": ("from_edges", "edges_network", "read_objects", "floor_lookup", "floor_sort"),
          "arrays": ("arrays_network", "read_arrays"), "graphs": ("from_topologies", "graphs_network", "read_batch"),
          "random_dag": ("random_dag",)}

CHILD = r"""
import json, sys, time, warnings
import numpy as np
import torch
torch.set_num_threads(1)
import mpnet
from mpnet import ArrayTopology, Network, Topology, sample
warnings.simplefilter("ignore")            # the sampled graphs may have neurons off every path: not timed here
group, n, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
results = {}


def timed(name, fn, size):
    best, cpu, out, runs, spent = float("inf"), float("inf"), None, 0, 0.0
    while runs < repeats or (spent < 1.0 and runs < 20):   # small sizes: runs for a second, at most 20
        out = None                         # the previous result freed before the next run
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        best, cpu = min(best, time.perf_counter() - t0), min(cpu, time.process_time() - c0)
        runs, spent = runs + 1, spent + time.perf_counter() - t0
    results[name] = {"seconds": best, "cpu": cpu, "size": size}
    return out


def layered_dag(edges, n_in=4, n_out=2, per_node=10, layers=8, seed=0):
    rng = np.random.default_rng(seed)
    hidden = max(edges // per_node - n_out, 1)
    layer = np.concatenate([np.zeros(n_in, np.int64), np.sort(rng.integers(1, layers, hidden)),
                            np.full(n_out, layers)])
    below = np.searchsorted(layer, layer)              # nodes in lower layers: the sources a node may draw
    dst = rng.integers(n_in, layer.size, edges)
    src = (rng.random(edges) * below[dst]).astype(np.int64)
    key = np.unique(src * layer.size + dst)
    src, dst = key // layer.size, key % layer.size
    names = [f"x{i}" for i in range(n_in)] + [f"h{i}" for i in range(hidden)] + [f"y{i}" for i in range(n_out)]
    return names, src, dst, rng.normal(size=src.size), list(range(n_in)), list(range(layer.size - n_out, layer.size))


if group in ("edges", "arrays"):
    names, src, dst, weight, ins, outs = layered_dag(n)
    E = int(src.size)
    if group == "edges":
        tuples = [(names[s], names[d], w) for s, d, w in zip(src.tolist(), dst.tolist(), weight.tolist())]
        inputs, outputs = [names[i] for i in ins], [names[o] for o in outs]
        timed("from_edges", lambda: Topology.from_edges(tuples, inputs, outputs), E)
        net = timed("edges_network", lambda: Network(Topology.from_edges(tuples, inputs, outputs), seed=0), E)
        timed("read_objects", net.to_topology, E)
        # floors, no mpnet: what this machine charges per end for a dict lookup of every end's id (each id to its
        # position among the nodes) and for a sort of the ends' identities (what mpnet's plain columns do instead)
        index = {name: i for i, name in enumerate(names)}
        ends = [names[i] for i in src.tolist()], [names[i] for i in dst.tolist()]
        timed("floor_lookup", lambda: [list(map(index.__getitem__, column)) for column in ends], E)
        keys = np.empty(2 * E, np.uint64)
        keys[0::2], keys[1::2] = (np.fromiter(map(id, column), np.uint64, E) for column in ends)
        timed("floor_sort", lambda: np.argsort(keys), E)
    else:
        net = timed("arrays_network", lambda: Network(ArrayTopology.from_arrays(
            src, dst, inputs=ins, outputs=outs, weight=weight, node_ids=names), seed=0), E)
        timed("read_arrays", net.to_topology, E)
elif group == "graphs":
    topos = [sample.random_dag(3, 2, 8, avg_in_degree=2.0, seed=s) for s in range(n)]
    timed("from_topologies", lambda: ArrayTopology.from_topologies(topos), n)
    net = timed("graphs_network", lambda: Network(topos, seed=0), n)
    timed("read_batch", net.to_topology, n)
    for r in results.values():
        r["edges"] = sum(t.num_edges for t in topos)
else:
    topo = timed("random_dag", lambda: sample.random_dag(4, 2, n // 10, avg_in_degree=10, seed=0), n)
    results["random_dag"]["edges"] = topo.num_edges
results["mpnet"] = mpnet.__file__
print(json.dumps(results))
"""


def measure(group: str, n: int, repeats: int, timeout: float):
    """``{operation: {"seconds", "cpu", "size"[, "edges"]}}`` of one group at one size, or None past ``timeout``."""
    import mpnet
    try:   # run from this folder: `python -c` puts the current directory first, and the repository's root holds
        # mpnet/, which would shadow the mpnet of PYTHONPATH (an older checkout) that this process imported
        out = subprocess.run([sys.executable, "-c", CHILD, group, str(n), str(repeats)], capture_output=True,
                             text=True, timeout=timeout, env={**os.environ, "OMP_NUM_THREADS": "1"},
                             cwd=os.path.dirname(os.path.abspath(__file__)))
    except subprocess.TimeoutExpired:
        return None
    if out.returncode != 0:
        raise RuntimeError(f"{group} at {n} failed:\n{out.stderr[-2000:]}")
    found = json.loads(out.stdout.strip().splitlines()[-1])
    if os.path.abspath(found.pop("mpnet")) != os.path.abspath(mpnet.__file__):
        raise RuntimeError(f"the measuring process imported another mpnet than {mpnet.__file__}")
    return found


def main(argv=None) -> int:
    parser = Parser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int_at_least(1, 10_000_000), nargs="+", default=[10_000, 100_000, 1_000_000],
                        help="edges of the edges, arrays and random_dag groups")
    parser.add_argument("--graphs", type=int_at_least(1, 1_000_000), nargs="+", default=[1_000, 10_000, 100_000],
                        help="topologies of the graphs group")
    parser.add_argument("--repeats", type=int_at_least(1), default=2, help="best of this many runs per operation")
    parser.add_argument("--timeout", type=number(0, open_low=True), default=600,
                        help="seconds before a group at one size is given up")
    parser.add_argument("--only", choices=sorted(GROUPS), default=None)
    args = parser.parse_args(argv)
    import mpnet
    print(f"mpnet from {os.path.dirname(os.path.abspath(mpnet.__file__))}; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; best of {args.repeats} (up to 20 under a second), "
          f"cap {args.timeout:.0f} s")
    print(f"{'operation':<16} | {'size':>8} | {'edges':>8} | {'wall s':>7} | {'CPU s':>7} | {'ratio':>6} | "
          f"{'x linear':>8}")
    print("|".join("-" * w for w in (17, 10, 10, 9, 9, 8, 9)))
    for group, operations in GROUPS.items():
        if args.only and group != args.only:
            continue
        rows = {op: [] for op in operations}
        gave_up = False
        for n in (args.graphs if group == "graphs" else args.sizes):
            t0 = time.perf_counter()
            found = None if gave_up else measure(group, n, args.repeats, args.timeout)
            for op in operations:
                rows[op].append((n, found[op] if found else None,
                                 "not run (a smaller size ran past the cap)" if gave_up else
                                 f"killed after {time.perf_counter() - t0:.0f} s" if found is None else ""))
            gave_up = found is None
        for op in operations:
            prev = None
            for n, r, note in rows[op]:
                if r is None:
                    print(f"{op:<16} | {n:>8} | {'-':>8} | {'> ' + str(int(args.timeout)):>7} | {'-':>7} | "
                          f"{'-':>6} | {'-':>8} {note}")
                    prev = None
                    continue
                ratio = r["cpu"] / prev[1] if prev else None
                linear = ratio / (r["size"] / prev[0]) if prev else None
                shown = ["-" if v is None else f"{v:.2f}" for v in (ratio, linear)]
                print(f"{op:<16} | {n:>8} | {r.get('edges', r['size']):>8} | {r['seconds']:>7.2f} | "
                      f"{r['cpu']:>7.2f} | {shown[0]:>6} | {shown[1]:>8}", flush=True)
                prev = (r["size"], r["cpu"])
    return 0


if __name__ == "__main__":
    sys.exit(guarded(main))
