"""The mpnet command: bare, it names the subcommands; demo trains and prints a per-edge table."""
import sys

import pytest

from mpnet.cli import main


def test_bare_mpnet_is_a_mistake_that_names_the_commands(capsys):
    _one_line_error(capsys, [], r"^mpnet: error: a command is needed, one of: demo, convert, signs \(see mpnet --help")
    assert capsys.readouterr().out == ""


@pytest.mark.slow   # ~23 CPU s; the default run keeps the demo end to end on a file (the test below); CI runs this
def test_demo_infers_signs_from_unknown_weights_and_calls_none_wrong(capsys):
    # the embedded question network end to end; 300 samples (800 cost 35 CPU seconds here, 300 about 20)
    assert main(["demo", "--quick", "--samples", "300", "--no-progress", "--budget", "0"]) == 0
    out = capsys.readouterr().out
    assert "every weight unknown" in out and "x the noise floor" in out
    for edge in ["x1 -> a1", "a1 -> c1", "a2 -> c2", "c2 -> y"]:
        assert edge in out
    fixed = [l for l in out.splitlines() if l.startswith("a1 -> c1")]
    assert fixed and fixed[0].split()[3:5] == ["-", "-"] and "fixed -" in fixed[0]   # teacher, inferred
    last = out.strip().splitlines()[-1]
    assert "free edges called" in last and ", 0 disagree" in last


@pytest.mark.slow
def test_demo_on_a_file_and_bad_file(tmp_path, capsys):
    from mpnet import Topology
    small = tmp_path / "small.json"   # a kink the data must explain, and a sign given: every free edge callable
    Topology.from_edges([("x1", "h"), ("h", "y"), ("x2", "y")], inputs=["x1", "x2"], outputs=["y"],
                        activation="relu", output_activation="identity", signs={("x2", "y"): "-"}).save(small)
    assert main(["demo", "--topology", str(small), "--quick", "--samples", "300", "--no-progress",
                 "--budget", "0"]) == 0
    out = capsys.readouterr().out
    assert f"{small}, every weight unknown" in out and "3 edges, 2 free" in out
    fixed = [l for l in out.splitlines() if l.startswith("x2 -> y")]
    assert fixed and fixed[0].split()[3:5] == ["-", "-"] and "fixed -" in fixed[0]   # teacher, inferred
    assert out.strip().splitlines()[-1].startswith("2 of 2 free edges called (100%); 2 agree with the teacher, "
                                                   "0 disagree")
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "something else"}')
    assert main(["demo", "--topology", str(bad)]) == 2
    assert "Is this an mpnet topology file?" in capsys.readouterr().err


def test_console_entry_point_runs_as_module(monkeypatch, capsys):
    # `python -m mpnet --help`, run the way the -m switch runs it (runpy) in this interpreter: a fresh one costs
    # ~5 CPU seconds of imports; the slow tests/test_docs_blocks.py starts `python -m mpnet X --help` for real
    import runpy
    monkeypatch.setattr(sys, "argv", ["mpnet", "--help"])
    sys.modules.pop("mpnet.__main__", None)   # as in a fresh interpreter: not imported before it runs
    with pytest.raises(SystemExit) as info:
        runpy.run_module("mpnet", run_name="__main__", alter_sys=True)
    assert info.value.code == 0 and "demo" in capsys.readouterr().out


# ------------------------------------------------------------------------------------------ convert
def test_convert_chain_of_formats_is_exact(tmp_path, capsys):
    from mpnet import Topology
    start = tmp_path / "q.json"
    Topology.load("data/question_network.json").save(start)
    chain = [start, tmp_path / "q.neat.json", tmp_path / "q.graphml", tmp_path / "back.json"]
    for src, dst in zip(chain, chain[1:]):
        assert main(["convert", str(src), str(dst)]) == 0
    assert "q.neat.json (neat) -> " in capsys.readouterr().out
    assert Topology.load(chain[-1]) == Topology.load("data/question_network.json")


def test_convert_of_a_search_winner_with_sigmoid_neurons_to_neat(tmp_path, capsys):
    from mpnet import Topology
    winner = Topology.from_edges([("x1", "h", 4.9), ("x2", "h", -4.9), ("h", "y", 9.8)], inputs=["x1", "x2"],
                                 outputs=["y"], activation="sigmoid", output_activation="sigmoid",
                                 biases={"h": -2.45})   # as search.run's best.topology: plain sigmoid
    winner.save(tmp_path / "xor_best.json")
    assert main(["convert", str(tmp_path / "xor_best.json"), str(tmp_path / "winner.neat.json")]) == 0
    assert Topology.from_neat_json(tmp_path / "winner.neat.json") == winner


def test_convert_with_from_and_to(tmp_path):
    from mpnet import Topology
    from mpnet.io.neat_io import to_neat_json
    topo = Topology.load("data/question_network.json")
    to_neat_json(topo, tmp_path / "winner.json")                          # neat JSON without the .neat.json name
    assert main(["convert", str(tmp_path / "winner.json"), str(tmp_path / "plain.txt"), "--from", "neat",
                 "--to", "mpnet"]) == 0
    assert Topology.load(tmp_path / "plain.txt") == topo


def test_convert_to_torchscript_runs_the_network(tmp_path):
    import torch
    from mpnet import Network, Topology
    assert main(["convert", "data/question_network.json", str(tmp_path / "q.pt")]) == 0
    x = torch.randn(4, 2)
    with torch.no_grad():
        want = Network(Topology.load("data/question_network.json"))(x)
        torch.testing.assert_close(torch.jit.load(str(tmp_path / "q.pt"))(x), want)


def test_convert_errors_exit_2_with_the_reason(tmp_path, capsys):
    assert main(["convert", "data/question_network.json", str(tmp_path / "q.xyz")]) == 2
    assert "Cannot tell the format of" in capsys.readouterr().err
    assert main(["convert", str(tmp_path / "missing.json"), str(tmp_path / "q.neat.json")]) == 2
    assert "No such file" in capsys.readouterr().err
    assert main(["convert", "data/question_network.json", str(tmp_path / "q.neat.json"), "--from", "neat"]) == 2
    assert "has no 'format_version' field" in capsys.readouterr().err


def test_signs_command_writes_csv_and_plot(tmp_path, capsys):
    import csv
    import torch
    from mpnet import Topology
    topo = Topology.from_edges([("x1", "y"), ("x2", "y")], inputs=["x1", "x2"], outputs=["y"])
    topo.save(tmp_path / "t.json")
    gen = torch.Generator().manual_seed(0)
    X = torch.rand(64, 2, generator=gen) * 4 - 2
    with open(tmp_path / "data.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["a", "b", "target"])
        for a, b in X.tolist():
            w.writerow([a, b, 2 * a - 3 * b])
    args = ["signs", str(tmp_path / "t.json"), str(tmp_path / "data.csv"), "--inputs", "a,b", "--outputs",
            "target", "-o", str(tmp_path / "signs.csv"), "--method", "ensemble", "--ensemble", "10", "--epochs",
            "100", "--lr", "0.05", "--threshold", "0.9", "--no-progress"]
    if __import__("importlib").util.find_spec("matplotlib"):
        args += ["--plot", str(tmp_path / "signs.png")]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "SignReport (ensemble)" in out
    from mpnet import SignReport
    rows = SignReport.read_csv(tmp_path / "signs.csv").edges
    assert [(r.src, r.dst, r.sign) for r in rows] == [("x1", "y", "+"), ("x2", "y", "-")]
    assert main(["signs", str(tmp_path / "t.json"), str(tmp_path / "data.csv")]) == 2
    assert "has no column ['x1', 'x2']" in capsys.readouterr().err
    # the default method, the refit test, on the same file
    assert main(args[:7] + ["--quick", "--no-progress"]) == 0
    assert "SignReport (refit): 2 of 2 free edges called" in capsys.readouterr().out


# --------------------------------------------------------------------------------- errors and flags
import json  # noqa: E402

import mpnet  # noqa: E402


def _one_line_error(capsys, argv, match, code=2):
    import re
    assert main(argv) == code
    captured = capsys.readouterr()
    lines = [l for l in captured.err.splitlines() if l.strip()]
    assert len(lines) == 1 and "Traceback" not in captured.err, captured.err
    assert re.search(match, lines[0]), lines[0]
    return captured


def test_user_mistakes_are_one_line_without_traceback(tmp_path, capsys):
    (tmp_path / "bin.json").write_bytes(bytes(range(256)))
    _one_line_error(capsys, ["demo", "--topology", str(tmp_path / "bin.json"), "--quick"],
                    r"^mpnet demo: error: .*bin\.json is a binary file")
    _one_line_error(capsys, ["demo", "--topology", str(tmp_path), "--quick"],
                    r"^mpnet demo: error: .* is a directory, not a JSON file")
    _one_line_error(capsys, ["convert", str(tmp_path / "nope.json"), str(tmp_path / "o.json")],
                    r"^mpnet convert: error: .*No such file or directory: .*nope\.json")
    _one_line_error(capsys, ["convert", "data/question_network.json", str(tmp_path / "no" / "o.json")],
                    r"^mpnet convert: error: .*No such file or directory")


def test_debug_shows_the_traceback(tmp_path):
    (tmp_path / "bin.json").write_bytes(bytes(range(256)))
    with pytest.raises(mpnet.errors.FormatError, match="is a binary file"):
        main(["--debug", "demo", "--topology", str(tmp_path / "bin.json")])
    with pytest.raises(mpnet.errors.FormatError, match="is a binary file"):
        main(["demo", "--debug", "--topology", str(tmp_path / "bin.json")])


def test_an_internal_error_is_one_line_too_and_says_how_to_see_it(monkeypatch, capsys):
    import mpnet.io.formats

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")
    monkeypatch.setattr(mpnet.io.formats, "convert", broken)
    _one_line_error(capsys, ["convert", "a.json", "b.json"], r"^mpnet convert: internal error: RuntimeError: a bug "
                                                             r"\(run with --debug", code=1)


def test_version_and_defaults_in_help(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0 and capsys.readouterr().out.strip() == f"mpnet {mpnet.__version__}"
    with pytest.raises(SystemExit):
        main(["signs", "--help"])
    out = " ".join(capsys.readouterr().out.split())   # argparse wraps the help text
    for default in ("(default: refit)", "(default: 0.95)", "(default: 32)", "(default: 500)", "(default: mse)",
                    "random draw (default: 0)", "input columns (default: the topology's input ids) --outputs",
                    "per step (default: the whole data set) --loss"):
        assert default in out
    assert "(default: None)" not in out and "(default: False)" not in out   # nothing to say: nothing said


@pytest.mark.parametrize("argv, match", [
    (["demo", "--samples", "0"], r"argument --samples: expected an int >= 4 \(got 0\)"),
    (["demo", "--threshold", "1.5"], r"argument --threshold: expected a number in \[0, 1\] \(got '1.5'\)"),
    (["demo", "--noise", "nan"], r"argument --noise: expected a number >= 0 \(got 'nan'\)"),
    (["signs", "t.json", "d.csv", "--lr", "nan"], r"argument --lr: expected a finite number > 0 \(got 'nan'\)"),
    (["signs", "t.json", "d.csv", "--ensemble", "x"], r"argument --ensemble: expected an int >= 1 \(got 'x'\)"),
])
def test_numbers_on_the_command_line_are_checked_by_argparse(capsys, argv, match):
    import re
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2 and re.search(match, capsys.readouterr().err)


def test_plot_without_matplotlib_fails_before_training(tmp_path, capsys, monkeypatch):
    import sys
    (tmp_path / "d.csv").write_text("x1,x2,y\n0,1,2\n1,0,3\n")
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    captured = _one_line_error(capsys, ["signs", "data/question_network.json", str(tmp_path / "d.csv"), "--plot",
                                        str(tmp_path / "p.png"), "--no-progress"],
                               r"^mpnet signs: error: --plot needs matplotlib, which is not installed")
    assert captured.out == ""   # nothing was trained


def test_convert_of_a_neat_json_named_json_says_to_add_from_neat(tmp_path, capsys):
    from mpnet.io.neat_io import to_neat_json
    to_neat_json(mpnet.Topology.load("data/question_network.json"), tmp_path / "winner.json")
    _one_line_error(capsys, ["convert", str(tmp_path / "winner.json"), str(tmp_path / "o.graphml")],
                    r"winner\.json: .*looks like neat-python's network JSON.*add --from neat")


def test_signs_names_the_bad_cell_of_the_data_file(tmp_path, capsys):
    (tmp_path / "d.csv").write_text("x1,x2,y\n0,1,2\n1,,3\n")
    _one_line_error(capsys, ["signs", "data/question_network.json", str(tmp_path / "d.csv"), "--no-progress"],
                    r"^mpnet signs: error: .*d\.csv: line 3, column 'x2' is empty")
