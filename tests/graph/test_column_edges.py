"""assemble.column_edges: the edges of an ArrayTopology's columns go in as PlainEdges (no check per edge) only when
nothing a check would change or refuse is there; the topology read back is the one the checked path gives."""
import math

import pytest
import torch

from mpnet import ArrayTopology, Network
from mpnet.errors import DuplicateEdgeError, NonFiniteError
from mpnet.graph.assemble import PlainEdges, column_edges
from mpnet.graph.elements import Edge, Node
from mpnet.graph.topology import Topology

NODES = [Node("x", "input", "identity"), Node("a"), Node("b"), Node("y", "output", "identity")]
PAIRS = [("x", "a"), ("x", "b"), ("a", "b"), ("b", "y"), ("a", "y")]


def checked(weights, signs=None, trainable=None):
    """The topology of the same edges made as Edge objects, checked one by one."""
    signs, trainable = signs or [None] * len(PAIRS), trainable or [True] * len(PAIRS)
    return Topology(NODES, [Edge(s, d, w, g, t) for (s, d), w, g, t in zip(PAIRS, weights, signs, trainable)],
                    warn=False)


def test_plain_columns_give_plain_edges_and_the_checked_topology():
    weights = [0.5, None, -1.0, 2.0, 0.25]
    src, dst = map(list, zip(*PAIRS))
    edges = column_edges(src, dst, weights, [None] * 5, [True] * 5, ["x"], plain=True)
    assert type(edges) is PlainEdges
    assert Topology(NODES, edges, warn=False).to_dict() == checked(weights).to_dict()


def test_a_pair_seen_twice_goes_through_the_checks():
    src, dst = ["x", "x"], ["a", "a"]
    edges = column_edges(src, dst, [1.0, 2.0], [None, None], [True, True], ["x"], plain=True)
    assert edges.positions({n.id: n for n in NODES}) is None                    # the topology checks them one by one
    with pytest.raises(DuplicateEdgeError, match="'x' -> 'a'"):
        Topology(NODES[:2] + [Node("y", "output")], edges, warn=False)


def arrays(**kw):
    ids = [n.id for n in NODES]
    src, dst = ([ids.index(e[k]) for e in PAIRS] for k in (0, 1))
    return ArrayTopology.from_arrays(src, dst, inputs=[0], outputs=[3], node_ids=ids, warn=False, **kw)


@pytest.mark.parametrize("kw", [{}, {"sign": [1, 0, -1, 0, 0]}, {"trainable": [True, False, True, True, True]},
                                {"dale": [1, 0, 0, 0]}])
def test_arrays_read_back_as_the_checked_topology(kw):
    weights = [0.5, 0.75, -1.0, 2.0, 0.25]
    topo = arrays(weight=weights, **kw).topology(0)
    signs = [{1: "+", -1: "-", 0: None}[v] for v in kw.get("sign", [0] * 5)]
    if "dale" in kw:   # x is a '+' Dale neuron: its edges carry its sign
        signs = ["+", "+", None, None, None]
    want = Topology([Node("x", "input", "identity", dale="+" if "dale" in kw else None)] + NODES[1:],
                    [Edge(s, d, w, g, t) for (s, d), w, g, t in
                     zip(PAIRS, weights, signs, kw.get("trainable", [True] * 5))], warn=False)
    assert topo.to_dict() == want.to_dict()


def test_a_trained_weight_that_is_not_finite_is_still_refused_naming_the_edge():
    net = Network(arrays(weight=[0.5, 0.75, -1.0, 2.0, 0.25]), seed=0, dtype=torch.float64)
    for bad in (math.nan, math.inf):
        with torch.no_grad():
            net.raw_weight[2] = bad
        with pytest.raises(NonFiniteError, match="'a' -> 'b'"):
            net.to_topology()
