"""Reading neat-python's network JSON into a :class:`~mpnet.graph.topology.Topology` (io stage, the "in" half
of :mod:`mpnet.io.neat_io`, which tells how neat's fields map onto mpnet's; pure Python, no torch).

:func:`from_neat_json` checks every field it reads, each failure a :class:`~mpnet.errors.FormatError` naming the
field (``connections[0].weight``, ``neat node 3: bias``), then restores what
:func:`~mpnet.io.neat_write.to_neat_json` kept in ``metadata["mpnet"]`` (``_apply_extras``).
"""
import math
import os
from dataclasses import replace
from typing import Any, Callable, Dict, List, Mapping, Optional, Set, Tuple, Union

from ..errors import FormatError, TopologyError, UnsupportedError, located
from ..graph.adapters import lend
from ..graph.elements import NETWORK_TYPES, Edge, Node, NodeId
from ..graph.topology import Topology
from ..graph.validate import check_finite, is_number
from ..graph.vocabulary import NEAT_ACTIVATIONS
from .jsonfile import parse_json, read_json
from .neat_format import _EXTRAS_VERSION, _NEAT_AGGREGATIONS, _SCALED_AS_NEAT, NEAT_FORMAT_VERSION, _activation_out

__all__ = ["from_neat_json"]

PathOrData = Union[str, "os.PathLike[str]", Mapping[str, Any]]
#: A field check: whether a JSON value is of the kind a field takes.
Check = Callable[[Any], bool]

_MISSING = object()


def _load(source: PathOrData) -> Tuple[Any, Optional[str]]:
    """``(data, file)``: the parsed JSON and the file it came from (None for a dict or JSON text)."""
    if isinstance(source, Mapping):
        return source, None
    if isinstance(source, str) and source.lstrip().startswith("{"):
        return parse_json(source, "the given JSON text"), None
    return read_json(source), os.fspath(source)


_KINDS = {"bool": "a boolean", "str": "a string", "list": "a list", "dict": "an object", "int": "an int"}


def _kind(value: Any) -> str:
    """How a message names a JSON value's type."""
    return "null" if value is None else _KINDS.get(type(value).__name__, f"a {type(value).__name__}")


def _get(entry: Any, key: str, where: str, expected: str, ok: Check, default: Any = _MISSING) -> Any:
    """``entry[key]`` if ``ok(value)``; a FormatError naming ``where.key`` if it is missing (and no default) or
    of the wrong type."""
    if not isinstance(entry, Mapping):
        raise FormatError(f"{where} is {_kind(entry)}; expected an object. Is this neat-python's network JSON "
                          f"(neat.export.export_network_json)?")
    if key not in entry:
        if default is _MISSING:
            raise FormatError(f"{where} has no {key!r} field; is this neat-python's network JSON "
                              f"(neat.export.export_network_json)?")
        return default
    value = entry[key]
    if not ok(value):
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
        raise FormatError(f"{_path(where, key)} is {shown} ({_kind(value)}); expected {expected}.")
    return value


def _path(where: str, key: str) -> str:
    """How a message names a field: ``connections[0].weight``, ``neat node 3: bias``, ``nodes``."""
    if where == "The JSON":
        return key
    return f"{where}: {key}" if where.startswith("neat node") else f"{where}.{key}"


def _is_id(v: Any) -> bool:
    return isinstance(v, (int, str)) and not isinstance(v, bool)


def _is_ids(v: Any) -> bool:
    return isinstance(v, list) and all(_is_id(k) for k in v)


def _is_number(v: Any) -> bool:
    return is_number(v)


def _number(entry: Mapping[str, Any], key: str, where: str, default: Any = _MISSING) -> float:
    value = _get(entry, key, where, "a number", _is_number, default)
    check_finite(value, _path(where, key), optional=False)
    return float(value)


def _function_name(entry: Mapping[str, Any], kind: str, where: str) -> str:
    """The name of a node's activation or aggregation (``{"name": ..., "custom": ...}`` or a bare string)."""
    value = _get(entry, kind, where, f"an {kind} name or an object {{'name': ..., 'custom': ...}}",
                 lambda v: isinstance(v, (str, Mapping)))
    if isinstance(value, str):
        return value
    name: str = _get(value, "name", f"{where}.{kind}", "a string", lambda v: isinstance(v, str))
    if _get(value, "custom", f"{where}.{kind}", "true or false", lambda v: isinstance(v, bool), False):
        raise UnsupportedError(f"{where} uses the custom {kind} {name!r}; mpnet reproduces "
                               f"neat-python's built-in {kind}s only. Replace it by a built-in one.")
    return name


def _activation_in(name: str, where: str) -> str:
    if f"neat.{name}" not in NEAT_ACTIVATIONS:
        raise UnsupportedError(f"{where} has activation {name!r}, which is not one of neat-python's "
                               f"built-ins {[a[5:] for a in NEAT_ACTIVATIONS]}; mpnet cannot compute it.")
    return f"neat.{name}"


@lend("from_neat_json")
def from_neat_json(source: PathOrData, *, warn: bool = True) -> Topology:
    """A topology computing exactly what neat-python's ``FeedForwardNetwork.activate`` computes (or, for
    ``network_type`` "recurrent" / "ctrnn", ``RecurrentNetwork.activate`` / ``CTRNN.advance``).

    Args:
        source: a path, a JSON string or the dict of ``neat.export.export_network_json``, or of
            :func:`~mpnet.io.neat_write.to_neat_json`.
        warn: emit a :class:`~mpnet.errors.TopologyWarning` for neurons off every input-to-output path
            (neat's "bias neurons" without inputs are such neurons).

    Raises:
        FormatError: not neat-python's network JSON (a field is missing or of the wrong type: numbers are
            numbers, ``enabled`` is a boolean); the message names the file and the field.
        UnsupportedError: another ``format_version``, a spiking (IZNN) network, a custom activation or
            aggregation.
        TopologyError: the network itself is invalid (e.g. :class:`~mpnet.errors.CycleError`).
    """
    data, path = _load(source)
    if not isinstance(data, Mapping):
        raise FormatError(f"{path or 'The JSON'} holds a JSON {type(data).__name__}; expected neat-python's "
                          f"network object.")
    try:
        return _from_neat_dict(data, warn)
    except TopologyError as err:
        if path is None:
            raise
        raise located(err, path) from None


def _from_neat_dict(data: Any, warn: bool) -> Topology:
    if not isinstance(data, Mapping):
        raise FormatError(f"The JSON is {_kind(data)}; expected neat-python's network object.")
    version = _get(data, "format_version", "The JSON", "a string", lambda v: True)
    if version != NEAT_FORMAT_VERSION:
        raise UnsupportedError(f"neat-python network JSON format_version {version!r} is not supported; mpnet "
                               f"reads {NEAT_FORMAT_VERSION!r}.")
    kind = _get(data, "network_type", "The JSON", "a string", lambda v: isinstance(v, str))
    if kind not in NETWORK_TYPES:
        raise UnsupportedError(f"neat-python network_type {kind!r} is not supported: mpnet computes "
                               f"{list(NETWORK_TYPES)} networks (not spiking ones). Export a "
                               f"neat.nn.FeedForwardNetwork, neat.nn.RecurrentNetwork or neat.ctrnn.CTRNN.")
    recurrent = kind != "feedforward"
    head = _get(data, "topology", "The JSON", "an object", lambda v: isinstance(v, Mapping))
    input_keys = list(_get(head, "input_keys", "topology", "a list of node ids (ints)", _is_ids))
    output_keys = list(_get(head, "output_keys", "topology", "a list of node ids (ints)", _is_ids))
    inputs, outputs = set(input_keys), set(output_keys)

    entries: Dict[Any, Mapping[str, Any]] = {}
    for i, entry in enumerate(_get(data, "nodes", "The JSON", "a list of objects", lambda v: isinstance(v, list))):
        key = _get(entry, "id", f"nodes[{i}]", "a node id (an int)", _is_id)
        if key in entries:
            raise FormatError(f"nodes[{i}]: neat node {key!r} appears twice in 'nodes'; ids must be unique.")
        entries[key] = entry
    connections: List[Tuple[Any, Any, float]] = []
    for i, conn in enumerate(_get(data, "connections", "The JSON", "a list of objects",
                                  lambda v: isinstance(v, list))):
        where = f"connections[{i}]"
        src = _get(conn, "from", where, "a node id (an int)", _is_id)
        dst = _get(conn, "to", where, "a node id (an int)", _is_id)
        where = f"connections[{i}] ({src!r} -> {dst!r})"
        weight = _number(conn, "weight", where)
        if _get(conn, "enabled", where, "true or false", lambda v: isinstance(v, bool), True):
            connections.append((src, dst, weight))
    fed = {dst for _, dst, _ in connections}

    nodes: Dict[Any, Node] = {}
    for key in input_keys:
        nodes[key] = Node(key, "input", "identity")
    for i, (key, entry) in enumerate(entries.items()):
        if key in inputs:
            continue
        where = f"neat node {key!r}"
        if _get(entry, "type", where, "a string", lambda v: isinstance(v, str), None) == "input":
            raise FormatError(f"{where} has type 'input' but is not in topology.input_keys {input_keys}.")
        activation = _activation_in(_function_name(entry, "activation", where), where)
        aggregation = _function_name(entry, "aggregation", where)
        if aggregation not in _NEAT_AGGREGATIONS:
            raise UnsupportedError(f"{where} has aggregation {aggregation!r}, which is not one of "
                                   f"neat-python's built-ins {list(_NEAT_AGGREGATIONS)}.")
        bias, response = _number(entry, "bias", where, 0.0), _number(entry, "response", where, 1.0)
        if aggregation == "product" and key not in fed and not recurrent:
            bias = bias + response   # neat: bias + response * (product of nothing = 1.0)
        time_constant = _number(entry, "time_constant", where, 1.0) if kind == "ctrnn" else 1.0
        nodes[key] = Node(key, "output" if key in outputs else "hidden", activation, aggregation, bias,
                          response=response, time_constant=time_constant)
    for key in output_keys:   # an output neat never evaluates keeps its initial value 0
        nodes.setdefault(key, Node(key, "output", "neat.identity", "sum"))
    if recurrent:   # a source neat never evaluates (not in its nodes) keeps its initial value 0
        for src, _, _ in connections:
            if src not in nodes:
                nodes[src] = Node(src, "hidden", "neat.identity", "sum")

    edges = [Edge(src, dst, weight) for src, dst, weight in connections]
    order = input_keys + [k for k in nodes if k not in inputs and k not in outputs] + output_keys
    # hidden neurons in depth order, the order to_neat_json writes them in, so that a neat network comes
    # back from to_neat_json unchanged (with no metadata["mpnet"])
    depth = Topology([nodes[k] for k in order], edges, warn=False, recurrent=kind).depth()
    hidden = sorted(order[len(input_keys):len(order) - len(output_keys)], key=depth.__getitem__)
    order = input_keys + hidden + output_keys
    metadata = _get(data, "metadata", "The JSON", "an object", lambda v: isinstance(v, Mapping), {})
    extras = _get(metadata, "mpnet", "metadata", "an object", lambda v: isinstance(v, Mapping), None)
    if extras:
        nodes, edges, order = _apply_extras(extras, nodes, edges, order, fed, recurrent)
    return Topology([nodes[k] for k in order], edges, warn=warn, recurrent=kind)


def _is_pair(v: Any) -> bool:
    return isinstance(v, list) and len(v) == 2 and _is_id(v[0]) and isinstance(v[1], Mapping)


def _is_triple(v: Any) -> bool:
    return isinstance(v, list) and len(v) == 3 and _is_id(v[0]) and _is_id(v[1]) and isinstance(v[2], Mapping)


_INFO_TYPES: Dict[str, Tuple[str, Check]] = {
    "id": ("a node id", _is_id), "activation": ("a string", lambda v: isinstance(v, str)),
    "aggregation": ("a string", lambda v: isinstance(v, str)), "bias": ("a number", _is_number),
    "response": ("a number", _is_number), "dale": ("'+', '-' or null", lambda v: v is None or isinstance(v, str)),
    "time_constant": ("a number", _is_number), "idle": ("an object", lambda v: isinstance(v, Mapping))}
# the fields of a recurrent neuron neat's format has no entry for (no incoming edge), in "idle"
_IDLE_TYPES: Dict[str, Tuple[str, Check]] = {
    "role": ("'hidden' or 'output'", lambda v: isinstance(v, str)),
    **{k: _INFO_TYPES[k] for k in ("activation", "aggregation", "bias", "response", "time_constant")}}
_FLAG_TYPES: Dict[str, Tuple[str, Check]] = {
    "sign": ("'+', '-' or null", lambda v: v is None or isinstance(v, str)),
    "trainable": ("true or false", lambda v: isinstance(v, bool))}


def _checked_info(info: Mapping[str, Any], where: str, types: Mapping[str, Tuple[str, Check]]
                  ) -> Mapping[str, Any]:
    unknown = sorted(map(str, set(info) - set(types)))
    if unknown:
        raise FormatError(f"{where} has unknown keys {unknown}; expected some of {list(types)}.")
    for key, (expected, ok) in types.items():
        _get(info, key, where, expected, ok, None)
    return info


def _apply_extras(extras: Mapping[str, Any], nodes: Dict[Any, Node], edges: List[Edge], order: List[Any],
                  fed: Set[Any], recurrent: bool = False) -> Tuple[Dict[Any, Node], List[Edge], List[Any]]:
    """Restore what :func:`~mpnet.io.neat_write.to_neat_json` kept in ``metadata["mpnet"]``: ids, plain
    activation names (with the unscaled bias and response of a ``sigmoid`` or ``tanh`` neuron), the aggregation
    of edge-less product neurons, Dale signs, time constants outside a ctrnn, the fields of a recurrent neuron
    without incoming edges (neat's format has no entry for it), declaration order, edge signs and frozen flags. Entries that no longer match the neat fields (the file was edited
    since) are skipped."""
    if extras.get("version") != _EXTRAS_VERSION:
        raise UnsupportedError(f"metadata['mpnet'] version {extras.get('version')!r} is not supported; this "
                               f"mpnet reads version {_EXTRAS_VERSION}.")
    where = "metadata.mpnet"
    unknown = sorted(map(str, set(extras) - {"version", "nodes", "edges", "order"}))
    if unknown:
        raise FormatError(f"{where} has unknown keys {unknown}; expected 'version', 'nodes', 'edges', 'order'.")
    node_list = _get(extras, "nodes", where, "a list of [node id, object] pairs",
                     lambda v: isinstance(v, list) and all(_is_pair(x) for x in v), [])
    rename: Dict[Any, NodeId] = {}
    node_list = [(key, _checked_info(info, f"{where}.nodes[{i}][1]", _INFO_TYPES))
                 for i, (key, info) in enumerate(node_list)]
    for i, (key, info) in enumerate(node_list):
        if recurrent and "idle" in info:   # a node neat's format has no entry for
            idle = _checked_info(info["idle"], f"{where}.nodes[{i}][1].idle", _IDLE_TYPES)
            nodes[key] = Node(key, **dict(idle))
    for key, info in node_list:
        node = nodes.get(key)
        if node is None:
            continue
        changes: Dict[str, Any] = {}
        if "id" in info:
            rename[key] = changes["id"] = info["id"]
        if node.role == "input":   # fields neat has no place for (and no use: inputs compute nothing)
            changes.update({k: info[k] for k in ("activation", "aggregation", "bias", "response") if k in info})
        elif "activation" in info and _activation_out(info["activation"]) == node.activation[len("neat."):]:
            scale = _SCALED_AS_NEAT.get(info["activation"])
            if scale is None:
                changes["activation"] = info["activation"]
            elif (info.get("bias", math.nan) / scale == node.bias   # written with bias and response / scale
                  and info.get("response", math.nan) / scale == node.response):
                changes.update({k: info[k] for k in ("activation", "bias", "response")})
        if info.get("aggregation") == "product" and node.aggregation == "sum" and key not in fed and not recurrent:
            changes["aggregation"] = "product"
        for name in ("dale", "time_constant"):
            if name in info:
                changes[name] = info[name]
        nodes[key] = replace(node, **changes)
    edge_list = _get(extras, "edges", where, "a list of [src, dst, object] triples",
                     lambda v: isinstance(v, list) and all(_is_triple(x) for x in v), [])
    flags = {(src, dst): _checked_info(info, f"{where}.edges[{i}][2]", _FLAG_TYPES)
             for i, (src, dst, info) in enumerate(edge_list)}
    edges = [Edge(rename.get(e.src, e.src), rename.get(e.dst, e.dst), e.weight,
                  flags.get(e.key, {}).get("sign"), flags.get(e.key, {}).get("trainable", True)) for e in edges]
    listed = [k for k in _get(extras, "order", where, "a list of node ids", _is_ids, []) if k in nodes]
    order = listed + [k for k in order if k not in set(listed)]
    return {rename.get(k, k): n for k, n in nodes.items()}, edges, [rename.get(k, k) for k in order]

