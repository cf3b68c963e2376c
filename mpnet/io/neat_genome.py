"""A neat-python genome to the :class:`~mpnet.graph.topology.Topology` of the network neat builds from it (io
stage, beside :mod:`mpnet.io.neat_read`; pure Python, and no neat-python needed: any object with neat's
``nodes`` / ``connections`` fields will do).

:func:`from_neat_genome` writes the genome as neat's network JSON, choosing the nodes and connections as
``neat.nn.FeedForwardNetwork.create`` / ``RecurrentNetwork.create`` / ``CTRNN.create`` do, and reads that with
:func:`~mpnet.io.neat_read.from_neat_json`.
"""
from typing import Any, Dict, List, Optional, Tuple

from ..errors import CycleError, UnsupportedError
from ..graph.adapters import lend
from ..graph.elements import NETWORK_TYPES
from ..graph.topology import Topology
from .neat_format import NEAT_FORMAT_VERSION
from .neat_read import from_neat_json

__all__ = ["from_neat_genome"]


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
