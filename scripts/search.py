#!/usr/bin/env python
"""Topology search from the command line: NEAT on one task, or the benchmark table of the search targets.

    python scripts/search.py xor --generations 100 --finetune 20 --checkpoint-dir runs/xor
    python scripts/search.py xor --finetune 20 --lamarckian    # NEATConfig.lamarckian(): more structure search
    python scripts/search.py xor --resume runs/xor              # continue a killed run from its checkpoint
    python scripts/search.py pole --generations 50
    python scripts/search.py bench                              # the targets table (several seeds per row)
    python scripts/search.py bench --quick                      # fewer seeds, for a smoke test

Tasks: xor, parity (3 bits), spirals, pole, pole-nv (double pole without velocities: needs recurrent genomes,
``--set feed_forward=False --population 1000``). ``--set key=value`` overrides any NEATConfig field, e.g.
``--set add_node_rate=0.2 --set hidden_activation=sin``; ``--set breeding=arrays`` breeds on genome columns
(the same algorithm, for populations of 10,000 and more: docs/neat_scale.md).
"""
import argparse
import gc
import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Dict, List, Optional

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")   # tiny networks: don't spin-wait on a busy machine

import torch

from mpnet import search
from mpnet.errors import MpnetError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _args import Parser, guarded, int_at_least, number  # noqa: E402  (the scripts' shared argument types)

# Everything imported so far (torch, its modules) lives for the whole run: take it out of the garbage
# collector's full sweeps, which a search (many small genes and topologies) triggers often. ~20% faster.
gc.freeze()

# NEAT settings the benchmark rows use beyond the paper's defaults (printed with the table).
LAMARCKIAN = {k: v for k, v in search.NEATConfig.lamarckian().to_dict().items()       # NEATConfig.lamarckian()
              if v != search.NEATConfig().to_dict()[k]}
SPIRALS = {**LAMARCKIAN, "hidden_activation": "sin", "activation_options": ("sin", "tanh", "gauss", "sigmoid"),
           "activation_mutate_rate": 0.1}

# double pole balancing without velocities: recurrent genomes, the population of NEAT's p2nv.ne (1,000)
POLE_NV = {"population": 1000, "feed_forward": False}

# name, task, NEAT overrides, finetune, seeds (full, quick), generation cap, target (text, check)
ROWS = [
    ("xor", "xor", {}, None, (50, 10), 300, "50/50 solved, mean evals <= 4755",
     lambda s: s["solved"] == s["seeds"] and s["mean_evals"] <= 4755),
    ("xor+ft", "xor", {}, (20, 0.05), (50, 10), 300, "50/50 solved, mean evals <= 1000",
     lambda s: s["solved"] == s["seeds"] and s["mean_evals"] <= 1000),
    ("xor+ft lamarckian", "xor", LAMARCKIAN, (20, 0.05), (50, 10), 300, "50/50 solved, mean evals <= 1000",
     lambda s: s["solved"] == s["seeds"] and s["mean_evals"] <= 1000),
    ("parity3+ft lamarckian", "parity", LAMARCKIAN, (20, 0.05), (10, 3), 300, "most seeds solved",
     lambda s: s["solved"] > s["seeds"] / 2),
    ("spirals+ft sin", "spirals", SPIRALS, (50, 0.1), (4, 1), 150, "most seeds solved",
     lambda s: s["solved"] > s["seeds"] / 2),
    ("pole", "pole", {}, None, (10, 3), 100, "(no target) solved rate",
     lambda s: None),
    ("double pole", "pole2", {}, None, (10, 3), 100, "(no target; NEAT paper DPV: 3,600 evals)",
     lambda s: None),
    ("double pole, no velocities", "pole-nv", POLE_NV, None, (5, 1), 150,
     "(no target; NEAT paper DPNV: 33,184 evals mean)", lambda s: None),
]
# task names of the rows beyond the command-line tasks
BENCH_TASKS = {"pole2": ("pole", {"poles": 2})}


def _neat_overrides(items: List[str]) -> Dict:
    """``--set key=value`` items as NEATConfig overrides, each value read as its field's type (an unknown
    field or a value of the wrong type is an ArgumentError naming it; ranges are checked by NEATConfig)."""
    return dict(search.NEATConfig.parse_override(item) for item in items)


def one_run(task_name: str, seed: int, overrides: Dict, finetune, generations: int) -> Dict:
    """One seeded run, as a dict (runs in a worker process of the benchmark)."""
    torch.set_num_threads(1)
    name, params = BENCH_TASKS.get(task_name, (task_name, {}))
    task = search.tasks.make(name, **params)
    algo = search.NEAT(task.n_inputs, task.n_outputs, seed=seed, **overrides)
    ft = None if finetune is None else search.Finetune(steps=finetune[0], lr=finetune[1])
    t0, c0 = time.perf_counter(), time.process_time()
    result = search.run(algo, task, generations=generations, finetune=ft, progress=False)
    h = result.history
    n = len(h)
    return {"solved": result.solved, "evals": result.evaluations_to_solve, "generations": n,
            "wall": time.perf_counter() - t0, "cpu": time.process_time() - c0,
            "hidden": result.solution.topology.num_nodes - task.n_inputs - task.n_outputs if result.solved else None,
            "per_gen": {k: sum(h.column(k)) / n for k in ("t_ask", "t_compile", "t_finetune", "t_forward", "t_tell",
                                                           "t_generation")}}


def bench(args) -> int:
    rows = ROWS if not args.only else [r for r in ROWS if r[1] in args.only]
    print(f"search bench: NEAT (population 150, 1,000 for pole-nv), seeds 0..n-1 per row, one run per seed stopping at the first "
          f"solving generation; {args.jobs} worker process(es), torch 1 thread each; machine load at start: "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"lamarckian = paper defaults + {LAMARCKIAN}; sin = lamarckian + hidden_activation 'sin', "
          f"activation_options {list(SPIRALS['activation_options'])}, activation_mutate_rate 0.1")
    print("ft = Finetune(steps, lr): Adam steps on the whole batched population each generation, weights "
          "written back (spirals: steps 50, lr 0.1; others: steps 20, lr 0.05)")
    t_start = time.perf_counter()
    table = []
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for name, task_name, overrides, finetune, seeds, cap, target, check in rows:
            n = seeds[1] if args.quick else (args.seeds or seeds[0])
            runs = list(pool.map(one_run, [task_name] * n, range(n), [overrides] * n, [finetune] * n, [cap] * n))
            solved = [r for r in runs if r["solved"]]
            evals = [r["evals"] for r in solved]
            stats = {"seeds": n, "solved": len(solved),
                     "mean_evals": statistics.mean(evals) if evals else float("nan")}
            ok = check(stats)
            table.append({
                "row": name, "seeds": n, "solved": f"{len(solved)}/{n}",
                "evals mean": f"{statistics.mean(evals):.0f}" if evals else "-",
                "median": f"{statistics.median(evals):.0f}" if evals else "-",
                "max": f"{max(evals)}" if evals else "-",
                "gens mean": f"{statistics.mean(r['generations'] for r in runs):.1f}",
                "wall s mean": f"{statistics.mean(r['wall'] for r in runs):.2f}",
                "wall s median": f"{statistics.median(r['wall'] for r in runs):.2f}",
                "cpu s mean": f"{statistics.mean(r['cpu'] for r in runs):.2f}",
                "target": target, "met": "-" if ok is None else ("yes" if ok else "NO")})
            per_gen = {k: statistics.mean(r["per_gen"][k] for r in runs) * 1e3 for k in runs[0]["per_gen"]}
            table[-1]["per_gen"] = per_gen
            print(f"  {name}: {table[-1]['solved']} solved, mean evaluations {table[-1]['evals mean']} "
                  f"({time.perf_counter() - t_start:.0f} s so far)", flush=True)
    cols = ["row", "seeds", "solved", "evals mean", "median", "max", "gens mean", "wall s mean", "wall s median",
            "cpu s mean", "met", "target"]
    _print_table(table, cols)
    print("\nper generation, mean over runs (ms): ask = genomes -> Topology objects, compile = mpnet.Network(150 "
          "topologies), finetune = fit + read back, forward = task scoring, tell = select/breed/speciate")
    _print_table([{"row": t["row"], **{k.replace("t_", ""): f"{v:.1f}" for k, v in t["per_gen"].items()}}
                  for t in table], ["row", "ask", "compile", "finetune", "forward", "tell", "generation"])
    print(f"\nbench wall time {time.perf_counter() - t_start:.0f} s; machine load at end "
          f"{os.getloadavg()[0]:.1f}")
    return 0


def _print_table(rows: List[Dict], cols: List[str]) -> None:
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in cols}
    print("\n" + " | ".join(c.ljust(widths[c]) for c in cols))
    print("-|-".join("-" * widths[c] for c in cols))
    for r in rows:
        print(" | ".join(str(r[c]).ljust(widths[c]) for c in cols))


def solve(args) -> int:
    lr = 0.05 if args.lr is None else args.lr
    finetune = search.Finetune(steps=args.finetune, lr=lr) if args.finetune else None
    evaluator = search.RayEvaluator(args.workers, chunk_size=args.chunk_size) if args.evaluator == "ray" else \
        search.LocalEvaluator(chunk_size=args.chunk_size)
    progress = False if args.no_progress else None
    try:
        if args.resume:
            state = search.checkpoint_task(args.resume)
            if state.name != args.task:
                print(f"search.py: error: {args.resume} holds a {state.name!r} run, not {args.task!r}.",
                      file=sys.stderr)
                return 2
            result = search.resume(args.resume, args.generations, evaluator=evaluator, progress=progress,
                                   checkpoint_every=args.checkpoint_every)
            out_dir = args.resume
        else:
            task = search.tasks.make(args.task)
            config = search.NEATConfig.lamarckian() if args.lamarckian else search.NEATConfig()
            settings = {"population": 150 if args.population is None else args.population,
                        "seed": 0 if args.seed is None else args.seed, **_neat_overrides(args.set)}
            algo = search.NEAT(task.n_inputs, task.n_outputs, config, **settings)
            result = search.run(algo, task, args.generations or 100, finetune=finetune, evaluator=evaluator,
                                checkpoint_dir=args.checkpoint_dir, checkpoint_every=args.checkpoint_every,
                                progress=progress)
            out_dir = args.checkpoint_dir
    finally:
        if evaluator is not None:
            evaluator.close()
    task = result.task
    best = result.solution or result.best
    print(task.describe())
    print(f"{'solved' if result.solved else 'not solved'} after {result.generations} generations, "
          f"{result.evaluations} evaluations"
          + (f" ({result.evaluations_to_solve} to solve)" if result.solved else "")
          + f"; best fitness {best.fitness:.4f}; {result.wall:.2f} s")
    print(f"best network: {best.topology!r}")
    if out_dir:
        print(f"written to {out_dir}: checkpoint.json, history.csv, best.json, fitness.png, best.png")
    return 0


# options that only one mode reads: given to the other, they would be ignored, so they are refused
RUN_ONLY = {"--population": "population", "--seed": "seed", "--set": "set", "--lamarckian": "lamarckian",
            "--finetune": "finetune", "--lr": "lr", "--checkpoint-dir": "checkpoint_dir"}
BENCH_ONLY = {"--seeds": "seeds", "--quick": "quick", "--jobs": "jobs", "--only": "only"}
TASK_ONLY = {**RUN_ONLY, "--generations": "generations", "--checkpoint-every": "checkpoint_every",
             "--resume": "resume", "--evaluator": "evaluator", "--workers": "workers", "--chunk-size": "chunk_size"}


def _given(args, options: Dict[str, str]) -> List[str]:
    """The options of ``options`` given on the command line (every default is None, False or [])."""
    return [flag for flag, name in options.items() if getattr(args, name) not in (None, False, [])]


def main(argv: Optional[List[str]] = None) -> int:
    parser = Parser(prog="search.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("task", choices=list(search.tasks.TASKS) + ["bench"])
    parser.add_argument("--generations", type=int_at_least(1), default=None, help="generation cap (default 100)")
    parser.add_argument("--population", type=int_at_least(2), default=None, help="genomes (default 150)")
    parser.add_argument("--seed", type=int, default=None, help="seeds the run (default 0)")
    parser.add_argument("--finetune", type=int_at_least(0), default=None, metavar="STEPS",
                        help="Lamarckian fine-tuning: optimizer steps per generation (default 0: pure NEAT)")
    parser.add_argument("--lr", type=number(0, open_low=True), default=None,
                        help="fine-tuning's Adam learning rate (default 0.05)")
    parser.add_argument("--lamarckian", action="store_true",
                        help="NEATConfig.lamarckian(): structural mutation raised for fine-tuned runs")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a NEATConfig field")
    parser.add_argument("--checkpoint-dir", default=None)
    parser.add_argument("--checkpoint-every", type=int_at_least(1), default=None, help="(default 1)")
    parser.add_argument("--resume", default=None, metavar="DIR",
                        help="continue the run checkpointed in DIR, with the settings saved there")
    parser.add_argument("--evaluator", choices=["local", "ray"], default=None, help="(default local)")
    parser.add_argument("--workers", type=int_at_least(1), default=None, help="Ray workers (with --evaluator ray)")
    parser.add_argument("--chunk-size", type=int_at_least(1), default=None,
                        help=f"topologies per batched network (default {search.evaluate.DEFAULT_CHUNK}); the result "
                             f"depends on it, not on --workers")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--seeds", type=int_at_least(1), default=None, help="bench: seeds per row (default: per row)")
    parser.add_argument("--quick", action="store_true", help="bench: few seeds per row")
    parser.add_argument("--jobs", type=int_at_least(1), default=None, help="bench: worker processes (default 2)")
    parser.add_argument("--only", nargs="+", default=None, choices=sorted({r[1] for r in ROWS}), metavar="TASK",
                        help=f"bench: rows whose task is one of these ({', '.join(sorted({r[1] for r in ROWS}))})")
    args = parser.parse_args(argv)
    if args.task == "bench" and _given(args, TASK_ONLY):
        parser.error(f"{', '.join(_given(args, TASK_ONLY))}: not read by bench (its rows fix their own settings); "
                     f"drop {'it' if len(_given(args, TASK_ONLY)) == 1 else 'them'}")
    if args.task != "bench" and _given(args, BENCH_ONLY):
        parser.error(f"{', '.join(_given(args, BENCH_ONLY))}: only read by bench, not by a {args.task} run")
    if args.resume and _given(args, RUN_ONLY):
        parser.error(f"{', '.join(_given(args, RUN_ONLY))}: a resumed run continues with the settings saved in "
                     f"{args.resume} (NEAT config, seed and random state, fine-tuning, directory); start a new run "
                     f"to change them")
    if args.lr is not None and not args.finetune:
        parser.error("--lr: only read with --finetune STEPS (> 0), the fine-tuning it paces")
    if args.evaluator != "ray" and args.workers is not None:
        parser.error("--workers: only read with --evaluator ray")
    args.jobs = 2 if args.jobs is None else args.jobs
    args.checkpoint_every = 1 if args.checkpoint_every is None else args.checkpoint_every
    args.chunk_size = search.evaluate.DEFAULT_CHUNK if args.chunk_size is None else args.chunk_size
    args.workers = 2 if args.workers is None else args.workers
    args.evaluator = args.evaluator or "local"
    args.finetune = args.finetune or 0
    try:
        overrides = _neat_overrides(args.set)   # checked before anything runs
        search.NEATConfig(**overrides)
    except MpnetError as err:
        parser.error(str(err))
    if args.task == "bench":
        return bench(args)
    torch.set_num_threads(1)
    return solve(args)


if __name__ == "__main__":
    sys.exit(guarded(main, prog="search.py"))
