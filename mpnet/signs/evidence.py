"""The evidence behind each verdict: per tested edge, the best fit found anywhere in the search with that edge's
sign reversed (its *witness*), and what makes it equivalent to the best fit when that is recognisable
(sign inference, step 2c).

Every fit the search made on all the data is in the workspace's archive (:meth:`Workspace.remember`): the
explored and hopped fits, every constrained refit of the edge test, every verification hop. A fit found
while testing one edge may be the best opposite-sign fit of another, so the test's own per-edge minimum is
not the last word: :func:`recheck` scans the whole archive, in the gauge (flip-symmetric neurons flipped so
their reference edges are positive: :func:`~mpnet.signs.edgetest.apply_gauge`), and lowers each edge's
opposite-sign loss to the best stored fit. No "somewhat worse" then stands while a better opposite-sign fit sat
in the workspace.

:func:`equivalence` names why a witness fits as well when the wiring and the two fits show it: a neuron that
no input reaches or that reaches no output, a neuron silent or always active on the data (a ReLU active on
>= 99.5 % of the samples is linear there), an edge that can be off, a chain whose signs are all reversed, or
the part of the wiring that sees one input alone computing the same function of it with other signs.
"""
from dataclasses import dataclass, replace
from typing import Dict, List, Optional, Sequence, Set, Tuple

import torch
from torch import Tensor

from ..graph.elements import EdgeKey, NodeId
from ..graph.topology import Topology
from .edgetest import EdgeResult, TestOutcome, apply_gauge
from .fitting import Workspace
from .symmetry import Flip

__all__ = ["Evidence", "recheck", "activity", "off_ratios", "equivalence", "as_weights", "ALWAYS", "NEVER"]

#: a ReLU-like neuron active on at least this fraction of the samples counts as always active (linear there)
ALWAYS = 0.995
#: ... and on at most this fraction as never active (silent)
NEVER = 0.005

_RELU_LIKE = {"relu", "leaky_relu", "elu", "selu", "gelu", "softplus", "neat.relu", "neat.elu", "neat.lelu",
              "neat.selu", "neat.softplus"}
_LINEAR_WHEN_NEGATIVE = {"leaky_relu", "neat.lelu"}


@dataclass
class Evidence:
    """What :func:`recheck` found: the outcome with every tested edge's opposite-sign loss lowered to the best
    stored fit, that fit per edge (``[P]`` rows, in the gauge), and how many edges it changed."""
    outcome: TestOutcome
    witnesses: Dict[EdgeKey, Tensor]
    lowered: List[EdgeKey]           # edges whose opposite-sign loss the archive lowered
    better_best: Optional[float]     # a stored fit's loss below the best fit's by more than 0.1 %, if any


def recheck(ws: Workspace, outcome: TestOutcome, flips: Dict[NodeId, Flip], refs: Dict[NodeId, EdgeKey],
            order: Sequence[NodeId]) -> Evidence:
    """Every tested edge's best opposite-sign fit among all the fits stored in ``ws`` (module docstring)."""
    archive = ws._archive
    if not archive or not outcome.edges:
        return Evidence(outcome, {}, [], None)
    theta = torch.cat([t for t, _ in archive])
    loss = torch.cat([l for _, l in archive])
    finite = torch.isfinite(loss)
    theta, loss = apply_gauge(ws, theta[finite], flips, refs, order), loss[finite]
    col = ws.pop(1).edge_col
    best_stored = float(loss.min()) if loss.numel() else float("inf")
    better = best_stored if best_stored < outcome.loss * (1 - 1e-3) else None
    edges: Dict[EdgeKey, EdgeResult] = {}
    witnesses: Dict[EdgeKey, Tensor] = {}
    lowered: List[EdgeKey] = []
    for key, res in outcome.edges.items():
        c = col[key]
        side = 1.0 if res.weight > 0 else -1.0          # the test forced the other side, zero included
        other = theta[:, c] * side <= 0
        if not bool(other.any()):
            edges[key] = res
            continue
        i = int(torch.argmin(torch.where(other, loss, torch.full_like(loss, float("inf")))))
        alt = float(loss[i])
        witnesses[key] = theta[i]
        if not alt >= res.alt_loss:                       # lower, or the test had none (nan)
            lowered.append(key)
            res = replace(res, alt_loss=alt, ratio=(alt - outcome.loss) / outcome.scale)
        edges[key] = res
    return Evidence(replace(outcome, edges=edges), witnesses, lowered, better)


def activity(ws: Workspace, theta: Tensor) -> Dict[NodeId, float]:
    """``{hidden ReLU-like neuron: fraction of the samples on which it is active}`` in the fit ``theta [P]``
    (leaky ReLUs count as active everywhere: they are linear on both sides of the kink)."""
    pop = ws.pop(1)
    Z, _ = pop.states(theta[None], ws.X)
    out: Dict[NodeId, float] = {}
    for j, node in enumerate(pop.node_ids):
        n = ws.topology.nodes[node]
        if n.role != "hidden" or n.activation not in _RELU_LIKE:
            continue
        if n.activation in _LINEAR_WHEN_NEGATIVE:
            z = Z[pop.rows[0, j]]
            out[node] = 1.0 if bool((z > 0).all() | (z < 0).all()) else float((z > 0).double().mean())
        else:
            out[node] = float((Z[pop.rows[0, j]] > 0).double().mean())
    return out


def _fmt(key: EdgeKey) -> str:
    return f"{key[0]}->{key[1]}"


def _component(reversed_edges: Set[EdgeKey], key: EdgeKey, topo: Topology) -> Set[EdgeKey]:
    """The edges of ``reversed_edges`` joined to ``key`` through shared hidden neurons."""
    part, todo = {key}, [key]
    while todo:
        a, b = todo.pop()
        for k in reversed_edges - part:
            if {a, b} & set(k) and any(topo.nodes[n].role == "hidden" for n in {a, b} & set(k)):
                part.add(k)
                todo.append(k)
    return part


def _chain(topo: Topology, edges: Set[EdgeKey]) -> Optional[List[NodeId]]:
    """The nodes of ``edges`` when they form one directed path of two or more edges whose inner neurons are
    single-path (one incoming and one outgoing edge), else None."""
    if len(edges) < 2:
        return None
    nxt = {a: b for a, b in edges}
    heads = set(nxt) - set(nxt.values())
    if len(nxt) != len(edges) or len(heads) != 1:
        return None
    path = [heads.pop()]
    while path[-1] in nxt and len(path) <= len(edges):
        path.append(nxt[path[-1]])
    inner = path[1:-1]
    if len(path) != len(edges) + 1 or any(topo.nodes[n].role != "hidden" or len(topo.predecessors(n)) != 1
                                          or len(topo.successors(n)) != 1 for n in inner):
        return None
    return path


def _one_input_chain(topo: Topology, key: EdgeKey) -> Optional[Tuple[NodeId, List[NodeId], List[EdgeKey]]]:
    """``(input, neurons, free edges)`` of the part of the wiring that sees one input alone, when ``key``'s
    hidden end lies in it: the hidden neurons whose only ancestor input is that input, and the free edges
    into and out of them; None otherwise."""
    ends = [n for n in key if topo.nodes[n].role == "hidden"]
    if not ends or topo.recurrent:   # a recurrent neuron's sources include later ones and itself: no such order
        return None
    seen: Dict[NodeId, Set[NodeId]] = {}
    for n in topo.topological_order():
        node = topo.nodes[n]
        seen[n] = {n} if node.role == "input" else set().union(*(seen[p] for p in topo.predecessors(n)))
    sources = {frozenset(seen[n]) for n in ends}
    if len(sources) != 1 or len(next(iter(sources))) != 1:
        return None
    source = next(iter(next(iter(sources))))
    neurons = [n for n in topo.topological_order() if topo.nodes[n].role == "hidden" and seen[n] == {source}]
    inside = set(neurons)
    edges = [k for k, e in topo.edges.items() if (k[0] in inside or k[1] in inside) and e.trainable
             and e.sign is None]
    return source, neurons, edges


def off_ratios(ws: Workspace, theta: Tensor, keys: Sequence[EdgeKey], loss: float, scale: float
               ) -> Dict[EdgeKey, float]:
    """``{edge: (loss with the edge's weight set to 0 in the fit theta [P]) - loss) / scale}``: what turning
    each edge off costs, nothing refitted."""
    if not keys:
        return {}
    rows = theta.expand(len(keys), -1).clone()
    col = ws.pop(1).edge_col
    for i, k in enumerate(keys):
        rows[i, col[k]] = 0.0
    off = ws.loss(rows).tolist()
    return {k: (off[i] - loss) / scale for i, k in enumerate(keys)}


def equivalence(topo: Topology, key: EdgeKey, best: Dict[EdgeKey, float], witness: Optional[Dict[EdgeKey, float]],
                active: Dict[NodeId, float], fits_as_well: bool, off: float = float("nan")) -> str:
    """Why the opposite sign of ``key`` is as good as the best fit's, when the wiring (a neuron that no input
    reaches or that reaches no output) or the best fit (a silent or always-active neuron at an end of the
    edge) shows it, or, when ``fits_as_well``, the fits do: the edge can be off (turning it off in the best fit
    costs ``off``, a ratio, below 0.05, or the witness has its weight 0), or the witness reverses every sign
    along a chain of single-path neurons (a mirrored chain), or signs inside the part of the wiring that sees
    one input alone (one input's chain: the same function of that input, another way). Failing those, the
    reason lists the other signs the witness reverses; ``""`` when there is nothing to say."""
    lost = topo.unreachable()
    for n in key:
        if n in lost.dead_ends:
            return f"neuron {n!r} reaches no output, so this weight has no effect on the data"
        if n in lost.unreached:
            return f"no input reaches neuron {n!r}: its value is a constant, which biases can absorb"
    for n in key:
        frac = active.get(n)
        if frac is None:
            continue
        if frac <= NEVER:
            return (f"neuron {n!r} is silent in the best fit (active on {frac:.2%} of the samples), so this "
                    f"weight has (almost) no effect")
        if frac >= ALWAYS and topo.successors(n):
            return (f"neuron {n!r} is active on {frac:.2%} of the samples in the best fit, linear there, so its "
                    f"incoming and outgoing signs can flip together")
    if not fits_as_well:
        return ""
    if off < 0.05:
        return f"the edge can be off: the best fit with its weight set to 0 fits as well (ratio {off:.2f})"
    if witness is None:
        return ""
    if witness[key] == 0.0:
        return "the edge can be off: a fit with its weight 0 fits as well"
    scale = max((abs(w) for w in best.values()), default=1.0)
    flipped = {k for k, w in witness.items() if topo.edges[k].trainable and topo.edges[k].sign is None
               and w * best[k] < 0 and min(abs(w), abs(best[k])) > 1e-6 * scale}
    if key not in flipped:
        return ""
    path = _chain(topo, _component(flipped, key, topo))
    if path is not None:
        return (f"a mirrored chain: a fit with every sign along {' -> '.join(map(str, path))} reversed fits "
                f"as well")
    one = _one_input_chain(topo, key)
    if one is not None:
        source, neurons, edges = one
        mine = [k for k in edges if k in flipped]
        what = "a mirrored chain" if len(mine) == len(edges) else "one input's chain"
        which = "every sign along it" if len(mine) == len(edges) else ", ".join(_fmt(k) for k in mine)
        see = "sees" if len(neurons) == 1 else "see"
        return (f"{what}: {', '.join(map(str, neurons))} {see} input {source} alone, and a fit with {which} "
                f"reversed is as good a function of {source}")
    order = {n: i for i, n in enumerate(topo.topological_order())}
    others = sorted(flipped - {key}, key=lambda k: (order[k[0]], order[k[1]]))
    if not others:
        return ""
    listed = ", ".join(_fmt(k) for k in others[:6]) + (f" and {len(others) - 6} more" if len(others) > 6 else "")
    return f"the witness also reverses {listed}"


def as_weights(ws: Workspace, theta: Tensor) -> Tuple[Dict[EdgeKey, float], Dict[NodeId, float]]:
    """A row ``[P]`` as ``({edge: weight}, {neuron: bias})``."""
    pop = ws.pop(1)
    row = theta.tolist()
    return ({k: row[i] for i, k in enumerate(pop.keys)}, {n: row[pop.col[n]] for n in pop.node_ids})
