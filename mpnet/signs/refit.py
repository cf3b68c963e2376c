"""``method="refit"``: fit to the noise floor, then test every edge by refitting it with its sign forced.

The steps, each in its own module: :mod:`~mpnet.signs.fitting` (the best fits), :mod:`~mpnet.signs.noise`
(the floor they are judged against), :mod:`~mpnet.signs.symmetry` (the signs no data can fix, and the gauge
that fixes the rest relative to reference edges), :mod:`~mpnet.signs.edgetest` (the refit test) and
:mod:`~mpnet.signs.calibration` (its statistic made a probability). This module puts them together and
writes the verdicts.
"""
import math
import time
from typing import Callable, Dict, Optional

import torch
from torch import Tensor
from torch.types import Device

from .calibration import confidence as calibrated
from .edgetest import TestOutcome, apply_gauge, test_edges
from .fitting import Effort, Workspace, search
from .inputs import Recorded
from .noise import estimate_noise
from .report import EdgeSign, SignReport
from .symmetry import Flip, flip_symmetries, reference_edges
from ..graph.elements import EdgeKey, NodeId
from ..graph.topology import Topology

__all__ = ["infer_refit", "regimes"]

_RELU_LIKE = {"relu", "leaky_relu", "elu", "selu", "gelu", "softplus", "neat.relu", "neat.elu", "neat.lelu",
              "neat.selu", "neat.softplus"}
_LINEAR_WHEN_NEGATIVE = {"leaky_relu", "neat.lelu"}


def regimes(ws: Workspace, theta: Tensor) -> Dict[NodeId, str]:
    """``{hidden neuron: "linear" | "silent"}`` for ReLU-like neurons that, in the fit ``theta [P]``, never
    cross their kink on the data (the others are absent)."""
    pop = ws.pop(1)
    Z, _ = pop.states(theta[None], ws.X)
    out: Dict[NodeId, str] = {}
    for j, node in enumerate(pop.node_ids):
        n = ws.topology.nodes[node]
        if n.role != "hidden" or n.activation not in _RELU_LIKE:
            continue
        z = Z[pop.rows[0, j]]
        if bool((z > 0).all()):
            out[node] = "linear"
        elif bool((z < 0).all()):
            out[node] = "linear" if n.activation in _LINEAR_WHEN_NEGATIVE else "silent"
    return out


def _constraint(topo: Topology, key: EdgeKey) -> str:
    e = topo.edges[key]
    return "frozen" if not e.trainable else f"fixed {e.sign}" if e.sign else "free"


def _fmt(key: EdgeKey) -> str:
    return f"{key[0]}->{key[1]}"


def infer_refit(topo: Topology, start: Optional[Topology], X: Tensor, Y: Tensor, *, effort: Effort,
                threshold: float, seed: int, noise_std: Optional[float], resolution: float, verify: float,
                dtype: torch.dtype, device: Device, log: Optional[Callable[[str], None]],
                observed: Optional[Recorded] = None) -> SignReport:
    """The refit method of :func:`mpnet.infer_signs` (arguments checked there; ``observed``: recordings of hidden
    neurons, in every fit's loss)."""
    t0 = time.time()
    ws = Workspace(topo, X, Y, dtype=dtype, device=device, seed=seed, log=log, observed=observed)
    extra = None
    if start is not None:
        extra = ws.pop(1).theta_of(start)[None]
        if bool(torch.isnan(extra).any()):
            extra = None
    pool_theta, pool_loss = search(ws, effort, extra)
    noise = estimate_noise(ws.X, ws.Y, noise_std=noise_std)
    ws.log(f"best fit: loss {float(pool_loss[0]):.4g}, noise floor {noise.variance:.4g} ({noise.method})")

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
    tested = [k for k, e in topo.edges.items() if e.trainable and e.sign is None and k not in ref_edges]
    outcome = test_edges(ws, pool_theta, pool_loss, tested, lower, upper, flips, effort, resolution=resolution,
                         verify=verify)
    # noise-free data: a loss at the resolution counts as at the floor (as the ratio's denominator does)
    floor = max(noise.variance, resolution * float(ws.Y.var()))
    floor_ratio = outcome.loss / floor if floor > 0 else math.inf
    regime = regimes(ws, outcome.theta)
    weights = {k: float(outcome.theta[i]) for i, k in enumerate(ws.pop(1).keys)}
    rows = [_verdict(topo, k, weights[k], outcome, flips, refs, regime, floor_ratio, threshold) for k in topo.edges]

    note = ""
    if floor_ratio > 3:
        note = (f"the best fit stays {floor_ratio:.1f}x above the estimated noise floor: a poor fit, so fewer "
                f"signs can be called (the wiring may not express the data, or the search missed the optimum)")
    if not outcome.stable:
        note = (note + "; " if note else "") + "the best fit kept improving during the test: no sign is called"
    best = topo.with_weights({k: w for k, w in weights.items() if topo.edges[k].trainable},
                             {n: float(outcome.theta[ws.pop(1).col[n]]) for n in ws.pop(1).node_ids})
    gauge = {node: (refs[node], flips[node].edges) for node in order}
    return SignReport(rows, "refit", outcome.loss, noise.variance, noise.method, threshold, time.time() - t0,
                      ws.evaluations, outcome.stable, note, best,
                      extra={"gauge": gauge, "restarts": outcome.restarts, "scale": outcome.scale})


def _verdict(topo: Topology, key: EdgeKey, weight: float, outcome: TestOutcome, flips: Dict[NodeId, Flip],
             refs: Dict[NodeId, EdgeKey], regime: Dict[NodeId, str], floor_ratio: float,
             threshold: float) -> EdgeSign:
    edge = topo.edges[key]
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
    conf = calibrated(res.ratio, floor_ratio) if outcome.stable and w_sign != "?" else 0.0
    verdict = w_sign if conf >= threshold else "?"
    losses = f"loss {res.alt_loss:.3g} vs {outcome.loss:.3g}, ratio {res.ratio:.2f}"
    if not outcome.stable:
        why = "the best fit kept improving during the test"
    elif verdict != "?":
        why = f"the opposite sign fits worse ({losses})"
    elif res.ratio < 0.05:
        why = f"the opposite sign fits as well ({losses})"
    else:
        why = f"the opposite sign fits somewhat worse ({losses}), not enough for confidence {threshold}"
    ends = [n for n in key if n in regime]
    if ends and verdict == "?":
        n = ends[0]
        what = ("silent on the data in the best fit, so this weight has (almost) no effect" if regime[n] == "silent"
                else "in its linear regime on all the data in the best fit, so its incoming and outgoing signs "
                     "can flip together")
        why = f"neuron {n!r} is {what}; {why}"
    if owner is not None:
        why = f"{owner.describe(topo.nodes[owner.node].activation)}; relative to {reference}: {why}"
        return EdgeSign(*key, "?", conf, res.weight, False, why, constraint, verdict, reference, res.alt_loss,
                        res.alt_loss - outcome.loss, res.ratio)
    return EdgeSign(*key, verdict, conf, res.weight, True, why, constraint, "", "", res.alt_loss,
                    res.alt_loss - outcome.loss, res.ratio)
