"""mpnet.connectome.heldout: the scores on toy cases, the fits of a fold never see its stimulations, the table
counts only significant pairs; scripts/connectome_atlas.py's argument errors (and, slow, its quick run)."""
import math
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mpnet import connectome
from mpnet.connectome import heldout as H
from mpnet.connectome import propagation as P
from mpnet.errors import ArgumentError

ROOT = Path(__file__).resolve().parents[2]


def test_balanced_accuracy_and_auroc_on_toy_cases():
    positive = torch.tensor([True, True, True, False])
    assert H.balanced_accuracy(positive, torch.tensor([1.0, 1.0, -1.0, -1.0])) == pytest.approx((2 / 3 + 1) / 2)
    assert H.balanced_accuracy(positive, torch.ones(4)) == 0.5                      # all positive: chance
    assert H.balanced_accuracy(positive, torch.zeros(4)) == 0.5                     # undecided counts positive
    assert H.auroc(positive, torch.tensor([3.0, 2.0, 0.0, 1.0])) == pytest.approx(2 / 3)
    assert H.auroc(positive, torch.tensor([1.0, 1.0, 1.0, 1.0])) == 0.5             # ties count half
    assert H.auroc(positive, torch.tensor([3.0, 2.0, 1.0, 0.0])) == 1.0
    assert math.isnan(H.auroc(torch.ones(3).bool(), torch.ones(3)))
    assert math.isnan(H.balanced_accuracy(torch.zeros(3).bool(), torch.ones(3)))


def test_responder_mean_averages_measured_training_responses():
    nan = float("nan")
    r = torch.tensor([[0.2, nan, 3.0], [0.4, -0.1, nan], [9.0, 9.0, 9.0]], dtype=torch.float64)
    resp = P.Responses(("A", "B", "C"), ("x", "y", "z"), r, ~torch.isnan(r))
    torch.testing.assert_close(H.responder_mean(resp, [0, 1]), torch.tensor([0.3, -0.1, 1.0], dtype=torch.float64))


class Spy:
    """Stands in for propagation.fit: records the training rows of each call and predicts the fold number."""
    def __init__(self):
        self.calls = []

    def __call__(self, topo, responses, train, **kw):
        self.calls.append(list(train))
        k = len(self.calls)
        return type("F", (), {"losses": [0.0], "predict": lambda self, rows: torch.full(
            (len(rows), len(responses.read_out)), float(k), dtype=torch.float64)})()


def toy():
    names = ["AL", "AR", "B", "C", "D", "E"]
    neurons = [(n, {"cell_class": n[0]}) for n in names]
    w = connectome.build(neurons, [("AL", "B", 2, "Acetylcholine"), ("B", "C", 1, "GABA")], [("B", "D", 1)],
                         stimulate=["AL"], read_out=["B"])
    r = torch.tensor([[0.1 * (i - j) for j in range(6)] for i in range(6)], dtype=torch.float64)
    r.fill_diagonal_(float("nan"))
    r[0, 3] = float("nan")
    return w, P.Responses(tuple(names), tuple(names), r, ~torch.isnan(r) & (r.abs() > 0.15))


def test_a_fold_s_fit_never_sees_its_stimulations(monkeypatch):
    w, resp = toy()
    spy = Spy()
    monkeypatch.setattr(H, "fit", spy)
    held = P.folds(resp.stimulated, 3, seed=0)
    out = H.run(w, resp, held, methods=["connectome", "all positive", "direct synapse rule"])
    assert len(spy.calls) == 3
    for fold, train in zip(held, spy.calls):
        assert not set(fold) & set(train) and set(fold) | set(train) == set(range(6))
    for k, fold in enumerate(held):                 # each row scored by the fit that held it out
        assert bool((out.scores["connectome"][list(fold)] == k + 1).all())
    table = {(s.method, s.fold): s for s in out.table()}
    assert table[("all positive", None)].pairs == int(resp.significant.sum())
    assert table[("all positive", None)].negative == int((resp.response[resp.significant] < 0).sum())
    assert table[("all positive", None)].balanced_accuracy == 0.5
    assert sum(table[("connectome", k)].pairs for k in range(3)) == table[("connectome", None)].pairs
    with pytest.raises(ArgumentError, match="held out in two folds"):
        H.run(w, resp, [(0, 1), (1, 2)], methods=["all positive"])
    with pytest.raises(ArgumentError, match=r"invalid methods \['nope'\]"):
        H.run(w, resp, held, methods=["nope"])


def test_interval_brackets_the_pooled_score():
    w, resp = toy()
    out = H.run(w, resp, P.folds(resp.stimulated, 3, seed=0), methods=["direct synapse rule", "all positive"])
    lo, hi, alo, ahi = H.interval(out, "all positive", resamples=50)
    assert (lo, hi, alo, ahi) == (0.5, 0.5, 0.5, 0.5)
    pooled = [s for s in out.table() if s.method == "direct synapse rule" and s.fold is None][0]
    lo, hi, alo, ahi = H.interval(out, "direct synapse rule", resamples=200)
    assert lo <= pooled.balanced_accuracy <= hi and alo <= pooled.auroc <= ahi


def script(*args):
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "connectome_atlas.py"), *args],
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def atlas_script():
    return runpy.run_path(str(ROOT / "scripts" / "connectome_atlas.py"))


@pytest.mark.parametrize("argv, message", [
    (["--folds", "1"], "argument --folds: expected an int in 2 .. 50 (got 1)"),
    (["--share", "pair"], "argument --share: invalid choice 'pair'; expected one of ['class', 'synapse']"),
    (["--run", "6"], "argument --run: 6 is more than --folds 5")])
def test_script_argument_mistakes_are_one_line(atlas_script, monkeypatch, capsys, argv, message):
    monkeypatch.setattr(sys, "argv", ["connectome_atlas.py", *argv])
    with pytest.raises(SystemExit) as done:                 # argparse's exit, as a shell sees it
        atlas_script["guarded"](atlas_script["main"], prog="connectome_atlas.py")
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.slow
def test_script_quick_prints_the_held_out_table():
    done = script("--quick", "--resamples", "20")
    assert done.returncode == 0, done.stderr
    for method in H.METHODS:
        assert any(line.startswith(method) for line in done.stdout.splitlines())
    assert "all positive           0.500 / 0.500 0.500 / 0.500 0.500 / 0.500" in done.stdout
