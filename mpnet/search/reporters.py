"""Watching a search: reporters called by the runner, and the picture of a run (fitness and species over
generations; the best network is drawn by :func:`mpnet.draw.draw`). Matplotlib is needed for pictures only.
"""
import os
from typing import TYPE_CHECKING, Optional, Union

from .history import History, Record

if TYPE_CHECKING:   # pragma: no cover
    from .runner import Result

__all__ = ["Reporter", "ProgressBar", "CSVReporter", "plot_history"]

PathLike = Union[str, os.PathLike]


class Reporter:
    """Hooks the runner calls: :meth:`start` once (also on resume), :meth:`generation` after each generation,
    :meth:`end` with the result. Override what you need."""

    def start(self, *, task, algorithm, generations: int, first: int) -> None:
        pass

    def generation(self, record: Record, history: History) -> None:
        pass

    def end(self, result: "Result") -> None:
        pass


class ProgressBar(Reporter):
    """A tqdm bar over the generations of one run, showing the best fitness and the species count."""

    def __init__(self, desc: Optional[str] = None, leave: bool = True):
        self.desc, self.leave, self.bar = desc, leave, None

    def start(self, *, task, algorithm, generations, first):
        from tqdm.auto import tqdm
        self.bar = tqdm(total=generations, initial=first, desc=self.desc or task.name, unit="gen",
                        leave=self.leave)

    def generation(self, record, history):
        self.bar.update(1)
        self.bar.set_postfix(best=f"{record.best_fitness:.4g}", species=record.species,
                             hidden=f"{record.mean_hidden:.1f}")

    def end(self, result):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class CSVReporter(Reporter):
    """Rewrites ``path`` (atomically) with the whole history after each generation."""

    def __init__(self, path: PathLike):
        self.path = path

    def generation(self, record, history):
        history.to_csv(self.path)


def plot_history(history: History, path: PathLike, title: str = "") -> None:
    """A PNG: best, mean and best-ever fitness over generations (left axis), species count (right axis)."""
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    gens = history.column("generation")
    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    ax.plot(gens, history.column("best_fitness"), label="best", color="tab:blue")
    ax.plot(gens, history.column("mean_fitness"), label="mean", color="tab:blue", alpha=0.5, linestyle="--")
    ax.plot(gens, history.column("best_ever"), label="best ever", color="black", linewidth=0.8)
    ax.set_xlabel("generation")
    ax.set_ylabel("fitness")
    right = ax.twinx()
    right.step(gens, history.column("species"), where="post", color="tab:orange", label="species")
    right.set_ylabel("species", color="tab:orange")
    lines = ax.get_legend_handles_labels()
    more = right.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], loc="lower right", fontsize=8)
    ax.set_title(title or "search")
    fig.tight_layout()
    fig.savefig(os.fspath(path))
    plt.close(fig)
