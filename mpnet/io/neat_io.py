"""neat-python networks in and out, exactly (pure Python, beside topology: no torch, and no neat-python needed
to read or write its JSON).

neat-python's network JSON (``neat.export.export_network_json``, ``format_version`` "1.0", feed-forward)
maps onto a :class:`~mpnet.Topology` node for node::

    neat-python                                mpnet
    node id (int: inputs < 0, outputs 0..)     the same int
    activation "sigmoid" (a built-in)          "neat.sigmoid": neat's formula, clamp included
    aggregation (the 7 built-ins)              the same name
    bias, response                             bias, response:  z = response * aggregate + bias
    connection from -> to, weight, enabled     Edge(from, to, weight); disabled ones are skipped

so ``Network(Topology.from_neat_json(path))`` computes ``neat.nn.FeedForwardNetwork.activate``. One
convention differs and is translated: neat's product over no input is 1, mpnet's empty aggregation is 0,
so an edge-less product neuron comes in with ``bias + response`` as its bias (and goes out as a sum).

``network_type`` "recurrent" and "ctrnn" come in as recurrent topologies (``Topology(..., recurrent=True)``
or ``recurrent="ctrnn"``, node ``time_constant`` read and written for ctrnn) computing what
``neat.nn.RecurrentNetwork.activate`` and ``neat.ctrnn.CTRNN.advance`` compute. A neuron neat never
evaluates (no incoming connection) is absent from neat's ``nodes`` and keeps the value 0; it comes in as a
hidden neuron without incoming edges, which a recurrent Network never updates either (see
:mod:`mpnet.engine.recurrent`); writing leaves such neurons out of neat's ``nodes`` too (their fields go into
``metadata["mpnet"]``).

Writing (:func:`to_neat_json`) keeps neat's semantics in neat's fields; what neat's format cannot hold
(string ids, plain activations such as ``relu`` that equal a neat built-in, signs, frozen edges, Dale
neurons, declaration order) goes into ``metadata["mpnet"]``, which :func:`from_neat_json` reads back, so
``from_neat_json(to_neat_json(topo)) == topo``. Activations neat-python lacks (``gelu``, torch's ``tanh``,
...) cannot be written: :class:`~mpnet.errors.UnsupportedError` names them.
"""
import json
import os
from dataclasses import replace
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

from ..errors import CycleError, FormatError, TopologyError, UnsupportedError, located
from .jsonfile import parse_json, read_json
from ..graph.topology import NEAT_ACTIVATIONS, NETWORK_TYPES, Edge, Node, NodeId, Topology
from ..graph.validate import check_finite, is_number
from ..graph.adapters import lend

__all__ = ["from_neat_json", "from_neat_genome", "to_neat_json", "NEAT_FORMAT_VERSION"]

NEAT_FORMAT_VERSION = "1.0"
_NEAT_AGGREGATIONS = ("sum", "product", "max", "min", "maxabs", "median", "mean")
#: Plain mpnet activations that are the same function as a neat-python built-in of the same name.
_SAME_AS_NEAT = ("identity", "relu", "elu", "selu", "abs", "square", "clamped")
_EXTRAS_VERSION = 1

PathOrData = Union[str, os.PathLike, Mapping[str, Any]]


# ------------------------------------------------------------------------------------------ reading
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


def _get(entry: Any, key: str, where: str, expected: str, ok, default: Any = _MISSING) -> Any:
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


def _number(entry: Mapping, key: str, where: str, default: Any = _MISSING) -> float:
    value = _get(entry, key, where, "a number", _is_number, default)
    check_finite(value, _path(where, key), optional=False)
    return float(value)


def _function_name(entry: Mapping, kind: str, where: str) -> str:
    """The name of a node's activation or aggregation (``{"name": ..., "custom": ...}`` or a bare string)."""
    value = _get(entry, kind, where, f"an {kind} name or an object {{'name': ..., 'custom': ...}}",
                 lambda v: isinstance(v, (str, Mapping)))
    if isinstance(value, str):
        return value
    name = _get(value, "name", f"{where}.{kind}", "a string", lambda v: isinstance(v, str))
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
            :func:`to_neat_json`.
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

    entries: Dict[Any, Mapping] = {}
    for i, entry in enumerate(_get(data, "nodes", "The JSON", "a list of objects", lambda v: isinstance(v, list))):
        key = _get(entry, "id", f"nodes[{i}]", "a node id (an int)", _is_id)
        if key in entries:
            raise FormatError(f"nodes[{i}]: neat node {key!r} appears twice in 'nodes'; ids must be unique.")
        entries[key] = entry
    connections = []
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
    order = input_keys + sorted(order[len(input_keys):len(order) - len(output_keys)], key=depth.get) + output_keys
    metadata = _get(data, "metadata", "The JSON", "an object", lambda v: isinstance(v, Mapping), {})
    extras = _get(metadata, "mpnet", "metadata", "an object", lambda v: isinstance(v, Mapping), None)
    if extras:
        nodes, edges, order = _apply_extras(extras, nodes, edges, order, fed, recurrent)
    return Topology([nodes[k] for k in order], edges, warn=warn, recurrent=kind)


def _is_pair(v: Any) -> bool:
    return isinstance(v, list) and len(v) == 2 and _is_id(v[0]) and isinstance(v[1], Mapping)


def _is_triple(v: Any) -> bool:
    return isinstance(v, list) and len(v) == 3 and _is_id(v[0]) and _is_id(v[1]) and isinstance(v[2], Mapping)


_INFO_TYPES = {"id": ("a node id", _is_id), "activation": ("a string", lambda v: isinstance(v, str)),
               "aggregation": ("a string", lambda v: isinstance(v, str)), "bias": ("a number", _is_number),
               "response": ("a number", _is_number), "dale": ("'+', '-' or null", lambda v: v is None or
                                                               isinstance(v, str)),
               "time_constant": ("a number", _is_number), "idle": ("an object", lambda v: isinstance(v, Mapping))}
# the fields of a recurrent neuron neat's format has no entry for (no incoming edge), in "idle"
_IDLE_TYPES = {"role": ("'hidden' or 'output'", lambda v: isinstance(v, str)),
               **{k: _INFO_TYPES[k] for k in ("activation", "aggregation", "bias", "response", "time_constant")}}
_FLAG_TYPES = {"sign": ("'+', '-' or null", lambda v: v is None or isinstance(v, str)),
               "trainable": ("true or false", lambda v: isinstance(v, bool))}


def _checked_info(info: Mapping, where: str, types: Mapping) -> Mapping:
    unknown = sorted(map(str, set(info) - set(types)))
    if unknown:
        raise FormatError(f"{where} has unknown keys {unknown}; expected some of {list(types)}.")
    for key, (expected, ok) in types.items():
        _get(info, key, where, expected, ok, None)
    return info


def _apply_extras(extras: Mapping, nodes: Dict[Any, Node], edges: List[Edge], order: List[Any], fed: set,
                  recurrent: bool = False) -> Tuple[Dict[Any, Node], List[Edge], List[Any]]:
    """Restore what :func:`to_neat_json` kept in ``metadata["mpnet"]``: ids, plain activation names, the
    aggregation of edge-less product neurons, Dale signs, time constants outside a ctrnn, the fields of a
    recurrent neuron without incoming edges (neat's format has no entry for it), declaration order, edge
    signs and frozen flags. Entries that no longer match the neat fields (the file was edited since)
    are skipped."""
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
            changes["activation"] = info["activation"]
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


def _function_info(defs: Any, name: str, kind: str) -> Dict[str, Any]:
    """neat's JSON entry for a node's activation or aggregation: its name and whether it is a built-in."""
    fn = defs.get(name)
    builtin = (getattr(fn, "__module__", None) == f"neat.{kind}s"
               and getattr(fn, "__name__", None) == f"{name}_{kind}")
    return {"name": name, "custom": not builtin}


def _node_entry(key: Any, gene: Any, gc: Any, output_keys: List[Any], time_constant: bool) -> Dict[str, Any]:
    entry = {"id": key, "type": "output" if key in output_keys else "hidden",
             "activation": _function_info(gc.activation_defs, gene.activation, "activation"),
             "aggregation": _function_info(gc.aggregation_function_defs, gene.aggregation, "aggregation"),
             "bias": gene.bias, "response": gene.response}
    if time_constant:
        entry["time_constant"] = gene.time_constant
    return entry


@lend("from_neat_genome")
def from_neat_genome(genome: Any, config: Any, *, warn: bool = True, network_type: Optional[str] = None
                     ) -> Topology:
    """The topology of the network neat-python builds from a genome, computing exactly what it computes.

    ``network_type`` "feedforward" follows ``neat.nn.FeedForwardNetwork.create`` (enabled connections, the
    nodes the outputs need); "recurrent" and "ctrnn" follow ``neat.nn.RecurrentNetwork.create`` and
    ``neat.ctrnn.CTRNN.create`` (enabled connections into or out of a node that an output needs, the
    needed nodes judged on all connections, disabled ones included, as neat does).

    Args:
        genome: a ``neat.DefaultGenome`` (or anything with ``nodes`` and ``connections`` alike).
        config: the ``neat.Config`` (or its ``genome_config``) the genome was evolved with.
        network_type: "feedforward", "recurrent" or "ctrnn"; ``None``: "feedforward" if the config says
            ``feed_forward = True``, else "recurrent".

    Raises:
        CycleError: a feed-forward network asked of a recurrent genome (neat-python would silently drop the
            cycle's nodes).
        UnsupportedError: a custom activation or aggregation, or an unknown ``network_type``.
    """
    gc = getattr(config, "genome_config", config)
    if network_type is None:
        network_type = "feedforward" if getattr(gc, "feed_forward", True) else "recurrent"
    if network_type not in NETWORK_TYPES:
        raise UnsupportedError(f"network_type {network_type!r} is not supported; expected one of "
                               f"{list(NETWORK_TYPES)}.")
    input_keys, output_keys = list(gc.input_keys), list(gc.output_keys)
    if network_type != "feedforward":
        nodes, connections = _recurrent_genome(genome, gc, input_keys, output_keys, network_type == "ctrnn")
    else:
        nodes, connections = _feed_forward_genome(genome, gc, input_keys, output_keys)
    data = {"format_version": NEAT_FORMAT_VERSION, "network_type": network_type, "metadata": {},
            "topology": {"num_inputs": len(input_keys), "num_outputs": len(output_keys),
                         "input_keys": input_keys, "output_keys": output_keys},
            "nodes": nodes, "connections": connections}
    try:
        return from_neat_json(data, warn=warn)
    except CycleError as err:
        raise CycleError(f"neat-python genome {getattr(genome, 'key', '?')!r} is recurrent, which a "
                         f"FeedForwardNetwork cannot compute (it silently drops the cycle's nodes); ask for "
                         f"network_type='recurrent'. {err}", err.cycle) from None


def _feed_forward_genome(genome: Any, gc: Any, input_keys: List[Any], output_keys: List[Any]
                         ) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    """neat's JSON nodes and connections of ``FeedForwardNetwork.create(genome)``."""
    enabled = [cg for cg in genome.connections.values() if cg.enabled]
    sources: Dict[Any, List[Any]] = {}
    for cg in enabled:
        sources.setdefault(cg.key[1], []).append(cg.key[0])
    required = set(output_keys)   # outputs and every non-input node they depend on (neat's required_for_output)
    frontier = list(output_keys)
    while frontier:
        for src in sources.get(frontier.pop(), []):
            if src not in required and src not in input_keys:
                required.add(src)
                frontier.append(src)
    nodes = [_node_entry(k, ng, gc, output_keys, False) for k, ng in genome.nodes.items() if k in required]
    nodes += [{"id": k, "type": "input"} for k in input_keys]
    connections = [{"from": cg.key[0], "to": cg.key[1], "weight": cg.weight, "enabled": True}
                   for cg in enabled if cg.key[1] in required]
    return nodes, connections


def _recurrent_genome(genome: Any, gc: Any, input_keys: List[Any], output_keys: List[Any], ctrnn: bool
                      ) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    """neat's JSON nodes and connections of ``RecurrentNetwork.create(genome)`` (``CTRNN.create`` alike):
    the nodes an output needs over *all* connections (neat passes disabled ones too), then every enabled
    connection with an end among them; a node is evaluated iff such a connection enters it."""
    inputs = set(input_keys)
    sources: Dict[Any, List[Any]] = {}
    for src, dst in genome.connections:
        sources.setdefault(dst, []).append(src)
    required = set(output_keys)
    frontier = list(output_keys)
    while frontier:
        for src in sources.get(frontier.pop(), []):
            if src not in required and src not in inputs:
                required.add(src)
                frontier.append(src)
    links: Dict[Any, List[Tuple[Any, float]]] = {}
    for cg in genome.connections.values():
        src, dst = cg.key
        if cg.enabled and (src in required or dst in required):
            links.setdefault(dst, []).append((src, cg.weight))
    nodes = [_node_entry(k, genome.nodes[k], gc, output_keys, ctrnn) for k in links]
    nodes += [{"id": k, "type": "input"} for k in input_keys]
    connections = [{"from": src, "to": dst, "weight": w, "enabled": True} for dst, ins in links.items()
                   for src, w in ins]
    return nodes, connections


# ------------------------------------------------------------------------------------------ writing
def _activation_out(name: str) -> Optional[str]:
    """neat-python's name for an mpnet activation, or None if neat has no such function."""
    if name in NEAT_ACTIVATIONS:
        return name[len("neat."):]
    return name if name in _SAME_AS_NEAT else None


def _neat_ids(topology: Topology) -> Dict[NodeId, int]:
    """The ids themselves if all are ints, else neat's convention: inputs -1, -2, ..., outputs 0, 1, ...,
    hidden neurons from n_outputs on, in declaration order."""
    if all(isinstance(n, int) for n in topology.nodes):
        return {n: n for n in topology.nodes}
    hidden = [n for n, node in topology.nodes.items() if node.role == "hidden"]
    return {**{n: -1 - i for i, n in enumerate(topology.inputs)}, **{n: i for i, n in enumerate(topology.outputs)},
            **{n: len(topology.outputs) + i for i, n in enumerate(hidden)}}


@lend("to_neat_json")
def to_neat_json(topology: Topology, path: Union[str, os.PathLike, None] = None, *,
                 metadata: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
    """neat-python's network JSON of ``topology`` (passes ``neat.export.validate_json``), with the
    topology's ``network_type`` ("feedforward", "recurrent" or "ctrnn", node time constants included).

    Node ids are kept when they are all ints; otherwise inputs become ``-1, -2, ...``, outputs ``0, 1, ...``
    and hidden neurons ``n_outputs, ...`` (neat's convention). What neat's format cannot hold goes into
    ``metadata["mpnet"]`` (see the module docstring).

    Args:
        path: also write the JSON there.
        metadata: extra entries for the ``metadata`` object (e.g. ``fitness``).

    Raises:
        UnsupportedError: an activation neat-python lacks, an edge without a weight, or tied weights.
    """
    nodes, edges = topology.nodes, topology.edges
    if topology.ties:
        raise UnsupportedError(f"The topology ties weights ({len(topology.ties)} shared groups, e.g. "
                               f"{next(iter(topology.ties))!r}); neat-python has one weight per connection. Write the "
                               f"untied network instead: each edge with its effective weight (net.weight, "
                               f"net.edge_keys).")
    unset = [k for k, e in edges.items() if e.weight is None]
    if unset:
        raise UnsupportedError(f"Edges {unset[:5]}{' ...' if len(unset) > 5 else ''} have no weight, and neat-python's "
                               f"format needs one on every connection. Set them, or write the topology of a "
                               f"Network (net.to_topology()).")
    bad = [(n.id, n.activation) for n in nodes.values() if n.role != "input" and _activation_out(n.activation) is None]
    if bad:
        choices = list(NEAT_ACTIVATIONS) + list(_SAME_AS_NEAT)
        raise UnsupportedError(f"Node {bad[0][0]!r} has activation {bad[0][1]!r}, which neat-python does not have "
                               f"({len(bad)} node(s) in all); neat-python's format can hold {choices}.")
    neat_id = _neat_ids(topology)
    relabel = any(k != v for k, v in neat_id.items())

    computed = [n for n in topology.topological_order() if nodes[n].role != "input"]
    out_nodes, connections = [], []
    node_extras: Dict[NodeId, Dict[str, Any]] = {}
    for n in computed:
        node = nodes[n]
        preds = topology.predecessors(n)
        aggregation = node.aggregation
        extra = node_extras.setdefault(n, {})
        if aggregation == "product" and not preds and not topology.recurrent:
            aggregation, extra["aggregation"] = "sum", "product"   # neat's empty product is 1, a sum's 0
        name = _activation_out(node.activation)
        if node.activation != f"neat.{name}":
            extra["activation"] = node.activation
        entry = {"id": neat_id[n], "type": node.role, "activation": {"name": name, "custom": False},
                 "aggregation": {"name": aggregation, "custom": False}, "bias": node.bias, "response": node.response}
        if topology.network_type == "ctrnn":
            entry["time_constant"] = node.time_constant
        elif node.time_constant != 1.0:
            extra["time_constant"] = node.time_constant
        if topology.recurrent and not preds:
            # neat's recurrent networks have no entry for a node without incoming connections (it stays
            # 0): written neat's way, its fields kept for mpnet alone
            extra["idle"] = {"role": node.role, "activation": node.activation, "aggregation": node.aggregation,
                             "bias": node.bias, "response": node.response, "time_constant": node.time_constant}
            extra.pop("activation", None)
            extra.pop("time_constant", None)
            continue
        out_nodes.append(entry)
        for src in preds:
            connections.append({"from": neat_id[src], "to": neat_id[n], "weight": edges[(src, n)].weight,
                                "enabled": True})
    for n in topology.inputs:
        out_nodes.append({"id": neat_id[n], "type": "input", "activation": {"name": "identity", "custom": False},
                          "aggregation": {"name": "none", "custom": False}, "bias": 0.0, "response": 1.0})
        if topology.network_type == "ctrnn":
            out_nodes[-1]["time_constant"] = 1.0

    for n, node in nodes.items():
        extra = node_extras.setdefault(n, {})
        if node.role == "input":
            plain = Node(n, "input", "identity")
            extra.update({k: getattr(node, k) for k in ("activation", "aggregation", "bias", "response",
                                                        "time_constant") if getattr(node, k) != getattr(plain, k)})
        if relabel:
            extra["id"] = n
        if node.dale is not None:
            extra["dale"] = node.dale
    edge_extras = []
    for e in edges.values():
        flags = {**({"sign": e.sign} if e.sign is not None else {}), **({} if e.trainable else {"trainable": False})}
        if flags:
            edge_extras.append([neat_id[e.src], neat_id[e.dst], flags])
    default_order = (list(topology.inputs) + [n for n in computed if nodes[n].role == "hidden"]
                     + list(topology.outputs))
    head = {"generator": "mpnet"}
    extras: Dict[str, Any] = {"version": _EXTRAS_VERSION}
    if list(nodes) != default_order or any("idle" in e for e in node_extras.values()):
        extras["order"] = [neat_id[n] for n in nodes]
    if any(node_extras.values()):
        extras["nodes"] = [[neat_id[n], node_extras[n]] for n in nodes if node_extras[n]]
    if edge_extras:
        extras["edges"] = edge_extras
    if len(extras) > 1:
        head["mpnet"] = extras
    head.update(metadata or {})
    data = {"format_version": NEAT_FORMAT_VERSION, "network_type": topology.network_type, "metadata": head,
            "topology": {"num_inputs": len(topology.inputs), "num_outputs": len(topology.outputs),
                         "input_keys": [neat_id[n] for n in topology.inputs],
                         "output_keys": [neat_id[n] for n in topology.outputs]},
            "nodes": out_nodes, "connections": connections}
    if path is not None:
        tmp = f"{os.fspath(path)}.tmp"
        with open(tmp, "w") as f:
            json.dump(data, f, indent=1)
            f.write("\n")
        os.replace(tmp, path)
    return data
