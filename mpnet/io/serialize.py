"""Topology <-> versioned JSON dict and networkx graph (pure Python; :class:`~mpnet.Topology`'s methods call these)."""
from typing import TYPE_CHECKING, Any, Callable, Dict, Mapping, Optional, Sequence, Union

from ..errors import FormatError, NonFiniteError, RoleError, UnknownNodeError
from ..graph.ties import Tie, normalize_tie, tie_signature
from ..graph.elements import FORMAT, FORMAT_VERSION, NETWORK_TYPES, Edge, Node, NodeId, _default_activation
from ..graph.topology import Topology
from ..graph.validate import check_finite, is_number
from ..graph.adapters import lend

if TYPE_CHECKING:
    import networkx as nx

_NODE_KEYS = ("id", "role", "activation", "aggregation", "bias", "dale", "response", "time_constant", "meta")
_EDGE_KEYS = ("src", "dst", "weight", "sign", "trainable", "tie", "meta")


def _is_meta(v: Any) -> bool:
    return v is None or isinstance(v, Mapping)


def _meta(entry: Mapping[str, Any], where: str) -> Any:
    """The ``meta`` object of a node or edge entry (a copy), ``None`` when absent."""
    meta = _typed(entry, "meta", where, "an object", _is_meta, None)
    return None if meta is None else dict(meta)


_KINDS = {"bool": "a boolean", "str": "a string", "list": "a list", "dict": "an object", "int": "an int"}


def _kind(value: Any) -> str:
    """How a message names a JSON value's type."""
    return "null" if value is None else _KINDS.get(type(value).__name__, f"a {type(value).__name__}")


def _typed(entry: Mapping[str, Any], key: str, where: str, expected: str, ok: Callable[[Any], bool],
           default: Any) -> Any:
    """``entry[key]`` (``default`` when absent) if ``ok(value)``, else a FormatError naming ``where.key``."""
    if key not in entry:
        return default
    value = entry[key]
    if not ok(value):
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
        raise FormatError(f"{_path(where, key)} is {shown} ({_kind(value)}); expected {expected}.")
    return value


def _path(where: str, key: str) -> str:
    """``nodes[2].bias`` for a JSON field, ``node 'h': attribute bias`` for a graph attribute."""
    return f"{where} {key}" if where.endswith("attribute") else f"{where}.{key}"


def _is_id(v: Any) -> bool:
    return isinstance(v, (str, int)) and not isinstance(v, bool)


def _is_str(v: Any) -> bool:
    return isinstance(v, str)


def _is_sign(v: Any) -> bool:
    return v is None or isinstance(v, str)


def _number(entry: Mapping[str, Any], key: str, where: str, default: Any, optional: bool = False) -> Any:
    value = _typed(entry, key, where, "a number" + (" or null" if optional else ""),
                   lambda v: is_number(v) or (optional and v is None), default)
    try:
        check_finite(value, _path(where, key), optional=optional)
    except NonFiniteError as err:
        raise NonFiniteError(str(err).replace(", or None to let the network draw it", ", or null to let the "
                                              "network draw it")) from None
    return value

__all__ = ["to_dict", "from_dict", "to_networkx", "from_networkx"]


@lend("to_dict")
def to_dict(self: Topology) -> Dict[str, Any]:
    """A JSON-ready dict (versioned); :func:`from_dict` inverts it exactly."""
    nodes = []
    for n in self.nodes.values():
        entry: Dict[str, Any] = {"id": n.id, "role": n.role, "activation": n.activation,
                                 "aggregation": n.aggregation, "bias": n.bias}
        if n.dale is not None:
            entry["dale"] = n.dale
        if n.response != 1.0:
            entry["response"] = n.response
        if n.time_constant != 1.0:
            entry["time_constant"] = n.time_constant
        if n.meta:
            entry["meta"] = dict(n.meta)
        nodes.append(entry)
    edges = []
    for e in self.edges.values():
        entry = {"src": e.src, "dst": e.dst, "weight": e.weight}
        if e.sign is not None:
            entry["sign"] = e.sign
        if not e.trainable:
            entry["trainable"] = False
        if e.tie is not None:
            entry["tie"] = tie_signature(e.tie)
        if e.meta:
            entry["meta"] = dict(e.meta)
        edges.append(entry)
    data: Dict[str, Any] = {"format": FORMAT, "version": FORMAT_VERSION}
    if self.network_type != "feedforward":
        data["network_type"] = self.network_type
    data = {**data, "nodes": nodes, "edges": edges}
    if self.ties:
        data["ties"] = [t.to_dict() for t in self.ties.values()]
    return data


@lend("from_dict")
def from_dict(data: Mapping[str, Any], *, warn: bool = True) -> Topology:
    """Inverse of :func:`to_dict`. Every field is checked for its type before the topology is built, and an
    error names it by its path (``nodes[2].bias is '1.0' (a string); expected a number``): numbers are
    numbers, booleans are booleans (``"trainable": "false"`` is refused, not read as true), ids are strings or
    ints; unknown keys are refused (a misspelt key would otherwise be ignored).

    Raises:
        FormatError: the dict is not an mpnet topology, of another version, or a field has the wrong type.
        TopologyError: the fields are well typed but the network is invalid (see :class:`~mpnet.Topology`).
    """
    if not isinstance(data, Mapping) or data.get("format") != FORMAT:
        got = data.get("format") if isinstance(data, Mapping) else type(data).__name__
        hint = ""
        if isinstance(data, Mapping) and "format_version" in data and "network_type" in data:
            hint = (" It looks like neat-python's network JSON: read it with Topology.from_neat_json (mpnet "
                    "convert: add --from neat, or name the file *.neat.json).")
        raise FormatError(f"Expected a dict with format={FORMAT!r} (got {got!r}). Is this an mpnet "
                          f"topology file?{hint}")
    version = data.get("version")
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise FormatError(f"Topology format version {version!r} is not supported; this mpnet "
                          f"reads version {FORMAT_VERSION}.")
    unknown = sorted(map(str, set(data) - {"format", "version", "network_type", "nodes", "edges", "ties"}))
    if unknown:
        raise FormatError(f"Unknown top-level keys {unknown}; a topology has 'format', 'version', 'nodes' and "
                          f"'edges' (and 'network_type' when recurrent, 'ties' when edges share weights). Fix the "
                          f"spelling or remove them.")
    network_type = _typed(data, "network_type", "topology", f"one of {list(NETWORK_TYPES)}",
                          lambda v: v in NETWORK_TYPES, "feedforward")
    for key in ("nodes", "edges"):
        if not isinstance(data.get(key), list):
            raise FormatError(f"{key} is {_kind(data.get(key)) if key in data else 'missing'}; expected a list of "
                              f"objects.")
    nodes = []
    for i, entry in enumerate(data["nodes"]):
        where = f"nodes[{i}]"
        if not isinstance(entry, Mapping):
            raise FormatError(f"{where} is {_kind(entry)}; expected an object with keys {list(_NODE_KEYS)}.")
        unknown = sorted(map(str, set(entry) - set(_NODE_KEYS)))
        if unknown or "id" not in entry:
            raise FormatError(f"{where}: needs 'id' and may have {list(_NODE_KEYS[1:])}"
                              + (f"; unknown keys {unknown}." if unknown else "; 'id' is missing."))
        node_id = _typed(entry, "id", where, "a string or an int", _is_id, None)
        where = f"nodes[{i}] (id {node_id!r})"
        role = _typed(entry, "role", where, "'input', 'hidden' or 'output'", _is_str, "hidden")
        nodes.append(Node(node_id, role,
                          _typed(entry, "activation", where, "an activation name", _is_str, _default_activation(role)),
                          _typed(entry, "aggregation", where, "an aggregation name", _is_str, "sum"),
                          _number(entry, "bias", where, 0.0),
                          _typed(entry, "dale", where, "'+', '-' or null", _is_sign, None),
                          _number(entry, "response", where, 1.0),
                          _number(entry, "time_constant", where, 1.0), _meta(entry, where)))
    edges = []
    for i, entry in enumerate(data["edges"]):
        where = f"edges[{i}]"
        if not isinstance(entry, Mapping):
            raise FormatError(f"{where} is {_kind(entry)}; expected an object: it needs 'src' and 'dst' and may "
                              f"have 'weight', 'sign', 'trainable'.")
        unknown = sorted(map(str, set(entry) - set(_EDGE_KEYS)))
        missing = [k for k in ("src", "dst") if k not in entry]
        if unknown or missing:
            raise FormatError(f"{where}: needs 'src' and 'dst' and may have 'weight', 'sign', 'trainable', 'tie', "
                              f"'meta'"
                              + (f"; unknown keys {unknown}" if unknown else "")
                              + (f"; missing {missing}" if missing else "") + ".")
        src = _typed(entry, "src", where, "a node id (a string or an int)", _is_id, None)
        dst = _typed(entry, "dst", where, "a node id (a string or an int)", _is_id, None)
        where = f"edges[{i}] ({src!r} -> {dst!r})"
        edges.append(Edge(src, dst, _number(entry, "weight", where, None, optional=True),
                          _typed(entry, "sign", where, "'+', '-' or null", _is_sign, None),
                          _typed(entry, "trainable", where, "true or false", lambda v: isinstance(v, bool), True),
                          normalize_tie(entry.get("tie"), where), _meta(entry, where)))
    ties = _typed(data, "ties", "topology", "a list of tie objects", lambda v: isinstance(v, list), [])
    return Topology(nodes, edges, warn=warn, recurrent=network_type, ties=[Tie.from_mapping(t) for t in ties])


@lend("to_networkx")
def to_networkx(self: Topology) -> "nx.DiGraph[NodeId]":
    """A ``networkx.DiGraph``; node and edge attributes carry every field, graph attributes
    ``mpnet_version`` the format version and ``network_type``. :func:`from_networkx` inverts it exactly."""
    import networkx as nx
    graph: "nx.DiGraph[NodeId]" = nx.DiGraph(mpnet_version=FORMAT_VERSION, network_type=self.network_type)
    if self.ties:
        graph.graph["ties"] = [t.to_dict() for t in self.ties.values()]
    for n in self.nodes.values():
        graph.add_node(n.id, role=n.role, activation=n.activation, aggregation=n.aggregation,
                       bias=n.bias, dale=n.dale, response=n.response, time_constant=n.time_constant,
                       **({"meta": dict(n.meta)} if n.meta else {}))
    for e in self.edges.values():
        extra: Dict[str, Any] = {"tie": e.tie} if e.tie is not None else {}
        if e.meta:
            extra["meta"] = dict(e.meta)
        graph.add_edge(e.src, e.dst, weight=e.weight, sign=e.sign, trainable=e.trainable, **extra)
    return graph


@lend("from_networkx")
def from_networkx(graph: "nx.Graph[Any]", *, inputs: Optional[Sequence[NodeId]] = None,
                  outputs: Optional[Sequence[NodeId]] = None, warn: bool = True,
                  recurrent: Union[bool, str, None] = None) -> Topology:
    """Build from a ``networkx.DiGraph``. Node attribute ``role`` marks inputs and outputs, or pass
    ``inputs`` / ``outputs``; other attributes (``activation, aggregation, bias, dale, response,
    time_constant`` on nodes, ``weight, sign, trainable`` on edges) are optional, and checked for their type
    like the fields of :func:`from_dict` (a ``trainable`` of ``"false"`` is refused, not read as true).
    ``recurrent`` (see :class:`~mpnet.Topology`) defaults to the graph attribute ``network_type``, else
    feed-forward.

    Raises:
        FormatError: an undirected graph, or an attribute of the wrong type (named with its node or edge).
        TopologyError: the network is invalid.
    """
    if hasattr(graph, "is_directed") and not graph.is_directed():
        raise FormatError("The graph is undirected; a network's edges have a direction (source -> target). Use a "
                          "networkx.DiGraph (GraphML: edgedefault=\"directed\").")
    given_in, given_out = list(inputs or ()), list(outputs or ())
    for what, ids in (("inputs", given_in), ("outputs", given_out)):
        missing = [n for n in ids if n not in graph]
        if missing:
            raise UnknownNodeError(f"from_networkx: {what} {missing} are not nodes of the graph.")
    both = set(given_in) & set(given_out)
    if both:
        raise RoleError(f"Nodes {sorted(map(str, both))} are both inputs and outputs; a node has one role.")
    rank = {n: i for i, n in enumerate(given_in)}
    rank.update({n: len(graph) + 1 + i for i, n in enumerate(given_out)})
    ordered = sorted(graph.nodes(data=True), key=lambda item: rank.get(item[0], len(graph)))
    nodes = []
    for node_id, attrs in ordered:   # given inputs first, then the rest in graph order, given outputs last
        where = f"node {node_id!r}: attribute"
        role = ("input" if node_id in given_in else "output" if node_id in given_out
                else _typed(attrs, "role", where, "'input', 'hidden' or 'output'", _is_str, "hidden"))
        bias = attrs.get("bias")
        nodes.append(Node(node_id, role,
                          _typed(attrs, "activation", where, "an activation name", _is_str, _default_activation(role)),
                          _typed(attrs, "aggregation", where, "an aggregation name", _is_str, "sum"),
                          0.0 if bias is None else _number(attrs, "bias", where, 0.0),
                          _typed(attrs, "dale", where, "'+', '-' or None", _is_sign, None),
                          _number(attrs, "response", where, 1.0),
                          _number(attrs, "time_constant", where, 1.0), _meta(attrs, where)))
    edges = []
    for u, v, attrs in graph.edges(data=True):
        where = f"edge {u!r} -> {v!r}: attribute"
        edges.append(Edge(u, v, _number(attrs, "weight", where, None, optional=True),
                          _typed(attrs, "sign", where, "'+', '-' or None", _is_sign, None),
                          _typed(attrs, "trainable", where, "True or False", lambda x: isinstance(x, bool), True),
                          normalize_tie(attrs.get("tie"), where), _meta(attrs, where)))
    ties = [Tie.from_mapping(t) for t in graph.graph.get("ties", [])]
    if recurrent is None:
        recurrent = _typed(graph.graph, "network_type", "graph: attribute", f"one of {list(NETWORK_TYPES)}",
                           lambda v: v in NETWORK_TYPES, "feedforward")
    return Topology(nodes, edges, warn=warn, recurrent=recurrent, ties=ties)
