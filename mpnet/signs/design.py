"""Which measurement would decide the signs the data left open? (sign inference, after the report)

An undecided edge has a *witness* in its report: a fit of the same wiring, with that edge's sign reversed, that
explains the data as well as the best fit (:meth:`SignReport.witness`). A measurement decides the edge when the
best fit and the witness predict it differently by more than its noise. Three kinds are scored, each from the
two fits alone (no new fitting):

* ``"record"`` neuron ``v``: its activation on the data's inputs. Recordings fix a neuron's scale, which the
  input-output data leave free (a ReLU can be scaled by ``c > 0`` and its outgoing weights by ``1 / c``), so the
  difference is taken after the best positive rescaling of the witness's trace.
* ``"probe"``: the outputs at new input points, drawn in the data's box widened ``outside`` times about its
  centre (a mirrored chain agrees inside the box and parts outside it); the points where the fits differ most.
* ``"stimulate"`` neuron ``v``: a drive added to ``v``'s pre-activation, ``drive`` times its standard deviation
  over the data in each fit (units a fit can be compared in), the outputs watched on the data's inputs.

A neuron is scored only for the edges it is wired to: an end of the edge, upstream of its source or downstream of
its target. A witness differs from the best fit wherever the data leave the wiring free, not only around its
edge (another chain's arbitrary choices included), so a difference at an unrelated neuron says nothing about the
edge. The difference is a mean squared difference per measured value over the noise variance (the outputs': the
report's estimate; a recording's: the same fraction of the neuron's variance), the scale of the refit test's
ratio: an edge is *decided* when it reaches ``margin``. A suggestion lists the edges it should decide; only a
rerun with the new data (``infer_signs(..., observed=...)`` for a recording) shows which it does: another
opposite-sign fit may explain the new data too.

A report on a recurrent wiring (``extra["sequences"]``) is scored on its sequences ``X [n, steps, n_inputs]``: a
recording is the neuron's value over time (after every step of every sequence, every integration step of a
ctrnn), a stimulation's drive is held through the whole sequence and the outputs watched at every step, and a
probe is a set of new input sequences, each step drawn in the data's widened box.
"""
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Set, Tuple, Union, cast

import torch
from torch import Tensor

from ..checks import check_float, check_int
from ..errors import ArgumentError
from ..graph.elements import EdgeKey, NodeId
from ..graph.topology import Topology
from ..model import Network
from .report import SignReport

__all__ = ["Suggestion", "design", "KINDS"]

KINDS = ("record", "probe", "stimulate")


@dataclass(frozen=True)
class Suggestion:
    """One measurement: ``kind`` (``"record"``, ``"probe"``, ``"stimulate"``), ``target`` (a neuron id, or the
    probe's input points ``[m, n_inputs]``), and the edges it should decide, each with its separation (mean
    squared difference of the two fits' predictions over the noise variance)."""
    kind: str
    target: Union[NodeId, Tensor]
    decides: Tuple[EdgeKey, ...]
    separation: Dict[EdgeKey, float] = field(default_factory=dict, compare=False)
    drive: float = 0.0                      # stimulate: the drive, in standard deviations of the pre-activation

    def __str__(self) -> str:
        points = "input sequences" if isinstance(self.target, Tensor) and self.target.dim() == 3 else "input points"
        what = (f"probe {tuple(self.target.shape)[0]} {points}" if isinstance(self.target, Tensor)
                else f"{self.kind} {self.target!r}" + (f" (drive {self.drive:g} sd)" if self.kind == "stimulate"
                                                      else ""))
        edges = ", ".join(f"{s}->{d}" for s, d in self.decides) or "nothing"
        return f"{what}: should decide {edges}"


def _undecided(report: SignReport) -> Dict[EdgeKey, Topology]:
    out = {}
    for row in report.edges:
        if row.constraint != "free" or row.sign != "?" or row.relative in ("+", "-"):
            continue
        witness = report.witness(row.key)
        if witness is not None:
            out[row.key] = witness
    return out


def _reach(topo: Topology, start: NodeId, step: str) -> Set[NodeId]:
    """``start`` and every node reached from it along ``step`` (``"successors"`` or ``"predecessors"``)."""
    seen, todo = {start}, [start]
    while todo:
        for nxt in getattr(topo, step)(todo.pop()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _wired(topo: Topology, edges: Sequence[EdgeKey]) -> Dict[EdgeKey, Set[NodeId]]:
    """Per edge, the neurons wired to it: upstream of its source (the source included) or downstream of its
    target (the target included)."""
    return {e: _reach(topo, e[0], "predecessors") | _reach(topo, e[1], "successors") for e in edges}


Layout = Optional[Mapping[str, Any]]     # a recurrent report's extra["sequences"] (None: feed-forward)


def _run(topo: Topology, X: Tensor, seq: Layout) -> Tuple[Tensor, Tensor]:
    """``(z, h)`` ``[num_nodes, n * S]``: every node on every sample, after every (integration) step ``S`` of a
    sequence (``S = 1`` for a feed-forward wiring), in float64."""
    if seq is None:
        return Network(topo, dtype=torch.float64).states(X)
    times = {"advance_time": seq["advance_time"], "time_step": seq["time_step"]} \
        if seq["network_type"] == "ctrnn" else {}
    Z, H = Network(topo, dtype=torch.float64, **times).states(X.transpose(0, 1))       # [S, N, n]
    return Z.permute(1, 2, 0).reshape(Z.shape[1], -1), H.permute(1, 2, 0).reshape(H.shape[1], -1)


def _states(topo: Topology, X: Tensor, drive: Optional[Tuple[NodeId, float]] = None, seq: Layout = None
            ) -> Tuple[Tensor, Tensor, Dict[NodeId, int]]:
    """``(z, h)`` ``[num_nodes, n * S]`` (:func:`_run`) and the row of each node; ``drive`` ``(v, d)`` adds ``d``
    standard deviations of ``v``'s pre-activation (over ``X``, undriven) to its bias."""
    net = Network(topo, dtype=torch.float64, **({} if seq is None or seq["network_type"] != "ctrnn" else
                                                 {"advance_time": seq["advance_time"], "time_step": seq["time_step"]}))
    row: Dict[NodeId, int] = {cast(NodeId, node): r for r, (_, node) in enumerate(net.rows)}
    with torch.no_grad():
        Z, H = _run(topo, X, seq)
        if drive is not None:
            v, d = drive
            bias = topo.nodes[v].bias + d * float(Z[row[v]].std())
            Z, H = _run(topo.with_weights({}, {v: bias}), X, seq)
    return Z, H, row


def _outputs(topo: Topology, H: Tensor, row: Dict[NodeId, int]) -> Tensor:
    return H[[row[o] for o in topo.outputs]]                                   # [n_out, n]


def _rescaled_gap(a: Tensor, b: Tensor) -> float:
    """``min_{c >= 0} mean (a - c b)^2``: what is left of the difference once ``b``'s scale is fitted to ``a``."""
    bb = float((b * b).sum())
    c = max(float((a * b).sum()) / bb, 0.0) if bb > 0 else 0.0
    return float((a - c * b).pow(2).mean())


def design(report: SignReport, X: Union[Tensor, Sequence[Sequence[float]]], *, budget: int = 3,
           kinds: Sequence[str] = KINDS, margin: float = 1.0, points: int = 64, outside: float = 1.5,
           drive: float = 2.0, candidates: int = 4096, seed: int = 0) -> List[Suggestion]:
    """Up to ``budget`` measurements that should decide the report's undecided signs, best set first.

    Args:
        report: a refit report with witnesses (``infer_signs(..., method="refit")``).
        X: ``[n, n_inputs]`` the inputs the report was inferred from (recordings and stimulations are
            scored on them; probes are drawn around their box); for a recurrent wiring its input sequences
            ``[n, steps, n_inputs]`` (module docstring).
        budget: how many suggestions to return at most.
        kinds: which kinds to consider, from :data:`KINDS`.
        margin: the separation (in noise variances per measured value) that decides an edge.
        points: input points per probe.
        outside: the probes' box, as a multiple of the data's box about its centre (1: inside the data).
        drive: a stimulation's drive, in standard deviations of the neuron's pre-activation.
        candidates: random input points a probe's points are chosen from.
        seed: seeds the candidate points.

    Returns:
        suggestions chosen greedily, each adding the most edges not yet decided by those before it; an empty
        list when no undecided edge has a witness.

    Raises:
        ArgumentError: a report without a best fit, an unknown kind, or ``X`` of the wrong width or not finite.
    """
    budget = check_int(budget, "budget", min=1)
    margin = check_float(margin, "margin", min=0, min_open=True)
    points = check_int(points, "points", min=1)
    outside = check_float(outside, "outside", min=1)
    drive = check_float(drive, "drive", min=0, min_open=True)
    candidates = check_int(candidates, "candidates", min=1)
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or isinstance(kinds, str):
        raise ArgumentError(f"Expected kinds to be a sequence of {list(KINDS)} (got {kinds!r}).")
    best = report.best
    if best is None:
        raise ArgumentError("design() needs a report with its best fit (report.best is None); infer it with "
                            "method='refit'.")
    X = torch.as_tensor(X, dtype=torch.float64)
    seq: Layout = getattr(report, "extra", {}).get("sequences")
    want = [len(best.inputs)] if seq is None else [int(seq["steps"]), len(best.inputs)]
    if X.dim() != len(want) + 1 or list(X.shape[1:]) != want or not bool(torch.isfinite(X).all()):
        what = "" if seq is None else f", the report's input sequences ({seq['network_type']} wiring)"
        raise ArgumentError(f"Expected X to be finite, [n, {', '.join(map(str, want))}]{what} (got shape "
                            f"{list(X.shape)}).")
    witnesses = _undecided(report)
    if not witnesses:
        return []
    noise = report.noise_variance if report.noise_variance == report.noise_variance else 0.0
    Z0, H0, row = _states(best, X, seq=seq)
    y0 = _outputs(best, H0, row)
    out_var = max(noise, 1e-12 * float(y0.var()) + 1e-300)
    rel = out_var / max(float(y0.var(1).mean()), 1e-300)         # noise as a fraction of the outputs' variance
    pool: List[Suggestion] = []
    hidden = [n for n, node in best.nodes.items() if node.role == "hidden"]
    wired = _wired(best, list(witnesses))
    if "record" in kinds:
        states = {e: _states(w, X, seq=seq) for e, w in witnesses.items()}
        for v in hidden:
            var_v = rel * max(float(H0[row[v]].var()), 1e-300)
            sep = {e: _rescaled_gap(H0[row[v]], H[r[v]]) / var_v for e, (_, H, r) in states.items() if v in wired[e]}
            pool.append(_suggestion("record", v, sep, margin))
    if "stimulate" in kinds:
        for v in hidden:
            _, Hd, rd = _states(best, X, (v, drive), seq)
            yd = _outputs(best, Hd, rd)
            sep = {}
            for e, w in witnesses.items():
                if v not in wired[e]:
                    continue
                _, Hw, rw = _states(w, X, (v, drive), seq)
                sep[e] = float((yd - _outputs(w, Hw, rw)).pow(2).mean()) / out_var
            pool.append(_suggestion("stimulate", v, sep, margin, drive))
    if "probe" in kinds:
        pool.append(_probe(best, witnesses, X, out_var, margin, points, outside, candidates, seed, seq))
    return _greedy(pool, budget)


def _suggestion(kind: str, target: Union[NodeId, Tensor], sep: Dict[EdgeKey, float], margin: float,
                drive: float = 0.0) -> Suggestion:
    decides = tuple(e for e, s in sorted(sep.items(), key=lambda kv: -kv[1]) if s >= margin)
    return Suggestion(kind, target, decides, sep, drive)


def _probe(best: Topology, witnesses: Dict[EdgeKey, Topology], X: Tensor, out_var: float, margin: float,
           points: int, outside: float, candidates: int, seed: int, seq: Layout = None) -> Suggestion:
    box = X.reshape(-1, X.shape[-1])                     # every step of every sequence: the inputs' ranges
    lo, hi = box.min(0).values, box.max(0).values
    centre, half = (lo + hi) / 2, (hi - lo) / 2 * outside
    gen = torch.Generator().manual_seed(seed)
    C = centre + (2 * torch.rand((candidates,) + tuple(X.shape[1:]), generator=gen, dtype=torch.float64) - 1) * half
    _, H0, row = _states(best, C, seq=seq)
    y0 = _outputs(best, H0, row).reshape(len(best.outputs), candidates, -1)          # [n_out, candidates, S]
    keys = list(witnesses)
    D = torch.stack([(y0 - _outputs(w, *_states(w, C, seq=seq)[1:]).reshape(y0.shape)).pow(2).mean((0, 2))
                     / out_var for w in witnesses.values()], 1)                      # [candidates, edges]
    # each point scored by the edges it separates (then by how much), the best ``points`` taken
    score = (D >= margin).sum(1).double() + D.clamp(max=margin).sum(1) / (margin * len(keys) + 1)
    chosen = torch.argsort(score, descending=True)[:points]
    sep = {k: float(D[chosen, i].mean()) for i, k in enumerate(keys)}
    return _suggestion("probe", C[chosen], sep, margin)


def _greedy(pool: List[Suggestion], budget: int) -> List[Suggestion]:
    chosen: List[Suggestion] = []
    covered: Set[EdgeKey] = set()
    while pool and len(chosen) < budget:
        gain = [len(set(s.decides) - covered) for s in pool]
        i = max(range(len(pool)), key=lambda j: (gain[j], sum(s for s in pool[j].separation.values())))
        if gain[i] == 0:
            break
        chosen.append(pool.pop(i))
        covered |= set(chosen[-1].decides)
    return chosen
