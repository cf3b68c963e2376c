"""assemble.column_edges: the edges of an ArrayTopology's columns go in as PlainEdges (no check per edge) only when
nothing a check would change or refuse is there; the topology read back is the one the checked path gives."""
import math
import pickle
import warnings

import numpy as np
import pytest
import torch

from mpnet import ArrayTopology, Network
from mpnet.errors import DuplicateEdgeError, InputEdgeError, NonFiniteError, SelfLoopError
from mpnet.graph.assemble import PlainEdges, coded_ends, column_edges
from mpnet.graph.elements import Edge, Node
from mpnet.graph.topology import Topology
from mpnet.graph import arrays as arrays_module, assemble as assemble_module, validate as validate_module

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
    edges = column_edges(src, dst, weights, [None] * 5, [True] * 5, plain=True)
    assert type(edges) is PlainEdges
    assert Topology(NODES, edges, warn=False).to_dict() == checked(weights).to_dict()


def test_a_pair_seen_twice_goes_through_the_checks():
    src, dst = ["x", "x"], ["a", "a"]
    edges = column_edges(src, dst, [1.0, 2.0], [None, None], [True, True], plain=True)
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


# ------------------------------------------------ a topology keeps plain edges as columns, Edge objects on demand
def layered(n_edges, seed=0):
    """``(tuples, inputs, outputs)``: a random layered DAG given as ``(src, dst, weight)`` tuples."""
    rng = np.random.default_rng(seed)
    n = max(n_edges // 4, 8)
    names = [f"x{i}" for i in range(3)] + [f"h{i}" for i in range(n)] + ["y0", "y1"]
    dst = rng.integers(3, len(names), n_edges)
    src = (rng.random(n_edges) * np.minimum(dst, len(names) - 2)).astype(np.int64)
    pairs = sorted(set(zip(src.tolist(), dst.tolist())), key=lambda p: rng.random())
    edges = [(names[s], names[d], float(w)) for (s, d), w in zip(pairs, rng.normal(size=len(pairs)))]
    return edges, names[:3], names[-2:]


@pytest.fixture(params=[False, True], ids=["loops", "numpy"])
def numpy_paths(request, monkeypatch):
    """Run a test with the small-graph loops, and with the numpy paths forced on (NUMPY_EDGES = 0)."""
    if request.param:
        for module in (assemble_module, validate_module, arrays_module):
            monkeypatch.setattr(module, "NUMPY_EDGES", 0)
    return request.param


def test_from_edges_keeps_tuples_as_columns_and_equals_the_object_path(numpy_paths):
    edges, ins, outs = layered(400)
    with warnings.catch_warnings(record=True) as fast_warned:
        warnings.simplefilter("always")
        fast = Topology.from_edges(edges, ins, outs)
    with warnings.catch_warnings(record=True) as slow_warned:
        warnings.simplefilter("always")
        slow = Topology.from_edges([list(e) for e in edges], ins, outs)   # lists: the checked path, Edge objects
    assert fast._columns() is not None and "_edges" not in fast.__dict__ and slow._columns() is None
    assert [str(w.message) for w in fast_warned] == [str(w.message) for w in slow_warned]
    assert fast.num_edges == slow.num_edges and fast.unreachable() == slow.unreachable()
    assert fast.depth() == slow.depth() and fast.successors("x0") == slow.successors("x0")
    assert [list(map(int, p)) for p in fast._edge_positions()] == [list(p) for p in slow._edge_positions()]
    assert fast == slow and fast.to_dict() == slow.to_dict()      # the Edge table, made on first use
    assert fast._columns() is not None and list(fast._edges) == [e[:2] for e in edges]
    again = pickle.loads(pickle.dumps(Topology.from_edges(edges, ins, outs, warn=False)))
    assert again == slow and again._columns() is not None


def test_equal_ids_held_by_distinct_objects_are_one_node(numpy_paths):
    """The columns code their ends by object identity (coded_ends): ids equal in value but made separately (a
    str per cell, as a file reader makes them; ints past Python's small-int cache) must still be one node each."""
    edges, ins, outs = layered(300)
    fresh = [("".join(s), "".join(d), w) for s, d, w in edges]            # every end a new str object
    assert fresh[0][0] is not edges[0][0] and fresh[0][0] == edges[0][0]
    assert (Topology.from_edges(fresh, ins, outs, warn=False).to_dict()
            == Topology.from_edges(edges, ins, outs, warn=False).to_dict())
    number = {n: 10**6 + i for i, n in enumerate(dict.fromkeys(ins + [e for s, d, _ in edges for e in (s, d)]))}
    as_ints = [(int(str(number[s])), int(str(number[d])), w) for s, d, w in edges]   # distinct int objects
    topo = Topology.from_edges(as_ints, [number[i] for i in ins], [number[o] for o in outs], warn=False)
    assert list(topo.nodes) == list(number.values())[:len(ins)] + [v for k, v in number.items()
                                                                   if k not in ins and k not in outs] + \
        [number[o] for o in outs]
    assert [(e.src, e.dst) for e in topo.edges.values()] == [(number[s], number[d]) for s, d, _ in edges]


def test_coded_ends_give_first_appearances_and_each_ends_index():
    a, b = "".join("ab"), "".join("ab")          # equal, distinct objects: two codes, merged by the caller's lookup
    firsts, code = coded_ends(["x", a, "x"], ["a1", "y", b])
    assert firsts == ["x", "a1", "ab", "y", "ab"] and code.tolist() == [0, 1, 2, 3, 0, 4]


def test_a_pair_given_twice_a_self_loop_or_an_edge_into_an_input_among_many_tuples_is_named(numpy_paths):
    edges, ins, outs = layered(300)
    twice = edges + [(edges[7][0], edges[7][1], 9.0)]
    with pytest.raises(DuplicateEdgeError, match=f"Edge '{edges[7][0]}' -> '{edges[7][1]}' is declared twice"):
        Topology.from_edges(twice, ins, outs, warn=False)
    with pytest.raises(SelfLoopError, match="Edge 'h3' -> 'h3' is a self-loop"):
        Topology.from_edges(edges + [("h3", "h3", 1.0)], ins, outs, warn=False)
    with pytest.raises(InputEdgeError, match="Edge 'h3' -> 'x1' ends in input node 'x1'"):
        Topology.from_edges(edges + [("h3", "x1", 1.0)], ins, outs, warn=False)
    loop = Topology.from_edges(edges + [("h3", "h3", 1.0)], ins, outs, warn=False, recurrent=True)
    assert loop.edges[("h3", "h3")].weight == 1.0 and loop.num_edges == len(edges) + 1


def test_networks_of_columns_and_of_edge_objects_agree_and_read_back_the_same(numpy_paths):
    edges, ins, outs = layered(400, seed=3)
    fast = Topology.from_edges(edges, ins, outs, warn=False)
    slow = Topology.from_edges([list(e) for e in edges], ins, outs, warn=False)
    nets = [Network(t, seed=0, dtype=torch.float64) for t in (fast, slow)]
    for net in nets[1:]:
        net.load_state_dict(nets[0].state_dict())
    x = torch.randn(5, 3, dtype=torch.float64)
    assert torch.equal(nets[0](x), nets[1](x))
    with torch.no_grad():
        for net in nets:
            net.raw_weight.mul_(0.5)
    back = [net.to_topology() for net in nets]
    assert back[0]._columns() is not None and back[0] == back[1] and back[0].to_dict() == back[1].to_dict()
    assert back[0].with_weights({edges[0][:2]: 0.125}).edges[edges[0][:2]].weight == 0.125


def test_arrays_read_back_with_known_positions_as_with_looked_up_ones(numpy_paths):
    edges, ins, outs = layered(300, seed=5)
    topo = Topology.from_edges(edges, ins, outs, warn=False)
    ids = list(topo.nodes)
    position = {n: i for i, n in enumerate(ids)}
    cols = ArrayTopology.from_arrays([position[e[0]] for e in edges], [position[e[1]] for e in edges],
                                     inputs=[position[n] for n in ins], outputs=[position[n] for n in outs],
                                     weight=[e[2] for e in edges], node_ids=ids, warn=False)
    back = cols.topology(0)
    assert back == topo and back.to_dict() == topo.to_dict()
    assert [list(map(int, p)) for p in back._edge_positions()] == [list(map(int, p)) for p in topo._edge_positions()]


def test_a_topology_pickled_before_columns_still_loads_and_builds_a_network():
    """A pickle from before plain edges were kept as columns holds the Edge table itself (and, before 0.2, no
    positions): the table is read as it is, the positions made again."""
    edges, ins, outs = layered(60, seed=7)
    new = Topology.from_edges(edges, ins, outs, warn=False)
    old = Topology.__new__(Topology)
    old.__dict__.update({k: v for k, v in new.__dict__.items() if k not in ("_plain", "_positions", "_edges")})
    old.__dict__["_edges"] = new.edges                       # what such a pickle's state holds
    back = pickle.loads(pickle.dumps(old))
    assert back._columns() is None and back == new and back.num_edges == new.num_edges
    x = torch.randn(4, 3, dtype=torch.float64)
    nets = [Network(t, seed=0, dtype=torch.float64) for t in (back, new)]
    assert torch.equal(nets[0](x), nets[1](x))
