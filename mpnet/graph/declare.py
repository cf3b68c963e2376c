"""The arguments of :meth:`~mpnet.graph.topology.Topology.from_edges`, checked before any node is made (pure Python,
beside topology): node lists that are lists (``inputs="x1"`` is not the two inputs ``x`` and ``1``), edge keys that
are ``(src, dst)`` pairs, and per-node settings that reach a node which uses them; each failure names the argument,
what came and the fix."""
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from ..checks import describe
from ..errors import ArgumentError, UnknownNodeError
from .elements import EdgeKey, NodeId

__all__ = ["node_list", "edge_keys", "edge_table", "check_node_settings", "INPUT_FREE"]

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
