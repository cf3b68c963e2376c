"""Teacher-student benchmark of sign inference: which of a teacher's edge signs does mpnet.infer_signs recover?

Teachers have known weights: random sparse DAGs (2-4 inputs, 4-9 hidden neurons, 14-30 edges, every neuron on
an input-output path) with relu, tanh or sigmoid hidden neurons whose biases put each neuron's kink (or centre)
at a random quantile (20-80 %) of the data, plus the question network's wiring. Each student starts from the
wiring alone (every weight unknown), learns from 2,000 samples X ~ U(-2, 2) of Y = teacher(X) + noise (noise std
a fraction of Y's std), and we compare its verdicts with the teacher's signs.

Scored are the free edges (fixed signs are given, not inferred):
  precision   fraction of called signs that equal the teacher's
  coverage    called / free edges
  cov. ident. called / teacher-identifiable edges: both ends an input, an output, or a ReLU whose teacher
              pre-activation is positive on 5-95 % of the samples (tanh/sigmoid teachers: edges of flip-
              symmetric neurons are scored on their sign relative to the reference edge instead)
and for tanh/sigmoid the relative sign where called. Both methods run side by side: refit (default) and
ensemble (the old vote).

    python scripts/sign_recovery.py                  # the benchmark (about an hour on a 2-core CPU)
    python scripts/sign_recovery.py --quick          # a few teachers, smaller search (CI smoke test)
    python scripts/sign_recovery.py --calibrate      # refit only, on disjoint seeds: writes the calibration table
    python scripts/sign_recovery.py --rescore DIR    # DIR/edges.csv's refit rows scored with today's table

Writes edges.csv (one row per edge and method) and reliability.png into --out-dir.
"""
import csv
import datetime
import json
import math
import os
import random
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Dict, List, Optional

import torch

import mpnet
from mpnet import Network, Topology, sample
from mpnet.examples import kinks_in_data, question_teacher, unknown_weights
from mpnet.signs import Effort
from mpnet.signs import calibration
from mpnet.graph.vocabulary import ACTIVATIONS

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _args import Parser, comma_list, existing, guarded, int_at_least, number, one_of  # noqa: E402


@dataclass
class Config:
    activations: List[str] = field(default_factory=lambda: ["relu", "tanh", "sigmoid"])
    noises: List[float] = field(default_factory=lambda: [0.01, 0.05])   # noise std / target std
    teachers: int = 4             # random teachers per (activation, noise)
    samples: int = 2000
    methods: List[str] = field(default_factory=lambda: ["refit", "ensemble"])
    quick: bool = False           # Effort.quick() and fewer teachers
    seed: int = 0
    jobs: int = 1
    out_dir: str = "runs/sign_recovery"


# ------------------------------------------------------------------------------------------------ teachers
def random_teacher(activation: str, rng: random.Random, X_of) -> Topology:
    while True:
        n_in, n_hidden, n_edges = rng.randint(2, 4), rng.randint(4, 9), rng.randint(14, 30)
        try:
            topo = sample.random_dag(n_in, 1, n_hidden, avg_in_degree=n_edges / (n_hidden + 1),
                                     seed=rng.randrange(10**6), activation=activation, weights=True)
        except ValueError:
            continue
        lost = topo.unreachable()
        if 14 <= topo.num_edges <= 30 and not lost.unreached and not lost.dead_ends:
            return kinks_in_data(topo, X_of(n_in), seed=rng.randrange(10**6))


def question_teacher_for(activation: str) -> Topology:
    q = question_teacher()
    if activation == "relu":
        return q
    nodes = [replace(n, activation=activation) if n.role == "hidden" else n for n in q.nodes.values()]
    return Topology(nodes, list(q.edges.values()), warn=False)


def identifiable_ends(teacher: Topology, X: torch.Tensor) -> Dict:
    """``{node: bool}``: an input, an output, or a ReLU-like neuron that kinks on 5-95 % of the samples."""
    net = Network(teacher, dtype=torch.float64)
    Z, _ = net.states(X)
    out = {}
    for r, (_, node) in enumerate(net.rows):
        n = teacher.nodes[node]
        if n.role != "hidden":
            out[node] = True
        else:
            frac = float((Z[r] > 0).double().mean())
            out[node] = n.activation == "relu" and 0.05 <= frac <= 0.95
    return out


def gauged(weights: Dict, gauge: Dict) -> Dict:
    """The teacher's weights in the report's gauge: each flip neuron negated where its reference is < 0."""
    out = dict(weights)
    for ref, edges in gauge.values():
        if out[ref] < 0:
            for k in edges:
                out[k] = -out[k]
    return out


def run_teacher(task) -> List[dict]:
    name, activation, noise, teacher, seed, cfg = task
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(seed)
    X = torch.rand(cfg.samples, len(teacher.inputs), generator=gen, dtype=torch.float64) * 4 - 2
    with torch.no_grad():
        Y = Network(teacher, dtype=torch.float64)(X)
    Y = Y + noise * float(Y.std()) * torch.randn(Y.shape, generator=gen, dtype=torch.float64)
    ends = identifiable_ends(teacher, X)
    rows = []
    for method in cfg.methods:
        t0 = time.time()
        if method == "refit":
            report = mpnet.infer_signs(unknown_weights(teacher), X, Y, seed=seed,
                                       effort=Effort.quick() if cfg.quick else None)
        else:
            report = mpnet.infer_signs(unknown_weights(teacher), X.float(), Y.float(), method="ensemble", seed=seed,
                                       ensemble=32 if cfg.quick else 64, epochs=250 if cfg.quick else 400,
                                       lr=0.03, batch_size=128, progress=False)
        seconds = time.time() - t0
        truth_rel = gauged({k: e.weight for k, e in teacher.edges.items()}, report.extra.get("gauge", {}))
        for key, edge in teacher.edges.items():
            r = report[key]
            if r.constraint != "free":
                continue
            symmetric = not r.identifiable and r.relative != ""
            verdict = r.relative if symmetric else r.sign
            truth = ("+" if truth_rel[key] > 0 else "-") if symmetric else ("+" if edge.weight > 0 else "-")
            rows.append(dict(
                method=method, activation=activation, noise=noise, teacher=name, edges=teacher.num_edges,
                src=key[0], dst=key[1], truth=truth, symmetric=symmetric,
                teacher_identifiable=symmetric or (ends[key[0]] and ends[key[1]]),
                verdict=verdict, called=verdict in ("+", "-"), correct=verdict == truth,
                best_sign="+" if r.weight > 0 else "-", confidence=r.confidence, ratio=r.ratio,
                floor_ratio=report.floor_ratio, seconds=seconds, fits=report.fits))
    return rows


def teacher_tasks(cfg: Config, seed: int) -> list:
    rng = random.Random(seed)
    tasks = []
    def X_of(n_in):
        return torch.rand(cfg.samples, n_in, generator=torch.Generator().manual_seed(rng.randrange(10**6)),
                          dtype=torch.float64) * 4 - 2
    for act in cfg.activations:
        for noise in cfg.noises:
            tasks.append((f"question", act, noise, question_teacher_for(act), rng.randrange(10**6), cfg))
            for i in range(cfg.teachers):
                tasks.append((f"dag{i}", act, noise, random_teacher(act, rng, X_of), rng.randrange(10**6), cfg))
    return tasks


# ------------------------------------------------------------------------------------------------ summaries
def summarise(rows: List[dict]) -> dict:
    called = [r for r in rows if r["called"]]
    ident = [r for r in rows if r["teacher_identifiable"]]
    right = sum(r["correct"] for r in called)
    teachers = {(r["teacher"], r["activation"], r["noise"]): (r["seconds"], r["edges"]) for r in rows}
    return dict(edges=len(rows), called=len(called), precision=right / max(len(called), 1),
                wrong=len(called) - right, coverage=len(called) / max(len(rows), 1),
                ident=len(ident), cov_ident=sum(r["called"] for r in ident) / max(len(ident), 1),
                seconds=sum(s for s, _ in teachers.values()) / max(len(teachers), 1),
                sec_per_30=sum(30 * s / e for s, e in teachers.values()) / max(len(teachers), 1))


def print_table(rows: List[dict], cfg: Config) -> None:
    head = (f"{'method':8s} {'activation':10s} {'noise':>5s} {'free':>5s} {'called':>6s} {'precision':>9s} "
            f"{'wrong':>5s} {'coverage':>8s} {'ident.':>6s} {'cov.ident':>9s} {'s/teacher':>9s}")
    print(head)
    print("-" * len(head))
    for method in cfg.methods:
        for act in cfg.activations:
            for noise in cfg.noises:
                cell = [r for r in rows if r["method"] == method and r["activation"] == act and r["noise"] == noise]
                if not cell:
                    continue
                s = summarise(cell)
                print(f"{method:8s} {act:10s} {noise:5.2f} {s['edges']:5d} {s['called']:6d} {s['precision']:9.1%} "
                      f"{s['wrong']:5d} {s['coverage']:8.1%} {s['ident']:6d} {s['cov_ident']:9.1%} "
                      f"{s['seconds']:9.0f}")
    print()
    for method in cfg.methods:
        low = [r for r in rows if r["method"] == method and r["noise"] <= 0.05]
        for act in cfg.activations:
            s = summarise([r for r in low if r["activation"] == act])
            if s["edges"]:
                print(f"{method:8s} {act:8s} noise <= 5 %: precision {s['precision']:.1%} ({s['wrong']} wrong of "
                      f"{s['called']}), coverage {s['coverage']:.1%} of free edges, {s['cov_ident']:.1%} of "
                      f"{s['ident']} teacher-identifiable; {s['sec_per_30']:.0f} s per 30 edges")


def plot_reliability(rows: List[dict], path: str) -> None:
    """Confidence against fraction right per method (mpnet.viz.reliability); an edge is right when its called
    sign, or uncalled its best fit's sign, is the teacher's; edges of confidence 0 are left out."""
    from mpnet.viz.reliability import plot_reliability as plot
    methods = list(dict.fromkeys(r["method"] for r in rows))
    plot({m: [(r["confidence"], (r["verdict"] if r["called"] else r["best_sign"]) == r["truth"]) for r in rows
              if r["method"] == m and r["confidence"] > 0] for m in methods}, path)


def calibrate(rows: List[dict], argv: List[str]) -> None:
    # where files went, or came from, is not part of how the table was made
    argv = [a for i, a in enumerate(argv)
            if a not in ("--out-dir", "--from") and (i == 0 or argv[i - 1] not in ("--out-dir", "--from"))]
    samples = [(r["ratio"], r["floor_ratio"], r["best_sign"] == r["truth"]) for r in rows
               if r["method"] == "refit" and r["ratio"] == r["ratio"]]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    table = calibration.fit_table(samples, command="python scripts/sign_recovery.py " + " ".join(argv),
                                  commit=commit, date=datetime.date.today().isoformat(),
                                  teachers=len({(r["teacher"], r["activation"], r["noise"]) for r in rows}),
                                  samples=len(samples))
    with open(calibration.TABLE_PATH, "w") as f:
        json.dump(table, f, indent=1)
    print(f"wrote {calibration.TABLE_PATH} from {len(samples)} tested edges")
    for q, conf in table["confidence"].items():
        counts = table["counts"][q]
        print(f"  {q:6s}: " + "  ".join(f"[{calibration.EDGES[i]:g},{calibration.EDGES[i + 1]:g}) {c:.3f} "
                                       f"({n[1]}/{n[0]})" for i, (c, n) in enumerate(zip(conf, counts))))


def write_rows(rows: List[dict], out_dir: str) -> None:
    with open(os.path.join(out_dir, "edges.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


_BOOLS = {"symmetric", "teacher_identifiable", "called", "correct"}
_FLOATS = {"noise", "confidence", "ratio", "floor_ratio", "seconds"}
_INTS = {"edges", "fits"}


def read_rows(path: str) -> List[dict]:
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        for k in r:
            r[k] = (r[k] == "True" if k in _BOOLS else float(r[k]) if k in _FLOATS else
                    int(r[k]) if k in _INTS else r[k])
    return rows


def rescore(rows: List[dict], threshold: float) -> List[dict]:
    """Refit rows re-scored with the calibration table on disk: a tested edge (confidence > 0 when it ran)
    gets the table's confidence for its ratio and fit quality, and is called when that reaches ``threshold``
    (the verdict is the best fit's sign, as in infer_signs)."""
    table = calibration.load_table()
    out = []
    for r in rows:
        r = dict(r)
        if r["method"] == "refit" and r["confidence"] > 0:
            r["confidence"] = calibration.confidence(r["ratio"], r["floor_ratio"], table)
            r["called"] = r["confidence"] >= threshold
            r["verdict"] = r["best_sign"] if r["called"] else "?"
            r["correct"] = r["verdict"] == r["truth"]
        out.append(r)
    return out


def main(argv: Optional[List[str]] = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    parser = Parser(prog="sign_recovery.py", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one teacher per cell, Effort.quick(), 1 %% noise")
    parser.add_argument("--calibrate", action="store_true", help="refit only, seeds disjoint from the benchmark's; "
                                                                 "writes mpnet/signs/calibration.json")
    parser.add_argument("--teachers", type=int_at_least(1, 10_000), help="random teachers per (activation, noise)")
    parser.add_argument("--activations", type=comma_list(one_of(ACTIVATIONS)),
                        help="comma-separated (default relu,tanh,sigmoid)")
    parser.add_argument("--methods", type=comma_list(one_of(["refit", "ensemble"])),
                        help="comma-separated (default refit,ensemble)")
    parser.add_argument("--noises", type=comma_list(number(0, 10)),
                        help="comma-separated noise levels (fractions of the target's std)")
    parser.add_argument("--jobs", type=int_at_least(1, 1024), default=1, help="teachers run in parallel processes")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out-dir", default=Config.out_dir)
    parser.add_argument("--from", dest="from_dir", metavar="DIR", type=existing("dir"),
                        help="with --calibrate: no runs, the table from DIR/edges.csv (a finished --calibrate run)")
    parser.add_argument("--rescore", metavar="DIR", type=existing("dir"),
                        help="no runs: score DIR/edges.csv with the current table")
    parser.add_argument("--threshold", type=number(0, 1), default=None,
                        help="confidence a call needs (with --rescore; default 0.95)")
    args = parser.parse_args(argv)
    runs = [f for f, on in (("--quick", args.quick), ("--teachers", args.teachers), ("--activations", args.activations),
                            ("--methods", args.methods), ("--noises", args.noises), ("--jobs", args.jobs != 1),
                            ("--seed", args.seed != 0), ("--out-dir", args.out_dir != Config.out_dir)) if on]
    if args.from_dir and not args.calibrate:
        parser.error("--from: only read with --calibrate")
    if args.threshold is not None and not args.rescore:
        parser.error("--threshold: only read with --rescore")
    if (args.rescore or args.from_dir) and (runs or (args.rescore and (args.calibrate or args.from_dir))):
        parser.error(f"{'--rescore' if args.rescore else '--from'} runs nothing, so "
                     f"{', '.join(runs) or '--calibrate/--from'} would be ignored; drop them")
    for flag, folder in (("--from", args.from_dir), ("--rescore", args.rescore)):
        if folder and not os.path.isfile(os.path.join(folder, "edges.csv")):
            parser.error(f"argument {flag}: {folder!r} holds no edges.csv (the rows a finished run writes)")
    if os.path.isfile(args.out_dir):
        parser.error(f"argument --out-dir: {args.out_dir!r} is a file, not a directory")
    if args.calibrate and args.from_dir:
        calibrate(read_rows(os.path.join(args.from_dir, "edges.csv")), argv)
        return
    if args.rescore:
        rows = rescore(read_rows(os.path.join(args.rescore, "edges.csv")), 0.95 if args.threshold is None
                       else args.threshold)
        seen = lambda k: list(dict.fromkeys(r[k] for r in rows))
        print_table(rows, Config(activations=seen("activation"), noises=seen("noise"), methods=seen("method")))
        plot_reliability(rows, os.path.join(args.rescore, "reliability.png"))
        print(f"wrote {args.rescore}/reliability.png")
        return
    cfg = Config(seed=args.seed, jobs=args.jobs, out_dir=args.out_dir, quick=args.quick)
    if args.quick:
        cfg.teachers, cfg.noises, cfg.activations = 1, [0.01], ["relu", "tanh"]
    if args.calibrate:
        cfg.methods, cfg.teachers, cfg.seed = ["refit"], 6, cfg.seed + 1000   # disjoint from the benchmark's
        cfg.noises = [0.0, 0.01, 0.05, 0.1]
    if args.teachers is not None:
        cfg.teachers = args.teachers
    if args.activations:
        cfg.activations = args.activations
    if args.methods:
        cfg.methods = args.methods
    if args.noises:
        cfg.noises = args.noises
    torch.set_num_threads(1)
    os.makedirs(cfg.out_dir, exist_ok=True)
    print(f"sign recovery: {cfg}", flush=True)
    tasks = teacher_tasks(cfg, cfg.seed)
    start = time.time()
    rows: List[dict] = []
    with ProcessPoolExecutor(max_workers=cfg.jobs) as pool:
        for i, result in enumerate(pool.map(run_teacher, tasks)):
            rows += result
            write_rows(rows, cfg.out_dir)    # after every teacher: a long run interrupted keeps what it has
            name, act, noise = tasks[i][:3]
            for method in cfg.methods:
                s = summarise([r for r in result if r["method"] == method])
                print(f"  [{time.time() - start:5.0f}s] {act:7s} noise {noise:.2f} {name:8s} {method:8s}: "
                      f"{s['called']:2d} of {s['edges']:2d} called, {s['wrong']} wrong, "
                      f"{s['cov_ident']:.0%} of identifiable; {s['seconds']:.0f}s", flush=True)
    print()
    print_table(rows, cfg)
    if args.calibrate:
        calibrate(rows, argv)
    else:
        plot_reliability(rows, os.path.join(cfg.out_dir, "reliability.png"))
    print(f"wrote {cfg.out_dir}/edges.csv in {time.time() - start:.0f}s")


if __name__ == "__main__":
    sys.exit(guarded(main, prog="sign_recovery.py"))
