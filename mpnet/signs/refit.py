"""``method="refit"``: fit to the noise floor, then test every edge by refitting it with its sign forced.

The steps, each in its own module: :mod:`~mpnet.signs.fitting` (the best fits), :mod:`~mpnet.signs.noise`
(the floor they are judged against), :mod:`~mpnet.signs.symmetry` (the signs no data can fix, and the gauge
that fixes the rest relative to reference edges), :mod:`~mpnet.signs.edgetest` (the refit test) and
:mod:`~mpnet.signs.calibration` (its statistic made a probability), :mod:`~mpnet.signs.evidence` (every stored
fit re-checked for each edge's best opposite-sign fit, its witness, and the equivalences a reason can name). This
module puts them together and writes the verdicts; :func:`~mpnet.signs.verify` re-checks them from the report.

No ambiguity is claimed against a fit that is not at the noise floor: when the best loss is more than
:data:`FLOOR` times the estimated noise variance, an opposite-sign fit as good as it says nothing about the data,
so such an edge is "undecided", and the report's note says why.
"""
import math
import time
from contextlib import contextmanager
from typing import Callable, Dict, Iterator, Optional, Tuple

import torch
from torch import Tensor
from torch.types import Device

from ..checks import check_bool
from .calibration import confidence as calibrated
from .edgetest import TestOutcome, apply_gauge, test_edges
from .evidence import activity, as_weights, equivalence, off_ratios, recheck
from .fitting import Effort, Workspace, search
from .inputs import Recorded, Sequences
from .noise import NoiseEstimate, estimate_noise
from .progress import Progress
from .report import EdgeSign, SignReport
from .symmetry import Flip, flip_symmetries, reference_edges
from ..graph.elements import EdgeKey, NodeId
from ..graph.topology import Topology

__all__ = ["infer_refit", "FLOOR"]

#: a best fit within this factor of the estimated noise floor is "at the floor": only then can an
#: opposite-sign fit as good as it show that the data leave a sign open
FLOOR = 1.5


def _constraint(topo: Topology, key: EdgeKey) -> str:
    e = topo.edges[key]
    return "frozen" if not e.trainable else f"fixed {e.sign}" if e.sign else "free"


def _fmt(key: EdgeKey) -> str:
    return f"{key[0]}->{key[1]}"


def _topology(ws: Workspace, theta: Tensor) -> Topology:
    """The wiring with the weights, tie values and biases of the fit ``theta [P]`` (frozen ones keep theirs)."""
    return ws.pop(1).topology_of(theta)


def infer_refit(topo: Topology, start: Optional[Topology], X: Tensor, Y: Tensor, *, effort: Effort,
                threshold: float, seed: int, noise_std: Optional[float], resolution: float, verify: float,
                dtype: torch.dtype, device: Device, log: Optional[Callable[[str], None]],
                observed: Optional[Recorded] = None, progress: Optional[bool] = None,
                sequences: Optional[Sequences] = None) -> SignReport:
    """The refit method of :func:`mpnet.infer_signs` (arguments checked there, ``progress`` here; ``observed``:
    recordings of hidden neurons, in every fit's loss)."""
    t0 = time.time()
    progress = check_bool(progress, "progress", allow_none=True)
    shown = Progress(progress, log)
    try:
        return _infer(topo, start, X, Y, effort=effort, threshold=threshold, seed=seed, noise_std=noise_std,
                      resolution=resolution, verify=verify, dtype=dtype, device=device, shown=shown, t0=t0,
                      observed=observed, sequences=sequences)
    finally:
        shown.close()


def effort_level(effort: Effort) -> Optional[str]:
    """The calibration table an effort reads: ``"default"``, ``"quick"``, or ``None`` for any other (the lowest
    confidence of the levels measured, :func:`~mpnet.signs.calibration.confidence`)."""
    return "default" if effort == Effort() else "quick" if effort == Effort.quick() else None


def _infer(topo: Topology, start: Optional[Topology], X: Tensor, Y: Tensor, *, effort: Effort, threshold: float,
           seed: int, noise_std: Optional[float], resolution: float, verify: float, dtype: torch.dtype,
           device: Device, shown: Progress, t0: float, observed: Optional[Recorded],
           sequences: Optional[Sequences] = None) -> SignReport:
    ws = Workspace(topo, X, Y, dtype=dtype, device=device, seed=seed, log=shown.log, observed=observed,
                   sequences=sequences)
    extra = None
    if start is not None:
        extra = ws.pop(1).theta_of(start)[None]
        if bool(torch.isnan(extra).any()):
            extra = None
    cpu: Dict[str, float] = {}         # CPU seconds of each stage (this process), kept in the report
    with _timed(cpu, "search"):
        pool_theta, pool_loss = search(ws, effort, extra)
    ws.log(f"best fit: loss {float(pool_loss[0]):.4g}")

    # ---- structural symmetries and the gauge: each flip-symmetric neuron's reference edge made positive
    flips: Dict[NodeId, Flip] = flip_symmetries(topo)
    magnitude = {k: abs(float(pool_theta[0, i])) for i, k in enumerate(ws.pop(1).keys)}
    refs = reference_edges(flips, magnitude)
    order = [n for n in topo.topological_order() if n in flips]
    pool_theta = apply_gauge(ws, pool_theta, flips, refs, order)
    lower, upper = ws.bounds(1)
    lower, upper = lower[0], upper[0]
    col = ws.pop(1).edge_col
    for node in order:
        lower[col[refs[node]]] = max(float(lower[col[refs[node]]]), 0.0)
    ref_edges = set(refs.values())
    tested = [k for k in ws.pop(1).free_keys() if k not in ref_edges]     # a tie group: once, on its key edge
    with _timed(cpu, "edge test"):
        outcome = test_edges(ws, pool_theta, pool_loss, tested, lower, upper, flips, effort, resolution=resolution,
                             verify=verify, progress=shown.stage)
    # ---- every stored fit re-checked: the best opposite-sign fit of each edge, wherever it was found
    shown.stage("re-check", len(tested), len(tested))
    with _timed(cpu, "re-check"):
        evidence = recheck(ws, outcome, flips, refs, order)
    outcome = evidence.outcome
    if evidence.lowered:
        ws.log(f"re-check: stored fits lowered the opposite-sign loss of {len(evidence.lowered)} edge(s)")
    noise, floor, floor_method = _floor(ws, outcome.theta, noise_std, observed)
    # noise-free data: a loss at the resolution counts as at the floor (as the ratio's denominator does)
    if resolution * float(ws.Y.var()) > floor:
        floor_method = f"{floor_method} gave {floor:.3g}, below the resolution: {resolution:g} x Var(Y) used"
        floor = resolution * float(ws.Y.var())
    floor_ratio = outcome.loss / floor if floor > 0 else math.inf
    stable = outcome.stable and evidence.better_best is None
    active = activity(ws, outcome.theta)
    weights = as_weights(ws, outcome.theta)[0]
    witness_w = {k: as_weights(ws, t)[0] for k, t in evidence.witnesses.items()}
    off = off_ratios(ws, outcome.theta, list(outcome.edges), outcome.loss, outcome.scale)
    level = effort_level(effort)
    rows = [_verdict(topo, k, weights, witness_w.get(k), outcome, flips, refs, active, off, floor_ratio, stable,
                     threshold, level) for k in ws.pop(1).verdict_keys()]
    rows = ws.pop(1).tie_rows(rows, outcome.theta)
    notes = []
    if floor_ratio > FLOOR:
        poor = "not at the floor"
        if floor_ratio > 3:
            poor = "a poor fit"
            if noise.method.startswith("local linear") and floor == noise.variance:
                # the local-linear estimate errs upward where the residuals still bend (scripts/noise_floor.py):
                # the noise is then known only to lie below it, and the fit to be at least this far above it
                poor += (f" (the noise variance is unknown, at most {floor:.3g}: the estimate errs upward where "
                         f"the fit leaves misfit, so the fit is at least {floor_ratio:.1f}x above the floor)")
        notes.append(f"the best fit is {floor_ratio:.2f}x the estimated noise floor, {poor}: no edge is shown "
                     f"ambiguous against it (those are undecided), and fewer signs can be called (the wiring may "
                     f"not express the data, or the search missed the optimum: try more effort)")
    if evidence.better_best is not None:
        notes.append(f"a stored fit (loss {evidence.better_best:.4g}) beats the best fit ({outcome.loss:.4g}): "
                     f"no sign is called")
    elif not outcome.stable:
        notes.append("the best fit kept improving during the test: no sign is called")
    gauge = {node: (refs[node], flips[node].edges) for node in order}
    return SignReport(rows, "refit", outcome.loss, floor, floor_method, threshold, time.time() - t0,
                      ws.evaluations, stable, "; ".join(notes), _topology(ws, outcome.theta),
                      extra={"gauge": gauge, "restarts": outcome.restarts, "scale": outcome.scale,
                             "floor": FLOOR, "noise_raw": noise.raw, "cpu_seconds": cpu,
                             "rechecked": [list(k) for k in evidence.lowered],
                             **({} if observed is None else
                                {"observed": dict(zip(observed.neurons, observed.weight))}),
                             **({} if sequences is None else {"sequences": sequences.to_dict()})},
                      witnesses={k: _topology(ws, t) for k, t in evidence.witnesses.items()})


@contextmanager
def _timed(into: Dict[str, float], stage: str) -> Iterator[None]:
    t0 = time.process_time()
    yield
    into[stage] = time.process_time() - t0


def _floor(ws: Workspace, theta: Tensor, noise_std: Optional[float], observed: Optional[Recorded]
           ) -> Tuple[NoiseEstimate, float, str]:
    """The outputs' noise (estimated with the best fit ``theta [P]``'s residuals), the loss a fit reaches at the
    noise floor, and how it was found. With recordings the loss weighs each recorded value (its neuron's
    ``weight``) beside the outputs' values, so the floor is the same weighed mean of the noise variances, each
    recorded neuron's estimated like the outputs' (given ones kept)."""
    with torch.no_grad():
        pred = ws.pop(1).predict(theta[None], ws.X)[0]                    # [n, n_out (+ recorded)]
    n_out = ws.Y.shape[1]
    noise = estimate_noise(ws.X, ws.Y, noise_std=noise_std, fit=pred[:, :n_out])
    if observed is None:
        return noise, noise.variance, noise.method
    total, count = noise.variance * ws.Y.numel(), float(ws.Y.numel())
    for j, v in enumerate(observed.neurons):
        r = observed.values[:, j:j + 1].to(pred)
        seen = ~torch.isnan(r[:, 0])
        own = observed.noise[j]
        if own.method != "given":
            own = estimate_noise(ws.X[seen], r[seen], fit=pred[seen, n_out + j:n_out + j + 1])
        total += observed.weight[j] * own.variance * int(seen.sum())
        count += int(seen.sum())
    return noise, total / count, f"{noise.method}; with the recordings, weighed as in the loss"


def _verdict(topo: Topology, key: EdgeKey, weights: Dict[EdgeKey, float], witness: Optional[Dict[EdgeKey, float]],
             outcome: TestOutcome, flips: Dict[NodeId, Flip], refs: Dict[NodeId, EdgeKey],
             active: Dict[NodeId, float], off: Dict[EdgeKey, float], floor_ratio: float, stable: bool,
             threshold: float, level: Optional[str]) -> EdgeSign:
    edge = topo.edges[key]
    weight = weights[key]
    constraint = _constraint(topo, key)
    owners = [f for f in flips.values() if key in f.edges]    # an edge between two flip neurons has two
    owner = next((f for f in owners if refs[f.node] == key), owners[0] if owners else None)
    reference = " and ".join(_fmt(refs[f.node]) for f in owners)
    if not edge.trainable:
        assert edge.weight is not None   # Topology refuses a frozen edge without a weight
        sign = "+" if edge.weight > 0 else "-" if edge.weight < 0 else "?"
        return EdgeSign(*key, sign, 1.0 if sign != "?" else 0.0, edge.weight, True, "frozen at its declared value",
                        constraint)
    if edge.sign is not None:
        src = topo.nodes[edge.src]
        why = f"Dale neuron {edge.src!r} ({src.dale})" if src.dale == edge.sign else "fixed by declaration"
        return EdgeSign(*key, edge.sign, 1.0, weight, True, why, constraint)
    if owner is not None and refs[owner.node] == key:
        why = (f"{owner.describe(topo.nodes[owner.node].activation)}; this is the reference edge of "
               f"{owner.node!r}, positive by definition")
        reference = _fmt(key)
        return EdgeSign(*key, "?", 0.0, weight, False, why, constraint, "+", reference)
    res = outcome.edges[key]
    w_sign = "+" if res.weight > 0 else "-" if res.weight < 0 else "?"
    conf = calibrated(res.ratio, floor_ratio, effort=level) if stable and w_sign != "?" else 0.0
    verdict = w_sign if conf >= threshold else "?"
    losses = f"loss {res.alt_loss:.3g} vs {outcome.loss:.3g}, ratio {res.ratio:.2f}"
    at_floor = floor_ratio <= FLOOR
    if not stable:
        why = "the best fit kept improving during the test"
    elif verdict != "?":
        why = f"the opposite sign fits worse ({losses})"
    elif not at_floor:
        why = (f"undecided: the best fit is not at the noise floor ({floor_ratio:.2f}x the estimate), so an "
               f"opposite-sign fit near it shows no ambiguity ({losses})")
    elif res.ratio < 0.05:
        why = f"the opposite sign fits as well ({losses})"
    else:
        why = f"the opposite sign fits somewhat worse ({losses}), not enough for confidence {threshold}"
    if verdict == "?" and stable:
        same = equivalence(topo, key, weights, witness, active, at_floor and res.ratio < 0.05,
                           off.get(key, math.nan))
        if same:
            why = f"{why}: {same}"
    if owner is not None:
        why = f"{owner.describe(topo.nodes[owner.node].activation)}; relative to {reference}: {why}"
        return EdgeSign(*key, "?", conf, res.weight, False, why, constraint, verdict, reference, res.alt_loss,
                        res.alt_loss - outcome.loss, res.ratio)
    return EdgeSign(*key, verdict, conf, res.weight, True, why, constraint, "", "", res.alt_loss,
                    res.alt_loss - outcome.loss, res.ratio)
