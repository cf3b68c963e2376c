"""The refit sign test on random recurrent teachers (issue 19 item 7): how often a called sign is right, how many
are called, at what cost.

Each teacher is a random discrete-time recurrent wiring (or a ctrnn with --network ctrnn): ``--inputs`` inputs,
one identity output, hidden neurons of one activation, 6-10 neurons and 15-30 edges with cycles and self-loops,
weights of magnitude 0.3-1.2 with random signs (the hidden-to-hidden part scaled to a spectral radius of at most
0.9, so activity neither dies nor explodes over a sequence), small random biases. Its own Network simulates
``--sequences`` random input sequences of ``--steps`` steps; the targets (every step's output) get Gaussian noise
of ``--noise`` times their standard deviation. ``mpnet.infer_signs`` sees the wiring alone (no weights), at the
quick effort unless --default; every report is re-checked by ``mpnet.signs.verify`` (float64).

Scored per teacher, over the free edges: *called* (a sign, or for a flip-symmetric neuron's edge its sign relative
to the reference edge(s), at confidence >= 0.95), *right* (the teacher's sign, or its relative sign: the product
of the edge's and the references' teacher signs), *ambiguous* (no call; a verified witness with the opposite sign
fits within ratio 0.05), *undecided* (the rest), the best fit over the noise floor, and the CPU seconds of one
thread (``time.process_time``) of the whole inference.

    python scripts/sign_recovery_recurrent.py --teachers 2 --activations relu,tanh
"""
import os
import sys
import time
from typing import Dict, List, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _args import Parser, comma_list, guarded, int_in, number, one_of   # noqa: E402

import torch   # noqa: E402

import mpnet   # noqa: E402
from mpnet.signs import Effort, verify   # noqa: E402


def teacher(seed: int, activation: str, inputs: int, network: str) -> mpnet.Topology:
    """A random recurrent teacher (module docstring), all weights and biases set."""
    g = torch.Generator().manual_seed(seed)
    n_hidden = int(torch.randint(6 - inputs - 1, 10 - inputs, (1,), generator=g)) if inputs + 1 < 6 else 4
    n_hidden = max(n_hidden, 4)
    ins = [f"x{i}" for i in range(inputs)]
    hid = [f"h{i}" for i in range(n_hidden)]
    targets = hid + ["y"]
    pairs = [(s, t) for s in ins + hid for t in targets if not (s in ins and t == "y")]
    pairs += [("y", h) for h in hid]
    want = int(torch.randint(15, 31, (1,), generator=g))
    want = min(want, len(pairs))
    chosen = set()
    for h in hid:        # every hidden neuron reached from an input and reaching the output
        chosen.add((ins[int(torch.randint(inputs, (1,), generator=g))], h))
    for h in hid[: max(2, n_hidden // 2)]:
        chosen.add((h, "y"))
    rest = [p for p in pairs if p not in chosen]
    order = torch.randperm(len(rest), generator=g).tolist()
    for i in order[: max(0, want - len(chosen))]:
        chosen.add(rest[i])
    edges = sorted(chosen, key=lambda p: (pairs.index(p) if p in pairs else -1))
    mag = 0.3 + 0.9 * torch.rand(len(edges), generator=g, dtype=torch.float64)
    sign = torch.where(torch.rand(len(edges), generator=g) < 0.5, -1.0, 1.0).to(torch.float64)
    w = mag * sign
    # the recurrent part (every edge between non-inputs) scaled to spectral radius <= 0.9
    nodes = hid + ["y"]
    at = {v: i for i, v in enumerate(nodes)}
    W = torch.zeros(len(nodes), len(nodes), dtype=torch.float64)
    for (s, t), v in zip(edges, w.tolist()):
        if s in at:
            W[at[t], at[s]] = v
    radius = float(torch.linalg.eigvals(W).abs().max())
    scale = min(1.0, 0.9 / radius) if radius > 0 else 1.0
    weighted = [(s, t, round(v * (scale if s in at else 1.0), 4)) for (s, t), v in zip(edges, w.tolist())]
    topo = mpnet.Topology.from_edges(weighted, inputs=ins, outputs=["y"], activation=activation,
                                     output_activation="identity", recurrent="ctrnn" if network == "ctrnn" else True,
                                     warn=False)
    biases = {h: round(float(0.2 * torch.randn(1, generator=g, dtype=torch.float64)), 4) for h in hid}
    return topo.with_weights({}, biases)


def data(topo: mpnet.Topology, n: int, steps: int, noise: float, seed: int, times: Dict[str, float]
         ) -> Tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(10_000 + seed)
    X = torch.randn(n, steps, len(topo.inputs), generator=g, dtype=torch.float64)
    with torch.no_grad():
        Y = mpnet.Network(topo, dtype=torch.float64, **times)(X.transpose(0, 1)).transpose(0, 1)
    return X, Y + noise * Y.std() * torch.randn(Y.shape, generator=g, dtype=torch.float64)


def _sign(w: float) -> str:
    return "+" if w > 0 else "-" if w < 0 else "0"


def score(truth: mpnet.Topology, report: mpnet.SignReport) -> Dict[str, float]:
    called = right = ambiguous = free = 0
    for row in report.edges:
        if row.constraint != "free":
            continue
        free += 1
        w = truth.edges[row.key].weight
        assert w is not None
        if row.sign in ("+", "-"):
            called += 1
            right += row.sign == _sign(w)
        elif row.relative in ("+", "-"):
            called += 1
            product = 1.0 if w > 0 else -1.0
            for ref in row.reference.split(" and "):
                src, dst = ref.split("->")
                wr = truth.edges[(src, dst)].weight
                assert wr is not None
                product *= 1.0 if wr > 0 else -1.0
            right += row.relative == _sign(product)
        elif row.ratio == row.ratio and row.ratio < 0.05 and report.witness(row.key) is not None:
            ambiguous += 1
    return {"free": free, "called": called, "right": right, "ambiguous": ambiguous,
            "undecided": free - called - ambiguous}


def main(argv: List[str]) -> None:
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--teachers", type=int_in(1, 1000), default=2, help="teachers per activation")
    parser.add_argument("--activations", type=comma_list(one_of(["relu", "tanh"])), default=["relu", "tanh"])
    parser.add_argument("--network", type=one_of(["recurrent", "ctrnn"]), default="recurrent")
    parser.add_argument("--inputs", type=int_in(1, 3), default=1)
    parser.add_argument("--sequences", type=int_in(8, 100_000), default=200)
    parser.add_argument("--steps", type=int_in(1, 1000), default=8)
    parser.add_argument("--noise", type=number(0, 1), default=0.01)
    parser.add_argument("--seed", type=int_in(0, 10**9), default=0, help="first teacher seed")
    parser.add_argument("--default", action="store_true", help="the default effort (else Effort.quick())")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    times = {"advance_time": 0.5, "time_step": 0.25} if args.network == "ctrnn" else {}
    effort = Effort() if args.default else Effort.quick()
    print(f"{args.network} teachers, {args.sequences} sequences x {args.steps} steps, noise {args.noise:g} x std(Y), "
          f"{'default' if args.default else 'quick'} effort, one thread")
    head = (f"{'activation':10} {'seed':>4} {'neurons':>7} {'edges':>5} {'free':>4} {'called':>6} {'right':>5} "
            f"{'ambig.':>6} {'undec.':>6} {'floor':>6} {'verify':>7} {'cpu s':>7}")
    print(head)
    print("-" * len(head))
    totals: Dict[str, Dict[str, float]] = {}
    for activation in args.activations:
        tot = totals.setdefault(activation, {"free": 0, "called": 0, "right": 0, "ambiguous": 0, "undecided": 0,
                                             "cpu": 0.0, "n": 0})
        for k in range(args.teachers):
            seed = args.seed + k
            truth = teacher(seed, activation, args.inputs, args.network)
            X, Y = data(truth, args.sequences, args.steps, args.noise, seed, times)
            wiring = mpnet.Topology.from_edges([k_ for k_ in truth.edges], inputs=truth.inputs,
                                               outputs=truth.outputs, activation=activation,
                                               output_activation="identity", recurrent=truth.network_type
                                               if truth.network_type == "ctrnn" else True, warn=False)
            t0 = time.process_time()
            report = mpnet.infer_signs(wiring, X, Y, effort=effort, seed=seed, progress=False, **times)
            cpu = time.process_time() - t0
            checked = verify(report, X, Y)
            s = score(truth, report)
            for key in ("free", "called", "right", "ambiguous", "undecided"):
                tot[key] += s[key]
            tot["cpu"] += cpu
            tot["n"] += 1
            print(f"{activation:10} {seed:>4} {len(truth.nodes):>7} {len(truth.edges):>5} {s['free']:>4} "
                  f"{s['called']:>6} {s['right']:>5} {s['ambiguous']:>6} {s['undecided']:>6} "
                  f"{report.floor_ratio:>6.2f} {len(checked.checks) - len(checked.rejected):>3}/{len(checked.checks):<3} "
                  f"{cpu:>7.1f}", flush=True)
    print()
    for activation, t in totals.items():
        precision = t["right"] / t["called"] if t["called"] else float("nan")
        print(f"{activation}: precision {precision:.1%} ({int(t['right'])} of {int(t['called'])} calls right), "
              f"called {t['called'] / t['free']:.1%} of {int(t['free'])} free edges, ambiguous by a verified witness "
              f"{t['ambiguous'] / t['free']:.1%}, undecided {t['undecided'] / t['free']:.1%}; "
              f"{t['cpu'] / t['n']:.0f} CPU s per teacher (one thread)")


if __name__ == "__main__":
    sys.exit(guarded(main, sys.argv[1:]))
