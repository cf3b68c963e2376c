"""The loops of :class:`~mpnet.graph.topology.Topology`'s constructor: each node and each edge checked
(:mod:`mpnet.graph.validate`) and added, in declaration order (graph stage, pure Python).

A topology of a million edges runs these loops a million times, so the common item (ids that are a str or an int
and are declared, a finite float weight or none, no sign, no Dale source, no tie) passes in one test here, and only
the rest goes through :func:`~mpnet.graph.validate.check_edge` / :func:`~mpnet.graph.validate.check_node`, which
normalise it or raise the error naming it. The one test admits nothing those functions would change or refuse.
Edges given as columns (:class:`PlainEdges`, checked a column at a time) skip even that: the topology keeps them as
columns.
"""
from dataclasses import replace
from itertools import chain
from operator import attrgetter, eq, itemgetter, sub
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Set, Tuple, Union

import numpy as np

from ..errors import DuplicateNodeError, FormatError, RoleError, SignConflictError, UnknownNodeError
from .elements import Edge, EdgeKey, Node, NodeId
from .ties import normalize_tie
from .validate import NUMPY_EDGES, Positions, check_edge, check_finite, check_id, check_node, fmt_node
from .vocabulary import ACTIVATIONS, AGGREGATIONS, ROLES, SIGNS

__all__ = ["add_nodes", "add_edges", "parse_edges", "plain_edges", "PlainEdges", "coded_ends", "column_edges",
           "finite", "reweighted", "rebiased"]


def add_nodes(nodes: Iterable[Any]) -> Dict[NodeId, Node]:
    """``{id: Node}`` of ``nodes``, each checked (bias, response and time constant made floats).

    Raises:
        RoleError: an item that is not a Node, or an id that is not a str or an int.
        DuplicateNodeError: an id declared twice.
        TopologyError: what :func:`~mpnet.graph.validate.check_node` raises.
    """
    items = nodes if type(nodes) is list else list(nodes)
    if items and set(map(type, items)) == {Node}:   # the common case a column at a time, in C, as plain_edges does
        table = dict(zip(map(attrgetter("id"), items), items))
        if len(table) == len(items) and set(map(type, table)) <= {str, int} and _common(items):
            return table
    declared: Dict[NodeId, Node] = {}
    for node in items:
        if type(node) is not Node and not isinstance(node, Node):
            raise RoleError(f"Expected Node objects in nodes (got a {type(node).__name__}: {node!r:.60}).")
        check_id(node.id, "Node id")
        if node.id in declared:
            raise DuplicateNodeError(f"Node {fmt_node(node.id)} is declared twice; node ids must be "
                                     f"unique. Rename one of them.")
        bias, response, tau = node.bias, node.response, node.time_constant
        # x - x is 0.0 for a finite float and NaN for inf or NaN: the common node in one test, the rest checked
        if not (type(bias) is float and type(response) is float and type(tau) is float and bias - bias == 0.0
                and response - response == 0.0 and tau - tau == 0.0 and tau > 0.0 and node.role in ROLES
                and node.activation in ACTIVATIONS and node.aggregation in AGGREGATIONS and node.dale in SIGNS):
            node = check_node(node)
        declared[node.id] = node
    return declared


def finite(numbers: Sequence[Any]) -> bool:
    """Whether every one of ``numbers`` (floats) is finite, in one C-level pass: ``x - x`` is 0.0 for a finite
    float and NaN for inf or NaN, which makes the sum NaN."""
    return bool(sum(map(sub, numbers, numbers)) == 0.0)


def _common(nodes: List[Node]) -> bool:
    """Whether every node passes :func:`add_nodes`' one test (checked a field at a time over all of them)."""
    numbers = [list(map(attrgetter(f), nodes)) for f in ("bias", "response", "time_constant")]
    return (all(set(map(type, column)) == {float} and finite(column) for column in numbers)
            and min(numbers[2]) > 0.0 and set(map(attrgetter("role"), nodes)) <= set(ROLES)
            and set(map(attrgetter("activation"), nodes)) <= set(ACTIVATIONS)
            and set(map(attrgetter("aggregation"), nodes)) <= set(AGGREGATIONS)
            and set(map(attrgetter("dale"), nodes)) <= set(SIGNS))


def add_edges(edges: Iterable[Any], nodes: Mapping[NodeId, Node], recurrent: bool) -> Dict[EdgeKey, Edge]:
    """``{(src, dst): Edge}`` of ``edges`` between ``nodes``, each checked (a tie put in its canonical form, the
    weight made a float, a Dale source's sign written in). ``recurrent`` allows self-loops.

    Raises:
        FormatError: an item that is not an Edge.
        TopologyError: what :func:`~mpnet.graph.validate.check_edge` or
            :func:`~mpnet.graph.ties.normalize_tie` raises.
    """
    declared: Dict[EdgeKey, Edge] = {}
    sources = {n for n, node in nodes.items() if node.dale is None}   # an edge from these keeps its sign
    targets = {n for n, node in nodes.items() if node.role != "input"}
    for edge in edges:
        if type(edge) is Edge:
            src, dst, weight = edge.src, edge.dst, edge.weight
            kind_s, kind_d = type(src), type(dst)
            if ((kind_s is str or kind_s is int) and (kind_d is str or kind_d is int)   # else not `in`: 1.0 == 1
                    and src in sources and dst in targets and edge.sign is None and edge.tie is None
                    and edge.trainable is True and (recurrent or src != dst)
                    and (weight is None or (type(weight) is float and weight - weight == 0.0))
                    and (src, dst) not in declared):
                declared[(src, dst)] = edge
                continue
        elif not isinstance(edge, Edge):
            raise FormatError(f"Expected Edge objects in edges (got a {type(edge).__name__}: {edge!r:.60}).")
        if edge.tie is not None:
            edge = replace(edge, tie=normalize_tie(edge.tie, f"Edge {fmt_node(edge.src)} -> {fmt_node(edge.dst)}"))
        edge = check_edge(edge, nodes, declared, recurrent=recurrent)
        declared[(edge.src, edge.dst)] = edge
    return declared


def parse_edges(items: Iterable[Union[Sequence[Any], Mapping[str, Any]]], signs: Mapping[EdgeKey, Optional[str]],
                frozen: Set[EdgeKey]) -> List[Edge]:
    """The edges of :meth:`~mpnet.graph.topology.Topology.from_edges`: ``(src, dst)``, ``(src, dst, weight)`` or a
    mapping (:meth:`Edge.from_mapping`), with the fixed signs of ``signs`` and the edges of ``frozen`` frozen.

    Raises:
        FormatError: an item of another length, or a mapping with a missing or unknown key.
        UnknownNodeError: a key of ``signs`` or ``frozen`` that no edge has.
    """
    parsed: List[Edge] = []
    append = parsed.append
    for item in items:
        if type(item) is tuple and len(item) == 3:   # the common case first: one test
            append(Edge(item[0], item[1], item[2]))
        elif isinstance(item, Mapping):
            append(Edge.from_mapping(item))
        else:
            item = tuple(item)
            if len(item) not in (2, 3):
                raise FormatError(f"Edge {item!r} must be (src, dst) or (src, dst, weight).")
            append(Edge(item[0], item[1], item[2] if len(item) == 3 else None))
    if not signs and not frozen:
        return parsed
    known_keys = {e.key for e in parsed}
    for key in list(signs) + list(frozen):
        if key not in known_keys:
            raise UnknownNodeError(f"A sign or freeze is given for edge {key[0]!r} -> {key[1]!r}, which is "
                                   f"not in the edge list. Add the edge or fix the key.")
    return [Edge(e.src, e.dst, e.weight, signs.get(e.key, e.sign), False if e.key in frozen else e.trainable, e.tie,
                 e.meta) if e.key in signs or e.key in frozen else e for e in parsed]


class PlainEdges:
    """Edges as three columns, ``src``, ``dst`` and ``weight``, checked a column at a time where they were read
    (:func:`plain_edges`, :func:`column_edges`): each end a str or int id, each weight a finite float or None, no
    sign, tie or freeze. Iterated, they give :class:`Edge` objects, like a list of them. A
    :class:`~mpnet.graph.topology.Topology` given them keeps the columns when they fit its nodes (:meth:`positions`,
    the rest of the check) and makes the Edge objects only when someone asks for them: a million edges then cost no
    million objects, and no million dict entries."""
    __slots__ = ("src", "dst", "weight", "known", "_coded")

    def __init__(self, src: Sequence[NodeId], dst: Sequence[NodeId], weight: Sequence[Optional[float]]):
        self.src, self.dst, self.weight = src, dst, weight
        #: the positions of the ends among the nodes they will be checked against, when the maker knows them (a
        #: graph its columns checked: distinct pairs, every end a node, none a self-loop or ending in an input):
        #: :meth:`positions` then looks nothing up
        self.known: Optional[Tuple[Positions, Positions]] = None
        self._coded: Optional[Tuple[List[NodeId], np.ndarray]] = None   # coded_ends' (kept from ends to positions)

    def __len__(self) -> int:
        return len(self.src)

    def __iter__(self) -> Iterator[Edge]:
        return map(Edge, self.src, self.dst, self.weight)

    def keys(self) -> Iterator[EdgeKey]:
        """The ``(src, dst)`` pairs, in order."""
        return zip(self.src, self.dst)

    def table(self) -> Dict[EdgeKey, Edge]:
        """``{(src, dst): Edge}``, what a topology holds once its edges are asked for."""
        return dict(zip(self.keys(), self))

    @property
    def ends(self) -> Dict[NodeId, None]:
        """The end ids, in order of first appearance (sources before targets, edge by edge)."""
        if len(self.src) < NUMPY_EDGES:
            return dict.fromkeys(chain.from_iterable(self.keys()))
        self._coded = self._coded or coded_ends(self.src, self.dst)
        return dict.fromkeys(self._coded[0])

    def positions(self, nodes: Mapping[NodeId, Node]) -> Optional[Tuple[Positions, Positions]]:
        """The positions among ``nodes`` of each edge's source and target when the columns fit them (every end a
        node, no edge a self-loop or ending in an input, no node a Dale neuron, whose sign its edges would take, no
        pair given twice; each checked on the positions): then :func:`~mpnet.graph.validate.check_edge` would pass
        each edge unchanged. None when they do not: the edges are then checked one by one, and the culprit named.
        Lists of ints, or int64 arrays from ``validate.NUMPY_EDGES`` edges (no Python int per edge end)."""
        if any(node.dale is not None for node in nodes.values()):
            return None
        if self.known is not None:
            return self.known
        index = dict(zip(nodes, range(len(nodes))))
        count = len(self.src)
        if count < NUMPY_EDGES:
            src, dst = list(map(index.get, self.src)), list(map(index.get, self.dst))
            inputs = {i for i, node in enumerate(nodes.values()) if node.role == "input"}
            fits = (None not in src and None not in dst and inputs.isdisjoint(dst) and not any(map(eq, src, dst))
                    and len(set(zip(src, dst))) == count)
            return (src, dst) if fits else None   # type: ignore[return-value]   # no None in them when they fit
        firsts, code = self._coded or coded_ends(self.src, self.dst)
        self._coded = None     # [2 * edges] int64: not kept with the topology
        try:   # one lookup per distinct end object, not per end
            at = np.fromiter(map(index.__getitem__, firsts), np.int64, len(firsts))
        except KeyError:   # an end that is no node
            return None
        s, d = at[code[0::2]], at[code[1::2]]
        is_input = np.fromiter((node.role == "input" for node in nodes.values()), bool, len(nodes))
        pairs = np.sort(s * len(nodes) + d)   # sorted, a pair given twice sits next to itself (np.unique hashes
        twice = bool((pairs[1:] == pairs[:-1]).any())   # since numpy 2.3: 30x slower at a million)
        return None if twice or bool((s == d).any()) or bool(is_input[d].any()) else (s, d)


def coded_ends(src: Sequence[NodeId], dst: Sequence[NodeId]) -> Tuple[List[NodeId], np.ndarray]:
    """The ends of the edges ``src -> dst`` coded by sorting, not by hashing each: ``(firsts, code)``, ``firsts``
    one end per distinct end object, in order of first appearance (sources before targets, edge by edge), and
    ``code [2 * edges]`` each end's index into ``firsts``, interleaved (source, target, source, ...).

    Objects are told apart by identity (``id``: every end is alive in ``src`` or ``dst``, so no two share one),
    which reads nothing of the object. A dict lookup of each of a million ends among 100,000 ids misses the CPU's
    caches a few times per end (the objects, the table); a sort of the identities streams through memory. Equal
    ids held by distinct objects get distinct codes here: the caller's lookup of ``firsts`` merges them."""
    n = len(src)
    keys = np.empty(2 * n, np.uint64)
    keys[0::2], keys[1::2] = (np.fromiter(map(id, ids), np.uint64, n) for ids in (src, dst))
    order = np.argsort(keys)
    ordered = keys[order]
    new = np.empty(2 * n, bool)
    new[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    first = np.minimum.reduceat(order, np.flatnonzero(new))    # each object's first appearance
    by_first = np.argsort(first)
    rank = np.empty_like(by_first)
    rank[by_first] = np.arange(by_first.size)
    code = np.empty(2 * n, np.int64)
    code[order] = rank[np.cumsum(new) - 1]
    ends = (src, dst)
    return [ends[i & 1][i >> 1] for i in first[by_first].tolist()], code


def plain_edges(items: Sequence[Any]) -> Optional[PlainEdges]:
    """The edges ``(src, dst)`` or ``(src, dst, weight)`` of ``items``, checked column by column (see
    :class:`PlainEdges`), or None when an item is anything else: then :func:`parse_edges` and :func:`add_edges`
    read them all again, and raise the error an item deserves.

    Each check runs over a whole column in C (``map``, ``set``, ``zip``): a million tuples pass in a fraction of
    the time a loop over them takes, and no :class:`Edge` is made: the topology keeps the columns."""
    if not items or set(map(type, items)) != {tuple}:
        return None
    widths = set(map(len, items))
    weight: Sequence[Optional[float]]
    if widths == {3}:
        src, dst, weight = zip(*items)
    elif widths == {2}:
        src, dst = zip(*items)
        weight = (None,) * len(items)
    elif widths == {2, 3}:
        src, dst = tuple(map(itemgetter(0), items)), tuple(map(itemgetter(1), items))
        weight = tuple(item[2] if len(item) == 3 else None for item in items)
    else:
        return None
    kinds = set(map(type, weight))
    numbers = weight if kinds == {float} else [w for w in weight if w is not None]
    if not kinds <= {float, type(None)} or not finite(numbers):   # each weight a finite float or None
        return None
    if not set(map(type, src)) | set(map(type, dst)) <= {str, int}:
        return None
    return PlainEdges(src, dst, weight)


def column_edges(src: Sequence[NodeId], dst: Sequence[NodeId], weight: Sequence[Optional[float]],
                 sign: Iterable[Optional[str]], trainable: Iterable[bool], plain: bool
                 ) -> Union[PlainEdges, List[Edge]]:
    """The edges of columns: :class:`PlainEdges` when ``plain`` (the caller saw ends that are str or int ids, no
    sign, every edge trainable, each weight a finite float or None), which a topology keeps as columns; else the
    :class:`Edge` objects, checked one by one."""
    if plain:
        return PlainEdges(src, dst, weight)
    return list(map(Edge, src, dst, weight, sign, trainable))


def reweighted(edges: Iterable[Edge], weights: Iterable[Any]) -> Iterator[Edge]:
    """Each of ``edges`` with the weight in step with it in ``weights``, checked on the way (what
    :meth:`~mpnet.graph.topology.Topology.with_weights` checks: only the new number).

    Raises:
        NonFiniteError: a weight that is not a finite number.
        SignConflictError: a weight against the edge's fixed sign (a Dale source's sign is written in the edge).
    """
    for e, value in zip(edges, weights):
        if type(value) is not float or value - value != 0.0:   # not a finite float (messages built on a failure)
            check_finite(value, f"The weight of Edge {fmt_node(e.src)} -> {fmt_node(e.dst)}", optional=False)
            value = float(value)
        if e.sign is not None and value * (1 if e.sign == "+" else -1) < 0:
            raise SignConflictError(f"Edge {fmt_node(e.src)} -> {fmt_node(e.dst)} has fixed sign {e.sign!r} "
                                    f"but with_weights gives it {value}. Give a weight of sign {e.sign!r} (or 0).")
        yield Edge(e.src, e.dst, value, e.sign, e.trainable, e.tie, e.meta)


def rebiased(nodes: Iterable[Node], biases: Iterable[Any]) -> Iterator[Node]:
    """Each of ``nodes`` with the bias in step with it in ``biases``, checked to be a finite number.

    Raises:
        NonFiniteError: a bias that is not a finite number.
    """
    for n, value in zip(nodes, biases):
        if type(value) is not float or value - value != 0.0:
            check_finite(value, f"The bias of node {fmt_node(n.id)}", optional=False)
            value = float(value)
        yield Node(n.id, n.role, n.activation, n.aggregation, value, n.dale, n.response, n.time_constant, n.meta)
