"""Network: parameters, sign constraints, frozen edges, Dale neurons, dtype/device, read-back, batching."""
import pytest
import torch

import mpnet
from mpnet.examples import question_network
from mpnet.testing import random_topology, reference_forward
from mpnet.graph.topology import Edge, Node, Topology


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
    # 126: every (s % 7, s % 9) pair twice (it was 300: 2.4x the time for the same combinations)
    topos = [random_topology(s, n_hidden=s % 7, p_edge=0.2 + 0.05 * (s % 9)) for s in range(126)]
    nets = mpnet.Network(topos, dtype=torch.float64)
    assert nets.num_graphs == 126
    x = torch.randn(5, 3, dtype=torch.float64)
    y = nets(x)
    assert y.shape == (126, 5, 2)
    xs = torch.randn(126, 5, 3, dtype=torch.float64)
    ys = nets(xs)
    for i in range(126):   # every one of the 126, with a shared input and with its own input
        torch.testing.assert_close(y[i], mpnet.Network(topos[i], dtype=torch.float64)(x), rtol=1e-12, atol=1e-12)
    for i in range(0, 126, 5):
        torch.testing.assert_close(ys[i], mpnet.Network(topos[i], dtype=torch.float64)(xs[i]), rtol=1e-12, atol=1e-12)
    assert nets.topology(17) == topos[17]
    with pytest.raises(IndexError, match="valid: 0 .. 125"):
        nets.topology(126)


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


# ------------------------------------------------------------------------------ constructor checks
import copy  # noqa: E402
import pickle  # noqa: E402

from mpnet.errors import ArgumentError, DataError, FormatError, NonFiniteError, SignConflictError  # noqa: E402
from mpnet.testing import best_cpu_seconds  # noqa: E402


@pytest.mark.parametrize("topology, match", [
    ("net.json", r"Expected topology to be a Topology or a list of them \(got a str\) \(a path\? load it first"),
    (42, r"Expected topology to be a Topology or a list of them \(got a int\)"),
    ({"a": 1}, r"\(got a dict\)"),
    ([question_network(), "x"], r"item 1 is a str"),
])
def test_network_names_what_it_was_given(topology, match):
    with pytest.raises(ArgumentError, match=match):
        mpnet.Network(topology)


@pytest.mark.parametrize("kw, match", [
    ({"seed": "a"}, r"Expected seed to be an int in \[-9223372036854775808, 9223372036854775807\] or None \(got "
                r"'a' \(a str\)\)"),
    ({"seed": 1.5}, r"Expected seed to be an int in \[.*\] or None \(got 1\.5\)"),
    ({"fused": "yes"}, r"Expected fused to be True or False \(got 'yes' \(a str\)\)"),
    ({"dtype": torch.float16}, r"got torch.float16\): the sparse products have no half-precision kernel"),
    ({"dtype": torch.int32}, r"got torch.int32\)"),
    ({"dtype": "float32"}, r"got 'float32' \(a str\)\); use torch.float32"),
])
def test_network_arguments_are_checked(kw, match):
    with pytest.raises(ArgumentError, match=match):
        mpnet.Network(question_network(), **kw)


def test_forward_names_a_non_tensor_and_the_topology_index_type():
    net = mpnet.Network(question_network())
    with pytest.raises(ArgumentError, match=r"Expected the input x to be a torch.Tensor of shape \[batch, 2\] \(got "
                                            r"a list\)"):
        net([[1.0, 2.0]])
    with pytest.raises(ArgumentError, match=r"Expected input of dtype torch.float32 \(got torch.float16\)"):
        net(torch.ones(2, 2, dtype=torch.float16))
    with pytest.raises(DataError, match=r"Expected input of shape \[batch, 2\] \(got \[4, 3\]\)"):
        net(torch.ones(4, 3))
    with pytest.raises(ArgumentError, match=r"Expected a topology index, an int in 0 \.\. 0 \(got 'a'\)"):
        net.topology("a")


@pytest.mark.parametrize("kw, match", [
    ({"w": 1e300}, r"The weight of edge 'x' -> 'h' is 1e\+300, which is inf in torch.float32"),
    ({"w": -1e39}, r"The weight of edge 'x' -> 'h' is -1e\+39, which is -inf in torch.float32"),
    ({"b": 1e300}, r"The bias of node 'h' is 1e\+300, which is inf in torch.float32"),
    ({"r": 1e300}, r"The response of node 'h' is 1e\+300, which is inf in torch.float32"),
])
def test_declared_numbers_that_overflow_the_dtype_are_refused(kw, match):
    topo = Topology.from_edges([("x", "h", kw.get("w", 0.5)), ("h", "y", 1.0)], inputs=["x"], outputs=["y"],
                               biases={"h": kw.get("b", 0.0)}, responses={"h": kw.get("r", 1.0)})
    with pytest.raises(NonFiniteError, match=match):
        mpnet.Network(topo)
    net = mpnet.Network(topo, dtype=torch.float64)   # representable in float64: accepted there
    with pytest.raises(NonFiniteError, match="in torch.float32"):
        net.float()


# ------------------------------------------------------------------------------- editing weights
def _signed_topology():
    return Topology([Node("x1", "input"), Node("x2", "input"), Node("e", "hidden", "tanh", dale="+"),
                     Node("h", "hidden", "tanh"), Node("y", "output", "identity")],
                    [Edge("x1", "e", 0.3), Edge("x2", "e"), Edge("x1", "h", 0.2, sign="+"),
                     Edge("x2", "h", -0.4, sign="-"), Edge("e", "y", 0.5), Edge("h", "y", 0.7),
                     Edge("x2", "y", -0.7, trainable=False)])


@pytest.mark.parametrize("signed", [False, True])
def test_in_place_edits_of_net_weight_work_with_and_without_fixed_signs(signed):
    if signed:
        topo = _signed_topology()
    else:
        topo = Topology.from_edges([("x1", "h", 0.3), ("x2", "h", 0.1), ("h", "y", 0.5)], inputs=["x1", "x2"],
                                   outputs=["y"])
    net = mpnet.Network(topo, dtype=torch.float64)
    x = torch.randn(3, 2, dtype=torch.float64)
    with torch.no_grad():
        net.weight[0] = 0.125                      # the temporary net.weight returned is written back
    assert net.weight[0].item() == 0.125
    w = net.weight
    with torch.no_grad():
        w[~net.constraint.frozen] *= 2.0           # a held tensor, edited in place (frozen edges left alone)
    want = net.weight.detach()
    assert want[0].item() == 0.25
    net.weight.data[1] = 0.5                       # .data edits are written back too
    assert net.weight[1].item() == 0.5
    assert net(x).shape == (3, 1) and torch.isfinite(net(x)).all()


def test_edits_against_a_fixed_sign_or_a_frozen_value_are_refused_by_name():
    net = mpnet.Network(_signed_topology(), dtype=torch.float64)
    keys = [k[1:] for k in net.edge_keys]
    neg, frozen = keys.index(("x2", "h")), keys.index(("x2", "y"))
    with torch.no_grad():
        net.weight[neg] = 5.0
    with pytest.raises(SignConflictError, match=r"Cannot set the weight of edge 'x2' -> 'h' to 5\.0: the edge has "
                                                r"fixed sign -"):
        net(torch.ones(1, 2, dtype=torch.float64))
    assert net.weight[neg].item() == -0.4          # refused: nothing changed, and the edit is not retried
    with pytest.raises(SignConflictError, match=r"the edge is frozen at -0\.7 \(trainable=False\)"):
        net.set_weights({("x2", "y"): 1.0})
    with pytest.raises(SignConflictError, match=r"Cannot set the weight of edge 'e' -> 'y' to -1\.0: the edge has "
                                                r"fixed sign \+"):   # e is a Dale '+' neuron
        net.set_weights({("e", "y"): -1.0})
    with pytest.raises(NonFiniteError, match=r"Cannot set the weight of edge 'x1' -> 'e' to nan"):
        net.set_weights({("x1", "e"): float("nan")})
    with pytest.raises(mpnet.errors.UnknownEdgeError, match=r"names edges the network does not have: \[\('a', 'b'\)\]"):
        net.set_weights({("a", "b"): 1.0})
    with pytest.raises(ArgumentError, match=r"Expected weights of shape \[7\]"):
        net.weight = torch.zeros(3)
    assert frozen >= 0


def test_set_weights_and_assignment():
    net = mpnet.Network(_signed_topology(), dtype=torch.float64)
    net.set_weights({("x2", "h"): -2.0, ("h", "y"): 3.0})
    topo = net.to_topology()
    assert topo.edges[("x2", "h")].weight == -2.0 and topo.edges[("h", "y")].weight == 3.0
    values = net.weight.detach().clone()
    values[[k[1:] for k in net.edge_keys].index(("x1", "h"))] = 0.0     # zero is on both sides
    net.weight = values
    assert torch.equal(net.weight.detach(), values)
    nets = mpnet.Network([_signed_topology()] * 2, dtype=torch.float64)
    nets.set_weights({(1, "h", "y"): 9.0})
    assert nets.topology(1).edges[("h", "y")].weight == 9.0 and nets.topology(0).edges[("h", "y")].weight == 0.7


def test_optimizer_still_trains_raw_weight_through_the_sign_map():
    net = mpnet.Network(_signed_topology(), seed=0)
    names = [n for n, _ in net.named_parameters()]
    assert names == ["raw_weight", "bias"] and list(net.state_dict()) == ["raw_weight", "bias"]
    net.weight.sum().backward()
    assert net.raw_weight.grad is not None and net.raw_weight.grad.shape == net.raw_weight.shape


# ------------------------------------------------------------------------------------- save and load
ALL_CONSTRAINTS = _signed_topology  # free, fixed +, fixed -, Dale +, frozen, unset and hand-set weights


def _trained(topos, dtype):
    net = mpnet.Network(topos, dtype=dtype, seed=3)
    X = torch.randn(32, 2, dtype=dtype)
    mpnet.fit(net, X, torch.sin(X.sum(1, keepdim=True)), epochs=5, lr=0.05, progress=False)
    return net


def _assert_same(a, b, seed=True):
    assert type(b) is mpnet.Network and a.batched == b.batched and (a.seed == b.seed or not seed)
    assert a.raw_weight.dtype == b.raw_weight.dtype
    assert torch.equal(a.raw_weight, b.raw_weight) and torch.equal(a.bias, b.bias)     # bit for bit
    assert torch.equal(a.weight, b.weight)
    assert a.to_topology() == b.to_topology() and a.topologies == b.topologies
    assert torch.equal(a.constraint.sign, b.constraint.sign) and torch.equal(a.constraint.frozen, b.constraint.frozen)
    x = torch.randn(4, 2, dtype=a.bias.dtype)
    assert torch.equal(a(x), b(x))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("batched", [False, True])
def test_save_load_round_trip_is_exact(tmp_path, dtype, batched):
    topos = ALL_CONSTRAINTS()
    if batched:
        topos = [ALL_CONSTRAINTS(), Topology.from_edges([("a", "h"), ("b", "h"), ("h", "y", -0.5)], inputs=["a", "b"],
                                                        outputs=["y"], signs={("h", "y"): "-"}, dale={"a": "+"})]
    net = _trained(topos, dtype)
    net.eval()
    net.save(tmp_path / "net.mpnet")
    back = mpnet.Network.load(tmp_path / "net.mpnet")
    _assert_same(net, back)
    assert back.training is False
    assert not (tmp_path / "net.mpnet.tmp").exists()


def test_torch_save_deepcopy_and_pickle(tmp_path):
    net = _trained(ALL_CONSTRAINTS(), torch.float64)
    net(torch.randn(2, 2, dtype=torch.float64))      # caches built (sparse matrices): not pickled
    torch.save(net, tmp_path / "whole.pt")
    _assert_same(net, torch.load(tmp_path / "whole.pt"))                       # weights_only=True, torch's default
    _assert_same(net, torch.load(tmp_path / "whole.pt", weights_only=False))
    _assert_same(net, copy.deepcopy(net))
    _assert_same(net, pickle.loads(pickle.dumps(net)))
    sd = net.state_dict()
    fresh = mpnet.Network(ALL_CONSTRAINTS(), dtype=torch.float64)
    fresh.load_state_dict(sd)
    _assert_same(net, fresh, seed=False)


def test_load_refuses_what_is_not_a_saved_network(tmp_path):
    question_network().save(tmp_path / "topo.json")
    with pytest.raises(FormatError, match=r"topo\.json is not a network saved by Network\.save \(torch\.load:"):
        mpnet.Network.load(tmp_path / "topo.json")
    net = _trained(ALL_CONSTRAINTS(), torch.float64)
    net.save(tmp_path / "net.mpnet")
    data = (tmp_path / "net.mpnet").read_bytes()
    (tmp_path / "cut.mpnet").write_bytes(data[:len(data) // 2])
    with pytest.raises(FormatError, match=r"cut\.mpnet is not a network saved by Network\.save"):
        mpnet.Network.load(tmp_path / "cut.mpnet")
    payload = torch.load(tmp_path / "net.mpnet", weights_only=True)
    del payload["checksum"]   # each field's own check, as on a file saved before checksums (test_payload.py)
    for change, match in [(lambda p: p.update(format="x"), r"is not a saved mpnet network \(format 'x'"),
                          (lambda p: p.update(version=9), r"network format version 9 is not supported"),
                          (lambda p: p.update(raw_weight=p["raw_weight"][:3]), r"the field 'raw_weight' is a "
                           r"torch.float64 tensor of shape \[3\]; the topologies need torch.float64 of shape \[7\]"),
                          (lambda p: p["bias"].__setitem__(0, float("nan")), r"the field 'bias' holds nan at entry 0"),
                          (lambda p: p.pop("fused"), r"the field 'fused' is missing"),
                          (lambda p: p.update(topologies="[{]"), r"the field 'topologies' is not valid JSON"),
                          (lambda p: p.update(topologies='[{"format": "mpnet.topology", "version": 1, "nodes": [], '
                                                         '"edges": 5}]'), r"topologies\[0\]: edges is an int")]:
        p = {k: (v.clone() if isinstance(v, torch.Tensor) else v) for k, v in payload.items()}
        change(p)
        torch.save(p, tmp_path / "bad.mpnet")
        with pytest.raises(FormatError, match=match):
            mpnet.Network.load(tmp_path / "bad.mpnet")
    with pytest.raises(FileNotFoundError, match="No saved network at"):
        mpnet.Network.load(tmp_path / "nowhere.mpnet")
    with pytest.raises(FileNotFoundError, match=r"directory .* does not exist"):
        net.save(tmp_path / "no" / "net.mpnet")


# ------------------------------------------------------------------------------------- scaling
@pytest.mark.slow   # a timing check, ~5 CPU s; CI runs it (.ci/run)
def test_batched_to_topology_is_linear_in_the_number_of_topologies():
    """Doubling the batch must not more than triple the time (it was quadratic: every topology read all the
    weights; there the ratio was 4). CPU time at sizes where the quadratic part dominated."""
    topos = [mpnet.sample.random_dag(3, 2, 4, avg_in_degree=2.0, seed=s) for s in range(3000)]
    small, large = mpnet.Network(topos[:1500]), mpnet.Network(topos)
    t_small, t_large = best_cpu_seconds(small.to_topology, large.to_topology, repeats=3)
    assert t_large < 3 * t_small, f"to_topology: {t_small:.3f} s for 1,500 topologies, {t_large:.3f} s for 3,000"


# ------------------------------------------------------------------------------- hostile arguments
def _small():
    return mpnet.Network(Topology.from_edges([("x", "h", 0.5), ("h", "y", 1.0)], inputs=["x"], outputs=["y"]), seed=0)


@pytest.mark.parametrize("value, error, match", [
    (True, ArgumentError, r"the weight of edge \('x', 'h'\) is True; expected a number"),
    ("0.5", ArgumentError, r"the weight of edge \('x', 'h'\) is '0.5' \(a str\); expected a number"),
    ([1.0], ArgumentError, r"is \[1.0\] \(a list\); expected a number"),
    (10 ** 400, NonFiniteError, r"is an int of 401 digits, beyond the float range"),
])
def test_set_weights_refuses_values_that_are_not_numbers(value, error, match):
    net = _small()
    with pytest.raises(error, match=match):
        net.set_weights({("x", "h"): value})
    net.set_weights({("x", "h"): torch.tensor(0.25)})       # a 0-d tensor is a number
    assert net.weight.tolist() == [0.25, 1.0]


@pytest.mark.parametrize("values, match", [
    (torch.tensor([True, False]), r"Expected the weights as real numbers \(got dtype torch.bool\)"),
    (["a", "b"], r"Expected the weights as numbers, one per edge \(got \['a', 'b'\] \(a list\)"),
    (None, r"Expected the weights as a tensor \[2\] .* or a mapping \{\(src, dst\): weight\} \(got None\)"),
    ("ab", r"\(got 'ab' \(a str\)\)"),
])
def test_set_weights_refuses_a_tensor_of_something_else(values, match):
    with pytest.raises(ArgumentError, match=match):
        _small().set_weights(values)


def test_weight_and_bias_overrides_are_checked_once_per_call():
    net, x = _small(), torch.ones(3, 1)
    with pytest.raises(ArgumentError, match=r"Expected weight= as a tensor \[2\] \(one effective weight per edge, in "
                                            r"net.edge_keys order\), torch.float32 on cpu \(got \[5\] torch.float32"):
        net(x, weight=torch.ones(5))
    with pytest.raises(ArgumentError, match=r"Expected bias= as a tensor \[2\] .* \(got a list\)"):
        net(x, bias=[0.0, 0.0])
    with pytest.raises(ArgumentError, match=r"\(got \[2\] torch.float64 on cpu\)"):
        net.states(x, weight=torch.ones(2, dtype=torch.float64))
    assert net(x, weight=torch.tensor([1.0, 2.0])).tolist() == [[2.0]] * 3


def test_a_device_this_torch_lacks_is_named_before_building():
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ArgumentError, match=r"device='cuda' asks for CUDA, but this torch sees no CUDA device"):
        mpnet.Network(question_network(), device="cuda")
    with pytest.raises(ArgumentError, match=r"Invalid device 'gpu'"):
        mpnet.Network(question_network(), device="gpu")


def test_load_checks_the_device_too(tmp_path):
    net = _small()
    net.save(tmp_path / "n.mpnet")
    with pytest.raises(ArgumentError, match=r"Invalid device 'banana'"):
        mpnet.Network.load(tmp_path / "n.mpnet", device="banana")
    assert mpnet.Network.load(tmp_path / "n.mpnet", device="cpu").weight.tolist() == net.weight.tolist()


def test_a_seed_beyond_64_bits_is_an_argument_error():
    with pytest.raises(ArgumentError, match=r"Expected seed to be an int in \[.*\] or None \(got "
                                            r"1180591620717411303424\)"):
        mpnet.Network(question_network(), seed=2 ** 70)
