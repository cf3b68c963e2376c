"""mpnet.viz.reliability: the bins are counted right, the counts are a panel of their own (no overlapping
numbers beside the points), bad confidences are refused by value."""
import math

import matplotlib
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from mpnet.viz.reliability import plot_reliability, reliability_bins, reliability_figure  # noqa: E402


def test_bins_hold_mean_confidence_fraction_right_and_count():
    samples = [(0.55, True), (0.58, False), (0.97, True), (1.0, True), (0.3, False)]
    assert reliability_bins(samples, (0.0, 0.5, 0.9, 1.0)) == [
        (0.3, 0.0, 1), (pytest.approx(0.565), 0.5, 2), (pytest.approx(0.985), 1.0, 2)]   # 1.0 falls in the last bin
    assert reliability_bins([]) == []


@pytest.mark.parametrize("bad", [1.2, -0.1, math.nan])
def test_a_confidence_outside_0_1_is_named(bad):
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\] \(got"):
        reliability_bins([(0.5, True), (bad, False)])
    with pytest.raises(ValueError, match="bins must increase"):
        reliability_bins([(0.5, True)], (0.0, 0.9, 0.5))


def test_each_method_has_its_points_and_its_counts_and_no_text_beside_them(tmp_path):
    samples = {"refit": [(0.52, True)] * 3 + [(0.97, True)] * 5, "ensemble": [(0.55, False), (0.96, True)]}
    fig = reliability_figure(samples)
    try:
        top, low = fig.axes
        lines = {line.get_gid(): line for ax in (top, low) for line in ax.lines if line.get_gid()}
        assert list(lines["points:refit"].get_ydata()) == [1.0, 1.0]
        assert list(lines["counts:refit"].get_ydata()) == [3, 5]
        assert list(lines["counts:ensemble"].get_ydata()) == [1, 1]
        assert len(top.texts) == len(low.texts) == 0                   # the counts are an axis, not labels
        assert low.get_ylabel() == "edges in\nthe bin"
        assert [t.get_text() for t in top.get_legend().get_texts()] == [
            "calibrated (right as often as said)", "refit (8 edges)", "ensemble (2 edges)"]
    finally:
        plt.close(fig)
    plot_reliability(samples, tmp_path / "r.png")
    assert (tmp_path / "r.png").read_bytes()[:4] == b"\x89PNG"
