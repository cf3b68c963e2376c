#!/usr/bin/env python
"""Benchmark mpnet against its peers, side by side in one run, on the same graphs and the same batch.

Peers: neat-python's FeedForwardNetwork (per sample, pure Python), a per-neuron module (one nn.Linear per
neuron, topological order), a masked dense matrix applied level by level, the floor (one CSR product over
all edges, which ignores depth) and, with ``--tensorneat PATH``, TensorNEAT's jit-compiled population
forward and jax.grad (scripts/bench/tensorneat.py). Every peer is checked to compute mpnet's numbers
before it is timed. Every row is timed with torch's default thread count (mpnet then picks its threads
per pass, mpnet/threads.py) and with one thread. Build rows time a declaration becoming a ready Network.

    python scripts/bench.py --quick                       # a smoke test, a few minutes on 2 cores
    python scripts/bench.py --markdown docs/benchmarks.md # the full run, also written as markdown
    python scripts/bench.py --tensorneat ~/src/tensorneat # with TensorNEAT (needs jax, sympy)
    python scripts/bench.py --busy 1                      # with a busy-loop process holding a core
    python scripts/bench.py --recurrent-only              # only the recurrent rows (scripts/bench/recurrent.py)
    python scripts/bench.py --ray --threads 1              # NEAT generations of 10k / 100k genomes, local vs Ray
    python scripts/bench.py --connectome-only             # the C. elegans connectome, 100 steps, batch 64

Times are medians over repeats taken round-robin across the methods and thread settings of a graph (so a
busy machine slows them alike); "peak MiB" is the peak RSS above the RSS just before one call, in a fresh
process per graph.
"""
import argparse
import ctypes
import datetime
import gc
import json
import os
import shlex
import statistics
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))   # scripts/: the argument types
from _args import Parser, existing, guarded, int_at_least, writable_file  # noqa: E402

import neat
import torch

import mpnet
import mpnet.threads

import build as bench_build
import connectome as bench_connectome
import recurrent as bench_recurrent
import tensorneat as bench_tensorneat
from peers import GRAPHS, METHODS, Case, check, forward_backward, genomes, make_case, no_grad, prepare, to_neat
from report import Row, check_targets, format_table

warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta state")

DEFAULT_THREADS = torch.get_num_threads()
SETTINGS = {"default": DEFAULT_THREADS, "1 thread": 1}   # torch threads of each timed setting
# Before each timed call: OpenMP workers spin a while after a parallel region (OMP_WAIT_POLICY unset), and a
# spinning worker of the previous method would slow the next one on a machine with few cores.
PAUSE_S = 0.005


@dataclass(frozen=True)
class Config:
    repeats: int = 7                 # timed calls per method and thread setting (median reported)
    warmup: int = 2
    slow_repeats: int = 3            # for neat-python and any call slower than slow_call_s
    slow_call_s: float = 0.5
    neat_budget: int = 2_000_000     # edges x samples neat-python runs per call; beyond it, subsample and scale
    per_neuron_max_edges: int = 60_000
    populations: Tuple[int, ...] = (1000, 10_000)
    population_batch: int = 256
    neat_nets_max: int = 1000        # neat-python runs at most this many nets of a population, then scales
    memory_topologies: int = 10_000
    memory_batch: int = 256
    memory_column: bool = True       # peak memory per graph row (one fresh subprocess per row)
    big_dag: Tuple[int, int, int] = (100_000, 1_000_000, 50)   # build rows: neurons, edges, depth
    build_genomes: int = 10_000
    build_repeats: int = 5
    neat_generations: int = 30       # XOR generations before the NEAT generation whose build is timed


QUICK = Config(repeats=3, warmup=1, slow_repeats=1, neat_budget=100_000, per_neuron_max_edges=10_000,
               populations=(200, 1000), neat_nets_max=200, memory_topologies=2000, memory_batch=64,
               memory_column=False, big_dag=(10_000, 100_000, 20), build_genomes=2000, build_repeats=2,
               neat_generations=5)


MARKDOWN_INTRO = """`scripts/bench.py` runs every method on the same graphs and batch, checks each against mpnet's
outputs (TensorNEAT's weight gradients too), and times every row twice: with torch's default thread count
(mpnet then picks each pass's threads, `mpnet/threads.py`) and with `torch.set_num_threads(1)`. The build
rows time a declaration becoming a ready `Network`. Reproduce with

```bash
pip install -e ".[bench]"                    # neat-python; jax and sympy for TensorNEAT
python scripts/bench.py --markdown docs/benchmarks.md
python scripts/bench.py --tensorneat PATH    # PATH: a checkout of EMI-Group/tensorneat (or TENSORNEAT_PATH)
```

TensorNEAT is loaded from its source (its genome package only; no file of it is part of this repository),
fed the same genomes exported to its padded arrays, and timed at its own (JAX) default threads.
`scripts/bench.py threads` ([threads.md](threads.md)) shows the thread policy against plain torch threading
with and without busy processes holding cores. On a machine other processes load, the clock inflates long
calls more than short ones (a call that outlasts a scheduler slice waits for the next); the `CPU ms, 1
thread` column and the targets' "by CPU time" lines are the load-robust reading.
"""


# ---------------------------------------------------------------------------------------- measuring
Times = Dict[str, float]             # thread setting -> seconds per call (scaled)


def time_round_robin(cases: List[Case], cfg: Config) -> List[Times]:
    """Median seconds per call of each case under each thread setting, repeats interleaved across cases
    and settings (a case that is no torch computation runs under the default setting only)."""
    plan = [(c, name, n) for c in cases for name, n in SETTINGS.items() if c.torch_threads or name == "default"]
    repeats = []
    for c, _, threads in plan:
        torch.set_num_threads(threads)
        slow = c.slow
        for _ in range(1 if slow else cfg.warmup):
            t0 = time.perf_counter()
            c.run()
            slow = slow or time.perf_counter() - t0 > cfg.slow_call_s
            if slow:                                            # one warm-up and fewer repeats
                break
        repeats.append(cfg.slow_repeats if slow else cfg.repeats)
    times: List[List[float]] = [[] for _ in plan]
    cpu: List[List[float]] = [[] for _ in plan]              # this thread's CPU time: load inflates it far less
    for r in range(cfg.repeats):
        for (c, _, threads), ts, cs, n in zip(plan, times, cpu, repeats):
            if r < n:
                torch.set_num_threads(threads)
                time.sleep(PAUSE_S)                             # the previous call's worker threads stop spinning
                c0, t0 = time.thread_time(), time.perf_counter()
                c.run()
                ts.append((time.perf_counter() - t0) * c.scale)
                cs.append((time.thread_time() - c0) * c.scale)
    torch.set_num_threads(DEFAULT_THREADS)
    out: List[Times] = [{} for _ in cases]
    for (c, name, _), ts, cs in zip(plan, times, cpu):
        out[cases.index(c)][name] = statistics.median(ts)
        if name == "1 thread":
            out[cases.index(c)]["cpu, 1 thread"] = statistics.median(cs)
    return out


def rss_kb(field_name: str) -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field_name + ":"))


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


def bench_graph(name: str, cfg: Config) -> Tuple[List[Row], str]:
    g = prepare(name)
    cases = {m: c for m in METHODS if (c := make_case(g, m, cfg)) is not None}
    secs = dict(zip(cases, time_round_robin(list(cases.values()), cfg)))
    ref, batch = {"fwd": secs["mpnet"]["default"], "fwd+bwd": secs["mpnet-fb"]["default"]}, g.x.shape[0]
    measured = [m for m, c in cases.items() if not c.slow] if cfg.memory_column else []
    # peak memory at one thread: a method's buffers do not depend on it, and two threads under load took minutes
    peaks = in_subprocess({"what": "rows", "graph": name, "methods": measured}, 1) if measured else {}
    rows = [Row(name, c.label, c.kind, {k: v * 1e3 for k, v in secs[m].items()}, g.edges * batch,
                secs[m]["default"] / ref[c.kind], peaks.get(m)) for m, c in cases.items()]
    skipped = "" if "per-neuron" in cases else f"; per-neuron module skipped (> {cfg.per_neuron_max_edges:,} edges)"
    return rows, (f"{name}: {g.bias.numel():,} neurons, {g.edges:,} edges, depth {len(g.levels)}, "
                  f"batch {batch}{skipped}")


def bench_population(count: int, cfg: Config, tensorneat) -> Tuple[List[Row], str, Dict]:
    """mpnet's one batched pass over ``count`` genomes beside neat-python's loop (and TensorNEAT)."""
    topos = genomes(count)
    net, x = mpnet.Network(topos), torch.randn(cfg.population_batch, 2, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        ref = net(x)                                            # [P, B, 1]
    k = min(count, cfg.neat_nets_max)
    nets, rows = [to_neat(t) for t in topos[:k]], x.tolist()
    for i in range(0, k, max(1, k // 5)):
        check(torch.tensor([nets[i].activate(r) for r in rows[:4]]), ref[i, :4], f"neat-python genome {i}")
    neat_label = f"neat-python, loop over {count} nets" + (f" ({k} of {count} nets, scaled)" if k < count else "")
    cases = [Case("mpnet, one batched pass", "fwd", no_grad(lambda: net(x))),
             Case("mpnet, one batched pass", "fwd+bwd", forward_backward(net, x)),
             Case(neat_label, "fwd", lambda: [n.activate(r) for n in nets for r in rows], count / k, slow=True)]
    extra: Dict = {}
    if tensorneat is not None:
        peer = bench_tensorneat.TensorNEAT(tensorneat, topos, x)
        check(peer.outputs(), ref, "TensorNEAT forward")
        want = torch.from_numpy(bench_tensorneat.mpnet_weight_grads(net, topos, x))
        keep = bench_tensorneat.away_from_kinks(net, x)
        torch.testing.assert_close(torch.from_numpy(peer.weight_grads()).double()[keep], want[keep],
                                   rtol=1e-3, atol=1e-3, msg=lambda m: f"TensorNEAT weight gradients: {m}")
        transform, forward, grad = peer.runners()
        cases += [Case("TensorNEAT (jit, vmap)", "fwd", forward, torch_threads=False),
                  Case("TensorNEAT jax.grad (jit, vmap)", "fwd+bwd", grad, torch_threads=False)]
        extra = {"jit_s": peer.compile_s, "transform": transform, "compared": int(keep.sum())}
    secs = time_round_robin(cases, cfg)
    edges = sum(t.num_edges for t in topos)
    name = f"population x{count}"
    ref_s = {c.kind: s["default"] for c, s in zip(cases, secs) if c.label.startswith("mpnet")}
    out = [Row(name, c.label, c.kind, {k_: v * 1e3 for k_, v in s.items()}, edges * cfg.population_batch,
               s["default"] / ref_s[c.kind]) for c, s in zip(cases, secs)]
    return out, (f"{name}: {count} genomes, {sum(t.num_nodes for t in topos):,} neurons, {edges:,} edges "
                 f"in all, batch {cfg.population_batch}"), extra


def bench_builds(cfg: Config, tensorneat_transform: Optional[Callable]) -> Tuple[List[Row], Dict[str, float]]:
    """Seconds from a declaration to a ready Network, under both thread settings."""
    topos = genomes(cfg.build_genomes)
    big = bench_build.big_dag(*cfg.big_dag[:2], cfg.big_dag[2], 32, 16)
    cases = bench_build.build_cases(topos, big)
    neat_topos, neat_runs = bench_build.neat_generation(cfg.neat_generations)
    rows, found = [], {}
    for b in cases:
        ms = {}
        for name, n in SETTINGS.items():
            torch.set_num_threads(n)
            wall, cpu = bench_build.seconds(b.run, cfg.build_repeats)
            ms[name] = wall * 1e3
        ms["cpu, 1 thread"] = cpu * 1e3
        rows.append(Row("build", b.label, b.size, ms, 0))
        found[b.label], found[b.label + " (cpu)"] = ms["default"] / 1e3, cpu
    if tensorneat_transform is not None:
        torch.set_num_threads(DEFAULT_THREADS)
        rows.append(Row("build", f"TensorNEAT transform (topological sort), x{cfg.populations[-1]}", "jit, vmap",
                        {"default": bench_build.seconds(tensorneat_transform, cfg.build_repeats)[0] * 1e3}, 0))
    gen = f"NEAT generation ({len(neat_topos)} genomes after {cfg.neat_generations} XOR generations)"
    for what in ("build", "evaluate", "finetune"):
        ms = {}
        for name, n in SETTINGS.items():
            torch.set_num_threads(n)
            wall, cpu = bench_build.seconds(neat_runs[what], cfg.build_repeats)
            ms[name] = wall * 1e3
        ms["cpu, 1 thread"] = cpu * 1e3
        label = {"build": "build: Topology objects -> Network", "evaluate": "evaluate: the task's forward",
                 "finetune": "evaluate with 20 fine-tuning steps"}[what]
        rows.append(Row(gen, label, "", ms, 0))
        found[f"neat {what}"] = ms["default"] / 1e3
    torch.set_num_threads(DEFAULT_THREADS)
    return rows, found


def bench_memory(cfg: Config) -> Tuple[str, float]:
    mem = in_subprocess({"what": "memory", "topologies": cfg.memory_topologies, "batch": cfg.memory_batch},
                        DEFAULT_THREADS)
    bound = (mem["nodes"] + mem["edges"]) * cfg.memory_batch * 4 / 2**20
    return (f"memory: {cfg.memory_topologies:,} topologies ({mem['nodes']:,} neurons, {mem['edges']:,} edges), one "
            f"no_grad pass at batch {cfg.memory_batch}: {mem['ms']:,.0f} ms, peak {mem['peak_mib']:,.1f} MiB above "
            f"the pre-call RSS = {mem['peak_mib'] / bound:.2f}x (neurons+edges) x batch x 4 B = {bound:,.1f} MiB\n"
            f"        (whole process, building included: peak RSS {mem['process_peak_mib']:,.0f} MiB)",
            mem["peak_mib"] / bound)


class Busy:
    """``n`` processes spinning in a Python loop while the benchmark runs (another program holding cores)."""

    def __init__(self, n: int):
        self.procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]

    def stop(self) -> None:
        for p in self.procs:
            p.kill()
            p.wait()


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
        "chunks wherever they ran (Ray's compile includes reading the flat arrays as columns)",
        "same chunks on both sides, so both find the same fitness for every genome (checked; a mismatch is "
        "flagged in the table)", ""] + lines)


def main() -> None:
    parser = Parser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, smaller cases")
    parser.add_argument("--markdown", metavar="PATH", type=writable_file((".md",)),
                        help="also write the report as markdown")
    parser.add_argument("--tensorneat", metavar="PATH", type=existing("dir"),
                        help="a TensorNEAT checkout (default: $TENSORNEAT_PATH)")
    parser.add_argument("--busy", type=int_at_least(0, 256), default=0, help="busy-loop processes to run meanwhile")
    parser.add_argument("--threads", type=int_at_least(1, 1024), help=argparse.SUPPRESS)   # a child's torch threads
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--recurrent-only", action="store_true", help="only the recurrent rows and targets")
    parser.add_argument("--connectome-only", action="store_true", help="only the C. elegans connectome rows")
    parser.add_argument("--ray", action="store_true", help="only the search over Ray: local vs 2 Ray workers "
                        "(pip install 'mpnet[ray]'); with --quick: 2,000 and 10,000 genomes")
    args = parser.parse_args()
    modes = [f for f, on in (("--recurrent-only", args.recurrent_only), ("--connectome-only", args.connectome_only),
                             ("--ray", args.ray)) if on]
    if len(modes) > 1:
        parser.error(f"{' and '.join(modes)}: choose one (each runs only its own rows)")
    full_only = [f for f, on in (("--markdown", args.markdown), ("--tensorneat", args.tensorneat),
                                 ("--busy", args.busy)) if on]
    if modes and full_only:
        parser.error(f"{', '.join(full_only)}: only read by the full suite, not with {modes[0]}")
    if args.child:
        torch.set_num_threads(args.threads)
        print(json.dumps(child(json.loads(args.child))))
        return
    if args.recurrent_only:
        cfg = QUICK if args.quick else Config()
        print(f"{shlex.join(['python'] + sys.argv)}: torch {torch.__version__}, neat-python {neat.__version__}, "
              f"{torch.get_num_threads()} torch threads, load average at start {os.getloadavg()[0]:.2f}; ms: median "
              f"of {cfg.repeats} calls ({cfg.slow_repeats} for neat-python), float32", flush=True)
        rows, infos = bench_recurrent.bench_recurrent(cfg, time_round_robin)
        print("\n".join(infos + ["", format_table(rows), "", "targets:"]
                        + [t.line() for t in bench_recurrent.targets(rows)]
                        + [f"load average at end {os.getloadavg()[0]:.2f}"]))
        return
    if args.connectome_only:
        cfg = QUICK if args.quick else Config()
        print(f"{shlex.join(['python'] + sys.argv)}: torch {torch.__version__}, neat-python {neat.__version__}, "
              f"{torch.get_num_threads()} torch threads, load average at start {os.getloadavg()[0]:.2f}; ms: median "
              f"of {cfg.repeats} calls ({cfg.slow_repeats} for neat-python), float32", flush=True)
        rows, info = bench_connectome.bench_connectome(cfg, time_round_robin)
        print("\n".join([info, "", format_table(rows), f"load average at end {os.getloadavg()[0]:.2f}"]))
        return
    if args.ray:
        print(f"command: {shlex.join(['python'] + sys.argv)}; load average at start {os.getloadavg()[0]:.2f}, "
              f"{os.cpu_count()} CPUs", flush=True)
        print(bench_ray(args.quick))
        return
    cfg, start = (QUICK if args.quick else Config()), time.perf_counter()
    tensorneat, skipped = bench_tensorneat.load(args.tensorneat)
    busy = Busy(args.busy)
    try:
        report_run(args, cfg, start, tensorneat, skipped)
    finally:
        busy.stop()


def report_run(args, cfg: Config, start: float, tensorneat, skipped: str) -> None:
    where = os.path.dirname(os.path.dirname(os.path.abspath(mpnet.__file__)))
    git = subprocess.run(["git", "-C", where, "describe", "--always", "--dirty"], capture_output=True, text=True)
    env = "".join(f"{k}={os.environ[k]} " for k in ("PYTHONPATH", "OMP_NUM_THREADS", "OMP_WAIT_POLICY",
                                                     "MPNET_THREADS") if k in os.environ)
    argv = ["PATH" if i and sys.argv[i - 1] == "--tensorneat" else a for i, a in enumerate(sys.argv)]
    if tensorneat is not None and "--tensorneat" not in sys.argv:
        env += "TENSORNEAT_PATH=PATH "                   # where a checkout lives is no part of the record
    jax_version = ""
    if tensorneat is not None:
        import jax
        jax_version = f", jax {jax.__version__} (TensorNEAT at its default threads)"
    head = [f"date:    {datetime.datetime.now().isoformat(timespec='seconds')}",
            f"command: {env}{shlex.join(['python'] + argv)}",
            f"mpnet {mpnet.__version__} (git {git.stdout.strip() or 'unknown'}), torch {torch.__version__}, "
            f"neat-python {neat.__version__}{jax_version}",
            f"threads: 'default' = torch's {DEFAULT_THREADS} with mpnet's thread policy "
            f"{mpnet.threads.get_threads()!r}; '1 thread' = torch.set_num_threads(1); OMP_WAIT_POLICY="
            f"{os.environ.get('OMP_WAIT_POLICY', 'unset')}; {os.cpu_count()} CPUs, load average at start "
            f"{os.getloadavg()[0]:.2f}" + (f"; {args.busy} busy-loop process(es) running" if args.busy else ""),
            f"ms: median of {cfg.repeats} calls ({cfg.slow_repeats} for neat-python and calls over "
            f"{cfg.slow_call_s} s) after warm-up, float32, repeats round-robin across a graph's methods and "
            f"thread settings, {PAUSE_S * 1e3:.0f} ms pause before each; build rows: median of {cfg.build_repeats}",
            "CPU ms, 1 thread: the calling thread's CPU time at one thread, which a busy machine inflates far less "
            "than the clock",
            "default / best: the default's time over the better of the two settings; vs mpnet: time / mpnet's "
            "time for the same pass at default threads (> 1: mpnet is faster); 'scaled': estimate from a subset",
            "peak MiB: peak RSS over a warm-up and a measured call above the RSS before them (after malloc_trim), "
            "measured in a fresh process per graph; '-': not measured"]
    if skipped:
        head.append(skipped)
    if os.getloadavg()[0] > 0.5 * os.cpu_count():
        head.append("WARNING: other processes are using the CPUs; the times are inflated and noisier than usual")
    print("\n".join(head), flush=True)
    rows, infos, transform = [], [], None
    for name in GRAPHS:
        r, info = bench_graph(name, cfg)
        rows, infos = rows + r, infos + [info]
        print(f"  done: {info}", file=sys.stderr, flush=True)
    for count in cfg.populations:
        r, info, extra = bench_population(count, cfg, tensorneat)
        rows, infos = rows + r, infos + [info]
        transform = extra.get("transform", transform)
        if extra:
            infos.append(f"  TensorNEAT: outputs agree (1e-4) for all {count} genomes, weight gradients (1e-3) for "
                         f"the {extra['compared']} without a relu input within 1e-5 of its kink; jit compile "
                         f"(transform, forward, grad) {extra['jit_s']:.1f} s")
        print(f"  done: {info}", file=sys.stderr, flush=True)
    recurrent_rows, recurrent_infos = bench_recurrent.bench_recurrent(cfg, time_round_robin)
    print(f"  done: {'; '.join(recurrent_infos)}", file=sys.stderr, flush=True)
    connectome_rows, connectome_info = bench_connectome.bench_connectome(cfg, time_round_robin)
    print(f"  done: {connectome_info}", file=sys.stderr, flush=True)
    build_rows, builds = bench_builds(cfg, transform)
    print("  done: build rows", file=sys.stderr, flush=True)
    mem_line, mem_ratio = bench_memory(cfg)
    title = "targets" + (" (quick run: smaller cases, fewer repeats; the goals are for the full run)"
                         if args.quick else "")
    targets = check_targets(rows + build_rows, builds, mem_ratio, cfg) + bench_recurrent.targets(recurrent_rows)
    recurrent_rows, recurrent_infos = recurrent_rows + connectome_rows, recurrent_infos + [connectome_info]
    rows, infos = rows + recurrent_rows, infos + recurrent_infos
    tail = [mem_line, f"{title}:"] + [t.line() for t in targets] + [
        f"load average at end {os.getloadavg()[0]:.2f}; total {time.perf_counter() - start:.0f} s"]
    report = "\n".join(infos + ["", format_table(rows), "", format_table(build_rows, build=True), ""] + tail)
    print("\n" + report)
    if args.markdown:
        os.makedirs(os.path.dirname(os.path.abspath(args.markdown)), exist_ok=True)
        with open(args.markdown, "w") as f:
            f.write("# mpnet benchmarks\n\n" + MARKDOWN_INTRO + "\n## The recorded run\n\n"
                    + "\n".join(f"- {h}" for h in head + infos) + "\n\n"
                    + format_table(rows, markdown=True) + "\n\n" + format_table(build_rows, markdown=True, build=True)
                    + "\n\n```text\n" + "\n".join(tail) + "\n```\n\nAs printed:\n\n```text\n" + "\n".join(head)
                    + "\n\n" + report + "\n```\n")


if __name__ == "__main__":
    sys.exit(guarded(main))
