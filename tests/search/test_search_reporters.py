"""mpnet.search.reporters and history: the progress bar, the CSV, the fitness picture."""
from mpnet.search import NEAT, CSVReporter, History, plot_history, run, tasks


def test_progress_bar_and_csv_reporter(tmp_path, capsys):
    path = tmp_path / "live.csv"
    result = run(NEAT(2, 1, population=10, seed=0), tasks.XOR(), 3, progress=True, stop_when_solved=False,
                 reporters=[CSVReporter(path)])
    err = capsys.readouterr().err
    assert "xor" in err and "3/3" in err and "species=" in err
    assert len(path.read_text().splitlines()) == 4          # header + one row per generation, rewritten each time
    assert repr(result).startswith("Result(solved=False, generations=3, evaluations=30, best_fitness=")
    assert repr(result.history).startswith("History(generations=3, best_ever=")


def test_plot_history_writes_a_png(tmp_path):
    result = run(NEAT(2, 1, population=10, seed=0), tasks.XOR(), 2, progress=False, stop_when_solved=False)
    plot_history(result.history, tmp_path / "f.png", title="t")
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"
    assert isinstance(History.from_dicts(result.history.to_dicts()), History)


def test_history_figure_keeps_best_visible_over_best_ever_and_says_what_solved_means():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from mpnet.search.reporters import history_figure
    result = run(NEAT(2, 1, population=10, seed=0), tasks.XOR(), 4, progress=False, stop_when_solved=False)
    fig = history_figure(result.history, "t", solved_at=3.9, criterion=tasks.XOR().describe())
    try:
        fig.canvas.draw()
        ax = fig.axes[0]
        lines = {l.get_gid(): l for l in ax.lines}
        best, ever = lines["best"], lines["best_ever"]
        # where the two agree, the per-generation best is drawn on top of, and narrower than, the best-ever band
        assert best.get_zorder() > ever.get_zorder() and ever.get_linewidth() > 3 * best.get_linewidth()
        assert list(lines["solved_at"].get_ydata()) == [3.9, 3.9]
        legend = ax.get_legend()
        assert [t.get_text() for t in legend.get_texts()][:4] == [
            "best ever", "best of the generation", "mean of the generation", "solved at >= 3.9"]
        renderer = fig.canvas.get_renderer()
        assert legend.get_window_extent(renderer).x0 >= ax.get_window_extent(renderer).x1   # outside the plot
        assert any(t.get_text() == "solved means: " + tasks.XOR().describe() for t in fig.texts)
    finally:
        plt.close(fig)


def test_progress_bar_refuses_a_generation_before_start():
    import pytest

    from mpnet.search import ProgressBar
    with pytest.raises(RuntimeError, match="before ProgressBar.start"):
        ProgressBar().generation(None, History())
