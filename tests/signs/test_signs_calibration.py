"""calibration: the shipped table is measured (with its provenance), and fit_table / confidence behave."""
import math

from mpnet.signs import calibration
from mpnet.signs.calibration import EDGES, confidence, fit_table, load_table


def test_the_shipped_table_was_measured_by_the_calibration_script():
    table = load_table()
    assert "provisional" not in table
    assert table["command"].startswith("python scripts/sign_recovery.py --calibrate")
    assert table["samples"] >= 100 and table["teachers"] >= 4
    # the table says how many tested edges stand behind each bin, and they add up to the samples
    assert sum(n for q in table["counts"].values() for n, _ in q) == table["samples"]
    for q, values in table["confidence"].items():
        assert len(values) == len(EDGES) - 1
        assert all(0 < v < 1 for v in values) and values == sorted(values)   # probabilities, non-decreasing


def test_fit_table_is_laplace_smoothed_and_monotone():
    samples = [(5.0, 1.0, True)] * 8 + [(0.0, 1.0, True), (0.0, 1.0, False)] + [(0.3, 1.0, False)] * 3
    table = fit_table(samples, command="test")
    floor = table["confidence"]["floor"]
    assert math.isclose(floor[EDGES.index(5.0)], 9 / 10)       # (8 + 1) / (8 + 2)
    assert floor == sorted(floor)                                # 0.3's 1/5 pooled with 0.0's 2/4, not below it
    assert table["counts"]["floor"][EDGES.index(0.2)] == [3, 0]
    assert table["counts"]["above"] == [[0, 0]] * (len(EDGES) - 1)
    assert all(v == 0.5 for v in table["confidence"]["above"])   # no evidence: a coin


def test_confidence_reads_the_bin_of_ratio_and_quality():
    table = fit_table([(3.0, 1.0, True)] * 20 + [(3.0, 9.0, False)] * 20)
    assert confidence(3.0, 1.0, table) > 0.9 > 0.1 > confidence(3.0, 9.0, table)
    assert confidence(float("nan"), 1.0, table) == 0.0               # untested edge
    assert confidence(3.0, float("nan"), table) == confidence(3.0, 9.0, table)   # unknown quality: the worse class
    assert calibration.TABLE_PATH.endswith("calibration.json")
