"""Topology <-> versioned JSON dict and networkx graph (pure Python; :class:`~mpnet.Topology`'s methods call these)."""
from typing import Any, Dict, Mapping, Optional, Sequence, Union

from .errors import FormatError, RoleError, UnknownNodeError
from .ties import Tie, tie_signature
from .topology import FORMAT, FORMAT_VERSION, Edge, Node, NodeId, Topology, _default_activation

__all__ = ["to_dict", "from_dict", "to_networkx", "from_networkx"]


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


def from_dict(data: Mapping[str, Any], *, warn: bool = True) -> Topology:
    """Inverse of :func:`to_dict`.

    Raises:
        FormatError: the dict is not an mpnet topology, or of a newer version.
    """
    if not isinstance(data, Mapping) or data.get("format") != FORMAT:
        got = data.get("format") if isinstance(data, Mapping) else type(data).__name__
        raise FormatError(f"Expected a dict with format={FORMAT!r} (got {got!r}). Is this an mpnet "
                          f"topology file?")
    if data.get("version") != FORMAT_VERSION:
        raise FormatError(f"Topology format version {data.get('version')!r} is not supported; this mpnet "
                          f"reads version {FORMAT_VERSION}.")
    node_keys = {"id", "role", "activation", "aggregation", "bias", "dale", "response", "time_constant", "meta"}
    nodes = []
    for i, entry in enumerate(data.get("nodes", [])):
        if not isinstance(entry, Mapping):
            raise FormatError(f"Node entry {entry!r} must be an object with keys {sorted(node_keys)}.")
        unknown = set(entry) - node_keys
        if unknown or "id" not in entry:
            raise FormatError(f"Node entry {entry!r}: needs 'id', may have {sorted(node_keys - {'id'})}; "
                              f"unknown keys {sorted(map(str, unknown))}.")
        role = entry.get("role", "hidden")
        meta = entry.get("meta")
        if meta is not None and not isinstance(meta, Mapping):
            raise FormatError(f"Node entry {i} ({entry['id']!r}): 'meta' must be an object (got "
                              f"{type(meta).__name__}).")
        nodes.append(Node(entry["id"], role, entry.get("activation", _default_activation(role)),
                          entry.get("aggregation", "sum"), float(entry.get("bias", 0.0)), entry.get("dale"),
                          entry.get("response", 1.0), entry.get("time_constant", 1.0),
                          None if meta is None else dict(meta)))
    edges = []
    for entry in data.get("edges", []):
        if not isinstance(entry, Mapping):
            raise FormatError(f"Edge entry {entry!r} must be an object: it needs 'src' and 'dst' and may "
                              f"have 'weight', 'sign', 'trainable'.")
        edges.append(Edge.from_mapping(entry))
    ties = data.get("ties", [])
    if not isinstance(ties, list):
        raise FormatError(f"'ties' must be a list of tie entries (got {type(ties).__name__}).")
    return Topology(nodes, edges, warn=warn, recurrent=data.get("network_type", "feedforward"),
                    ties=[Tie.from_mapping(t) for t in ties])


def to_networkx(self: Topology):
    """A ``networkx.DiGraph``; node and edge attributes carry every field, graph attributes
    ``mpnet_version`` the format version and ``network_type``. :func:`from_networkx` inverts it exactly."""
    import networkx as nx
    graph = nx.DiGraph(mpnet_version=FORMAT_VERSION, network_type=self.network_type)
    if self.ties:
        graph.graph["ties"] = [t.to_dict() for t in self.ties.values()]
    for n in self.nodes.values():
        graph.add_node(n.id, role=n.role, activation=n.activation, aggregation=n.aggregation,
                       bias=n.bias, dale=n.dale, response=n.response, time_constant=n.time_constant,
                       **({"meta": dict(n.meta)} if n.meta else {}))
    for e in self.edges.values():
        extra = {"tie": e.tie} if e.tie is not None else {}
        if e.meta:
            extra["meta"] = dict(e.meta)
        graph.add_edge(e.src, e.dst, weight=e.weight, sign=e.sign, trainable=e.trainable, **extra)
    return graph


def from_networkx(graph, *, inputs: Optional[Sequence[NodeId]] = None,
                  outputs: Optional[Sequence[NodeId]] = None, warn: bool = True,
                  recurrent: Union[bool, str, None] = None) -> Topology:
    """Build from a ``networkx.DiGraph``. Node attribute ``role`` marks inputs and outputs, or pass
    ``inputs`` / ``outputs``; other attributes (``activation, aggregation, bias, dale, response,
    time_constant`` on nodes, ``weight, sign, trainable`` on edges) are optional. ``recurrent`` (see
    :class:`~mpnet.Topology`) defaults to the graph attribute ``network_type``, else feed-forward."""
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
        role = ("input" if node_id in given_in else "output" if node_id in given_out
                else attrs.get("role", "hidden"))
        nodes.append(Node(node_id, role, attrs.get("activation", _default_activation(role)),
                          attrs.get("aggregation", "sum"), float(attrs.get("bias", 0.0) or 0.0),
                          attrs.get("dale"), attrs.get("response", 1.0), attrs.get("time_constant", 1.0),
                          attrs.get("meta")))
    edges = [Edge(u, v, attrs.get("weight"), attrs.get("sign"), attrs.get("trainable", True), attrs.get("tie"),
                  attrs.get("meta")) for u, v, attrs in graph.edges(data=True)]
    if recurrent is None:
        recurrent = graph.graph.get("network_type", "feedforward")
    ties = [Tie.from_mapping(t) for t in graph.graph.get("ties", [])]
    return Topology(nodes, edges, warn=warn, recurrent=recurrent, ties=ties)
