"""assemble: the one-test fast paths of Topology's constructor and of from_edges give what the per-item checks
give (the same nodes and edges, the same error with the same message) on every kind of item, good or bad."""
import math
import warnings
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mpnet.errors import (DuplicateNodeError, FormatError, MpnetError, RoleError, SignConflictError,
                          UnknownNodeError)
from mpnet.graph.assemble import PlainEdges, add_edges, add_nodes, plain_edges
from mpnet.graph.elements import Edge, Node
from mpnet.graph.ties import normalize_tie
from mpnet.graph.topology import Topology
from mpnet.graph.validate import check_edge, check_finite, check_id, check_node, fmt_node


# --------------------------------------------------------------- the references: one full check per item
def reference_nodes(nodes):
    declared = {}
    for node in nodes:
        if not isinstance(node, Node):
            raise RoleError(f"Expected Node objects in nodes (got a {type(node).__name__}: {node!r:.60}).")
        check_id(node.id, "Node id")
        if node.id in declared:
            raise DuplicateNodeError(f"Node {fmt_node(node.id)} is declared twice; node ids must be "
                                     f"unique. Rename one of them.")
        node = check_node(node)
        declared[node.id] = node
    return declared


def reference_edges(edges, nodes, recurrent):
    declared = {}
    for edge in edges:
        if not isinstance(edge, Edge):
            raise FormatError(f"Expected Edge objects in edges (got a {type(edge).__name__}: {edge!r:.60}).")
        if edge.tie is not None:
            edge = replace(edge, tie=normalize_tie(edge.tie, f"Edge {fmt_node(edge.src)} -> {fmt_node(edge.dst)}"))
        edge = check_edge(edge, nodes, declared, recurrent=recurrent)
        declared[edge.key] = edge
    return declared


def outcome(fn, *args):
    """What ``fn(*args)`` gives: ``("ok", result)`` with the result's items and their types, or the error's type
    and message."""
    try:
        got = fn(*args)
    except (MpnetError, TypeError, ValueError) as err:
        return type(err), str(err)
    return "ok", [(k, v, [type(x) for x in v.__dict__.values()]) for k, v in got.items()]


IDS = ["x", "h1", "h2", "y", 1, 2, True, 1.0, ("t",)]
NUMBERS = [None, 0.5, -1.0, 0.0, -0.0, 2, float("nan"), float("inf"), -float("inf"), np.float64(0.3), True, "1",
           10 ** 400]
node_ids = st.sampled_from(["x", "h1", "h2", "y", 1, 2])


def usually(good, *bad):
    """``good`` three times in four, else one of ``bad``: each field of a node or edge is most often valid, so
    that items with one bad field, the ones a fast path could let through, come often."""
    return st.one_of(st.just(good), st.just(good), st.just(good), st.sampled_from(bad))


nodes_st = st.builds(Node, node_ids, usually("hidden", "input", "output", "boss"), usually("relu", "neat.cube",
                     "relux", None), usually("sum", "max", "summ"), usually(0.5, *NUMBERS[2:]),
                     usually(None, "+", "-", "x"), usually(1.0, 2, -0.5, float("nan")),
                     usually(1.0, 0.0, -1.0, float("inf"), 3, np.float64(2.0)))
edges_st = st.builds(Edge, st.sampled_from(IDS), st.sampled_from(IDS), usually(0.5, *NUMBERS),
                     usually(None, "+", "-", "?"), usually(True, False, "no"),
                     usually(None, "g", (("g", 2.0),), (("g", 0.0),)))


@settings(max_examples=100, deadline=None)
@given(st.lists(nodes_st, max_size=6))
def test_add_nodes_matches_a_check_per_node(nodes):
    assert outcome(add_nodes, nodes) == outcome(reference_nodes, nodes)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(edges_st, max_size=8), st.sampled_from([None, "+", "-"]), st.booleans(),
       st.sampled_from([[], ["not an edge"]]))
def test_add_edges_matches_a_check_per_edge(edges, dale, recurrent, extra):
    nodes = {"x": Node("x", "input", "identity", dale=dale), "h1": Node("h1"), "h2": Node("h2", dale=dale),
             "y": Node("y", "output"), 1: Node(1), 2: Node(2, "input")}
    items = edges + extra
    assert outcome(add_edges, items, nodes, recurrent) == outcome(reference_edges, items, nodes, recurrent)


def test_add_edges_keeps_the_objects_it_passes_and_normalises_the_rest():
    nodes = {"x": Node("x", "input"), "h": Node("h", dale="-"), "y": Node("y", "output")}
    plain = Edge("x", "h", 0.5)
    made = add_edges([plain, Edge("h", "y", -2), Edge("x", "y", np.float64(1.5))], nodes, False)
    assert made[("x", "h")] is plain                                   # nothing to change: the same object
    assert made[("h", "y")].weight == -2.0 and type(made[("h", "y")].weight) is float
    assert made[("h", "y")].sign == "-"                                # the Dale source's sign written in
    assert type(made[("x", "y")].weight) is float


# -------------------------------------------------------------------- from_edges: plain tuples, one pass
def declare(edges, **kw):
    """``(topology's nodes and edges in order, warnings)``, or the error's type and message."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            topo = Topology.from_edges(edges, **kw)
        except (MpnetError, TypeError) as err:
            return type(err), str(err)
    return list(topo.nodes.items()), list(topo.edges.items()), [str(w.message) for w in caught]


tuple_edges = st.lists(st.tuples(st.sampled_from(IDS), st.sampled_from(IDS), st.sampled_from(NUMBERS))
                       | st.tuples(st.sampled_from(IDS), st.sampled_from(IDS))
                       | st.tuples(st.sampled_from(IDS)), max_size=8)


@settings(max_examples=100, deadline=None)
@given(tuple_edges, st.sampled_from([["x"], ["x", 2], [1]]), st.sampled_from([["y"], ["y", "h2"]]),
       st.sampled_from([False, True]), st.sampled_from([None, {"h1": "-"}]))
def test_from_edges_gives_from_tuples_what_it_gives_from_lists(edges, inputs, outputs, recurrent, dale):
    # tuples take the one-pass route (plain_edges); the same items as lists take the full one, item by item
    kw = dict(inputs=inputs, outputs=outputs, recurrent=recurrent, dale=dale)
    assert declare(edges, **kw) == declare([list(e) for e in edges], **kw)


def test_from_edges_takes_an_iterator_once():
    made = Topology.from_edges(((f"h{i}", "y", 0.5) for i in range(3)), inputs=["h0"], outputs=["y"], warn=False)
    assert list(made.edges) == [("h0", "y"), ("h1", "y"), ("h2", "y")]


def test_plain_edges_stops_at_the_first_item_it_cannot_take_whole():
    assert plain_edges([("a", "b", 1)]) is None                             # an int weight: made a float later
    assert plain_edges([("a", "b", math.nan)]) is None
    assert plain_edges([["a", "b"]]) is None                                # not a tuple
    assert plain_edges([("a", "b", 1.0), ("b", "c", math.inf)]) is None     # one weight not finite
    assert plain_edges([(True, "b")]) is None                               # a bool id: the checks refuse it
    assert plain_edges([("a", "b", 1.0, "+")]) is None                      # a fourth item
    assert plain_edges([]) is None
    plain = plain_edges([("x", "b", 1.0), ("b", "c")])
    assert isinstance(plain, PlainEdges) and list(plain.ends) == ["x", "b", "c"]
    assert list(plain) == [Edge("x", "b", 1.0), Edge("b", "c")]
    assert list(plain_edges([("x", "b", None), ("b", "c", 2.0)])) == [Edge("x", "b"), Edge("b", "c", 2.0)]


def test_plain_edges_are_checked_again_where_the_nodes_do_not_fit():
    plain = plain_edges([("x", "h", 0.5), ("h", "y", 1.0)])
    fits = {"x": Node("x", "input"), "h": Node("h"), "y": Node("y", "output")}
    assert plain.positions(fits) == ([0, 1], [1, 2])
    assert add_edges(plain, fits, False) == plain.table()
    for misfit in ({**fits, "h": Node("h", dale="-")}, {**fits, "h": Node("h", "input")},
                   {"x": fits["x"], "y": fits["y"]}):
        assert plain.positions(misfit) is None                                  # each goes through the checks below
    for bad in ([("x", "h", 0.5), ("x", "h", 1.0), ("h", "y")], [("x", "h"), ("h", "h")], [("x", "h"), ("h", "x")]):
        assert plain_edges(bad).positions(fits) is None                         # a pair twice, a self-loop, into x
    twice = plain_edges([("x", "h", 0.5), ("x", "h", 1.0), ("h", "y")])
    with pytest.raises(MpnetError, match=r"Edge 'x' -> 'h' is declared twice"):
        Topology(list(fits.values()), twice, warn=False)
    dale = dict(fits, h=Node("h", dale="-"))                                    # h's sign goes into its edges
    with pytest.raises(MpnetError, match=r"initial weight 1.0 but its source 'h' is a Dale neuron of sign '-'"):
        add_edges(plain, dale, False)
    into_input = dict(fits, h=Node("h", "input"))
    with pytest.raises(MpnetError, match=r"ends in input node 'h'"):
        add_edges(plain, into_input, False)
    with pytest.raises(MpnetError, match=r"refers to node 'h', which is not declared"):
        add_edges(plain, {"x": fits["x"], "y": fits["y"]}, False)


# ------------------------------------------------------------- with_weights: the new numbers checked in step
def reference_with_weights(topo, weights, biases):
    """with_weights as one loop per mapping, looking each key up: ``(nodes, edges)`` in order."""
    unknown = [k for k in weights if k not in topo.edges] + [n for n in biases if n not in topo.nodes]
    if unknown:
        raise UnknownNodeError(f"with_weights names edges, nodes or ties not in the topology: {unknown[:5]}.")
    edges, nodes = topo.edges, topo.nodes
    for key, value in weights.items():
        e = edges[key]
        if type(value) is not float or not math.isfinite(value):
            check_finite(value, f"The weight of Edge {fmt_node(e.src)} -> {fmt_node(e.dst)}", optional=False)
            value = float(value)
        if e.sign is not None and value * (1 if e.sign == "+" else -1) < 0:
            raise SignConflictError(f"Edge {fmt_node(e.src)} -> {fmt_node(e.dst)} has fixed sign {e.sign!r} "
                                    f"but with_weights gives it {value}. Give a weight of sign {e.sign!r} (or 0).")
        edges[key] = Edge(e.src, e.dst, value, e.sign, e.trainable, e.tie, e.meta)
    for node_id, value in biases.items():
        n = nodes[node_id]
        if type(value) is not float or not math.isfinite(value):
            check_finite(value, f"The bias of node {fmt_node(node_id)}", optional=False)
            value = float(value)
        nodes[node_id] = replace(n, bias=value)
    return list(nodes.items()), list(edges.items())


def reweight(topo, weights, biases):
    made = topo.with_weights(weights, biases)
    return list(made.nodes.items()), list(made.edges.items())


SIGNED = Topology([Node("x", "input", "identity"), Node("h", dale="-", meta={"cell": "AVA"}), Node("h2"),
                   Node("y", "output", "identity")],
                  [Edge("x", "h", 0.5, "+"), Edge("h", "y", -1.0, meta={"synapses": 2}), Edge("x", "y"),
                   Edge("h2", "y", 1.0, trainable=False)], warn=False)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from([("x", "h"), ("h", "y"), ("x", "y"), ("h2", "y"), ("y", "x")]),
                       usually(0.25, -0.25, 0.0, 3, float("nan"), float("inf"), True, "1", np.float64(-2.0)),
                       max_size=4),
       st.dictionaries(st.sampled_from(["h", "y", "h2", "z"]), usually(0.1, 2, float("nan"), None), max_size=3))
def test_with_weights_checks_what_a_loop_per_key_checks(weights, biases):
    got, want = outcome_of(reweight, SIGNED, weights, biases), outcome_of(reference_with_weights, SIGNED, weights,
                                                                           biases)
    assert got == want


def outcome_of(fn, *args):
    try:
        nodes, edges = fn(*args)
    except MpnetError as err:
        return type(err), str(err)
    return nodes, edges, [type(e.weight) for _, e in edges], [type(n.bias) for _, n in nodes]
