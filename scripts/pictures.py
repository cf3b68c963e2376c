#!/usr/bin/env python
"""Regenerate the pictures the README and docs/ show (docs/pictures/*.png), from the public API only.

    python scripts/pictures.py                     # all of them, about a minute on one CPU thread
    python scripts/pictures.py --out-dir /tmp/pics

question_network.png   the question's network as declared (mpnet.examples.question_network())
question_signs.png     mpnet.infer_signs on it with the embedded task (ensemble 32, 500 epochs, seed 0)
random_dag.png         mpnet.sample.random_dag(4 inputs, 2 outputs, 40 hidden, seed 1, weights drawn)
xor_best.png, xor_fitness.png   the pictures a NEAT search on XOR writes (scripts/search.py's run, seed 0)
"""
import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import List, Optional

import torch
from PIL import Image   # installed with matplotlib

import mpnet
from mpnet import examples, search

ROOT = Path(__file__).resolve().parents[1]


def main(argv: Optional[List[str]] = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out-dir", default=str(ROOT / "docs" / "pictures"))
    p.add_argument("--dpi", type=int, default=110)
    args = p.parse_args(argv)
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    start = time.perf_counter()

    topo = examples.question_network()
    mpnet.draw(topo, out / "question_network.png", dpi=args.dpi)
    X, Y = examples.question_task()          # 2,000 samples of the teacher, 1 % noise
    # the user's situation: the wiring is known, its weights are not
    report = mpnet.infer_signs(examples.unknown_weights(topo), X, Y, seed=0)
    print(report)
    mpnet.draw(report, out / "question_signs.png", dpi=args.dpi)

    dag = mpnet.sample.random_dag(n_inputs=4, n_outputs=2, n_hidden=40, avg_in_degree=3, seed=1, weights=True)
    mpnet.draw(dag, out / "random_dag.png", dpi=args.dpi)

    with tempfile.TemporaryDirectory() as tmp:
        run_dir = os.path.join(tmp, "xor")
        result = search.run(search.NEAT(n_inputs=2, n_outputs=1, population=150, seed=0), search.tasks.XOR(),
                            generations=100, finetune=search.Finetune(steps=20, lr=0.05), checkpoint_dir=run_dir,
                            progress=False)
        print(result)
        shutil.copy(os.path.join(run_dir, "best.png"), out / "xor_best.png")
        shutil.copy(os.path.join(run_dir, "fitness.png"), out / "xor_fitness.png")
    names = ["question_network.png", "question_signs.png", "random_dag.png", "xor_best.png", "xor_fitness.png"]
    for name in names:            # a 256-colour palette: a third of the bytes, the same picture to the eye
        image = Image.open(out / name)
        image.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT).save(out / name, optimize=True)
    print(f"wrote {', '.join(names)} to {out} in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
