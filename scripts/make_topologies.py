#!/usr/bin/env python
"""Sample a reproducible set of small topologies for 3-bit parity (3 inputs, 1 output), one JSON per line.

Made data/topologies.jsonl with:

    python scripts/make_topologies.py --seed 0 --n 1000 --out data/topologies.jsonl

Each line is ``{"topology": Topology.to_dict(), "meta": {...}}`` (compact separators). ``meta`` records how
the topology was drawn: ``sampler`` (random_dag, small_world, layered, neat_minimal), ``activation`` (hidden
neurons; outputs are identity) and the sampler's arguments. Load a line with

    mpnet.Topology.from_dict(json.loads(line)["topology"], warn=False)

(``warn=False``: random DAGs often hold hidden neurons off every input-to-output path, which are kept.)
"""
import json
import math
import os
import random
import sys
from dataclasses import dataclass
from typing import Any, Dict, List, Tuple

import mpnet
import mpnet.graph.sample

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _args import Parser, guarded, int_at_least  # noqa: E402  (the scripts' shared argument types)


@dataclass(frozen=True)
class Config:
    n: int = 1000                            # topologies to write
    seed: int = 0                            # seeds every draw below
    out: str = "data/topologies.jsonl"
    n_inputs: int = 3                        # 3-bit parity: 3 inputs -> 1 output
    n_outputs: int = 1
    min_hidden: int = 2                      # hidden neurons drawn log-uniformly in [min_hidden, max_hidden]
    max_hidden: int = 30
    activations: Tuple[str, ...] = ("relu", "tanh", "sigmoid", "gelu")   # hidden activation, uniform
    # sampler mix (weights); neat_minimal (no hidden neuron, linear) is a control that cannot fit parity
    mix: Tuple[Tuple[str, float], ...] = (("random_dag", 0.6), ("small_world", 0.2), ("layered", 0.18),
                                          ("neat_minimal", 0.02))


def draw_hidden(rng: random.Random, cfg: Config) -> int:
    """Log-uniform in [min_hidden, max_hidden]: small nets are as common as large ones per octave."""
    lo, hi = math.log(cfg.min_hidden), math.log(cfg.max_hidden + 1)
    return min(cfg.max_hidden, int(math.exp(rng.uniform(lo, hi))))


def draw_args(rng: random.Random, cfg: Config, sampler: str) -> Dict[str, Any]:
    """Keyword arguments of one sampler call (besides the activation), drawn from ``rng``."""
    seed = rng.randrange(2**31)
    if sampler == "random_dag":
        n_hidden = draw_hidden(rng, cfg)
        max_depth = rng.choice([None, None, 2, 3, 4, 5])             # two thirds of them depth-limited
        return dict(n_hidden=n_hidden, avg_in_degree=round(rng.uniform(1.5, 4.0), 2), max_depth=max_depth,
                    seed=seed)
    if sampler == "small_world":
        return dict(n_hidden=draw_hidden(rng, cfg), k=rng.randint(2, 4), p_rewire=round(rng.uniform(0.0, 0.5), 2),
                    seed=seed)
    if sampler == "layered":
        hidden = [rng.randint(2, 8) for _ in range(rng.randint(1, 2))]   # one or two small hidden layers
        return dict(sizes=[cfg.n_inputs] + hidden + [cfg.n_outputs], density=round(rng.uniform(0.3, 1.0), 2),
                    skip=round(rng.choice([0.0, rng.uniform(0.0, 0.3)]), 2), seed=seed)
    return dict(seed=seed)


def build(cfg: Config, sampler: str, args: Dict[str, Any], activation: str) -> mpnet.Topology:
    """Call ``sampler`` with ``args``; unset weights throughout (the Network draws them)."""
    if sampler == "random_dag":
        return mpnet.sample.random_dag(cfg.n_inputs, cfg.n_outputs, activation=activation, **args)
    if sampler == "small_world":
        return mpnet.sample.small_world(cfg.n_inputs, cfg.n_outputs, activation=activation, **args)
    if sampler == "layered":
        return mpnet.sample.layered(activation=activation, **args)
    return mpnet.sample.neat_minimal(cfg.n_inputs, cfg.n_outputs, weights=False, **args)


def sample_lines(cfg: Config) -> List[Dict[str, Any]]:
    """``cfg.n`` records ``{"topology": ..., "meta": ...}``; a draw a sampler rejects is drawn again."""
    rng = random.Random(cfg.seed)
    names, weights = zip(*cfg.mix)
    records = []
    while len(records) < cfg.n:
        sampler = rng.choices(names, weights)[0]
        activation = rng.choice(cfg.activations) if sampler != "neat_minimal" else "identity"
        args = draw_args(rng, cfg, sampler)
        try:
            topo = build(cfg, sampler, args, activation)
        except ValueError:          # e.g. avg_in_degree too high for a small depth-limited DAG
            continue
        meta = dict(sampler=sampler, activation=activation, **args)
        records.append({"topology": topo.to_dict(), "meta": meta})
    return records


def write(records: List[Dict[str, Any]], path: str) -> None:
    """One compact JSON object per line, written atomically."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        for rec in records:
            f.write(json.dumps(rec, separators=(",", ":")) + "\n")
    os.replace(tmp, path)


def parse() -> Config:
    p = Parser(prog="make_topologies.py", description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int_at_least(1, 1_000_000), default=Config.n, help="topologies to write")
    p.add_argument("--seed", type=int, default=Config.seed)
    p.add_argument("--out", default=Config.out, help="the JSON-lines file (its folder is made if missing)")
    a = p.parse_args()
    if os.path.isdir(a.out):
        p.error(f"argument --out: {a.out!r} is a directory; name the file to write")
    return Config(n=a.n, seed=a.seed, out=a.out)


def main() -> None:
    cfg = parse()
    records = sample_lines(cfg)
    write(records, cfg.out)
    counts: Dict[str, int] = {}
    for rec in records:
        counts[rec["meta"]["sampler"]] = counts.get(rec["meta"]["sampler"], 0) + 1
    edges = [len(rec["topology"]["edges"]) for rec in records]
    print(f"wrote {len(records)} topologies to {cfg.out} ({os.path.getsize(cfg.out) / 1e6:.2f} MB, seed "
          f"{cfg.seed}): {', '.join(f'{k} {v}' for k, v in sorted(counts.items()))}; edges "
          f"{min(edges)}-{max(edges)} (total {sum(edges)})")


if __name__ == "__main__":
    sys.exit(guarded(main, prog="make_topologies.py"))
