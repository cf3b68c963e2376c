"""``mpnet demo``: the loop a user with unknown weights goes through, on the question's wiring (or a file's).

1. **Passive data**: a teacher's input-output data; every weight unknown; :func:`mpnet.infer_signs` says which
   signs the data determine, and for every ``?`` the fit with that sign reversed that explains the data as
   well (its witness) and why.
2. **Design**: :func:`mpnet.signs.design` suggests the measurements that should decide the open signs (record a
   neuron, or probe new inputs), from where the best fit and the witnesses disagree.
3. **The experiment**: the teacher simulates the suggested measurements, with the same relative noise.
4. **Rerun** with the new data; the edges decided are compared with the teacher's signs.
"""
import argparse
from typing import Any, Dict, List, Tuple

import torch
from torch import Tensor

from .examples import kinks_in_data, question_teacher, simulate, unknown_weights
from .graph.elements import NodeId
from .graph.topology import Topology
from .model import Network
from .signs import Effort, SignReport, Suggestion, design, infer_signs

__all__ = ["run_demo"]

QUESTION = ("the question's wiring (x1 -> a1 -> b1 -> c1 -> y and the same from x2; a1 -> c1 and a2 -> c2 fixed "
            "negative), every weight unknown")


def _table(rows: List[List[str]], head: List[str]) -> str:
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head) - 1)] + [0]

    def line(r: List[str]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip()
    return "\n".join([line(head), line(["-" * max(w, 1) for w in widths[:-1]] + ["------"])] + [line(r) for r in rows])


def _sign(w: float) -> str:
    return "+" if w > 0 else "-" if w < 0 else "0"


def _teacher(args: argparse.Namespace) -> Tuple[Topology, Tensor, Tensor, str]:
    if args.topology is None:
        teacher = question_teacher()
        X, Y = simulate(teacher, args.samples, args.noise, seed=args.seed)
        return teacher, X, Y, QUESTION
    wiring = Topology.load(args.topology)
    X = torch.rand(args.samples, len(wiring.inputs), generator=torch.Generator().manual_seed(args.seed),
                   dtype=torch.float64) * 4 - 2
    teacher = kinks_in_data(unknown_weights(wiring), X, seed=args.seed)
    X, Y = simulate(teacher, args.samples, args.noise, seed=args.seed, X=X)
    return teacher, X, Y, f"{args.topology}, every weight unknown (the teacher: random weights, kinks inside the data)"


def _print_report(report: SignReport, teacher: Topology) -> Tuple[int, int, int]:
    """The report as a table beside the teacher's signs; returns (free edges, called, called right)."""
    print(report.header())
    rows, free, called, right = [], 0, 0, 0
    for row in report.edges:
        truth = teacher.edges[row.key].weight
        t_sign = _sign(truth if truth is not None else 0.0)
        if row.constraint == "free":
            free += 1
            if row.sign in ("+", "-"):
                called += 1
                right += row.sign == t_sign
        rows.append([f"{row.src} -> {row.dst}", t_sign, row.sign, f"{row.confidence:.2f}", row.constraint,
                     row.reason])
    print(_table(rows, ["edge", "teacher", "inferred", "confidence", "constraint", "reason"]))
    print(f"{called} of {free} free edges called ({called / max(free, 1):.0%}); {right} agree with the teacher, "
          f"{called - right} disagree; {report.seconds:.0f} s")
    return free, called, right


def _experiment(teacher: Topology, X: Tensor, Y: Tensor, chosen: List[Suggestion], noise: float, seed: int
                ) -> Tuple[Tensor, Tensor, Dict[NodeId, Tensor]]:
    """The teacher's answers to the suggested measurements, with relative noise ``noise``: recordings of
    neurons on ``X``, outputs at probe points (added as rows; no recording there)."""
    gen = torch.Generator().manual_seed(seed + 1)
    net = Network(teacher, dtype=torch.float64)
    row = {node: r for r, (_, node) in enumerate(net.rows)}
    y_std = Y.std(0)
    observed: Dict[NodeId, Tensor] = {}
    with torch.no_grad():
        _, H = net.states(X)
        for s in chosen:
            if s.kind == "record" and not isinstance(s.target, Tensor):
                h = H[row[s.target]]
                observed[s.target] = h + noise * h.std() * torch.randn(h.shape, generator=gen, dtype=h.dtype)
        for s in chosen:
            if s.kind == "probe":
                P = s.target
                assert isinstance(P, Tensor)
                YP = net(P)
                YP = YP + noise * y_std * torch.randn(YP.shape, generator=gen, dtype=YP.dtype)
                observed = {v: torch.cat([o, torch.full((P.shape[0],), float("nan"), dtype=o.dtype)])
                            for v, o in observed.items()}
                X, Y = torch.cat([X, P]), torch.cat([Y, YP])
    return X, Y, observed


def run_demo(args: argparse.Namespace) -> int:
    """The loop of the module docstring; ``args``: topology, samples, noise, threshold, quick, seed, budget,
    no_progress."""
    torch.set_num_threads(1)   # many tiny ops: one thread is the fast choice for a network this small
    teacher, X, Y, source = _teacher(args)
    wiring = unknown_weights(teacher)
    print(f"mpnet demo: {source}")
    print(f"data: {args.samples} samples of y = teacher(x) + noise (std {args.noise:g} x the std of y); "
          f"{wiring.num_edges} edges, {sum(e.trainable and e.sign is None for e in wiring.edges.values())} free")
    options: Dict[str, Any] = dict(seed=args.seed, threshold=args.threshold, progress=not args.no_progress,
                                   effort=Effort.quick() if args.quick else Effort())
    print("\n1. passive data: which signs do they determine?")
    report = infer_signs(wiring, X, Y, **options)
    _print_report(report, teacher)
    if args.budget == 0:
        return 0
    print(f"\n2. design: up to {args.budget} measurement(s) that should decide the open signs")
    chosen = design(report, X, budget=args.budget, kinds=("record", "probe"), seed=args.seed)
    if not chosen:
        print("nothing to suggest: no open sign has a witness that a recording or a probe could tell apart")
        return 0
    for s in chosen:
        print(f"  {s}")
    X2, Y2, observed = _experiment(teacher, X, Y, chosen, args.noise, args.seed)
    what = [f"recorded {v!r} on the {X.shape[0]} inputs" for v in observed]
    what += [f"probed {X2.shape[0] - X.shape[0]} new inputs"] if X2.shape[0] > X.shape[0] else []
    print(f"\n3. the teacher simulates it: {', '.join(what)} (noise {args.noise:g} x the std of each)")
    print("\n4. rerun with the new data")
    after = infer_signs(wiring, X2, Y2, observed=observed or None, **options)
    _print_report(after, teacher)
    before = {r.key: r.sign for r in report.edges}
    decided = [r for r in after.edges if r.constraint == "free" and before[r.key] == "?" and r.sign in ("+", "-")]
    right = [r for r in decided if r.sign == _sign(teacher.edges[r.key].weight or 0.0)]
    names = ", ".join(f"{r.src}->{r.dst} {r.sign}" for r in decided) or "none"
    print(f"decided by the experiment: {len(decided)} edge(s) ({names}); {len(right)} right, "
          f"{len(decided) - len(right)} wrong")
    return 0
