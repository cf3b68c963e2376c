#!/usr/bin/env python
"""Regenerate every picture the README and docs/ show, and check the committed ones for drift.

    python scripts/pictures.py                       # every picture into docs/pictures (minutes: reruns inference)
    python scripts/pictures.py --out-dir /tmp/pics
    python scripts/pictures.py --from-data           # draw from the committed data in docs/pictures/data (seconds)
    python scripts/pictures.py --check --from-data   # redraw into a temporary directory, compare: the quick check
    python scripts/pictures.py --check               # the same with every computation rerun (minutes)
    python scripts/pictures.py --benchmark DIR       # sign_reliability.png's data from a sign-recovery run's DIR

picture                  data (docs/pictures/data/)  what makes it
question_network.png     -                           mpnet.examples.question_network()
question_signs.png       question_signs.csv          mpnet.infer_signs on its wiring, the embedded task, seed 0
random_dag.png           -                           mpnet.sample.random_dag(4 inputs, 2 outputs, 40 hidden, seed 1)
xor_best.png             -                           a NEAT search on XOR, seed 0 (scripts/search.py's run)
xor_fitness.png          -                           the same search's fitness over generations
connectome_signs.png     connectome_signs.csv        scripts/connectome_signs.py's default run (Config())
atlas_synapse_signs.png  atlas_synapse_signs.csv     scripts/connectome_synapse_signs.py's default run (drawn from
                                                     its rows even without --from-data: ~10 CPU minutes to redo)
sign_reliability.png     sign_recovery_edges.csv     python scripts/sign_recovery.py --quick --teachers 3 (about
                                                     half an hour; never rerun here: give its directory with
                                                     --benchmark), rescored with today's calibration table

A picture computed from data (a sign report, a connectome run, a benchmark) is always drawn from the CSV
written for it, so --from-data draws what a full run that computed the same data draws. --check
compares pictures, not bytes (PNG encoders differ): two agree when they have the same size and no more than
--tolerance pixels differ visibly (a channel off by more than 32 of 255; faint antialiasing is not counted).
The default, 0, suits the machine that drew them, where a picture redraws the same; an edge label's
confidence redrawn as 0.90 instead of 0.52 makes 38 pixels differ visibly, so raise it only as far as another
matplotlib's font rendering needs.
It exits 1 naming the pictures that differ.
"""
import csv
import os
import runpy
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import numpy as np
import torch
from PIL import Image   # installed with matplotlib

import mpnet
from mpnet import examples, search
from mpnet.signs import SignReport

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _args import Parser, guarded, int_at_least, int_in  # noqa: E402  (the scripts' shared argument types)

ROOT = Path(__file__).resolve().parents[1]
PICTURES = ROOT / "docs" / "pictures"
NAMES = ["question_network.png", "question_signs.png", "random_dag.png", "xor_best.png", "xor_fitness.png",
         "connectome_signs.png", "atlas_synapse_signs.png", "sign_reliability.png"]
_VISIBLE = 32             # a pixel differs visibly when a channel is off by more than this (of 255)
_VERDICT_FIELDS = ["src", "dst", "transmitter", "true", "sign", "majority", "confidence", "given", "determinable",
                   "synapses"]


def _script(name: str) -> Dict[str, Any]:
    return runpy.run_path(str(ROOT / "scripts" / name), run_name=name[:-3])


def question(out: Path, data: Path, from_data: bool, dpi: int) -> None:
    topo = examples.question_network()
    mpnet.draw(topo, out / "question_network.png", dpi=dpi)
    wiring = examples.unknown_weights(topo)            # the user's situation: the wiring is known, its weights not
    if not from_data:
        X, Y = examples.question_task()                # 2,000 samples of the teacher, 1 % noise
        report = mpnet.infer_signs(wiring, X, Y, seed=0)
        print(report)
        report.to_csv(data / "question_signs.csv")
    report = SignReport.read_csv(data / "question_signs.csv")
    report.topology = wiring.with_weights({r.key: r.weight for r in report.edges if wiring.edges[r.key].trainable})
    mpnet.draw(report, out / "question_signs.png", dpi=dpi)


def random_dag(out: Path, data: Path, from_data: bool, dpi: int) -> None:
    dag = mpnet.sample.random_dag(n_inputs=4, n_outputs=2, n_hidden=40, avg_in_degree=3, seed=1, weights=True)
    mpnet.draw(dag, out / "random_dag.png", dpi=dpi)


def xor(out: Path, data: Path, from_data: bool, dpi: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:        # seconds, so always rerun
        run_dir = os.path.join(tmp, "xor")
        result = search.run(search.NEAT(n_inputs=2, n_outputs=1, population=150, seed=0), search.tasks.XOR(),
                            generations=100, finetune=search.Finetune(steps=20, lr=0.05), checkpoint_dir=run_dir,
                            progress=False)
        print(result)
        shutil.copy(os.path.join(run_dir, "best.png"), out / "xor_best.png")
        shutil.copy(os.path.join(run_dir, "fitness.png"), out / "xor_fitness.png")


def connectome(out: Path, data: Path, from_data: bool, dpi: int) -> None:
    script = _script("connectome_signs.py")
    cfg = script["Config"]()
    path = data / "connectome_signs.csv"
    if not from_data:
        verdicts = script["run"](cfg)["verdicts"]
        with open(path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(_VERDICT_FIELDS)
            for v in verdicts:
                writer.writerow([v.key[0], v.key[1], v.transmitter, v.true, v.sign, v.majority, repr(v.confidence),
                                 v.given, v.determinable, v.synapses])
    with open(path, newline="") as f:
        verdicts = [script["Verdict"]((r["src"], r["dst"]), r["transmitter"], r["true"], r["sign"], r["majority"],
                                      float(r["confidence"]), r["given"] == "True", r["determinable"] == "True",
                                      int(r["synapses"])) for r in csv.DictReader(f)]
    script["draw_slice"](script["slice_topology"](cfg), verdicts, str(out / "connectome_signs.png"))


def atlas(out: Path, data: Path, from_data: bool, dpi: int) -> None:
    """The atlas synapse-sign heatmap, always from its rows (the run behind them takes about ten CPU minutes:
    ``scripts/connectome_synapse_signs.py --csv docs/pictures/data/atlas_synapse_signs.csv`` rewrites them)."""
    script = _script("connectome_synapse_signs.py")
    script["draw"](str(out / "atlas_synapse_signs.png"), script["read_csv"](str(data / "atlas_synapse_signs.csv")),
                   mpnet.connectome.load())


def reliability(out: Path, data: Path, from_data: bool, dpi: int, benchmark: Optional[str] = None) -> bool:
    """Draw sign_reliability.png from the benchmark's rows; ``False`` (and why, on stderr) when there are none."""
    path = data / "sign_recovery_edges.csv"
    if benchmark:
        shutil.copy(os.path.join(benchmark, "edges.csv"), path)
    if not path.exists():
        print(f"sign_reliability.png not drawn: no {path}; run python scripts/sign_recovery.py --quick --teachers 3 "
              f"--out-dir DIR, then this script with --benchmark DIR", file=sys.stderr)
        return False
    script = _script("sign_recovery.py")
    script["plot_reliability"](script["rescore"](script["read_rows"](str(path)), 0.95),
                               str(out / "sign_reliability.png"))
    return True


def compare(committed: Path, fresh: Path, tolerance: int) -> Optional[str]:
    """Why two pictures differ, ``None`` when they agree: the same size and at most ``tolerance`` pixels
    visibly different (a channel off by more than ``_VISIBLE`` of 255; faint antialiasing is not counted)."""
    if not committed.exists():
        return "not committed"
    if not fresh.exists():
        return "not drawn"
    a = np.asarray(Image.open(committed).convert("RGB"), dtype=np.int16)
    b = np.asarray(Image.open(fresh).convert("RGB"), dtype=np.int16)
    if a.shape != b.shape:
        return f"size {a.shape[1]}x{a.shape[0]} committed, {b.shape[1]}x{b.shape[0]} drawn"
    visible = int((np.abs(a - b).max(axis=2) > _VISIBLE).sum())
    return None if visible <= tolerance else f"{visible} pixels differ visibly (tolerance {tolerance})"


def regenerate(out: Path, data: Path, from_data: bool, dpi: int, benchmark: Optional[str]) -> List[str]:
    """Draw every picture into ``out`` (its data into ``data`` unless ``from_data``); the names drawn."""
    out.mkdir(parents=True, exist_ok=True)
    data.mkdir(parents=True, exist_ok=True)
    steps: List[Callable[[Path, Path, bool, int], None]] = [question, random_dag, xor, connectome, atlas]
    for step in steps:
        start = time.perf_counter()
        step(out, data, from_data, dpi)
        print(f"{step.__name__}: {time.perf_counter() - start:.0f} s", flush=True)
    drawn = NAMES if reliability(out, data, from_data, dpi, benchmark) else NAMES[:-1]
    for name in drawn:            # a 256-colour palette: a third of the bytes, the same picture to the eye
        image = Image.open(out / name)
        image.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT).save(out / name, optimize=True)
    return drawn


def main(argv: Optional[List[str]] = None) -> int:
    p = Parser(prog="pictures.py", description=(__doc__ or "").split("\n")[0])
    p.add_argument("--out-dir", default=str(PICTURES), help="where the pictures go (default docs/pictures)")
    p.add_argument("--from-data", action="store_true",
                   help="draw from the data committed in docs/pictures/data instead of recomputing it")
    p.add_argument("--check", action="store_true",
                   help="draw into a temporary directory and compare with --out-dir; exit 1 if any differ")
    p.add_argument("--tolerance", type=int_at_least(0), default=None,
                   help="--check: pixels that may differ visibly (default 0: on the machine that drew them, a "
                        "picture redraws the same)")
    p.add_argument("--benchmark", metavar="DIR", help="take sign_reliability.png's data from DIR/edges.csv")
    p.add_argument("--dpi", type=int_in(10, 1200), default=110)
    args = p.parse_args(argv)
    if args.tolerance is not None and not args.check:
        p.error("--tolerance: only read with --check")
    args.tolerance = 0 if args.tolerance is None else args.tolerance
    if os.path.isfile(args.out_dir):
        p.error(f"argument --out-dir: {args.out_dir!r} is a file, not a directory")
    if args.benchmark and not os.path.isfile(os.path.join(args.benchmark, "edges.csv")):
        p.error(f"--benchmark {args.benchmark}: no edges.csv there (a sign_recovery.py run writes one)")
    torch.set_num_threads(1)
    start = time.perf_counter()
    out = Path(args.out_dir)
    if not args.check:
        drawn = regenerate(out, out / "data", args.from_data, args.dpi, args.benchmark)
        print(f"wrote {', '.join(drawn)} to {out} in {time.perf_counter() - start:.0f} s")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp)
        data = out / "data" if args.from_data else fresh / "data"
        if not args.from_data and (out / "data").exists():
            shutil.copytree(out / "data", data)   # what cannot be recomputed here (the benchmark) is read from it
        drawn = regenerate(fresh, data, args.from_data, args.dpi, args.benchmark)
        differ = {name: why for name in drawn if (why := compare(out / name, fresh / name, args.tolerance))}
    unchecked = [name for name in NAMES if name not in drawn]
    for name in NAMES:
        print(f"{name:24s} {differ.get(name, 'same') if name in drawn else 'not checked: no data to draw it from'}")
    if differ:
        print(f"pictures.py --check: {len(differ)} of {len(drawn)} pictures differ from {out}: {', '.join(differ)}; "
              f"regenerate with python scripts/pictures.py", file=sys.stderr)
        return 1
    print(f"pictures.py --check: {len(drawn)} pictures in {out} agree with a fresh drawing"
          + (f"; not checked: {', '.join(unchecked)}" if unchecked else "") + f" ({time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(guarded(main, prog="pictures.py"))
