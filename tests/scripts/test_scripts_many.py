"""scripts/train_many.py and its data set data/topologies.jsonl (made by scripts/make_topologies.py)."""
import csv
import json
import runpy
from pathlib import Path

import mpnet

ROOT = Path(__file__).resolve().parents[2]


def test_train_many_writes_csv_and_png(tmp_path, monkeypatch):
    from matplotlib.figure import Figure
    saved = []
    savefig = Figure.savefig
    monkeypatch.setattr(Figure, "savefig", lambda fig, *a, **kw: (saved.append(fig), savefig(fig, *a, **kw)))
    main = runpy.run_path(str(ROOT / "scripts" / "train_many.py"))["main"]
    summary = main(["--limit", "20", "--epochs", "20", "--out-dir", str(tmp_path)])
    legend = saved[-1].legends[0]                           # the picture says what "solved" means
    assert legend.get_title().get_text() == "solved = all 8 outputs on the\nright side of 0.5"
    assert {"filled: solved", "hollow: not solved"} <= {t.get_text() for t in legend.get_texts()}
    with open(tmp_path / "losses.csv") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
    assert reader.fieldnames == ["index", "sampler", "activation", "n_edges", "n_hidden", "n_off_path",
                                 "n_inputs_used", "depth", "final_loss", "solved"]
    assert len(rows) == 20 and summary["topologies"] == 20
    assert [int(r["index"]) for r in rows] == list(range(20))
    assert all(float(r["final_loss"]) >= 0 and r["solved"] in ("True", "False") for r in rows)
    assert all(int(r["n_edges"]) >= 1 and int(r["depth"]) >= 1 for r in rows)
    assert (tmp_path / "losses.png").stat().st_size > 0


def test_topologies_jsonl_has_1000_parity_topologies():
    lines = (ROOT / "data" / "topologies.jsonl").read_text().splitlines()
    assert len(lines) == 1000
    for line in lines:
        record = json.loads(line)
        topo = mpnet.Topology.from_dict(record["topology"], warn=False)
        assert len(topo.inputs) == 3 and len(topo.outputs) == 1
        assert record["meta"]["sampler"] in ("random_dag", "small_world", "layered", "neat_minimal")
