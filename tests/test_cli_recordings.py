"""mpnet signs reads the data file's columns named after hidden neurons as recordings (observed=)."""
import csv
import re

import pytest
import torch

import mpnet
from mpnet.cli import main


def chain_files(tmp_path, n=120, record=True):
    """The chain x -> a -> b -> y (ReLU) saved as JSON, and a CSV of x, y and (with ``record``) a, whose
    first sample is not recorded (an empty cell) and the second NaN."""
    topo = mpnet.Topology.from_edges([("x", "a"), ("a", "b"), ("b", "y")], inputs=["x"], outputs=["y"],
                                     activation="relu", output_activation="identity")
    topo.save(tmp_path / "chain.json")
    teacher = topo.with_weights({("x", "a"): 1.0, ("a", "b"): -1.0, ("b", "y"): 1.0}, {"a": 0.5, "b": 1.5, "y": 0.0})
    g = torch.Generator().manual_seed(0)
    X = torch.rand(n, 1, generator=g, dtype=torch.float64) * 4 - 2
    net = mpnet.Network(teacher, dtype=torch.float64)
    _, H = net.states(X)
    y = net(X).detach()[:, 0]
    y = y + 0.01 * y.std() * torch.randn(n, generator=g, dtype=torch.float64)
    a = H[net.rows.index((0, "a"))]
    a = a + 0.01 * a.std() * torch.randn(n, generator=g, dtype=torch.float64)
    with open(tmp_path / "data.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["x", "y", "note"] + (["a"] if record else []))
        for i in range(n):
            cell = "" if i == 0 else "NaN" if i == 1 else repr(float(a[i]))
            w.writerow([repr(float(X[i, 0])), repr(float(y[i])), "n"] + ([cell] if record else []))
    return [str(tmp_path / "chain.json"), str(tmp_path / "data.csv")], a


class _Seen(Exception):
    pass


@pytest.fixture
def seen(monkeypatch):
    """infer_signs replaced by one that keeps its arguments and stops the command (no search is run)."""
    calls = {}

    def fake(topology, X, Y, **kw):
        calls.update(kw, X=X, Y=Y)
        raise _Seen()
    monkeypatch.setattr(mpnet, "infer_signs", fake)
    return calls


def test_columns_named_after_hidden_neurons_are_recordings(tmp_path, seen):
    files, a = chain_files(tmp_path)
    with pytest.raises(_Seen):
        main(["signs", *files, "--no-progress", "--debug"])
    got = seen["observed"]["a"]
    assert list(seen["observed"]) == ["a"] and got.dtype == torch.float64 and got.shape == (120,)
    assert torch.isnan(got[:2]).all() and torch.allclose(got[2:], a[2:], rtol=1e-15, atol=0)
    seen.clear()
    with pytest.raises(_Seen):
        main(["signs", *files, "--observed", "", "--no-progress", "--debug"])
    assert seen["observed"] is None


def test_without_such_columns_there_are_no_recordings(tmp_path, seen):
    files, _ = chain_files(tmp_path, record=False)
    with pytest.raises(_Seen):
        main(["signs", *files, "--no-progress", "--debug"])
    assert seen["observed"] is None


def _one_line_error(capsys, argv, match):
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = [l for l in err.splitlines() if l.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert re.search(match, lines[0]), lines[0]


def test_recording_mistakes_are_one_line(tmp_path, capsys):
    files, _ = chain_files(tmp_path)
    _one_line_error(capsys, ["signs", *files, "--observed", "note,y"],
                    r"^mpnet signs: error: --observed names \['note', 'y'\], not hidden neurons of the topology "
                    r"\(its hidden neurons: \['a', 'b'\]\)")
    _one_line_error(capsys, ["signs", *files, "--method", "ensemble"],
                    r"^mpnet signs: error: columns \['a'\] of .*data\.csv are recordings of hidden neurons, which "
                    r"--method ensemble cannot use; use --method refit, or --observed '' to leave them out")
    text = (tmp_path / "data.csv").read_text().splitlines()
    text[5] = ",".join(text[5].split(",")[:3] + ["inf"])
    (tmp_path / "data.csv").write_text("\n".join(text) + "\n")
    _one_line_error(capsys, ["signs", *files], r"^mpnet signs: error: .*data\.csv: line 6, column 'a' holds 'inf'")


def test_help_documents_the_recordings(capsys):
    with pytest.raises(SystemExit):
        main(["signs", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "--observed COLUMNS" in out and "every column named after a hidden neuron" in out
    assert "an empty cell or NaN where it was not recorded" in out


@pytest.mark.slow
def test_a_recorded_column_decides_the_signs_of_the_chain(tmp_path, capsys):
    files, _ = chain_files(tmp_path, n=200)
    assert main(["signs", *files, "--quick", "--no-progress", "-o", str(tmp_path / "s.csv")]) == 0
    rows = {(r.src, r.dst): r.sign for r in mpnet.SignReport.read_csv(tmp_path / "s.csv").edges}
    assert rows == {("x", "a"): "+", ("a", "b"): "-", ("b", "y"): "+"}
    assert main(["signs", *files, "--quick", "--no-progress", "--observed", "", "-o", str(tmp_path / "p.csv")]) == 0
    rows = {(r.src, r.dst): r.sign for r in mpnet.SignReport.read_csv(tmp_path / "p.csv").edges}
    assert rows[("x", "a")] == "?" and rows[("b", "y")] == "?"
