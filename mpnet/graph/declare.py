"""The arguments of :meth:`~mpnet.graph.topology.Topology.from_edges`, checked before any node is made (pure Python,
beside topology): node lists that are lists (``inputs="x1"`` is not the two inputs ``x`` and ``1``), edge keys that
are ``(src, dst)`` pairs, and per-node settings that reach a node which uses them; each failure names the argument,
what came and the fix; then the nodes and edges they declare (:func:`declaration`)."""
from itertools import chain, repeat
from operator import attrgetter
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from ..checks import describe
from ..errors import ArgumentError, RoleError, UnknownNodeError
from .assemble import PlainEdges, parse_edges, plain_edges
from .elements import Edge, EdgeKey, Node, NodeId, name_unhashable_id

__all__ = ["declaration", "node_list", "edge_keys", "edge_table", "check_node_settings", "INPUT_FREE"]

#: The per-node settings an input does not use: it takes its value from the data as it is (no aggregation,
#: bias, response, activation or time constant). ``dale`` is not among them: it signs the input's own edges.
INPUT_FREE = ("biases", "responses", "activations", "aggregations", "time_constants")


def node_list(value: Any, name: str) -> List[NodeId]:
    """``value`` (a list or tuple of node ids) as a list.

    Raises:
        ArgumentError: a string (it would be read letter by letter), a mapping, or anything not iterable.
    """
    if isinstance(value, (str, bytes)):
        raise ArgumentError(f"Expected {name} to be a list of node ids (got the string {value!r:.40}, which would "
                            f"be read letter by letter); write {name}=[{value!r:.40}].")
    if isinstance(value, Mapping) or not isinstance(value, Iterable):
        raise ArgumentError(f"Expected {name} to be a list of node ids (got {describe(value)}).")
    return list(value)


def edge_keys(keys: Iterable[Any], name: str) -> List[EdgeKey]:
    """The ``(src, dst)`` keys of ``signs`` or ``frozen``, each checked to be a pair.

    Raises:
        ArgumentError: a key that is not a 2-tuple (the string ``"xy"``, a flat ``("x", "y")`` given as frozen).
    """
    if isinstance(keys, (str, bytes)):
        raise ArgumentError(f"Expected {name} to be a collection of (src, dst) edges (got the string {keys!r:.40}).")
    out: List[EdgeKey] = []
    for key in keys:
        if not isinstance(key, (tuple, list)) or len(key) != 2:
            hint = (f"; frozen=[('x', 'y')] freezes one edge, frozen=('x', 'y') names two" if name == "frozen"
                    and not isinstance(key, (tuple, list)) else "")
            raise ArgumentError(f"Expected each key of {name} to be an edge (src, dst) (got {describe(key)}){hint}.")
        out.append((key[0], key[1]))
    return out


def edge_table(value: Any, name: str) -> Dict[EdgeKey, Any]:
    """``{(src, dst): value}`` from a mapping whose keys are edges (``signs``); None is empty.

    Raises:
        ArgumentError: not a mapping, or a key that is not a pair (see :func:`edge_keys`).
    """
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ArgumentError(f"Expected {name} to be a mapping {{(src, dst): value}} (got {describe(value)}).")
    return dict(zip(edge_keys(value, name), value.values()))


def check_node_settings(tables: Sequence[Tuple[str, Optional[Mapping[NodeId, Any]]]], order: Sequence[NodeId],
                        inputs: Sequence[NodeId], outputs: Sequence[NodeId], hidden: Sequence[NodeId],
                        network_type: Any) -> None:
    """Check the per-node settings of ``from_edges`` against the nodes it declares.

    Args:
        tables: ``(argument name, {node: value} or None)``.
        order: every node id declared (inputs, hidden, outputs).
        inputs, outputs, hidden: as given to ``from_edges``.
        network_type: its ``recurrent`` argument.

    Raises:
        ArgumentError: a table that is not a mapping; a setting an input does not use given to an input
            (:data:`INPUT_FREE`); ``time_constants`` for a topology that is not a ctrnn; ``hidden`` naming an
            input or an output.
        UnknownNodeError: a table names a node no edge, input or output declares.
    """
    roles = set(inputs) | set(outputs)
    taken = [n for n in hidden if n in roles]
    if taken:
        raise ArgumentError(f"hidden names {taken[:5]}, which are inputs or outputs; a node has one role. Drop them "
                            f"from hidden.")
    known, input_set = set(order), set(inputs)
    for what, table in tables:
        if table is None:
            continue
        if not isinstance(table, Mapping):
            raise ArgumentError(f"Expected {what} to be a mapping {{node: value}} (got {describe(table)}).")
        for node_id in table:
            if node_id not in known:
                raise UnknownNodeError(f"{what} names node {node_id!r}, which no edge, input or output declares. "
                                       f"Fix the id or add the node.")
            if what in INPUT_FREE and node_id in input_set:
                raise ArgumentError(f"{what} names input {node_id!r}, which does not use it: an input takes its value "
                                    f"from the data as it is. Drop {node_id!r} from {what}.")
        if what == "time_constants" and table and network_type not in ("ctrnn",):
            raise ArgumentError(f"time_constants are for continuous-time topologies (recurrent='ctrnn'); this one "
                                f"is declared with recurrent={network_type!r}, whose neurons have no time constant. "
                                f"Pass recurrent='ctrnn', or drop time_constants.")


def declaration(edges: Iterable[Union[Sequence[Any], Mapping[str, Any]]], inputs: Sequence[NodeId],
                outputs: Sequence[NodeId], activation: str, output_activation: str, aggregation: str,
                signs: Optional[Mapping[EdgeKey, Optional[str]]], dale: Optional[Mapping[NodeId, str]],
                biases: Optional[Mapping[NodeId, float]], activations: Optional[Mapping[NodeId, str]],
                aggregations: Optional[Mapping[NodeId, str]], responses: Optional[Mapping[NodeId, float]],
                frozen: Iterable[EdgeKey], hidden: Sequence[NodeId], recurrent: Union[bool, str],
                time_constants: Optional[Mapping[NodeId, float]]) -> Tuple[List[Node], Union[PlainEdges, List[Edge]]]:
    """The nodes and edges of :meth:`~mpnet.graph.topology.Topology.from_edges`' arguments (see it): hidden neurons
    in order of first appearance; plain ``(src, dst[, weight])`` tuples as columns (:class:`PlainEdges`), anything
    else as :class:`Edge` objects. The topology's constructor checks what is left."""
    inputs, outputs, hidden = (node_list(v, k) for k, v in (("inputs", inputs), ("outputs", outputs),
                                                            ("hidden", hidden)))
    items = edges if type(edges) is list else list(edges)
    try:   # a TypeError: an id that cannot be one (a list, unhashable) got into a set; named below
        # plain (src, dst[, weight]) tuples and nothing to add to them: checked in one pass (assemble.py)
        plain = (plain_edges(items) if signs is None and type(frozen) in (tuple, list, set) and not frozen
                 else None)
        parsed = (plain if plain is not None
                  else parse_edges(items, edge_table(signs, "signs"), set(edge_keys(frozen, "frozen"))))
        if plain is not None:   # the same checks of the arguments, none of which could change an edge
            edge_table(signs, "signs"), edge_keys(frozen, "frozen")
        input_set, output_set = set(inputs), set(outputs)
        if input_set & output_set:
            raise RoleError(f"Nodes {sorted(map(str, input_set & output_set))} are both inputs and outputs; a node "
                            f"has one role.")
        # hidden neurons in order of first appearance (dict keys keep it), each id once; then the outputs
        appearing = dict.fromkeys(chain(hidden, plain.ends if plain is not None else
                                        chain.from_iterable(map(attrgetter("src", "dst"), parsed))))
        order: List[NodeId] = [*inputs, *(n for n in appearing if n not in input_set and n not in output_set),
                               *outputs]
        check_node_settings((("dale", dale), ("biases", biases), ("activations", activations), ("aggregations",
                             aggregations), ("responses", responses), ("time_constants", time_constants)),
                            order, inputs, outputs, hidden, recurrent)
    except TypeError:
        name_unhashable_id(items, {"inputs": inputs, "outputs": outputs, "hidden": hidden},
                           {"signs": edge_keys(signs or {}, "signs"), "frozen": edge_keys(frozen, "frozen")})
        raise
    if not any((dale, biases, activations, aggregations, responses, time_constants)):   # each node its role's defaults
        hidden_ids = order[len(inputs):len(order) - len(outputs)]
        return ([Node(n, "input", "identity", aggregation) for n in inputs]
                + list(map(Node, hidden_ids, repeat("hidden"), repeat(activation), repeat(aggregation)))
                + [Node(n, "output", output_activation, aggregation) for n in outputs]), parsed
    nodes: List[Node] = []
    for node_id in order:
        role = "input" if node_id in input_set else "output" if node_id in output_set else "hidden"
        default_act = "identity" if role == "input" else output_activation if role == "output" else activation
        nodes.append(Node(node_id, role,
                          activation=(activations or {}).get(node_id, default_act),
                          aggregation=(aggregations or {}).get(node_id, aggregation),
                          bias=(biases or {}).get(node_id, 0.0),
                          dale=(dale or {}).get(node_id),
                          response=(responses or {}).get(node_id, 1.0),
                          time_constant=(time_constants or {}).get(node_id, 1.0)))
    return nodes, parsed
