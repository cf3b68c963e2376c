"""Sign inference on recurrent wirings (discrete-time and ctrnn): sequences in, the same test, evidence, verify
and design out; what cannot work refused by name."""
import pytest
import torch

import mpnet
from mpnet import Topology, infer_signs
from mpnet.signs import Effort, SignReport, design, multistart, verify
from mpnet.signs.verify import run_sequences
from mpnet.testing import reference_ctrnn, reference_recurrent

SMALL = Effort(starts=8, keep=2, islands=1, pool=1, redraws=1, rounds=1, hop_iters=40, polish_iters=150,
               explore_iters=40, smooth=())


def teacher(edges, recurrent=True, activation="relu", biases=None, n=120, steps=6, noise=0.01, seed=0, **times):
    """The teacher's own Network simulates ``n`` random sequences; ``noise`` x the std of Y added."""
    topo = Topology.from_edges(edges, inputs=["x"], outputs=["y"], activation=activation,
                               output_activation="identity", recurrent=recurrent, warn=False)
    topo = topo.with_weights({}, biases or {})
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, steps, 1, generator=g, dtype=torch.float64)
    with torch.no_grad():
        Y = mpnet.Network(topo, dtype=torch.float64, **times)(X.transpose(0, 1)).transpose(0, 1)
    Y = Y + noise * Y.std() * torch.randn(Y.shape, generator=g, dtype=torch.float64)
    wiring = Topology.from_edges([e[:2] for e in edges], inputs=["x"], outputs=["y"], activation=activation,
                                 output_activation="identity", recurrent=recurrent, warn=False)
    return topo, wiring, X, Y


LOOP = [("x", "h", 1.2), ("h", "h", 0.6), ("h", "y", -0.9)]


@pytest.mark.slow
def test_a_tanh_self_loop_keeps_its_sign_under_the_neurons_flip():
    # a tanh neuron flips its in- and out-edges together; its self-loop carries -h into -z, so its sign is
    # absolute: called, not relative to the reference edge
    _, wiring, X, Y = teacher([("x", "h", 1.0), ("h", "h", -0.7), ("h", "y", 1.0)], activation="tanh")
    report = infer_signs(wiring, X, Y, effort=SMALL, seed=0)
    loop = report[("h", "h")]
    assert loop.sign == "-" and loop.relative == "" and loop.identifiable
    assert report[("h", "y")].relative == "+" and report[("h", "y")].sign == "?"


def test_last_step_targets_and_a_ctrnn_are_fitted_to_the_floor():
    times = {"advance_time": 0.5, "time_step": 0.25}
    _, wiring, X, Y = teacher(LOOP, recurrent="ctrnn", n=80, steps=5, **times)
    fit = multistart(wiring, X, Y[:, -1], effort=SMALL, seed=0, **times)
    assert fit.sequences.last and fit.sequences.network_type == "ctrnn"
    assert fit.floor_ratio < 1.5
    net = fit.network(dtype=torch.float64)          # the ctrnn's times come with it
    with torch.no_grad():
        last = net(X.transpose(0, 1))[-1]
    assert float((last - Y[:, -1]).pow(2).mean()) == pytest.approx(fit.best_loss, rel=1e-9)


def _sequences(topo, X, **times):
    if times:
        return torch.tensor([reference_ctrnn(topo, x.tolist(), times["advance_time"], times["time_step"])[0]
                             for x in X], dtype=torch.float64)
    return torch.tensor([reference_recurrent(topo, x.tolist())[0] for x in X], dtype=torch.float64)


@pytest.mark.parametrize("kind", ["recurrent", "ctrnn"])
def test_verifys_float64_loop_is_the_testing_reference(kind):
    times = {"advance_time": 0.3, "time_step": 0.2} if kind == "ctrnn" else {}
    topo = mpnet.testing.random_topology(3, n_inputs=2, n_outputs=2, n_hidden=4, recurrent=True if kind ==
                                         "recurrent" else "ctrnn", p_sign=0.0, p_frozen=0.0,
                                         activations=["tanh", "relu", "sigmoid"], aggregations=["sum", "max"])
    X = torch.randn(5, 7, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    trace = run_sequences(topo, X, {"network_type": kind, **times})
    mine = torch.stack([trace[o] for o in topo.outputs], 2)
    assert torch.allclose(mine, _sequences(topo, X, **times), rtol=0, atol=1e-12)


@pytest.mark.slow
def test_a_recurrent_relu_teacher_has_its_signs_called_right_and_verified(tmp_path):
    # h(t) = relu(1.2 x(t) + 0.6 h(t - 1)), y(t) = -0.9 h(t - 1): the self-loop's memory and the kink of h are in
    # the data, and every neuron starts at 0, so no flip of h fits as well
    edges = LOOP + [("x", "b", -0.8), ("b", "b", 0.3)]          # b reaches no output: its signs stay open
    _, wiring, X, Y = teacher(edges, biases={"b": 0.2})
    report = infer_signs(wiring, X, Y, effort=SMALL, seed=0)
    assert {row.key: row.sign for row in report.edges} == {("x", "h"): "+", ("h", "h"): "+", ("h", "y"): "-",
                                                           ("x", "b"): "?", ("b", "b"): "?"}
    assert report.extra["sequences"] == {"steps": 6, "last": False, "network_type": "recurrent",
                                         "advance_time": None, "time_step": None}
    assert report.floor_ratio < 1.5
    # verify: the report read back from JSON is confirmed; a tampered witness is rejected
    path = tmp_path / "report.json"
    report.to_json(path)
    back = SignReport.read_json(path)
    checked = verify(back, X, Y)
    assert checked.all_confirmed and len(checked.checks) == 6
    assert back[("x", "b")].sign == "?" and "reaches no output" in back[("x", "b")].reason
    # a witness whose other weights were changed no longer has the stated loss
    w = back.witnesses[("h", "y")]
    back.witnesses[("h", "y")] = w.with_weights({("x", "h"): w.edges[("x", "h")].weight * 1.5})
    bad = verify(back, X, Y)
    assert [c.edge for c in bad.rejected] == ["h->y"]
    assert "the witness's loss is" in bad.rejected[0].detail
    with pytest.raises(ValueError, match=r"Expected the report's sequences: X \[n, 6, 1\] and Y \[120, 6, 1\]"):
        verify(report, X[:, :5], Y)
    # design: record b over time decides b's open signs; stimulating b changes no output
    suggestions = design(report, X, budget=3)
    assert [(s.kind, s.target) for s in suggestions] == [("record", "b")]
    assert set(suggestions[0].decides) == {("x", "b"), ("b", "b")}
    probe = design(report, X, kinds=("probe",), budget=1, points=4, candidates=64)
    assert all(s.target.shape == (4, 6, 1) for s in probe)
    with pytest.raises(ValueError, match=r"Expected X to be finite, \[n, 6, 1\], the report's input sequences"):
        design(report, X[:, 0])


def test_bad_sequences_and_arguments_are_refused_by_name():
    topo, wiring, X, Y = teacher(LOOP, n=8, steps=3)
    with pytest.raises(ValueError, match=r"Expected X of shape \[n, steps, 1\] for a recurrent wiring"):
        infer_signs(wiring, X[:, 0], Y[:, 0])
    with pytest.raises(ValueError, match=r"Expected Y of shape \[8, 3, 1\] \(a target per step\) or \[8, 1\]"):
        infer_signs(wiring, X, Y[:, :2])
    bad = X.clone()
    bad[2, 1, 0] = float("nan")
    with pytest.raises(ValueError, match=r"X.*sequence 2.*step 1, input x"):
        infer_signs(wiring, bad, Y)
    with pytest.raises(ValueError, match=r"advance_time and time_step are for ctrnn wirings"):
        infer_signs(wiring, X, Y, advance_time=1.0, time_step=0.1)
    ctrnn = Topology.from_edges([e[:2] for e in LOOP], inputs=["x"], outputs=["y"], recurrent="ctrnn")
    with pytest.raises(ValueError, match=r"A ctrnn wiring needs advance_time and time_step"):
        infer_signs(ctrnn, X, Y)
    with pytest.raises(ValueError, match=r"time_step=.* is more than twice the time constant"):
        infer_signs(ctrnn, X, Y, advance_time=10.0, time_step=5.0, effort=SMALL)
    with pytest.raises(ValueError, match=r"observed= \(recordings of hidden neurons\) is not taken for a recurrent"):
        infer_signs(wiring, X, Y, observed={"h": torch.zeros(8)})
    with pytest.raises(ValueError, match=r"the ensemble vote fits feed-forward wirings"):
        infer_signs(wiring, X, Y, method="ensemble", advance_time=1.0)
    with pytest.raises(ValueError, match=r"Expected a feed-forward wiring \(got a recurrent one\)"):
        infer_signs(wiring, X, Y, method="ensemble")


def tied(weights, g=None):
    """x drives a and b through one tied weight g; a gap-like group "k" (fixed +) couples b into a twice."""
    from mpnet.graph.elements import Edge, Node
    from mpnet.graph.ties import Tie
    nodes = [Node("x", role="input"), Node("a", bias=0.1), Node("b", bias=-0.3),
             Node("y", role="output", activation="identity")]
    edges = [Edge("x", "a", tie="g"), Edge("x", "b", tie="g"), Edge("a", "y", weights.get("ay")),
             Edge("b", "y", weights.get("by")), Edge("a", "a", weights.get("aa")), Edge("b", "a", tie="k"),
             Edge("y", "a", tie=(("k", 0.5),))]
    return Topology(nodes, edges, recurrent=True, ties=[Tie("g", weight=g), Tie("k", sign="+", weight=0.6)])


@pytest.mark.slow   # ~7 CPU s; CI runs it (.ci/run); ties in the fit stay in the default run (the last test)
def test_a_tied_group_is_tested_once_and_reported_on_one_row_for_its_edges():
    truth = tied({"ay": 1.0, "by": -0.7, "aa": 0.5}, g=1.2)
    g = torch.Generator().manual_seed(0)
    X = torch.randn(120, 6, 1, generator=g, dtype=torch.float64)
    with torch.no_grad():
        Y = mpnet.Network(truth, dtype=torch.float64)(X.transpose(0, 1)).transpose(0, 1)
    Y = Y + 0.01 * Y.std() * torch.randn(Y.shape, generator=g, dtype=torch.float64)
    wiring = tied({})
    wiring = wiring.with_weights({}, ties={"k": 0.6})
    report = infer_signs(wiring, X, Y, effort=SMALL, seed=0)
    rows = {row.key: row for row in report.edges}
    # one row per parameter: x->b and y->a have none of their own (their groups' rows are theirs)
    assert list(rows) == [("x", "a"), ("a", "y"), ("b", "y"), ("a", "a"), ("b", "a")]
    assert rows[("x", "a")].sign == "+" and rows[("x", "a")].reason.startswith(
        "tie group 'g' (one weight for x->a, x->b): the opposite sign fits worse")
    assert rows[("b", "a")].sign == "+" and rows[("b", "a")].reason == \
        "tie group 'k' (one weight for b->a, y->a): fixed by declaration"
    assert [rows[k].sign for k in [("a", "y"), ("b", "y"), ("a", "a")]] == ["+", "-", "+"]
    best = report.best
    assert best.ties["g"].weight == pytest.approx(rows[("x", "a")].weight) and best.edges[("x", "b")].weight is None
    checked = verify(report, X, Y)
    assert checked.all_confirmed and [c.edge for c in checked.checks][:2] == ["best fit", "x->a"]
    w = report.witnesses[("x", "a")]
    report.witnesses[("x", "a")] = w.with_weights({}, ties={"g": w.ties["g"].weight * 1.01})
    assert [c.edge for c in verify(report, X, Y).rejected] == ["x->a"]
    from mpnet.graph.elements import Edge
    from mpnet.graph.ties import Tie
    flat = Topology.from_edges([("x", "h"), ("h", "y")], inputs=["x"], outputs=["y"])
    flat = Topology(list(flat.nodes.values()), [Edge("x", "h", tie="g"), Edge("h", "y", tie="g")], ties=[Tie("g")])
    with pytest.raises(ValueError, match=r"Expected a wiring without tied weights \(got ties \['g'\]\)"):
        infer_signs(flat, X[:, 0], Y[:, 0], method="ensemble")


def test_no_input_chain_is_named_in_a_recurrent_wiring():
    # "one input's chain" walks the wiring in topological order, which a self-loop or a cycle does not have: it
    # raised KeyError on a recurrent wiring's ambiguous edge; it now names no such chain
    from mpnet.signs.evidence import equivalence
    topo = Topology.from_edges([("x", "a"), ("a", "a"), ("a", "y")], inputs=["x"], outputs=["y"], recurrent=True)
    best = {("x", "a"): 1.0, ("a", "a"): 0.5, ("a", "y"): 1.0}
    witness = {("x", "a"): -1.0, ("a", "a"): 0.5, ("a", "y"): 1.0}
    assert equivalence(topo, ("x", "a"), best, witness, {}, True, 1.0) == ""


def test_multistart_gives_a_tied_best_fit_back_as_a_topology():
    truth = tied({"ay": 1.0, "by": -0.7, "aa": 0.5}, g=1.2)
    X = torch.randn(40, 4, 1, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    with torch.no_grad():
        Y = mpnet.Network(truth, dtype=torch.float64)(X.transpose(0, 1)).transpose(0, 1)
    fit = multistart(truth, X, Y, effort=Effort(starts=2, keep=1, islands=1, pool=1, rounds=0, explore_iters=5,
                                               polish_iters=5, smooth=()), seed=0)
    best = fit.best_topology()
    assert best.ties["g"].weight == pytest.approx(fit.weights()[("x", "a")]) and best.ties["k"].weight >= 0
    with torch.no_grad():
        pred = mpnet.Network(best, dtype=torch.float64)(X.transpose(0, 1)).transpose(0, 1)
    assert float((pred - Y).pow(2).mean()) == pytest.approx(fit.best_loss, rel=1e-9)
