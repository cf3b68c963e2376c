"""Which signs of the question's wiring do recordings of hidden neurons decide?

The teacher (mpnet.examples.question_teacher) is simulated on X ~ U(-2, 2)^2 with 1 % noise on y; a recorded
neuron's values are the teacher's activations plus 1 % of their std in noise. For each condition (passive
input-output data; + recordings of b1 and b2; + recordings of a1 and a2) infer_signs runs on the wiring with
unknown weights, and the free signs called are compared with the teacher's.

    python scripts/recorded_neurons.py [--quick] [--samples 2000] [--noise 0.01] [--seed 0]
"""
import os
import sys
import time

import torch

import mpnet
from mpnet import examples
from mpnet.signs import Effort

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _args import Parser, guarded, int_at_least, number  # noqa: E402  (the scripts' shared argument types)

CONDITIONS = {"passive": (), "record b1, b2": ("b1", "b2"), "record a1, a2": ("a1", "a2")}


def recordings(teacher: mpnet.Topology, X: torch.Tensor, neurons, noise: float, seed: int):
    """The teacher's activations of ``neurons`` on ``X``, each plus ``noise`` times its std in Gaussian noise."""
    net = mpnet.Network(teacher, dtype=torch.float64)
    _, H = net.states(X)
    gen = torch.Generator().manual_seed(seed + 1)
    out = {}
    for v in neurons:
        h = H[net.rows.index((0, v))]
        out[v] = h + noise * h.std() * torch.randn(h.shape, generator=gen, dtype=torch.float64)
    return out


def main() -> None:
    parser = Parser(prog="recorded_neurons.py", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Effort.quick() instead of the default effort")
    parser.add_argument("--samples", type=int_at_least(4, 10_000_000), default=2000)
    parser.add_argument("--noise", type=number(0), default=0.01, help="noise std as a fraction of each column's std")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", choices=list(CONDITIONS), help="run one condition")
    args = parser.parse_args()
    torch.set_num_threads(1)
    teacher = examples.question_teacher()
    wiring = examples.unknown_weights(examples.question_network())
    X, Y = examples.simulate(teacher, args.samples, args.noise, seed=args.seed)
    free = [k for k, e in wiring.edges.items() if e.trainable and e.sign is None]
    truth = {k: "+" if teacher.edges[k].weight > 0 else "-" for k in free}
    effort = Effort.quick() if args.quick else Effort()
    print(f"question wiring, {len(free)} free edges, {args.samples} samples, noise {args.noise}, "
          f"effort {'quick' if args.quick else 'default'}, seed {args.seed}")
    print(f"{'condition':<16} {'called':>6} {'right':>5} {'fit / floor':>11} {'seconds':>7}  calls")
    for name, neurons in CONDITIONS.items():
        if args.only and name != args.only:
            continue
        observed = recordings(teacher, X, neurons, args.noise, args.seed) or None
        t0 = time.time()
        report = mpnet.infer_signs(wiring, X, Y, effort=effort, seed=args.seed, observed=observed)
        seconds = time.time() - t0
        rows = {(e.src, e.dst): e for e in report.edges}
        called = [k for k in free if rows[k].sign != "?"]
        right = [k for k in called if rows[k].sign == truth[k]]
        calls = " ".join(f"{a}->{b}{rows[(a, b)].sign}" for a, b in free)
        print(f"{name:<16} {len(called):>3} / {len(free)} {len(right):>5} {report.floor_ratio:>11.2f} "
              f"{seconds:>7.0f}  {calls}", flush=True)
    print("teacher:" + " ".join(f" {a}->{b}{s}" for (a, b), s in truth.items()))


if __name__ == "__main__":
    sys.exit(guarded(main, prog="recorded_neurons.py"))
