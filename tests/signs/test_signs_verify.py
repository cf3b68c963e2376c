"""mpnet.signs.verify: a report's claims re-checked from its stored fits with a float64 forward pass; and the
report's JSON file that carries those fits."""
import math
from dataclasses import replace

import pytest
import torch

from mpnet.errors import ArgumentError, DataError
from mpnet.graph.topology import Topology
from mpnet.signs import EdgeSign, SignReport, verify
from mpnet.signs.verify import forward64
from mpnet.testing import random_topology, reference_forward


@pytest.mark.parametrize("seed", range(6))
def test_the_float64_forward_is_the_reference(seed):
    topo = random_topology(seed, p_response=0.3)
    X = torch.rand(16, len(topo.inputs), generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * 4 - 2
    want = torch.tensor(reference_forward(topo, X.tolist()), dtype=torch.float64)
    torch.testing.assert_close(forward64(topo, X), want, rtol=1e-12, atol=1e-12)


# ---- a report made by hand: y = x3 + 0.5 x1 + noise, x3 in [1, 2], so the neuron l on x3 stays linear
WIRING = Topology.from_edges([("x1", "y"), ("x3", "l"), ("l", "y")], inputs=["x1", "x3"], outputs=["y"])


def _loss(topo, X, Y):
    return float((forward64(topo, X) - Y).pow(2).mean())


def hand_report():
    g = torch.Generator().manual_seed(0)
    X = torch.rand(200, 2, generator=g, dtype=torch.float64)
    X[:, 0] = X[:, 0] * 4 - 2
    X[:, 1] = X[:, 1] + 1
    Y = X[:, 1:] + 0.5 * X[:, :1] + 0.01 * torch.randn(200, 1, generator=g, dtype=torch.float64)
    best = WIRING.with_weights({("x1", "y"): 0.5, ("x3", "l"): 1.0, ("l", "y"): 1.0}, {"l": 0.0, "y": 0.0})
    # relu(2 - x3) = 2 - x3 on the data: the chain mirrored, y's bias absorbing the shift, is the same function
    mirrored = best.with_weights({("x3", "l"): -1.0, ("l", "y"): -1.0}, {"l": 2.0, "y": 2.0})
    off = best.with_weights({("x1", "y"): 0.0})
    L0, L_off = _loss(best, X, Y), _loss(off, X, Y)
    scale = L0
    def row(key, sign, alt, why):
        ratio = (alt - L0) / scale
        return EdgeSign(*key, sign, 0.97 if sign != "?" else 0.5, best.edges[key].weight, True, why, "free",
                        alt_loss=alt, delta_loss=alt - L0, ratio=ratio)
    rows = [row(("x1", "y"), "+", L_off, "the opposite sign fits worse"),
            row(("x3", "l"), "?", _loss(mirrored, X, Y), "the opposite sign fits as well"),
            row(("l", "y"), "?", _loss(mirrored, X, Y), "the opposite sign fits as well")]
    report = SignReport(rows, "refit", L0, L0, "given", 0.95, topology=best, extra={"scale": scale},
                        witnesses={("x1", "y"): off, ("x3", "l"): mirrored, ("l", "y"): mirrored})
    return report, X, Y


def test_verify_confirms_the_claims_of_a_consistent_report():
    report, X, Y = hand_report()
    result = verify(report, X, Y)
    assert result.all_confirmed and [c.edge for c in result.checks] == ["best fit", "x1->y", "x3->l", "l->y"]
    assert result.best_loss == pytest.approx(report.loss, rel=1e-12)
    assert "4 of 4 claims confirmed" in str(result) and "REJECTED" not in str(result)


def test_a_witness_whose_weights_were_altered_is_rejected():
    report, X, Y = hand_report()
    report.witnesses[("x3", "l")] = report.witnesses[("x3", "l")].with_weights({("l", "y"): -1.1})
    result = verify(report, X, Y)
    assert not result.all_confirmed and [c.edge for c in result.rejected] == ["x3->l"]
    assert "the witness's loss is" in result.rejected[0].detail and "REJECTED" in str(result)
    # a called sign's witness made worse still disagrees with the stated loss
    report, X, Y = hand_report()
    report.witnesses[("x1", "y")] = report.witnesses[("x1", "y")].with_weights({("x1", "y"): -0.3})
    assert [c.edge for c in verify(report, X, Y).rejected] == ["x1->y"]


def test_a_witness_with_the_best_fits_sign_is_rejected():
    report, X, Y = hand_report()
    report.witnesses[("x3", "l")] = report.best
    rows = {r.key: r for r in report.edges}
    report.edges = [replace(r, alt_loss=report.loss, ratio=0.0) if r.key == ("x3", "l") else r for r in rows.values()]
    bad = verify(report, X, Y).rejected
    assert [c.edge for c in bad] == ["x3->l"] and "has the best fit's sign" in bad[0].detail


def test_a_claim_beyond_its_witness_is_rejected():
    report, X, Y = hand_report()
    # the called sign claims a larger ratio than its witness shows
    report.edges[0] = replace(report.edges[0], ratio=report.edges[0].ratio * 2)
    bad = verify(report, X, Y).rejected
    assert [c.edge for c in bad] == ["x1->y"] and "not the stated" in bad[0].detail


def test_a_changed_best_fit_or_other_data_are_caught():
    report, X, Y = hand_report()
    report.topology = report.best.with_weights({("x1", "y"): 0.6})
    bad = verify(report, X, Y).rejected
    assert "best fit" in [c.edge for c in bad] and any("the row says" in c.detail for c in bad)
    report, X, Y = hand_report()
    assert not verify(report, X, Y + 0.1).checks[0].confirmed


def test_verify_checks_its_arguments():
    report, X, Y = hand_report()
    with pytest.raises(DataError, match=r"Expected X \[n, 2\] and Y \[n, 1\]"):
        verify(report, X[:, :1], Y)
    with pytest.raises(ValueError, match=r"Y.*not finite|NaN"):
        verify(report, X, Y.clone().fill_(math.nan))
    with pytest.raises(ArgumentError, match=r"verify checks a refit report with its best fit \(got method='ensemble'"):
        verify(replace(report, method="ensemble"), X, Y)
    with pytest.raises(ArgumentError, match=r"got method='refit', no best fit; a CSV keeps no fits"):
        verify(replace(report, topology=None), X, Y)
    with pytest.raises(ArgumentError, match=r"Expected report to be a SignReport \(got dict\)"):
        verify({}, X, Y)


def test_the_json_file_keeps_everything_and_verifies(tmp_path):
    report, X, Y = hand_report()
    report.extra.update({"gauge": {"h": (("x3", "l"), (("x3", "l"), ("l", "y")))}, "nan": math.nan,
                         "inf": -math.inf, "tensor": torch.tensor([[1.0, math.nan]], dtype=torch.float64),
                         "by_edge": {("x1", "y"): 0.25}})
    path = tmp_path / "report.json"
    report.to_json(path)
    back = SignReport.read_json(path)
    assert back.best == report.best and back.topology is back.best
    assert back.witnesses == report.witnesses and back.witness(("x1", "y")) == report.witness(("x1", "y"))
    assert list(map(repr, back.edges)) == list(map(repr, report.edges))
    t = back.extra.pop("tensor")
    assert t.dtype == torch.float64 and t[0, 0] == 1 and math.isnan(t[0, 1])
    assert math.isnan(back.extra.pop("nan")) and back.extra["inf"] == -math.inf
    report.extra.pop("tensor")
    report.extra.pop("nan")
    assert back.extra == report.extra
    assert verify(back, X, Y).all_confirmed
    assert "NaN" not in path.read_text()        # strict JSON


def test_read_json_names_a_wrong_file(tmp_path):
    path = tmp_path / "x.json"
    path.write_text('{"format": "mpnet.topology"}')
    with pytest.raises(ValueError, match=r"x.json: expected a SignReport .*got format 'mpnet.topology'"):
        SignReport.read_json(path)
    path.write_text("not json")
    with pytest.raises(ValueError, match=r"x.json: not a JSON file written by SignReport.to_json"):
        SignReport.read_json(path)


def test_witness_of_an_edge_not_in_the_report_is_a_key_error():
    report, _, _ = hand_report()
    assert report.witness(("x1", "y")) is report.witnesses[("x1", "y")]
    with pytest.raises(KeyError, match=r"Edge 'x3' -> 'y' is not in this report"):
        report.witness(("x3", "y"))


@pytest.mark.slow
def test_a_report_fitted_to_recordings_is_verified_with_them():
    from mpnet.signs import Effort, infer_signs
    g = torch.Generator().manual_seed(1)
    X = torch.rand(200, 1, generator=g, dtype=torch.float64) * 4 - 2
    h = torch.relu(X[:, 0] - 0.3)
    Y = (h - 0.5 * X[:, 0])[:, None] + 0.01 * torch.randn(200, 1, generator=g, dtype=torch.float64)
    rec = h + 0.01 * torch.randn(200, generator=g, dtype=torch.float64)
    rec[::3] = math.nan                                  # a third of the samples not recorded
    topo = Topology.from_edges([("x", "h"), ("h", "y"), ("x", "y")], inputs=["x"], outputs=["y"])
    effort = Effort(starts=8, keep=4, islands=2, pool=1, redraws=1, rounds=1, hop_iters=40, polish_iters=150,
                    explore_iters=40, smooth=())
    report = infer_signs(topo, X, Y, effort=effort, observed={"h": rec}, progress=False)
    assert list(report.extra["observed"]) == ["h"]
    # the floor weighs the recordings' noise as the loss weighs them: this fit is at it
    assert "with the recordings" in report.noise_method and report.floor_ratio < 1.5
    assert verify(report, X, Y, observed={"h": rec}).all_confirmed
    with pytest.raises(ArgumentError, match=r"fitted to recordings of \['h'\]; pass them as observed="):
        verify(report, X, Y)
    with pytest.raises(ArgumentError, match=r"expected observed to record the report's neurons \['h'\]"):
        verify(report, X, Y, observed={"y": rec})
    # other recordings: the losses no longer match
    assert not verify(report, X, Y, observed={"h": rec + 0.2}).all_confirmed


def test_an_ensemble_report_round_trips_through_json_and_is_not_verified(tmp_path):
    from mpnet.signs import infer_signs
    g = torch.Generator().manual_seed(0)
    X = torch.rand(64, 2, generator=g) * 4 - 2
    topo = Topology.from_edges([("x1", "h"), ("h", "y"), ("x2", "y")], inputs=["x1", "x2"], outputs=["y"],
                               activation="tanh")
    report = infer_signs(topo, X, 2 * X[:, :1] - X[:, 1:], method="ensemble", ensemble=4, epochs=20, lr=0.05,
                         progress=False)
    report.to_json(tmp_path / "e.json")
    back = SignReport.read_json(tmp_path / "e.json")
    assert list(map(repr, back.edges)) == list(map(repr, report.edges)) and back.best == report.best
    assert torch.equal(back.extra["weights"], report.extra["weights"]) and back.extra["gauge"] == report.extra["gauge"]
    assert back.witness(("x2", "y")) is None
    with pytest.raises(ArgumentError, match=r"got method='ensemble'"):
        verify(back, X, 2 * X[:, :1] - X[:, 1:])
