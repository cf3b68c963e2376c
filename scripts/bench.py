#!/usr/bin/env python
"""Benchmark mpnet against its peers, side by side in one run, on the same graphs and the same batch.

Peers: neat-python's FeedForwardNetwork (per sample, pure Python), a per-neuron module (one nn.Linear per
neuron, topological order), a masked dense matrix applied level by level, and the floor (one CSR product over
all edges, which ignores depth). Every peer is checked to compute mpnet's numbers before it is timed.

    python scripts/bench.py --quick                       # under a minute on 2 cores
    python scripts/bench.py --markdown docs/benchmarks.md # the full run, also written as markdown
    python scripts/bench.py --ray --threads 1              # NEAT generations of 10k / 100k genomes, local vs Ray

Times are medians over repeats taken round-robin across the methods of a graph (so a busy machine slows
them alike); "peak MiB" is the peak RSS above the RSS just before one call, in a fresh process per graph.
"""
import argparse
import ctypes
import datetime
import gc
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

# Before torch starts its OpenMP pool: the default spin-wait makes every parallel region wait a scheduler
# tick (~8 ms here) whenever another process holds a core, which swamps sub-millisecond passes. Override to test.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

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
    slow_repeats: int = 3            # for neat-python and any call slower than slow_call_s
    slow_call_s: float = 0.5
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
        fan_in = torch.bincount(g.dst, minlength=g.bias.numel()).tolist()    # edges are sorted by dst
        self.sources = [s.tolist() for s in g.src.split(fan_in)]
        self.linears = nn.ModuleList(nn.Linear(k, 1) for k in fan_in[g.n_in:])
        with torch.no_grad():
            for lin, w, b in zip(self.linears, g.weight.split(fan_in)[g.n_in:], g.bias[g.n_in:]):
                lin.weight.copy_(w.view(1, -1))
                lin.bias.fill_(float(b))
        self.relu, self.out = g.relu.tolist()[g.n_in:], g.out_rows.tolist()

    def forward(self, x: Tensor) -> Tensor:                     # [B, n_in] -> [B, n_out]
        h = list(x.split(1, dim=1))                             # one [B, 1] per neuron, in row order
        for lin, srcs, is_relu in zip(self.linears, self.sources[x.shape[1]:], self.relu):
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
    if method == "neat":
        net, rows = to_neat(g.topo), x.tolist()
        k = min(batch, max(8, cfg.neat_budget // g.edges))
        check(torch.tensor([net.activate(r) for r in rows[:4]]), ref[:4], "neat-python")
        label = "neat-python" + (f" ({k} of {batch} samples, scaled)" if k < batch else "")
        return Case(label, "fwd", lambda: [net.activate(r) for r in rows[:k]], batch / k, slow=True)
    if method.startswith("csr"):
        n = g.bias.numel()
        crow = torch.zeros(n + 1, dtype=torch.long)
        crow[1:] = torch.bincount(g.dst, minlength=n).cumsum(0)
        adj = torch.sparse_csr_tensor(crow, g.src, g.weight, (n, n), check_invariants=False)   # [N, N]
        h, out = torch.randn(n, batch), torch.empty(n, batch)                                  # [N, B]
        if method == "csr":
            return Case("floor: CSR @ h, all edges", "fwd", no_grad(lambda: adj @ h))
        return Case("floor: CSR @ h, all edges, into a reused out", "fwd",
                    no_grad(lambda: torch.mm(adj, h, out=out)))
    base = method.removesuffix("-fb")
    if base == "per-neuron" and g.edges > cfg.per_neuron_max_edges:
        return None
    module = g.net if base == "mpnet" else (PerNeuron if base == "per-neuron" else MaskedDense)(g)
    label = {"mpnet": "mpnet", "per-neuron": "per-neuron module", "dense": "masked dense, level by level"}[base]
    check(module(x), ref, label)
    if method.endswith("-fb"):
        return Case(label, "fwd+bwd", forward_backward(module, x))
    return Case(label, "fwd", no_grad(lambda: module(x)))


METHODS = ["mpnet", "mpnet-fb", "neat", "per-neuron", "per-neuron-fb", "dense", "dense-fb", "csr", "csr-out"]


# ---------------------------------------------------------------------------------------- measuring
def time_round_robin(cases: List[Case], cfg: Config) -> List[float]:
    """Median seconds per call of each case (scaled), repeats interleaved across the cases."""
    repeats = []
    for c in cases:
        slow = c.slow
        for _ in range(1 if slow else cfg.warmup):
            t0 = time.perf_counter()
            c.run()
            slow = slow or time.perf_counter() - t0 > cfg.slow_call_s
            if slow:                                            # one warm-up and fewer repeats
                break
        repeats.append(cfg.slow_repeats if slow else cfg.repeats)
    times: List[List[float]] = [[] for _ in cases]
    for r in range(cfg.repeats):
        for c, ts, n in zip(cases, times, repeats):
            if r < n:
                t0 = time.perf_counter()
                c.run()
                ts.append((time.perf_counter() - t0) * c.scale)
    return [statistics.median(ts) for ts in times]


def rss_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))


def peak_above_baseline(run: Callable[[], None]) -> float:
    """MiB of peak RSS over a warm-up call and a measured call, above the RSS before both: buffers a method
    keeps between calls (mpnet keeps its value and state buffers) count, not only what one call frees."""
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)                    # freed heap pages leave RSS, so reuse counts
    with open("/proc/self/clear_refs", "w") as f:              # "5" resets VmHWM to the current RSS
        f.write("5")
    base = rss_kb("VmRSS")
    run()
    run()
    return (rss_kb("VmHWM") - base) / 1024


def child(job: Dict) -> Dict:
    """Runs in a fresh process: the peak memory of some methods on one graph, or the memory case."""
    if job["what"] == "rows":
        g, peaks = prepare(job["graph"]), {}
        for method in job["methods"]:
            peaks[method] = peak_above_baseline(make_case(g, method, Config()).run)
            gc.collect()
        return peaks
    topos = genomes(job["topologies"])                         # the memory case: T topologies, one pass
    net, x = mpnet.Network(topos), torch.randn(job["batch"], 2)
    run = no_grad(lambda: net(x))
    peak = peak_above_baseline(run)
    t0 = time.perf_counter()
    run()
    return {"peak_mib": peak, "ms": (time.perf_counter() - t0) * 1e3, "nodes": sum(t.num_nodes for t in topos),
            "edges": sum(t.num_edges for t in topos), "process_peak_mib": rss_kb("VmHWM") / 1024}


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
    ratio: float                     # this time / mpnet's time for the same pass
    peak_mib: Optional[float] = None


def format_table(rows: List[Row], markdown: bool = False) -> str:
    head = ["graph", "method", "pass", "ms", "edge-samples/s", "vs mpnet", "peak MiB"]
    body = [[r.graph, r.label, r.kind, f"{r.ms:,.2f}", f"{r.work / (r.ms / 1e3):.2e}", f"{r.ratio:,.2f}x",
             "-" if r.peak_mib is None else f"{r.peak_mib:,.1f}"] for r in rows]
    if markdown:
        return "\n".join("| " + " | ".join(line) + " |" for line in [head, ["---"] * len(head)] + body)
    widths = [max(len(line[i]) for line in [head] + body) for i in range(len(head))]

    def fmt(line: List[str]) -> str:
        return "  ".join(c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths)))
    return "\n".join([fmt(head), "-" * len(fmt(head))] + [fmt(line) for line in body])


def bench_graph(name: str, cfg: Config, threads: int) -> Tuple[List[Row], str]:
    g = prepare(name)
    cases = {m: c for m in METHODS if (c := make_case(g, m, cfg)) is not None}
    secs = dict(zip(cases, time_round_robin(list(cases.values()), cfg)))
    ref, batch = {"fwd": secs["mpnet"], "fwd+bwd": secs["mpnet-fb"]}, g.x.shape[0]
    measured = [m for m, c in cases.items() if not c.slow] if cfg.memory_column else []
    peaks = in_subprocess({"what": "rows", "graph": name, "methods": measured}, threads) if measured else {}
    rows = [Row(name, c.label, c.kind, secs[m] * 1e3, g.edges * batch, secs[m] / ref[c.kind], peaks.get(m))
            for m, c in cases.items()]
    skipped = "" if "per-neuron" in cases else f"; per-neuron module skipped (> {cfg.per_neuron_max_edges:,} edges)"
    return rows, (f"{name}: {g.bias.numel():,} neurons, {g.edges:,} edges, depth {len(g.levels)}, "
                  f"batch {batch}{skipped}")


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
    edges = sum(t.num_edges for t in topos)
    name = f"population x{cfg.population}"
    out = [Row(name, c.label, c.kind, s * 1e3, edges * cfg.population_batch, s / secs[0]) for c, s in zip(cases, secs)]
    return out, (f"{name}: {cfg.population} genomes, {sum(t.num_nodes for t in topos):,} neurons, {edges:,} edges "
                 f"in all, batch {cfg.population_batch}")


def bench_memory(cfg: Config, threads: int) -> Tuple[str, float]:
    mem = in_subprocess({"what": "memory", "topologies": cfg.memory_topologies, "batch": cfg.memory_batch}, threads)
    bound = (mem["nodes"] + mem["edges"]) * cfg.memory_batch * 4 / 2**20
    return (f"memory: {cfg.memory_topologies:,} topologies ({mem['nodes']:,} neurons, {mem['edges']:,} edges), one "
            f"no_grad pass at batch {cfg.memory_batch}: {mem['ms']:,.0f} ms, peak {mem['peak_mib']:,.1f} MiB above "
            f"the pre-call RSS = {mem['peak_mib'] / bound:.2f}x (neurons+edges) x batch x 4 B = {bound:,.1f} MiB\n"
            f"        (whole process, building included: peak RSS {mem['process_peak_mib']:,.0f} MiB)",
            mem["peak_mib"] / bound)


def check_targets(rows: List[Row], memory_ratio: float) -> List[str]:
    by = {(r.graph, r.label.split(" (")[0], r.kind): r for r in rows}
    vs_dense = max((1 / r.ratio, f"{r.graph} {r.kind}") for r in rows if r.label.startswith("masked dense"))
    neat_pop = next(r for r in rows if r.graph.startswith("population") and r.label.startswith("neat"))
    floor = by[("dag-50k", "floor: CSR @ h, all edges", "fwd")]
    floor_out = by[("dag-50k", "floor: CSR @ h, all edges, into a reused out", "fwd")]
    targets = [  # (what, value, goal, higher is better)
        ("mpnet fwd >= 100x neat-python, dag-6k", by[("dag-6k", "neat-python", "fwd")].ratio, 100, True),
        ("mpnet fwd+bwd >= 30x per-neuron module, dag-6k",
         by[("dag-6k", "per-neuron module", "fwd+bwd")].ratio, 30, True),
        (f"mpnet / masked dense <= 1.2 on every graph and pass (worst: {vs_dense[1]})", vs_dense[0], 1.2, False),
        (f"mpnet fwd / CSR floor <= 2, dag-50k (vs the reused-out floor: {1 / floor_out.ratio:.2f})",
         1 / floor.ratio, 2, False),
        (f"{neat_pop.graph}: mpnet >= 200x neat-python", neat_pop.ratio, 200, True),
        ("memory peak / ((neurons+edges) x batch x 4 B) <= 2", memory_ratio, 2, False)]
    return [f"  {'met    ' if (v >= goal if up else v <= goal) else 'NOT MET'}  {what}: {v:,.2f}"
            for what, v, goal, up in targets]


# ------------------------------------------------------------------------------------ search over Ray
def bench_ray(quick: bool, workers: int = 2, generations: int = 3) -> str:
    """Time NEAT generations (XOR, 20 fine-tuning steps, float32) of 10,000 and 100,000 genomes in this process
    and on ``workers`` Ray workers, split into the driver's own share (ask, ship, collect, tell) and the wait
    for the evaluation. Both runs use the same chunks, so they must find the same fitness: checked."""
    import ray
    from mpnet.search import NEAT, Finetune, LocalEvaluator, RayEvaluator, tasks

    sizes, chunk = ((2_000, 10_000), 500) if quick else ((10_000, 100_000), 1_000)
    task, finetune = tasks.XOR(), Finetune(steps=20)
    t0 = time.perf_counter()
    ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, configure_logging=False)
    ray_start = time.perf_counter() - t0
    rows, fitness = [], {}
    for n in sizes:
        for name in ("local", f"ray x{workers}"):
            evaluator = LocalEvaluator(chunk_size=chunk) if name == "local" else \
                RayEvaluator(workers, chunk_size=chunk, threads_per_worker=1)
            algo = NEAT(2, 1, population=n, seed=0, add_node_rate=0.3, add_connection_rate=0.5)
            gens, fits = [], []
            try:
                for gen in range(generations):
                    t0 = time.perf_counter()
                    topologies = algo.ask()
                    t1 = time.perf_counter()
                    ev = evaluator.evaluate(task, topologies, finetune, gen)
                    t2 = time.perf_counter()
                    algo.tell(ev.fitness, ev.trained)
                    t3 = time.perf_counter()
                    fits.append(ev.fitness)
                    ship, collect = ev.timings.get("ship", 0.0), ev.timings.get("collect", 0.0)
                    evaluate = t2 - t1 - ship - collect
                    gens.append(dict(ask=t1 - t0, ship=ship, evaluate=evaluate, collect=collect, tell=t3 - t2,
                                     generation=t3 - t0, edges=sum(t.num_edges for t in topologies) / n,
                                     compile=ev.timings["compile"],
                                     train=ev.timings["finetune"] + ev.timings["forward"]))
            finally:
                evaluator.close()
            fitness[(n, name)] = fits
            timed = gens[1:]          # generation 0 starts the Ray workers: left out
            med = {k: statistics.median(g[k] for g in timed) for k in timed[0]}
            driver = med["ask"] + med["ship"] + med["collect"] + med["tell"]
            rows.append([f"{n:,}", name, f"{med['edges']:.1f}", f"{med['ask']:.2f}", f"{med['ship']:.2f}",
                         f"{med['evaluate']:.2f}", f"{med['collect']:.2f}", f"{med['tell']:.2f}",
                         f"{med['generation']:.2f}", f"{driver:.2f} ({driver / med['generation']:.0%})",
                         f"{med['compile']:.2f}", f"{med['train']:.2f}"])
            print(f"  done: {n:,} genomes, {name}", file=sys.stderr, flush=True)
        same = fitness[(n, "local")] == fitness[(n, f"ray x{workers}")]
        rows[-1][1] += "" if same else " (FITNESS DIFFERS FROM LOCAL)"
    ray.shutdown()
    head = ["genomes", "evaluator", "edges/genome", "ask s", "ship s", "evaluate s", "collect s", "tell s",
            "generation s", "driver s (share)", "work: compile s", "work: train+score s"]
    widths = [max(len(r[i]) for r in [head] + rows) for i in range(len(head))]
    lines = ["  ".join(c.rjust(w) if i != 1 else c.ljust(w) for i, (c, w) in enumerate(zip(line, widths)))
             for line in [head] + rows]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join([
        f"NEAT on XOR, 20 fine-tuning steps per generation (Adam), float32, chunks of {chunk:,} genomes; "
        f"median of generations 1-{generations - 1} (generation 0 starts the workers); Ray started in "
        f"{ray_start:.1f} s with {workers} CPUs, one worker per CPU, one torch thread each; local: this process, "
        f"{torch.get_num_threads()} torch thread(s)",
        "ask: genomes -> topologies; ship: pack into flat arrays and send (Ray); evaluate: compile + fine-tune + "
        "score (Ray: the driver waiting for the workers); collect: results -> fitness and trained weights; tell: "
        "write back, select, breed, speciate; driver: ask + ship + collect + tell; work: seconds summed over "
        "chunks wherever they ran (Ray's compile includes unpacking the flat arrays into topologies)",
        "same chunks on both sides, so both find the same fitness for every genome (checked; a mismatch is "
        "flagged in the table)", ""] + lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, smaller cases (< ~1 min)")
    parser.add_argument("--markdown", metavar="PATH", help="also write the report as markdown")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch threads")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--recurrent-only", action="store_true", help="only the recurrent rows and targets")
    parser.add_argument("--ray", action="store_true", help="only the search over Ray: local vs 2 Ray workers "
                        "(pip install 'mpnet[ray]'); with --quick: 2,000 and 10,000 genomes")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return
    if args.recurrent_only:
        cfg = QUICK if args.quick else Config()
        print(f"{shlex.join(['python'] + sys.argv)}: torch {torch.__version__}, neat-python {neat.__version__}, "
              f"{torch.get_num_threads()} torch threads, load average at start {os.getloadavg()[0]:.2f}; ms: median "
              f"of {cfg.repeats} calls ({cfg.slow_repeats} for neat-python), float32", flush=True)
        rows, infos = bench_recurrent(cfg)
        print("\n".join(infos + ["", format_table(rows), "", "targets:"] + recurrent_targets(rows)
                        + [f"load average at end {os.getloadavg()[0]:.2f}"]))
        return
    if args.ray:
        print(f"command: {shlex.join(['python'] + sys.argv)}; load average at start {os.getloadavg()[0]:.2f}, "
              f"{os.cpu_count()} CPUs", flush=True)
        print(bench_ray(args.quick))
        return
    cfg, start = (QUICK if args.quick else Config()), time.perf_counter()
    where = os.path.dirname(os.path.dirname(os.path.abspath(mpnet.__file__)))
    git = subprocess.run(["git", "-C", where, "describe", "--always", "--dirty"], capture_output=True, text=True)
    env = "".join(f"{k}={os.environ[k]} " for k in ("PYTHONPATH", "OMP_NUM_THREADS") if k in os.environ)
    head = [f"date:    {datetime.datetime.now().isoformat(timespec='seconds')}",
            f"command: {env}{shlex.join(['python'] + sys.argv)}",
            f"mpnet {mpnet.__version__} from {where} (git {git.stdout.strip() or 'unknown'}), torch {torch.__version__}, "
            f"neat-python {neat.__version__}",
            f"{torch.get_num_threads()} torch threads, OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}, "
            f"{os.cpu_count()} CPUs, load average at start {os.getloadavg()[0]:.2f}",
            f"ms: median of {cfg.repeats} calls ({cfg.slow_repeats} for neat-python and calls over "
            f"{cfg.slow_call_s} s) after warm-up, float32, repeats round-robin across a graph's methods",
            "vs mpnet: time / mpnet's time for the same pass (> 1: mpnet is faster); 'scaled': estimate from a "
            "subset of the batch",
            "peak MiB: peak RSS over a warm-up and a measured call above the RSS before them (after malloc_trim), measured in a "
            "fresh process per graph; '-': not measured"]
    if os.getloadavg()[0] > 0.5 * os.cpu_count():
        head.append("WARNING: other processes are using the CPUs; the times are inflated and noisier than usual")
    print("\n".join(head), flush=True)
    rows, infos = [], []
    for name in list(GRAPHS) + ["population"]:
        r, info = bench_population(cfg) if name == "population" else bench_graph(name, cfg, args.threads)
        rows, infos = rows + r, infos + [info]
        print(f"  done: {info}", file=sys.stderr, flush=True)
    recurrent_rows, recurrent_infos = bench_recurrent(cfg)
    print(f"  done: {'; '.join(recurrent_infos)}", file=sys.stderr, flush=True)
    mem_line, mem_ratio = bench_memory(cfg, args.threads)
    title = "targets" + (" (quick run: smaller population and memory case, fewer repeats)" if args.quick else "")
    rows, infos = rows + recurrent_rows, infos + recurrent_infos
    tail = [mem_line, f"{title}:"] + check_targets(rows, mem_ratio) + recurrent_targets(recurrent_rows) + [
        f"load average at end {os.getloadavg()[0]:.2f}; total {time.perf_counter() - start:.0f} s"]
    report = "\n".join(infos + ["", format_table(rows), ""] + tail)
    print("\n" + report)
    if args.markdown:
        os.makedirs(os.path.dirname(os.path.abspath(args.markdown)), exist_ok=True)
        with open(args.markdown, "w") as f:
            f.write("# mpnet benchmarks\n\n" + "\n".join(f"- {h}" for h in head + infos) + "\n\n"
                    + format_table(rows, markdown=True) + "\n\n```text\n" + "\n".join(tail)
                    + "\n```\n\nAs printed:\n\n```text\n" + "\n".join(head) + "\n\n" + report + "\n```\n")


# ------------------------------------------------------------------------------------ recurrent networks
# Recurrent rows beside neat-python's RecurrentNetwork: the same topology (neat's tanh, sum), the same input
# sequences; neat-python steps one sample at a time (activate per step), mpnet the whole batch per step.
RECURRENT_STEPS = 50


def recurrent_graph(seed: int = 0) -> mpnet.Topology:
    """500 neurons (10 inputs, 480 hidden, 10 outputs), 6,000 distinct random edges, self-loops and cycles
    included, weights N(0, 0.1): with neat's tanh(2.5 z) and 12 inputs a neuron, a gain below 1, so the
    dynamics contract and float32 stays within 1e-4 of neat-python's float64 over 50 steps."""
    rng = random.Random(seed)
    ids = [f"x{i}" for i in range(10)] + [f"h{i}" for i in range(480)] + [f"y{i}" for i in range(10)]
    edges: Dict[Tuple[str, str], float] = {}
    while len(edges) < 6000:
        edges.setdefault((rng.choice(ids), rng.choice(ids[10:])), rng.gauss(0.0, 0.1))
    biases = {n: rng.gauss(0.0, 0.1) for n in ids[10:]}
    return mpnet.Topology.from_edges([(s, d, w) for (s, d), w in edges.items()], inputs=ids[:10], outputs=ids[-10:],
                                     activation="neat.tanh", output_activation="neat.tanh", biases=biases,
                                     recurrent=True, warn=False)


def recurrent_genomes(count: int) -> List[mpnet.Topology]:
    """NEAT-sized recurrent genomes: 2 inputs, 7 hidden, 1 output, ~25 edges each, cycles and self-loops."""
    out = []
    for s in range(count):
        rng = random.Random(s)
        ids = ["x0", "x1"] + [f"h{i}" for i in range(7)] + ["y"]
        edges: Dict[Tuple[str, str], float] = {}
        while len(edges) < 25:
            edges.setdefault((rng.choice(ids), rng.choice(ids[2:])), rng.gauss(0.0, 0.3))
        out.append(mpnet.Topology.from_edges([(a, b, w) for (a, b), w in edges.items()], inputs=ids[:2],
                                             outputs=["y"], activation="neat.tanh", output_activation="neat.tanh",
                                             biases={n: rng.gauss(0.0, 0.1) for n in ids[2:]}, hidden=ids[2:-1],
                                             recurrent=True, warn=False))
    return out


def to_neat_recurrent(topo: mpnet.Topology) -> neat.nn.RecurrentNetwork:
    """neat-python's RecurrentNetwork of the same topology (int keys; neat's tanh and sum)."""
    key = {n: i for i, n in enumerate(topo.nodes)}
    tanh, add = neat.activations.tanh_activation, neat.aggregations.sum_aggregation
    evals = [(key[n], tanh, add, node.bias, node.response, [(key[s], topo.edges[(s, n)].weight)
                                                            for s in topo.predecessors(n)])
             for n, node in topo.nodes.items() if node.role != "input" and topo.predecessors(n)]
    return neat.nn.RecurrentNetwork([key[n] for n in topo.inputs], [key[n] for n in topo.outputs], evals)


def neat_sequences(nets: List[neat.nn.RecurrentNetwork], xs: List[List[List[float]]]) -> List:
    """Each net on each sequence from a reset state: ``[net][sample][step][output]``."""
    out = []
    for net in nets:
        per = []
        for seq in xs:
            net.reset()
            per.append([net.activate(x) for x in seq])
        out.append(per)
    return out


def bench_recurrent(cfg: Config) -> Tuple[List[Row], List[str]]:
    """The 500-neuron / 6,000-edge recurrent graph and a population of small recurrent genomes, 50 steps."""
    S = RECURRENT_STEPS
    rows, infos = [], []
    # --- one big recurrent graph
    topo, batch = recurrent_graph(), 256
    net = mpnet.Network(topo)
    x = torch.randn(S, batch, len(topo.inputs))                                 # [steps, batch, n_in]
    with torch.no_grad():
        ref = net(x)                                                           # [steps, batch, n_out]
    seqs = x.transpose(0, 1).tolist()                                          # [batch][steps][n_in]
    nrn = to_neat_recurrent(topo)
    check(torch.tensor(neat_sequences([nrn], seqs[:2])[0]).transpose(0, 1), ref[:, :2], "neat-python recurrent")
    k = min(batch, max(2, cfg.neat_budget // (topo.num_edges * S)))
    cases = [Case(f"mpnet, {S} steps", "fwd", no_grad(lambda: net(x))),
             Case(f"mpnet, {S} steps", "fwd+bwd", forward_backward(net, x)),
             Case(f"neat-python RecurrentNetwork ({k} of {batch} samples, scaled)", "fwd",
                  lambda: neat_sequences([nrn], seqs[:k]), batch / k, slow=True)]
    secs = time_round_robin(cases, cfg)
    name = "recurrent-6k"
    ref_t = {"fwd": secs[0], "fwd+bwd": secs[1]}
    rows += [Row(name, c.label, c.kind, t * 1e3, topo.num_edges * batch * S, t / ref_t[c.kind])
             for c, t in zip(cases, secs)]
    infos.append(f"{name}: {topo.num_nodes} neurons, {topo.num_edges:,} edges (cycles, self-loops), {S} steps, "
                 f"batch {batch}; fwd+bwd / fwd = {secs[1] / secs[0]:.2f}")
    # --- a population of small recurrent genomes, one batched Network
    topos = recurrent_genomes(cfg.population)
    pop, pb = mpnet.Network(topos), 64
    xp = torch.randn(S, pb, 2)
    with torch.no_grad():
        refp = pop(xp)                                                         # [P, steps, batch, 1]
    seqs = xp.transpose(0, 1).tolist()
    nets = [to_neat_recurrent(t) for t in topos]
    for i in range(0, cfg.population, max(1, cfg.population // 5)):
        check(torch.tensor(neat_sequences([nets[i]], seqs[:2])[0]).transpose(0, 1), refp[i, :, :2],
              f"neat-python recurrent genome {i}")
    kp = min(pb, max(1, cfg.neat_budget // (sum(t.num_edges for t in topos) * S)))
    cases = [Case(f"mpnet, one batched Network, {S} steps", "fwd", no_grad(lambda: pop(xp))),
             Case(f"neat-python, loop over {cfg.population} nets ({kp} of {pb} samples, scaled)", "fwd",
                  lambda: neat_sequences(nets, seqs[:kp]), pb / kp, slow=True)]
    secs = time_round_robin(cases, cfg)
    edges = sum(t.num_edges for t in topos)
    name = f"recurrent population x{cfg.population}"
    rows += [Row(name, c.label, c.kind, t * 1e3, edges * pb * S, t / secs[0]) for c, t in zip(cases, secs)]
    infos.append(f"{name}: {cfg.population} genomes, {edges:,} edges in all, {S} steps, batch {pb}")
    return rows, infos


def recurrent_targets(rows: List[Row]) -> List[str]:
    big = [r for r in rows if r.graph == "recurrent-6k"]
    fwd, fb = (next(r for r in big if r.label.startswith("mpnet") and r.kind == k) for k in ("fwd", "fwd+bwd"))
    neat_big = next(r for r in big if r.label.startswith("neat"))
    neat_pop = next(r for r in rows if r.graph.startswith("recurrent population") and r.label.startswith("neat"))
    targets = [("recurrent-6k: mpnet fwd >= 100x neat-python RecurrentNetwork", neat_big.ratio, 100, True),
               (f"{neat_pop.graph}: mpnet >= 200x neat-python", neat_pop.ratio, 200, True),
               (f"recurrent-6k: fwd+bwd through {RECURRENT_STEPS} steps <= 3x {RECURRENT_STEPS} forward steps",
                fb.ms / fwd.ms, 3, False)]
    return [f"  {'met    ' if (v >= goal if up else v <= goal) else 'NOT MET'}  {what}: {v:,.2f}"
            for what, v, goal, up in targets]


if __name__ == "__main__":
    main()
