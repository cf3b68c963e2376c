"""Network: parameters, sign constraints, frozen edges, Dale neurons, dtype/device, read-back, batching."""
import pytest
import torch

import mpnet
from mpnet.examples import question_network
from mpnet.testing import random_topology, reference_forward
from mpnet.topology import Edge, Node, Topology


def test_question_network_shapes_and_repr():
    net = mpnet.Network(question_network())
    assert isinstance(net, torch.nn.Module)
    assert net(torch.randn(64, 2)).shape == (64, 1)
    assert repr(net) == "Network(graphs=1, nodes=9, edges=10, depth=4, fused=True)"
    assert net.weight.shape == (10,) and net.bias.shape == (7,)   # one per edge, one per non-input neuron


def test_hand_set_network_computes_what_its_author_wrote():
    topo = question_network()
    net = mpnet.Network(topo, dtype=torch.float64)
    x = torch.randn(16, 2, dtype=torch.float64)
    want = torch.tensor(reference_forward(topo, x.tolist()), dtype=torch.float64)
    assert torch.equal(net(x), want) or torch.allclose(net(x), want, rtol=0, atol=1e-15)
    assert net.to_topology() == topo


def test_unset_weights_use_documented_init_and_seed():
    topo = Topology.from_edges([("a", "h"), ("b", "h"), ("c", "h"), ("d", "h"), ("h", "y")],
                               inputs=["a", "b", "c", "d"], outputs=["y"])
    w1 = mpnet.Network(topo, seed=3).weight.detach()
    w2 = mpnet.Network(topo, seed=3).weight.detach()
    w3 = mpnet.Network(topo, seed=4).weight.detach()
    assert torch.equal(w1, w2) and not torch.equal(w1, w3)
    net = mpnet.Network(topo, seed=3)
    into_h = [i for i, (_, e) in enumerate(net._edges) if e.dst == "h"]
    assert net.weight.detach()[into_h].abs().max() <= 0.5            # 1 / sqrt(fan_in = 4)
    assert net.bias.detach().abs().max() == 0                       # biases default to 0


def test_reset_parameters_restores_hand_set_and_redraws_the_same():
    topo = Topology.from_edges([("x", "h", 0.25), ("h", "y")], inputs=["x"], outputs=["y"])
    net = mpnet.Network(topo, seed=1)
    before = net.weight.detach().clone()
    with torch.no_grad():
        net.raw_weight.add_(1.0)
        net.bias.add_(1.0)
    net.reset_parameters()
    assert torch.equal(net.weight.detach(), before) and net.bias.abs().max() == 0


def test_fixed_signs_dale_and_frozen_edges_hold_after_training():
    topo = Topology([Node("x1", "input"), Node("x2", "input"), Node("e", "hidden", "tanh", dale="+"),
                     Node("i", "hidden", "tanh", dale="-"), Node("h", "hidden", "tanh"), Node("y", "output", "identity")],
                    [Edge("x1", "e"), Edge("x2", "e"), Edge("x1", "i"), Edge("x2", "i"), Edge("x1", "h", 0.3),
                     Edge("e", "h", 0.2), Edge("i", "h", -0.2), Edge("e", "y"), Edge("i", "y"),
                     Edge("h", "y", 0.5, sign="+"), Edge("x2", "y", -0.7, trainable=False),
                     Edge("x2", "h", 0.1, sign="-" if False else None)])
    net = mpnet.Network(topo, seed=0)
    X = torch.randn(256, 2)
    Y = -torch.tanh(3 * X[:, :1]) + X[:, 1:] ** 2                   # pushes weights every which way
    mpnet.fit(net, X, Y, epochs=150, lr=0.1, progress=False)
    trained = net.to_topology()
    for (src, dst), edge in trained.edges.items():
        want = topo.edges[(src, dst)].sign
        if want == "+":
            assert edge.weight >= 0, (src, dst)
        if want == "-":
            assert edge.weight <= 0, (src, dst)
    assert trained.edges[("x2", "y")].weight == -0.7                # frozen: the declared number exactly
    w = net.weight.detach()
    frozen_idx = [i for i, (_, e) in enumerate(net._edges) if not e.trainable]
    assert w[frozen_idx].tolist() == [torch.tensor(-0.7).item()]
    assert trained.edges[("e", "y")].weight >= 0 and trained.edges[("i", "y")].weight <= 0


def test_parametrization_has_no_dead_zone_at_zero():
    topo = Topology.from_edges([("x", "y", 0.0)], inputs=["x"], outputs=["y"], signs={("x", "y"): "+"})
    net = mpnet.Network(topo)
    X = torch.linspace(-1, 1, 16).unsqueeze(1)
    mpnet.fit(net, X, 2.0 * X, epochs=200, lr=0.05, progress=False)
    assert net.to_topology().edges[("x", "y")].weight > 1.5         # grew away from 0 on the allowed side


def test_double_and_dtype_errors():
    net = mpnet.Network(question_network()).double()
    assert net.weight.dtype == torch.float64 and net.plan.edge_scale.dtype == torch.float64
    assert net(torch.randn(3, 2, dtype=torch.float64)).dtype == torch.float64
    with pytest.raises(TypeError, match="Expected input of dtype torch.float64"):
        net(torch.randn(3, 2))
    assert net(torch.ones(3, 2, dtype=torch.long)).shape == (3, 1)   # integers are converted


def test_bad_input_shape_names_what_was_expected():
    net = mpnet.Network(question_network())
    with pytest.raises(ValueError, match=r"Expected input of shape \[batch, 2\] \(got \[4, 3\]\)"):
        net(torch.randn(4, 3))


def test_batched_equals_each_alone_and_reads_back():
    topos = [random_topology(s, n_hidden=s % 7, p_edge=0.2 + 0.05 * (s % 9)) for s in range(300)]
    nets = mpnet.Network(topos, dtype=torch.float64)
    assert nets.num_graphs == 300
    x = torch.randn(5, 3, dtype=torch.float64)
    y = nets(x)
    assert y.shape == (300, 5, 2)
    xs = torch.randn(300, 5, 3, dtype=torch.float64)
    ys = nets(xs)
    for i in range(300):   # every one of the 300, with a shared input and with its own input
        torch.testing.assert_close(y[i], mpnet.Network(topos[i], dtype=torch.float64)(x), rtol=1e-12, atol=1e-12)
    for i in range(0, 300, 11):
        torch.testing.assert_close(ys[i], mpnet.Network(topos[i], dtype=torch.float64)(xs[i]), rtol=1e-12, atol=1e-12)
    assert nets.topology(17) == topos[17]
    with pytest.raises(IndexError, match="valid: 0 .. 299"):
        nets.topology(300)


def test_batched_gradients_equal_single_gradients():
    topos = [random_topology(s, n_hidden=5, aggregations=["sum", "mean", "max"]) for s in range(20)]
    nets = mpnet.Network(topos, dtype=torch.float64)
    x = torch.randn(6, 3, dtype=torch.float64)
    nets(x).pow(2).sum().backward()
    grad = nets.raw_weight.grad
    for i in (0, 7, 19):
        single = mpnet.Network(topos[i], dtype=torch.float64)
        single(x).pow(2).sum().backward()
        mine = [j for j, (t, _) in enumerate(nets._edges) if t == i]
        got = dict(zip([nets._edges[j][1].key for j in mine], grad[mine].tolist()))
        want = dict(zip([e.key for _, e in single._edges], single.raw_weight.grad.tolist()))
        assert got == pytest.approx(want, rel=1e-10, abs=1e-12)


def test_mismatched_batch_is_a_clear_error():
    a = Topology.from_edges([("x", "y")], inputs=["x"], outputs=["y"])
    b = Topology.from_edges([("x", "y"), ("x2", "y")], inputs=["x", "x2"], outputs=["y"])
    with pytest.raises(mpnet.TopologyError, match="Topology 1 has 2 inputs and 1 outputs but topology 0 has 1 and 1"):
        mpnet.Network([a, b])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_matches_cpu():
    topo = random_topology(3, n_hidden=20, aggregations=["sum", "mean"])
    cpu = mpnet.Network(topo, dtype=torch.float64)
    gpu = mpnet.Network(topo, dtype=torch.float64).to("cuda")
    x = torch.randn(32, 3, dtype=torch.float64)
    torch.testing.assert_close(gpu(x.cuda()).cpu(), cpu(x))


def test_two_forwards_before_one_backward():
    # the fused path reuses value buffers between passes; nothing saved for backward may alias them
    topo = random_topology(5, n_hidden=8, aggregations=["sum", "mean"])
    net = mpnet.Network(topo, dtype=torch.float64)
    x1, x2 = torch.randn(4, 3, dtype=torch.float64), torch.randn(6, 3, dtype=torch.float64)
    (net(x1).sum() + net(x2).pow(2).sum()).backward()
    both = net.raw_weight.grad.clone()
    net.zero_grad()
    net(x1).sum().backward()
    net(x2).pow(2).sum().backward()
    torch.testing.assert_close(both, net.raw_weight.grad)
