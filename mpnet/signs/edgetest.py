"""The per-edge sign test: refit with the edge's sign forced opposite and see what it costs (sign inference, step 2).

For every free edge ``e`` of the best fit (loss ``L0``), the same wiring is fitted again with ``w_e`` bound to
the other side of zero (zero included), starting from the best fit moved there (``w_e`` set to 0 or mirrored),
from the best fit with an end neuron linearly flipped or redrawn, with a ReLU reversed whose turn moves ``w_e``
(its target, or a neuron between its ends; alone, and with each ReLU neighbour turned too) or with an end
exchanged for a neuron whose edge has the other sign (:mod:`mpnet.signs.moves`), from the other fits of the
pool, and from random starts; every edge's refits are rows of one batched fit. An edge whose opposite sign still
costs a ratio of ``SAME`` or more after these is refitted again from starts with the region around it drawn
afresh. The statistic is

    ratio_e = (L_opp(e) - L0) / max(L0, resolution * Var(Y))

where ``L_opp(e)`` is the best loss found with the sign forced. Large means the data need the sign; about 0
means the other sign fits as well. Because a missed opposite-sign solution (an optimisation failure) would
make a false call, every edge with ``ratio > verify`` is searched again as hard as the best fit was (basin
hopping under the constraint, ``fitting.hop``). Whenever any refit beats ``L0`` (a
constrained fit is also a fit), it becomes the new best fit and the test starts again from it; if the best
fit is still moving after ``restarts`` such restarts, no sign is called.

Flip-symmetric neurons (tanh, sigmoid, ...; :mod:`mpnet.signs.symmetry`) first get a gauge: each such neuron's
reference edge is made positive by applying its exact flip, and bound ``>= 0`` in every refit; the test
then measures signs relative to the reference edges.
"""
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor

from ..graph.elements import EdgeKey, NodeId
from ..graph.topology import Topology
from .moves import (clip, crossover, flip_neuron, random_starts, redraw_neurons, region, region_starts, reverse_neuron,
                    reversible, swap_neurons)
from .fitting import Effort, Workspace, distinct, hop
from .symmetry import Flip, ODD, AFFINE_ODD, EVEN

__all__ = ["EdgeResult", "TestOutcome", "apply_gauge", "test_edges", "SAME"]

#: a ratio below this is "the opposite sign fits as well" (the report's reason); a verification search stops there
SAME = 0.05


@dataclass
class EdgeResult:
    """What the refit test found for one edge."""
    key: EdgeKey
    weight: float          # the best fit's weight, in the gauge
    alt_loss: float        # best loss found with the sign forced opposite
    ratio: float           # (alt_loss - loss) / scale
    verified: bool         # searched again as hard as the best fit


@dataclass
class TestOutcome:
    theta: Tensor                     # [P] the best fit, in the gauge
    loss: float                       # its loss L0
    scale: float                      # denominator of the ratios
    edges: Dict[EdgeKey, EdgeResult]
    stable: bool                      # the best fit stopped moving within the allowed restarts
    restarts: int


def apply_gauge(ws: Workspace, theta: Tensor, flips: Dict[NodeId, Flip], refs: Dict[NodeId, EdgeKey],
                order: Sequence[NodeId]) -> Tensor:
    """Rows of ``theta`` with each flip-symmetric neuron flipped, in topological ``order``, where its
    reference edge is negative (the flips are exact: the function is unchanged). Any number of rows: an exact
    flip only moves columns, so no batched network of that size is built."""
    pop = ws.pop(1)
    for node in order:
        col = pop.edge_col[refs[node]]
        neg = theta[:, col] < 0
        if bool(neg.any()):
            theta = torch.where(neg[:, None], flip_neuron(pop, theta, node), theta)
    return theta


def _reversals(topo: Topology, key: EdgeKey) -> List[NodeId]:
    """The ReLU-like neurons whose reversal (:func:`~mpnet.signs.moves.reverse_neuron`) moves the weight of edge
    ``key = (a, b)``: ``b`` (its incoming weights negated) and every ``v`` on a path ``a -> v -> b`` (``a -> b``
    carries part of ``v``'s linear part)."""
    a, b = key
    between = [v for v in topo.successors(a) if v != b and b in topo.successors(v)]
    return [v for v in [b] + between if reversible(topo, v)]


def _neighbours(topo: Topology, node: NodeId) -> List[NodeId]:
    """The ReLU-like neurons that send to or receive from ``node`` (:func:`~mpnet.signs.moves.reversible`)."""
    near = dict.fromkeys(list(topo.predecessors(node)) + list(topo.successors(node)))
    return [v for v in near if v != node and reversible(topo, v)]


def _swaps(topo: Topology, key: EdgeKey, best: Tensor, col: Dict[EdgeKey, int], most: int = 4
           ) -> List[Tuple[NodeId, NodeId]]:
    """The pairs of hidden neurons whose exchange (:func:`~mpnet.signs.moves.swap_neurons`) gives edge
    ``key = (a, b)`` of the fit ``best [P]`` the opposite sign: ``a`` with a ``v`` whose edge ``v -> b`` has it,
    ``b`` with a ``v`` whose edge ``a -> v`` has it (of the same kind: activation and aggregation); the ``most``
    with the largest such weights."""
    a, b = key
    w = float(best[col[key]])
    nodes = topo.nodes                       # a copy per access: taken once

    def kind(n: NodeId) -> Tuple[str, str, str]:
        return nodes[n].role, nodes[n].activation, nodes[n].aggregation
    found = []
    for end, near in ((a, [(v, (v, b)) for v in topo.predecessors(b)]),
                      (b, [(v, (a, v)) for v in topo.successors(a)])):
        if nodes[end].role != "hidden":
            continue
        for v, edge in near:
            x = float(best[col[edge]])
            if v not in (a, b) and kind(v) == kind(end) and x * w < 0:
                found.append((abs(x), (end, v)))
    found.sort(key=lambda f: -f[0])
    return [pair for _, pair in found[:most]]


def _warm_starts(ws: Workspace, best: Tensor, pool: Tensor, key: EdgeKey, lo: Tensor, hi: Tensor,
                 flips: Dict[NodeId, Flip], n_random: int) -> Tensor:
    """The refits' starting rows for edge ``key`` (bounds ``lo``/``hi`` ``[P]``), clipped into them."""
    topo = ws.topology
    pop1 = ws.pop(1)
    c = pop1.edge_col[key]
    rows = []
    zero = best.clone()
    zero[c] = 0.0
    mirror = best.clone()
    mirror[c] = -best[c]
    rows += [zero, mirror]
    ends = [n for n in key if topo.nodes[n].role == "hidden" and n not in flips]
    for node in ends:
        act = topo.nodes[node].activation
        if act not in ODD | AFFINE_ODD | EVEN:
            rows.append(flip_neuron(pop1, best[None], node, ws.X)[0])
    for node in _reversals(topo, key):
        turned = reverse_neuron(pop1, best[None], node)
        rows.append(turned[0])
        # ... and with a neighbour turned too: where both face the other way from the best fit, turning one
        # leaves the other's linear part on edges that do not exist, and its refit stays above the floor
        rows += [reverse_neuron(pop1, turned, v)[0] for v in _neighbours(topo, node)]
    for u, v in _swaps(topo, key, best, pop1.edge_col):
        rows.append(swap_neurons(pop1, best[None], u, v)[0])
    if ends:
        redraw = redraw_neurons(ws.pop(len(ends)), best.expand(len(ends), -1).clone(), ws.X, ends, ws.gen,
                                lo.expand(len(ends), -1), hi.expand(len(ends), -1))
        rows += list(redraw)
    rows += list(pool[1:])
    witnesses = ws.witnesses(c, float(best[c]), 16)   # earlier fits that already have the other sign
    if witnesses.shape[0]:
        rows += list(witnesses[:3])
        # ... and the best fit with the region around the edge taken from them: the three best combinations
        crossed = clip(crossover(pop1, best.expand_as(witnesses), witnesses, region(topo, key)),
                       lo.expand_as(witnesses), hi.expand_as(witnesses))
        rows += list(crossed[torch.argsort(ws.loss(crossed))[:3]])
    if n_random:
        rows += list(random_starts(ws.pop(n_random), ws.X, ws.gen, lo.expand(n_random, -1).clone(),
                                   hi.expand(n_random, -1).clone()))
    starts = torch.stack(rows)
    return clip(starts, lo.expand_as(starts), hi.expand_as(starts))


def _fit_starts(ws: Workspace, theta: Tensor, lo: Tensor, hi: Tensor, effort: Effort, data: Tuple[Tensor, Tensor],
                smooth: bool) -> Tuple[Tensor, Tensor]:
    """Rows fitted on ``data`` for ``effort.hop_iters``; with ``smooth``, first through the softplus stages of the
    best fit's exploration (:func:`~mpnet.signs.fitting.search`): fresh ReLU starts die in chains without them."""
    twin = ws.smoothed() if smooth and effort.smooth else None
    if twin is not None:
        soft_ws, k = twin
        for beta in effort.smooth:
            if soft_ws.scale is not None:   # a smoothed recorded neuron computes beta times its value
                soft_ws.scale = torch.where(soft_ws.soft_cols, beta, 1.0).to(soft_ws.scale)
            scale = beta ** k               # positive: bounds keep their sides
            fitted, _ = soft_ws.fit(theta * scale, lo * scale, hi * scale, iters=effort.explore_iters, data=data)
            ws.evaluations += theta.shape[0]
            theta = clip(fitted / scale, lo, hi)
    return ws.fit(theta, lo, hi, iters=effort.hop_iters, data=data)


def _refit(ws: Workspace, theta: Tensor, lo: Tensor, hi: Tensor, owner: Tensor, effort: Effort,
           data: Tuple[Tensor, Tensor], smooth: bool) -> Tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """Starting rows ``theta`` of the edges ``owner`` (each row's edge index) fitted on ``data``
    (:func:`_fit_starts`), then each edge's three best on all the data: ``(theta, loss, lo, hi, owner)`` of those."""
    theta, loss = _fit_starts(ws, theta, lo, hi, effort, data, smooth)
    keep = torch.cat([torch.nonzero(owner == i).view(-1)[torch.argsort(loss[owner == i])[:3]]
                      for i in torch.unique(owner).tolist()])
    theta, loss = ws.fit(theta[keep], lo[keep], hi[keep], iters=2 * effort.hop_iters)
    return theta, loss, lo[keep], hi[keep], owner[keep]


def _forced(lower: Tensor, upper: Tensor, col: int, weight: float) -> Tuple[Tensor, Tensor]:
    """Bounds ``[P]`` with column ``col`` forced to the side of zero opposite to ``weight``."""
    lo, hi = lower.clone(), upper.clone()
    if weight > 0:
        hi[col] = torch.minimum(hi[col], torch.zeros_like(hi[col]))
    else:
        lo[col] = torch.maximum(lo[col], torch.zeros_like(lo[col]))
    return lo, hi


def test_edges(ws: Workspace, pool_theta: Tensor, pool_loss: Tensor, edges: Sequence[EdgeKey], lower: Tensor,
               upper: Tensor, flips: Dict[NodeId, Flip], effort: Effort, *, resolution: float = 1e-4,
               verify: float = 0.2, verify_rounds: Optional[int] = None, n_random: int = 2,
               n_region: Optional[int] = None, restarts: int = 3,
               progress: Optional[Callable[[str, int, int], None]] = None) -> TestOutcome:
    """Run the refit test (module docstring) on ``edges``.

    Args:
        ws: the workspace (wiring and data).
        pool_theta, pool_loss: ``[K, P]``, ``[K]`` the best distinct fits, best first, already in the gauge.
        edges: the edges to test (free, trainable, not a reference edge).
        lower, upper: ``[P]`` bounds of every fit: the topology's constraints and the gauge.
        flips: the flip-symmetric neurons (their ends get no linear flip start: it would break the gauge).
        effort: the search's sizes (verification hops use ``pool``, ``redraws``, ``hop_iters``).
        resolution: the smallest loss scale that counts, as a fraction of the target variance.
        verify: edges whose ratio exceeds this are searched again before any call.
        verify_rounds: most hop rounds of that search (default: ``effort.rounds``, at least the default effort's,
            so that a smaller search's calls face witnesses searched as hard as the default's; it stops when stale).
        n_random: random starts per edge.
        n_region: starts per edge with the region around it drawn afresh (default ``effort.starts // 8``, at least 8).
        restarts: how many times a better best fit found by the test may restart it.
        progress: called with ``(stage, edges done, edges in all)`` as the test goes.
    """
    stage = progress or (lambda name, done, total: None)
    n_region = max(8, effort.starts // 8) if n_region is None else n_region
    verify_rounds = max(effort.rounds, Effort().rounds) if verify_rounds is None else verify_rounds
    scale_floor = resolution * float(ws.Y.var(0, unbiased=False).mean())
    pool_theta, pool_loss = pool_theta.clone(), pool_loss.clone()
    P = pool_theta.shape[1]
    col = {k: ws.pop(1).edge_col[k] for k in edges}
    for attempt in range(restarts + 1):
        best, L0 = pool_theta[0], float(pool_loss[0])
        if not edges:
            return TestOutcome(best, L0, max(L0, scale_floor), {}, True, attempt)
        stage("edge test" if attempt == 0 else f"edge test (restart {attempt})", 0, len(edges))
        # ---- one batched refit of every edge from its warm starts (on a subsample, each edge's three best then on
        # all the data)
        bounds = [_forced(lower, upper, col[k], float(best[col[k]])) for k in edges]
        starts = [_warm_starts(ws, best, pool_theta, k, *b, flips, n_random) for k, b in zip(edges, bounds)]
        owner_t = torch.cat([torch.full((r.shape[0],), i) for i, r in enumerate(starts)])
        lo_all, hi_all = (torch.cat([b[j].expand_as(r) for b, r in zip(bounds, starts)]) for j in (0, 1))
        data = ws.subsample(2 * effort.subsample)
        theta, loss, lo_all, hi_all, owner_t = _refit(ws, torch.cat(starts), lo_all, hi_all, owner_t, effort, data,
                                                      False)
        alt = torch.full((len(edges),), float("inf"), dtype=loss.dtype).scatter_reduce(0, owner_t, loss.cpu(), "amin")
        # ---- then every edge whose opposite sign still costs (ratio SAME or more) from starts with the region around
        # it (its ends, every hidden ancestor and descendant) drawn afresh, the rest of the best fit kept, through
        # the smoothing stages like the best fit's exploration: a mirrored chain differs from the best fit in a
        # whole region at once, which moves of one neuron (redraw, flip) rarely reach, and fully random starts lose
        # what is fitted well. The edges whose opposite sign fits as well already are settled: more starts could
        # only lower a ratio below SAME
        open_edges = torch.nonzero((alt - L0) / max(L0, scale_floor) >= SAME).view(-1).tolist() if n_region else []
        if open_edges:
            fresh = torch.cat([region_starts(ws.pop(n_region), best, ws.X, region(ws.topology, edges[i]), ws.gen,
                                             bounds[i][0].expand(n_region, -1), bounds[i][1].expand(n_region, -1))
                               for i in open_edges])
            f_lo, f_hi = (torch.cat([bounds[i][j].expand(n_region, -1) for i in open_edges]) for j in (0, 1))
            found = _refit(ws, fresh, f_lo, f_hi, torch.tensor(open_edges).repeat_interleave(n_region), effort, data,
                           True)
            theta, loss, lo_all, hi_all, owner_t = (torch.cat(pair) for pair in zip(
                (theta, loss, lo_all, hi_all, owner_t), found))
            alt = alt.scatter_reduce(0, found[4], found[1].cpu(), "amin")
        ws.log(f"edge test: {len(edges)} edges refitted from warm starts, {len(open_edges)} also from fresh regions")
        improved = float(loss.min()) < L0 * (1 - 1e-3)
        # ---- verification: search the candidates' opposite side as hard as the best fit
        verified = torch.zeros(len(edges), dtype=torch.bool)
        if not improved:
            ratio = (alt - L0) / max(L0, scale_floor)
            cand = torch.nonzero(ratio > verify).view(-1).tolist()
            stage("verify" if attempt == 0 else f"verify (restart {attempt})", len(edges) - len(cand), len(edges))
            if cand:
                ws.log(f"edge test: {len(edges) - len(cand)} of {len(edges)} edges refitted, {len(cand)} with a "
                       f"costly opposite sign searched again")
                K = 2   # each candidate's opposite side gets a pool and hop rounds like the best fit's islands
                g_theta, g_loss = [], []
                for i in cand:
                    mine = torch.nonzero(owner_t == i).view(-1)
                    t, l = distinct(theta[mine][None], loss[mine][None], K)
                    g_theta.append(t[0])
                    g_loss.append(l[0])
                g_lo = torch.stack([_forced(lower, upper, col[edges[i]], float(best[col[edges[i]]]))[0]
                                    for i in cand])
                g_hi = torch.stack([_forced(lower, upper, col[edges[i]], float(best[col[edges[i]]]))[1]
                                    for i in cand])
                # a candidate whose opposite side reaches the best fit (ratio below SAME) is settled: "fits as
                # well" is all more rounds could show, so its search stops there
                stop = torch.full((len(cand),), L0 + SAME * max(L0, scale_floor), dtype=torch.float64)
                h_theta, h_loss = hop(ws, torch.stack(g_theta), torch.stack(g_loss), effort, g_lo, g_hi,
                                      rounds=verify_rounds, stop=stop)
                for j, i in enumerate(cand):
                    alt[i] = min(float(alt[i]), float(h_loss[j].min()))
                    verified[i] = True
                improved = float(h_loss.min()) < L0 * (1 - 1e-3)
                if improved:
                    j = int(torch.argmin(h_loss.min(1).values))
                    theta = torch.cat([theta, h_theta[j]])
                    loss = torch.cat([loss, h_loss[j]])
        if improved:
            # a refit beat the best fit: the search had missed it. Pool it with the best refits, hop from
            # there (without the forced signs) and polish, then test again from the new best fit.
            top = torch.argsort(loss)[:effort.pool]
            K = pool_theta.shape[0]
            merged = distinct(torch.cat([pool_theta, theta[top]])[None], torch.cat([pool_loss, loss[top]])[None], K)
            hopped = hop(ws, merged[0][:, :effort.pool], merged[1][:, :effort.pool], effort, lower[None], upper[None])
            pool_theta, pool_loss = distinct(torch.cat([hopped[0], merged[0]], 1),
                                             torch.cat([hopped[1], merged[1]], 1), K)
            pool_theta, pool_loss = ws.fit(pool_theta[0], lower.expand(K, -1), upper.expand(K, -1),
                                           iters=effort.polish_iters, tol=1e-13)
            order = torch.argsort(pool_loss)
            pool_theta, pool_loss = pool_theta[order], pool_loss[order]
            ws.log(f"edge test: a refit beat the best fit ({L0:.4g}); new best {float(pool_loss[0]):.4g}, "
                   f"testing again")
            continue
        scale = max(L0, scale_floor)
        stage("edge test", len(edges), len(edges))
        results = {k: EdgeResult(k, float(best[col[k]]), float(alt[i]), float((alt[i] - L0) / scale),
                                 bool(verified[i])) for i, k in enumerate(edges)}
        return TestOutcome(best, L0, scale, results, True, attempt)
    scale = max(float(pool_loss[0]), scale_floor)
    results = {k: EdgeResult(k, float(pool_theta[0, col[k]]), float("nan"), float("nan"), False) for k in edges}
    return TestOutcome(pool_theta[0], float(pool_loss[0]), scale, results, False, restarts)
