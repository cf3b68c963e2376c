"""ArrayTopology: columns checked like a Topology, the same network computed, Topology objects made back."""
import pytest
import torch
from hypothesis import given, settings, strategies as st

import mpnet
from mpnet import ArrayTopology, Topology
from mpnet.errors import (CycleError, DaleConflictError, DuplicateEdgeError, InputEdgeError, MismatchError,
                          NonFiniteError, RoleError, SelfLoopError, SignConflictError, TopologyWarning,
                          UnknownActivationError, UnknownAggregationError, UnknownNodeError)
from mpnet.testing import random_topology, reference_forward

SIGN = {"+": 1, "-": -1, None: 0}


def columns(topo: Topology) -> dict:
    """``topo`` as keyword arguments of ArrayTopology.from_arrays (every field, ids kept)."""
    ids = list(topo.nodes)
    index = {n: i for i, n in enumerate(ids)}
    nodes, edges = list(topo.nodes.values()), list(topo.edges.values())
    return dict(src=[index[e.src] for e in edges], dst=[index[e.dst] for e in edges],
                inputs=[index[n] for n in topo.inputs], outputs=[index[n] for n in topo.outputs],
                num_nodes=len(ids), weight=[e.weight for e in edges], sign=[SIGN[e.sign] for e in edges],
                trainable=torch.tensor([e.trainable for e in edges], dtype=torch.bool),
                bias=[n.bias for n in nodes], response=[n.response for n in nodes],
                activation=[n.activation for n in nodes], aggregation=[n.aggregation for n in nodes],
                dale=[SIGN[n.dale] for n in nodes], node_ids=ids)


def same_topology(a: Topology, b: Topology) -> bool:
    """Equal up to the declaration order of nodes (inputs and outputs keep their column order)."""
    return a.nodes == b.nodes and a.edges == b.edges and a.inputs == b.inputs and a.outputs == b.outputs


@pytest.mark.parametrize("seed", range(6))
def test_from_arrays_computes_the_topology_and_reads_back(seed):
    topo = random_topology(seed, n_hidden=9, p_edge=0.4, p_response=0.3)
    arrays = ArrayTopology.from_arrays(**columns(topo), warn=False)
    assert not arrays.batched and arrays.num_graphs == 1
    assert same_topology(arrays.topology(0), topo)
    x = torch.randn(5, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    want = torch.tensor(reference_forward(topo, x.tolist()), dtype=torch.float64)
    net = mpnet.Network(arrays, dtype=torch.float64)
    torch.testing.assert_close(net(x), want, rtol=1e-10, atol=1e-10)
    assert same_topology(net.to_topology(), topo)                      # weights read back, frozen exact
    depth = topo.depth()
    assert arrays.depth.tolist() == [depth[n] for n in topo.nodes]


def test_from_batch_is_the_batch_of_its_genomes():
    topos = [random_topology(s, n_hidden=s % 7, p_edge=0.35) for s in range(30)]
    cols = [columns(t) for t in topos]
    cat = {k: [v for c in cols for v in c[k]] for k in ("src", "dst", "weight", "sign", "bias", "response",
                                                       "activation", "aggregation", "dale", "node_ids")}
    arrays = ArrayTopology.from_batch([c["num_nodes"] for c in cols], cat.pop("src"), cat.pop("dst"),
                                      [len(c["weight"]) for c in cols],
                                      inputs=[c["inputs"] for c in cols], outputs=[c["outputs"] for c in cols],
                                      trainable=torch.cat([c["trainable"] for c in cols]), warn=False, **cat)
    assert arrays.batched and arrays.num_graphs == 30
    nets, each = mpnet.Network(arrays, dtype=torch.float64), mpnet.Network(topos, dtype=torch.float64)
    x = torch.randn(4, 3, dtype=torch.float64)
    torch.testing.assert_close(nets(x), each(x), rtol=1e-12, atol=1e-12)
    for i in (0, 13, 29):
        assert same_topology(nets.topology(i), topos[i])
    assert [same_topology(a, b) for a, b in zip(nets.to_topology(), topos)] == [True] * 30
    assert nets.rows == each.rows and nets.edge_keys == each.edge_keys


def test_shared_ports_and_default_ids():
    # two genomes in NEAT's numbering: inputs 0, 1; output 2; hidden after
    arrays = ArrayTopology.from_batch([3, 4], [0, 1, 0, 1, 3], [2, 2, 3, 3, 2], [2, 3], inputs=[0, 1], outputs=[2],
                                      weight=[1.0, -1.0, 0.5, 0.5, 2.0], activation="tanh")
    assert repr(arrays) == "ArrayTopology(graphs=2, inputs=2, outputs=1, nodes=7, edges=5)"
    second = arrays.topology(1)
    assert second.inputs == (0, 1) and second.outputs == (2,)
    assert second.edges[(3, 2)].weight == 2.0 and second.nodes[3].activation == "tanh"
    assert second.nodes[2].activation == "identity"                    # output_activation
    y = mpnet.Network(arrays, dtype=torch.float64)(torch.tensor([[1.0, 2.0]], dtype=torch.float64))
    assert y[:, 0, 0].tolist() == pytest.approx([-1.0, 2.0 * torch.tanh(torch.tensor(1.5)).item()])


def test_edge_index_and_unset_weights_are_drawn():
    arrays = ArrayTopology.from_edge_index(torch.tensor([[0, 1, 2], [2, 2, 3]]), inputs=[0, 1], outputs=[3])
    net = mpnet.Network(arrays, seed=0)
    assert net.weight.abs().max() <= 1.0 and repr(net).startswith("Network(graphs=1, nodes=4, edges=3")
    assert arrays.topology().edges[(0, 2)].weight is None
    with pytest.raises(ValueError, match=r"Expected 'edge_index' of shape \[2, num_edges\] \(got \[3\]\)"):
        ArrayTopology.from_edge_index([0, 1, 2], inputs=[0], outputs=[2])


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(src=[0, 5], dst=[2, 2]), UnknownNodeError,
     r"Edge 1 has source node 5, which is not declared \(valid: 0 \.\. 3\)"),
    (dict(src=[0, 2], dst=[2, 2]), SelfLoopError, r"Edge 2 -> 2 is a self-loop"),
    (dict(src=[0, 2], dst=[2, 1]), InputEdgeError, r"Edge 2 -> 1 ends in an input node"),
    (dict(src=[0, 0], dst=[2, 2]), DuplicateEdgeError, r"Edge 0 -> 2 is declared twice"),
    (dict(weight=[1.0, float("nan"), 1.0]), NonFiniteError, r"The weight of edge 1 -> 2 is nan"),
    (dict(bias=[0, 0, float("inf"), 0]), NonFiniteError, r"The bias of node 2 is inf"),
    (dict(weight=[1.0, -1.0, 1.0], sign=[0, 1, 0]), SignConflictError,
     r"Edge 1 -> 2 has fixed sign \+1 but initial weight -1\.0"),
    (dict(sign=[0, 2, 0]), SignConflictError, r"Edge 1 -> 2 has sign 2; expected \+1, -1 or 0"),
    (dict(weight=[1.0, 1.0, -1.0], dale=[0, 0, 1, 0]), DaleConflictError,
     r"Edge 2 -> 3 has initial weight -1\.0 but its source is a Dale neuron of sign \+1"),
    (dict(sign=[0, 0, -1], dale=[0, 0, 1, 0]), DaleConflictError,
     r"Edge 2 -> 3 has fixed sign -1 but its source is a Dale neuron of sign \+1"),
    (dict(trainable=torch.tensor([True, False, True])), NonFiniteError,
     r"Edge 1 -> 2 is frozen \(trainable=False\) but has no weight"),
    (dict(outputs=[3, 0]), RoleError, r"Node 0 is listed twice among the inputs and outputs"),
    (dict(inputs=[]), RoleError, r"The topology has no input node"),
    (dict(outputs=[7]), UnknownNodeError, r"Output 0 is node 7, which is not declared \(valid: 0 \.\. 3\)"),
    (dict(activation="swish"), UnknownActivationError, r"Unknown activation \['swish'\]"),
    (dict(activation=[0, 0, 99, 0]), UnknownActivationError, r"The activation code 99 at position 2 is out of range"),
    (dict(aggregation="mode"), UnknownAggregationError, r"Unknown aggregation \['mode'\]"),
    (dict(weight=[1.0, 2.0]), ValueError, r"Expected weight to hold 3 numbers, one per edge \(got 2\)"),
    (dict(src=[0.5, 1.0]), TypeError, r"Expected src to hold integers"),
])
def test_bad_columns_name_the_culprit(kwargs, error, match):
    base = dict(src=[0, 1, 2], dst=[2, 2, 3], inputs=[0, 1], outputs=[3], num_nodes=4)
    if "src" in kwargs:
        base["dst"] = kwargs["dst"] if "dst" in kwargs else base["dst"][:len(kwargs["src"])]
    if "weight" not in kwargs and ("trainable" not in kwargs):
        base["weight"] = [0.5] * len(kwargs.get("src", base["src"]))
    with pytest.raises(error, match=match):
        ArrayTopology.from_arrays(**{**base, **kwargs}, warn=False)


def test_cycle_is_named_with_ids():
    with pytest.raises(CycleError, match=r"The edges contain a cycle: 'b' -> 'c' -> 'd' -> 'b'\. A feed") as err:
        ArrayTopology.from_arrays([0, 1, 2, 3, 3], [1, 2, 3, 1, 4], inputs=[0], outputs=[4],
                                  node_ids=["x", "b", "c", "d", "y"])
    assert err.value.cycle == ["b", "c", "d", "b"]


def test_batch_errors_name_the_graph():
    with pytest.raises(SelfLoopError, match=r"Graph 1: edge 1 -> 1 is a self-loop"):
        ArrayTopology.from_batch([2, 3], [0, 0, 1], [1, 2, 1], [1, 2], inputs=[0], outputs=[1], weight=[1.0] * 3)
    with pytest.raises(MismatchError, match=r"Expected at least one topology"):
        ArrayTopology.from_batch([], [], [], [], inputs=[0], outputs=[1])
    with pytest.raises(MismatchError, match=r"Expected inputs of shape \[n\] or \[2, n\] \(got \[3, 1\]\)"):
        ArrayTopology.from_batch([2, 2], [0, 0], [1, 1], [1, 1], inputs=[[0], [0], [0]], outputs=[1])


def test_unreachable_nodes_warn():
    with pytest.warns(TopologyWarning, match=r"no input reaches \['node 2'\] \(1 in all\); no output is reached "
                                             r"from \['node 3'\] \(1 in all\)"):
        ArrayTopology.from_arrays([0, 2, 0], [1, 1, 3], inputs=[0], outputs=[1], num_nodes=4, weight=[1.0] * 3)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6), n_hidden=st.integers(0, 12), p_edge=st.floats(0.05, 0.9))
def test_depth_and_network_equal_the_topology_path(seed, n_hidden, p_edge):
    topo = random_topology(seed, n_hidden=n_hidden, p_edge=p_edge)
    arrays = ArrayTopology.from_arrays(**columns(topo), warn=False)
    depth = topo.depth()
    assert arrays.depth.tolist() == [depth[n] for n in topo.nodes]
    x = torch.randn(3, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    torch.testing.assert_close(mpnet.Network(arrays, dtype=torch.float64)(x),
                               mpnet.Network(topo, dtype=torch.float64)(x), rtol=1e-12, atol=1e-12)


def test_columns_ship_a_shard_and_drawn_weights_stay_drawn():
    topos = [random_topology(s, n_hidden=4, p_edge=0.4) for s in range(6)]
    partly = Topology.from_edges([("x0", "h"), ("x1", "h", 0.5), ("x2", "y0", 1.0), ("h", "y1")],
                                 inputs=["x0", "x1", "x2"], outputs=["y0", "y1"])
    arrays = ArrayTopology.from_topologies(topos + [partly])
    shard = ArrayTopology.from_batch(**arrays.columns(2, 7), warn=False)
    assert shard.num_graphs == 5
    for i in range(5):
        assert same_topology(shard.topology(i), arrays.topology(i + 2))
    assert shard.topology(4).edges[("x0", "h")].weight is None
    x = torch.randn(3, 3, dtype=torch.float64)
    torch.testing.assert_close(mpnet.Network(shard, dtype=torch.float64)(x)[:4],
                               mpnet.Network(topos[2:], dtype=torch.float64)(x))
    with pytest.raises(IndexError, match=r"Expected 0 <= start < stop <= 7 \(got 3, 9\)"):
        arrays.columns(3, 9)


def test_numbers_come_back_in_column_order():
    topos = [random_topology(s, n_hidden=5, p_edge=0.4) for s in range(8)]
    arrays = ArrayTopology.from_topologies(topos)
    net = mpnet.Network(arrays, dtype=torch.float64)
    weight, bias = net.numbers()
    assert torch.equal(weight, arrays.weight) and torch.equal(bias, arrays.bias)   # as declared
    with torch.no_grad():
        net.bias.add_(1.0)
    torch.testing.assert_close(net.numbers()[1] - arrays.bias, (arrays.depth > 0).double())  # inputs keep theirs


# --------------------------------------------------------------------------------- hostile columns
def one_edge(**kw):
    return ArrayTopology.from_arrays(kw.pop("src", [0]), kw.pop("dst", [1]), **{"inputs": [0], "outputs": [1], **kw})


@pytest.mark.parametrize("kw, match", [
    (dict(num_nodes=10 ** 10), r"num_nodes=10000000000, num_edges=1 makes 10000000000 nodes.*at most 2\*\*31 - 1 = "
                               r"2147483647 of each \(the compiled network indexes them in int32\)"),
    (dict(dst=[10 ** 10], outputs=[10 ** 10]), r"The largest node index named \(10000000000, in src, dst, inputs or "
                                               r"outputs\) makes 10000000001 nodes"),
    (dict(dst=[2 ** 63]), r"Expected dst to hold integers .* beyond the 64-bit integers"),
    (dict(dst=[2 ** 70]), r"Expected dst to hold integers .* an int beyond 64 bits"),
    (dict(src=["a"]), r"Expected src to hold integers \(got \['a'\] \(a list\), which holds strings\)"),
    (dict(src=[[0]], dst=[[1]]), r"Expected src to be 1-D \(got shape \[1, 1\]\)"),
    (dict(inputs="0"), r"Expected inputs to hold integers \(got the string '0'"),
    (dict(num_nodes=True), r"Expected num_nodes to be an int >= 0 \(got True\)"),
    (dict(num_nodes="2"), r"Expected num_nodes to be an int >= 0 \(got '2' \(a str\)\)"),
    (dict(weight=[True]), r"Expected weight to hold real numbers \(got dtype torch.bool\)"),
    (dict(weight=["0.5"]), r"Expected weight to hold numbers .* which holds strings"),
    (dict(response=[None, 1.0]), r"Expected response to hold numbers"),
    (dict(sign=[True]), r"Expected sign to hold \+1, -1 or 0 \(got dtype torch.bool\)"),
    (dict(trainable=["false"]), r"Expected trainable to hold booleans .* which holds strings"),
    (dict(activation=5), r"Expected activation to be a name, or one name or code per node \(got 5\)"),
    (dict(activation=["relu", 3]), r"Unknown activation \[3\]"),
    (dict(node_ids="ab"), r"Expected node_ids to be a sequence of 2 ids, one per node \(got the string 'ab'"),
    (dict(warn="no"), r"Expected warn to be True or False \(got 'no' \(a str\)\)"),
    (dict(bias=[5.0, 0.0]), r"Node 0 is an input but has bias 5.0; an input takes its value from the data"),
])
def test_hostile_columns_are_refused_naming_the_argument(kw, match):
    with pytest.raises(ValueError, match=match):      # ArgumentError and the TopologyErrors are ValueErrors
        one_edge(**kw)


def test_a_size_beyond_this_machines_memory_is_refused_before_allocating(monkeypatch):
    import mpnet.checks.arguments as arguments
    monkeypatch.setattr(arguments, "physical_memory", lambda: 10 ** 9)   # a 1 GB machine
    with pytest.raises(ValueError, match=r"num_nodes=100000000, num_edges=1 \(100000000 nodes, 1 edges\) needs "
                                         r"about 4.8 GB of memory, more than this machine's 1 GB"):
        one_edge(num_nodes=10 ** 8)
    with pytest.raises(ValueError, match=r"num_nodes \(sum 100000002\) and num_edges \(sum 2\)"):
        ArrayTopology.from_batch([2, 10 ** 8], [0, 0], [1, 1], [1, 1], inputs=[0], outputs=[1])


def test_output_activation_is_checked_and_not_ignored():
    with pytest.raises(UnknownActivationError, match=r"Unknown output_activation 'sigmod' \(a str\); expected a name"):
        one_edge(output_activation="sigmod")
    with pytest.raises(ValueError, match=r"output_activation='tanh' applies when activation is one name"):
        one_edge(activation=["identity", "relu"], output_activation="tanh")
    assert one_edge(activation="relu", output_activation="tanh").activation.tolist() == [0, 6]


def test_graph_indices_are_checked():
    arrays = one_edge()
    with pytest.raises(IndexError, match=r"Graph index 5 out of range: this ArrayTopology holds 1 graphs"):
        arrays.topology(5)
    with pytest.raises(ValueError, match=r"Expected t to be an int >= 0 \(got True\)"):
        arrays.topology(True)
    with pytest.raises(ValueError, match=r"Expected start to be an int >= 0 \(got True\)"):
        arrays.columns(True)


def test_columns_of_topologies_with_an_input_bias_rebuild():
    from mpnet.graph.elements import Node
    plain = Topology.from_edges([("x", "y", 1.0)], inputs=["x"], outputs=["y"])
    topo = Topology([Node("x", "input", bias=2.0), plain.nodes["y"]], plain.edges.values())   # kept, unused
    cols = ArrayTopology.from_topologies([topo, topo]).columns()
    assert cols["bias"].tolist() == [0.0, 0.0, 0.0, 0.0]
    assert ArrayTopology.from_batch(**cols, warn=False).num_graphs == 2


# ------------------------------------------------------------------ from_topologies against a plain reference
def reference_union(topos):
    """The union's columns the plain way, a Python loop over every node and edge (what from_topologies computes
    with a map per column): ``{column: list}``."""
    cols = {k: [] for k in ("src", "dst", "weight", "sign", "trainable", "activation", "aggregation", "bias",
                            "response", "dale", "inputs", "outputs")}
    offset = 0
    for topo in topos:
        index = {n: offset + i for i, n in enumerate(topo.nodes)}
        for node in topo.nodes.values():
            cols["activation"].append(mpnet.graph.topology.ACTIVATIONS.index(node.activation))
            cols["aggregation"].append(mpnet.graph.topology.AGGREGATIONS.index(node.aggregation))
            cols["bias"].append(node.bias)
            cols["response"].append(node.response)
            cols["dale"].append(SIGN[node.dale])
        for (s, d), e in topo.edges.items():
            cols["src"].append(index[s])
            cols["dst"].append(index[d])
            cols["weight"].append(float("nan") if e.weight is None else e.weight)
            cols["sign"].append(SIGN[e.sign])
            cols["trainable"].append(e.trainable)
        cols["inputs"].append([index[n] for n in topo.inputs])
        cols["outputs"].append([index[n] for n in topo.outputs])
        offset += topo.num_nodes
    return cols


def some_topologies(seed, count, recurrent):
    topos = [random_topology(seed + k, n_hidden=k % 5, p_edge=0.4, p_sign=0.3, p_frozen=0.2, p_response=0.3,
                             recurrent=recurrent, ids="int" if k % 2 else "str") for k in range(count)]
    if not recurrent:   # weights left to the network, a Dale neuron, and an input declared after a hidden neuron
        topos.append(Topology.from_edges([("h", "y0"), ("x0", "h", 0.5), ("x1", "y1"), ("x2", "h")],
                                         inputs=["x0", "x1", "x2"], outputs=["y0", "y1"], dale={"x1": "-"}))
        topos.append(Topology([mpnet.Node("h"), mpnet.Node("x1", "input"), mpnet.Node("x0", "input"),
                               mpnet.Node("y1", "output"), mpnet.Node("x2", "input"), mpnet.Node("y0", "output")],
                              [mpnet.Edge("x0", "h"), mpnet.Edge("h", "y0"), mpnet.Edge("x1", "y1"),
                               mpnet.Edge("x2", "y0")]))
    return topos


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10 ** 6), count=st.integers(1, 6), recurrent=st.sampled_from([False, True, "ctrnn"]))
def test_from_topologies_gives_the_columns_of_a_loop_over_every_node_and_edge(seed, count, recurrent):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TopologyWarning)
        topos = some_topologies(seed, count, recurrent)
    arrays = ArrayTopology.from_topologies(topos)
    for name, values in reference_union(topos).items():
        got = getattr(arrays, name)
        want = torch.tensor(values, dtype=got.dtype).reshape(got.shape)
        torch.testing.assert_close(got, want, equal_nan=True, rtol=0, atol=0, msg=name)
    assert arrays.node_ptr.tolist() == [0, *torch.tensor([t.num_nodes for t in topos]).cumsum(0).tolist()]
    assert arrays.edge_ptr.tolist() == [0, *torch.tensor([t.num_edges for t in topos]).cumsum(0).tolist()]
    if recurrent is False:
        depth = [d for t in topos for d in t.depth().values()]
        assert arrays.depth.tolist() == depth


def test_from_topologies_names_the_first_topology_of_another_width():
    topos = [random_topology(s) for s in range(3)] + [random_topology(3, n_inputs=2)]
    with pytest.raises(MismatchError, match=r"Topology 3 has 2 inputs and 2 outputs but topology 0 has 3 and 2"):
        ArrayTopology.from_topologies(topos)


@pytest.mark.parametrize("made_from", ["arrays", "objects"])
def test_a_trained_weight_that_is_nan_is_refused_on_reading_back_not_left_unset(made_from):
    topo = random_topology(0, n_hidden=3, p_edge=0.6, p_frozen=0.0, p_sign=0.0)
    net = mpnet.Network(ArrayTopology.from_arrays(**columns(topo), warn=False) if made_from == "arrays" else topo)
    with torch.no_grad():
        net.raw_weight[0] = float("nan")
    with pytest.raises(NonFiniteError, match=r"The weight of Edge .* is nan; expected a finite number"):
        net.to_topology()
