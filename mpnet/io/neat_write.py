"""A :class:`~mpnet.graph.topology.Topology` written as neat-python's network JSON (io stage, the "out" half of
:mod:`mpnet.io.neat_io`; pure Python, no torch).

:func:`to_neat_json` keeps neat's semantics in neat's fields and what neat's format cannot hold in
``metadata["mpnet"]``, which :func:`~mpnet.io.neat_read.from_neat_json` reads back.
"""
import json
import os
from typing import Any, Dict, List, Mapping, Optional, Union

from ..errors import UnsupportedError
from ..graph.adapters import lend
from ..graph.elements import Node, NodeId
from ..graph.topology import Topology
from .neat_format import _EXTRAS_VERSION, _SCALED_AS_NEAT, NEAT_FORMAT_VERSION, _activation_out, _neat_choices

__all__ = ["to_neat_json"]


def _neat_ids(topology: Topology) -> Dict[NodeId, int]:
    """The ids themselves if all are ints, else neat's convention: inputs -1, -2, ..., outputs 0, 1, ...,
    hidden neurons from n_outputs on, in declaration order."""
    ints = [n for n in topology.nodes if isinstance(n, int)]
    if len(ints) == len(topology.nodes):
        return {n: n for n in ints}
    hidden = [n for n, node in topology.nodes.items() if node.role == "hidden"]
    return {**{n: -1 - i for i, n in enumerate(topology.inputs)}, **{n: i for i, n in enumerate(topology.outputs)},
            **{n: len(topology.outputs) + i for i, n in enumerate(hidden)}}


@lend("to_neat_json")
def to_neat_json(topology: Topology, path: Union[str, "os.PathLike[str]", None] = None, *,
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

    ``sigmoid`` and ``tanh`` (a NEAT search's winner has sigmoid neurons) are written as neat's, which scale
    their argument (neat's ``sigmoid(z / 5)`` is ours): with the node's bias and response divided by 5 (2.5),
    so that neat-python computes the same outputs; the unscaled values are kept for reading back.
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
        raise UnsupportedError(f"Node {bad[0][0]!r} has activation {bad[0][1]!r}, which neat-python does not have "
                               f"({len(bad)} node(s) in all, activations {sorted({a for _, a in bad})}); give "
                               f"them one neat-python's format can hold: {_neat_choices()}.")
    neat_id = _neat_ids(topology)
    relabel = any(k != v for k, v in neat_id.items())

    computed = [n for n in topology.topological_order() if nodes[n].role != "input"]
    out_nodes: List[Dict[str, Any]] = []
    connections: List[Dict[str, Any]] = []
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
        bias, response = node.bias, node.response
        scale = _SCALED_AS_NEAT.get(node.activation)
        if scale is not None:   # neat's sigmoid(z / 5) is our sigmoid(z): the argument scaled through its fields
            bias, response = bias / scale, response / scale
            extra.update(bias=node.bias, response=node.response)
        entry = {"id": neat_id[n], "type": node.role, "activation": {"name": name, "custom": False},
                 "aggregation": {"name": aggregation, "custom": False}, "bias": bias, "response": response}
        if topology.network_type == "ctrnn":
            entry["time_constant"] = node.time_constant
        elif node.time_constant != 1.0:
            extra["time_constant"] = node.time_constant
        if topology.recurrent and not preds:
            # neat's recurrent networks have no entry for a node without incoming connections (it stays
            # 0): written neat's way, its fields kept for mpnet alone
            extra["idle"] = {"role": node.role, "activation": node.activation, "aggregation": node.aggregation,
                             "bias": node.bias, "response": node.response, "time_constant": node.time_constant}
            for key in ("activation", "time_constant", "bias", "response"):
                extra.pop(key, None)
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
    edge_extras: List[List[Any]] = []
    for e in edges.values():
        flags = {**({"sign": e.sign} if e.sign is not None else {}), **({} if e.trainable else {"trainable": False})}
        if flags:
            edge_extras.append([neat_id[e.src], neat_id[e.dst], flags])
    default_order = (list(topology.inputs) + [n for n in computed if nodes[n].role == "hidden"]
                     + list(topology.outputs))
    head: Dict[str, Any] = {"generator": "mpnet"}
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
        tmp = f"{os.fspath(path)}.{os.getpid()}.{os.urandom(6).hex()}.tmp"   # per process and call: no shared tmp
        with open(tmp, "w") as f:
            json.dump(data, f, indent=1)
            f.write("\n")
        os.replace(tmp, path)
    return data
