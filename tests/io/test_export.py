"""export: StaticNetwork equals the Network it snapshots; TorchScript, torch.export and ONNX (onnxruntime)
models equal the Network to float32 round-off."""
import warnings

import pytest
import torch

import mpnet
from mpnet import Network, Topology
from mpnet.io.export import StaticNetwork, to_onnx, to_torch_export, to_torchscript
from mpnet.testing import random_topology
from mpnet.graph.topology import ACTIVATIONS, AGGREGATIONS


def every_function_topology() -> Topology:
    """One hidden neuron per activation, the aggregations in turn, some responses: depth 3."""
    edges, acts, aggs, responses = [], {}, {}, {}
    for i, act in enumerate(ACTIVATIONS):
        h = f"h{i}"
        acts[h], aggs[h], responses[h] = act, AGGREGATIONS[i % len(AGGREGATIONS)], [1.0, -0.5, 2.0][i % 3]
        edges += [("x0", h, 0.3 + 0.01 * i), ("x1", h, -0.7), ("x2", h, 0.2 * (i % 3) - 0.2),
                  (h, "g", 0.05 * (i % 5) - 0.1), (h, "y0", 0.1), (h, "y1", -0.05 * (i % 4))]
    edges += [("g", "y1", 0.5), ("x0", "y1", 1.0)]
    acts["g"], aggs["g"] = "tanh", "median"
    return Topology.from_edges(edges, inputs=["x0", "x1", "x2"], outputs=["y0", "y1"], activations=acts,
                               aggregations=aggs, responses=responses, biases={"h5": 0.3, "g": -0.1},
                               aggregation="maxabs")


def outputs(net, x):
    with torch.no_grad():
        return net(x)


@pytest.mark.parametrize("seed", range(30))
def test_static_network_equals_network(seed):
    topo = random_topology(seed, n_hidden=seed % 12, p_edge=0.4, p_response=0.3)
    x = torch.randn(6, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    net = Network(topo, dtype=torch.float64)
    torch.testing.assert_close(outputs(StaticNetwork(net), x), outputs(net, x), rtol=1e-12, atol=1e-12,
                               equal_nan=True)
    net32 = Network(topo)
    torch.testing.assert_close(outputs(StaticNetwork(net32), x.float()), outputs(net32, x.float()),
                               rtol=1e-5, atol=1e-5, equal_nan=True)


def test_static_network_of_a_batch_and_its_repr():
    net = Network([random_topology(s, n_hidden=5, p_response=0.3) for s in range(4)], dtype=torch.float64)
    static = StaticNetwork(net)
    x = torch.randn(9, 3, dtype=torch.float64)
    torch.testing.assert_close(outputs(static, x), outputs(net, x), rtol=1e-12, atol=1e-12)
    assert outputs(static, x).shape == (4, 9, 2)
    assert repr(static) == f"StaticNetwork(graphs=4, inputs=3, outputs=2, depth={len(net.plan.levels)})"
    assert not list(static.parameters())   # a snapshot: buffers only


def test_static_network_is_a_snapshot():
    net = Network(random_topology(3, n_hidden=6))
    static = StaticNetwork(net)
    x = torch.randn(4, 3)
    before = outputs(net, x)
    with torch.no_grad():
        net.bias.add_(1.0)
    torch.testing.assert_close(outputs(static, x), before, rtol=1e-5, atol=1e-6)


def test_torchscript_file_equals_the_trained_network(tmp_path):
    topo = every_function_topology()
    net = Network(topo, seed=0)
    X = torch.randn(128, 3)
    mpnet.fit(net, X, X[:, :2].tanh(), epochs=3, lr=0.01)
    to_torchscript(net, tmp_path / "model.pt")
    loaded = torch.jit.load(str(tmp_path / "model.pt"))
    for batch in (1, 5, 300):   # any batch size, not only the traced one
        x = torch.randn(batch, 3) * 2
        torch.testing.assert_close(outputs(loaded, x), outputs(net, x), rtol=1e-5, atol=1e-5)


@pytest.mark.slow   # ~4 CPU s (torch.export's first use); CI runs it in its slow step (.ci/run)
def test_torch_export_program_equals_the_network(tmp_path):
    net = Network([random_topology(s, n_hidden=4, p_response=0.3) for s in range(3)], dtype=torch.float64)
    to_torch_export(net, tmp_path / "model.pt2")
    program = torch.export.load(str(tmp_path / "model.pt2"))
    for batch in (1, 7):
        x = torch.randn(batch, 3, dtype=torch.float64)
        torch.testing.assert_close(outputs(program.module(), x), outputs(net, x), rtol=1e-12, atol=1e-12)


@pytest.mark.slow   # ~9 CPU s (onnx's imports and the dynamo export); CI runs it in its slow step (.ci/run)
def test_onnx_model_equals_the_network(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    net = Network(every_function_topology(), dtype=torch.float64)   # written as float32
    to_onnx(net, tmp_path / "model.onnx")
    assert [p.name for p in tmp_path.iterdir()] == ["model.onnx"]   # one file: no empty model.onnx.data beside
    session = ort.InferenceSession(str(tmp_path / "model.onnx"))
    for batch in (1, 64):
        x = torch.randn(batch, 3) * 2
        (y,) = session.run(None, {"x": x.numpy()})
        torch.testing.assert_close(torch.from_numpy(y), outputs(net.float(), x), rtol=1e-5, atol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(3))
def test_onnx_model_of_a_random_batch(tmp_path, seed):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    net = Network([random_topology(seed * 10 + s, n_hidden=10, p_response=0.3) for s in range(4)])
    to_onnx(net, tmp_path / "model.onnx")
    session = ort.InferenceSession(str(tmp_path / "model.onnx"))
    x = torch.randn(33, 3)
    (y,) = session.run(None, {"x": x.numpy()})
    torch.testing.assert_close(torch.from_numpy(y), outputs(net, x), rtol=1e-5, atol=1e-5, equal_nan=True)


@pytest.mark.slow
def test_onnx_weights_past_the_one_file_limit_go_beside_the_model(tmp_path, monkeypatch):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    import mpnet.io.export as export
    monkeypatch.setattr(export, "_ONE_FILE_BYTES", 0)   # as if the weights were past 1 GiB
    hidden = [f"h{i}" for i in range(120)]   # 360 first-level weights: a tensor big enough for onnx to move out
    edges = [(x, h, 0.01 * i - 0.6) for i, h in enumerate(hidden) for x in ("x0", "x1", "x2")]
    net = Network(Topology.from_edges(edges + [(h, "y", 0.01) for h in hidden], inputs=["x0", "x1", "x2"],
                                      outputs=["y"]))
    to_onnx(net, tmp_path / "model.onnx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx", "model.onnx.data"]
    assert (tmp_path / "model.onnx.data").stat().st_size >= 360 * 4
    x = torch.randn(5, 3)
    (y,) = ort.InferenceSession(str(tmp_path / "model.onnx")).run(None, {"x": x.numpy()})
    torch.testing.assert_close(torch.from_numpy(y), outputs(net.float(), x), rtol=1e-5, atol=1e-5)


def test_onnx_without_the_extra_says_what_to_install(monkeypatch, tmp_path):
    import builtins
    real_import = builtins.__import__

    def no_onnxscript(name, *args, **kw):
        if name == "onnxscript":
            raise ImportError("No module named 'onnxscript'")
        return real_import(name, *args, **kw)

    monkeypatch.setattr(builtins, "__import__", no_onnxscript)
    with pytest.raises(ImportError, match=r"needs the package 'onnx(script)?': pip install \"mpnet\[onnx\]\""):
        to_onnx(Network(random_topology(0, n_hidden=2)), tmp_path / "m.onnx")


# ------------------------------------------------------------------------------------------ recurrent
from mpnet.io.export import StaticRecurrent   # noqa: E402


def recurrent_net(kind, dtype=torch.float64, graphs=3, time_step=0.03):
    topos = [random_topology(s, n_hidden=5, p_edge=0.35, p_response=0.3, recurrent=kind, max_weight=0.6)
             for s in range(graphs)]
    timing = dict(advance_time=0.1, time_step=time_step) if kind == "ctrnn" else {}
    return Network(topos, dtype=dtype, seed=0, **timing)


def state_args(net, kind, x, h):
    return (x, h) if kind is True else (x, h, torch.randn_like(h))


@pytest.mark.parametrize("kind", [True, "ctrnn"])
def test_static_recurrent_equals_the_network_with_its_state(kind):
    net = recurrent_net(kind)
    x = torch.randn(5, 4, 3, dtype=torch.float64)
    h = torch.randn(net.plan.num_nodes, 4, dtype=torch.float64)
    args = state_args(net, kind, x, h)
    from mpnet.engine.recurrent import RecurrentState
    state = RecurrentState(h, args[2] if kind == "ctrnn" else None)
    static = StaticRecurrent(net, 5)
    with torch.no_grad():
        want, after = net(x, state, return_state=True)
        got = static(*args)
    torch.testing.assert_close(got[0], want, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(got[1], after.h, rtol=1e-12, atol=1e-12)
    if kind == "ctrnn":
        torch.testing.assert_close(got[2], after.previous, rtol=1e-12, atol=1e-12)
    assert repr(static).startswith("StaticRecurrent(graphs=3, inputs=3, outputs=2, steps=5")
    assert not list(static.parameters())


# slow (~6 CPU s each; CI runs them, .ci/run). The default set keeps the module these files hold compared with the
# network (test_static_recurrent_equals_the_network_with_its_state, ctrnn included) and a recurrent one traced
# (test_a_traced_recurrent_model_refuses_other_steps_widths_and_states)
@pytest.mark.slow
@pytest.mark.parametrize("kind", [True, "ctrnn"])
def test_recurrent_torchscript_and_torch_export_for_fixed_steps(kind, tmp_path):
    net = recurrent_net(kind, graphs=2, time_step=0.05)
    to_torchscript(net, tmp_path / "model.pt", steps=3)
    loaded = torch.jit.load(str(tmp_path / "model.pt"))
    program = to_torch_export(net, tmp_path / "model.pt2", steps=3)
    for batch in (1, 6):
        x = torch.randn(3, batch, 3, dtype=torch.float64)
        h = torch.zeros(net.plan.num_nodes, batch, dtype=torch.float64)
        want = outputs(net, x)
        args = (x, h) if kind is True else (x, h, h)
        torch.testing.assert_close(loaded(*args)[0], want, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(program.module()(*args)[0], want, rtol=1e-12, atol=1e-12)


@pytest.mark.slow   # ~5.5 CPU s each (CI runs them, .ci/run); a recurrent trace stays in the default run below
@pytest.mark.parametrize("kind", [True, "ctrnn"])
def test_recurrent_onnx_model_equals_the_network(tmp_path, kind):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    net = recurrent_net(kind, dtype=torch.float32, graphs=1, time_step=0.05)
    to_onnx(net, tmp_path / "model.onnx", steps=2)
    session = ort.InferenceSession(str(tmp_path / "model.onnx"))
    x = torch.randn(2, 5, 3)
    h = torch.zeros(net.plan.num_nodes, 5)
    feeds = {"x": x.numpy(), "h": h.numpy(), **({"previous": h.numpy()} if kind == "ctrnn" else {})}
    y, h_out = session.run(None, feeds)[:2]
    with torch.no_grad():
        want, state = net(x, return_state=True)
    torch.testing.assert_close(torch.from_numpy(y), want, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(torch.from_numpy(h_out), state.h, rtol=1e-5, atol=1e-5)


def test_recurrent_export_errors():
    net = recurrent_net(True)
    with pytest.raises(ValueError, match="exports for a fixed number of inputs: give steps="):
        to_torchscript(net)
    with pytest.raises(ValueError, match="steps is for recurrent networks"):
        to_torchscript(Network(random_topology(0, n_hidden=2)), steps=3)
    with pytest.raises(ValueError, match=r"Expected steps to be an int in \[1, 100000\] \(got 0\)"):
        StaticRecurrent(net, 0)
    with pytest.raises(ValueError, match="StaticRecurrent exports a recurrent network"):
        StaticRecurrent(Network(random_topology(0, n_hidden=2)), 2)


# ------------------------------------------------------------------------------ hostile exports
def _nan_weight(net):
    with torch.no_grad():
        net.raw_weight[0] = float("nan")
    return net


@pytest.mark.parametrize("export", [to_torchscript, to_torch_export, StaticNetwork])
def test_a_network_with_a_non_finite_weight_or_bias_is_not_exported(export):
    from mpnet.errors import NonFiniteError
    net = _nan_weight(Network(random_topology(0, n_hidden=2), seed=0))
    edge = net.edge_keys[0]
    with pytest.raises(NonFiniteError, match=rf"Cannot export: the weight of edge {edge[1]!r} -> {edge[2]!r} is nan"):
        export(net)
    net = Network(random_topology(0, n_hidden=2), seed=0)
    with torch.no_grad():
        net.bias[1] = float("inf")
    with pytest.raises(NonFiniteError, match=rf"the bias of node {net.rows[net.plan.num_inputs + 1][1]!r} is inf"):
        export(net)


def test_onnx_refuses_a_weight_its_dtype_cannot_hold(tmp_path):
    pytest.importorskip("onnxscript")
    from mpnet.errors import ArgumentError, NonFiniteError
    topo = Topology.from_edges([("x", "h", 1e300), ("h", "y", 1.0)], inputs=["x"], outputs=["y"])
    net = Network(topo, dtype=torch.float64)
    with pytest.raises(NonFiniteError, match=r"the weight of edge 'x' -> 'h' is inf in torch.float32 \(the model's "
                                             r"dtype\).*or export in torch.float64"):
        to_onnx(net, tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()
    with pytest.raises(ArgumentError, match=r"Expected dtype to be torch.float16, torch.float32 or torch.float64 "
                                            r"\(got 'float32'\)"):
        to_onnx(net, tmp_path / "m.onnx", dtype="float32")


def test_a_traced_model_refuses_an_input_of_another_width(tmp_path):
    net = Network(random_topology(0, n_hidden=2), seed=0)            # 3 inputs
    traced = to_torchscript(net, tmp_path / "m.pt")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        loaded = torch.jit.load(str(tmp_path / "m.pt"))
    for model in (traced, loaded):
        for x in (torch.ones(4, 4), torch.ones(4, 2), torch.ones(4), torch.ones(2, 4, 3)):
            with pytest.raises(torch.jit.Error, match=r"Expected x of shape \[-1, 3\] \(-1: any batch size\) \(got "
                                                   rf"\[{', '.join(map(str, x.shape))}\]\)"):
                model(x)
        torch.testing.assert_close(model(torch.ones(5, 3)), net(torch.ones(5, 3)).detach())
    from mpnet.errors import ArgumentError
    with pytest.raises(ArgumentError, match=r"Expected x of shape \[-1, 3\]"):
        StaticNetwork(net)(torch.ones(4, 4))


def test_a_traced_recurrent_model_refuses_other_steps_widths_and_states():
    net = recurrent_net(True)
    N, n_in = net.plan.num_nodes, net.plan.n_in
    traced = to_torchscript(net, steps=3)
    h = torch.zeros(N, 2)
    for x, state, what in ((torch.ones(5, 2, n_in), h, r"Expected x of shape \[3, -1, " + str(n_in)),
                           (torch.ones(1, 2, n_in), h, r"Expected x of shape \[3, -1"),
                           (torch.ones(3, 2, n_in + 1), h, r"Expected x of shape"),
                           (torch.ones(3, 2, n_in), torch.zeros(N + 1, 2), rf"state of shape \[{N}, batch\]"),
                           (torch.ones(3, 2, n_in), torch.zeros(N, 3), rf"state of shape \[{N}, batch\] with the "
                                                                      r"batch of x")):
        with pytest.raises(torch.jit.Error, match=what):
            traced(x, state)
    with pytest.raises(ValueError, match=r"Expected steps to be an int in \[1, 100000\] \(got True\)"):
        to_torchscript(net, steps=True)


def test_a_ctrnn_export_unrolling_past_the_bound_is_refused():
    net = recurrent_net("ctrnn")
    with pytest.raises(ValueError, match=r"steps=1000 inputs .* unroll into 1e\+06 integration steps; an export "
                                         r"unrolls at most 100,000"):
        StaticRecurrent(net, 1000, advance_time=1.0, time_step=0.001)
