"""Teacher-student benchmark of sign inference: which of a teacher's edge signs does mpnet.infer_signs recover,
from input-output data alone and with a few measurements more?

Teachers have known weights: random sparse DAGs (2-4 inputs, 4-9 hidden neurons, 14-30 edges, every neuron on
an input-output path) with relu (tanh, sigmoid) hidden neurons whose biases put each neuron's kink (or centre)
at a random quantile (20-80 %) of the data, plus the question network's wiring. Each student starts from the
wiring alone (every weight unknown), learns from 2,000 samples X ~ U(-2, 2) of Y = teacher(X) + noise (noise std
a fraction of Y's std), and we compare its verdicts with the teacher's signs, per effort (quick, default) and
condition (scripts/_sign_runs.py): passive data; + the design's k recordings; + k random recordings; + the
design's probe points. Each report is checked by mpnet.signs.verify in float64.

Printed per cell, over the free edges (fixed signs are given, not inferred): precision of the called signs with
its 95 % Wilson interval (edges counted as independent), the fractions called, shown ambiguous (a confirmed
"the opposite sign fits as well") and undecided (neither), the edges a measurement decided that the passive run
left open, the median CPU seconds per teacher (one thread); then designed / random and the targets of issue 19
(scripts/_sign_table.py). For a flip-symmetric neuron (tanh, sigmoid) the relative sign is scored.

    python scripts/sign_recovery.py                  # the benchmark (hours on a 2-core CPU: see docs/signs.md)
    python scripts/sign_recovery.py --quick          # the question's wiring, Effort.quick(), 500 samples (CI)
    python scripts/sign_recovery.py --calibrate      # refit only, on disjoint seeds: writes the calibration table
    python scripts/sign_recovery.py --rescore DIR    # DIR/edges.csv's refit rows scored with today's table
    python scripts/sign_recovery.py --table DIR      # DIR/edges.csv's table again, nothing run

Writes edges.csv (one row per edge, method, effort and condition) and reliability.png into --out-dir.
"""
import csv
import datetime
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import List, Optional

import torch

from mpnet.signs import calibration
from mpnet.graph.vocabulary import ACTIVATIONS

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _args import Parser, comma_list, existing, guarded, int_at_least, number, one_of  # noqa: E402
from _sign_runs import CONDITIONS, EFFORTS, run_teacher, teacher_tasks  # noqa: E402
from _sign_table import report, summarise  # noqa: E402


@dataclass
class Config:
    activations: List[str] = field(default_factory=lambda: ["relu"])
    noises: List[float] = field(default_factory=lambda: [0.01])       # noise std / target std
    teachers: int = 10            # random teachers per (activation, noise), beside the question's wiring
    question: bool = True         # the question's wiring among the teachers
    samples: int = 2000
    methods: List[str] = field(default_factory=lambda: ["refit"])
    efforts: List[str] = field(default_factory=lambda: ["quick", "default"])
    conditions: List[str] = field(default_factory=lambda: list(CONDITIONS))
    budget: int = 2               # k: recordings per recording condition (and probe suggestions asked for)
    quick: bool = False           # the smoke test: fewer teachers, Effort.quick()
    seed: int = 0
    jobs: int = 1
    out_dir: str = "runs/sign_recovery"


def plot_reliability(rows: List[dict], path: str) -> None:
    """Confidence against fraction right per method (and effort and condition, where the rows have them:
    mpnet.viz.reliability); an edge is right when its called sign, or uncalled its best fit's sign, is the
    teacher's; edges of confidence 0 are left out."""
    from mpnet.viz.reliability import plot_reliability as plot
    label = lambda r: ", ".join([r["method"]] + [r[k] for k in ("effort", "condition") if r.get(k, "-") != "-"])
    curves: dict = {}
    for r in rows:
        if r["confidence"] > 0:
            curves.setdefault(label(r), []).append(
                (r["confidence"], (r["verdict"] if r["called"] else r["best_sign"]) == r["truth"]))
    plot(curves, path)


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


_BOOLS = {"symmetric", "teacher_identifiable", "called", "correct", "ambiguous", "decided"}
_FLOATS = {"noise", "confidence", "ratio", "floor_ratio", "seconds"}
_INTS = {"edges", "fits", "measurements"}


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
    parser.add_argument("--quick", action="store_true", help="the smoke test: the question's wiring per activation "
                        "(relu,tanh), Effort.quick(), 500 samples, 1 %% noise, every condition (--teachers adds DAGs)")
    parser.add_argument("--calibrate", action="store_true", help="refit only, seeds disjoint from the benchmark's; "
                                                                 "writes mpnet/signs/calibration.json")
    parser.add_argument("--teachers", type=int_at_least(1, 10_000),
                        help="random teachers per (activation, noise) (default 10), beside the question's wiring")
    parser.add_argument("--no-question", action="store_true", help="leave the question's wiring out")
    parser.add_argument("--activations", type=comma_list(one_of(ACTIVATIONS)), help="comma-separated (default relu)")
    parser.add_argument("--methods", type=comma_list(one_of(["refit", "ensemble"])),
                        help="comma-separated (default refit; the ensemble vote runs on passive data only)")
    parser.add_argument("--efforts", type=comma_list(one_of(list(EFFORTS))),
                        help="comma-separated (default quick,default; --quick: quick)")
    parser.add_argument("--conditions", type=comma_list(one_of(list(CONDITIONS))),
                        help=f"comma-separated (default {','.join(CONDITIONS)}; passive always runs)")
    parser.add_argument("--budget", type=int_at_least(1, 100), default=2,
                        help="k: neurons recorded per recording condition, probe suggestions asked for (default 2)")
    parser.add_argument("--noises", type=comma_list(number(0, 10)),
                        help="comma-separated noise levels (fractions of the target's std; default 0.01)")
    parser.add_argument("--jobs", type=int_at_least(1, 1024), default=1, help="teachers run in parallel processes")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out-dir", default=Config.out_dir)
    parser.add_argument("--from", dest="from_dir", metavar="DIR", type=existing("dir"),
                        help="with --calibrate: no runs, the table from DIR/edges.csv (a finished --calibrate run)")
    parser.add_argument("--rescore", metavar="DIR", type=existing("dir"),
                        help="no runs: score DIR/edges.csv with the current table")
    parser.add_argument("--table", metavar="DIR", type=existing("dir"),
                        help="no runs: print the table of DIR/edges.csv (a run, finished or not) as it was scored")
    parser.add_argument("--threshold", type=number(0, 1), default=None,
                        help="confidence a call needs (with --rescore; default 0.95)")
    args = parser.parse_args(argv)
    runs = [f for f, on in (("--quick", args.quick), ("--teachers", args.teachers), ("--activations", args.activations),
                            ("--methods", args.methods), ("--noises", args.noises), ("--jobs", args.jobs != 1),
                            ("--efforts", args.efforts), ("--conditions", args.conditions),
                            ("--budget", args.budget != 2), ("--no-question", args.no_question),
                            ("--seed", args.seed != 0), ("--out-dir", args.out_dir != Config.out_dir)) if on]
    if args.from_dir and not args.calibrate:
        parser.error("--from: only read with --calibrate")
    if args.threshold is not None and not args.rescore:
        parser.error("--threshold: only read with --rescore")
    reads = [f for f, d in (("--rescore", args.rescore), ("--table", args.table), ("--from", args.from_dir)) if d]
    if len(reads) > 1 or (reads and (runs or (reads[0] != "--from" and args.calibrate))):
        parser.error(f"{reads[0]} runs nothing, so {', '.join(runs + reads[1:]) or '--calibrate'} would be "
                     f"ignored; drop them")
    for flag, folder in (("--from", args.from_dir), ("--rescore", args.rescore), ("--table", args.table)):
        if folder and not os.path.isfile(os.path.join(folder, "edges.csv")):
            parser.error(f"argument {flag}: {folder!r} holds no edges.csv (the rows a finished run writes)")
    if os.path.isfile(args.out_dir):
        parser.error(f"argument --out-dir: {args.out_dir!r} is a file, not a directory")
    if args.calibrate and args.from_dir:
        calibrate(read_rows(os.path.join(args.from_dir, "edges.csv")), argv)
        return
    if args.table:
        print(report(read_rows(os.path.join(args.table, "edges.csv"))))
        return
    if args.rescore:
        rows = rescore(read_rows(os.path.join(args.rescore, "edges.csv")), 0.95 if args.threshold is None
                       else args.threshold)
        print(report(rows))
        plot_reliability(rows, os.path.join(args.rescore, "reliability.png"))
        print(f"wrote {args.rescore}/reliability.png")
        return
    cfg = Config(seed=args.seed, jobs=args.jobs, out_dir=args.out_dir, quick=args.quick, budget=args.budget,
                 question=not args.no_question)
    if args.quick:   # every condition's path at a smoke test's cost: the question's 10 edges, 500 samples
        cfg.teachers, cfg.activations, cfg.efforts, cfg.samples = 0, ["relu", "tanh"], ["quick"], 500
    if args.calibrate:   # seeds disjoint from the benchmark's; passive data at one effort unless asked otherwise
        cfg.methods, cfg.teachers, cfg.seed = ["refit"], 6, cfg.seed + 1000
        cfg.noises, cfg.conditions, cfg.samples = [0.0, 0.01, 0.05, 0.1], ["passive"], 2000
        cfg.efforts = ["quick"] if args.quick else ["default"]
    for name in ("teachers", "activations", "methods", "noises", "efforts", "conditions"):
        if getattr(args, name) is not None:
            setattr(cfg, name, getattr(args, name))
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
            done = list(dict.fromkeys((r["method"], r["effort"], r["condition"]) for r in result))
            for method, effort, condition in done:
                s = summarise([r for r in result if (r["method"], r["effort"], r["condition"]) ==
                               (method, effort, condition)])
                print(f"  [{time.time() - start:5.0f}s] {act:7s} noise {noise:.2f} {name:8s} {method:8s} "
                      f"{effort:7s} {condition:8s}: {s['called']:2d} of {s['edges']:2d} called, {s['wrong']} wrong, "
                      f"{s['ambiguous_frac']:.0%} ambiguous, {s['decided']} decided; {s['seconds']:.0f} CPU s",
                      flush=True)
    print()
    print(report(rows))
    if args.calibrate:
        calibrate(rows, argv)
    else:
        plot_reliability(rows, os.path.join(cfg.out_dir, "reliability.png"))
    print(f"wrote {cfg.out_dir}/edges.csv in {time.time() - start:.0f} s (wall clock)")

if __name__ == "__main__":
    sys.exit(guarded(main, prog="sign_recovery.py"))
