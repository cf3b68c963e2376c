"""The sign test's confidence, measured per effort level on random ReLU teachers kept apart from the benchmark's
(issue 19, item 5), and its speed at the default effort (item 6).

Teachers: random sparse ReLU DAGs as in scripts/sign_recovery.py (2-4 inputs, 4-9 hidden neurons, 14-30 edges,
kinks inside the data), 2,000 samples, 1 % noise, drawn from their own seed (default 7919); the script refuses
to run if any teacher seed or data seed equals one of the benchmark's (scripts/sign_recovery.py's default run,
or its own --calibrate run). Conditions per teacher and effort: passive data, and the same data with ``--budget``
hidden neurons recorded at random (scripts/_sign_runs.py's "random" condition).

    python scripts/calibrate_signs.py --jobs 2                   # writes mpnet/signs/calibration.json
    python scripts/calibrate_signs.py --from DIR                 # the table again from DIR/edges.csv
    python scripts/calibrate_signs.py --speed --teachers 6       # CPU seconds, calls and precision per teacher

Every tested edge gives ``(ratio, best fit's loss over the noise floor, best fit's sign right)``; per effort,
calibration.fit_table bins them and stores, per bin, the measured fraction right (Laplace-smoothed, pooled with
the bins below) and the bin's count; a bin with fewer than calibration.MIN_EDGES edges says so, and its
confidence falls back to the nearest supported bin below it. Seconds are CPU seconds of one thread.
"""
import csv
import datetime
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from types import SimpleNamespace
from typing import Any, Dict, List

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _args import Parser, comma_list, existing, fail, guarded, int_at_least, one_of  # noqa: E402
from _sign_runs import EFFORTS, run_teacher, teacher_tasks  # noqa: E402

from mpnet.signs import calibration  # noqa: E402

BENCHMARK_SEEDS = (0, 1000)      # scripts/sign_recovery.py: its benchmark's seed, and its --calibrate run's


def _config(teachers: int, efforts: List[str], conditions: List[str], budget: int, jobs: int = 1) -> SimpleNamespace:
    return SimpleNamespace(activations=["relu"], noises=[0.01], teachers=teachers, question=False, samples=2000,
                           methods=["refit"], efforts=efforts, conditions=conditions, budget=budget, quick=False,
                           jobs=jobs)


def tasks_for(seed: int, teachers: int, efforts: List[str], conditions: List[str], budget: int, jobs: int = 1
              ) -> list:
    """The teachers, after checking that none shares a seed with the benchmark's (teacher or data)."""
    cfg = _config(teachers, efforts, conditions, budget, jobs)
    tasks = teacher_tasks(cfg, seed)
    for other in BENCHMARK_SEEDS:
        theirs = teacher_tasks(_config(10, ["default"], ["passive"], 2), other)
        shared = {t[4] for t in tasks} & {t[4] for t in theirs}
        if seed == other or shared:
            fail(f"--seed {seed} shares teacher seeds {sorted(shared)} with the benchmark's seed {other}; choose "
                 f"another", "calibrate_signs.py")
    return tasks


def write_table(rows: List[dict], command: str, path: str = calibration.TABLE_PATH) -> None:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    tables: Dict[str, Any] = {}
    for effort in sorted({r["effort"] for r in rows}):
        mine = [r for r in rows if r["effort"] == effort and r["ratio"] == r["ratio"]]
        samples = [(r["ratio"], r["floor_ratio"], r["best_sign"] == r["truth"]) for r in mine]
        tables[effort] = calibration.fit_table(samples, teachers=len({r["teacher"] for r in mine}),
                                               samples=len(samples),
                                               conditions=sorted({r["condition"] for r in mine}))
    out = {"efforts": tables, "command": command, "commit": commit, "date": datetime.date.today().isoformat()}
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
    print(f"wrote {path}")
    for effort, table in tables.items():
        print(f"{effort}: {table['samples']} tested edges on {table['teachers']} teachers")
        for q, conf in table["confidence"].items():
            counts = table["counts"][q]
            print(f"  {q:6s}: " + "  ".join(
                f"[{calibration.EDGES[i]:g},{calibration.EDGES[i + 1]:g}) {c:.3f} ({n[1]}/{n[0]}"
                f"{'' if n[0] >= calibration.MIN_EDGES else ', too few'})"
                for i, (c, n) in enumerate(zip(conf, counts))))


def contradictions(rows: List[dict]) -> None:
    """Item 5's rule, checked on the run: a sign called at quick effort that the default effort's search, on the
    same teacher and data, shows ambiguous (a witness as good) or calls the other way."""
    def key(r: dict) -> tuple:
        return r["teacher"], r["condition"], r["src"], r["dst"]
    default = {key(r): r for r in rows if r["effort"] == "default"}
    quick = [r for r in rows if r["effort"] == "quick" and str(r["called"]) == "True" and key(r) in default]
    if not quick:
        return
    against = [r for r in quick if str(default[key(r)]["ambiguous"]) == "True"
               or (str(default[key(r)]["called"]) == "True" and default[key(r)]["verdict"] != r["verdict"])]
    print(f"quick calls contradicted at the default effort (a witness as good, or the other sign called): "
          f"{len(against)} of {len(quick)}" + "".join(
              f"\n  {r['teacher']} {r['condition']} {r['src']}->{r['dst']}: quick {r['verdict']} "
              f"(ratio {float(r['ratio']):.3g}), default {default[key(r)]['verdict']} "
              f"(ratio {float(default[key(r)]['ratio']):.3g})" for r in against))


def speed_table(rows: List[dict]) -> None:
    print(f"{'teacher':8s} {'edges':>5s} {'free':>4s} {'called':>6s} {'wrong':>5s} {'cpu s':>7s}")
    secs = []
    for name in sorted({r["teacher"] for r in rows}, key=lambda n: int(n[3:])):
        mine = [r for r in rows if r["teacher"] == name and r["condition"] == "passive"]
        called = [r for r in mine if r["called"]]
        wrong = [r for r in called if not r["correct"]]
        secs.append(mine[0]["seconds"])
        print(f"{name:8s} {mine[0]['edges']:5d} {len(mine):4d} {len(called):6d} {len(wrong):5d} {secs[-1]:7.1f}")
    called = sum(r["called"] for r in rows)
    right = sum(r["called"] and r["correct"] for r in rows)
    print(f"median {statistics.median(secs):.1f} CPU s per teacher (one thread); {called} called, {right} right "
          f"(precision {right / max(called, 1):.3f})")


def main(argv: List[str]) -> int:
    parser = Parser(prog="calibrate_signs.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--teachers", type=int_at_least(1), default=12)
    parser.add_argument("--seed", type=int_at_least(0), default=7919)
    parser.add_argument("--efforts", type=comma_list(one_of(list(EFFORTS))), default=["quick", "default"])
    parser.add_argument("--budget", type=int_at_least(1), default=2, help="neurons recorded at random")
    parser.add_argument("--speed", action="store_true", help="default effort, passive data: seconds and calls")
    parser.add_argument("--jobs", type=int_at_least(1, 16), default=1)
    parser.add_argument("--out-dir", default="runs/calibrate_signs")
    parser.add_argument("--from", dest="from_dir", type=existing("dir"), help="the table from DIR/edges.csv")
    parser.add_argument("--table", default=calibration.TABLE_PATH,
                        help="where the table goes (default: the one mpnet reads, %(default)s)")
    args = parser.parse_args(argv)
    if not os.path.isdir(os.path.dirname(os.path.abspath(args.table))):   # checked now, not after an hour's run
        fail(f"--table {args.table}: its folder does not exist; create it or name another path", "calibrate_signs.py")
    where = ("--out-dir", "--from", "--jobs", "--table")    # options that change where it runs, not what it measures
    command = "python scripts/calibrate_signs.py " + " ".join(
        a for i, a in enumerate(argv) if a not in where and (i == 0 or argv[i - 1] not in where))
    if args.from_dir:
        with open(os.path.join(args.from_dir, "edges.csv"), newline="") as f:
            rows: List[dict] = list(csv.DictReader(f))
        for r in rows:
            r["ratio"], r["floor_ratio"] = float(r["ratio"]), float(r["floor_ratio"])
        write_table(rows, command, args.table)
        contradictions(rows)
        return 0
    efforts, conditions = (["default"], ["passive"]) if args.speed else (args.efforts, ["passive", "random"])
    tasks = tasks_for(args.seed, args.teachers, efforts, conditions, args.budget, args.jobs)
    t0 = time.time()
    os.makedirs(args.out_dir, exist_ok=True)
    rows: List[dict] = []
    with ProcessPoolExecutor(args.jobs) as pool, open(os.path.join(args.out_dir, "edges.csv"), "w", newline="") as f:
        writer = None
        for part in pool.map(run_teacher, tasks):   # each teacher's rows written as it ends: a stopped run keeps them
            if writer is None:
                writer = csv.DictWriter(f, fieldnames=list(part[0]))
                writer.writeheader()
            writer.writerows(part)
            f.flush()
            rows.extend(part)
    print(f"{len(tasks)} teachers in {time.time() - t0:.0f} s wall; rows in {args.out_dir}/edges.csv")
    if args.speed:
        speed_table(rows)
    else:
        write_table(rows, command, args.table)
        contradictions(rows)
    return 0


if __name__ == "__main__":
    sys.exit(guarded(main, sys.argv[1:]))
