"""calibration: the shipped tables are measured (with their provenance), per effort level, and fit_table /
confidence behave: no bin asserts a confidence without enough edges behind it."""
import math

from mpnet.signs import calibration
from mpnet.signs.calibration import EDGES, MIN_EDGES, confidence, fit_table, load_table, wilson


def _check_table(table):
    assert table["samples"] >= 100 and table["teachers"] >= 4
    # the table says how many tested edges stand behind each bin, and they add up to the samples
    assert sum(n for q in table["counts"].values() for n, _ in q) == table["samples"]
    for q, values in table["confidence"].items():
        assert len(values) == len(EDGES) - 1
        assert all(0 < v < 1 for v in values) and values == sorted(values)   # probabilities, non-decreasing
        for i, (n, k) in enumerate(table["counts"][q]):
            if "supported" in table:
                assert table["supported"][q][i] == (n >= MIN_EDGES)
                if n >= MIN_EDGES:   # the confidence shown is within the measured rate's interval, or below it
                    assert values[i] <= table["interval"][q][i][1], (q, i, values[i], n, k)


def test_the_shipped_tables_were_measured_by_the_calibration_script():
    """A table per effort level from scripts/calibrate_signs.py, or (until that has been run) the one table
    measured at quick effort by scripts/sign_recovery.py --calibrate, which then serves every effort."""
    shipped = load_table()
    assert "provisional" not in shipped
    if "efforts" in shipped:
        assert shipped["command"].startswith("python scripts/calibrate_signs.py")
        assert set(shipped["efforts"]) == {"quick", "default"}
        for table in shipped["efforts"].values():
            assert "random" in table["conditions"]            # recorded neurons among the conditions
            _check_table(table)
    else:
        assert shipped["command"].startswith("python scripts/sign_recovery.py --calibrate")
        _check_table(shipped)


def test_fit_table_is_laplace_smoothed_and_monotone():
    samples = ([(5.0, 1.0, True)] * 12 + [(0.0, 1.0, True)] * 6 + [(0.0, 1.0, False)] * 6
               + [(0.3, 1.0, False)] * 10)
    table = fit_table(samples, command="test")
    floor = table["confidence"]["floor"]
    assert math.isclose(floor[EDGES.index(5.0)], 13 / 14, abs_tol=1e-4)      # (12 + 1) / (12 + 2)
    assert floor == sorted(floor)                                # 0.3's 0/10 pooled with 0.0's 6/12, not below it
    assert table["counts"]["floor"][EDGES.index(0.2)] == [10, 0]
    assert table["counts"]["above"] == [[0, 0]] * (len(EDGES) - 1)
    assert all(v == 0.5 for v in table["confidence"]["above"])   # no evidence: a coin
    assert table["supported"]["above"] == [False] * (len(EDGES) - 1)


def test_the_coin_below_a_first_supported_bin_under_a_half_is_lowered_to_it():
    table = fit_table([(0.05, 5.0, True)] * 4 + [(0.05, 5.0, False)] * 6)      # above the floor: 4 of 10 right
    above = table["confidence"]["above"]
    assert above[EDGES.index(0.03)] == round(5 / 12, 4) and above == sorted(above)
    assert above[:EDGES.index(0.03)] == [round(5 / 12, 4)] * EDGES.index(0.03)


def test_a_bin_with_too_few_edges_borrows_the_nearest_supported_bin_below():
    few = [(20.0, 1.0, True)] * (MIN_EDGES - 1)              # all right, but too few to speak
    table = fit_table([(0.3, 1.0, True)] * 10 + [(0.3, 1.0, False)] * 10 + few)
    floor = table["confidence"]["floor"]
    assert not table["supported"]["floor"][EDGES.index(10.0)]
    assert floor[EDGES.index(10.0)] == floor[EDGES.index(0.2)] == round(11 / 22, 4)
    assert all(v == 0.5 for v in floor[:EDGES.index(0.2)])      # nothing supported below: a coin


def test_each_effort_reads_its_own_table_and_an_unmeasured_one_the_lowest():
    good = fit_table([(3.0, 1.0, True)] * 40)
    poor = fit_table([(3.0, 1.0, True)] * 20 + [(3.0, 1.0, False)] * 20)
    tables = {"efforts": {"default": good, "quick": poor}}
    assert confidence(3.0, 1.0, tables, effort="default") > 0.95
    assert confidence(3.0, 1.0, tables, effort="quick") < 0.6
    assert confidence(3.0, 1.0, tables, effort=None) == confidence(3.0, 1.0, tables, effort="quick")


def test_confidence_reads_the_bin_of_ratio_and_quality():
    table = fit_table([(3.0, 1.0, True)] * 20 + [(3.0, 9.0, False)] * 20)
    assert confidence(3.0, 1.0, table) > 0.9 > 0.1 > confidence(3.0, 9.0, table)
    assert confidence(float("nan"), 1.0, table) == 0.0               # untested edge
    assert confidence(3.0, float("nan"), table) == confidence(3.0, 9.0, table)   # unknown quality: the worse class
    assert calibration.TABLE_PATH.endswith("calibration.json")


def test_wilson_interval():
    lo, hi = wilson(20, 20)
    assert 0.83 < lo < 0.84 and math.isclose(hi, 1.0)
    assert wilson(0, 0) == (0.0, 1.0)
