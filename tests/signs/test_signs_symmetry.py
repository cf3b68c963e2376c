"""Which signs no data can fix: the flip symmetries of neurons (mpnet.signs.symmetry)."""
import pytest
from mpnet.signs.symmetry import flip_symmetries
from mpnet.graph.topology import Topology


def net_with(hidden_act, aggregation="sum", signs=None, dale=None, extra=(), target_agg="sum"):
    edges = [("x1", "h", 1.0), ("x2", "h", -1.0), ("h", "y", 1.0), ("x1", "y", 0.5)] + list(extra)
    return Topology.from_edges(edges, inputs=["x1", "x2"], outputs=["y"], activation=hidden_act,
                               aggregations={"h": aggregation, "y": target_agg}, signs=signs, dale=dale)


# ------------------------------------------------------------------------------------ symmetries
@pytest.mark.parametrize("act,kind", [("tanh", "odd"), ("identity", "odd"), ("sin", "odd"), ("clamped", "odd"),
                                      ("sigmoid", "affine-odd"), ("abs", "even"), ("square", "even"),
                                      ("gauss", "even")])
def test_symmetric_activations_flip(act, kind):
    flips = flip_symmetries(net_with(act))
    assert list(flips) == ["h"] and flips["h"].kind == kind
    assert set(flips["h"].in_edges) == {("x1", "h"), ("x2", "h")}
    assert flips["h"].out_edges == (() if kind == "even" else (("h", "y"),))


@pytest.mark.parametrize("act", ["relu", "leaky_relu", "elu", "selu", "gelu", "softplus"])
def test_asymmetric_activations_do_not_flip(act):
    assert flip_symmetries(net_with(act)) == {}


def test_constraints_break_the_flip():
    assert flip_symmetries(net_with("tanh", signs={("x2", "h"): "-"})) == {}
    assert flip_symmetries(net_with("tanh", signs={("h", "y"): "+"})) == {}
    assert flip_symmetries(net_with("tanh", dale={"h": "+"})) == {}
    frozen = Topology.from_edges([("x1", "h", 1.0), ("h", "y", 1.0)], inputs=["x1"], outputs=["y"],
                                 activation="tanh", frozen=[("x1", "h")])
    assert flip_symmetries(frozen) == {}
    # an even neuron's outgoing edges are not negated, so a sign there does not break it
    assert list(flip_symmetries(net_with("abs", signs={("h", "y"): "+"}))) == ["h"]


def test_aggregations_that_do_not_commute_with_negation_break_the_flip():
    assert flip_symmetries(net_with("tanh", aggregation="max")) == {}
    assert flip_symmetries(net_with("tanh", aggregation="min")) == {}
    assert flip_symmetries(net_with("tanh", aggregation="product")) == {}       # two inputs: (-1)^2
    odd = Topology.from_edges([("x1", "h", 1.0), ("x2", "h", -1.0), ("x3", "h", 1.0), ("h", "y", 1.0)],
                              inputs=["x1", "x2", "x3"], outputs=["y"], activation="tanh",
                              aggregations={"h": "product"})
    assert list(flip_symmetries(odd)) == ["h"]                                 # three inputs: odd
    for agg in ("sum", "mean", "median", "maxabs"):
        assert list(flip_symmetries(net_with("tanh", aggregation=agg))) == ["h"]
    # sigmoid's flip shifts the target's bias: only a summing target can absorb it
    assert flip_symmetries(net_with("sigmoid", target_agg="max")) == {}


def test_outputs_and_inputs_never_flip():
    topo = Topology.from_edges([("x", "y", 1.0)], inputs=["x"], outputs=["y"], output_activation="tanh")
    assert flip_symmetries(topo) == {}
