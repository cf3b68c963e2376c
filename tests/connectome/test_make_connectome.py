"""scripts/make_connectome.py without cect: its argument mistakes are one line, and --compare reports the edges
added and the counts changed between two connectome files (tiny literal ones here)."""
import runpy
import sys
from pathlib import Path

import pytest

from mpnet import connectome

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "make_connectome.py"


@pytest.fixture(scope="module")
def script():
    return runpy.run_path(str(SCRIPT), run_name="make_connectome")


def tiny(path, chemical):
    neurons = [(n, {"cell_class": n, "type": "interneuron"}) for n in ("A", "B", "C")]
    topo = connectome.build(neurons, chemical, [], stimulate=["A"], read_out=["C"])
    runpy.run_path(str(SCRIPT))["write"](topo.to_dict(), {"name": Path(path).stem}, str(path))


def test_compare_names_edges_added_and_halved_counts(script, tmp_path, capsys):
    tiny(tmp_path / "old.json", [("A", "B", 4, "Acetylcholine"), ("B", "C", 3, "GABA")])
    tiny(tmp_path / "new.json", [("A", "B", 2, "Acetylcholine"), ("B", "C", 3, "GABA"), ("C", "A", 5, "orphan")])
    script["compare"](str(tmp_path / "old.json"), str(tmp_path / "new.json"))
    out = capsys.readouterr().out
    assert "2 -> 3 chemical edges; 1 added (5 synapses, from 1 neurons: C); 0 dropped; 1 with another synapse " \
           "count (1 of them half the old count, e.g. A->B 4->2)" in out


@pytest.mark.parametrize("argv, message", [
    (["--only", "atlas", "--compare", str(SCRIPT)], "argument --compare: compares wirings; not with --only atlas"),
    (["--compare", "no/such.json"], "argument --compare: no such file: 'no/such.json'"),
    (["--atlas-out", "x.json"], "argument --atlas-out: 'x.json' must end with '.atlas.json'"),
    (["--only", "both"], "argument --only: invalid choice: 'both'"),
])
def test_argument_mistakes_are_one_line(script, argv, message, capsys, monkeypatch, tmp_path):
    # never the package's files: a mistake that slipped through would write here
    safe = ["--out", str(tmp_path / "w.json")] + ([] if "--atlas-out" in argv else
                                                  ["--atlas-out", str(tmp_path / "a.atlas.json")])
    monkeypatch.setattr(sys, "argv", ["make_connectome.py", *safe, *argv])
    with pytest.raises(SystemExit) as exit_:
        script["main"]()
    err = capsys.readouterr().err.strip()
    assert exit_.value.code == 2 and len(err.splitlines()) == 1 and message in err
