#!/usr/bin/env python
"""Train every topology of data/topologies.jsonl on 3-bit parity at once: batched Networks of up to
--chunk-size topologies, each one fit (mpnet.scale.population.train_population), here or across Ray workers.

    python scripts/train_many.py                          # all 1,000, defaults below
    python scripts/train_many.py --limit 20 --epochs 20 --out-dir /tmp/quick
    python scripts/train_many.py --ray --workers 2 --chunk-size 250   # the same numbers, on 2 Ray workers

Each topology's unset weights are drawn from its own index and --seed, and the chunks are cut by position,
so --ray gives every topology the same trained numbers as a run in this process with the same --chunk-size.

Task: the 8 inputs of {-1, +1}^3, target 1 when an odd number of them is +1, else 0; mse on the raw output
(or bce on it as a logit). A topology "solves" parity when all 8 outputs lie on the right side of 0.5 (for
bce: of logit 0). Writes ``<out-dir>/losses.csv`` (one row per topology) and ``<out-dir>/losses.png``
(final loss against edge count and against depth), and prints a summary.
"""
import csv
import json
import os
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor

import mpnet
from mpnet.scale.population import train_population

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _args import Parser, existing, guarded, int_at_least, number  # noqa: E402  (the scripts' argument types)

ROOT = Path(__file__).resolve().parents[1]
COLUMNS = ["index", "sampler", "activation", "n_edges", "n_hidden", "n_off_path", "n_inputs_used", "depth",
           "final_loss", "solved"]


@dataclass(frozen=True)
class Config:
    data: str = str(ROOT / "data" / "topologies.jsonl")   # made by scripts/make_topologies.py
    out_dir: str = "runs/train_many"
    limit: Optional[int] = None      # first N topologies (None: all)
    epochs: int = 1000               # full-batch Adam steps (8 samples each)
    lr: float = 0.02
    loss: str = "mse"                # "mse" (threshold 0.5) or "bce" (outputs are logits, threshold 0)
    seed: int = 0                    # draws the initial weights, each topology from its own stream
    threads: int = 1                 # torch intra-op threads; the ops are tiny, more threads only contend
    chunk_size: int = 1000           # topologies per batched network (the numbers depend on it, not on --ray)
    ray: bool = False                # train the chunks on Ray workers (pip install "mpnet[ray]")
    workers: int = 2                 # Ray workers (with --ray), one CPU and one torch thread each


def load_records(path: str, limit: Optional[int]) -> Tuple[List[mpnet.Topology], List[Dict]]:
    """Topologies and their ``meta`` dicts, in file order."""
    topos, metas = [], []
    with open(path) as f:
        for line in f:
            if limit is not None and len(topos) >= limit:
                break
            record = json.loads(line)
            topos.append(mpnet.Topology.from_dict(record["topology"], warn=False))   # off-path neurons kept
            metas.append(record.get("meta", {}))
    return topos, metas


def make_parity() -> Tuple[Tensor, Tensor]:
    """``X [8, 3]`` in {-1, +1}, ``Y [8, 1]`` = parity of the +1s, in {0, 1}."""
    bits = torch.tensor([[(i >> k) & 1 for k in range(3)] for i in range(8)])   # [8, 3]
    return bits.float() * 2 - 1, (bits.sum(1, keepdim=True) % 2).float()


def describe(topo: mpnet.Topology) -> Dict[str, int]:
    """Edge count, hidden neurons, hidden neurons off every input-to-output path, inputs some output sees
    (parity needs all 3), depth (longest path)."""
    lost = topo.unreachable()
    n_hidden = topo.num_nodes - len(topo.inputs) - len(topo.outputs)
    off = {n for n in list(lost.unreached) + list(lost.dead_ends) if topo.nodes[n].role == "hidden"}
    used = [n for n in topo.inputs if n not in lost.dead_ends]
    return dict(n_edges=topo.num_edges, n_hidden=n_hidden, n_off_path=len(off), n_inputs_used=len(used),
                depth=max(topo.depth().values()))


def classified(pred: Tensor, Y: Tensor, loss: str) -> Tensor:
    """Whether each topology classifies all 8 samples right ``[T]``, from its outputs ``pred [T, 8, 1]``."""
    threshold = 0.5 if loss == "mse" else 0.0
    return ((pred > threshold) == Y.bool()).all(-1).all(-1)


def write_csv(path: Path, rows: Sequence[Dict]) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def plot(path: Path, rows: Sequence[Dict], cfg: Config) -> None:
    """Two scatter panels: final loss vs edge count, vs depth; one colour per sampler, filled when the topology
    solved parity (all 8 outputs on the right side of the threshold), hollow when not; the legend says so."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6), sharey=True)
    samplers = sorted({r["sampler"] for r in rows})
    for ax, key in zip(axes, ("n_edges", "depth")):
        for i, name in enumerate(samplers):
            for solved in (True, False):
                pts = [r for r in rows if r["sampler"] == name and r["solved"] == solved]
                if pts:
                    ax.scatter([r[key] for r in pts], [max(r["final_loss"], 1e-8) for r in pts], s=12, alpha=0.6,
                               color=f"C{i}", facecolors=f"C{i}" if solved else "none")
        ax.set_yscale("log")
        ax.set_xlabel({"n_edges": "edges", "depth": "depth (longest path)"}[key])
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(f"final {cfg.loss} (floored at 1e-8)")
    threshold = "0.5" if cfg.loss == "mse" else "0 (a logit)"
    counts = {name: (sum(r["solved"] for r in rows if r["sampler"] == name),
                     sum(1 for r in rows if r["sampler"] == name)) for name in samplers}
    handles = [Line2D([], [], linestyle="none", marker="o", color=f"C{i}", label=f"{n} ({counts[n][0]}/{counts[n][1]} solved)")
               for i, n in enumerate(samplers)]
    handles += [Line2D([], [], linestyle="none", marker="o", color="#555555", label="filled: solved"),
                Line2D([], [], linestyle="none", marker="o", color="#555555", markerfacecolor="none",
                       label="hollow: not solved")]
    fig.legend(handles=handles, loc="center right", fontsize=8, frameon=False,
               title=f"solved = all 8 outputs on the\nright side of {threshold}", title_fontsize=8)
    fig.suptitle(f"3-bit parity, {len(rows)} topologies trained together ({cfg.epochs} epochs, Adam lr {cfg.lr})")
    fig.tight_layout(rect=(0, 0, 0.8, 1))
    fig.savefig(path, dpi=120)
    plt.close(fig)


#: what each option takes (every field of Config is an option; a bool is a flag)
TYPES = {"data": existing("file"), "out_dir": str, "limit": int_at_least(1), "epochs": int_at_least(1),
         "lr": number(0, open_low=True), "loss": str, "seed": int, "threads": int_at_least(1),
         "chunk_size": int_at_least(1), "workers": int_at_least(1)}


def parse(argv: Optional[Sequence[str]]) -> Config:
    p = Parser(prog="train_many.py", description=__doc__.split("\n")[0])
    for name, value in asdict(Config()).items():
        flag = f"--{name.replace('_', '-')}"
        if isinstance(value, bool):
            p.add_argument(flag, action="store_true", default=value)
        else:
            p.add_argument(flag, type=TYPES[name], default=None, choices=["mse", "bce"] if name == "loss" else None,
                           help=f"(default {value})")
    args = vars(p.parse_args(argv))
    if args["workers"] is not None and not args["ray"]:
        p.error("--workers: only read with --ray")
    if os.path.exists(args["out_dir"] or Config.out_dir) and not os.path.isdir(args["out_dir"] or Config.out_dir):
        p.error(f"argument --out-dir: {args['out_dir']!r} is a file, not a directory")
    return Config(**{k: v for k, v in args.items() if v is not None})


def main(argv: Optional[Sequence[str]] = None) -> Dict:
    cfg = parse(argv)
    threads = torch.get_num_threads()
    torch.set_num_threads(cfg.threads)
    try:
        start = time.perf_counter()
        topos, metas = load_records(cfg.data, cfg.limit)
        X, Y = make_parity()                                       # [8, 3], [8, 1]
        built = time.perf_counter()
        trained = train_population(topos, X, Y, loss=cfg.loss, epochs=cfg.epochs, lr=cfg.lr, seed=cfg.seed,
                                   chunk_size=cfg.chunk_size, outputs=True,
                                   workers=cfg.workers if cfg.ray else None,
                                   ray=dict(threads_per_worker=cfg.threads) if cfg.ray else None)
        fit_s = time.perf_counter() - built
        final, solved = trained.loss, classified(trained.outputs, Y, cfg.loss)
    finally:
        torch.set_num_threads(threads)

    rows = [dict(index=i, sampler=m.get("sampler", ""), activation=m.get("activation", ""), **describe(t),
                 final_loss=float(final[i]), solved=bool(solved[i])) for i, (t, m) in enumerate(zip(topos, metas))]
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_csv(out / "losses.csv", rows)
    plot(out / "losses.png", rows, cfg)
    wall = time.perf_counter() - start

    T = len(topos)
    summary = dict(topologies=T, edges=sum(r["n_edges"] for r in rows), solved=int(solved.sum()),
                   median_loss=statistics.median(r["final_loss"] for r in rows), fit_s=fit_s, wall_s=wall,
                   topologies_per_s=T / fit_s)
    by_sampler = {}
    for r in rows:
        done, total = by_sampler.get(r["sampler"], (0, 0))
        by_sampler[r["sampler"]] = (done + r["solved"], total + 1)
    where = f"{cfg.workers} Ray workers" if cfg.ray else "this process"
    chunks = -(-T // cfg.chunk_size)
    print(f"{T} topologies, {summary['edges']:,} edges, in {chunks} chunk(s) of up to {cfg.chunk_size} on {where}; "
          f"{cfg.epochs} epochs of Adam (lr {cfg.lr}, {cfg.loss}) on 3-bit parity, {cfg.threads} thread(s) each")
    print(f"solved {summary['solved']}/{T} ({', '.join(f'{k} {d}/{n}' for k, (d, n) in sorted(by_sampler.items()))})")
    full = [r for r in rows if r["n_inputs_used"] == len(topos[r["index"]].inputs)]
    print(f"solved {sum(r['solved'] for r in full)}/{len(full)} of those whose output sees every input; "
          f"median final loss {summary['median_loss']:.4g}")
    print(f"fit {fit_s:.1f} s = {summary['topologies_per_s']:.1f} topologies/s "
          f"({T * cfg.epochs / fit_s:,.0f} topology-epochs/s); wall {wall:.1f} s")
    print(f"wrote {out / 'losses.csv'} and {out / 'losses.png'}")
    return summary


if __name__ == "__main__":
    sys.exit(guarded(main, prog="train_many.py"))
