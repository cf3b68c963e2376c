"""Signal propagation: a connectome driven one neuron at a time and read out, fitted to measured responses.

Randi et al. 2023 (*Neural signal propagation atlas of Caenorhabditis elegans*, Nature 623:406-414) stimulated
single neurons optogenetically and recorded the calcium response of the others; their atlas holds, per
(stimulated, responding) pair, the mean post-stimulus response and its q-value (NaN where the pair was never
measured). This module puts that experiment on a wiring (:mod:`mpnet.connectome.wiring`):

* :func:`align` -- the atlas restricted to the wiring's neurons: rows = stimulated neurons, columns = measured
  responders, NaN where not measured, the significant pairs marked;
* :func:`model_topology` -- the wiring as the experiment's network: an input ``stim:<neuron>`` per stimulated
  neuron, the responders as outputs, gap junctions tied per pair (``g >= 0``), chemical strengths either per
  synapse or tied per pair of cell classes (``w = log(1 + synapses) * strength[class pair]``), signs free or
  fixed from transmitters (:func:`~mpnet.connectome.wiring.transmitter_signs`);
* :func:`simulate` -- each stimulation is a constant drive into one neuron for ``steps`` steps from rest (every
  neuron at 0, biases 0); a responder's response is its mean activity over those steps;
* :func:`fit` -- strengths and a positive gain per responder fitted to the measured responses of the training
  stimulations (masked MSE, unmeasured pairs ignored);
* :func:`folds` -- stimulated neurons dealt into folds by cell class (left and right partners held out together);
* baselines: :func:`direct_rule` (a pair's sign is the transmitter sign of a direct chemical synapse),
  :func:`rewire` (a degree-preserving shuffle of the wiring).

:mod:`mpnet.connectome.heldout` runs the cross-validated comparison and scores it.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace
from typing import Any, Dict, List, Mapping, Optional, Protocol, Sequence, Set, Tuple

import numpy as np
import torch
from torch import Tensor

from ..errors import ArgumentError, DataError, NonFiniteError
from ..graph.ties import Tie
from ..graph.topology import Edge, Node, Topology
from ..model import Network
from .wiring import STIM, TRANSMITTER_SIGNS, build, cell_class, transmitter_signs

__all__ = ["AtlasLike", "Responses", "Fitted", "align", "wiring_parts", "model_topology", "simulate", "fit",
           "folds", "direct_rule", "rewire", "SHARES", "SIGNS"]

#: How chemical strengths are parametrised: ``"class"`` (one strength per pair of cell classes, scaled by
#: ``log(1 + synapses)``; flyvis' sharing) or ``"synapse"`` (one weight per chemical edge).
SHARES = ("class", "synapse")
#: Where chemical signs come from: ``"free"`` (fitted) or ``"transmitter"`` (fixed by transmitter_signs, the
#: rest fitted).
SIGNS = ("free", "transmitter")

Chemical = Tuple[str, str, float, str]
Gap = Tuple[str, str, float]


class AtlasLike(Protocol):
    """What :func:`align` reads: ``neurons`` (names), ``response`` and ``q`` (``[n, n]``, row = stimulated,
    column = responding, NaN where not measured), as :func:`mpnet.connectome.atlas` returns."""
    neurons: Sequence[str]
    response: Any
    q: Any


@dataclass(frozen=True)
class Responses:
    """Measured responses aligned with a wiring.

    Fields:
        stimulated: the rows, neurons stimulated with at least one measured response.
        read_out: the columns, neurons measured in response to at least one stimulation.
        response: ``[S, R]`` float64, NaN where the pair was not measured (and where a neuron meets itself).
        significant: ``[S, R]`` bool, measured and ``q < alpha``.
        dropped: atlas neurons that are not neurons of the wiring (left out).
    """
    stimulated: Tuple[str, ...]
    read_out: Tuple[str, ...]
    response: Tensor
    significant: Tensor
    dropped: Tuple[str, ...] = ()

    @property
    def measured(self) -> Tensor:
        """``[S, R]`` bool: the pairs with a measured response."""
        return ~torch.isnan(self.response)


def _matrix(value: Any, name: str, n: int) -> Tensor:
    t = torch.as_tensor(np.asarray(value, dtype=np.float64))
    if t.shape != (n, n):
        raise DataError(f"align: expected atlas.{name} of shape [{n}, {n}] (one row and column per atlas neuron); "
                        f"got {list(t.shape)}.")
    if bool(torch.isinf(t).any()):
        i, j = (int(v) for v in torch.nonzero(torch.isinf(t))[0])
        raise NonFiniteError(f"align: atlas.{name}[{i}, {j}] is {t[i, j].item()}; a measured value must be finite "
                             f"(NaN marks a pair not measured).")
    return t


def align(atlas: AtlasLike, wiring: Topology, *, alpha: float = 0.05) -> Responses:
    """The atlas restricted to the wiring's neurons (see :class:`Responses`).

    Args:
        atlas: an :class:`AtlasLike` (``mpnet.connectome.atlas()``).
        wiring: the connectome (``mpnet.connectome.load()``); atlas neurons not in it are left out.
        alpha: a measured pair is significant when its q-value is below this.

    Raises:
        DataError: ``response`` or ``q`` not ``[n, n]`` for the atlas' ``n`` neurons.
        NonFiniteError: an infinite response or q-value (named by row and column).
        ArgumentError: ``alpha`` not in (0, 1].

    Example:
        >>> from mpnet import connectome
        >>> r = connectome.propagation.align(connectome.atlas(), connectome.load())
        >>> len(r.stimulated), len(r.read_out), int(r.significant.sum())
        (171, 205, 1116)
    """
    if not isinstance(alpha, (int, float)) or not 0 < alpha <= 1:
        raise ArgumentError(f"align: expected alpha, the q-value threshold, in (0, 1]; got {alpha!r}.")
    names = [str(n) for n in atlas.neurons]
    response, q = _matrix(atlas.response, "response", len(names)), _matrix(atlas.q, "q", len(names))
    neurons = {n for n, node in wiring.nodes.items() if node.role != "input"}
    keep = [i for i, n in enumerate(names) if n in neurons]
    idx = torch.tensor(keep, dtype=torch.long)
    r, qq = response[idx][:, idx].clone(), q[idx][:, idx]
    r.fill_diagonal_(float("nan"))
    measured = ~torch.isnan(r)
    rows = torch.nonzero(measured.any(1)).flatten()
    cols = torch.nonzero(measured.any(0)).flatten()
    r, qq = r[rows][:, cols], qq[rows][:, cols]
    significant = ~torch.isnan(r) & (qq < alpha)
    return Responses(tuple(names[keep[int(i)]] for i in rows), tuple(names[keep[int(i)]] for i in cols), r,
                     significant, tuple(n for n in names if n not in neurons))


def wiring_parts(wiring: Topology) -> Tuple[List[Tuple[str, Dict[str, Any]]], List[Chemical], List[Gap]]:
    """The wiring as :func:`~mpnet.connectome.wiring.build` takes it: ``(neurons with metadata, chemical
    connections (pre, post, synapses, transmitter), gap junctions (a, b, junctions))``. A chemical edge is one
    with a ``synapses`` count; a gap junction is a ``gap:a|b`` group."""
    nodes = wiring.nodes
    neurons = [(str(n), dict(node.meta or {})) for n, node in nodes.items() if node.role != "input"]
    chemical: List[Chemical] = []
    for (src, dst), e in wiring.edges.items():
        meta = e.meta or {}
        if nodes[src].role != "input" and "synapses" in meta:
            chemical.append((str(src), str(dst), float(meta["synapses"]), str(meta.get("transmitter") or "unknown")))
    gap: List[Gap] = []
    for name in wiring.ties:
        if name.startswith("gap:"):
            a, b = name[4:].split("|")
            gap.append((a, b, float((wiring.edges[(a, b)].meta or {}).get("gap_junctions", 1))))
    return neurons, chemical, gap


def _class(node: Node) -> str:
    return str((node.meta or {}).get("cell_class") or cell_class(str(node.id)))


def _tie_classes(topo: Topology) -> Topology:
    """Each chemical edge's own weight becomes ``log(1 + synapses) * strength[pre class > post class]``; a group
    takes its edges' common fixed sign (free when they differ)."""
    nodes = topo.nodes
    signs: Dict[str, Set[Optional[str]]] = {}
    edges: List[Edge] = []
    for e in topo.edges.values():
        syn = (e.meta or {}).get("synapses")
        if syn is None or nodes[e.src].role == "input":
            edges.append(e)
            continue
        name = f"chem:{_class(nodes[e.src])}>{_class(nodes[e.dst])}"
        signs.setdefault(name, set()).add(e.sign)
        terms = [(g, c) for g, c in (e.tie if isinstance(e.tie, tuple) else ((None, 1.0),)) if g is not None]
        edges.append(replace(e, sign=None, weight=None, tie=((name, math.log1p(float(syn))), *terms)))
    ties = list(topo.ties.values()) + [Tie(n, s.pop() if len(s) == 1 else None) for n, s in signs.items()]
    return Topology(list(nodes.values()), edges, recurrent=True, ties=ties, warn=False)


def model_topology(wiring: Topology, stimulated: Sequence[str], read_out: Sequence[str], *, share: str = "synapse",
                   signs: str = "free") -> Topology:
    """The experiment's network on ``wiring`` (see the module docstring).

    Args:
        wiring: the connectome; stimulated: neurons that get an input ``stim:<neuron>``; read_out: the outputs.
        share: :data:`SHARES`; signs: :data:`SIGNS`.

    Raises:
        ArgumentError: ``share`` not in :data:`SHARES` or ``signs`` not in :data:`SIGNS`.
        UnknownNodeError: a stimulated or read-out neuron not in the wiring.
    """
    if share not in SHARES:
        raise ArgumentError(f"model_topology: invalid share {share!r}. Must be one of {list(SHARES)}.")
    if signs not in SIGNS:
        raise ArgumentError(f"model_topology: invalid signs {signs!r}. Must be one of {list(SIGNS)}.")
    neurons, chemical, gap = wiring_parts(wiring)
    topo = build(neurons, chemical, gap, stimulate=list(stimulated), read_out=list(read_out))
    if signs == "transmitter":
        topo = transmitter_signs(topo)
    return _tie_classes(topo) if share == "class" else topo


def _columns(topo: Topology, stimulated: Sequence[str], read_out: Sequence[str]) -> Tuple[Tensor, Tensor]:
    inputs = {n: i for i, n in enumerate(topo.inputs)}
    outputs = {n: i for i, n in enumerate(topo.outputs)}
    missing = [n for n in stimulated if f"{STIM}{n}" not in inputs] + [n for n in read_out if n not in outputs]
    if missing:
        raise ArgumentError(f"simulate: {missing[:5]} are not stimulated inputs or outputs of the network.")
    return (torch.tensor([inputs[f"{STIM}{n}"] for n in stimulated], dtype=torch.long),
            torch.tensor([outputs[n] for n in read_out], dtype=torch.long))


def simulate(net: Network, stimulated: Sequence[str], read_out: Sequence[str], *, steps: int = 10,
             amplitude: float = 1.0) -> Tensor:
    """``[len(stimulated), len(read_out)]``: the mean activity of each read-out neuron over ``steps`` steps of a
    constant drive ``amplitude`` into ``stim:<neuron>``, one stimulation per row, from rest.

    Args:
        net: a Network of :func:`model_topology`; stimulated, read_out: neuron names (rows, columns).
        steps: steps of drive; amplitude: the drive's value.

    Raises:
        ArgumentError: a neuron with no input ``stim:<neuron>``, or a read-out neuron not an output.
    """
    topo = net.topology()
    rows, cols = _columns(topo, stimulated, read_out)
    x = torch.zeros(steps, len(rows), len(topo.inputs), dtype=net.bias.dtype)
    x[:, torch.arange(len(rows)), rows] = amplitude
    y = net(x)
    assert isinstance(y, Tensor)
    return y.mean(0).index_select(1, cols)


@dataclass
class Fitted:
    """A network fitted to measured responses: ``predict(stimulated)`` is ``gain * simulate(...)``."""
    net: Network
    read_out: Tuple[str, ...]
    log_gain: Tensor
    steps: int
    amplitude: float
    losses: List[float]

    def predict(self, stimulated: Sequence[str]) -> Tensor:
        """``[len(stimulated), R]`` predicted responses (float64, no gradient)."""
        with torch.no_grad():
            out = simulate(self.net, stimulated, self.read_out, steps=self.steps, amplitude=self.amplitude)
            return (out * self.log_gain.exp()).double()


def fit(topology: Topology, responses: Responses, train: Sequence[int], *, epochs: int = 600, lr: float = 0.01,
        steps: int = 10, amplitude: float = 1.0, clip: float = 1.0, seed: int = 0,
        dtype: torch.dtype = torch.float32) -> Fitted:
    """Fit ``topology`` (from :func:`model_topology`) to the responses of the training rows ``train``.

    The loss is the mean squared error over the measured pairs of those rows, each target clipped to
    ``[-clip, clip]`` (the atlas has rare outliers, down to -17, far beyond its significant responses); biases
    stay 0 (so rest is 0 and a response is a deviation from it); Adam moves the strengths, conductances and
    a log-gain per responder.

    Args:
        topology: from :func:`model_topology`, with an input for every training row's neuron and every
            responder as an output; responses: from :func:`align`; train: row indices into it.
        epochs, lr: Adam's steps and learning rate; steps, amplitude: of each stimulation (:func:`simulate`).
        clip: targets clipped to ``[-clip, clip]``; seed: the initial weights; dtype: of the network.

    Raises:
        ArgumentError: ``train`` empty or naming a row outside the responses.
    """
    bad = [i for i in train if not 0 <= int(i) < len(responses.stimulated)]
    if not train or bad:
        raise ArgumentError(f"fit: expected train to be a non-empty list of row indices in [0, "
                            f"{len(responses.stimulated)}); got {'nothing' if not train else bad[:5]}.")
    rows = torch.tensor(list(train), dtype=torch.long)
    target = responses.response[rows].clamp(-clip, clip)
    mask = ~torch.isnan(target)
    target = torch.where(mask, target, 0.0).to(dtype)
    stim = [responses.stimulated[int(i)] for i in rows]
    net = Network(topology, seed=seed, dtype=dtype)
    net.bias.requires_grad_(False)
    log_gain = torch.zeros(len(responses.read_out), dtype=dtype, requires_grad=True)
    opt = torch.optim.Adam([net.raw_weight, log_gain], lr=lr)
    weight = mask.to(dtype) / mask.sum().clamp(min=1)
    losses: List[float] = []
    for _ in range(epochs):
        opt.zero_grad()
        pred = simulate(net, stim, responses.read_out, steps=steps, amplitude=amplitude) * log_gain.exp()
        loss = (weight * (pred - target) ** 2).sum()
        loss.backward()   # type: ignore[no-untyped-call]
        opt.step()
        losses.append(float(loss.detach()))
    if not math.isfinite(losses[-1]):
        raise NonFiniteError(f"fit: the loss became {losses[-1]} (lr={lr}); lower lr.")
    return Fitted(net, responses.read_out, log_gain.detach(), steps, amplitude, losses)


def folds(stimulated: Sequence[str], k: int = 5, *, seed: int = 0,
          group: Optional[Mapping[str, str]] = None) -> List[Tuple[int, ...]]:
    """``k`` held-out sets of row indices into ``stimulated``: the neurons' groups (default their cell class,
    :func:`~mpnet.connectome.wiring.cell_class`, so left and right partners fall together) shuffled with
    ``seed`` and dealt, largest first, each to the fold with fewest neurons. Every row is held out exactly once.

    Raises:
        ArgumentError: ``k`` < 2 or more than the number of groups.
    """
    names = list(stimulated)
    key = {n: (group or {}).get(n, cell_class(n)) for n in names}
    groups: Dict[str, List[int]] = {}
    for i, n in enumerate(names):
        groups.setdefault(key[n], []).append(i)
    if not isinstance(k, int) or not 2 <= k <= len(groups):
        raise ArgumentError(f"folds: expected k between 2 and the number of groups ({len(groups)}); got {k!r}.")
    order = sorted(groups)
    random.Random(seed).shuffle(order)
    order.sort(key=lambda g: -len(groups[g]))        # stable: shuffled within each size
    held: List[List[int]] = [[] for _ in range(k)]
    for g in order:
        min(held, key=len).extend(groups[g])
    return [tuple(sorted(h)) for h in held]


def direct_rule(wiring: Topology, responses: Responses,
                mapping: Mapping[str, Optional[str]] = TRANSMITTER_SIGNS) -> Tensor:
    """``[S, R]`` the direct-synapse transmitter rule: +1 where the stimulated neuron makes a chemical synapse
    onto the responder whose transmitters all map to ``+`` in ``mapping``, -1 where all map to ``-``, 0
    (undecided) where there is no such synapse or its sign is free or mixed."""
    _, chemical, _ = wiring_parts(wiring)
    sign: Dict[Tuple[str, str], float] = {}
    for pre, post, _, nt in chemical:
        s = {mapping.get(t) for t in nt.split("+")}
        sign[(pre, post)] = {"+": 1.0, "-": -1.0}.get(s.pop() or "", 0.0) if len(s) == 1 else 0.0
    return torch.tensor([[sign.get((s, r), 0.0) for r in responses.read_out] for s in responses.stimulated],
                        dtype=torch.float64)


def _swap(pairs: List[Tuple[str, str]], seed: int, rounds: int, undirected: bool) -> List[str]:
    """New targets for ``pairs`` by double-edge swaps (a->b, c->d => a->d, c->b, ``rounds`` x pairs attempts)
    that keep every neuron's source and target counts and refuse self-loops and repeated pairs (``undirected``:
    a pair and its reverse are one)."""
    rng = random.Random(seed)
    src = [a for a, _ in pairs]
    dst = [b for _, b in pairs]

    def both(x: str, y: str) -> Tuple[Tuple[str, str], ...]:
        return ((x, y), (y, x)) if undirected else ((x, y),)

    seen = {p for a, b in pairs for p in both(a, b)}
    for _ in range(rounds * len(pairs)):
        i, j = rng.randrange(len(pairs)), rng.randrange(len(pairs))
        a, b, c, d = src[i], dst[i], src[j], dst[j]
        if len({a, b, c, d}) < 4 or (a, d) in seen or (c, b) in seen:
            continue
        seen.difference_update(both(a, b) + both(c, d))
        seen.update(both(a, d) + both(c, b))
        dst[i], dst[j] = d, b
    return dst


def rewire(wiring: Topology, *, seed: int = 0, rounds: int = 10) -> Topology:
    """A degree-preserving shuffle of ``wiring``: chemical edges swap targets, so every neuron keeps its number
    of outgoing and incoming chemical edges, and each edge its synapse count and presynaptic transmitter; gap
    junctions swap partners the same way, so every neuron keeps its number of junction pairs (each pair its
    count). Autapses stay. The stimulated inputs and the outputs are kept."""
    neurons, chemical, gap = wiring_parts(wiring)
    loops = [c for c in chemical if c[0] == c[1]]
    chem = [c for c in chemical if c[0] != c[1]]
    targets = _swap([(a, b) for a, b, _, _ in chem], seed, rounds, False)
    new_chem = [(a, t, n, nt) for (a, _, n, nt), t in zip(chem, targets)]
    partners = _swap([(a, b) for a, b, _ in gap], seed + 1, rounds, True)
    new_gap = [(a, t, n) for (a, _, n), t in zip(gap, partners)]
    stim = [str(e.dst) for e in wiring.edges.values() if wiring.nodes[e.src].role == "input"]
    return build(neurons, loops + new_chem, new_gap, stimulate=stim, read_out=[str(o) for o in wiring.outputs])
