#!/usr/bin/env python
"""Benchmark mpnet against its peers, side by side in one run, on the same graphs and the same batch.

Peers: neat-python's FeedForwardNetwork (per sample, pure Python), a per-neuron module (one nn.Linear per
neuron, topological order), a masked dense matrix applied level by level, and the floor (one CSR product over
all edges, which ignores depth). Every peer is checked to compute mpnet's numbers before it is timed.

    python scripts/bench.py --quick                       # under a minute on 2 cores
    python scripts/bench.py --markdown docs/benchmarks.md # the full run, also written as markdown

Times are medians over repeats taken round-robin across the methods of a graph (so a busy machine slows
them alike); "peak MB" is the peak RSS above the RSS just before one call, in a fresh process.
"""
import argparse
import datetime
import json
import os
import random
import shlex
import statistics
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

import neat
import torch
from torch import Tensor, nn

import mpnet
import mpnet.sample

warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta state")


@dataclass(frozen=True)
class Config:
    repeats: int = 7                 # timed calls per method (median reported)
    warmup: int = 2
    slow_repeats: int = 3            # for neat-python and the population loop
    neat_budget: int = 2_000_000     # edges x samples neat-python runs per call; beyond it, subsample and scale
    per_neuron_max_edges: int = 60_000
    population: int = 1000
    population_batch: int = 256
    memory_topologies: int = 10_000
    memory_batch: int = 256
    memory_column: bool = True       # peak memory per graph row (one fresh subprocess per row)


QUICK = Config(repeats=3, warmup=1, slow_repeats=1, neat_budget=100_000, per_neuron_max_edges=10_000,
               population=200, memory_topologies=2000, memory_batch=64, memory_column=False)


# ------------------------------------------------------------------------------------------- graphs
def with_biases(topo: mpnet.Topology, seed: int) -> mpnet.Topology:
    """Give every non-input neuron a small random bias so the cross-checks cover biases too."""
    rng = random.Random(seed)
    return topo.with_weights({}, {n: rng.gauss(0.0, 0.1) for n in topo.nodes if n not in topo.inputs})


def question_net() -> mpnet.Topology:
    rng = random.Random(0)
    pairs = [("x1", "a1"), ("x2", "a2"), ("a1", "b1"), ("a2", "b2"), ("b1", "c1"), ("b2", "c2"),
             ("a1", "c1"), ("a2", "c2"), ("c1", "y"), ("c2", "y")]
    return mpnet.Topology.from_edges([(s, d, rng.gauss(0.0, 1.0)) for s, d in pairs],
                                     inputs=["x1", "x2"], outputs=["y"])


GRAPHS: Dict[str, Tuple[Callable[[], mpnet.Topology], int]] = {   # name -> (topology with weights, batch)
    "question": (question_net, 256),
    "dag-6k": (lambda: mpnet.sample.random_dag(16, 8, 488, avg_in_degree=6000 / 496, seed=0, weights=True), 256),
    "layered": (lambda: mpnet.sample.layered([784, 256, 256, 256, 10], density=0.1, skip=0.2, seed=0,
                                             weights=True), 256),
    "dag-50k": (lambda: mpnet.sample.random_dag(32, 16, 4952, avg_in_degree=50000 / 4968, seed=0,
                                                weights=True), 1024),
}


def genomes(count: int) -> List[mpnet.Topology]:
    """NEAT-sized genomes: 2 inputs, 7 hidden, 1 output, ~25 edges each."""
    return [with_biases(mpnet.sample.random_dag(2, 1, 7, avg_in_degree=25 / 8, seed=s, weights=True), s)
            for s in range(count)]


@dataclass
class Graph:
    """One topology as mpnet sees it and as the peers see it (rows sorted by depth, inputs first)."""
    name: str
    topo: mpnet.Topology
    net: mpnet.Network
    x: Tensor                      # [batch, n_in]
    ref: Tensor                    # [batch, n_out] mpnet's output, which every peer must reproduce
    n_in: int
    levels: List[Tuple[int, int]]  # row range [r0, r1) of each depth >= 1
    src: Tensor                    # [E] peer row of each edge's source, edges sorted by (dst, src)
    dst: Tensor                    # [E]
    weight: Tensor                 # [E]
    bias: Tensor                   # [N] (0 for inputs)
    relu: Tensor                   # [N] bool: relu neuron (else identity)
    out_rows: Tensor               # [n_out]

    @property
    def edges(self) -> int:
        return self.src.numel()


def prepare(name: str) -> Graph:
    build, batch = GRAPHS[name]
    topo = with_biases(build(), seed=1)
    nodes, depth = topo.nodes, topo.depth()
    assert {n.activation for n in nodes.values() if n.role != "input"} <= {"relu", "identity"}
    assert {n.aggregation for n in nodes.values()} == {"sum"}
    order = sorted(nodes, key=lambda n: (depth[n], nodes[n].role == "output"))   # stable: declaration order
    row = {n: i for i, n in enumerate(order)}
    pairs = sorted((row[e.dst], row[e.src], e.weight) for e in topo.edges.values())
    depths = [depth[n] for n in order]
    levels = [(depths.index(k), len(depths) - depths[::-1].index(k)) for k in sorted(set(depths)) if k > 0]
    net = mpnet.Network(topo)
    x = torch.randn(batch, len(topo.inputs), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        ref = net(x)
    src, dst, weight = (torch.tensor(col) for col in zip(*[(p[1], p[0], p[2]) for p in pairs]))
    return Graph(name, topo, net, x, ref, len(topo.inputs), levels, src, dst, weight,
                 torch.tensor([nodes[n].bias for n in order]), torch.tensor([nodes[n].activation == "relu" for n in order]),
                 torch.tensor([row[n] for n in topo.outputs]))


# -------------------------------------------------------------------------------------------- peers
def relu(z: float) -> float:
    return z if z > 0.0 else 0.0


def identity(z: float) -> float:
    return z


def to_neat(topo: mpnet.Topology) -> neat.nn.FeedForwardNetwork:
    """neat-python's network for the same topology: int keys (inputs -1, -2, ...), plain relu and sum."""
    key = {n: -1 - i for i, n in enumerate(topo.inputs)}
    nodes, depth = topo.nodes, topo.depth()
    for n in topo.topological_order():
        key.setdefault(n, len(key))
    incoming: Dict = {n: [] for n in nodes}
    for e in topo.edges.values():
        incoming[e.dst].append((key[e.src], e.weight))
    evals = [(key[n], relu if nodes[n].activation == "relu" else identity, sum, nodes[n].bias, 1.0, incoming[n])
             for n in topo.topological_order() if depth[n] > 0]
    return neat.nn.FeedForwardNetwork([key[n] for n in topo.inputs], [key[n] for n in topo.outputs], evals)


class PerNeuron(nn.Module):
    """The usual answer: one nn.Linear(fan_in, 1) per neuron, each fed by torch.cat of its sources."""

    def __init__(self, g: Graph):
        super().__init__()
        n = g.bias.numel()
        self.sources: List[List[int]] = [[] for _ in range(n)]
        for s, d in zip(g.src.tolist(), g.dst.tolist()):
            self.sources[d].append(s)
        self.linears = nn.ModuleList(nn.Linear(len(self.sources[i]), 1) for i in range(g.n_in, n))
        with torch.no_grad():
            for i, lin in enumerate(self.linears, start=g.n_in):
                lin.weight.copy_(g.weight[g.dst == i].view(1, -1))
                lin.bias.fill_(float(g.bias[i]))
        self.relu, self.out = g.relu.tolist()[g.n_in:], g.out_rows.tolist()

    def forward(self, x: Tensor) -> Tensor:                     # [B, n_in] -> [B, n_out]
        h = list(x.split(1, dim=1))                             # one [B, 1] per neuron, in row order
        for lin, srcs, is_relu in zip(self.linears, self.sources[len(h):], self.relu):
            z = lin(torch.cat([h[s] for s in srcs], 1) if srcs else x[:, :0])
            h.append(z.relu() if is_relu else z)
        return torch.cat([h[o] for o in self.out], 1)


class MaskedDense(nn.Module):
    """A dense W [N, N] times a 0/1 mask; depth k's rows computed from the full state h [N, B]."""

    def __init__(self, g: Graph):
        super().__init__()
        n = g.bias.numel()
        w, mask = torch.zeros(n, n), torch.zeros(n, n)
        w[g.dst, g.src], mask[g.dst, g.src] = g.weight, 1.0
        self.weight, self.bias = nn.Parameter(w), nn.Parameter(g.bias.clone())
        self.register_buffer("mask", mask)
        self.register_buffer("relu", g.relu.view(-1, 1))
        self.levels, self.out = g.levels, g.out_rows

    def forward(self, x: Tensor) -> Tensor:                     # [B, n_in] -> [B, n_out]
        wm = self.weight * self.mask                            # [N, N]
        h = torch.cat([x.t(), x.new_zeros(wm.shape[0] - x.shape[1], x.shape[0])])   # [N, B]
        for r0, r1 in self.levels:
            z = torch.addmm(self.bias[r0:r1, None], wm[r0:r1], h)                     # [r1 - r0, B]
            h = torch.cat([h[:r0], torch.where(self.relu[r0:r1], z.relu(), z), h[r1:]])
        return h[self.out].t()


def forward_backward(module: nn.Module, x: Tensor) -> Callable[[], None]:
    def run() -> None:
        module(x).sum().backward()
        module.zero_grad()
    return run


def no_grad(fn: Callable[[], object]) -> Callable[[], None]:
    def run() -> None:
        with torch.no_grad():
            fn()
    return run


def check(peer: Tensor, ref: Tensor, what: str) -> None:
    torch.testing.assert_close(peer.double(), ref.double(), rtol=1e-4, atol=1e-4, msg=lambda m: f"{what}: {m}")


@dataclass
class Case:
    label: str
    kind: str                        # "fwd" or "fwd+bwd": the mpnet row it is compared with
    run: Callable[[], None]
    scale: float = 1.0               # measured time x scale = the time reported (an estimate when != 1)
    slow: bool = False


def make_case(g: Graph, method: str, cfg: Config) -> Optional[Case]:
    """The runner of one method on one graph, checked against mpnet first; None when skipped."""
    x, ref, batch = g.x, g.ref, g.x.shape[0]
    if method == "mpnet":
        return Case("mpnet", "fwd", no_grad(lambda: g.net(x)))
    if method == "mpnet-fb":
        return Case("mpnet", "fwd+bwd", forward_backward(g.net, x))
    if method == "neat":
        net, rows = to_neat(g.topo), x.tolist()
        k = min(batch, max(8, cfg.neat_budget // g.edges))
        check(torch.tensor([net.activate(r) for r in rows[:4]]), ref[:4], "neat-python")
        label = "neat-python" + (f" ({k} of {batch} samples, scaled)" if k < batch else "")
        return Case(label, "fwd", lambda: [net.activate(r) for r in rows[:k]], batch / k, slow=True)
    if method.startswith("per-neuron"):
        if g.edges > cfg.per_neuron_max_edges:
            return None
        module = PerNeuron(g)
        check(module(x), ref, "per-neuron module")
        if method == "per-neuron":
            return Case("per-neuron module", "fwd", no_grad(lambda: module(x)))
        return Case("per-neuron module", "fwd+bwd", forward_backward(module, x))
    if method.startswith("dense"):
        module = MaskedDense(g)
        check(module(x), ref, "masked dense")
        if method == "dense":
            return Case("masked dense, level by level", "fwd", no_grad(lambda: module(x)))
        return Case("masked dense, level by level", "fwd+bwd", forward_backward(module, x))
    if method == "csr":
        n = g.bias.numel()
        crow = torch.zeros(n + 1, dtype=torch.long)
        crow[1:] = torch.bincount(g.dst, minlength=n).cumsum(0)
        adj = torch.sparse_csr_tensor(crow, g.src, g.weight, (n, n), check_invariants=False)   # [N, N]
        h = torch.randn(n, batch)                                               # [N, B]
        return Case("floor: one CSR @ h, all edges", "fwd", no_grad(lambda: adj @ h))
    raise ValueError(method)


METHODS = ["mpnet", "mpnet-fb", "neat", "per-neuron", "per-neuron-fb", "dense", "dense-fb", "csr"]


# ---------------------------------------------------------------------------------------- measuring
def time_round_robin(cases: List[Case], cfg: Config) -> List[float]:
    """Median seconds per call of each case (scaled), repeats interleaved across the cases."""
    for c in cases:
        for _ in range(1 if c.slow else cfg.warmup):
            c.run()
    times: List[List[float]] = [[] for _ in cases]
    for r in range(cfg.repeats):
        for c, ts in zip(cases, times):
            if r < (cfg.slow_repeats if c.slow else cfg.repeats):
                t0 = time.perf_counter()
                c.run()
                ts.append((time.perf_counter() - t0) * c.scale)
    return [statistics.median(ts) for ts in times]


def rss_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))


def peak_above_baseline(run: Callable[[], None]) -> float:
    """MB of peak RSS above the RSS before one call (after a warm-up call, with the peak counter reset)."""
    run()
    with open("/proc/self/clear_refs", "w") as f:              # "5" resets VmHWM to the current RSS
        f.write("5")
    base = rss_kb("VmRSS")
    run()
    return (rss_kb("VmHWM") - base) / 1024


def child(job: Dict) -> Dict:
    """Runs in a fresh process: one memory measurement."""
    cfg = Config()
    if job["what"] == "row":
        case = make_case(prepare(job["graph"]), job["method"], cfg)
        return {"peak_mb": peak_above_baseline(case.run)}
    topos = genomes(job["topologies"])                         # the memory case: T topologies, one pass
    net, x = mpnet.Network(topos), torch.randn(job["batch"], 2)
    run = no_grad(lambda: net(x))
    peak = peak_above_baseline(run)
    t0 = time.perf_counter()
    run()
    return {"peak_mb": peak, "ms": (time.perf_counter() - t0) * 1e3, "nodes": sum(t.num_nodes for t in topos),
            "edges": sum(t.num_edges for t in topos), "process_peak_mb": rss_kb("VmHWM") / 1024}


def in_subprocess(job: Dict, threads: int) -> Dict:
    cmd = [sys.executable, __file__, "--threads", str(threads), "--child", json.dumps(job)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------- reporting
@dataclass
class Row:
    graph: str
    label: str
    kind: str
    ms: float
    work: int                        # edges x samples per call
    ratio: float                     # this time / mpnet's time of the same kind
    peak_mb: Optional[float] = None


def format_table(rows: List[Row], markdown: bool = False) -> str:
    head = ["graph", "method", "pass", "ms", "edge-samples/s", "vs mpnet", "peak MB"]
    body = [[r.graph, r.label, r.kind, f"{r.ms:,.2f}", f"{r.work / (r.ms / 1e3):,.3g}", f"{r.ratio:,.2f}x",
             "-" if r.peak_mb is None else f"{r.peak_mb:,.1f}"] for r in rows]
    if markdown:
        return "\n".join("| " + " | ".join(line) + " |" for line in [head, ["---"] * len(head)] + body)
    widths = [max(len(line[i]) for line in [head] + body) for i in range(len(head))]
    fmt = lambda line: "  ".join(c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths)))
    return "\n".join([fmt(head), "-" * len(fmt(head))] + [fmt(line) for line in body])


def bench_graph(name: str, cfg: Config, threads: int) -> Tuple[List[Row], str]:
    g = prepare(name)
    cases = {m: c for m in METHODS if (c := make_case(g, m, cfg)) is not None}
    secs = dict(zip(cases, time_round_robin(list(cases.values()), cfg)))
    ref = {"fwd": secs["mpnet"], "fwd+bwd": secs["mpnet-fb"]}
    batch = g.x.shape[0]
    rows = []
    for m, c in cases.items():
        peak = None
        if cfg.memory_column and not c.slow:
            peak = in_subprocess({"what": "row", "graph": name, "method": m}, threads)["peak_mb"]
        rows.append(Row(name, c.label, c.kind, secs[m] * 1e3, g.edges * batch, secs[m] / ref[c.kind], peak))
    info = (f"{name}: {g.bias.numel():,} neurons, {g.edges:,} edges, depth {len(g.levels)}, batch {batch}"
            + ("" if "per-neuron" in cases else f" (per-neuron module skipped: > {cfg.per_neuron_max_edges:,} edges)"))
    return rows, info


def bench_population(cfg: Config) -> Tuple[List[Row], str]:
    topos = genomes(cfg.population)
    net, x = mpnet.Network(topos), torch.randn(cfg.population_batch, 2)
    nets, rows = [to_neat(t) for t in topos], x.tolist()
    with torch.no_grad():
        ref = net(x)                                            # [P, B, 1]
    for i in range(0, cfg.population, max(1, cfg.population // 5)):
        check(torch.tensor([nets[i].activate(r) for r in rows[:4]]), ref[i, :4], f"neat-python genome {i}")
    cases = [Case("mpnet, one batched pass", "fwd", no_grad(lambda: net(x))),
             Case(f"neat-python, loop over {cfg.population} nets", "fwd",
                  lambda: [n.activate(r) for n in nets for r in rows], slow=True)]
    secs = time_round_robin(cases, cfg)
    name, work = f"population x{cfg.population}", sum(t.num_edges for t in topos) * cfg.population_batch
    out = [Row(name, c.label, c.kind, s * 1e3, work, s / secs[0]) for c, s in zip(cases, secs)]
    return out, (f"{name}: {cfg.population} genomes, {sum(t.num_nodes for t in topos):,} neurons, "
                 f"{sum(t.num_edges for t in topos):,} edges in all, batch {cfg.population_batch}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, smaller cases (< ~1 min)")
    parser.add_argument("--markdown", metavar="PATH", help="also write the report as markdown")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch threads")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return
    cfg, start = (QUICK if args.quick else Config()), time.perf_counter()
    torch.manual_seed(0)
    head = [f"date:    {datetime.datetime.now().isoformat(timespec='seconds')}",
            f"command: {shlex.join(['python'] + sys.argv)}",
            f"torch {torch.__version__}, {torch.get_num_threads()} threads, mpnet {mpnet.__version__}, "
            f"neat-python {neat.__version__}, load average at start {os.getloadavg()[0]:.2f}",
            f"times: median of {cfg.repeats} calls ({cfg.slow_repeats} for neat-python) after warm-up, float32; "
            f"vs mpnet = time / mpnet's time for the same pass (> 1: mpnet faster)",
            "peak MB: peak RSS above the RSS before one call, fresh process per row ('-': not measured)"]
    print("\n".join(head), flush=True)
    rows, infos = [], []
    for name in GRAPHS:
        r, info = bench_graph(name, cfg, args.threads)
        rows, infos = rows + r, infos + [info]
        print(f"  measured {info}", flush=True)
    r, info = bench_population(cfg)
    rows, infos = rows + r, infos + [info]
    mem = in_subprocess({"what": "memory", "topologies": cfg.memory_topologies, "batch": cfg.memory_batch},
                        args.threads)
    bound = (mem["nodes"] + mem["edges"]) * cfg.memory_batch * 4 / 2**20
    mem_line = (f"memory: {cfg.memory_topologies:,} topologies ({mem['nodes']:,} neurons, {mem['edges']:,} edges) "
                f"in one no_grad pass at batch {cfg.memory_batch}: {mem['ms']:,.0f} ms, peak {mem['peak_mb']:,.1f} MB "
                f"above the pre-call RSS = {mem['peak_mb'] / bound:.2f}x (neurons+edges) x batch x 4 B "
                f"= {bound:,.1f} MB (whole process incl. building: {mem['process_peak_mb']:,.0f} MB)")
    by = {(r.graph, r.label.split(" (")[0], r.kind): r for r in rows}
    dense_worst = max(1 / r.ratio for r in rows if r.label.startswith("masked dense"))
    targets = [("fwd >= 100x neat-python, dag-6k", by[("dag-6k", "neat-python", "fwd")].ratio, 100, True),
               ("fwd+bwd >= 30x per-neuron module, dag-6k", by[("dag-6k", "per-neuron module", "fwd+bwd")].ratio,
                30, True),
               ("mpnet / masked dense <= 1.2 on every graph and pass (worst)", dense_worst, 1.2, False),
               ("mpnet fwd / CSR floor <= 2, dag-50k",
                1 / by[("dag-50k", "floor: one CSR @ h, all edges", "fwd")].ratio, 2, False),
               ("population >= 200x neat-python", rows[-1].ratio, 200, True),
               ("memory peak / ((neurons+edges) x batch x 4 B) <= 2", mem["peak_mb"] / bound, 2, False)]
    if args.quick:
        targets = [(t[0] + " [quick run: smaller cases]", *t[1:]) for t in targets]
    lines = [f"  {'met    ' if (v >= goal if up else v <= goal) else 'NOT MET'}  {what}: {v:,.2f}"
             for what, v, goal, up in targets]
    tail = [mem_line, "targets:"] + lines + [f"load average at end {os.getloadavg()[0]:.2f}; "
                                             f"total {time.perf_counter() - start:.0f} s"]
    report = "\n".join(infos + ["", format_table(rows), ""] + tail)
    print("\n" + report)
    if args.markdown:
        os.makedirs(os.path.dirname(os.path.abspath(args.markdown)), exist_ok=True)
        with open(args.markdown, "w") as f:
            f.write("# mpnet benchmarks\n\n" + "\n".join(f"- {h}" for h in head) + "\n\n"
                    + "\n".join(f"- {i}" for i in infos) + "\n\n" + format_table(rows, markdown=True)
                    + "\n\n" + "\n".join(tail) .replace("\n  ", "\n- ") + "\n\nAs printed:\n\n```text\n"
                    + "\n".join(head) + "\n\n" + report + "\n```\n")


if __name__ == "__main__":
    main()
