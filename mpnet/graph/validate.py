"""The checks a topology passes at construction; each failure names the culprit and the fix (Python; numpy lays
out the wiring of a large graph)."""
from __future__ import annotations

import math
import numbers
from dataclasses import replace
from itertools import islice
from operator import itemgetter, lt
from typing import TYPE_CHECKING, Any, Iterable, List, Mapping, NamedTuple, Optional, Sequence, Set, Tuple, Union

import numpy as np
import numpy.typing as npt

from ..errors import (DaleConflictError, DuplicateEdgeError, InputEdgeError, NonFiniteError, RoleError,
                     SelfLoopError, SignConflictError, TimeConstantError, UnknownActivationError,
                     UnknownAggregationError, UnknownNodeError)
from .vocabulary import ACTIVATIONS, AGGREGATIONS, ROLES, SIGNS

if TYPE_CHECKING:   # elements imports ties, which imports this module
    from .elements import Edge, EdgeKey, Node, NodeId

__all__ = ["check_node", "check_edge", "find_cycle", "reach", "wiring", "wired", "off_paths", "Wiring", "Positions",
           "fmt_node", "check_finite", "check_id", "is_number"]


def fmt_node(node_id: object) -> str:
    return repr(node_id)


def is_number(value: Any) -> bool:
    """A real number that is not a bool (``True`` is not a weight; neither is the string ``"0.5"``)."""
    kind = type(value)
    if kind is float or kind is int:
        return True
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:   # an int beyond the float range
        return False


def check_finite(value: Any, what: str, *, optional: bool = True) -> None:
    """Raise NonFiniteError unless ``value`` is a finite real number (or None when ``optional``)."""
    if value is None and optional:
        return
    shown = f"an int of {len(str(value))} digits" if isinstance(value, int) and len(str(value)) > 30 else repr(value)
    if not is_number(value):
        raise NonFiniteError(f"{what} is {shown} (a {type(value).__name__}); expected a finite number"
                             + (", or None to let the network draw it." if optional else "."))
    if not _finite(value):
        raise NonFiniteError(f"{what} is {shown}; expected a finite number. Give a finite value"
                             + (", or None to let the network draw it." if optional else "."))


def check_id(node_id: Any, what: str) -> None:
    """Raise RoleError unless ``node_id`` is a str or an int (not a bool)."""
    if not isinstance(node_id, (str, int)) or isinstance(node_id, bool):
        raise RoleError(f"{what} {node_id!r} has type {type(node_id).__name__}; expected str or int.")


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


def reach(starts: Sequence[NodeId], nbrs: Mapping[NodeId, List[NodeId]]) -> Set[NodeId]:
    """The nodes reachable from ``starts`` (themselves included) along ``nbrs`` (successor or predecessor
    lists): what :meth:`~mpnet.graph.topology.Topology.unreachable` reports is the rest."""
    seen, stack = set(starts), list(starts)
    while stack:
        for m in nbrs[stack.pop()]:
            if m not in seen:
                seen.add(m)
                stack.append(m)
    return seen


#: the positions of edge ends: a list of ints, or an int64 array (from NUMPY_EDGES edges: no Python int per end)
Positions = Union[Sequence[int], "npt.NDArray[np.int64]"]


class Wiring(NamedTuple):
    """A topology's edges between node positions (declaration order), made by :func:`wiring`."""
    src: Positions                 # [E] the position of each edge's source, edges in declaration order
    dst: Positions                 # [E] of its target
    succ: List[List[int]]          # [N] the targets of each node's edges
    order: Optional[List[int]]     # every position, each after its sources (Kahn's order); None on a cycle


#: from this many edges numpy lays out the successor lists and walks the wide levels of Kahn's order
NUMPY_EDGES = 20_000
#: a level of the walk is done by numpy while it holds at least this many nodes or 8 times as many edges (a few
#: inputs feeding a wide layer), the narrow rest by the loop
WIDE_LEVEL = 256


def wiring(nodes: Iterable[NodeId], edges: Iterable[EdgeKey], num_nodes: int) -> Wiring:
    """The edges ``(src, dst)`` between ``nodes`` as positions, and a topological order if they have one.

    Node ids are looked up once per edge end; the order and :func:`off_paths` then walk lists of ints, which
    costs a fraction of walking dicts keyed by ids (a million edges: about a second less). See :func:`wired`."""
    position = dict(zip(nodes, range(num_nodes))).__getitem__
    keys = list(edges)
    return wired(list(map(position, map(itemgetter(0), keys))), list(map(position, map(itemgetter(1), keys))),
                 num_nodes)


def wired(src: Positions, dst: Positions, num_nodes: int) -> Wiring:
    """The :class:`Wiring` of edges given as the positions of their ends (lists, or int64 arrays).

    When every edge goes from a lower position to a higher one, the positions themselves are the order (Kahn's
    walk, whose random reads cost about a second at a million edges, is skipped); only :func:`off_paths` reads
    it, and any order that puts each node after its sources gives it the same answer. From :data:`NUMPY_EDGES`
    edges numpy sorts the successor lists out and takes Kahn's walk a level at a time while the levels are wide."""
    if len(src) >= NUMPY_EDGES:
        return _wiring_numpy(src, dst, num_nodes)
    src, dst = (ends.tolist() if isinstance(ends, np.ndarray) else list(ends) for ends in (src, dst))
    succ: List[List[int]] = [[] for _ in range(num_nodes)]
    if all(map(lt, src, dst)):   # every edge rises in declaration order (samplers, read-backs): that is an order
        for s, d in zip(src, dst):
            succ[s].append(d)
        return Wiring(src, dst, succ, list(range(num_nodes)))
    indeg = [0] * num_nodes
    for s, d in zip(src, dst):
        succ[s].append(d)
        indeg[d] += 1
    order = [i for i in range(num_nodes) if not indeg[i]]
    return Wiring(src, dst, succ, _kahn(order, 0, succ, indeg, num_nodes))


def _kahn(order: List[int], done: int, succ: List[List[int]], indeg: List[int], num_nodes: int
          ) -> Optional[List[int]]:
    """Kahn's walk on from ``order[done:]`` (the nodes ready, their sources all in ``order[:done]``): the order,
    or None when a cycle keeps nodes out of it."""
    for node in islice(order, done, None):   # the list grows as nodes become ready: Kahn's queue
        for child in succ[node]:
            indeg[child] -= 1
            if not indeg[child]:
                order.append(child)
    return order if len(order) == num_nodes else None


def _wiring_numpy(src: Positions, dst: Positions, num_nodes: int) -> Wiring:
    """:func:`wired` of many edges: the successor lists cut from the targets sorted by source (stable: each list
    in edge order, as the loop appends them), the wide levels of Kahn's walk each a few array operations."""
    s, d = np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64)
    targets = d[np.argsort(s, kind="stable")]
    bounds = np.zeros(num_nodes + 1, dtype=np.int64)
    np.cumsum(np.bincount(s, minlength=num_nodes), out=bounds[1:])
    flat, cut = targets.tolist(), bounds.tolist()
    succ = [flat[a:b] for a, b in zip(cut, islice(cut, 1, None))]
    if bool((s < d).all()):
        return Wiring(src, dst, succ, list(range(num_nodes)))
    indeg = np.bincount(d, minlength=num_nodes)
    ready = np.flatnonzero(indeg == 0)
    levels: List[np.ndarray] = []
    while ready.size:   # a level: every node whose sources are all in the levels before it
        first, count = bounds[ready], bounds[ready + 1] - bounds[ready]
        if ready.size < WIDE_LEVEL and int(count.sum()) < 8 * WIDE_LEVEL:   # narrow, few edges: the loop's
            break
        levels.append(ready)
        # the edges of the level's nodes: each node's range of the sorted targets, laid end to end
        within = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
        children, hits = np.unique(targets[np.repeat(first, count) + within], return_counts=True)
        indeg[children] -= hits
        ready = children[indeg[children] == 0]
    done = np.concatenate(levels).tolist() if levels else []
    return Wiring(src, dst, succ, _kahn(done + ready.tolist(), len(done), succ, indeg.tolist(), num_nodes))


def off_paths(nodes: Mapping[NodeId, Node], w: Wiring) -> Tuple[List[NodeId], List[NodeId]]:
    """``(unreached, dead_ends)`` of an acyclic :class:`Wiring` between ``nodes``: the non-input nodes no input
    reaches and the non-output nodes that reach no output, in declaration order (what :func:`reach` gives, walked
    over positions in ``w.order``)."""
    if w.order is None:
        raise ValueError("off_paths walks a topological order; this wiring has a cycle (use reach).")
    reached = [node.role == "input" for node in nodes.values()]
    reaching = [node.role == "output" for node in nodes.values()]
    for i in w.order:
        if reached[i]:
            for child in w.succ[i]:
                reached[child] = True
    for i in reversed(w.order):
        if not reaching[i] and any(map(reaching.__getitem__, w.succ[i])):
            reaching[i] = True
    return ([n for n, hit in zip(nodes, reached) if not hit], [n for n, hit in zip(nodes, reaching) if not hit])


def check_node(node: Node) -> Node:
    """Raise the TopologyError a malformed node deserves; return it normalised (float bias and response, so
    that a NumPy scalar or an int given by a user writes back as JSON)."""
    if node.role not in ROLES:
        raise RoleError(f"Node {fmt_node(node.id)} has role {node.role!r}; expected one of {list(ROLES)}.")
    if node.activation not in ACTIVATIONS:
        raise UnknownActivationError(f"Node {fmt_node(node.id)} has activation {node.activation!r}; "
                                     f"expected one of {list(ACTIVATIONS)}.")
    if node.aggregation not in AGGREGATIONS:
        raise UnknownAggregationError(f"Node {fmt_node(node.id)} has aggregation {node.aggregation!r}; "
                                      f"expected one of {list(AGGREGATIONS)}.")
    check_finite(node.bias, f"The bias of node {fmt_node(node.id)}", optional=False)
    if not is_number(node.response) or not _finite(node.response):
        raise NonFiniteError(f"The response of node {fmt_node(node.id)} is {node.response!r}; expected a "
                             f"finite number (1 leaves the aggregate unscaled).")
    check_sign(node.dale, f"Dale neuron {fmt_node(node.id)}")
    tau = node.time_constant
    if not is_number(tau) or not _finite(tau) or tau <= 0:
        raise TimeConstantError(f"The time constant of node {fmt_node(node.id)} is {tau!r}; expected a finite "
                                f"number > 0 (1 unless set; neat-python's default range is [0.01, 10]).")
    if type(node.bias) is not float or type(node.response) is not float or type(tau) is not float:
        return replace(node, bias=float(node.bias), response=float(node.response), time_constant=float(tau))
    return node


def check_edge(edge: Edge, nodes: Mapping[NodeId, Node], edges: Mapping[EdgeKey, Edge], recurrent: bool = False
               ) -> Edge:
    """Raise the TopologyError a malformed edge deserves; return it normalised (float weight, the source's
    Dale sign written in). ``recurrent`` allows self-loops."""
    def name() -> str:   # built only for a message: this check runs once per edge of every topology
        return f"Edge {fmt_node(edge.src)} -> {fmt_node(edge.dst)}"
    for end, which in ((edge.src, "source"), (edge.dst, "target")):
        if type(end) is not str and type(end) is not int:
            check_id(end, f"{name()}: the {which} id")
        if end not in nodes:
            raise UnknownNodeError(f"{name()} refers to node {fmt_node(end)}, which is not declared. "
                                   f"Declared nodes: {list(nodes)[:20]}"
                                   f"{' ...' if len(nodes) > 20 else ''}. Declare it or fix the id.")
    if edge.src == edge.dst and not recurrent:
        raise SelfLoopError(f"{name()} is a self-loop; a feed-forward network has none. Remove it, or declare "
                            f"the topology recurrent=True.")
    if nodes[edge.dst].role == "input":
        raise InputEdgeError(f"{name()} ends in input node {fmt_node(edge.dst)}; inputs take their value "
                             f"from the data. Point the edge at a hidden or output node.")
    if edge.key in edges:
        raise DuplicateEdgeError(f"{name()} is declared twice; each (src, dst) pair carries one weight. "
                                 f"Merge the two declarations.")
    weight = edge.weight
    if weight is not None and (type(weight) is not float or not math.isfinite(weight)):   # common cases: 1 test
        check_finite(weight, f"The weight of {name()}")
        weight = None if weight is None else float(weight)
    if edge.sign is not None:
        check_sign(edge.sign, name())
    dale = nodes[edge.src].dale
    sign = edge.sign
    tie = edge.tie
    own = tie is None or (not isinstance(tie, str) and any(g is None for g, _ in tie))
    if dale is not None and own:   # an edge without a parameter of its own: its group's sign (mpnet.graph.ties)
        if sign is not None and sign != dale:
            raise DaleConflictError(f"{name()} has fixed sign {sign!r} but its source "
                                    f"{fmt_node(edge.src)} is a Dale neuron of sign {dale!r}; all its "
                                    f"outgoing edges must share that sign. Drop the edge's sign or the "
                                    f"neuron's.")
        if weight is not None and weight * (1 if dale == "+" else -1) < 0:
            raise DaleConflictError(f"{name()} has initial weight {weight} but its source "
                                    f"{fmt_node(edge.src)} is a Dale neuron of sign {dale!r}. Give a "
                                    f"weight of sign {dale!r} (or 0).")
        sign = dale
    if sign is not None and weight is not None and weight * (1 if sign == "+" else -1) < 0:
        raise SignConflictError(f"{name()} has fixed sign {sign!r} but initial weight {weight}. Give a "
                                f"weight of sign {sign!r} (or 0), or leave the weight unset.")
    if not isinstance(edge.trainable, bool):
        raise SignConflictError(f"{name()} has trainable={edge.trainable!r}; expected True or False.")
    if not edge.trainable and weight is None:
        raise NonFiniteError(f"{name()} is frozen (trainable=False) but has no weight; a frozen edge "
                             f"keeps its initial value, so give it one.")
    if weight is edge.weight and sign is edge.sign:
        return edge
    return replace(edge, weight=weight, sign=sign)
