"""How close does sign inference's noise estimate come to the truth? Random ReLU teachers with known noise.

Each teacher is a random DAG (2-4 inputs, 4-9 ReLU neurons, 14-30 edges, every neuron on an input-output path)
whose kinks lie inside the data; 2,000 samples X ~ U(-2, 2), Y = teacher(X) + Gaussian noise of std 1 % or 5 %
of Y's std, so the true noise variance is known. Per teacher and noise level it prints, each over that truth:

  raw       the local-linear estimate on Y (mpnet.signs.estimate_noise without a fit)
  fit       the loss of a multistart fit (Effort.quick() unless --default; above 1 when the search fell short)
  resid     the local-linear estimate on that fit's residuals Y - fit(X)
  estimate  what estimate_noise(X, Y, fit=...) returns (the smaller of raw and resid), as infer_signs uses it
  floor     fit / estimate: how far above the floor the report says the fit is (1.5 and up: not at the floor)

    python scripts/noise_floor.py                     # 8 teachers x 2 noise levels, quick fits
    python scripts/noise_floor.py --teachers 12 --jobs 2   # the table quoted in mpnet/signs/noise.py
    python scripts/noise_floor.py --default           # fits at the default effort
"""
import argparse
import os
import random
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from typing import List, Tuple

import torch

from mpnet import Network, Topology, sample
from mpnet.examples import kinks_in_data, simulate, unknown_weights
from mpnet.signs import Effort, estimate_noise, multistart

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _args import Parser, guarded, int_at_least  # noqa: E402  (the scripts' shared argument types)


def random_teacher(rng: random.Random, samples: int) -> Tuple[Topology, torch.Tensor]:
    while True:
        n_in, n_hidden, n_edges = rng.randint(2, 4), rng.randint(4, 9), rng.randint(14, 30)
        try:
            topo = sample.random_dag(n_in, 1, n_hidden, avg_in_degree=n_edges / (n_hidden + 1),
                                     seed=rng.randrange(10**6), activation="relu", weights=True)
        except ValueError:
            continue
        lost = topo.unreachable()
        if 14 <= topo.num_edges <= 30 and not lost.unreached and not lost.dead_ends:
            gen = torch.Generator().manual_seed(rng.randrange(10**6))
            X = torch.rand(samples, n_in, generator=gen, dtype=torch.float64) * 4 - 2
            return kinks_in_data(topo, X, seed=rng.randrange(10**6)), X


def measure(task: Tuple[int, Topology, torch.Tensor, float, bool]) -> List[str]:
    i, teacher, X, noise, default = task
    torch.set_num_threads(1)
    with torch.no_grad():
        f = Network(teacher, dtype=torch.float64)(X)
    _, Y = simulate(teacher, X.shape[0], noise, seed=i, X=X)
    true = (noise * float(f.std())) ** 2                   # simulate's noise: std noise x the std of teacher(X)
    raw = estimate_noise(X, Y).variance
    t0 = time.time()
    fit = multistart(unknown_weights(teacher), X, Y, effort=None if default else Effort.quick(), seed=i)
    with torch.no_grad():
        pred = fit.network(dtype=torch.float64)(X)
    loss = float((Y - pred).pow(2).mean())
    resid = estimate_noise(X, Y - pred).variance
    est = estimate_noise(X, Y, fit=pred)
    return [f"t{i}", str(X.shape[1]), str(teacher.num_edges), f"{noise:.2f}", f"{true:.3g}", f"{raw / true:.2f}",
            f"{loss / true:.2f}", f"{resid / true:.2f}", f"{est.variance / true:.2f}", f"{loss / est.variance:.2f}",
            f"{time.time() - t0:.0f}"]


def main() -> None:
    ap = Parser(prog="noise_floor.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--teachers", type=int_at_least(1, 10_000), default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int_at_least(1, 1024), default=1)
    ap.add_argument("--default", action="store_true", help="fit at the default effort (slower, closer fits)")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    tasks = []
    for i in range(args.teachers):
        teacher, X = random_teacher(rng, 2000)
        tasks += [(i, teacher, X, noise, args.default) for noise in (0.01, 0.05)]
    head = ["teacher", "inputs", "edges", "noise", "true var", "raw", "fit", "resid", "estimate", "floor", "s"]
    print("  ".join(f"{h:>8s}" for h in head), flush=True)
    rows = []
    with ProcessPoolExecutor(args.jobs) as pool:
        for row in pool.map(measure, tasks):
            rows.append(row)
            print("  ".join(f"{c:>8s}" for c in row), flush=True)
    est = [float(r[8]) for r in rows]
    raw = [float(r[5]) for r in rows]
    within = sum(1 / 1.3 <= e <= 1.3 for e in est)
    print(f"estimate / truth: {min(est):.2f}-{max(est):.2f}, within 1.3x on {within} of {len(est)}; "
          f"raw / truth: {min(raw):.2f}-{max(raw):.2f}, within 1.3x on {sum(1 / 1.3 <= e <= 1.3 for e in raw)}")


if __name__ == "__main__":
    sys.exit(guarded(main, prog="noise_floor.py"))
