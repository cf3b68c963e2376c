#!/usr/bin/env python
"""Evaluations to solve XOR and pole-nv, NEAT bred on objects and on arrays, seed by seed (issue 23 item 4).

    python scripts/bench/breeding.py run xor objects 0-9 runs.jsonl      # one line of JSON per seed, appended
    python scripts/bench/breeding.py run pole-nv arrays 0-9 runs.jsonl
    python scripts/bench/breeding.py summary runs.jsonl [more.jsonl]    # median, quartiles, rank-sum test

Settings are those of ``scripts/search.py bench``: XOR with NEAT's defaults (population 150, cap 300
generations); pole-nv with population 1,000 and ``feed_forward=False`` (cap 150). One torch thread; a seed's
line carries its CPU seconds. Several ``run`` processes may append to one file (one line per write). A run is
deterministic per seed: ``summary`` counts a seed run twice once, and names it if its two lines disagree.
"""
import argparse
import json
import os
import statistics
import sys
import time
from typing import Dict, List, Optional, Sequence

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))   # scripts/: the argument types
from _args import Parser, existing, fail, guarded, one_of, writable_file  # noqa: E402

SETTINGS = {"xor": ({}, 300), "pole-nv": ({"population": 1000, "feed_forward": False}, 150)}


def seeds(text: str) -> List[int]:
    """An argparse type: ``"0-9"`` or ``"3,5,7"`` as a list of non-negative ints."""
    try:
        if "-" in text:
            low, high = text.split("-")
            out = list(range(int(low), int(high) + 1))
        else:
            out = [int(s) for s in text.split(",")]
    except ValueError:
        out = []
    if not out or min(out) < 0:
        raise argparse.ArgumentTypeError(f"expected seeds as LOW-HIGH or a comma list of ints >= 0 (got {text!r})")
    return out


def run(task_name: str, breeding: str, which: List[int], out: str) -> None:
    import torch
    torch.set_num_threads(1)
    from mpnet import search
    overrides, cap = SETTINGS[task_name]
    for seed in which:
        task = search.tasks.make(task_name)
        algo = search.NEAT(task.n_inputs, task.n_outputs, seed=seed, breeding=breeding, **overrides)
        c0 = time.process_time()
        result = search.run(algo, task, generations=cap, progress=False)
        line = {"task": task_name, "breeding": breeding, "seed": seed, "solved": result.solved,
                "evals": result.evaluations_to_solve, "generations": result.generations,
                "cpu": time.process_time() - c0}
        with open(out, "a") as f:
            f.write(json.dumps(line) + "\n")
        print(line, flush=True)


def summary(paths: Sequence[str]) -> None:
    rows = [json.loads(line) for path in paths for line in open(path)]
    once: Dict[tuple, dict] = {}
    for r in rows:
        key = (r["task"], r["breeding"], r["seed"])
        if key in once and (once[key]["solved"], once[key]["evals"]) != (r["solved"], r["evals"]):
            print(f"{r['task']} {r['breeding']} seed {r['seed']}: two runs disagree ({once[key]['evals']} and "
                  f"{r['evals']} evaluations); the first is counted")
        once.setdefault(key, r)
    groups: Dict[tuple, List[dict]] = {}
    for r in once.values():
        groups.setdefault((r["task"], r["breeding"]), []).append(r)
    for task in sorted({t for t, _ in groups}):
        evals = {}
        for breeding in ("objects", "arrays"):
            runs = sorted(groups.get((task, breeding), []), key=lambda r: r["seed"])
            if not runs:
                continue
            solved = [r["evals"] for r in runs if r["solved"]]
            evals[breeding] = solved
            q = statistics.quantiles(solved, n=4) if len(solved) > 1 else [float("nan")] * 3
            print(f"{task:8} {breeding:8} seeds {len(runs):3} ({runs[0]['seed']}..{runs[-1]['seed']})  solved "
                  f"{len(solved):3}  evaluations to solve: median {statistics.median(solved):8.0f}  IQR "
                  f"{q[0]:.0f}-{q[2]:.0f}  mean {statistics.mean(solved):8.0f}  CPU s per run "
                  f"{statistics.mean(r['cpu'] for r in runs):.1f}" if solved else f"{task} {breeding}: none solved")
        if len(evals) == 2 and min(map(len, evals.values())) > 1:
            from scipy.stats import mannwhitneyu
            p = mannwhitneyu(evals["objects"], evals["arrays"]).pvalue
            print(f"{task:8} rank-sum test, objects against arrays: p = {p:.2f} (p < 0.05 would say they differ)")
        if len(evals) == 2:
            from scipy.stats import fisher_exact
            runs = {b: len(groups[(task, b)]) for b in evals}
            table = [[len(evals[b]), runs[b] - len(evals[b])] for b in ("objects", "arrays")]
            p = fisher_exact(table).pvalue
            print(f"{task:8} solved: objects {table[0][0]}/{runs['objects']}, arrays {table[1][0]}/{runs['arrays']}; "
                  f"Fisher's exact test p = {p:.2f} (p < 0.05 would say they differ)")
            by_seed = {b: {r["seed"]: r for r in groups[(task, b)]} for b in evals}
            both = sorted(set(by_seed["objects"]) & set(by_seed["arrays"]))
            cell = {b: [f"{by_seed[b][s]['evals']}" if by_seed[b][s]["solved"] else "-" for s in both] for b in evals}
            print(f"{task:8} the {len(both)} seeds both ran, objects / arrays evaluations ('-': unsolved): "
                  + "  ".join(f"{s}: {o}/{a}" for s, o, a in zip(both, cell["objects"], cell["arrays"])))


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = Parser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run_p = commands.add_parser("run", help="run seeds and append one line of JSON per seed")
    run_p.add_argument("task", type=one_of(sorted(SETTINGS)))
    run_p.add_argument("breeding", type=one_of(["objects", "arrays"]))
    run_p.add_argument("seeds", type=seeds, help="LOW-HIGH or a comma list")
    run_p.add_argument("out", type=writable_file([".jsonl"]))
    sum_p = commands.add_parser("summary", help="median, quartiles and a rank-sum test per task")
    sum_p.add_argument("runs", type=existing("file"), nargs="+", help="files of run lines (seeds run twice count once)")
    args = parser.parse_args(argv)
    if args.command == "run":
        run(args.task, args.breeding, args.seeds, args.out)
    else:
        try:
            summary(args.runs)
        except (ValueError, KeyError) as err:
            fail(f"{' '.join(args.runs)}: not files of run lines ({err})")


if __name__ == "__main__":
    sys.exit(guarded(main))
