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
