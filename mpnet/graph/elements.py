"""The parts of a declaration: :class:`Node`, :class:`Edge` and the names they use (graph stage, pure Python).

:class:`~mpnet.graph.topology.Topology` assembles and validates them; here they are plain frozen records.
"""
from __future__ import annotations

import functools
import gc
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, List, Mapping, NamedTuple, Optional, Tuple, TypeVar, Union

from ..errors import FormatError, RoleError, UnknownNodeError
from .ties import TieSpec, normalize_tie

__all__ = ["Node", "Edge", "Unreachable", "NodeId", "EdgeKey", "FORMAT", "FORMAT_VERSION", "NETWORK_TYPES",
           "collector_paused", "require_node", "name_unhashable_id"]

NodeId = Union[str, int]
EdgeKey = Tuple[NodeId, NodeId]

_set = object.__setattr__   # how a frozen dataclass sets its fields (Edge.__init__)

FORMAT = "mpnet.topology"
FORMAT_VERSION = 1
#: What a topology computes (neat-python's names): an acyclic pass, a discrete-time recurrent network
#: (``neat.nn.RecurrentNetwork``), or a continuous-time one (``neat.ctrnn.CTRNN``).
NETWORK_TYPES = ("feedforward", "recurrent", "ctrnn")


@dataclass(frozen=True, init=False)   # __init__ below, as Edge's
class Node:
    """A neuron.

    Args:
        id: a string or an int, unique in its topology.
        role: ``"input"``, ``"hidden"`` or ``"output"``.
        activation: one of :data:`ACTIVATIONS` (ignored for inputs).
        aggregation: one of :data:`AGGREGATIONS` (ignored for inputs). A neuron with no incoming edge
            aggregates to 0 whatever its aggregation.
        bias: added to the aggregate before the activation; 0 unless set.
        dale: ``"+"`` or ``"-"`` if the neuron obeys Dale's law (all outgoing edges share that sign).
        response: a fixed multiplier of the aggregate, ``z = response * aggregate + bias`` (neat-python's
            node response); 1 unless set. It is a constant, not a learned parameter.
        time_constant: the neuron's time constant ``tau > 0`` in a continuous-time (``"ctrnn"``) topology,
            ``dy/dt = (activation(z) - y) / tau``; 1 unless set, and unused by other topologies.
        meta: free-form annotations (e.g. ``{"cell_class": "AVA", "transmitter": "Acetylcholine"}``), JSON
            values only; carried through JSON and networkx, never read by the computation. Treat as read-only.
    """
    id: NodeId
    role: str = "hidden"
    activation: str = "relu"
    aggregation: str = "sum"
    bias: float = 0.0
    dale: Optional[str] = None
    response: float = 1.0
    time_constant: float = 1.0
    meta: Optional[Mapping[str, Any]] = field(default=None, hash=False)

    def __init__(self, id: NodeId, role: str = "hidden", activation: str = "relu", aggregation: str = "sum",
                 bias: float = 0.0, dale: Optional[str] = None, response: float = 1.0, time_constant: float = 1.0,
                 meta: Optional[Mapping[str, Any]] = None) -> None:
        _set(self, "id", id)   # what dataclass writes for a frozen class, object.__setattr__ looked up once
        _set(self, "role", role)
        _set(self, "activation", activation)
        _set(self, "aggregation", aggregation)
        _set(self, "bias", bias)
        _set(self, "dale", dale)
        _set(self, "response", response)
        _set(self, "time_constant", time_constant)
        _set(self, "meta", meta)


@dataclass(frozen=True, init=False)   # __init__ below: the generated one, a fifth of the time faster
class Edge:
    """A connection ``src -> dst`` carrying the message ``weight * h_src``.

    Args:
        src, dst: node ids.
        weight: the initial weight, used exactly; ``None`` means "draw it at random" (see
            :class:`mpnet.Network` for the default initialisation).
        sign: ``"+"`` (weight >= 0), ``"-"`` (weight <= 0) or ``None`` (free).
        trainable: ``False`` freezes the weight at its initial value.
        tie: ``None`` (the edge has its own parameter), the name of a shared group, or terms
            ``((group or None, coefficient), ...)``; see :mod:`mpnet.graph.ties`. ``sign``, ``weight`` and
            ``trainable`` describe the edge's own parameter (unset when it has none).
        meta: free-form annotations (e.g. ``{"synapses": 12, "transmitter": "GABA"}``), JSON values only;
            carried through JSON and networkx, never read by the computation. Treat as read-only.
    """
    src: NodeId
    dst: NodeId
    weight: Optional[float] = None
    sign: Optional[str] = None
    trainable: bool = True
    tie: TieSpec = None
    meta: Optional[Mapping[str, Any]] = field(default=None, hash=False)

    def __init__(self, src: NodeId, dst: NodeId, weight: Optional[float] = None, sign: Optional[str] = None,
                 trainable: bool = True, tie: TieSpec = None, meta: Optional[Mapping[str, Any]] = None) -> None:
        # what dataclass writes for a frozen class, with object.__setattr__ looked up once per module, not per
        # field (a million-edge topology makes a million edges, and a read-back as many again)
        _set(self, "src", src)
        _set(self, "dst", dst)
        _set(self, "weight", weight)
        _set(self, "sign", sign)
        _set(self, "trainable", trainable)
        _set(self, "tie", tie)
        _set(self, "meta", meta)

    @property
    def key(self) -> EdgeKey:
        return (self.src, self.dst)

    @classmethod
    def from_mapping(cls, item: Mapping[str, Any]) -> "Edge":
        """An edge from ``{"src", "dst"[, "weight", "sign", "trainable"]}`` (a JSON entry or a user's dict).

        Raises:
            FormatError: a key is missing or unknown.
        """
        unknown = set(item) - {"src", "dst", "weight", "sign", "trainable", "tie", "meta"}
        if unknown or not {"src", "dst"} <= set(item):
            raise FormatError(f"Edge entry {dict(item)!r}: needs 'src' and 'dst' and may have 'weight', 'sign', "
                              f"'trainable', 'tie', 'meta' (unknown keys {sorted(map(str, unknown))}).")
        meta = item.get("meta")
        if meta is not None and not isinstance(meta, Mapping):
            raise FormatError(f"Edge entry {dict(item)!r}: 'meta' must be an object (got {type(meta).__name__}).")
        tie = normalize_tie(item.get("tie"), f"Edge {item['src']!r} -> {item['dst']!r}")
        return cls(item["src"], item["dst"], item.get("weight"), item.get("sign"), item.get("trainable", True),
                   tie, None if meta is None else dict(meta))

    def __repr__(self) -> str:
        parts = [f"{self.src!r}->{self.dst!r}", "w=None" if self.weight is None else f"w={self.weight:.4g}"]
        if self.sign is not None:
            parts.append(f"sign={self.sign}")
        if not self.trainable:
            parts.append("frozen")
        if self.tie is not None:
            parts.append(f"tie={self.tie!r}")
        return "Edge(" + ", ".join(parts) + ")"


class Unreachable(NamedTuple):
    """Nodes that take no part in any input-to-output path (allowed, but usually a mistake)."""
    unreached: List[NodeId]   # non-input nodes that no input reaches (outputs among them compute a constant)
    dead_ends: List[NodeId]   # non-output nodes that reach no output (their value is never used)


def _default_activation(role: str) -> str:
    return {"input": "identity", "output": "identity"}.get(role, "relu")


Fn = TypeVar("Fn", bound=Callable[..., Any])


def collector_paused(fn: Fn) -> Fn:
    """Run ``fn`` with Python's cyclic garbage collector paused (and restored after, however it ends).

    Building a large topology makes an object per node and per edge, none of them in a reference cycle; the
    collector's sweeps over the growing heap cost about as much as the building itself (1M edges: 4 s of 15).
    """
    @functools.wraps(fn)
    def paused(*args: Any, **kwargs: Any) -> Any:
        if not gc.isenabled():
            return fn(*args, **kwargs)
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            gc.enable()
    return paused  # type: ignore[return-value]


def require_node(node_id: NodeId, nodes: Mapping[NodeId, Any]) -> NodeId:
    """``node_id`` if ``nodes`` (a topology's ``{id: Node}``) has it, else UnknownNodeError naming it and ten nodes."""
    try:
        if node_id in nodes:
            return node_id
    except TypeError:   # a list, a dict: no node has it
        pass
    ids = list(nodes)
    shown = ", ".join(map(repr, ids[:10])) + (f", ... ({len(ids)} in all)" if len(ids) > 10 else "")
    raise UnknownNodeError(f"Node {node_id!r} is not in the topology; its nodes are {shown}. Pick one of "
                           f"topo.nodes.")


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def name_unhashable_id(edges: Iterable[Any], node_lists: Mapping[str, Iterable[Any]],
                       keyed: Mapping[str, Iterable[Any]]) -> None:
    """Raise the RoleError a node id that cannot be one (a list, a dict: not hashable) deserves, naming the argument
    and the edge it came in; return when there is none. Run only after a ``TypeError`` (it costs a pass)."""
    for name, ids in node_lists.items():
        for node_id in ids:
            if not _hashable(node_id):
                raise RoleError(f"{name} names the node {node_id!r}, a {type(node_id).__name__}; a node id is a str "
                                f"or an int.")
    for item in edges:
        ends = (item.get("src"), item.get("dst")) if isinstance(item, Mapping) else tuple(item)[:2]
        for end, which in zip(ends, ("source", "target")):
            if not _hashable(end):
                raise RoleError(f"Edge {ends[0]!r} -> {ends[1]!r}: the {which} id {end!r} is a "
                                f"{type(end).__name__}; expected a str or an int (an edge is (src, dst) or "
                                f"(src, dst, weight), each end one id).")
    for name, keys in keyed.items():
        for key in keys:
            for end, which in zip(key, ("source", "target")):
                if not _hashable(end):
                    raise RoleError(f"The key {key!r} of {name}: the {which} id {end!r} is a {type(end).__name__}; "
                                    f"expected a str or an int (a key is an edge (src, dst)).")
