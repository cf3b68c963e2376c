"""Watching a search: reporters called by the runner, and the picture of a run (fitness and species over
generations; the best network is drawn by :func:`mpnet.viz.draw.draw`). Matplotlib is needed for pictures only.
"""
import os
from typing import TYPE_CHECKING, Any, Optional, Union

from .history import History, Record

if TYPE_CHECKING:   # pragma: no cover
    from matplotlib.figure import Figure
    from tqdm import tqdm as Tqdm

    from .contract import Algorithm, Result
    from .tasks import Task

__all__ = ["Reporter", "ProgressBar", "CSVReporter", "plot_history", "history_figure"]

PathLike = Union[str, "os.PathLike[str]"]


class Reporter:
    """Hooks the runner calls: :meth:`start` once (also on resume), :meth:`generation` after each generation,
    :meth:`end` with the result. Override what you need."""

    def start(self, *, task: "Task", algorithm: "Algorithm", generations: int, first: int) -> None:
        """Called once before the first generation (also on resume).

        Args:
            task: the :class:`~mpnet.search.tasks.Task`.
            algorithm: the :class:`~mpnet.search.NEAT` instance.
            generations: the generation cap of the run.
            first: the generation the run starts at (0, or where a resumed run left off).
        """

    def generation(self, record: Record, history: History) -> None:
        """Called after each generation.

        Args:
            record: that generation's :class:`~mpnet.search.history.Record`.
            history: every record so far, this one included.
        """

    def end(self, result: "Result") -> None:
        """Called once with the run's :class:`~mpnet.search.contract.Result`.

        Args:
            result: what :func:`~mpnet.search.run` returns.
        """


class ProgressBar(Reporter):
    """A tqdm bar over the generations of one run, showing the best fitness and the species count."""

    def __init__(self, desc: Optional[str] = None, leave: bool = True) -> None:
        self.desc, self.leave = desc, leave
        self.bar: "Optional[Tqdm[Any]]" = None     # a bar without an iterable: its item type is moot

    def start(self, *, task: "Task", algorithm: "Algorithm", generations: int, first: int) -> None:
        """Open the bar at ``first`` of ``generations``.

        Args:
            task: the task (its name labels the bar unless ``desc`` was given).
            algorithm: the search algorithm (unused).
            generations: the generation cap of the run.
            first: the generation the run starts at.
        """
        from tqdm.auto import tqdm
        self.bar = tqdm(total=generations, initial=first, desc=self.desc or task.name, unit="gen",
                        leave=self.leave)

    def generation(self, record: Record, history: History) -> None:
        """Advance the bar and show the best fitness, species and mean hidden neurons.

        Args:
            record: that generation's record.
            history: every record so far (unused).

        Raises:
            RuntimeError: :meth:`start` was not called first.
        """
        if self.bar is None:
            raise RuntimeError("ProgressBar.generation was called before ProgressBar.start (the runner calls start "
                               "first).")
        self.bar.update(1)
        self.bar.set_postfix(best=f"{record.best_fitness:.4g}", species=record.species,
                             hidden=f"{record.mean_hidden:.1f}")

    def end(self, result: "Result") -> None:
        """Close the bar.

        Args:
            result: the run's result (unused).
        """
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class CSVReporter(Reporter):
    """Rewrites ``path`` (atomically) with the whole history after each generation."""

    def __init__(self, path: PathLike) -> None:
        self.path = path

    def generation(self, record: Record, history: History) -> None:
        """Rewrite the CSV with every record so far.

        Args:
            record: that generation's record (already in ``history``).
            history: every record so far.
        """
        history.to_csv(self.path)


def plot_history(history: History, path: PathLike, title: str = "", *, solved_at: Optional[float] = None,
                 criterion: str = "") -> None:
    """Write :func:`history_figure` to ``path`` (``.png``, ``.svg``, ``.pdf``).

    Args:
        history: the run's :class:`History`.
        path: the file to write.
        title: the heading.
        solved_at: the fitness at which the task counts as solved, if it is a fitness threshold.
        criterion: one line saying what "solved" means (e.g. the task's ``describe()``).
    """
    import matplotlib.pyplot as plt
    fig = history_figure(history, title, solved_at=solved_at, criterion=criterion)
    try:
        fig.savefig(os.fspath(path))
    finally:
        plt.close(fig)


def history_figure(history: History, title: str = "", *, solved_at: Optional[float] = None,
                   criterion: str = "") -> "Figure":
    """The picture of a run as a matplotlib figure: fitness over generations on top, the number of species below.

    The best fitness ever is a wide pale band and each generation's best a line with dots on it, so both stay
    visible where they agree; the mean is dashed. Generations where some network met the task's criterion
    are marked with a star, ``solved_at`` is drawn as a dotted line, and the legend sits outside the plot.

    Args:
        history: the run's :class:`History`.
        title: the heading.
        solved_at: the fitness at which the task counts as solved, if it is a fitness threshold.
        criterion: one line saying what "solved" means (e.g. the task's ``describe()``), printed at the bottom.

    Returns:
        The figure (close it with ``matplotlib.pyplot.close`` when done).
    """
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    gens = history.column("generation")
    fig, (ax, low) = plt.subplots(2, 1, figsize=(7.5, 5.2), dpi=100, sharex=True,
                                  gridspec_kw={"height_ratios": [3, 1]})
    ax.plot(gens, history.column("best_ever"), color="#f0a35e", linewidth=7, alpha=0.55, solid_capstyle="round",
            label="best ever", zorder=1, gid="best_ever")
    ax.plot(gens, history.column("best_fitness"), color="tab:blue", linewidth=1.3, marker="o", markersize=2.5,
            label="best of the generation", zorder=3, gid="best")
    ax.plot(gens, history.column("mean_fitness"), color="tab:blue", alpha=0.6, linestyle="--", linewidth=1,
            label="mean of the generation", zorder=2, gid="mean")
    if solved_at is not None:
        ax.axhline(solved_at, color="tab:green", linestyle=":", linewidth=1.2, label=f"solved at >= {solved_at:.4g}",
                   gid="solved_at")
    solved = [(g, f) for g, f, s in zip(gens, history.column("best_fitness"), history.column("solved")) if s]
    if solved:
        ax.plot([g for g, _ in solved], [f for _, f in solved], linestyle="none", marker="*", markersize=9,
                color="tab:green", label="a network met the criterion", zorder=4)
    ax.set_ylabel("fitness")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    low.step(gens, history.column("species"), where="post", color="tab:gray")
    low.set_ylabel("species")
    low.set_xlabel("generation")
    low.grid(alpha=0.3)
    ax.set_title(title or "search", fontsize=10)
    if criterion:
        fig.text(0.01, 0.005, f"solved means: {criterion}", fontsize=7.5, color="#444444", ha="left", va="bottom")
    fig.tight_layout(rect=(0, 0.03 if criterion else 0, 1, 1))
    return fig
