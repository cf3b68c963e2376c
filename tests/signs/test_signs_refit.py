"""method="refit" (mpnet.signs.refit, edgetest): hand-made networks whose truth is known analytically."""
import dataclasses
import math

import pytest
import torch

import mpnet
from mpnet.signs import Effort, infer_signs
from mpnet.graph.topology import Topology

SMALL = Effort(starts=24, keep=6, pool=2, redraws=1, rounds=2, hop_iters=60, polish_iters=300, explore_iters=60,
               smooth=(3.0, 10.0))


def known_truth(n=400, noise=0.01, seed=0):
    """y = relu(x1) - relu(-x1 - 0.5) * 0.5 + x2 + noise, x3 in [1, 2] feeding a neuron that stays linear.

    * x1 -> h -> y and x2 -> y: determined (the kink of relu(x1) is in the data, only (+, +) makes it);
    * x4 -> g -> y: y does not depend on x4 at all, so any sign fits (g silenced or w = 0);
    * x3 -> l -> y: x3 in [1, 2] keeps l in its linear regime, so l's two edges can flip together.
    """
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n, 4, generator=g, dtype=torch.float64) * 4 - 2
    X[:, 2] = X[:, 2] / 4 + 1.5                   # x3 in [1, 2]
    f = torch.relu(X[:, :1]) + X[:, 1:2] + 0.7 * X[:, 2:3]
    Y = f + noise * torch.randn(f.shape, generator=g, dtype=torch.float64)
    topo = Topology.from_edges([("x1", "h"), ("h", "y"), ("x2", "y"), ("x4", "g"), ("g", "y"), ("x3", "l"),
                                ("l", "y")], inputs=["x1", "x2", "x3", "x4"], outputs=["y"])
    return topo, X, Y


@pytest.fixture(scope="module")
def report():
    # SMALL with one round, one smoothing and half the iterations: half the time, the same calls at seeds 0-3
    quick = dataclasses.replace(SMALL, starts=12, keep=4, rounds=1, hop_iters=30, polish_iters=150, explore_iters=30,
                                smooth=(3.0,))
    topo, X, Y = known_truth()
    return infer_signs(topo, X, Y, effort=quick, seed=0)


def test_determined_edges_are_called(report):
    for key in [("x1", "h"), ("h", "y"), ("x2", "y")]:
        row = report[key]
        assert row.sign == "+" and row.confidence >= report.threshold, row
        assert row.ratio > 1 and row.alt_loss > report.loss and "fits worse" in row.reason


def test_an_edge_without_effect_is_not_called(report):
    for key in [("x4", "g"), ("g", "y")]:
        row = report[key]
        assert row.sign == "?" and row.ratio < 0.05, row


def test_a_linear_regime_pair_is_not_called(report):
    for key in [("x3", "l"), ("l", "y")]:
        row = report[key]
        assert row.sign == "?" and row.ratio < 0.05, row


def test_the_report_states_the_fit_against_the_noise_floor(report):
    assert report.method == "refit" and report.stable
    assert report.floor_ratio == pytest.approx(1.0, abs=0.5)
    assert "x the noise floor" in report.header()
    assert report.topology is not None and set(report.topology.edges) == set(report.edges[i].key
                                                                              for i in range(7))


@pytest.mark.slow
def test_tanh_edges_get_a_relative_sign_and_the_reference_is_positive():
    g = torch.Generator().manual_seed(1)
    X = torch.rand(300, 2, generator=g, dtype=torch.float64) * 4 - 2
    Y = 1.5 * torch.tanh(X[:, :1] - X[:, 1:]) + 0.5 * X[:, :1]
    topo = Topology.from_edges([("x1", "h"), ("x2", "h"), ("h", "y"), ("x1", "y")], inputs=["x1", "x2"],
                               outputs=["y"], activation="tanh")
    rep = infer_signs(topo, X, Y, effort=SMALL, seed=0)
    ref = [r for r in rep.edges if "reference edge" in r.reason]
    assert len(ref) == 1 and ref[0].relative == "+" and ref[0].sign == "?"
    for key in [("x1", "h"), ("x2", "h"), ("h", "y")]:
        assert rep[key].sign == "?" and not rep[key].identifiable
    # the path products are what the data fix: x1->h and x2->h opposite, h->y the sign of 1.5 * x1->h
    rel = {k: rep[k].relative for k in [("x1", "h"), ("x2", "h"), ("h", "y")]}
    assert rel[("x1", "h")] != rel[("x2", "h")]
    assert rep[("x1", "y")].identifiable and rep[("x1", "y")].sign == "+"


TINY = Effort(starts=4, keep=2, pool=1, redraws=1, rounds=1, hop_iters=40, polish_iters=100, explore_iters=40, smooth=())


def small_linear(n=100):
    g = torch.Generator().manual_seed(2)
    X = torch.rand(n, 3, generator=g, dtype=torch.float64) * 4 - 2
    Y = 2 * X[:, :1] - X[:, 1:2] + 0.5 * torch.relu(X[:, 2:]) + 0.01 * torch.randn(n, 1, generator=g,
                                                                                   dtype=torch.float64)
    return X, Y


def test_constraints_are_honoured_not_tested():
    X, Y = small_linear()
    topo = Topology.from_edges([("x1", "y"), ("x2", "y", -1.0), ("x3", "h"), ("h", "y")],
                               inputs=["x1", "x2", "x3"], outputs=["y"], signs={("h", "y"): "+"},
                               frozen=[("x2", "y")])
    rep = infer_signs(topo, X, Y, effort=TINY, seed=0)
    assert rep[("h", "y")].sign == "+" and rep[("h", "y")].constraint == "fixed +" and rep[("h", "y")].weight >= 0
    assert rep[("x2", "y")].constraint == "frozen" and rep[("x2", "y")].weight == -1.0
    assert math.isnan(rep[("x2", "y")].ratio) and rep[("x1", "y")].sign == "+"


def test_a_trained_network_is_accepted():
    X, Y = small_linear()
    topo = Topology.from_edges([("x1", "y"), ("x2", "y"), ("x3", "h"), ("h", "y")], inputs=["x1", "x2", "x3"],
                               outputs=["y"])
    net = mpnet.Network(topo, seed=0, dtype=torch.float64)
    mpnet.fit(net, X, Y, epochs=5, progress=False)
    rep = infer_signs(net, X, Y, effort=TINY, seed=0)
    assert rep[("x1", "y")].sign == "+" and rep[("x2", "y")].sign == "-"


def test_a_recurrent_wiring_needs_sequences():   # its sign test: tests/signs/test_signs_recurrent.py
    topo = Topology.from_edges([("x", "h"), ("h", "h"), ("h", "y")], inputs=["x"], outputs=["y"], recurrent=True)
    with pytest.raises(ValueError, match=r"Expected X of shape \[n, steps, 1\] for a recurrent wiring"):
        infer_signs(topo, torch.zeros(8, 1), torch.zeros(8, 1))


def test_arguments_are_checked():
    topo, X, Y = known_truth(n=20)
    with pytest.raises(ValueError, match=r'Invalid method "vote"'):
        infer_signs(topo, X, Y, method="vote")
    with pytest.raises(ValueError, match=r"Expected threshold to be a finite number in \[0, 1\] \(got 1.5\)"):
        infer_signs(topo, X, Y, threshold=1.5)
    with pytest.raises(ValueError, match=r"Expected resolution to be a finite number >= 0 \(got -1.0\)"):
        infer_signs(topo, X, Y, resolution=-1.0)


def test_the_report_keeps_each_stages_cpu_seconds_through_json(report, tmp_path):
    cpu = report.extra["cpu_seconds"]
    assert list(cpu) == ["search", "edge test", "re-check"] and all(v >= 0 for v in cpu.values())
    assert cpu["search"] > 0 and cpu["edge test"] > 0           # both fit: they take measurable CPU time
    report.to_json(tmp_path / "r.json")
    assert type(report).read_json(tmp_path / "r.json").extra["cpu_seconds"] == cpu
