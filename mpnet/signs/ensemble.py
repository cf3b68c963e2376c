"""``method="ensemble"``: the fast vote of an ensemble of independently trained networks.

It trains an ensemble of copies of one topology — one batched :class:`~mpnet.Network`, each
member with its own random initial weights — drops the members that fail to fit, removes the sign-flip
symmetries (:mod:`~mpnet.signs.symmetry`) by fixing a gauge per member, and reports per edge:

* ``sign``: ``+`` / ``-`` when the data determine it with confidence, ``?`` otherwise;
* ``confidence``: ``k / (n + 1)`` where ``k`` of the ``n`` good members agree on the majority sign, scaled
  down for edges that carry almost no signal, and 0 for edges a symmetry leaves undetermined;
* ``identifiable`` and ``reason``: whether any amount of data could fix the sign, and why not — a neuron's
  flip symmetry (only the sign *relative* to the neuron's reference edge is determined, reported in
  ``relative``), a ReLU-like neuron that stays in its linear regime on the data (the same joint flip then
  fits the data equally well), or a neuron silent or saturated on the data (its weights have no effect).
"""
import math
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Callable, Dict, Hashable, List, Mapping, Optional, Tuple, Union

import torch
from torch import Tensor

from ..checks import check_choice, check_float, check_fraction, check_int
from ..model import Network
from .report import EdgeSign, SignReport
from .symmetry import Flip, flip, flip_symmetries, reference_edges
from ..graph.elements import NodeId
from ..graph.topology import Topology
from ..train import LOSSES, LossFn, fit

if TYPE_CHECKING:   # pragma: no cover
    from numpy.typing import ArrayLike   # the data: a tensor, an array or nested lists

__all__ = ["infer_ensemble"]

_RELU_LIKE = {"relu", "leaky_relu", "elu", "selu", "gelu", "softplus",
              "neat.relu", "neat.elu", "neat.lelu", "neat.selu", "neat.softplus"}
_LINEAR_WHEN_NEGATIVE = {"leaky_relu", "neat.lelu"}
_SATURATION = {"tanh": 2.5, "sigmoid": 5.0, "clamped": 1.0, "neat.tanh": 1.0, "neat.sigmoid": 1.0,
               "neat.clamped": 1.0}


def _random_start(topo: Topology, hidden_bias: float) -> Topology:
    """Trainable edges lose their hand-set weight, so every member starts elsewhere; hidden neurons start
    with bias ``hidden_bias`` (a ReLU chain started at bias 0 is mostly dead: on the question network 0 of
    64 members fitted from bias 0, 35 of 64 from bias 0.5)."""
    edges = [replace(e, weight=None) if e.trainable else e for e in topo.edges.values()]
    nodes = [replace(n, bias=hidden_bias) if n.role == "hidden" else n for n in topo.nodes.values()]
    return Topology(nodes, edges, warn=False)


def _baseline(loss: str, Y: Tensor) -> Optional[float]:
    """Loss of the best constant prediction: what 'failing to fit' is measured against."""
    if loss == "mse":
        return float(Y.var(dim=0, unbiased=False).mean())
    if loss == "bce":
        p = Y.float().mean().clamp(1e-6, 1 - 1e-6)
        return float(-(p * p.log() + (1 - p) * (1 - p).log()))
    if loss == "cross_entropy":
        freq = torch.bincount(Y.long().view(-1)).float()
        freq = freq[freq > 0] / freq.sum()
        return float(-(freq * freq.log()).sum())
    return None


def _regimes(topo: Topology, z: Tensor, index: Mapping[Hashable, int]) -> Dict[NodeId, Optional[str]]:
    """``{hidden neuron: "linear" | "silent" | "saturated" | None}`` for one member; ``z: [rows, batch]``."""
    out: Dict[NodeId, Optional[str]] = {}
    for node_id, node in topo.nodes.items():
        if node.role != "hidden":
            continue
        zj = z[index[node_id]]
        act = node.activation
        regime = None
        if act in _RELU_LIKE:
            if bool((zj > 0).all()):
                regime = "linear"
            elif bool((zj < 0).all()):
                regime = "linear" if act in _LINEAR_WHEN_NEGATIVE else "silent"
        elif act in _SATURATION:
            cut = _SATURATION[act]
            if bool((zj >= cut).all()) or bool((zj <= -cut).all()):
                regime = "saturated"
        out[node_id] = regime
    return out


def infer_ensemble(topology: Topology, X: "ArrayLike", Y: "ArrayLike", *, ensemble: int = 32, epochs: int = 500,
                lr: float = 0.02, loss: Union[str, LossFn] = "mse",
                batch_size: Optional[int] = None, seed: int = 0, init: str = "random", fail_fraction: float = 0.02,
                threshold: float = 0.9, min_effect: float = 0.05, hidden_bias: float = 0.5,
                progress: Optional[bool] = None) -> SignReport:
    """Infer the sign of every edge of ``topology`` from data, with a confidence per edge.

    Args:
        topology: the wiring; fixed signs, Dale neurons and frozen edges are honoured, not inferred.
        X, Y: ``[n, n_inputs]`` and ``[n, n_outputs]`` (or as :func:`mpnet.fit` takes them).
        ensemble: number of members, trained together as one batched network.
        epochs, lr, loss, batch_size: passed to :func:`mpnet.fit` (Adam).
        seed: seeds the members' initial weights and the mini-batch order.
        init: ``"random"`` (default) redraws every trainable weight per member, so hand-set weights do not
            bias the verdict, and draws each member's hidden biases from ``U(0, 2 * hidden_bias)``
            (members that share a start share a bias in what they learn); ``"given"`` keeps the declared
            weights and biases (members then differ only where weights are unset).
        fail_fraction: a member is excluded when its loss exceeds the best member's by more than this
            fraction of the loss of a constant prediction (2 %: members stuck in a worse local minimum would
            otherwise vote with the ones that fit).
        threshold: confidence needed to report ``+`` or ``-`` rather than ``?``.
        min_effect: edges carrying less than this share of their target's pre-activation spread are
            down-weighted (their sign barely matters to the fit).

    Returns:
        a :class:`SignReport`.
    """
    t0 = time.time()
    init = check_choice(init, "init", ["random", "given"])
    ensemble = check_int(ensemble, "ensemble", min=1)
    fail_fraction = check_float(fail_fraction, "fail_fraction", min=0)
    hidden_bias = check_float(hidden_bias, "hidden_bias", min=0)
    min_effect = check_fraction(min_effect, "min_effect")
    base = _random_start(topology, hidden_bias) if init == "random" else topology
    net = Network([base] * ensemble, seed=seed)
    if init == "random":   # members differ in their starting biases too: U(0, 2 * hidden_bias), mean hidden_bias
        hidden_ids = {n for n, node in topology.nodes.items() if node.role == "hidden"}
        hidden = torch.tensor([node_id in hidden_ids for _, node_id in net.rows[net.plan.num_inputs:]])
        gen = torch.Generator().manual_seed(seed + 1)
        with torch.no_grad():
            draw = torch.rand(hidden.shape, generator=gen, dtype=torch.float64) * (2 * hidden_bias)
            net.bias.copy_(torch.where(hidden, draw.to(net.bias.dtype), net.bias))
    X = torch.as_tensor(X, dtype=net.bias.dtype)
    Y = torch.as_tensor(Y)
    fit(net, X, Y, loss=loss, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed, progress=progress)

    # ---- which members fit
    loss_fn = LOSSES[loss] if isinstance(loss, str) else loss
    Yt = Y.to(net.bias.dtype) if (Y.is_floating_point() or loss != "cross_entropy") else Y
    if loss != "cross_entropy" and Yt.dim() == 1:
        Yt = Yt.unsqueeze(-1)
    with torch.no_grad():
        final = loss_fn(net(X), Yt).view(-1).double()
    best = float(final.min())
    base_loss = _baseline(loss, Y) if isinstance(loss, str) else None
    if base_loss is not None and base_loss > best:
        cutoff = best + fail_fraction * (base_loss - best)
    else:
        cutoff = (1.0 + fail_fraction) * best + 1e-12
    good = [k for k in range(ensemble) if float(final[k]) <= cutoff]

    # ---- weights [K, E] in the topology's edge order, states per member
    keys = list(topology.edges)
    col: Dict[Tuple[Hashable, Hashable], int] = {k: i for i, k in enumerate(keys)}   # looked up by net.edge_keys too
    W = torch.zeros(ensemble, len(keys), dtype=torch.float64)
    weights = net.weight.detach().double().tolist()
    for i, (t, src, dst) in enumerate(net.edge_keys):
        W[t, col[(src, dst)]] = float(weights[i])
    Z, H = net.states(X)
    row_of: List[Dict[Hashable, int]] = [dict() for _ in range(ensemble)]
    for r, (t, node_id) in enumerate(net.rows):
        row_of[t][node_id] = r

    # ---- symmetries: structural flips, and data-dependent ones (linear regime), silent neurons
    nodes = topology.nodes
    flips: Dict[NodeId, Flip] = dict(flip_symmetries(topology))
    regime_votes: Dict[NodeId, Dict[str, int]] = {}
    for k in good:
        for node_id, regime in _regimes(topology, Z, row_of[k]).items():
            if regime is not None:
                votes = regime_votes.setdefault(node_id, {})
                votes[regime] = votes.get(regime, 0) + 1
    regime_of: Dict[NodeId, str] = {}
    for node_id, votes in regime_votes.items():
        regime, count = max(votes.items(), key=lambda kv: kv[1])
        if count * 2 >= len(good):
            regime_of[node_id] = regime
    data_flips: Dict[NodeId, Flip] = {}
    for node_id, regime in regime_of.items():
        if regime == "linear" and node_id not in flips:
            f = flip(topology, node_id, "odd")
            if f is not None:
                data_flips[node_id] = f

    raw = W.clone()
    # ---- gauge: per member, in topological order, make each flip's reference edge positive
    all_flips = {**flips, **data_flips}
    magnitude = {k: float(W[good, col[k]].abs().mean()) for k in keys}
    refs = reference_edges(all_flips, magnitude)
    order = [n for n in topology.topological_order() if n in all_flips]
    for k in good:
        for node_id in order:
            if W[k, col[refs[node_id]]] < 0:
                idx = [col[e] for e in all_flips[node_id].edges]
                W[k, idx] = -W[k, idx]

    # ---- effect of each edge: |w| * spread(h_src) / spread(z_dst), median over good members
    effect = torch.zeros(len(keys), dtype=torch.float64)
    if good and X.shape[0] > 1:
        spread_h = H.double().std(dim=1, unbiased=False)        # [rows]
        spread_z = Z.double().std(dim=1, unbiased=False)
        src_rows = torch.tensor([[row_of[k][s] for s, _ in keys] for k in good])   # [good, E]
        dst_rows = torch.tensor([[row_of[k][d] for _, d in keys] for k in good])
        per_member = W[good].abs() * spread_h[src_rows] / (spread_z[dst_rows] + 1e-12)
        effect = per_member.median(dim=0).values.clamp(max=1.0)

    # ---- verdicts
    rows: List[EdgeSign] = []
    n = len(good)
    best_member = int(torch.argmin(final))
    for key, edge in topology.edges.items():
        c = col[key]
        w = W[good, c]
        pos, neg = int((w > 0).sum()), int((w < 0).sum())
        majority = "+" if pos > neg else "-" if neg > pos else "0"
        agree = max(pos, neg) / n if n else 0.0
        mean = float(w.mean()) if n else math.nan
        constraint = "frozen" if not edge.trainable else f"fixed {edge.sign}" if edge.sign else "free"
        relative, reference, identifiable, reason = "", "", True, ""
        conf = max(pos, neg) / (n + 1)
        if not edge.trainable:
            assert edge.weight is not None   # Topology refuses a frozen edge without a weight
            sign = "+" if edge.weight > 0 else "-" if edge.weight < 0 else "?"
            conf, reason = (1.0 if sign != "?" else 0.0), "frozen at its declared value"
        elif edge.sign is not None:
            src_node = nodes[edge.src]
            sign, conf = edge.sign, 1.0
            reason = (f"Dale neuron {edge.src!r} ({src_node.dale})" if src_node.dale == edge.sign
                      else "fixed by declaration")
        else:
            owner = next((f for f in all_flips.values() if key in f.edges), None)
            silent = [nd for nd in (edge.src, edge.dst) if regime_of.get(nd) in ("silent", "saturated")]
            if owner is not None:
                identifiable, conf = False, 0.0
                ref = refs[owner.node]
                reference = f"{ref[0]}->{ref[1]}"
                relative = majority if majority != "0" else "?"
                why = (owner.describe(nodes[owner.node].activation) if owner.node in flips else
                       f"{nodes[owner.node].activation} neuron {owner.node!r} stays in its linear regime on the "
                       f"data, so its incoming and outgoing signs can flip together")
                reason = f"{why}; relative to {reference} the sign is {majority} (agreement {agree:.0%})"
            elif silent:
                identifiable, conf = False, 0.0
                nd = silent[0]
                reason = f"neuron {nd!r} is {regime_of[nd]} on the data, so this weight has (almost) no effect"
            elif float(effect[c]) < min_effect:
                conf *= float(effect[c]) / min_effect
                reason = f"weak: carries {float(effect[c]):.1%} of its target's input spread"
            elif conf < threshold and min(pos, neg) == 0:
                reason = (f"all {n} good members agree ({pos} +, {neg} -), but confidence k / (n + 1) = "
                          f"{conf:.2f} needs more members that fit to reach {threshold}")
            elif conf < threshold:
                reason = f"members disagree ({pos} +, {neg} -)"
            sign = majority if identifiable and conf >= threshold and majority != "0" else "?"
        rows.append(EdgeSign(edge.src, edge.dst, sign, round(conf, 6), float(raw[best_member, c]), identifiable,
                             reason, constraint, relative, reference, agreement=agree, mean_gauged=mean))
    mean_weights = {k: float(W[good, col[k]].mean()) for k in keys if topology.edges[k].trainable} if n else {}
    topo_out = topology.with_weights(mean_weights) if n else None
    gauge = {node: (refs[node], all_flips[node].edges) for node in order}
    base_var = _baseline(loss, Y) if isinstance(loss, str) else None
    note = f"{n} of {ensemble} members fit (excluded {ensemble - n})"
    return SignReport(rows, "ensemble", best, math.nan, "", threshold, time.time() - t0, ensemble, True, note,
                      topo_out, extra={"members": ensemble, "excluded": ensemble - n, "losses": [float(v) for v in final],
                                       "good": good, "weights": raw, "gauged": W, "gauge": gauge,
                                       "effect": {k: float(effect[col[k]]) for k in keys},
                                       "baseline": base_var})
