"""validate: the wiring over node positions (Kahn's order, the off-path walk) agrees with the id-keyed walks it
replaced (find_cycle, reach), on literal graphs and random ones, cycles included."""
import random
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mpnet.errors import CycleError
from mpnet.graph.elements import Edge, Node
from mpnet.graph.topology import Topology
from mpnet.graph.validate import find_cycle, off_paths, reach, wiring
from mpnet.testing import random_topology


def by_ids(topo):
    """The walks by ids, as Topology did them before positions: ``(cycle, unreached, dead_ends)``."""
    succ = {n: [] for n in topo.nodes}
    pred = {n: [] for n in topo.nodes}
    for s, d in topo.edges:
        succ[s].append(d)
        pred[d].append(s)
    fwd, bwd = reach(topo.inputs, succ), reach(topo.outputs, pred)
    return (find_cycle(succ, list(topo.nodes)), [n for n in topo.nodes if n not in fwd],
            [n for n in topo.nodes if n not in bwd])


def test_wiring_gives_positions_and_an_order_with_every_node_after_its_sources():
    w = wiring(["a", "b", "c", "d"], [("a", "c"), ("c", "b"), ("a", "b")], 4)
    assert (w.src, w.dst, w.succ) == ([0, 2, 0], [2, 1, 1], [[2, 1], [], [1], []])
    assert sorted(w.order) == [0, 1, 2, 3]
    at = {node: i for i, node in enumerate(w.order)}
    assert all(at[s] < at[d] for s, d in zip(w.src, w.dst))
    assert wiring(["a", "b"], [("a", "b"), ("b", "a")], 2).order is None


def test_off_paths_names_what_reach_names_and_refuses_a_cycle():
    nodes = {"x": Node("x", "input"), "h": Node("h"), "lost": Node("lost"), "dead": Node("dead"),
             "y": Node("y", "output")}
    edges = [("x", "h"), ("h", "y"), ("lost", "y"), ("x", "dead")]
    assert off_paths(nodes, wiring(nodes, edges, 5)) == (["lost"], ["dead"])
    with pytest.raises(ValueError, match="has a cycle"):
        off_paths(nodes, wiring(nodes, edges + [("y", "h")], 5))


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10 ** 6), st.sampled_from([False, True, "ctrnn"]), st.floats(0.05, 0.6))
def test_topology_reports_what_the_id_walks_report(seed, recurrent, p_edge):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        topo = random_topology(seed, n_hidden=6, p_edge=p_edge, recurrent=recurrent)
    cycle, unreached, dead_ends = by_ids(topo)
    assert tuple(topo.unreachable()) == (unreached, dead_ends)
    assert (wiring(topo.nodes, topo.edges, topo.num_nodes).order is None) == (cycle is not None)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10 ** 6))
def test_a_cycle_is_named_as_find_cycle_names_it(seed):
    rng = random.Random(seed)
    ids = ["x"] + [f"h{i}" for i in range(6)] + ["y"]
    pairs = {(rng.choice(ids[:-1]), rng.choice(ids[1:])) for _ in range(14)}
    edges = [Edge(s, d) for s, d in sorted(pairs) if s != d]
    nodes = [Node("x", "input")] + [Node(n) for n in ids[1:-1]] + [Node("y", "output")]
    try:
        Topology(nodes, edges, warn=False)
    except CycleError as err:
        loop = by_ids(Topology(nodes, edges, warn=False, recurrent=True))[0]
        assert loop is not None and err.cycle == loop and " -> ".join(map(repr, loop)) in str(err)
    else:
        assert by_ids(Topology(nodes, edges, warn=False, recurrent=True))[0] is None


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10 ** 6), st.floats(0.05, 0.6))
def test_nodes_declared_in_an_order_of_the_graph_are_the_order_and_report_what_the_id_walks_report(seed, p_edge):
    """Every edge rising in declaration order: wiring takes the positions as the order (no Kahn walk); the
    off-path lists and the acyclic verdict are those of the walks by ids."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        topo = random_topology(seed, n_hidden=6, p_edge=p_edge)
        nodes = topo.nodes
        rising = Topology([nodes[n] for n in topo.topological_order()], list(topo.edges.values()), warn=False)
    w = wiring(rising.nodes, rising.edges, rising.num_nodes)
    assert all(s < d for s, d in zip(w.src, w.dst)) and w.order == list(range(rising.num_nodes))
    assert w.succ == [[d for s, d in zip(w.src, w.dst) if s == i] for i in range(rising.num_nodes)]
    assert tuple(rising.unreachable()) == by_ids(rising)[1:]            # in declaration order
    assert [set(found) for found in rising.unreachable()] == [set(found) for found in by_ids(topo)[1:]]


def test_a_rising_declaration_is_only_the_order_when_every_edge_rises():
    # b -> a falls: Kahn's walk decides (and finds the order a graph with one falling edge has)
    w = wiring(["x", "a", "b", "y"], [("x", "a"), ("x", "b"), ("b", "a"), ("a", "y")], 4)
    assert w.order == [0, 2, 1, 3]
    assert wiring(["x", "a", "b"], [("x", "a"), ("a", "b"), ("b", "a")], 3).order is None


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 10 ** 6), st.sampled_from([False, True]), st.floats(0.05, 0.6), st.sampled_from([1, 2, 3]))
def test_numpy_wiring_of_large_graphs_equals_the_loops(seed, recurrent, p_edge, wide):
    """The numpy layout (taken from NUMPY_EDGES edges) and its level-at-a-time walk (levels of WIDE_LEVEL nodes
    or more), here forced on small graphs: the same positions and successor lists as the loops, an order
    exactly when the loops find one, every node after its sources, the same off-path lists."""
    import mpnet.graph.validate as validate
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        topo = random_topology(seed, n_hidden=12, p_edge=p_edge, recurrent=recurrent)
    nodes, edges = topo.nodes, topo.edges
    loops = wiring(nodes, edges, len(nodes))
    threshold, level = validate.NUMPY_EDGES, validate.WIDE_LEVEL
    try:
        validate.NUMPY_EDGES, validate.WIDE_LEVEL = 0, wide
        arrays = wiring(nodes, edges, len(nodes))
    finally:
        validate.NUMPY_EDGES, validate.WIDE_LEVEL = threshold, level
    assert (arrays.src, arrays.dst, arrays.succ) == (loops.src, loops.dst, loops.succ)
    assert (arrays.order is None) == (loops.order is None)
    if arrays.order is not None:
        at = {node: i for i, node in enumerate(arrays.order)}
        assert sorted(arrays.order) == list(range(len(nodes))) and all(at[s] < at[d] for s, d in edges_at(arrays))
        assert off_paths(nodes, arrays) == off_paths(nodes, loops)


def edges_at(w):
    return zip(w.src, w.dst)
