"""Many topologies as a few flat arrays, for shipping a population to other processes (beside serialize: pure
Python and numpy, no torch).

:func:`pack` writes ``T`` topologies, one after the other in declaration order, into numpy arrays: per node
its role, activation and aggregation codes, bias, response, time constant and Dale sign; per edge its source
and target (as indices into its own topology's nodes), weight (NaN where unset), sign and trainable flag; per
topology its network type (feed-forward, recurrent, ctrnn) and, for the rare tied topology, its ties as one JSON
text; ``node_ptr`` and ``edge_ptr`` (``[T + 1]``) say where each topology starts. Columns holding only their
default (every aggregation ``sum``, every response and time constant 1, no Dale neuron, no fixed sign, every
edge trainable, every topology feed-forward and untied) are left out (``None``). A NEAT genome of 10 neurons
and 25 edges takes about 600 bytes, a third of its JSON dict, and
pickles as a handful of buffers instead of thousands of small objects. :func:`unpack` inverts it, with the
nodes numbered ``0 .. n - 1`` in each topology (the compiled network is the same: compile never reads ids).
:func:`to_arrays` reads them straight into one batched :class:`~mpnet.ArrayTopology` instead (what a worker
builds its network from: no Python object per topology, node or edge; tied chunks go through :func:`unpack`).
"""
import json
import math
from dataclasses import dataclass, fields
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..errors import FormatError
from ..graph.arrays import ArrayTopology
from ..graph.elements import NETWORK_TYPES
from ..graph.ties import Tie, normalize_tie
from ..graph.topology import Edge, Node, Topology
from ..graph.vocabulary import ACTIVATIONS, AGGREGATIONS, ROLES

__all__ = ["Packed", "pack", "unpack", "to_arrays"]

_ROLE = {name: i for i, name in enumerate(ROLES)}
_ACT = {name: i for i, name in enumerate(ACTIVATIONS)}
_AGG = {name: i for i, name in enumerate(AGGREGATIONS)}
_SIGN = {None: 0, "+": 1, "-": -1}
_SIGN_NAME = {0: None, 1: "+", -1: "-"}
#: what each column of a Packed runs over (``take`` slices it by that)
_PER = {"role": "node", "activation": "node", "bias": "node", "aggregation": "node", "response": "node",
        "time_constant": "node", "dale": "node", "src": "edge", "dst": "edge", "weight": "edge", "sign": "edge",
        "trainable": "edge", "network_type": "topology", "ties": "topology"}


@dataclass
class Packed:
    """``T`` topologies as flat arrays (see the module docstring); ``len(packed) == T``.

    Shapes:
        node_ptr, edge_ptr: ``[T + 1]`` int64; per node (``[N]``): role (int8, index into ``ROLES``),
        activation (int16, into ``ACTIVATIONS``), aggregation (int8, into ``AGGREGATIONS``), bias and response
        (float64), time_constant (float64), dale (int8: +1, -1, 0); per edge (``[E]``): src and dst (int32, node
        index within its topology), weight (float64, NaN: unset), sign (int8), trainable (bool); per topology
        (``[T]``): network_type (int8, into ``NETWORK_TYPES``), ties (a list of JSON texts or ``None``:
        ``{"ties": [Tie.to_dict()...], "edges": {edge index: tie spec}}``).
    """
    node_ptr: np.ndarray
    edge_ptr: np.ndarray
    role: np.ndarray
    activation: np.ndarray
    bias: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    weight: np.ndarray
    aggregation: Optional[np.ndarray] = None    # None: every node 'sum'
    response: Optional[np.ndarray] = None       # None: every response 1
    dale: Optional[np.ndarray] = None           # None: no Dale neuron
    sign: Optional[np.ndarray] = None           # None: every edge free
    trainable: Optional[np.ndarray] = None      # None: every edge trainable
    time_constant: Optional[np.ndarray] = None  # None: every time constant 1
    network_type: Optional[np.ndarray] = None   # None: every topology feed-forward
    ties: Optional[List[Optional[str]]] = None  # None: no topology is tied

    def __len__(self) -> int:
        return len(self.node_ptr) - 1

    @property
    def nbytes(self) -> int:
        """Bytes of array data."""
        return int(sum(getattr(self, f.name).nbytes for f in fields(self)
                       if isinstance(getattr(self, f.name), np.ndarray))) + sum(len(t or "") for t in self.ties or ())

    def take(self, start: int, stop: int) -> "Packed":
        """Topologies ``start .. stop - 1`` (views of these arrays, pointers rebased).

        Args:
            start: the first topology.
            stop: one past the last (``start <= stop <= len(self)``).

        Returns:
            A new :class:`Packed` of ``stop - start`` topologies.
        """
        n0, n1 = int(self.node_ptr[start]), int(self.node_ptr[stop])
        e0, e1 = int(self.edge_ptr[start]), int(self.edge_ptr[stop])
        parts: Dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("node_ptr", "edge_ptr"):
                value = value[start:stop + 1] - value[start]
            elif value is not None:
                value = value[{"node": slice(n0, n1), "edge": slice(e0, e1),
                               "topology": slice(start, stop)}[_PER[f.name]]]
            parts[f.name] = value
        return Packed(**parts)


def pack(topologies: Sequence[Topology]) -> Packed:
    """The topologies as flat arrays, one after the other (see the module docstring).

    Args:
        topologies: the topologies, in order.

    Returns:
        Their arrays; ``len(result) == len(topologies)``.
    """
    node_ptr, edge_ptr = [0], [0]
    role, act, agg, bias, response, tau, dale = [], [], [], [], [], [], []
    src, dst, weight, sign, trainable = [], [], [], [], []
    kind: List[int] = []
    ties: List[Optional[str]] = []
    for topo in topologies:
        kind.append(NETWORK_TYPES.index(topo.network_type))
        ties.append(_ties_text(topo) if topo.ties or any(e.tie is not None for e in topo.edges.values()) else None)
        nodes = topo.nodes
        index = {node_id: i for i, node_id in enumerate(nodes)}
        for node in nodes.values():
            role.append(_ROLE[node.role])
            act.append(_ACT[node.activation])
            agg.append(_AGG[node.aggregation])
            bias.append(node.bias)
            response.append(node.response)
            tau.append(node.time_constant)
            dale.append(_SIGN[node.dale])
        for e in topo.edges.values():
            src.append(index[e.src])
            dst.append(index[e.dst])
            weight.append(math.nan if e.weight is None else e.weight)
            sign.append(_SIGN[e.sign])
            trainable.append(e.trainable)
        node_ptr.append(len(role))
        edge_ptr.append(len(src))
    agg_a, response_a, dale_a = np.array(agg, np.int8), np.array(response, np.float64), np.array(dale, np.int8)
    sign_a, trainable_a = np.array(sign, np.int8), np.array(trainable, bool)
    tau_a, kind_a = np.array(tau, np.float64), np.array(kind, np.int8)
    return Packed(np.array(node_ptr, np.int64), np.array(edge_ptr, np.int64), np.array(role, np.int8),
                  np.array(act, np.int16), np.array(bias, np.float64), np.array(src, np.int32),
                  np.array(dst, np.int32), np.array(weight, np.float64),
                  aggregation=agg_a if agg_a.any() else None,
                  response=response_a if (response_a != 1.0).any() else None,
                  dale=dale_a if dale_a.any() else None, sign=sign_a if sign_a.any() else None,
                  trainable=None if trainable_a.all() else trainable_a,
                  time_constant=tau_a if (tau_a != 1.0).any() else None, network_type=kind_a if kind_a.any() else None,
                  ties=ties if any(t is not None for t in ties) else None)


def _ties_text(topo: Topology) -> str:
    """A tied topology's groups and its edges' tie specs (by edge index), as JSON."""
    edges = {str(i): e.tie for i, e in enumerate(topo.edges.values()) if e.tie is not None}
    return json.dumps({"ties": [t.to_dict() for t in topo.ties.values()], "edges": edges}, allow_nan=False)


def unpack(packed: Packed) -> List[Topology]:
    """The topologies of :func:`pack`, nodes numbered ``0 .. n - 1`` within each (checked as any topology is).

    Args:
        packed: arrays as :func:`pack` writes them.

    Returns:
        ``len(packed)`` new topologies.

    Raises:
        FormatError: the arrays do not fit together (lengths, pointers) or hold an unknown code.
        TopologyError: a topology they describe is not valid (see :mod:`mpnet.errors`).
    """
    _check(packed)
    N, E = len(packed.role), len(packed.src)
    role, act, bias = packed.role.tolist(), packed.activation.tolist(), packed.bias.tolist()
    agg = packed.aggregation.tolist() if packed.aggregation is not None else [0] * N
    response = packed.response.tolist() if packed.response is not None else [1.0] * N
    tau = packed.time_constant.tolist() if packed.time_constant is not None else [1.0] * N
    dale = packed.dale.tolist() if packed.dale is not None else [0] * N
    src, dst, weight = packed.src.tolist(), packed.dst.tolist(), packed.weight.tolist()
    sign = packed.sign.tolist() if packed.sign is not None else [0] * E
    trainable = packed.trainable.tolist() if packed.trainable is not None else [True] * E
    node_ptr, edge_ptr = packed.node_ptr.tolist(), packed.edge_ptr.tolist()
    kinds = packed.network_type.tolist() if packed.network_type is not None else [0] * len(packed)
    out = []
    for t in range(len(packed)):
        n0, n1, e0, e1 = node_ptr[t], node_ptr[t + 1], edge_ptr[t], edge_ptr[t + 1]
        nodes = [Node(i - n0, ROLES[role[i]], ACTIVATIONS[act[i]], AGGREGATIONS[agg[i]], bias[i],
                      _SIGN_NAME[dale[i]], response[i], tau[i]) for i in range(n0, n1)]
        edges = [Edge(src[e], dst[e], None if weight[e] != weight[e] else weight[e], _SIGN_NAME[sign[e]],
                      trainable[e]) for e in range(e0, e1)]
        groups: List[Tie] = []
        text = packed.ties[t] if packed.ties is not None else None
        if text is not None:
            groups, edges = _read_ties(text, edges, t)
        out.append(Topology(nodes, edges, warn=False, recurrent=NETWORK_TYPES[kinds[t]], ties=groups))
    return out


def to_arrays(packed: Packed) -> ArrayTopology:
    """The topologies of :func:`pack` as one batched :class:`~mpnet.ArrayTopology`, read from the arrays
    (:meth:`~mpnet.ArrayTopology.from_packed`); a chunk holding a tied topology is unpacked into topologies
    first (ties have no column). A network of it computes what ``Network(unpack(packed))`` computes, bit for bit.

    Args:
        packed: arrays as :func:`pack` writes them.

    Returns:
        One batch of ``len(packed)`` graphs.

    Raises:
        FormatError: the arrays do not fit together (lengths, pointers) or hold an unknown code.
        TopologyError: a topology they describe is not valid (see :mod:`mpnet.errors`).
        MismatchError: the topologies mix network types, or numbers of inputs or outputs.
    """
    _check(packed)
    if packed.ties is not None and any(t is not None for t in packed.ties):
        return ArrayTopology.from_topologies(unpack(packed))
    return ArrayTopology.from_packed(packed)


def _read_ties(text: str, edges: List[Edge], t: int) -> Tuple[List[Tie], List[Edge]]:
    try:
        data = json.loads(text)
        groups = [Tie.from_mapping(item) for item in data["ties"]]
        specs = {int(i): normalize_tie(spec, f"Packed.ties[{t}] edge {i}") for i, spec in data["edges"].items()}
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise FormatError(f"Packed.ties[{t}] is not the ties of a topology ({type(err).__name__}: {err}).") from None
    bad = [i for i in specs if not 0 <= i < len(edges)]
    if bad:
        raise FormatError(f"Packed.ties[{t}] names edge {bad[0]}; the topology has {len(edges)} edges.")
    return groups, [Edge(e.src, e.dst, e.weight, e.sign, e.trainable, specs[i]) if i in specs else e
                    for i, e in enumerate(edges)]


def _check(packed: Packed) -> None:
    """Raise FormatError unless the arrays fit together and every code is known."""
    N, E = len(packed.role), len(packed.src)
    for name, ptr, total in (("node_ptr", packed.node_ptr, N), ("edge_ptr", packed.edge_ptr, E)):
        if len(ptr) != len(packed.node_ptr) or ptr[0] != 0 or ptr[-1] != total or (np.diff(ptr) < 0).any():
            raise FormatError(f"Packed.{name} must rise from 0 to {total} in {len(packed.node_ptr)} steps (got "
                              f"{ptr[:5].tolist()}... ending at {ptr[-1] if len(ptr) else None}).")
    T = len(packed)
    for per, total, names in (("node", N, ("activation", "bias", "aggregation", "response", "time_constant", "dale")),
                              ("edge", E, ("dst", "weight", "sign", "trainable")),
                              ("topology", T, ("network_type", "ties"))):
        for name in names:
            value = getattr(packed, name)
            if value is not None and len(value) != total:
                raise FormatError(f"Packed.{name} has {len(value)} entries; expected {total}, one per {per}.")
    for name, table in (("role", ROLES), ("activation", ACTIVATIONS), ("aggregation", AGGREGATIONS),
                        ("network_type", NETWORK_TYPES)):
        value = getattr(packed, name)
        if value is None:
            continue
        bad = np.nonzero((value < 0) | (value >= len(table)))[0]
        if len(bad):
            raise FormatError(f"Packed.{name}[{bad[0]}] = {int(value[bad[0]])} is no code: codes index "
                              f"{list(table)[:3]}... (0 .. {len(table) - 1}).")
    sizes = np.repeat(np.diff(packed.node_ptr), np.diff(packed.edge_ptr))      # node count of each edge's topology
    for name in ("src", "dst"):
        value = getattr(packed, name)
        bad = np.nonzero((value < 0) | (value >= sizes))[0]
        if len(bad):
            raise FormatError(f"Packed.{name}[{bad[0]}] = {int(value[bad[0]])} is no node of its topology "
                              f"(it has {int(sizes[bad[0]])} nodes).")
