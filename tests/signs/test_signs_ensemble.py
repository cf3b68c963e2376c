"""method="ensemble": the vote of independently trained networks (mpnet.signs.ensemble)."""
import pytest
import torch

import mpnet
from mpnet.signs import SignReport, infer_signs
from mpnet.graph.topology import Topology


def ens(topo, X, Y, **kw):
    return infer_signs(topo, X, Y, method="ensemble", progress=False, threshold=kw.pop("threshold", 0.9), **kw)


def linear_data(n=256, seed=0):
    gen = torch.Generator().manual_seed(seed)
    X = torch.rand(n, 2, generator=gen) * 4 - 2
    return X, 2.0 * X[:, :1] - 3.0 * X[:, 1:]


def test_identifiable_direct_edges_are_recovered_with_confidence():
    topo = Topology.from_edges([("x1", "y"), ("x2", "y")], inputs=["x1", "x2"], outputs=["y"])
    X, Y = linear_data()
    report = ens(topo, X, Y, ensemble=10, epochs=150, lr=0.05)
    assert report[("x1", "y")].sign == "+" and report[("x2", "y")].sign == "-"
    for row in report.edges:   # confidence k / (n + 1): ten of ten agree
        assert row.identifiable and row.confidence == pytest.approx(10 / 11) and row.agreement == 1.0
    assert report.extra["excluded"] == 0 and len(report.extra["good"]) == 10


def test_symmetric_edges_are_never_confident_and_report_the_relative_sign():
    topo = Topology.from_edges([("x1", "h"), ("x2", "h"), ("h", "y"), ("x1", "y")], inputs=["x1", "x2"],
                               outputs=["y"], activation="tanh")
    X, _ = linear_data()
    Y = 1.5 * torch.tanh(X[:, :1] - X[:, 1:]) + 0.3 * X[:, :1]
    report = ens(topo, X, Y, ensemble=8, epochs=200, lr=0.05)
    for key in [("x1", "h"), ("x2", "h"), ("h", "y")]:
        row = report[key]
        assert row.sign == "?" and row.confidence == 0 and not row.identifiable
        assert "can flip" in row.reason and row.relative in ("+", "-")
    # after the gauge the path products agree: x1->h and x2->h opposite, h->y matching the data's sign
    assert report[("x1", "h")].relative != report[("x2", "h")].relative
    assert report[("x1", "y")].identifiable


def test_constraints_are_honoured_not_inferred():
    topo = Topology.from_edges([("x1", "h"), ("x2", "h"), ("h", "y"), ("x1", "y", 0.25), ("x2", "y")],
                               inputs=["x1", "x2"], outputs=["y"], signs={("h", "y"): "+", ("x2", "y"): "-"},
                               frozen=[("x1", "y")], dale={"x1": "+"} if False else None)
    X, Y = linear_data()
    report = ens(topo, X, Y, ensemble=6, epochs=60, lr=0.05)
    assert report[("h", "y")].sign == "+" and report[("h", "y")].confidence == 1.0
    assert report[("x2", "y")].sign == "-" and report[("x2", "y")].constraint == "fixed -"
    assert report[("x1", "y")].constraint == "frozen" and report[("x1", "y")].weight == 0.25
    cols = list(topo.edges)
    w = report.extra["weights"]
    assert (w[:, cols.index(("h", "y"))] >= 0).all() and (w[:, cols.index(("x2", "y"))] <= 0).all()
    assert torch.equal(w[:, cols.index(("x1", "y"))], torch.full((6,), 0.25, dtype=w.dtype))


def test_confidence_is_monotone_in_agreement():
    topo = mpnet.sample.random_dag(2, 1, 6, avg_in_degree=2, seed=3)
    X, Y = linear_data(seed=1)
    report = ens(topo, X, Y, ensemble=10, epochs=40, lr=0.05)
    effect = report.extra["effect"]
    plain = [r for r in report.edges if r.identifiable and r.constraint == "free" and effect[r.key] >= 0.05]
    assert plain
    n = len(report.extra["good"])
    for r in plain:
        assert r.confidence == pytest.approx(round(r.agreement * n / (n + 1), 6), abs=1e-6)
    ranked = sorted(plain, key=lambda r: r.agreement)
    assert all(a.confidence <= b.confidence + 1e-9 for a, b in zip(ranked, ranked[1:]))


def test_members_that_fail_are_excluded_and_counted():
    topo = Topology.from_edges([("x1", "y"), ("x2", "y")], inputs=["x1", "x2"], outputs=["y"])
    X, Y = linear_data()
    report = ens(topo, X, Y, ensemble=4, epochs=1, lr=1e-6)
    assert report.extra["excluded"] + len(report.extra["good"]) == 4 and len(report.extra["losses"]) == 4


def test_csv_round_trip_and_table(tmp_path):
    topo = Topology.from_edges([("x1", "y"), ("x2", "y")], inputs=["x1", "x2"], outputs=["y"])
    X, Y = linear_data()
    report = ens(topo, X, Y, ensemble=4, epochs=50, lr=0.05)
    path = tmp_path / "signs.csv"
    report.to_csv(path)
    back = SignReport.read_csv(path)
    assert list(map(repr, back.edges)) == list(map(repr, report.edges)) and back.method == "ensemble" and back.threshold == report.threshold
    text = str(report)
    assert text.splitlines()[2].split()[:5] == ["src", "dst", "sign", "rel.", "confidence"]
    assert "x1" in text


def test_bad_arguments():
    topo = Topology.from_edges([("x1", "y")], inputs=["x1"], outputs=["y"])
    with pytest.raises(ValueError, match=r"Invalid init .bogus."):
        ens(topo, torch.zeros(4, 1), torch.zeros(4, 1), init="bogus")
    with pytest.raises(ValueError, match=r"Expected ensemble to be an int >= 1 \(got 0\)"):
        ens(topo, torch.zeros(4, 1), torch.zeros(4, 1), ensemble=0)
    with pytest.raises(TypeError, match=r"options of the ensemble method: \['init'\]"):
        infer_signs(topo, torch.zeros(4, 1), torch.zeros(4, 1), init="given")


def test_draw_writes_pictures(tmp_path):
    pytest.importorskip("matplotlib")
    topo = Topology.from_edges([("x1", "h", 0.5), ("x2", "h", -0.5), ("h", "y", 1.0)], inputs=["x1", "x2"],
                               outputs=["y"], activation="tanh")
    mpnet.draw(topo, tmp_path / "topo.png")
    mpnet.draw(mpnet.Network(topo), tmp_path / "net.svg")
    X, _ = linear_data()
    report = ens(topo, X, torch.tanh(X[:, :1]), ensemble=3, epochs=20)
    mpnet.draw(report, tmp_path / "report.png")
    for name in ("topo.png", "net.svg", "report.png"):
        assert (tmp_path / name).stat().st_size > 1000
    assert (tmp_path / "topo.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(TypeError, match="Expected a Topology"):
        mpnet.draw(42, tmp_path / "x.png")
