"""Topology.from_edges' arguments (mpnet.graph.declare): lists that are lists, edge keys that are pairs, per-node
settings that reach a node which uses them; each refusal names the argument and the fix."""
import pytest

from mpnet import Topology
from mpnet.errors import ArgumentError, SignConflictError, UnknownNodeError

EDGES = [("x", "h", 0.5), ("h", "y", 1.0)]


def declare(**kw):
    return Topology.from_edges(kw.pop("edges", EDGES), **{"inputs": ["x"], "outputs": ["y"], **kw})


@pytest.mark.parametrize("name", ["inputs", "outputs", "hidden"])
def test_a_string_is_not_a_list_of_node_ids(name):
    value = {"inputs": "x", "outputs": "y", "hidden": "hz"}[name]
    with pytest.raises(ArgumentError, match=rf"Expected {name} to be a list of node ids \(got the string "
                                            rf"'{value}', which would be read letter by letter\); write {name}="):
        declare(**{name: value})
    with pytest.raises(ArgumentError, match=rf"Expected {name} to be a list of node ids \(got 5\)"):
        declare(**{name: 5})


def test_inputs_x1_was_read_as_two_inputs():
    with pytest.raises(ArgumentError, match=r"got the string 'x1'"):
        Topology.from_edges([("x1", "y", 1.0)], inputs="x1", outputs=["y"])
    assert Topology.from_edges([("x1", "y", 1.0)], inputs=("x1",), outputs=["y"]).inputs == ("x1",)


@pytest.mark.parametrize("node", ["x", "y"])
def test_hidden_may_not_name_an_input_or_an_output(node):
    with pytest.raises(ArgumentError, match=rf"hidden names \['{node}'\], which are inputs or outputs"):
        declare(hidden=[node])


def test_edge_keys_must_be_pairs():
    with pytest.raises(ArgumentError, match=r"each key of signs to be an edge \(src, dst\) \(got 'xh' \(a str\)\)"):
        declare(signs={"xh": "+"})                   # ('x', 'h') letter by letter: it used to be ignored
    with pytest.raises(ArgumentError, match=r"signs to be a mapping .* \(got \[\('x', 'h'\)\]"):
        declare(signs=[("x", "h")])
    with pytest.raises(ArgumentError, match=r"frozen=\[\('x', 'y'\)\] freezes one edge"):
        declare(frozen=("x", "h"))
    with pytest.raises(ArgumentError, match=r"key of frozen .* \(got \('x', 'h', 'y'\)"):
        declare(frozen=[("x", "h", "y")])
    topo = declare(signs={("x", "h"): "+"}, frozen=[["h", "y"]])
    assert topo.edges[("x", "h")].sign == "+" and topo.edges[("h", "y")].trainable is False


def test_trainable_false_as_a_string_is_refused_not_read_as_true():
    with pytest.raises(SignConflictError, match=r"Edge 'x' -> 'h' has trainable='false'; expected True or False"):
        declare(edges=[{"src": "x", "dst": "h", "weight": 0.5, "trainable": "false"}, ("h", "y", 1.0)])


@pytest.mark.parametrize("table, value", [("biases", 1.0), ("responses", 2.0), ("activations", "tanh"),
                                          ("aggregations", "max")])
def test_settings_an_input_does_not_use_are_refused(table, value):
    with pytest.raises(ArgumentError, match=rf"{table} names input 'x', which does not use it.*Drop 'x' from {table}"):
        declare(**{table: {"x": value}})


def test_dale_on_an_input_is_kept_it_signs_the_inputs_edges():
    assert declare(dale={"x": "+"}).edges[("x", "h")].sign == "+"


def test_time_constants_only_for_a_ctrnn():
    with pytest.raises(ArgumentError, match=r"time_constants are for continuous-time topologies \(recurrent='ctrnn'\);"
                                            r" this one is declared with recurrent=True"):
        declare(recurrent=True, time_constants={"h": 0.5})
    with pytest.raises(ArgumentError, match=r"recurrent=False"):
        declare(time_constants={"h": 0.5})
    with pytest.raises(ArgumentError, match=r"time_constants names input 'x'"):
        declare(recurrent="ctrnn", time_constants={"x": 0.5})
    assert declare(recurrent="ctrnn", time_constants={"h": 0.5}).nodes["h"].time_constant == 0.5


def test_tables_must_be_mappings_and_name_declared_nodes():
    with pytest.raises(ArgumentError, match=r"Expected biases to be a mapping \{node: value\} \(got \[1\.0\]"):
        declare(biases=[1.0])
    with pytest.raises(UnknownNodeError, match=r"biases names node 'q', which no edge, input or output declares"):
        declare(biases={"q": 1.0})


def test_warn_must_be_a_bool():
    with pytest.raises(ArgumentError, match=r"Expected warn to be True or False \(got 'no' \(a str\)\)"):
        declare(warn="no")
