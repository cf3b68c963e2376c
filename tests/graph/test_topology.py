"""Tests of mpnet.graph.topology: declaration, validation errors, depth, serialization, networkx interop."""
import dataclasses
import json
import math
import warnings

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mpnet import errors
from mpnet.errors import (CycleError, DaleConflictError, DuplicateEdgeError, DuplicateNodeError, FormatError,
                          InputEdgeError, NonFiniteError, RoleError, SelfLoopError, SignConflictError,
                          TopologyError, TopologyWarning, UnknownActivationError, UnknownAggregationError,
                          UnknownNodeError)
from mpnet.testing import random_topology
from mpnet.graph.topology import ACTIVATIONS, AGGREGATIONS, Edge, Node, Topology

QUESTION_EDGES = [
    ("x1", "a1", 0.5), ("x2", "a2", 0.5),
    ("a1", "b1", 1.0), ("a2", "b2", 1.0),
    ("b1", "c1", 0.7), ("b2", "c2", 0.7),
    ("a1", "c1", -0.4), ("a2", "c2", -0.4),
    ("c1", "y", 1.0), ("c2", "y", -1.0),
]
QUESTION_SIGNS = {("a1", "c1"): "-", ("a2", "c2"): "-"}


def question(**kw):
    return Topology.from_edges(QUESTION_EDGES, inputs=["x1", "x2"], outputs=["y"], activation="relu",
                               output_activation="identity", signs=QUESTION_SIGNS, **kw)


def small(edges, inputs=("x",), outputs=("y",), **kw):
    return Topology.from_edges(edges, inputs=list(inputs), outputs=list(outputs), **kw)


def assert_depth_consistent(topo):
    depth = topo.depth()
    assert set(depth) == set(topo.nodes)
    for (src, dst) in topo.edges:
        assert depth[dst] > depth[src]
    for node_id, node in topo.nodes.items():
        preds = topo.predecessors(node_id)
        if node.role == "input":
            assert depth[node_id] == 0
        elif preds:   # longest path: exactly one more than the deepest source
            assert depth[node_id] == 1 + max(depth[p] for p in preds)
        else:
            assert depth[node_id] == 1
    order = topo.topological_order()
    assert sorted(order, key=str) == sorted(topo.nodes, key=str)
    pos = {n: i for i, n in enumerate(order)}
    for (src, dst) in topo.edges:
        assert pos[src] < pos[dst]


# ------------------------------------------------------------------------------ the question network
def test_question_network_roles_and_order():
    topo = question()
    assert topo.inputs == ("x1", "x2")
    assert topo.outputs == ("y",)
    assert list(topo.nodes) == ["x1", "x2", "a1", "a2", "b1", "b2", "c1", "c2", "y"]
    roles = {n: node.role for n, node in topo.nodes.items()}
    assert roles == {"x1": "input", "x2": "input", "a1": "hidden", "a2": "hidden", "b1": "hidden",
                     "b2": "hidden", "c1": "hidden", "c2": "hidden", "y": "output"}
    assert topo.num_nodes == 9
    assert topo.num_edges == 10


def test_question_network_activations_biases_aggregation():
    topo = question()
    acts = {n: node.activation for n, node in topo.nodes.items()}
    assert acts == {"x1": "identity", "x2": "identity", "a1": "relu", "a2": "relu", "b1": "relu",
                    "b2": "relu", "c1": "relu", "c2": "relu", "y": "identity"}
    for node in topo.nodes.values():
        assert node.bias == 0.0
        assert node.aggregation == "sum"
        assert node.dale is None


def test_question_network_edges_weights_signs():
    topo = question()
    edges = topo.edges
    assert list(edges) == [(s, d) for s, d, _ in QUESTION_EDGES]
    for s, d, w in QUESTION_EDGES:
        edge = edges[(s, d)]
        assert isinstance(edge, Edge)
        assert (edge.src, edge.dst, edge.key) == (s, d, (s, d))
        assert edge.weight == w and type(edge.weight) is float
        assert edge.sign == QUESTION_SIGNS.get((s, d))
        assert edge.trainable is True
    assert edges[("a1", "c1")].sign == "-" and edges[("a2", "c2")].sign == "-"
    assert edges[("x1", "a1")].sign is None


def test_question_network_depth_and_order():
    topo = question()
    assert topo.depth() == {"x1": 0, "x2": 0, "a1": 1, "a2": 1, "b1": 2, "b2": 2, "c1": 3, "c2": 3, "y": 4}
    assert topo.topological_order() == ["x1", "x2", "a1", "a2", "b1", "b2", "c1", "c2", "y"]
    assert topo.predecessors("c1") == ["b1", "a1"]
    assert topo.successors("a1") == ["b1", "c1"]
    assert_depth_consistent(topo)


def test_question_network_is_immutable_through_accessors():
    topo = question()
    topo.nodes.clear()
    topo.edges.clear()
    assert topo.num_nodes == 9 and topo.num_edges == 10
    with pytest.raises(dataclasses.FrozenInstanceError):
        topo.nodes["a1"].bias = 3.0


def test_from_edges_orders_hidden_by_first_appearance_and_extra_hidden():
    topo = small([("x", "q"), ("q", "y"), ("x", "p"), ("p", "y")], hidden=["z"], warn=False)
    assert list(topo.nodes) == ["x", "z", "q", "p", "y"]
    assert topo.nodes["z"].role == "hidden"


def test_from_edges_dict_edges_and_overrides():
    topo = Topology.from_edges(
        [{"src": "x", "dst": "h", "weight": 2.0, "sign": "+"}, {"src": "h", "dst": "y", "trainable": False,
                                                                 "weight": -1.0}],
        inputs=["x"], outputs=["y"], biases={"h": 0.25}, activations={"h": "tanh"},
        aggregations={"y": "max"}, aggregation="mean")
    assert topo.edges[("x", "h")].sign == "+"
    assert topo.edges[("h", "y")].trainable is False
    assert topo.nodes["h"].bias == 0.25
    assert topo.nodes["h"].activation == "tanh"
    assert topo.nodes["h"].aggregation == "mean"
    assert topo.nodes["y"].aggregation == "max"


def test_frozen_edges_keep_weight_and_flag():
    topo = small([("x", "y", 0.3)], frozen=[("x", "y")])
    assert topo.edges[("x", "y")].trainable is False
    assert topo.edges[("x", "y")].weight == 0.3


# ------------------------------------------------------------------------------------------- errors
NOT_ABOUT_TOPOLOGIES = ("TopologyWarning", "MpnetError", "ArgumentError", "DataError", "DivergenceError",
                        "CheckpointError", "RunLockedError", "located")
ERROR_CLASSES = [getattr(errors, name) for name in errors.__all__ if name not in NOT_ABOUT_TOPOLOGIES]


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda c: c.__name__)
def test_every_error_is_a_topology_error_and_value_error(cls):
    assert issubclass(cls, TopologyError)
    assert issubclass(cls, ValueError)


@pytest.mark.parametrize("name", [n for n in errors.__all__ if n not in ("TopologyWarning", "located")])
def test_every_error_is_an_mpnet_error(name):
    assert issubclass(getattr(errors, name), errors.MpnetError)


def test_topology_warning_is_a_user_warning_not_an_error():
    assert issubclass(TopologyWarning, UserWarning)
    assert not issubclass(TopologyWarning, TopologyError)


def test_cycle_error_names_the_cycle():
    edges = [("x", "a1"), ("a1", "b1"), ("b1", "a1"), ("b1", "y")]
    with pytest.raises(CycleError, match="cycle") as info:
        small(edges)
    assert "'a1' -> 'b1' -> 'a1'" in str(info.value)
    assert info.value.cycle == ["a1", "b1", "a1"]


def test_cycle_error_longer_cycle_is_a_real_path():
    edges = [("x", "p"), ("p", "q"), ("q", "r"), ("r", "s"), ("s", "p"), ("s", "y")]
    with pytest.raises(CycleError) as info:
        small(edges)
    cycle = info.value.cycle
    assert cycle[0] == cycle[-1]
    assert set(cycle) == {"p", "q", "r", "s"} and len(cycle) == 5
    for a, b in zip(cycle, cycle[1:]):
        assert (a, b) in edges
    assert " -> ".join(repr(n) for n in cycle) in str(info.value)


def test_cycle_error_with_int_ids():
    with pytest.raises(CycleError, match="1 -> 2 -> 1") as info:
        Topology.from_edges([(0, 1), (1, 2), (2, 1), (2, 3)], inputs=[0], outputs=[3])
    assert info.value.cycle == [1, 2, 1]


def test_unknown_node_in_edge():
    nodes = [Node("x", "input", "identity"), Node("y", "output", "identity")]
    with pytest.raises(UnknownNodeError, match="'zz'.*not declared"):
        Topology(nodes, [Edge("x", "zz")])


def test_unknown_node_sign_for_missing_edge():
    with pytest.raises(UnknownNodeError, match="'x' -> 'y'.*not in the edge list"):
        small([("x", "h"), ("h", "y")], signs={("x", "y"): "+"})


def test_unknown_node_frozen_missing_edge():
    with pytest.raises(UnknownNodeError, match="not in the edge list"):
        small([("x", "y", 1.0)], frozen=[("y", "x")])


@pytest.mark.parametrize("table", ["dale", "biases", "activations", "aggregations"])
def test_unknown_node_in_per_node_override(table):
    value = {"dale": "+", "biases": 1.0, "activations": "tanh", "aggregations": "max"}[table]
    with pytest.raises(UnknownNodeError, match=f"{table} names node 'ghost'"):
        small([("x", "y")], **{table: {"ghost": value}})


def test_duplicate_node():
    nodes = [Node("x", "input", "identity"), Node("x", "output", "identity")]
    with pytest.raises(DuplicateNodeError, match="'x' is declared twice"):
        Topology(nodes, [])


def test_duplicate_node_from_repeated_input():
    with pytest.raises(DuplicateNodeError, match="'x' is declared twice"):
        Topology.from_edges([("x", "y")], inputs=["x", "x"], outputs=["y"])


def test_duplicate_edge():
    with pytest.raises(DuplicateEdgeError, match="'x' -> 'y' is declared twice"):
        small([("x", "y", 1.0), ("x", "y", 2.0)])


def test_self_loop():
    with pytest.raises(SelfLoopError, match="'h' -> 'h' is a self-loop"):
        small([("x", "h"), ("h", "h"), ("h", "y")])


def test_edge_into_input():
    with pytest.raises(InputEdgeError, match="ends in input node 'x2'"):
        Topology.from_edges([("x1", "x2"), ("x2", "y")], inputs=["x1", "x2"], outputs=["y"])


@pytest.mark.parametrize("kw", [{"activation": "swish"}, {"output_activation": "swish"},
                                {"activations": {"h": "swish"}}])
def test_unknown_activation_lists_valid_names(kw):
    with pytest.raises(UnknownActivationError, match="'swish'") as info:
        small([("x", "h"), ("h", "y")], **kw)
    for name in ACTIVATIONS:
        assert repr(name) in str(info.value)


@pytest.mark.parametrize("kw", [{"aggregation": "avg"}, {"aggregations": {"y": "avg"}}])
def test_unknown_aggregation_lists_valid_names(kw):
    with pytest.raises(UnknownAggregationError, match="'avg'") as info:
        small([("x", "h"), ("h", "y")], **kw)
    for name in AGGREGATIONS:
        assert repr(name) in str(info.value)


def test_non_finite_weight():
    with pytest.raises(NonFiniteError, match="weight of Edge 'x' -> 'y' is nan"):
        small([("x", "y", float("nan"))])


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
def test_non_finite_bias(value):
    with pytest.raises(NonFiniteError, match="bias of node 'h'"):
        small([("x", "h"), ("h", "y")], biases={"h": value})


def test_frozen_edge_without_weight():
    with pytest.raises(NonFiniteError, match="frozen .* no weight"):
        small([("x", "y")], frozen=[("x", "y")])


def test_sign_conflicts_with_weight():
    with pytest.raises(SignConflictError, match=r"fixed sign '\+' but initial weight -0.3"):
        small([("x", "y", -0.3)], signs={("x", "y"): "+"})


def test_invalid_sign():
    with pytest.raises(SignConflictError, match="sign 'x'"):
        small([("x", "y", 0.3)], signs={("x", "y"): "x"})


def test_invalid_dale_sign():
    with pytest.raises(SignConflictError, match="Dale neuron 'h' has sign 'up'"):
        small([("x", "h"), ("h", "y")], dale={"h": "up"})


def test_zero_weight_is_allowed_under_any_sign():
    topo = small([("x", "h", 0.0), ("h", "y", 0.0)], signs={("x", "h"): "+", ("h", "y"): "-"})
    assert topo.edges[("x", "h")].weight == 0.0


def test_dale_conflict_with_edge_sign():
    with pytest.raises(DaleConflictError, match=r"fixed sign '-'.*Dale neuron of sign '\+'"):
        small([("x", "h"), ("h", "y")], dale={"h": "+"}, signs={("h", "y"): "-"})


def test_dale_conflict_with_initial_weight():
    with pytest.raises(DaleConflictError, match=r"initial weight -0.5.*Dale neuron of sign '\+'"):
        small([("x", "h"), ("h", "y", -0.5)], dale={"h": "+"})


def test_role_input_also_output():
    with pytest.raises(RoleError, match="both inputs and outputs"):
        Topology.from_edges([("x", "h"), ("h", "y")], inputs=["x"], outputs=["y", "x"])


def test_role_no_inputs():
    with pytest.raises(RoleError, match="no input node"):
        Topology.from_edges([("h", "y")], inputs=[], outputs=["y"])


def test_role_no_outputs():
    with pytest.raises(RoleError, match="no output node"):
        Topology.from_edges([("x", "h")], inputs=["x"], outputs=[])


def test_role_unknown_role():
    nodes = [Node("x", "input", "identity"), Node("h", "middle"), Node("y", "output", "identity")]
    with pytest.raises(RoleError, match="role 'middle'"):
        Topology(nodes, [])


def test_role_bad_id_type():
    nodes = [Node("x", "input", "identity"), Node(1.5, "hidden"), Node("y", "output", "identity")]
    with pytest.raises(RoleError, match="type float"):
        Topology(nodes, [])


@pytest.mark.parametrize("kw, match", [
    ({"edges": [(["a"], "b")]}, r"^Edge \['a'\] -> 'b': the source id \['a'\] is a list; expected a str or an int"),
    ({"edges": [("a", ["b"], 1.0)]}, r"^Edge 'a' -> \['b'\]: the target id \['b'\] is a list"),
    ({"edges": [{"src": {"a": 1}, "dst": "b"}]}, r"^Edge \{'a': 1\} -> 'b': the source id .* is a dict"),
    ({"edges": [(["a"], "b")], "signs": {("a", "b"): "+"}}, r"^Edge \['a'\] -> 'b': the source id"),
    ({"inputs": [["a"]]}, r"^inputs names the node \['a'\], a list; a node id is a str or an int"),
    ({"hidden": [["h"]]}, r"^hidden names the node \['h'\], a list"),
    ({"frozen": [(["a"], "b")]}, r"^The key \(\['a'\], 'b'\) of frozen: the source id \['a'\] is a list"),
])
def test_an_id_that_cannot_be_one_is_named_with_its_edge_or_argument(kw, match):
    # a list as an edge end reached a set and raised a bare "unhashable type: 'list'"
    args = {"edges": [("a", "b")], "inputs": ["a"], "outputs": ["b"], **kw}
    with pytest.raises(RoleError, match=match):
        Topology.from_edges(args.pop("edges"), args.pop("inputs"), args.pop("outputs"), **args)


@pytest.mark.parametrize("method", ["predecessors", "successors"])
def test_neighbours_of_an_unknown_node_name_it_and_the_known_ones(method):
    topo = Topology.from_edges([(f"x{i}", "y") for i in range(12)], inputs=[f"x{i}" for i in range(12)],
                               outputs=["y"])
    with pytest.raises(UnknownNodeError, match=r"^Node 'zz' is not in the topology; its nodes are 'x0', 'x1', .*"
                                               r"'x9', \.\.\. \(13 in all\)\. Pick one of topo\.nodes\.$"):
        getattr(topo, method)("zz")
    with pytest.raises(UnknownNodeError, match=r"^Node \['x0'\] is not in the topology"):
        getattr(topo, method)(["x0"])
    small_topo = Topology.from_edges([("a", "b")], inputs=["a"], outputs=["b"])
    with pytest.raises(UnknownNodeError, match=r"its nodes are 'a', 'b'\. Pick"):
        getattr(small_topo, method)(1)
    assert small_topo.successors("a") == ["b"] and small_topo.predecessors("b") == ["a"]


def test_format_wrong_format():
    data = question().to_dict()
    data["format"] = "something.else"
    with pytest.raises(FormatError, match="format='mpnet.topology'.*'something.else'"):
        Topology.from_dict(data)


def test_format_not_a_dict():
    with pytest.raises(FormatError, match="list"):
        Topology.from_dict([1, 2, 3])


def test_format_wrong_version():
    data = question().to_dict()
    data["version"] = 99
    with pytest.raises(FormatError, match="version 99 is not supported"):
        Topology.from_dict(data)


def test_format_malformed_edge_tuple():
    with pytest.raises(FormatError, match=r"must be \(src, dst\) or \(src, dst, weight\)"):
        small([("x", "y", 1.0, "extra")])


def test_format_edge_dict_with_unknown_key():
    with pytest.raises(FormatError, match="unknown keys \\['colour'\\]"):
        small([{"src": "x", "dst": "y", "colour": "red"}])


def test_format_from_dict_unknown_node_key():
    data = question().to_dict()
    data["nodes"][0]["colour"] = "red"
    with pytest.raises(FormatError, match="colour"):
        Topology.from_dict(data)


def test_format_from_dict_edge_as_list():
    data = question().to_dict()
    data["edges"][0] = ["x1", "a1"]
    with pytest.raises(FormatError, match="needs 'src' and 'dst'"):
        Topology.from_dict(data)


def test_format_from_dict_edge_as_weighted_list():
    data = question().to_dict()
    data["edges"][0] = ["x1", "a1", 0.5]
    with pytest.raises(FormatError, match="needs 'src' and 'dst'"):
        Topology.from_dict(data)


def test_format_from_dict_node_not_a_dict():
    data = question().to_dict()
    data["nodes"] = [0, 1]
    with pytest.raises(FormatError):
        Topology.from_dict(data)


def test_format_load_invalid_json(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    with pytest.raises(FormatError, match="not valid JSON"):
        Topology.load(path)


# --------------------------------------------------------------------------------------------- Dale
def test_dale_sign_written_into_free_outgoing_edges():
    topo = small([("x", "h", 0.5), ("h", "y", 0.2), ("h", "z"), ("x", "z")], outputs=["y", "z"],
                 dale={"h": "+"})
    assert topo.nodes["h"].dale == "+"
    assert topo.edges[("h", "y")].sign == "+"
    assert topo.edges[("h", "z")].sign == "+"
    assert topo.edges[("x", "h")].sign is None     # incoming edges are not touched
    assert topo.edges[("x", "z")].sign is None


def test_dale_inhibitory_neuron():
    topo = small([("x", "h"), ("h", "y", -0.7)], dale={"h": "-"})
    assert topo.edges[("h", "y")].sign == "-"
    assert topo.edges[("h", "y")].weight == -0.7


# -------------------------------------------------------------------------------------- unreachable
UNREACHABLE_EDGES = [("x", "h"), ("h", "y1"), ("x", "d"), ("u", "y2")]


def test_unreachable_nodes_kept_reported_and_warned():
    with pytest.warns(TopologyWarning) as record:
        topo = small(UNREACHABLE_EDGES, outputs=["y1", "y2"])
    assert topo.num_nodes == 6
    assert list(topo.nodes) == ["x", "h", "d", "u", "y1", "y2"]
    lost = topo.unreachable()
    assert lost.unreached == ["u", "y2"]
    assert lost.dead_ends == ["d"]
    assert len(record) == 1
    message = str(record[0].message)
    assert "['u', 'y2']" in message and "['d']" in message


def test_unreachable_warn_false_is_silent():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        topo = small(UNREACHABLE_EDGES, outputs=["y1", "y2"], warn=False)
    assert topo.unreachable() == (["u", "y2"], ["d"])


def test_reachable_topology_has_empty_unreachable():
    assert question().unreachable() == ([], [])


def test_unused_input_is_a_dead_end():
    with pytest.warns(TopologyWarning, match="x2"):
        topo = Topology.from_edges([("x1", "y")], inputs=["x1", "x2"], outputs=["y"])
    assert topo.unreachable() == ([], ["x2"])
    assert topo.depth()["x2"] == 0


def test_the_warning_names_ten_nodes_off_the_paths_and_counts_the_rest():
    dead = [(f"d{i}", "x") for i in range(25)]   # 25 neurons fed by the input, feeding nothing
    with pytest.warns(TopologyWarning) as caught:
        topo = Topology.from_edges([("x", "y")] + [(d, s) for s, d in dead], inputs=["x"], outputs=["y"])
    message = str(caught[0].message)
    assert "no input reaches []" in message and "['d0', 'd1', 'd2'" in message and "'d10'" not in message
    assert "(25 in all; topo.unreachable() lists them)" in message and len(topo.unreachable().dead_ends) == 25


def test_hidden_without_sources_has_depth_one():
    with pytest.warns(TopologyWarning):
        topo = small([("x", "y"), ("u", "y")])
    assert topo.depth() == {"x": 0, "u": 1, "y": 2}


# -------------------------------------------------------------------------------------------- ids
def test_integer_ids():
    topo = Topology.from_edges([(0, 10, 0.5), (1, 10, -0.5), (10, 20, 1.0)], inputs=[0, 1], outputs=[20])
    assert topo.inputs == (0, 1) and topo.outputs == (20,)
    assert list(topo.nodes) == [0, 1, 10, 20]
    assert topo.edges[(10, 20)].weight == 1.0
    assert topo.depth() == {0: 0, 1: 0, 10: 1, 20: 2}


def test_mixed_ids():
    topo = Topology.from_edges([("x", 1, 0.5), (1, "y", 2.0), ("x", 2), (2, "y")], inputs=["x"], outputs=["y"])
    assert list(topo.nodes) == ["x", 1, 2, "y"]
    assert topo.depth() == {"x": 0, 1: 1, 2: 1, "y": 2}
    assert Topology.from_dict(json.loads(json.dumps(topo.to_dict()))) == topo


def test_string_and_int_ids_are_distinct():
    topo = Topology.from_edges([("x", 1), ("x", "1"), (1, "y"), ("1", "y")], inputs=["x"], outputs=["y"])
    assert topo.num_nodes == 4
    assert Topology.from_dict(json.loads(json.dumps(topo.to_dict()))) == topo


def test_bool_id_rejected():
    nodes = [Node(True, "input", "identity"), Node("y", "output", "identity")]
    with pytest.raises(RoleError, match="bool"):
        Topology(nodes, [])


# ------------------------------------------------------------------------------------------- JSON
def test_json_round_trip_question():
    topo = question()
    data = topo.to_dict()
    assert data["format"] == "mpnet.topology"
    assert data["version"] == 1
    again = Topology.from_dict(data)
    assert again == topo
    assert again.to_dict() == data
    text = json.dumps(data)
    assert Topology.from_dict(json.loads(text)) == topo


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("ids", ["str", "int"])
def test_json_round_trip_random(seed, ids):
    topo = random_topology(seed, ids=ids)
    data = topo.to_dict()
    again = Topology.from_dict(json.loads(json.dumps(data)), warn=False)
    assert again == topo
    assert again.to_dict() == data
    assert again.edges == topo.edges and again.nodes == topo.nodes


@pytest.mark.parametrize("seed", [0, 3])
def test_save_load_round_trip(tmp_path, seed):
    for topo in (question(), random_topology(seed), random_topology(seed, ids="int")):
        path = tmp_path / "topo.json"
        topo.save(path)
        assert not (tmp_path / "topo.json.tmp").exists()
        assert Topology.load(path, warn=False) == topo
        assert json.loads(path.read_text()) == topo.to_dict()
        topo.save(str(path))     # str path works too, and overwrites
        assert Topology.load(str(path), warn=False) == topo


def test_unset_weights_round_trip_as_none():
    topo = small([("x", "h"), ("h", "y", 1.5)])
    data = topo.to_dict()
    assert data["edges"][0]["weight"] is None
    assert Topology.from_dict(data) == topo


def test_different_topologies_are_not_equal():
    topo = question()
    assert topo != question(biases={"y": 0.1})
    assert topo != topo.with_weights({("x1", "a1"): 0.6})
    assert topo != small([("x", "y")])
    assert topo != "not a topology"


def test_json_round_trip_keeps_input_overrides():
    # from_edges refuses settings an input does not use; Node objects still carry them, and files keep them
    plain = Topology.from_edges(QUESTION_EDGES, inputs=["x1", "x2"], outputs=["y"])
    nodes = [dataclasses.replace(n, activation="relu") if n.id == "x1" else
             dataclasses.replace(n, bias=0.5) if n.id == "x2" else n for n in plain.nodes.values()]
    topo = Topology(nodes, plain.edges.values())
    assert Topology.from_dict(topo.to_dict()) == topo


# ----------------------------------------------------------------------------------------- networkx
def _nx_round_trip_attrs(topo):
    graph = topo.to_networkx()
    assert graph.graph["mpnet_version"] == 1
    assert set(graph.nodes) == set(topo.nodes)
    assert set(graph.edges) == set(topo.edges)
    again = Topology.from_networkx(graph, warn=False)
    assert again.nodes == topo.nodes            # every node attribute, node order
    assert list(again.nodes) == list(topo.nodes)
    assert again.edges == topo.edges            # every edge attribute (dict comparison ignores order)
    assert again.inputs == topo.inputs and again.outputs == topo.outputs
    return again


def test_networkx_round_trip_question():
    topo = question(dale={"b1": "+"}, biases={"c2": -0.25}, frozen=[("c1", "y")],
                    aggregations={"y": "max"})
    graph = topo.to_networkx()
    assert graph.nodes["b1"]["dale"] == "+"
    assert graph.nodes["c2"]["bias"] == -0.25
    assert graph.edges["a1", "c1"] == {"weight": -0.4, "sign": "-", "trainable": True}
    assert graph.edges["c1", "y"]["trainable"] is False
    _nx_round_trip_attrs(topo)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("ids", ["str", "int"])
def test_networkx_round_trip_random(seed, ids):
    _nx_round_trip_attrs(random_topology(seed, ids=ids))


def test_networkx_round_trip_is_equal():
    topo = question()
    assert Topology.from_networkx(topo.to_networkx()) == topo


def test_from_networkx_plain_digraph():
    graph = nx.DiGraph()
    graph.add_edge("a", "h", weight=0.5)
    graph.add_edge("b", "h")
    graph.add_edge("h", "y", weight=-2)
    topo = Topology.from_networkx(graph, inputs=["a", "b"], outputs=["y"])
    assert topo.inputs == ("a", "b") and topo.outputs == ("y",)
    assert topo.nodes["a"].activation == "identity"
    assert topo.nodes["h"].role == "hidden" and topo.nodes["h"].activation == "relu"
    assert topo.edges[("a", "h")].weight == 0.5
    assert topo.edges[("b", "h")].weight is None
    assert topo.edges[("h", "y")].weight == -2.0 and type(topo.edges[("h", "y")].weight) is float
    assert topo.depth() == {"a": 0, "b": 0, "h": 1, "y": 2}


def test_from_networkx_plain_digraph_cycle_raises():
    graph = nx.DiGraph([("a", "h"), ("h", "k"), ("k", "h"), ("k", "y")])
    with pytest.raises(CycleError):
        Topology.from_networkx(graph, inputs=["a"], outputs=["y"])


def test_from_networkx_without_roles_raises():
    with pytest.raises(RoleError, match="no input"):
        Topology.from_networkx(nx.DiGraph([("a", "b")]))


def test_from_networkx_output_default_activation_matches_from_edges():
    graph = nx.DiGraph([("a", "h"), ("h", "y")])
    via_nx = Topology.from_networkx(graph, inputs=["a"], outputs=["y"])
    via_edges = Topology.from_edges([("a", "h"), ("h", "y")], inputs=["a"], outputs=["y"])
    assert via_nx.nodes["y"].activation == via_edges.nodes["y"].activation == "identity"


def test_from_networkx_honours_input_order():
    graph = nx.DiGraph([("a", "h"), ("b", "h"), ("h", "y")])
    topo = Topology.from_networkx(graph, inputs=["b", "a"], outputs=["y"])
    assert topo.inputs == ("b", "a")


def test_from_networkx_unknown_input_id_raises():
    graph = nx.DiGraph([("a", "h"), ("b", "h"), ("h", "y")])
    with pytest.raises(UnknownNodeError):
        Topology.from_networkx(graph, inputs=["a", "b", "zz"], outputs=["y"])


def test_from_networkx_overlapping_roles_raise():
    graph = nx.DiGraph([("a", "h"), ("b", "h"), ("h", "y")])
    with pytest.raises(RoleError):
        Topology.from_networkx(graph, inputs=["a", "b"], outputs=["y", "b"], warn=False)


# ------------------------------------------------------------------------------------- with_weights
def test_with_weights_replaces_weights_and_biases_keeps_flags():
    topo = question(frozen=[("c2", "y")], dale={"b1": "+"})
    new = topo.with_weights({("x1", "a1"): 2.0, ("a1", "c1"): -0.9, ("c2", "y"): -3}, biases={"y": 0.25, "a2": -1})
    assert new.edges[("x1", "a1")].weight == 2.0
    assert new.edges[("a1", "c1")].weight == -0.9
    assert new.edges[("c2", "y")].weight == -3.0 and type(new.edges[("c2", "y")].weight) is float
    assert new.nodes["y"].bias == 0.25 and new.nodes["a2"].bias == -1.0
    for key, edge in topo.edges.items():
        assert new.edges[key].sign == edge.sign
        assert new.edges[key].trainable == edge.trainable
        if key not in {("x1", "a1"), ("a1", "c1"), ("c2", "y")}:
            assert new.edges[key].weight == edge.weight
    assert new.edges[("a1", "c1")].sign == "-"
    assert new.edges[("b1", "c1")].sign == "+"          # Dale sign kept
    assert new.edges[("c2", "y")].trainable is False
    assert new.nodes["b1"].dale == "+"
    assert list(new.nodes) == list(topo.nodes) and list(new.edges) == list(topo.edges)
    # the original is untouched
    assert topo.edges[("x1", "a1")].weight == 0.5 and topo.nodes["y"].bias == 0.0


def test_with_weights_rechecks_signs():
    topo = question()
    with pytest.raises(SignConflictError):
        topo.with_weights({("a1", "c1"): 0.5})
    with pytest.raises(NonFiniteError):
        topo.with_weights({("x1", "a1"): math.inf})


def test_with_weights_fills_unset_weights():
    topo = small([("x", "h"), ("h", "y")])
    new = topo.with_weights({("x", "h"): 1.0, ("h", "y"): 2.0})
    assert [e.weight for e in new.edges.values()] == [1.0, 2.0]


# ------------------------------------------------------------------------------------ properties
@st.composite
def pair_dags(draw):
    n_in = draw(st.integers(1, 3))
    n_hidden = draw(st.integers(0, 6))
    n_out = draw(st.integers(1, 3))
    n = n_in + n_hidden + n_out
    pairs = [(i, j) for i in range(n) for j in range(max(i + 1, n_in), n)]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=len(pairs)))
    ids = draw(st.sampled_from(["int", "str"]))
    name = (lambda i: i) if ids == "int" else (lambda i: f"n{i}")
    edges = [(name(i), name(j)) for i, j in chosen]
    return Topology.from_edges(edges, inputs=[name(i) for i in range(n_in)],
                               outputs=[name(i) for i in range(n - n_out, n)],
                               hidden=[name(i) for i in range(n_in, n - n_out)], warn=False)


@settings(max_examples=80, deadline=None)
@given(pair_dags())
def test_depth_consistent_on_random_pair_dags(topo):
    assert_depth_consistent(topo)
    assert Topology.from_dict(json.loads(json.dumps(topo.to_dict())), warn=False) == topo


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10**6), st.sampled_from(["str", "int"]), st.floats(0.05, 0.9))
def test_depth_consistent_on_random_topologies(seed, ids, p_edge):
    topo = random_topology(seed, ids=ids, p_edge=p_edge)
    assert_depth_consistent(topo)
    assert Topology.from_dict(topo.to_dict(), warn=False) == topo


# ------------------------------------------------------------------------------------------ response
def test_response_defaults_to_one_and_is_kept_by_every_round_trip():
    topo = question(responses={"c1": -2.5, "y": 0.5})
    assert topo.nodes["c1"].response == -2.5 and topo.nodes["a1"].response == 1.0
    data = topo.to_dict()
    assert {n["id"]: n.get("response") for n in data["nodes"] if n["id"] in ("c1", "y", "a1")} == \
        {"a1": None, "c1": -2.5, "y": 0.5}
    assert Topology.from_dict(json.loads(json.dumps(data))) == topo
    assert topo.to_networkx().nodes["c1"]["response"] == -2.5
    assert _nx_round_trip_attrs(topo) == topo
    assert topo.with_weights({("x1", "a1"): 0.1}).nodes["y"].response == 0.5


@pytest.mark.parametrize("seed", range(4))
def test_random_responses_round_trip(seed):
    topo = random_topology(seed, p_response=0.5)
    assert any(n.response != 1.0 for n in topo.nodes.values())
    assert Topology.from_dict(topo.to_dict(), warn=False) == topo
    _nx_round_trip_attrs(topo)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), None, "2", True])
def test_non_finite_or_non_number_response(value):
    with pytest.raises(NonFiniteError, match="response of node 'h' is .*; expected a finite number"):
        Topology([Node("x", "input"), Node("h", response=value), Node("y", "output")],
                 [Edge("x", "h", 1.0), Edge("h", "y", 1.0)])


def test_neat_activations_are_registered_distinct_from_torch_ones():
    from mpnet.graph.topology import NEAT_ACTIVATIONS
    assert len(NEAT_ACTIVATIONS) == 18 and set(NEAT_ACTIVATIONS) <= set(ACTIVATIONS)
    assert "neat.sigmoid" in ACTIVATIONS and "sigmoid" in ACTIVATIONS
    topo = small([("x", "h"), ("h", "y")], activations={"h": "neat.cube"})
    assert topo.nodes["h"].activation == "neat.cube"


# ---------------------------------------------------------------------------------------- recurrent
LOOP_EDGES = [("x", "h", 0.5), ("h", "h", 0.9), ("h", "g", 1.0), ("g", "h", -0.5), ("g", "y", 2.0)]


def loop(**kw):
    return small(LOOP_EDGES, **kw)


def test_recurrent_flag_allows_cycles_and_self_loops():
    topo = loop(recurrent=True)
    assert topo.recurrent and topo.network_type == "recurrent"
    assert ("h", "h") in topo.edges and topo.predecessors("h") == ["x", "h", "g"]
    assert "recurrent" in repr(topo)


def test_without_the_flag_a_cycle_or_self_loop_says_how_to_declare_it():
    with pytest.raises(SelfLoopError, match=r"'h' -> 'h' is a self-loop.*recurrent=True"):
        loop()
    with pytest.raises(CycleError, match=r"cycle: 'h' -> 'g' -> 'h'.*recurrent=True"):
        small([e for e in LOOP_EDGES if e[0] != e[1]])


def test_recurrent_inputs_still_take_no_edges():
    with pytest.raises(InputEdgeError, match="ends in input node 'x'"):
        small(LOOP_EDGES + [("h", "x", 1.0)], recurrent=True)


@pytest.mark.parametrize("value", [2, "yes", None, 1.0, "Recurrent"])
def test_recurrent_flag_must_be_a_known_kind(value):
    with pytest.raises(errors.ArgumentError, match=r"recurrent=.*expected False \(feed-forward\), True"):
        Topology([Node("x", "input"), Node("y", "output")], [], recurrent=value)


def test_network_type_names_are_accepted_for_the_flag():
    for kind in ("feedforward", "recurrent", "ctrnn"):
        assert Topology([Node("x", "input"), Node("y", "output")], [Edge("x", "y")], recurrent=kind).network_type == kind
    assert Topology([Node("x", "input"), Node("y", "output")], [Edge("x", "y")], recurrent=False).network_type \
        == "feedforward"


def test_recurrent_depth_is_one_step_for_every_neuron():
    topo = loop(recurrent=True)
    assert topo.depth() == {"x": 0, "h": 1, "g": 1, "y": 1}
    assert topo.topological_order() == ["x", "h", "g", "y"]


def test_time_constants_and_ctrnn():
    topo = loop(recurrent="ctrnn", time_constants={"h": 0.1, "y": 2.5})
    assert topo.network_type == "ctrnn" and topo.recurrent
    assert [n.time_constant for n in topo.nodes.values()] == [1.0, 0.1, 1.0, 2.5]
    with pytest.raises(UnknownNodeError, match="time_constants names node 'zz'"):
        loop(recurrent="ctrnn", time_constants={"zz": 1.0})


@pytest.mark.parametrize("tau", [0.0, -1.0, math.inf, math.nan, "1", True])
def test_time_constant_must_be_positive_and_finite(tau):
    with pytest.raises(errors.TimeConstantError, match=r"time constant of node 'h' is .*expected a finite number > 0"):
        Topology([Node("x", "input"), Node("h", time_constant=tau), Node("y", "output")], [Edge("x", "h")],
                 recurrent="ctrnn")


def test_network_type_takes_part_in_equality():
    assert loop(recurrent=True) != loop(recurrent="ctrnn")
    assert loop(recurrent=True) == loop(recurrent=True)
    dag = small([("x", "h", 1.0), ("h", "y", 1.0)])
    assert dag != small([("x", "h", 1.0), ("h", "y", 1.0)], recurrent=True)


def test_with_weights_keeps_the_network_type():
    topo = loop(recurrent="ctrnn", time_constants={"g": 0.3})
    again = topo.with_weights({("h", "h"): -0.1}, {"g": 0.25})
    assert again.network_type == "ctrnn" and again.edges[("h", "h")].weight == -0.1
    assert again.nodes["g"].time_constant == 0.3 and again.nodes["g"].bias == 0.25


@pytest.mark.parametrize("kind", [True, "ctrnn"])
@pytest.mark.parametrize("seed", range(6))
def test_recurrent_json_and_networkx_round_trips(kind, seed, tmp_path):
    topo = random_topology(seed, n_hidden=6, p_edge=0.35, recurrent=kind, p_response=0.3,
                           ids="int" if seed % 2 else "str")
    data = json.loads(json.dumps(topo.to_dict()))
    assert data["network_type"] == topo.network_type
    assert Topology.from_dict(data, warn=False) == topo
    topo.save(tmp_path / "t.json")
    assert Topology.load(tmp_path / "t.json", warn=False) == topo
    graph = topo.to_networkx()
    assert graph.graph["network_type"] == topo.network_type
    assert Topology.from_networkx(graph, warn=False) == topo


def test_feed_forward_dict_has_no_network_type_key():
    assert "network_type" not in question().to_dict()


@pytest.mark.parametrize("change, error, match", [
    (lambda d: d.update(network_type="iznn"), FormatError,
     r"topology\.network_type is 'iznn' \(a string\); expected one of \['feedforward', 'recurrent', 'ctrnn'\]"),
    (lambda d: d.update(network_type=True), FormatError, r"topology\.network_type is True \(a boolean\)"),
    (lambda d: d["nodes"][1].update(time_constant="0.5"), FormatError,
     r"nodes\[1\] \(id 'h'\)\.time_constant is '0\.5' \(a string\); expected a number"),
    (lambda d: d["nodes"][1].update(time_constant=None), FormatError, r"nodes\[1\] \(id 'h'\)\.time_constant is None"),
    (lambda d: d["nodes"][1].update(time_constant=0), errors.TimeConstantError,
     r"time constant of node 'h' is 0; expected a finite number > 0"),
    (lambda d: d["nodes"][1].update(time_constant=1e400), errors.NonFiniteError,
     r"nodes\[1\] \(id 'h'\)\.time_constant is inf; expected a finite number"),
    (lambda d: d.pop("network_type"), errors.SelfLoopError, r"'h' -> 'h' is a self-loop.*recurrent=True"),
])
def test_recurrent_dict_errors_name_the_field(change, error, match):
    data = json.loads(json.dumps(loop(recurrent="ctrnn", time_constants={"h": 0.5}).to_dict()))
    assert data["nodes"][1]["id"] == "h" and data["nodes"][1]["time_constant"] == 0.5
    change(data)
    with pytest.raises(error, match=match):
        Topology.from_dict(data)


def test_recurrent_networkx_errors_name_the_attribute():
    graph = loop(recurrent="ctrnn").to_networkx()
    graph.graph["network_type"] = "spiking"
    with pytest.raises(FormatError, match=r"graph: attribute network_type is 'spiking'.*expected one of"):
        Topology.from_networkx(graph)
    graph.graph["network_type"] = "ctrnn"
    graph.nodes["h"]["time_constant"] = "fast"
    with pytest.raises(FormatError, match=r"node 'h': attribute time_constant is 'fast' \(a string\)"):
        Topology.from_networkx(graph)
    graph.nodes["h"]["time_constant"] = 0.25
    assert Topology.from_networkx(graph).nodes["h"].time_constant == 0.25


def test_from_networkx_plain_digraph_with_a_cycle_and_the_flag():
    graph = nx.DiGraph([("x", "h"), ("h", "h"), ("h", "y"), ("y", "h")])
    topo = Topology.from_networkx(graph, inputs=["x"], outputs=["y"], recurrent=True)
    assert topo.recurrent and set(topo.edges) == {("x", "h"), ("h", "h"), ("h", "y"), ("y", "h")}


def test_random_recurrent_topologies_have_cycles_and_self_loops():
    topos = [random_topology(s, n_hidden=6, p_edge=0.3, recurrent=True) for s in range(20)]
    assert sum(any(a == b for a, b in t.edges) for t in topos) >= 10
    from mpnet.graph.validate import find_cycle
    assert all(find_cycle({n: t.successors(n) for n in t.nodes}, list(t.nodes)) for t in topos)
