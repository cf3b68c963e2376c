"""scripts/sign_recovery.py's table logic (scripts/_sign_table.py) on a tiny fake run: the fractions, the interval,
the designed / random ratio and each target's verdict follow from the rows; the rows survive the CSV."""
import math
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import _sign_table as table  # noqa: E402


def _rows(teacher, condition, verdicts, effort="default", seconds=30.0, edges=20, measurements=0):
    """One row per edge; ``verdicts``: 'R' called right, 'W' called wrong, 'A' ambiguous (confirmed),
    'U' undecided; lower case: decided (called here, open in the passive run)."""
    rows = []
    for i, v in enumerate(verdicts):
        called = v.upper() in "RW"
        rows.append(dict(method="refit", effort=effort, condition=condition, activation="relu", noise=0.01,
                         teacher=teacher, edges=edges, src=f"x{i}", dst="y", truth="+", verdict="?" if not called
                         else "+" if v.upper() == "R" else "-", called=called, correct=v.upper() == "R",
                         ambiguous=v == "A", decided=v in "rw", measurements=measurements, seconds=seconds,
                         confidence=0.99 if called else 0.5, best_sign="+", ratio=1.0, floor_ratio=1.0))
    return rows


def _run(passive_s=30.0, designed="rrAU", random="rAUU"):
    return (_rows("t0", "passive", "RAAU", seconds=passive_s) + _rows("t1", "passive", "RRAA", seconds=50.0)
            + _rows("t0", "designed", "R" + designed[1:], measurements=2) + _rows("t1", "designed", designed,
                                                                                 measurements=2)
            + _rows("t0", "random", random, measurements=2) + _rows("t1", "random", random, measurements=2))


def test_wilson_interval_brackets_the_proportion_and_narrows_with_n():
    lo, hi = table.wilson(10, 10)
    assert hi == 1.0 and 0.69 < lo < 0.73           # 10 of 10: the 95 % Wilson lower bound is 0.722
    lo2, _ = table.wilson(100, 100)
    assert lo2 > lo
    assert all(math.isnan(x) for x in table.wilson(0, 0))


def test_summary_counts_called_ambiguous_and_undecided_per_edge():
    s = table.summarise(_rows("t0", "passive", "RWAU") + _rows("t1", "passive", "RRRA", seconds=10.0))
    assert (s["teachers"], s["edges"], s["called"], s["right"], s["wrong"]) == (2, 8, 5, 4, 1)
    assert s["precision"] == pytest.approx(0.8)
    assert (s["called_frac"], s["ambiguous_frac"], s["undecided_frac"]) == (5 / 8, 2 / 8, 1 / 8)
    assert s["seconds"] == pytest.approx(20.0)      # the median over teachers, one value per teacher


def test_ratio_counts_edges_decided_by_each_recording_condition():
    ratios = table.ratios(_run())
    assert ratios == [("relu noise 0.01 default", 3, 2, 1.5)]   # designed: r, r (t1) + r (t0); random: r, r
    assert table.ratios(_run(random="UUUU"))[0][3] == math.inf
    assert math.isnan(table.ratios(_run(designed="UUUU", random="UUUU"))[0][3])


def test_targets_say_met_and_not_met_from_the_rows():
    lines = table.targets(_run())
    assert lines[0].startswith("precision >= 0.97 in every cell: met")
    assert lines[1].startswith("undecided <= 10% of free edges in every cell: NOT MET")
    assert "relu default passive 12.5%" in lines[1]      # 1 of 8 passive edges neither called nor ambiguous
    assert lines[2].startswith("designed recordings decide >= 1.5x the edges of random ones: met")
    assert lines[3].startswith("median <= 60 CPU s per 15-30-edge ReLU teacher at default effort: met")
    worse = table.targets(_run(passive_s=100.0, designed="wAUU", random="rrUU"))
    assert "NOT MET" in worse[0] and "relu default designed rec. 50.0% (1 wrong of 2)" in worse[0]
    assert "NOT MET: relu noise 0.01 default 1 vs 4" in worse[2]
    assert "NOT MET: relu default passive median 75 s" in worse[3]    # median of 100 s and 50 s
    quick = [dict(r, effort="quick") for r in _run()]
    assert table.targets(quick)[3].endswith("not measured (no such run)")


def test_the_printout_has_a_line_per_cell_and_reads_back_from_csv(tmp_path):
    import sign_recovery
    rows = _run()
    sign_recovery.write_rows(rows, str(tmp_path))
    back = sign_recovery.read_rows(str(tmp_path / "edges.csv"))
    assert table.report(back) == table.report(rows)
    text = table.report(rows)
    lines = text.splitlines()
    assert [ln.split()[3] for ln in lines[2:5]] == ["passive", "designed", "random"]
    assert "ratio 1.50" in text and "targets (refit):" in text


def test_table_reprints_a_run_and_refuses_run_options(tmp_path, capsys):
    import sign_recovery
    sign_recovery.write_rows(_run(), str(tmp_path))
    sign_recovery.main(["--table", str(tmp_path)])
    assert capsys.readouterr().out.strip() == table.report(_run())
    for argv, match in ((["--table", str(tmp_path), "--teachers", "2"], "--table runs nothing, so --teachers"),
                        (["--table", str(tmp_path), "--rescore", str(tmp_path)], "--rescore runs nothing, so --table"),
                        (["--conditions", "passive,recorded"], "item 'recorded'"),
                        (["--efforts", "slow"], "item 'slow'")):
        with pytest.raises(SystemExit) as exit:
            sign_recovery.main(argv)
        assert exit.value.code == 2 and match in capsys.readouterr().err
