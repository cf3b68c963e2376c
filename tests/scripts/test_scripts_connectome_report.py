"""The scoring of scripts/connectome_signs.py on tiny fake results (scripts/_connectome_report.py): each seed's
precision and fraction called, their mean and 95 % interval, the calibration verdict per confidence bin, the
edges called wrong in most seeds; and --quick's argument handling."""
import math
import runpy
import statistics
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def script():
    return runpy.run_path(str(ROOT / "scripts" / "connectome_signs.py"))


@pytest.fixture(scope="module")
def rep():
    return runpy.run_path(str(ROOT / "scripts" / "_connectome_report.py"))


def V(rep, src, true, sign, conf, majority=None, given=False, nt="Glutamate"):
    return rep["Verdict"]((src, "M"), nt, true, sign, majority or (sign if sign != "?" else true), conf, given)


def test_score_counts_inferred_called_and_right(rep):
    vs = [V(rep, "A", "+", "+", 0.9), V(rep, "B", "+", "-", 0.8), V(rep, "C", "-", "?", 0.5),
          V(rep, "D", "-", "-", 1.0, given=True)]                        # given: not inferred, not scored
    s = rep["score"](vs)
    assert (s["inferred"], s["called"], s["right"]) == (3, 2, 1)
    assert s["precision"] == 0.5 and s["fraction"] == pytest.approx(2 / 3)
    none = rep["score"]([V(rep, "C", "-", "?", 0.5)])
    assert none["called"] == 0 and math.isnan(none["precision"]) and none["fraction"] == 0


def test_interval_is_the_t_interval_of_the_mean(rep):
    xs = [0.7, 0.8, 0.9, 0.75, 0.85]
    mean, half, n = rep["interval"](xs)
    assert n == 5 and mean == pytest.approx(0.8)
    assert half == pytest.approx(2.776 * statistics.stdev(xs) / math.sqrt(5))   # t(0.975, 4 df) = 2.776
    mean, half, n = rep["interval"]([0.5, math.nan])                       # a seed that called nothing
    assert (mean, n) == (0.5, 1) and math.isnan(half)
    assert rep["interval"]([])[2] == 0


def test_wilson_interval(rep):
    lo, hi = rep["wilson"](8, 10)
    assert lo == pytest.approx(0.4902, abs=1e-4) and hi == pytest.approx(0.9433, abs=1e-4)   # textbook values
    assert rep["wilson"](10, 10)[1] == pytest.approx(1.0)


def test_calibration_says_which_bins_are_off(rep):
    # 20 edges at confidence 0.95 of which 10 right: not calibrated; 20 at 0.6 with 12 right: calibrated
    high = [V(rep, f"H{i}", "+", "+" if i < 10 else "-", 0.95) for i in range(20)]
    mid = [V(rep, f"M{i}", "+", "?", 0.6, majority="+" if i < 12 else "-") for i in range(20)]
    rows = rep["calibration"](high + mid)
    assert [(r["lo"], r["edges"], r["right"], r["calibrated"]) for r in rows] == [(0.5, 20, 0.6, 1.0),
                                                                                  (0.9, 20, 0.5, 0.0)]
    line = rep["calibration_verdict"](high + mid)
    assert "NOT calibrated" in line and "1 of 2 bins" in line and "[0.90, 1.00]: mean 0.95, right 50%" in line
    assert "consistent" in rep["calibration_verdict"](mid)
    table = rep["reliability"](high + mid).splitlines()
    assert table[2].split()[2:] == ["20", "0.60", "60%", "39%", "-", "78%", "yes"]
    assert table[1].split()[2] == "0" and table[4].split()[-1] == "no"


def test_failures_are_edges_wrong_in_most_seeds(rep):
    cell_class = {"RIAL": "RIA", "AWCL": "AWC", "AIBL": "AIB"}
    seed = lambda ria, awc, aib: [V(rep, "RIAL", "+", ria, 0.9), V(rep, "AWCL", "-", awc, 0.8),
                                  V(rep, "AIBL", "+", aib, 0.8)]
    runs = [seed("-", "+", "+"), seed("-", "-", "-"), seed("-", "?", "+")]   # RIA wrong 3x, AWC 1x, AIB 1x
    text = rep["failures"](runs, cell_class).splitlines()
    assert text[0].startswith("1 edges called wrong in more than half of the 3 seeds; by presynaptic class: RIA 1")
    assert text[2].split() == ["RIAL", "->", "M", "RIA", "Glutamate", "3", "3", "3"]
    assert "no edge" in rep["failures"]([seed("+", "-", "+")], cell_class)


def test_seeds_table_rows_and_mean(rep):
    stats = {"best_mse": 1e-3, "noise_mse": 5e-4, "output_variance": 0.1, "cpu_seconds": 2.0}
    runs = [(0, [V(rep, "A", "+", "+", 0.9), V(rep, "B", "+", "?", 0.5)], stats),
            (1, [V(rep, "A", "+", "+", 0.9), V(rep, "B", "+", "-", 0.8)], stats)]
    lines = rep["seeds_table"](runs).splitlines()
    assert lines[1].split()[:6] == ["0", "2", "1", "50%", "1", "100%"]
    assert lines[2].split()[:6] == ["1", "2", "2", "100%", "1", "50%"]
    # fraction 0.5, 1.0: mean 75 %, half-width 12.706 * 0.3536 / 1.414 = 318 %
    assert lines[3] == "mean over 2 seeds (95 % t interval): fraction called 75% +- 318%, precision 75% +- 318%"


def test_quick_sets_a_smaller_run_and_explicit_options_win(script):
    parse = lambda *a: script["config"](script["make_parser"]().parse_args(list(a)))
    default = parse()
    assert (default.seeds, default.noise, default.ensemble, default.classes) == (5, 0.05, 12, script["Config"]().classes)
    quick = parse("--quick")
    assert quick.classes == script["QUICK"] and (quick.seeds, quick.ensemble, quick.epochs) == (3, 6, 600)
    assert quick.seeds < default.seeds and quick.epochs < default.epochs and quick.sequences < default.sequences
    mixed = parse("--quick", "--seeds", "4", "--noise", "0", "--epochs", "50")
    assert (mixed.seeds, mixed.noise, mixed.epochs, mixed.ensemble, mixed.classes) == (4, 0.0, 50, 6, script["QUICK"])


@pytest.mark.parametrize("argv, pattern", [
    (["--quick", "--seeds", "0"], r"argument --seeds: expected an int in 1 \.\. 1000 \(got 0\)"),
    (["--noise", "-0.1"], r"argument --noise: expected a finite number >= 0 and <= 10 \(got '-0.1'\)"),
    (["--noise", "nan"], r"argument --noise: expected a finite number"),
    (["--jobs", "0"], r"argument --jobs: expected an int in 1 \.\. 64 \(got 0\)"),
    (["--steps", "3"], r"argument --steps: expected an int in 5 \.\. "),
    (["--quick", "--verdicts", "/tmp/x.txt"], r"argument --verdicts: .*x\.txt' should end in one of \['\.csv'\]"),
    (["--quick", "--fast"], r"unrecognized arguments: --fast"),
])
def test_bad_arguments_are_one_line(script, capsys, argv, pattern):
    import re
    with pytest.raises(SystemExit) as exit_:                                # argparse's mistakes exit, code 2
        script["guarded"](script["main"], argv, prog="connectome_signs.py")
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert re.search(pattern, err), err
