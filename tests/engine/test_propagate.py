"""The fused and plain propagation paths against the float64 node-by-node reference, and gradcheck."""
import math

import pytest
import torch
from hypothesis import given, settings, strategies as st
from torch.autograd import gradcheck

import mpnet
from mpnet.engine.functional import ACTIVATION_FNS
from mpnet.testing import REFERENCE_ACTIVATIONS, random_topology, reference_forward
from mpnet.graph.topology import ACTIVATIONS, AGGREGATIONS, Edge, Node, Topology

# kinks, jumps or flat pieces where random arguments land: not for finite differences
SMOOTH = [a for a in ACTIVATIONS if a not in ("relu", "leaky_relu", "abs", "clamped", "neat.relu", "neat.lelu",
                                               "neat.abs", "neat.clamped", "neat.hat", "neat.inv", "neat.log")]


def run(topo, x, fused=True):
    net = mpnet.Network(topo, dtype=torch.float64, fused=fused)
    with torch.no_grad():
        return net(torch.as_tensor(x, dtype=torch.float64))


def assert_matches_reference(topo, x, fused=True):
    got = run(topo, x, fused)
    want = torch.tensor(reference_forward(topo, x.tolist()), dtype=torch.float64)
    torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("fused", [True, False])
@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10**6), n_hidden=st.integers(0, 12), p_edge=st.floats(0.05, 0.8),
       batch=st.integers(1, 9))
def test_random_dags_match_reference(fused, seed, n_hidden, p_edge, batch):
    topo = random_topology(seed, n_hidden=n_hidden, p_edge=p_edge, p_response=0.3)
    x = torch.randn(batch, 3, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    assert_matches_reference(topo, x, fused)


@pytest.mark.parametrize("aggregation", AGGREGATIONS)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_every_aggregation_and_activation(aggregation, activation):
    topo = random_topology(7, n_hidden=6, p_edge=0.5, activations=[activation], aggregations=[aggregation],
                           p_response=0.5)
    x = torch.randn(5, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    assert_matches_reference(topo, x, fused=True)


def test_activation_derivatives_are_the_true_derivatives():
    z = torch.linspace(-3, 3, 601, dtype=torch.float64).requires_grad_()
    for name, act in ACTIVATION_FNS.items():
        h = act.fn(z)
        (auto,) = torch.autograd.grad(h.sum(), z)
        keep = (z.detach().abs() - 1).abs() > 1e-9   # clamped has kinks at +-1; relu-likes at 0
        keep &= z.detach().abs() > 1e-9
        torch.testing.assert_close(act.grad(z.detach(), h.detach())[keep], auto[keep], msg=name)


def test_hand_computed_chain():
    # y = 2 * relu(0.5 * x + 1) - 3 ; with x = -4, 0, 2  ->  -3, -1, 1
    topo = Topology.from_edges([("x", "h", 0.5), ("h", "y", 2.0)], inputs=["x"], outputs=["y"],
                               biases={"h": 1.0, "y": -3.0})
    assert run(topo, [[-4.0], [0.0], [2.0]]).flatten().tolist() == [-3.0, -1.0, 1.0]


def test_hand_computed_aggregations():
    # two inputs into four neurons with different aggregations, outputs read them with weight 1
    def net(agg):
        return Topology.from_edges([("a", "n", 2.0), ("b", "n", -3.0), ("n", "y", 1.0)], inputs=["a", "b"],
                                   outputs=["y"], activation="identity", aggregations={"n": agg})
    x = [[1.0, 1.0]]   # messages 2 and -3
    expected = {"sum": -1.0, "mean": -0.5, "max": 2.0, "min": -3.0, "product": -6.0, "maxabs": -3.0,
                "median": -0.5}
    for agg, want in expected.items():
        assert run(net(agg), x).item() == want, agg


def test_skip_edge_and_two_outputs():
    # x -> h -> y1 and a skip x -> y1; y2 reads h only.  h = tanh(x); y1 = h - x; y2 = 0.5 h + 0.25
    topo = Topology.from_edges([("x", "h", 1.0), ("h", "y1", 1.0), ("x", "y1", -1.0), ("h", "y2", 0.5)],
                               inputs=["x"], outputs=["y1", "y2"], activation="tanh", biases={"y2": 0.25})
    out = run(topo, [[0.3]])
    assert out[0].tolist() == pytest.approx([math.tanh(0.3) - 0.3, 0.5 * math.tanh(0.3) + 0.25], abs=1e-15)


def test_neuron_without_inputs_is_its_activated_bias():
    topo = Topology([Node("x", "input"), Node("c", "hidden", "sigmoid", bias=0.3), Node("y", "output", "identity")],
                    [Edge("x", "y", 1.0), Edge("c", "y", 2.0)], warn=False)
    out = run(topo, [[1.0]])
    assert out.item() == pytest.approx(1.0 + 2.0 / (1.0 + math.exp(-0.3)), abs=1e-15)


@pytest.mark.parametrize("seed", range(5))
def test_invariant_under_relabelling(seed):
    topo = random_topology(seed, n_hidden=10)
    rename = {n: f"renamed_{i}" for i, n in enumerate(reversed(list(topo.nodes)))}
    relabelled = Topology([Node(rename[n.id], n.role, n.activation, n.aggregation, n.bias, n.dale)
                           for n in reversed(list(topo.nodes.values()))],
                          [Edge(rename[e.src], rename[e.dst], e.weight, e.sign, e.trainable)
                           for e in reversed(list(topo.edges.values()))], warn=False)
    # same input columns: relabelling keeps the input order up to the renaming
    x = torch.randn(4, 3, dtype=torch.float64)
    perm_in = [list(relabelled.inputs).index(rename[i]) for i in topo.inputs]
    perm_out = [list(relabelled.outputs).index(rename[o]) for o in topo.outputs]
    x_relabelled = torch.empty_like(x)
    x_relabelled[:, perm_in] = x
    torch.testing.assert_close(run(relabelled, x_relabelled)[:, perm_out], run(topo, x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", [0, pytest.param(1, marks=pytest.mark.slow), pytest.param(2, marks=pytest.mark.slow)])
@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("aggregation", AGGREGATIONS)
def test_gradcheck_weights_biases_inputs(fused, aggregation, seed):
    topo = random_topology(seed, n_hidden=6, p_edge=0.45, activations=SMOOTH, aggregations=[aggregation],
                           p_sign=0.0, p_frozen=0.0, p_response=0.5)
    net = mpnet.Network(topo, dtype=torch.float64, fused=fused)
    x = torch.randn(3, 3, dtype=torch.float64, requires_grad=True)
    w = net.raw_weight.detach().clone().requires_grad_()
    b = net.bias.detach().clone().requires_grad_()
    fn = lambda x, w, b: net.conv(x.t().contiguous(), net.plan, w, b)
    assert gradcheck(fn, (x, w, b), eps=1e-6, atol=1e-6, rtol=1e-5)


def test_gradcheck_through_the_module_with_signs_and_mixed_aggregations():
    topo = random_topology(11, n_hidden=8, p_edge=0.5, activations=SMOOTH, p_sign=0.5, p_frozen=0.0, p_response=0.5)
    net = mpnet.Network(topo, dtype=torch.float64)
    x = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    assert gradcheck(lambda x: net(x), (x,), eps=1e-6, atol=1e-6, rtol=1e-5)
    raw = net.raw_weight
    params = [raw, net.bias]
    out = net(x.detach()).pow(2).sum()
    grads = torch.autograd.grad(out, params)
    plain = mpnet.Network(topo, dtype=torch.float64, fused=False)
    out2 = plain(x.detach()).pow(2).sum()
    grads2 = torch.autograd.grad(out2, [plain.raw_weight, plain.bias])
    for g, g2 in zip(grads, grads2):
        torch.testing.assert_close(g, g2, rtol=1e-10, atol=1e-12)


def test_reference_activations_match_torch():
    z = torch.linspace(-25, 25, 2001, dtype=torch.float64)
    for name in ACTIVATIONS:
        want = torch.tensor([REFERENCE_ACTIVATIONS[name](v) for v in z.tolist()], dtype=torch.float64)
        torch.testing.assert_close(ACTIVATION_FNS[name].fn(z), want, rtol=1e-12, atol=1e-12, msg=name)


def test_hand_computed_responses():
    # messages 2 and -3 into n (response r = -1.5, bias 0.25): z = r * aggregate + 0.25
    def out(agg):
        topo = Topology.from_edges([("a", "n", 2.0), ("b", "n", -3.0), ("n", "y", 1.0)], inputs=["a", "b"],
                                   outputs=["y"], activation="identity", aggregations={"n": agg},
                                   responses={"n": -1.5}, biases={"n": 0.25})
        return [run(topo, [[1.0, 1.0]], fused).item() for fused in (True, False)]
    expected = {"sum": 1.75, "mean": 1.0, "max": -2.75, "min": 4.75, "product": 9.25, "maxabs": 4.75,
                "median": 1.0}
    for agg, want in expected.items():
        assert out(agg) == [want, want], agg


def test_response_scales_are_exact_in_every_dtype():
    topo = Topology.from_edges([("a", "n", 1.0), ("b", "n", 1.0), ("c", "n", 1.0), ("n", "y", 1.0)],
                               inputs=["a", "b", "c"], outputs=["y"], aggregations={"n": "mean"},
                               responses={"n": 0.1, "y": -0.7})
    net = mpnet.Network(topo, dtype=torch.float64)
    want64 = sorted([0.1 / 3] * 3 + [-0.7])
    assert sorted(net.plan.edge_scale.tolist()) == want64
    net.float()
    want32 = torch.tensor([0.1, 0.1, 0.1, -0.7], dtype=torch.float32) / torch.tensor([3.0, 3.0, 3.0, 1.0])
    assert sorted(net.plan.edge_scale.tolist()) == sorted(want32.tolist())
    net.double()   # back from float32: derived again from the float64 responses, not re-cast
    assert sorted(net.plan.edge_scale.tolist()) == want64
    assert net.plan.response.dtype == torch.float64


@settings(max_examples=25, deadline=None)
@given(seeds=st.lists(st.integers(0, 10**6), min_size=1, max_size=12), batch=st.integers(1, 6))
def test_property_batch_of_graphs_equals_each_graph_alone(seeds, batch):
    topos = [random_topology(s, n_hidden=s % 9, p_edge=0.15 + (s % 7) / 10) for s in seeds]
    x = torch.randn(len(topos), batch, 3, generator=torch.Generator().manual_seed(seeds[0]), dtype=torch.float64)
    together = mpnet.Network(topos, dtype=torch.float64)(x)
    for i, topo in enumerate(topos):
        torch.testing.assert_close(together[i], run(topo, x[i]), rtol=1e-12, atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6), shuffle_seed=st.integers(0, 10**6))
def test_property_invariant_under_relabelling_and_reordering(seed, shuffle_seed):
    import random
    topo = random_topology(seed, n_hidden=8)
    rng = random.Random(shuffle_seed)
    ids = list(topo.nodes)
    new_ids = rng.sample(range(10**6), len(ids))          # int ids this time, in a shuffled order
    rename = dict(zip(ids, new_ids))
    nodes = [Node(rename[n.id], n.role, n.activation, n.aggregation, n.bias, n.dale, n.response)
             for n in topo.nodes.values()]
    inputs = [n for n in nodes if n.role == "input"]
    outputs = [n for n in nodes if n.role == "output"]
    hidden = [n for n in nodes if n.role == "hidden"]
    rng.shuffle(hidden)
    edges = [Edge(rename[e.src], rename[e.dst], e.weight, e.sign, e.trainable) for e in topo.edges.values()]
    rng.shuffle(edges)
    relabelled = Topology(inputs + hidden + outputs, edges, warn=False)   # same input/output column order
    x = torch.randn(5, 3, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    torch.testing.assert_close(run(relabelled, x), run(topo, x), rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------------ the fast levels and their buffers
FAST = ["relu", "tanh", "sigmoid", "identity"]


def fused_and_plain_grads(topo, x, monkeypatch=None, big=False):
    """Gradients of a loss w.r.t. the raw weights, the biases and x, by the fused path and by autograd."""
    out = []
    for fused in (True, False):
        if monkeypatch is not None:
            monkeypatch.setattr("mpnet.engine.state.BIG_STATE", -1 if big else 1 << 22)
        net = mpnet.Network(topo, dtype=torch.float64, fused=fused)
        xi = x.clone().requires_grad_()
        loss = (net(xi) * torch.linspace(-1, 1, len(topo.outputs), dtype=torch.float64)).pow(2).sum()
        out.append(torch.autograd.grad(loss, [net.raw_weight, net.bias, xi]))
    return out


@pytest.mark.parametrize("big", [False, True])
@pytest.mark.parametrize("seed", range(4))
def test_fast_levels_have_the_gradients_of_autograd(seed, big, monkeypatch):
    # sum neurons with in-place activations only: every level is fast; 'big' takes the fused-kernel derivatives
    topo = random_topology(seed, n_hidden=10, p_edge=0.4, activations=FAST, aggregations=["sum", "mean"],
                           p_response=0.3)
    net = mpnet.Network(topo, dtype=torch.float64)
    assert all(mpnet.engine.state.Prebuilt.get(net.plan, net.weight).fast)
    x = torch.randn(6, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    fused, plain = fused_and_plain_grads(topo, x, monkeypatch, big)
    for g, g2 in zip(fused, plain):
        torch.testing.assert_close(g, g2, rtol=1e-10, atol=1e-12)


def test_gradcheck_fast_levels():
    topo = random_topology(3, n_hidden=8, p_edge=0.5, activations=["tanh", "sigmoid", "identity"],
                           aggregations=["sum"], p_sign=0.0, p_frozen=0.0)
    net = mpnet.Network(topo, dtype=torch.float64)
    x = torch.randn(3, 3, dtype=torch.float64, requires_grad=True)
    w = net.raw_weight.detach().clone().requires_grad_()
    b = net.bias.detach().clone().requires_grad_()
    assert gradcheck(lambda x, w, b: net.conv(x.t().contiguous(), net.plan, w, b), (x, w, b), eps=1e-6,
                     atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("fused", [True, False])
def test_one_input_for_every_graph_gets_the_sum_of_their_gradients(fused):
    topos = [random_topology(s, n_hidden=4, p_edge=0.4) for s in range(5)]
    nets = mpnet.Network(topos, dtype=torch.float64, fused=fused)
    x = torch.randn(6, 3, dtype=torch.float64, requires_grad=True)
    (got,) = torch.autograd.grad(nets(x).pow(2).sum(), x)
    want = sum(torch.autograd.grad(mpnet.Network(t, dtype=torch.float64)(x).pow(2).sum(), x)[0] for t in topos)
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
    with torch.no_grad():
        z, h = nets.states(x)
    torch.testing.assert_close(h[:15], x.detach().t().repeat(5, 1))   # every graph's input rows hold x
