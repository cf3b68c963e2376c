"""mpnet.graph.ties: declaring shared parameters, their checks and errors, gap-junction terms, metadata round trips."""
import json

import networkx  # noqa: F401  (to_networkx needs it)
import pytest

from mpnet import Topology
from mpnet.errors import DaleConflictError, FormatError, TieError
from mpnet.graph.ties import Tie, gap_junction_ties, normalize_tie, own_parameter
from mpnet.graph.topology import Edge, Node


def tied_topology(**tie_kw):
    """x -> a, x -> b share group "g"; a -> y has its own parameter plus group "h" with coefficient -2."""
    nodes = [Node("x", "input", "identity", meta={"cell_class": "S"}), Node("a"), Node("b"),
             Node("y", "output", "identity")]
    edges = [Edge("x", "a", tie="g", meta={"synapses": 3}), Edge("x", "b", tie="g"),
             Edge("a", "y", 0.5, tie=((None, 1.0), ("h", -2.0))), Edge("b", "y", sign="-")]
    return Topology(nodes, edges, ties=[Tie("g", sign="+", **tie_kw), Tie("h")])


def test_tied_topology_round_trips_through_json_and_networkx(tmp_path):
    topo = tied_topology(weight=0.25)
    assert repr(topo) == "Topology(inputs=1, outputs=1, hidden=2, edges=4, ties=2)"
    assert topo.edges[("a", "y")].tie == ((None, 1.0), ("h", -2.0))
    data = json.loads(json.dumps(topo.to_dict()))
    assert data["ties"] == [{"name": "g", "weight": 0.25, "sign": "+"}, {"name": "h", "weight": None}]
    assert data["edges"][0] == {"src": "x", "dst": "a", "weight": None, "tie": "g", "meta": {"synapses": 3}}
    assert data["edges"][2]["tie"] == [[None, 1.0], ["h", -2.0]]
    assert data["nodes"][0]["meta"] == {"cell_class": "S"}
    back = Topology.from_dict(data)
    assert back == topo
    assert back.nodes["x"].meta == {"cell_class": "S"}
    topo.save(tmp_path / "t.json")
    assert Topology.load(tmp_path / "t.json") == topo
    assert Topology.from_networkx(topo.to_networkx()) == topo


def test_topologies_differing_in_ties_or_meta_are_not_equal():
    assert tied_topology() != tied_topology(weight=0.1)
    plain = Topology.from_edges([("x", "y")], ["x"], ["y"])
    annotated = Topology([Node("x", "input", "identity"), Node("y", "output", "identity")],
                         [Edge("x", "y", meta={"synapses": 1})])
    assert plain != annotated


def test_with_weights_sets_tie_values():
    topo = tied_topology().with_weights({("a", "y"): 0.75}, ties={"g": 0.5})
    assert topo.ties["g"].weight == 0.5 and topo.ties["g"].sign == "+"
    assert topo.edges[("a", "y")].weight == 0.75


@pytest.mark.parametrize("tie, match", [
    ([], "non-empty list"), ((("g", 1.0, 2),), "expected \\(group name or None, coefficient\\)"),
    ((("g", 0.0),), "finite, non-zero"), ((("g", 1.0), ("g", 2.0)), "names group 'g' twice"),
    (3, "expected None, a group name"),
])
def test_normalize_tie_rejects_malformed_ties(tie, match):
    with pytest.raises(TieError, match=match):
        normalize_tie(tie, "Edge 'x' -> 'y'")


def test_normalize_tie_accepts_json_lists():
    assert normalize_tie([[None, 1], ["g", -1]], "e") == ((None, 1.0), ("g", -1.0))
    assert normalize_tie([["g", 1]], "e") == "g" and normalize_tie(((None, 1.0),), "e") is None
    assert own_parameter(None) and own_parameter(((None, 1.0),)) and not own_parameter("g")
    assert not own_parameter((("g", 1.0),))


def two(edges, ties, dale=None):
    nodes = [Node("x", "input", "identity", dale=dale), Node("h"), Node("y", "output", "identity")]
    return Topology(nodes, edges, ties=ties)


def test_tie_errors_name_the_culprit():
    with pytest.raises(TieError, match="Edge 'x' -> 'h' is tied to group 'q', which is not declared"):
        two([Edge("x", "h", tie="q"), Edge("h", "y")], [])
    with pytest.raises(TieError, match=r"Ties \['u'\] are declared but no edge uses them"):
        two([Edge("x", "h", tie="g"), Edge("h", "y")], [Tie("g"), Tie("u")])
    with pytest.raises(TieError, match="has no parameter of its own, but sets sign='\\+'"):
        two([Edge("x", "h", sign="+", tie="g"), Edge("h", "y")], [Tie("g")])
    with pytest.raises(TieError, match="Tie 'g' is declared twice"):
        two([Edge("x", "h", tie="g"), Edge("h", "y")], [Tie("g"), Tie("g")])
    with pytest.raises(TieError, match="has sign '\\+' but weight -1.0"):
        two([Edge("x", "h", tie="g"), Edge("h", "y")], [Tie("g", "+", -1.0)])
    with pytest.raises(TieError, match="frozen .* but has no weight"):
        two([Edge("x", "h", tie="g"), Edge("h", "y")], [Tie("g", trainable=False)])
    with pytest.raises(TieError, match="Expected Tie objects"):
        two([Edge("x", "h", tie="g"), Edge("h", "y")], [{"name": "g"}])
    with pytest.raises(TieError, match="needs 'name'"):
        Tie.from_mapping({"sign": "+"})
    with pytest.raises(FormatError, match="'meta' must be an object"):
        Edge.from_mapping({"src": "x", "dst": "h", "meta": [1]})


def test_tie_from_a_dale_neuron_must_share_its_sign():
    with pytest.raises(DaleConflictError, match="leaves Dale neuron 'x'"):
        two([Edge("x", "h", tie="g"), Edge("h", "y")], [Tie("g", "-")], dale="+")
    topo = two([Edge("x", "h", tie="g"), Edge("h", "y")], [Tie("g", "+")], dale="+")
    assert topo.edges[("x", "h")].sign is None   # the group carries the sign, not the edge


def test_gap_junction_ties_write_symmetric_terms():
    terms, ties = gap_junction_ties([("a", "b"), ("b", "a"), ("a", "c")], weights={("b", "a"): 0.3})
    assert [t.name for t in ties] == ["gap:a|b", "gap:a|c"]
    assert ties[0] == Tie("gap:a|b", "+", 0.3)
    assert terms[("b", "a")] == [("gap:a|b", 1.0)] and terms[("a", "b")] == [("gap:a|b", 1.0)]
    assert terms[("a", "a")] == [("gap:a|b", -1.0), ("gap:a|c", -1.0)]
    assert terms[("c", "c")] == [("gap:a|c", -1.0)]
    with pytest.raises(TieError, match="joins a neuron to itself"):
        gap_junction_ties([("a", "a")])


# ------------------------------------------------------------------------------ loose values refused
@pytest.mark.parametrize("weight, shown", [(True, r"True \(a bool\)"), ("0.5", r"'0.5' \(a str\)"),
                                           ("abc", r"'abc' \(a str\)"), ([1], r"\[1\] \(a list\)"),
                                           (10 ** 400, r"an int of 401 digits")])
def test_a_tie_weight_must_be_a_number(weight, shown):
    from mpnet.errors import NonFiniteError
    with pytest.raises(NonFiniteError, match=rf"The weight of tie 'g' is {shown}"):
        Topology.from_edges([{"src": "x", "dst": "y", "tie": "g"}], inputs=["x"], outputs=["y"],
                            ties=[Tie("g", weight=weight)])


def test_a_tie_coefficient_beyond_floats_is_a_tie_error():
    with pytest.raises(TieError, match=r"tie term .* with coefficient an int beyond floats; expected a finite"):
        normalize_tie([("g", 10 ** 400)], "Edge 'x' -> 'y'")


def test_gap_junction_ties_checks_its_arguments():
    from mpnet.errors import NonFiniteError, SignConflictError
    with pytest.raises(TieError, match=r"Expected pairs to be a list of \(a, b\) neuron pairs \(got 'ab'\)"):
        gap_junction_ties("ab")
    with pytest.raises(TieError, match=r"Gap junction 'abc' is not a pair \(a, b\)"):
        gap_junction_ties(["abc"])
    with pytest.raises(NonFiniteError, match=r"The weight of gap junction 'b' <-> 'a' is True \(a bool\)"):
        gap_junction_ties([("a", "b")], weights={("b", "a"): True})
    with pytest.raises(TieError, match=r"weights names \('a', 'c'\), which is not a junction of pairs"):
        gap_junction_ties([("a", "b")], weights={("a", "c"): 0.5})
    with pytest.raises(SignConflictError, match=r"gap_junction_ties has sign 1"):
        gap_junction_ties([("a", "b")], sign=1)
    assert gap_junction_ties([("a", "b")], weights={("b", "a"): 0.5})[1][0].weight == 0.5
