"""The evidence behind the refit test's verdicts (mpnet.signs.evidence): every stored fit re-checked for a better
opposite-sign witness, the equivalences a reason names, and a report that says when its fit is not at the floor."""
import math
import sys

import pytest
import torch

from mpnet.graph.topology import Topology
from mpnet.signs import Effort, infer_signs, verify
from mpnet.signs.edgetest import EdgeResult, TestOutcome as Outcome
from mpnet.signs.evidence import ALWAYS, NEVER, _chain, _component, equivalence, recheck
from mpnet.signs.fitting import Workspace
from mpnet.signs.refit import FLOOR, _verdict
from mpnet.signs.symmetry import flip_symmetries, reference_edges

CHAIN = Topology.from_edges([("x1", "a"), ("a", "b"), ("b", "y"), ("x2", "y"), ("x2", "d")], inputs=["x1", "x2"],
                            outputs=["y"], warn=False)


def data(n=64, d=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n, d, generator=g, dtype=torch.float64) * 4 - 2
    return X, X[:, :1] - X[:, 1:2]


def row_of(ws, weights, biases=None):
    return ws.pop(1).theta_of(ws.topology.with_weights(weights, biases or {}))


def test_recheck_takes_the_best_stored_opposite_sign_fit_of_each_edge():
    X, Y = data()
    ws = Workspace(CHAIN, X, Y)
    base = {("x1", "a"): 1.0, ("a", "b"): 1.0, ("b", "y"): 1.0, ("x2", "y"): -1.0, ("x2", "d"): 0.5}
    best = row_of(ws, base)
    L0 = float(ws.loss(best[None])[0])
    key = ("a", "b")
    outcome = Outcome(best, L0, L0, {key: EdgeResult(key, 1.0, 10 * L0, 9.0, True),
                                         ("x2", "d"): EdgeResult(("x2", "d"), 0.5, 2 * L0, 1.0, True)}, True, 0)
    # stored while testing another edge: a fit with a->b reversed at 1.5 L0 and one with the same sign, better
    other = row_of(ws, {**base, key: -0.5})
    same = row_of(ws, {**base, ("x2", "d"): 0.2})
    ws.remember(torch.stack([other, same]), torch.tensor([1.5 * L0, 1.01 * L0], dtype=torch.float64))
    ev = recheck(ws, outcome, {}, {}, [])
    res = ev.outcome.edges[key]
    assert res.alt_loss == pytest.approx(1.5 * L0) and res.ratio == pytest.approx(0.5)
    assert torch.equal(ev.witnesses[key], other) and key in ev.lowered
    # x2->d had no stored fit with w <= 0: its result stays, and it has no witness
    assert ev.outcome.edges[("x2", "d")].alt_loss == 2 * L0 and ("x2", "d") not in ev.witnesses
    assert ev.better_best is None
    ws.remember(same[None], torch.tensor([0.5 * L0], dtype=torch.float64))
    assert recheck(ws, outcome, {}, {}, []).better_best == pytest.approx(0.5 * L0)


def test_recheck_compares_flip_symmetric_fits_in_the_gauge():
    topo = Topology.from_edges([("x1", "h"), ("x2", "h"), ("h", "y")], inputs=["x1", "x2"], outputs=["y"],
                               activation="tanh")
    X, Y = data()
    ws = Workspace(topo, X, Y)
    flips = flip_symmetries(topo)
    refs = reference_edges(flips, {("x1", "h"): 2.0})
    assert refs == {"h": ("x1", "h")}
    best = row_of(ws, {("x1", "h"): 1.0, ("x2", "h"): -1.0, ("h", "y"): 1.0})
    L0 = float(ws.loss(best[None])[0])
    key = ("x2", "h")
    outcome = Outcome(best, L0, L0, {key: EdgeResult(key, -1.0, 3 * L0, 2.0, True)}, True, 0)
    # the exact flip of the best fit (every edge of h negated): x2->h is positive there, but in the gauge
    # (x1->h made positive) it is the best fit itself, no witness of x2->h's opposite sign
    flipped = row_of(ws, {("x1", "h"): -1.0, ("x2", "h"): 1.0, ("h", "y"): -1.0})
    ws.remember(flipped[None], torch.tensor([L0], dtype=torch.float64))
    assert recheck(ws, outcome, flips, refs, ["h"]).outcome.edges[key].alt_loss == 3 * L0


def test_chains_are_recognised_only_as_one_path_of_single_path_neurons():
    assert _chain(CHAIN, {("x1", "a"), ("a", "b"), ("b", "y")}) == ["x1", "a", "b", "y"]
    assert _chain(CHAIN, {("x1", "a"), ("b", "y")}) is None
    assert _chain(CHAIN, {("a", "b")}) is None
    fork = Topology.from_edges([("x1", "a"), ("a", "b"), ("a", "y"), ("b", "y")], inputs=["x1"], outputs=["y"])
    assert _chain(fork, {("x1", "a"), ("a", "b"), ("b", "y")}) is None          # a sends two edges
    # reversals elsewhere, joined to the edge through no hidden neuron, are not part of its chain
    assert _component({("x1", "a"), ("a", "b"), ("x2", "y"), ("x2", "d")}, ("a", "b"), CHAIN) == {("x1", "a"),
                                                                                                ("a", "b")}


BEST = {("x1", "a"): 1.0, ("a", "b"): 1.0, ("b", "y"): 1.0, ("x2", "y"): -1.0, ("x2", "d"): 0.5}


def test_a_neuron_that_reaches_no_output_is_named_not_flipped():
    why = equivalence(CHAIN, ("x2", "d"), BEST, None, {"d": 1.0}, True)
    assert "neuron 'd' reaches no output" in why and "outgoing" not in why
    lone = Topology.from_edges([("x1", "y"), ("u", "y")], inputs=["x1"], outputs=["y"], warn=False)
    assert "no input reaches neuron 'u'" in equivalence(lone, ("u", "y"), {("x1", "y"): 1, ("u", "y"): 1}, None,
                                                         {}, True)


def test_activity_thresholds_name_linear_and_silent_neurons():
    # 1,999 of 2,000 samples active is always active
    assert ALWAYS <= 1999 / 2000 and NEVER >= 1 / 2000
    why = equivalence(CHAIN, ("a", "b"), BEST, None, {"a": 1999 / 2000}, False)
    assert "neuron 'a' is active on 99.95% of the samples" in why and "flip together" in why
    assert "silent" in equivalence(CHAIN, ("a", "b"), BEST, None, {"b": 0.004}, False)
    assert equivalence(CHAIN, ("a", "b"), BEST, None, {"a": 0.9, "b": 0.5}, False) == ""


def test_the_witness_names_a_mirrored_chain_or_an_edge_that_can_be_off():
    mirrored = {**BEST, ("x1", "a"): -1.0, ("a", "b"): -1.0, ("b", "y"): -1.0}
    why = equivalence(CHAIN, ("a", "b"), BEST, mirrored, {"a": 0.5, "b": 0.5}, True)
    assert why.startswith("a mirrored chain") and "x1 -> a -> b -> y" in why
    assert equivalence(CHAIN, ("a", "b"), BEST, mirrored, {"a": 0.5, "b": 0.5}, False) == ""   # not as well
    off = {**BEST, ("a", "b"): 0.0}
    assert "can be off" in equivalence(CHAIN, ("a", "b"), BEST, off, {}, True)
    assert "can be off" in equivalence(CHAIN, ("a", "b"), BEST, mirrored, {}, True, off=0.01)
    # a and b see x1 alone: signs reversed inside that part compute another way the same function of x1
    partly = {**BEST, ("x1", "a"): -1.0, ("b", "y"): -1.0, ("x2", "y"): 1.0}
    why = equivalence(CHAIN, ("x1", "a"), BEST, partly, {}, True)
    assert why == ("one input's chain: a, b see input x1 alone, and a fit with x1->a, b->y reversed is as good a "
                   "function of x1")
    # a neuron that sees two inputs: the reason lists what else the witness reverses
    mixed = Topology.from_edges([("x1", "m"), ("x2", "m"), ("m", "y"), ("x2", "y")], inputs=["x1", "x2"],
                                outputs=["y"])
    best = {("x1", "m"): 1.0, ("x2", "m"): 1.0, ("m", "y"): 1.0, ("x2", "y"): 1.0}
    other = {("x1", "m"): -1.0, ("x2", "m"): 1.0, ("m", "y"): -1.0, ("x2", "y"): -1.0}
    why = equivalence(mixed, ("x1", "m"), best, other, {}, True)
    assert why.startswith("the witness also reverses ") and sorted(why[26:].split(", ")) == ["m->y", "x2->y"]


def outcome_for(ratio):
    key = ("a", "b")
    return key, Outcome(torch.zeros(1), 1.0, 1.0, {key: EdgeResult(key, 1.0, 1.0 + ratio, ratio, True)}, True, 0)


def test_no_ambiguity_is_claimed_against_a_fit_above_the_floor():
    key, outcome = outcome_for(0.01)
    at = _verdict(CHAIN, key, BEST, None, outcome, {}, {}, {}, {}, 1.2, True, 0.95, None)
    above = _verdict(CHAIN, key, BEST, None, outcome, {}, {}, {}, {}, 1.94, True, 0.95, None)
    assert FLOOR < 1.94 and at.reason.startswith("the opposite sign fits as well")
    assert above.sign == "?" and above.reason.startswith("undecided: the best fit is not at the noise floor (1.94x")
    assert "fits as well" not in above.reason


@pytest.mark.slow
def test_a_real_report_keeps_its_evidence_and_verify_confirms_it(tmp_path):
    g = torch.Generator().manual_seed(0)
    n = 300
    X = torch.rand(n, 3, generator=g, dtype=torch.float64) * 4 - 2
    X[:, 2] = X[:, 2] / 4 + 1.5          # x3 in [1, 2]: l stays linear
    Y = torch.relu(X[:, :1]) + X[:, 1:2] + 0.7 * X[:, 2:3] + 0.01 * torch.randn(n, 1, generator=g,
                                                                                  dtype=torch.float64)
    topo = Topology.from_edges([("x1", "h"), ("h", "y"), ("x2", "y"), ("x3", "l"), ("l", "y"), ("x2", "d")],
                               inputs=["x1", "x2", "x3"], outputs=["y"], warn=False)
    effort = Effort(starts=8, keep=4, islands=2, pool=1, redraws=1, rounds=1, hop_iters=40, polish_iters=150,
                    explore_iters=40, smooth=())
    report = infer_signs(topo, X, Y, effort=effort, seed=0, progress=False)
    assert report.best is report.topology and report.stable
    for row in report.edges:
        w = report.witness(row.key)
        assert w is not None and w.edges[row.key].weight * row.weight <= 0
    assert {r.key for r in report.called} == {("x1", "h"), ("h", "y"), ("x2", "y")}
    assert "neuron 'd' reaches no output" in report[("x2", "d")].reason
    result = verify(report, X, Y)
    assert result.all_confirmed, str(result)
    report.to_json(tmp_path / "r.json")
    back = type(report).read_json(tmp_path / "r.json")
    assert back.witnesses == report.witnesses and verify(back, X, Y).all_confirmed
    back.witnesses[("x1", "h")] = back.witnesses[("x1", "h")].with_weights({("h", "y"): 0.1})
    assert [c.edge for c in verify(back, X, Y).rejected] == ["x1->h"]
    # told a noise level far below what the fit reaches: nothing is shown ambiguous, and the note says why
    poor = infer_signs(topo, X, Y, effort=effort, seed=0, noise_std=1e-4, resolution=1e-9, progress=False)
    assert poor.floor_ratio > 3 and "a poor fit" in poor.note and "undecided" in poor.note
    assert not [r for r in poor.edges if "fits as well" in r.reason]
    assert all(r.reason.startswith("undecided") for r in poor.edges if r.sign == "?")
