"""The checks a topology passes at construction; each failure names the culprit and the fix (pure Python)."""
import math
from dataclasses import replace
from typing import Any, List, Mapping, Optional, Sequence

from .errors import (DaleConflictError, DuplicateEdgeError, InputEdgeError, NonFiniteError, RoleError,
                     SelfLoopError, SignConflictError, TimeConstantError, UnknownActivationError,
                     UnknownAggregationError, UnknownNodeError)
from .vocabulary import ACTIVATIONS, AGGREGATIONS, ROLES, SIGNS

__all__ = ["check_node", "check_edge", "find_cycle", "fmt_node"]

NodeId = Any


def fmt_node(node_id: NodeId) -> str:
    return repr(node_id)


def check_finite(value: Optional[float], what: str) -> None:
    if value is not None and not math.isfinite(value):
        raise NonFiniteError(f"{what} is {value!r}; expected a finite number. Give a finite value, "
                             f"or None to let the network draw it.")


def check_sign(sign: Any, what: str) -> None:
    if sign not in SIGNS:
        raise SignConflictError(f"{what} has sign {sign!r}; expected one of '+', '-' or None (free).")


def find_cycle(succ: Mapping[NodeId, List[NodeId]], order: Sequence[NodeId]) -> Optional[List[NodeId]]:
    """Return one directed cycle as a node path ``[a, b, ..., a]``, or None. Iterative DFS."""
    WHITE, GREY, BLACK = 0, 1, 2
    color = {n: WHITE for n in order}
    for root in order:
        if color[root] != WHITE:
            continue
        stack = [(root, iter(succ[root]))]
        path = [root]
        color[root] = GREY
        while stack:
            node, children = stack[-1]
            for child in children:
                if color[child] == GREY:
                    return path[path.index(child):] + [child]
                if color[child] == WHITE:
                    color[child] = GREY
                    stack.append((child, iter(succ[child])))
                    path.append(child)
                    break
            else:
                color[node] = BLACK
                stack.pop()
                path.pop()
    return None


def check_node(node) -> None:
    """Raise the TopologyError a malformed node deserves."""
    if node.role not in ROLES:
        raise RoleError(f"Node {fmt_node(node.id)} has role {node.role!r}; expected one of {list(ROLES)}.")
    if node.activation not in ACTIVATIONS:
        raise UnknownActivationError(f"Node {fmt_node(node.id)} has activation {node.activation!r}; "
                                     f"expected one of {list(ACTIVATIONS)}.")
    if node.aggregation not in AGGREGATIONS:
        raise UnknownAggregationError(f"Node {fmt_node(node.id)} has aggregation {node.aggregation!r}; "
                                      f"expected one of {list(AGGREGATIONS)}.")
    check_finite(node.bias, f"The bias of node {fmt_node(node.id)}")
    if (not isinstance(node.response, (int, float)) or isinstance(node.response, bool)
            or not math.isfinite(node.response)):
        raise NonFiniteError(f"The response of node {fmt_node(node.id)} is {node.response!r}; expected a "
                             f"finite number (1 leaves the aggregate unscaled).")
    check_sign(node.dale, f"Dale neuron {fmt_node(node.id)}")
    tau = node.time_constant
    if (not isinstance(tau, (int, float)) or isinstance(tau, bool) or not math.isfinite(tau) or tau <= 0):
        raise TimeConstantError(f"The time constant of node {fmt_node(node.id)} is {tau!r}; expected a finite "
                                f"number > 0 (1 unless set; neat-python's default range is [0.01, 10]).")


def check_edge(edge, nodes: Mapping, edges: Mapping, recurrent: bool = False):
    """Raise the TopologyError a malformed edge deserves; return it normalised (float weight, the source's
    Dale sign written in). ``recurrent`` allows self-loops."""
    name = f"Edge {fmt_node(edge.src)} -> {fmt_node(edge.dst)}"
    for end in (edge.src, edge.dst):
        if end not in nodes:
            raise UnknownNodeError(f"{name} refers to node {fmt_node(end)}, which is not declared. "
                                   f"Declared nodes: {list(nodes)[:20]}"
                                   f"{' ...' if len(nodes) > 20 else ''}. Declare it or fix the id.")
    if edge.src == edge.dst and not recurrent:
        raise SelfLoopError(f"{name} is a self-loop; a feed-forward network has none. Remove it, or declare "
                            f"the topology recurrent=True.")
    if nodes[edge.dst].role == "input":
        raise InputEdgeError(f"{name} ends in input node {fmt_node(edge.dst)}; inputs take their value "
                             f"from the data. Point the edge at a hidden or output node.")
    if edge.key in edges:
        raise DuplicateEdgeError(f"{name} is declared twice; each (src, dst) pair carries one weight. "
                                 f"Merge the two declarations.")
    weight = None if edge.weight is None else float(edge.weight)
    check_finite(weight, f"The weight of {name}")
    check_sign(edge.sign, name)
    dale = nodes[edge.src].dale
    sign = edge.sign
    tie = edge.tie
    own = tie is None or (not isinstance(tie, str) and any(g is None for g, _ in tie))
    if dale is not None and own:   # an edge without a parameter of its own: its group's sign (mpnet.ties)
        if sign is not None and sign != dale:
            raise DaleConflictError(f"{name} has fixed sign {sign!r} but its source "
                                    f"{fmt_node(edge.src)} is a Dale neuron of sign {dale!r}; all its "
                                    f"outgoing edges must share that sign. Drop the edge's sign or the "
                                    f"neuron's.")
        if weight is not None and weight * (1 if dale == "+" else -1) < 0:
            raise DaleConflictError(f"{name} has initial weight {weight} but its source "
                                    f"{fmt_node(edge.src)} is a Dale neuron of sign {dale!r}. Give a "
                                    f"weight of sign {dale!r} (or 0).")
        sign = dale
    if sign is not None and weight is not None and weight * (1 if sign == "+" else -1) < 0:
        raise SignConflictError(f"{name} has fixed sign {sign!r} but initial weight {weight}. Give a "
                                f"weight of sign {sign!r} (or 0), or leave the weight unset.")
    if not isinstance(edge.trainable, bool):
        raise SignConflictError(f"{name} has trainable={edge.trainable!r}; expected True or False.")
    if not edge.trainable and weight is None:
        raise NonFiniteError(f"{name} is frozen (trainable=False) but has no weight; a frozen edge "
                             f"keeps its initial value, so give it one.")
    return replace(edge, weight=weight, sign=sign)
