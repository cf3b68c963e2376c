"""Teacher-student benchmark of sign inference: can mpnet.infer_signs recover a teacher's edge signs?

Teachers have known weights: the question network's wiring (with the weights of mpnet.examples' teacher)
and random sparse DAGs (20-300 edges; alternately one hidden layer and deep), with relu / tanh / sigmoid
hidden neurons. Columns: naive = one trained network's sign(w) equals the teacher's; majority = the
ensemble's majority after gauge fixing does; confident edges (sign + or -) and how many are right;
unident. = edges flagged as undeterminable; relative = for those, how often the sign relative to the
neuron's reference edge matches the teacher's (the quantity the data does determine, up to noise).
A student ensemble of the same wiring learns from (X, teacher(X) + noise); we compare its verdicts to the
teacher's signs and print, per activation and noise level: naive accuracy (train one network, read
sign(w)), accuracy of the ensemble majority, and accuracy and coverage of the edges marked confident.
Writes a CSV of every edge and a reliability curve (accuracy per confidence bin) as a PNG.

    python scripts/sign_recovery.py                 # default: a few minutes on a 2-core CPU
    python scripts/sign_recovery.py --quick         # under a minute
"""
import argparse
import csv
import os
import random
import time
from dataclasses import dataclass, field
from typing import List

import torch

import mpnet
from mpnet import sample
from mpnet.examples import question_network, question_teacher
from mpnet.signs import infer_signs


@dataclass
class Config:
    activations: List[str] = field(default_factory=lambda: ["relu", "tanh", "sigmoid"])
    noises: List[float] = field(default_factory=lambda: [0.0, 0.05, 0.10])   # noise std / target std
    dags_per_cell: int = 3        # random DAG teachers per (activation, noise)
    samples: int = 512            # data points per teacher
    ensemble: int = 64
    epochs: int = 400
    lr: float = 0.03
    batch_size: int = 128
    seed: int = 0
    out_dir: str = "runs/sign_recovery"


def make_teachers(act: str, cfg: Config, rng: random.Random):
    """(name, topology with all weights set) pairs for one activation."""
    q = question_teacher() if act == "relu" else question_network().with_weights(
        {k: e.weight for k, e in question_teacher().edges.items()})
    if act != "relu":
        q = mpnet.Topology([n if n.role != "hidden" else type(n)(n.id, n.role, act, n.aggregation, n.bias, n.dale)
                            for n in q.nodes.values()], list(q.edges.values()), warn=False)
    teachers = [("question", q)]
    for i in range(cfg.dags_per_cell):
        n_hidden = rng.randint(6, 60)
        avg = rng.uniform(1.5, 3.0) if i % 2 == 0 else rng.uniform(1.5, 4.0)
        n_edges = round(avg * (n_hidden + 1))
        if not 20 <= n_edges <= 300:
            avg = max(20, min(300, n_edges)) / (n_hidden + 1)
        if i % 2 == 0:   # one hidden layer: sources are the 3 inputs, so at most 3 per hidden neuron
            avg = min(avg, (3 * n_hidden + n_hidden + 3) / (n_hidden + 1) - 0.01)
        max_depth = 2 if i % 2 == 0 else None   # alternate one-hidden-layer and deep teachers
        topo = sample.random_dag(3, 1, n_hidden, avg_in_degree=avg, max_depth=max_depth,
                                 seed=rng.randrange(10**6), activation=act, weights=True)
        biases = {n: rng.uniform(-0.3, 0.3) for n, node in topo.nodes.items() if node.role != "input"}
        teachers.append((f"dag{i}", topo.with_weights({}, biases)))
    return teachers


def run_teacher(activation, name, teacher, noise, cfg: Config, seed: int):
    gen = torch.Generator().manual_seed(seed)
    n_in = len(teacher.inputs)
    X = torch.rand(cfg.samples, n_in, generator=gen, dtype=torch.float64) * 4 - 2
    with torch.no_grad():
        Y = mpnet.Network(teacher, dtype=torch.float64)(X)
    if float(Y.std()) < 1e-3:
        return None   # a teacher whose output is (nearly) constant teaches nothing
    Y = Y + noise * float(Y.std()) * torch.randn(Y.shape, generator=gen, dtype=torch.float64)
    report = infer_signs(teacher, X.float(), Y.float(), ensemble=cfg.ensemble, epochs=cfg.epochs, lr=cfg.lr,
                         batch_size=cfg.batch_size, seed=seed, progress=False)
    naive_member = report.good[0] if report.good else 0
    gauged_teacher = report.gauge({k: e.weight for k, e in teacher.edges.items()})
    rows = []
    for c, (key, edge) in enumerate(teacher.edges.items()):
        r = report[key]
        truth = "+" if edge.weight > 0 else "-"
        truth_relative = "+" if gauged_teacher[key] > 0 else "-"
        naive = report.weights[naive_member, c].item()
        rows.append(dict(activation=activation, teacher=name, edges=teacher.num_edges, noise=noise, src=key[0], dst=key[1], truth=truth,
                         sign=r.sign, confidence=r.confidence, identifiable=r.identifiable, constraint=r.constraint,
                         majority=r.majority, naive="+" if naive > 0 else "-", reason=r.reason.split(";")[0],
                         relative=r.relative, truth_relative=truth_relative if r.relative else "",
                         members_fit=len(report.good)))
    return rows


def summarise(rows):
    free = [r for r in rows if r["constraint"] == "free"]   # fixed signs are given, not inferred
    n = len(free)
    conf = [r for r in free if r["sign"] != "?"]
    right = sum(r["sign"] == r["truth"] for r in conf)
    return dict(edges=n, naive=sum(r["naive"] == r["truth"] for r in free) / max(n, 1),
                majority=sum(r["majority"] == r["truth"] for r in free) / max(n, 1),
                confident=len(conf), coverage=len(conf) / max(n, 1), precision=right / max(len(conf), 1),
                wrong=len(conf) - right, unidentifiable=sum(not r["identifiable"] for r in free),
                relative=sum(r["relative"] == r["truth_relative"] for r in free if r["relative"]) /
                max(sum(1 for r in free if r["relative"]), 1))


def plot_reliability(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    free = [r for r in rows if r["constraint"] == "free" and r["identifiable"]]
    edges = [0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0001]
    xs, ys, ns = [], [], []
    for lo, hi in zip(edges, edges[1:]):
        b = [r for r in free if lo <= r["confidence"] < hi]
        if b:
            xs.append(sum(r["confidence"] for r in b) / len(b))
            ys.append(sum(r["majority"] == r["truth"] for r in b) / len(b))
            ns.append(len(b))
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot([0.5, 1], [0.5, 1], ls="--", c="grey", lw=1, label="calibrated")
    ax.plot(xs, ys, marker="o", label="majority sign")
    for x, y, n in zip(xs, ys, ns):
        ax.annotate(str(n), (x, y), textcoords="offset points", xytext=(4, -10), fontsize=8)
    ax.set_xlabel("confidence (bin mean)")
    ax.set_ylabel("fraction of majority signs equal to the teacher's")
    ax.set_title("sign inference reliability (identifiable free edges)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one DAG per cell, smaller ensembles")
    parser.add_argument("--out-dir", default=Config.out_dir)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (tiny ops: 1 is fastest)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    cfg = Config(out_dir=args.out_dir, seed=args.seed)
    if args.quick:
        cfg.dags_per_cell, cfg.ensemble, cfg.epochs, cfg.noises = 2, 32, 250, [0.0, 0.05]
    torch.manual_seed(cfg.seed)
    os.makedirs(cfg.out_dir, exist_ok=True)
    rng = random.Random(cfg.seed)
    start = time.time()
    all_rows, table = [], []
    print(f"sign recovery: {cfg}")
    for act in cfg.activations:
        teachers = make_teachers(act, cfg, rng)
        for noise in cfg.noises:
            cell = []
            for name, teacher in teachers:
                rows = run_teacher(act, name, teacher, noise, cfg, seed=rng.randrange(10**6))
                cell += rows or []
            all_rows += cell
            table.append((act, noise, summarise(cell)))
            s = table[-1][2]
            print(f"  {act:8s} noise {noise:.2f}: {s['edges']:4d} free edges, naive {s['naive']:.0%}, majority "
                  f"{s['majority']:.0%}, confident {s['confident']} ({s['coverage']:.0%}) at {s['precision']:.1%} "
                  f"correct  [{time.time() - start:.0f}s]", flush=True)
    head = f"{'activation':10s} {'noise':>5s} {'edges':>5s} {'naive':>6s} {'major.':>6s} {'conf.':>5s} " \
           f"{'cover':>6s} {'correct':>8s} {'wrong':>5s} {'unident.':>8s} {'relative':>8s}"
    print("\n" + head)
    print("-" * len(head))
    for act, noise, s in table:
        print(f"{act:10s} {noise:5.2f} {s['edges']:5d} {s['naive']:6.0%} {s['majority']:6.0%} {s['confident']:5d} "
              f"{s['coverage']:6.0%} {s['precision']:8.1%} {s['wrong']:5d} {s['unidentifiable']:8d} "
              f"{s['relative']:8.0%}")
    low_noise = [r for r in all_rows if r["noise"] <= 0.05]
    s = summarise(low_noise)
    print(f"\nnoise <= 5%: {s['confident']} confident edges of {s['edges']} free edges, {s['precision']:.1%} "
          f"correct ({s['wrong']} wrong); coverage {s['coverage']:.0%}")
    for act in cfg.activations:
        a = summarise([r for r in low_noise if r["activation"] == act])
        print(f"  {act}: coverage {a['coverage']:.0%}, {a['precision']:.1%} correct, "
              f"{a['unidentifiable']} of {a['edges']} free edges flagged unidentifiable")
    with open(os.path.join(cfg.out_dir, "edges.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(all_rows[0]))
        writer.writeheader()
        writer.writerows(all_rows)
    plot_reliability(all_rows, os.path.join(cfg.out_dir, "reliability.png"))
    print(f"wrote {cfg.out_dir}/edges.csv and {cfg.out_dir}/reliability.png in {time.time() - start:.0f}s")


if __name__ == "__main__":
    main()
