"""mpnet/cli.py, the files of ``convert`` and ``signs``: never written over an input, an existing output replaced
only with ``--force``, and ``signs``'s -o / --plot checked before the inference starts (it takes minutes)."""
import os
import re

import pytest

from mpnet import Topology
from mpnet.cli import main
from mpnet.io.formats import read

pytest.importorskip("matplotlib")


def _one_line(capsys, argv, match):
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert re.search(match, lines[0]), lines[0]


@pytest.fixture
def files(tmp_path):
    Topology.load("data/question_network.json").save(tmp_path / "q.json")
    (tmp_path / "d.csv").write_text("x1,x2,y\n" + "".join(f"{i % 3},{i % 5},{i % 7}\n" for i in range(20)))
    return tmp_path


def test_convert_never_writes_over_its_input(files, capsys):
    before = (files / "q.json").read_bytes()
    for extra in ([], ["--to", "graphml"], ["--force"]):
        _one_line(capsys, ["convert", str(files / "q.json"), str(files / "q.json"), *extra],
                  r"^mpnet convert: error: OUT '.*q\.json' is the file IN .* itself")
    assert (files / "q.json").read_bytes() == before


def test_convert_replaces_an_existing_output_only_with_force(files, capsys):
    (files / "o.graphml").write_text("keep me")
    _one_line(capsys, ["convert", str(files / "q.json"), str(files / "o.graphml")],
              r"^mpnet convert: error: OUT '.*o\.graphml' exists; .*--force")
    assert (files / "o.graphml").read_text() == "keep me"
    assert main(["convert", str(files / "q.json"), str(files / "o.graphml"), "--force"]) == 0
    assert read(files / "o.graphml", warn=False) == Topology.load(files / "q.json")


@pytest.fixture
def no_inference(monkeypatch):
    """Fails the test if the inference starts: every check below must come first."""
    import mpnet

    def started(*args, **kwargs):
        raise AssertionError("the inference started before the output files were checked")
    monkeypatch.setattr(mpnet, "infer_signs", started)


@pytest.mark.parametrize("options, match", [
    (["-o", "{d}/missing/dir/s.csv"], r"-o/--output '.*missing/dir/s\.csv': directory .* does not exist"),
    (["-o", "{d}"], r"-o/--output '.*' is a directory"),
    (["-o", "{d}/d.csv"], r"-o/--output '.*d\.csv' is the DATA file"),
    (["-o", "{d}/q.json"], r"-o/--output '.*q\.json' is the TOPOLOGY file"),
    (["--plot", "{d}/p.txt"], r"--plot '.*p\.txt': '\.txt' is not a picture format; end it in \.png, \.svg or \.pdf"),
    (["--plot", "{d}/p"], r"--plot '.*p': the name has no extension"),
    (["--plot", "{d}/nowhere/p.png"], r"--plot '.*nowhere/p\.png': directory .* does not exist"),
    (["-o", "{d}/same.png", "--plot", "{d}/same.png"], r"-o/--output and --plot both name"),
])
def test_signs_checks_its_output_files_before_inference(files, capsys, no_inference, options, match):
    argv = ["signs", str(files / "q.json"), str(files / "d.csv"), "--no-progress",
            *[o.format(d=files) for o in options]]
    _one_line(capsys, argv, r"^mpnet signs: error: " + match)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_signs_refuses_an_output_it_cannot_write(files, capsys, no_inference):
    (files / "ro").mkdir()
    os.chmod(files / "ro", 0o500)
    try:
        _one_line(capsys, ["signs", str(files / "q.json"), str(files / "d.csv"), "-o", str(files / "ro" / "s.csv")],
                  r"^mpnet signs: error: -o/--output '.*s\.csv' cannot be written here")
    finally:
        os.chmod(files / "ro", 0o700)
