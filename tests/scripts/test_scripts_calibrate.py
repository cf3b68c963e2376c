"""scripts/calibrate_signs.py end to end on one small teacher at quick effort (slow: about four CPU minutes): every tested edge
of both conditions lands in edges.csv as its teacher ends, and the table it writes (to --table, never the shipped
one here) bins exactly those edges, per effort."""
import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_one_teacher_at_quick_effort_writes_its_rows_and_a_table_of_them(tmp_path):
    table = tmp_path / "calibration.json"
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "calibrate_signs.py"), "--teachers", "1",
                          "--efforts", "quick", "--seed", "7938", "--out-dir", str(tmp_path / "run"), "--table", str(table)],
                         capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert out.returncode == 0, out.stderr[-2000:]
    with open(tmp_path / "run" / "edges.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {r["condition"] for r in rows} == {"passive", "random"} and {r["effort"] for r in rows} == {"quick"}
    written = json.loads(table.read_text())
    assert list(written["efforts"]) == ["quick"]
    assert written["command"] == "python scripts/calibrate_signs.py --teachers 1 --efforts quick --seed 7938"
    tested = [r for r in rows if float(r["ratio"]) == float(r["ratio"])]      # NaN: an edge not tested
    counts = written["efforts"]["quick"]["counts"]
    assert sum(n for quality in counts.values() for n, _ in quality) == len(tested) > 0
