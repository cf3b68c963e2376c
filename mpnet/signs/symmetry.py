"""Which edge signs a topology can never determine: sign-flip symmetries of neurons (pure Python).

A hidden neuron ``j`` can be *flipped* — the signs of some of its weights reversed — without changing the
network's function when its activation has a reflection symmetry:

* **odd** (``f(-z) = -f(z)``: identity, tanh, sin, clamped, ...): negate its incoming weights, its bias
  and its outgoing weights; every message ``w_out * h_j`` is unchanged.
* **affine-odd** (``f(-z) = 1 - f(z)``: sigmoid): the same, and each target's bias absorbs ``w_out``;
  this needs every target to sum (or average) its messages.
* **even** (``f(-z) = f(z)``: abs, square, gauss): negate its incoming weights and bias only.

Negating the incoming messages commutes with the neuron's aggregation only for sum, mean, median, maxabs,
and product over an odd number of edges. A flip is *broken* — the signs become identifiable — when any
edge it would negate has a fixed sign or is frozen, or when the neuron obeys Dale's law (odd kinds).
Inputs and outputs never flip (they are observed).

The same joint flip becomes a symmetry *on the data* when a ReLU-like neuron never leaves its linear
regime; that case depends on the data and is detected by :mod:`mpnet.signs`.
"""
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from ..graph.elements import EdgeKey, NodeId
from ..graph.topology import Topology

__all__ = ["Flip", "flip", "flip_symmetries", "reference_edges", "ODD", "AFFINE_ODD", "EVEN"]

ODD = frozenset({"identity", "tanh", "sin", "clamped", "neat.identity", "neat.tanh", "neat.sin",
                 "neat.clamped", "neat.cube", "neat.inv"})
AFFINE_ODD = frozenset({"sigmoid", "neat.sigmoid"})
EVEN = frozenset({"abs", "square", "gauss", "neat.abs", "neat.square", "neat.gauss", "neat.hat"})
_ODD_AGGREGATIONS = frozenset({"sum", "mean", "median", "maxabs"})


@dataclass(frozen=True)
class Flip:
    """A sign-flip symmetry of one neuron: negating ``edges`` (and the neuron's bias) keeps the function."""
    node: NodeId
    kind: str                     # "odd", "affine-odd" or "even"
    in_edges: Tuple[EdgeKey, ...]
    out_edges: Tuple[EdgeKey, ...]   # empty for "even"

    @property
    def edges(self) -> Tuple[EdgeKey, ...]:
        return self.in_edges + self.out_edges

    def describe(self, activation: str) -> str:
        what = "its incoming edges" if self.kind == "even" else "its incoming and outgoing edges"
        return f"{activation} neuron {self.node!r} can flip the signs of {what} together"


def _kind(activation: str) -> Optional[str]:
    if activation in ODD:
        return "odd"
    if activation in AFFINE_ODD:
        return "affine-odd"
    if activation in EVEN:
        return "even"
    return None


def flip(topo: Topology, node_id: NodeId, kind: str) -> Optional[Flip]:
    """The flip of ``node_id`` of the given kind, or None when the topology breaks it."""
    nodes, edges = topo.nodes, topo.edges
    node = nodes[node_id]
    if node.role != "hidden":
        return None
    preds, succs = topo.predecessors(node_id), topo.successors(node_id)
    agg_ok = node.aggregation in _ODD_AGGREGATIONS or (node.aggregation == "product" and len(preds) % 2 == 1)
    if preds and not agg_ok:
        return None
    if kind == "affine-odd" and any(nodes[s].aggregation not in ("sum", "mean") for s in succs):
        return None
    if kind != "even" and node.dale is not None:
        return None
    # a self-loop carries h_j into z_j: an odd or affine-odd flip negates both, so its sign is kept (not flipped)
    loop = () if kind == "even" else ((node_id, node_id),)
    in_edges = tuple((p, node_id) for p in preds if (p, node_id) not in loop)
    out_edges = () if kind == "even" else tuple((node_id, s) for s in succs if (node_id, s) not in loop)
    negated = in_edges + out_edges
    if not negated or any(edges[k].sign is not None or (not edges[k].trainable and edges[k].weight != 0)
                          or edges[k].tie is not None for k in negated):   # a tie's other edges do not flip
        return None
    return Flip(node_id, kind, in_edges, out_edges)


def flip_symmetries(topo: Topology) -> Dict[NodeId, Flip]:
    """``{neuron: Flip}`` for every hidden neuron whose flip is an exact symmetry of ``topo``."""
    found: Dict[NodeId, Flip] = {}
    for node_id, node in topo.nodes.items():
        kind = _kind(node.activation)
        found_flip = flip(topo, node_id, kind) if kind is not None else None
        if found_flip is not None:
            found[node_id] = found_flip
    return found


def reference_edges(flips: Dict[NodeId, Flip], magnitude: Dict[EdgeKey, float]) -> Dict[NodeId, EdgeKey]:
    """The edge that fixes each flip's gauge: its largest-magnitude incoming edge (else outgoing)."""
    refs: Dict[NodeId, EdgeKey] = {}
    for node, flip in flips.items():
        pool: List[EdgeKey] = list(flip.in_edges) or list(flip.out_edges)
        refs[node] = max(pool, key=lambda k: (magnitude.get(k, 0.0), str(k)))
    return refs
