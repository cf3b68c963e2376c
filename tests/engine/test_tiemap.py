"""mpnet.engine.tiemap: tied weights in the Network against untied references; gradients summed per group;
gradcheck; per-group sign constraints; read-back; gap junctions against a plain float64 loop."""
import math
import random

import pytest
import torch
from hypothesis import given, settings, strategies as st
from torch.autograd import gradcheck

from mpnet import ArrayTopology, Network, Topology
from mpnet.errors import ArgumentError
from mpnet.testing import random_topology, reference_recurrent
from mpnet.graph.ties import Tie, gap_junction_ties
from mpnet.graph.topology import Edge, Node

F64 = torch.float64


def ring(recurrent, tie_values):
    """4 hidden neurons fed by 2 inputs; edges x* -> h* tied in pairs, a ring h0 -> h1 -> h2 -> h3 (-> h0 when
    recurrent) tied into one group of sign '+', each h -> y with its own weight."""
    hs = ["h0", "h1", "h2", "h3"]
    nodes = ([Node("x0", "input", "identity"), Node("x1", "input", "identity")] + [Node(h, activation="tanh")
             for h in hs] + [Node("y", "output", "identity")])
    edges = [Edge("x0", "h0", tie="in"), Edge("x0", "h2", tie="in"), Edge("x1", "h1", tie="in2"),
             Edge("x1", "h3", tie=((None, 1.0), ("in2", 0.5)), weight=0.2)]
    ring_pairs = list(zip(hs, hs[1:])) + ([("h3", "h0")] if recurrent else [])
    edges += [Edge(a, b, tie="ring") for a, b in ring_pairs]
    edges += [Edge(h, "y", weight=0.3 * (i + 1) - 0.5) for i, h in enumerate(hs)]
    ties = [Tie("in", weight=tie_values["in"]), Tie("in2", weight=tie_values["in2"]),
            Tie("ring", sign="+", weight=tie_values["ring"])]
    return Topology(nodes, edges, ties=ties, recurrent=recurrent)


def expanded(topo, values):
    """The untied topology computing the same: each edge's weight = its terms summed with ``values``."""
    edges = []
    for e in topo.edges.values():
        terms = ((None, 1.0),) if e.tie is None else ((e.tie, 1.0),) if isinstance(e.tie, str) else e.tie
        w = sum(c * (e.weight if g is None else values[g]) for g, c in terms)
        edges.append(Edge(e.src, e.dst, w))
    return Topology(list(topo.nodes.values()), edges, recurrent=topo.network_type, warn=False)


VALUES = {"in": 0.7, "in2": -0.4, "ring": 0.9}


@pytest.mark.parametrize("recurrent", [False, True])
@pytest.mark.parametrize("fused", [True, False])
def test_tied_network_equals_its_expansion(recurrent, fused):
    topo = ring(recurrent, VALUES)
    net, ref = Network(topo, dtype=F64, fused=fused), Network(expanded(topo, VALUES), dtype=F64, fused=fused)
    assert net.weight.shape == (topo.num_edges,)
    assert net.raw_weight.shape == (5 + 3,)   # five own parameters, three groups
    x = torch.randn(5, 3, 2, dtype=F64) if recurrent else torch.randn(3, 2, dtype=F64)
    torch.testing.assert_close(net(x), ref(x))


def test_tied_recurrent_network_matches_the_float64_reference_loop():
    topo = ring(True, VALUES)
    seq = [[random.Random(s).uniform(-1, 1) for _ in range(2)] for s in range(6)]
    want, _ = reference_recurrent(expanded(topo, VALUES), seq)
    got = Network(topo, dtype=F64)(torch.tensor(seq, dtype=F64).unsqueeze(1))[:, 0]
    torch.testing.assert_close(got, torch.tensor(want, dtype=F64))


@pytest.mark.parametrize("recurrent", [False, True])
def test_group_gradient_is_the_sum_over_its_edges(recurrent):
    topo = ring(recurrent, VALUES)
    net, ref = Network(topo, dtype=F64), Network(expanded(topo, VALUES), dtype=F64)
    x = torch.randn(4, 3, 2, dtype=F64) if recurrent else torch.randn(3, 2, dtype=F64)
    net(x).pow(2).sum().backward()
    ref(x).pow(2).sum().backward()
    g_edge = dict(zip([k[1:] for k in ref.edge_keys], ref.raw_weight.grad.tolist()))
    g_param = net.raw_weight.grad.tolist()
    groups = {name: 5 + k for k, (_, name) in enumerate(net._table.groups)}
    ring_edges = [k for k, e in topo.edges.items() if e.tie == "ring"]
    # the ring group is sign '+' and positive: d w / d raw = +1, so its gradient is the plain sum
    assert g_param[groups["ring"]] == pytest.approx(sum(g_edge[k] for k in ring_edges))
    assert g_param[groups["in"]] == pytest.approx(g_edge[("x0", "h0")] + g_edge[("x0", "h2")])
    assert g_param[groups["in2"]] == pytest.approx(g_edge[("x1", "h1")] + 0.5 * g_edge[("x1", "h3")])


def test_gradcheck_through_ties_and_time():
    topo = ring(True, VALUES)
    net = Network(topo, dtype=F64)
    raw = net.raw_weight.detach().clone().requires_grad_(True)
    x = torch.randn(4, 2, 2, dtype=F64)

    def f(p):
        w = net.tie_map(net.constraint(p))
        return net.conv.forward(net_rows(net, x), net.plan, w, net.bias, *net_schedule(net, x))[0]
    assert gradcheck(f, (raw,), eps=1e-6, atol=1e-5)


def net_rows(net, x):
    from mpnet.engine.steps import sequence_rows
    return sequence_rows(x, net.plan, False)


def net_schedule(net, x):
    from mpnet.engine.steps import discrete_schedule, initial_slots
    rows = net_rows(net, x)
    init, _ = initial_slots(None, net.plan, 1, rows)
    return discrete_schedule(rows.shape[0]), init, None


def test_group_sign_holds_through_training_and_reads_back():
    topo = ring(True, VALUES)
    net = Network(topo, dtype=F64)
    opt = torch.optim.SGD(net.parameters(), lr=0.5)
    x = torch.randn(5, 8, 2, dtype=F64)
    for _ in range(20):   # push the ring's weight down: the sign keeps it >= 0
        opt.zero_grad()
        (net(x).sum() + 10 * net.weight[[i for i, k in enumerate(net.edge_keys) if topo.edges[k[1:]].tie == "ring"]]
         .sum()).backward()
        opt.step()
    ring_w = [w for k, w in zip(net.edge_keys, net.weight.tolist()) if topo.edges[k[1:]].tie == "ring"]
    assert len(set(ring_w)) == 1 and ring_w[0] >= 0
    back = net.to_topology()
    assert back.ties["ring"].weight == pytest.approx(ring_w[0])
    torch.testing.assert_close(Network(back, dtype=F64)(x), net(x).detach())


def test_tied_weights_are_set_on_the_topology_not_edge_by_edge():
    net = Network(ring(True, VALUES), dtype=F64)
    with pytest.raises(ArgumentError, match="This network ties weights \\(3 shared groups\\)"):
        net.set_weights({("h0", "y"): 0.1})
    assert repr(net) == "Network(graphs=1, nodes=7, edges=12, recurrent, fused=True)"


def test_frozen_tie_keeps_its_value():
    topo = Topology.from_edges([{"src": "x", "dst": "y", "tie": "g"}, {"src": "x", "dst": "z", "tie": "g"}],
                               ["x"], ["y", "z"], ties=[Tie("g", weight=0.5, trainable=False)])
    net = Network(topo, dtype=F64)
    net(torch.ones(2, 1, dtype=F64)).sum().backward()
    assert net.weight.tolist() == [0.5, 0.5]
    assert net.to_topology().ties["g"].weight == 0.5


def test_unset_group_is_drawn_within_its_edges_bound():
    topo = Topology.from_edges([{"src": "x", "dst": "y", "tie": "g"}, {"src": "x", "dst": "z", "tie": "g"}],
                               ["x"], ["y", "z"], ties=[Tie("g")])
    w = Network(topo, seed=3).weight.tolist()
    assert w[0] == w[1] and 0 < abs(w[0]) <= 1.0


def gap_reference(pairs, chem, g, bias, seq, act=math.tanh):
    """Plain float64 loop: z_i = sum_chem w_ji h_j + sum_{gap i~j} g_ij (h_j - h_i) + b_i, h = act(z)."""
    neurons = sorted({n for p in pairs for n in p} | {n for k in chem for n in k} - {"x"})
    h = {n: 0.0 for n in neurons}
    out = []
    for x in seq:
        prev = dict(h, x=x)
        for i in neurons:
            z = bias[i] + sum(w * prev[j] for (j, k), w in chem.items() if k == i)
            z += sum(g[p] * (prev[p[1] if p[0] == i else p[0]] - prev[i]) for p in pairs if i in p)
            h[i] = act(z)
        out.append(h["y"])
    return out


def test_gap_junctions_match_a_plain_coupling_loop():
    pairs = [("a", "b"), ("b", "c"), ("a", "c"), ("c", "y")]
    g = {p: 0.1 * (i + 2) for i, p in enumerate(pairs)}
    chem = {("x", "a"): 1.2, ("a", "b"): -0.7, ("b", "y"): 0.9, ("c", "a"): 0.4}
    bias = {"a": 0.1, "b": -0.2, "c": 0.0, "y": 0.05}
    terms, ties = gap_junction_ties(pairs, weights=g)
    keys = list(dict.fromkeys(list(chem) + list(terms)))
    edges = []
    for k in keys:
        tie = tuple(terms.get(k, ()))
        if k in chem:
            edges.append(Edge(*k, weight=chem[k], tie=((None, 1.0),) + tie if tie else None))
        else:
            edges.append(Edge(*k, tie=tie))
    nodes = [Node("x", "input", "identity")] + [Node(n, activation="tanh", bias=bias[n]) for n in "abc"]
    nodes.append(Node("y", "output", "tanh", bias=bias["y"]))
    topo = Topology(nodes, edges, ties=ties, recurrent=True)
    assert ("a", "a") in topo.edges and topo.edges[("a", "a")].tie == (("gap:a|b", -1.0), ("gap:a|c", -1.0))
    seq = [0.5, -1.0, 0.3, 0.0, 0.8, 1.0]
    want = gap_reference(pairs, chem, g, bias, seq)
    got = Network(topo, dtype=F64)(torch.tensor(seq, dtype=F64).view(-1, 1, 1))[:, 0, 0]
    torch.testing.assert_close(got, torch.tensor(want, dtype=F64))


def test_neat_export_refuses_ties_with_a_pointer():
    from mpnet.errors import UnsupportedError
    with pytest.raises(UnsupportedError, match="ties weights \\(3 shared groups, e.g. 'in'\\)"):
        ring(True, VALUES).to_neat_json()


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), groups=st.integers(1, 4), recurrent=st.booleans())
def test_random_ties_equal_their_expansion(seed, groups, recurrent):
    """Random topologies (every aggregation and activation), a random share of the free trainable edges tied into
    a few groups, some as (own, group) sums: the tied network computes what its expansion does, and the
    gradient of each group is the coefficient-weighted sum of its edges' gradients."""
    from dataclasses import replace
    topo = random_topology(seed, recurrent=recurrent, p_sign=0.0, p_frozen=0.0, activations=("tanh", "sigmoid",
                                                                                               "identity"))
    rng = random.Random(seed)
    values = {f"g{k}": rng.uniform(-1, 1) for k in range(groups)}
    edges, used = [], set()
    for e in topo.edges.values():
        r = rng.random()
        if r < 0.4:
            g = rng.choice(list(values))
            edges.append(replace(e, weight=None, tie=g))
            used.add(g)
        elif r < 0.6:
            g = rng.choice(list(values))
            edges.append(replace(e, tie=((None, 1.0), (g, rng.choice([-1.0, 0.5, 2.0])))))
            used.add(g)
        else:
            edges.append(e)
    ties = [Tie(g, weight=values[g]) for g in values if g in used]
    tied = Topology(list(topo.nodes.values()), edges, recurrent=topo.network_type, ties=ties, warn=False)
    net, ref = Network(tied, dtype=F64), Network(expanded(tied, values), dtype=F64)
    x = torch.randn(4, 3, 3, dtype=F64) if recurrent else torch.randn(3, 3, dtype=F64)
    torch.testing.assert_close(net(x), ref(x))
    net(x).pow(2).sum().backward()
    ref(x).pow(2).sum().backward()
    g_edge = ref.raw_weight.grad   # free edges: the raw weight is the weight
    want = torch.zeros_like(net.raw_weight)
    e_idx, p_idx, coef = (torch.tensor(v) for v in net._table.terms) if net._table.terms else (None, None, None)
    if e_idx is not None:
        want.index_add_(0, p_idx, coef.to(F64) * g_edge[e_idx])
        torch.testing.assert_close(net.raw_weight.grad, want)


def test_tied_network_saves_and_loads(tmp_path):
    topo = ring(True, VALUES)
    net = Network(topo, dtype=F64)
    with torch.no_grad():
        net.raw_weight.add_(0.1)   # trained values, not the declared ones
    net.save(tmp_path / "net.pt")
    back = Network.load(tmp_path / "net.pt")
    x = torch.randn(4, 2, 2, dtype=F64)
    torch.testing.assert_close(back(x), net(x))
    assert back.to_topology() == net.to_topology() and back.to_topology().ties["ring"].weight == pytest.approx(1.0)


def test_untied_networks_build_no_parameter_table():
    """Without ties the network keeps the column path: one parameter per edge, no table, no map."""
    topo = expanded(ring(False, VALUES), VALUES)
    for net in (Network(topo), Network([topo, topo]), Network(ArrayTopology.of(topo))):
        assert net._table is None and net.tie_map is None
        assert net.raw_weight.shape == (topo.num_edges * net.num_graphs,)


@pytest.mark.parametrize("recurrent", [False, True])
def test_tied_batch_reads_back_ties_and_summed_numbers(recurrent):
    """numbers() gives each edge's summed weight in declaration order; topology(i) and to_topology() keep the
    ties with the trained group values, and rebuild networks computing the same."""
    a, b = ring(recurrent, VALUES), ring(recurrent, {"in": -0.2, "in2": 0.3, "ring": 0.1})
    net = Network([a, b], dtype=F64)
    w, _ = net.numbers()
    want = [e.weight for topo, values in ((a, VALUES), (b, {"in": -0.2, "in2": 0.3, "ring": 0.1}))
            for e in expanded(topo, values).edges.values()]
    assert w.tolist() == pytest.approx(want)
    back = net.to_topology()
    assert [t.ties["ring"].weight for t in back] == pytest.approx([0.9, 0.1])
    assert net.topology(1) == back[1] and net.topology(-2) == back[0]
    x = torch.randn(4, 3, 2, dtype=F64) if recurrent else torch.randn(3, 2, dtype=F64)
    torch.testing.assert_close(Network(back, dtype=F64)(x), net(x))
