"""mpnet.scale.packed: topologies as flat arrays and back, the same network bit for bit, compact, and bad arrays named."""
import pickle
from dataclasses import replace

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import mpnet
from mpnet.errors import FormatError
from mpnet.scale.packed import pack, unpack
from mpnet.search import NEAT
from mpnet.testing import random_topology
from mpnet.graph.topology import Edge, Node, Topology


def same_but_ids(a: Topology, b: Topology) -> bool:
    """Equal up to node ids: nodes field by field in order, edges by position."""
    ids = {n: i for i, n in enumerate(a.nodes)}
    nodes_a = [replace(n, id=ids[n.id]) for n in a.nodes.values()]
    edges_a = {(ids[s], ids[d]): replace(e, src=ids[s], dst=ids[d]) for (s, d), e in a.edges.items()}
    return nodes_a == list(b.nodes.values()) and edges_a == b.edges


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 10_000), min_size=1, max_size=6))
def test_unpack_inverts_pack_and_computes_the_same_network(seeds):
    topos = [random_topology(s, n_hidden=6, p_response=0.2) for s in seeds]
    back = unpack(pack(topos))
    assert len(back) == len(topos) and all(same_but_ids(a, b) for a, b in zip(topos, back))
    x = torch.randn(5, 3, dtype=torch.float64)
    assert torch.equal(mpnet.Network(topos, dtype=torch.float64)(x), mpnet.Network(back, dtype=torch.float64)(x))


def test_unset_weights_dale_and_frozen_edges_survive():
    topo = Topology([Node("a", "input"), Node("b", "input", dale="-"), Node("h", "hidden", "tanh", "max", 0.5, "+", 2.0),
                     Node("y", "output", "sigmoid")],
                    [Edge("a", "h"), Edge("b", "h"), Edge("h", "y", 0.3, trainable=False), Edge("a", "y", -1.0, "-")])
    p = pack([topo])
    assert p.aggregation is not None and p.response is not None and p.dale is not None
    assert p.sign.tolist() == [0, -1, 1, -1] and p.trainable.tolist() == [True, True, False, True]
    assert np.isnan(p.weight[:2]).all()
    (back,) = unpack(p)
    assert same_but_ids(topo, back) and back.edges[(0, 2)].weight is None


def test_default_columns_are_left_out_and_a_genome_is_small():
    algo = NEAT(2, 1, population=200, seed=0, add_node_rate=0.5, add_connection_rate=0.5)
    for _ in range(4):
        algo.tell([float(t.num_edges) for t in algo.ask()])
    topos = algo.ask()
    p = pack(topos)
    assert p.aggregation is None and p.response is None and p.dale is None and p.sign is None and p.trainable is None
    assert len(p) == 200 and p.node_ptr[-1] == sum(t.num_nodes for t in topos)
    as_dicts = len(pickle.dumps([t.to_dict() for t in topos]))
    assert len(pickle.dumps(p)) < 0.6 * as_dicts


def test_take_is_a_rebased_slice():
    topos = [random_topology(s, n_hidden=5) for s in range(7)]
    part = pack(topos).take(2, 5)
    assert part.node_ptr[0] == 0 and part.edge_ptr[0] == 0 and len(part) == 3
    assert all(same_but_ids(a, b) for a, b in zip(topos[2:5], unpack(part)))
    assert len(pack(topos).take(3, 3)) == 0 and unpack(pack(topos).take(3, 3)) == []


def test_bad_arrays_are_named():
    p = pack([random_topology(0, n_hidden=4), random_topology(1, n_hidden=4)])
    with pytest.raises(FormatError, match=r"Packed.edge_ptr must rise from 0 to \d+"):
        unpack(replace(p, edge_ptr=p.edge_ptr[::-1].copy()))
    with pytest.raises(FormatError, match=r"Packed.bias has 3 entries; expected \d+, one per node"):
        unpack(replace(p, bias=p.bias[:3]))
    with pytest.raises(FormatError, match=r"Packed.weight has 1 entries; expected \d+, one per edge"):
        unpack(replace(p, weight=p.weight[:1]))
    bad = p.activation.copy()
    bad[4] = 999
    with pytest.raises(FormatError, match=r"Packed.activation\[4\] = 999 is no code"):
        unpack(replace(p, activation=bad))
    bad = p.src.copy()
    bad[0] = 50
    with pytest.raises(FormatError, match=r"Packed.src\[0\] = 50 is no node of its topology \(it has \d+ nodes\)"):
        unpack(replace(p, src=bad))


def same_sequence_outputs(a, b, n_inputs):
    x = torch.randn(4, 3, n_inputs, dtype=torch.float64)      # [steps, batch, inputs]
    clock = dict(advance_time=0.2, time_step=0.05) if a.network_type == "ctrnn" else {}
    net_a, net_b = (mpnet.Network(t, dtype=torch.float64, **clock) for t in (a, b))
    return torch.equal(net_a(x), net_b(x))


@pytest.mark.parametrize("kind", [True, "ctrnn"])
def test_recurrent_and_ctrnn_topologies_keep_their_type_and_time_constants(kind):
    topos = [random_topology(s, n_hidden=5, recurrent=kind) for s in range(4)]
    p = pack(topos)
    assert p.network_type is not None and (p.time_constant is not None) == (kind == "ctrnn")
    back = unpack(p)
    assert [t.network_type for t in back] == [t.network_type for t in topos]
    assert all(same_but_ids(a, b) for a, b in zip(topos, back))
    assert all(same_sequence_outputs(a, b, 3) for a, b in zip(topos, back))
    assert [t.network_type for t in unpack(p.take(1, 3))] == [topos[1].network_type, topos[2].network_type]


def test_tied_topologies_keep_their_groups_and_terms():
    from mpnet.graph.ties import Tie
    tied = Topology([Node("a", "input"), Node("h", "hidden", "tanh"), Node("g", "hidden", "tanh"),
                     Node("y", "output")],
                    [Edge("a", "h", tie="w"), Edge("a", "g", tie="w"), Edge("h", "g", tie=(("gap", 1.0), (None, 0.5)),
                                                                           weight=0.25),
                     Edge("g", "y", 1.0), Edge("h", "y", -1.0)],
                    ties=[Tie("w", "+", 0.7), Tie("gap", None, 0.1, trainable=False)])
    plain = random_topology(3, n_hidden=4)
    p = pack([plain, tied, plain])
    assert p.ties is not None and p.ties[0] is None and p.ties[2] is None
    back = unpack(p)
    assert back[1].ties == tied.ties and same_but_ids(tied, back[1]) and same_but_ids(plain, back[2])
    x = torch.randn(6, 1, dtype=torch.float64)
    assert torch.equal(mpnet.Network(tied, dtype=torch.float64)(x), mpnet.Network(back[1], dtype=torch.float64)(x))
    (only,) = unpack(p.take(1, 2))
    assert only.ties == tied.ties


@pytest.mark.parametrize("change, match", [
    (lambda p: replace(p, network_type=np.array([0, 7], np.int8)), r"network_type\[1\] = 7"),
    (lambda p: replace(p, network_type=np.array([0], np.int8)), "network_type has 1 entries; expected 2"),
    (lambda p: replace(p, ties=[None, "{not json"]), r"ties\[1\] is not the ties"),
    (lambda p: replace(p, ties=[None, '{"ties": [], "edges": {"99": "w"}}']), r"ties\[1\] names edge 99"),
])
def test_bad_per_topology_columns_are_named(change, match):
    p = pack([random_topology(0, n_hidden=3), random_topology(1, n_hidden=3)])
    with pytest.raises(FormatError, match=match):
        unpack(change(p))
