"""What infer_signs shows while it works (mpnet.signs.progress): a bar on a terminal, silence otherwise."""
import pytest
import torch

from mpnet.graph.topology import Topology
from mpnet.signs import Effort, infer_signs
from mpnet.signs.progress import Progress

TINY = Effort(starts=4, keep=2, islands=1, pool=1, redraws=1, rounds=1, hop_iters=20, polish_iters=40,
              explore_iters=20, smooth=())


def test_a_bar_shows_the_stage_and_the_edges_tested(capsys):
    lines = []
    shown = Progress(True, lines.append)
    shown.log("explored 4 starts")
    shown.stage("edge test", 3, 7)
    assert shown.bar is not None and shown.bar.n == 3 and shown.bar.total == 7
    shown.close()
    err = capsys.readouterr().err
    assert "signs: edge test" in err and "3/7" in err and lines == ["explored 4 starts"]


def test_no_bar_when_asked_or_not_on_a_terminal(capsys):
    lines = []
    for show in (False, None):            # under pytest stderr is not a terminal
        shown = Progress(show, lines.append)
        shown.log("a line")
        shown.stage("verify", 1, 2)
        assert shown.bar is None
        shown.close()
    assert capsys.readouterr().err == "" and lines == ["a line", "a line"]


def small_problem():
    g = torch.Generator().manual_seed(0)
    X = torch.rand(40, 2, generator=g, dtype=torch.float64) * 4 - 2
    topo = Topology.from_edges([("x1", "y"), ("x2", "y")], inputs=["x1", "x2"], outputs=["y"])
    return topo, X, 2 * X[:, :1] - X[:, 1:]


def test_infer_signs_shows_its_progress_when_asked(capsys):
    topo, X, Y = small_problem()
    lines = []
    report = infer_signs(topo, X, Y, effort=TINY, progress=True, log=lines.append)
    err = capsys.readouterr().err
    assert "signs:" in err and "2/2" in err                   # the edge test's stage, both edges tested
    assert any(line.startswith("explored") for line in lines) and report.stable
    with pytest.raises(ValueError, match=r"Expected progress to be"):
        infer_signs(topo, X, Y, effort=TINY, progress="yes")
