"""The mpnet command: help lists the subcommands; demo trains and prints a per-edge table."""
import subprocess
import sys

from mpnet.cli import main


def test_help_lists_subcommands(capsys):
    assert main([]) == 0
    assert "demo" in capsys.readouterr().out


def test_demo_prints_every_edge_with_its_sign(capsys):
    assert main(["demo", "--epochs", "20", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "edge" in out and "trained" in out and "sign" in out
    for edge in ["x1 -> a1", "a1 -> c1", "a2 -> c2", "c2 -> y"]:
        assert edge in out
    lines = [l for l in out.splitlines() if l.startswith("a1 -> c1")]
    assert lines and "fixed -" in lines[0] and lines[0].split()[5] == "-"   # sign column honours the constraint


def test_demo_on_a_file_and_bad_file(tmp_path, capsys):
    assert main(["demo", "--topology", "data/question_network.json", "--epochs", "3", "--no-progress"]) == 0
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "something else"}')
    assert main(["demo", "--topology", str(bad), "--epochs", "1"]) == 2
    assert "Is this an mpnet topology file?" in capsys.readouterr().err


def test_console_entry_point_runs_as_module():
    out = subprocess.run([sys.executable, "-m", "mpnet", "--help"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "demo" in out.stdout
