"""A reliability diagram of sign verdicts (viz stage; optional extra ``viz``): how often a sign is right
against the confidence given to it, per method, with how many edges each point stands for.

The upper panel has one point per confidence bin and method: across, the bin's mean confidence; up, the
fraction of its edges whose sign was right; a calibrated confidence lies on the dashed diagonal. The lower
panel, on the same axis, says how many edges each point averages, so a point made of two edges is seen to be
one. No number is written beside a point (they used to overlap); the lower panel's axis carries them.
"""
import os
from typing import TYPE_CHECKING, Dict, List, Mapping, Sequence, Tuple, Union

if TYPE_CHECKING:   # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["BINS", "reliability_bins", "reliability_figure", "plot_reliability"]

#: Edges of the confidence bins (the last one closed at 1).
BINS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0)
_MARKERS = ("o", "s", "^", "D", "v")


def reliability_bins(samples: Sequence[Tuple[float, bool]],
                     bins: Sequence[float] = BINS) -> List[Tuple[float, float, int]]:
    """``(mean confidence, fraction right, edges)`` of each non-empty bin.

    Args:
        samples: ``(confidence, right)`` per edge; confidences in [0, 1].
        bins: increasing bin edges; a bin holds ``lo <= c < hi``, the last one also ``c == hi``.

    Raises:
        ValueError: a confidence outside [0, 1] or not a number, or bins that do not increase.
    """
    if any(b >= c for b, c in zip(bins, bins[1:])) or len(bins) < 2:
        raise ValueError(f"reliability_bins: bins must increase (got {list(bins)!r}).")
    for c, _ in samples:
        if not 0.0 <= c <= 1.0:   # also false for nan
            raise ValueError(f"reliability_bins: a confidence must lie in [0, 1] (got {c!r}).")
    out = []
    for i, (lo, hi) in enumerate(zip(bins, bins[1:])):
        last = i == len(bins) - 2
        inside = [(c, r) for c, r in samples if lo <= c < hi or (last and c == hi)]
        if inside:
            out.append((sum(c for c, _ in inside) / len(inside), sum(bool(r) for _, r in inside) / len(inside),
                        len(inside)))
    return out


def reliability_figure(samples: Mapping[str, Sequence[Tuple[float, bool]]], *,
                       title: str = "sign inference: confidence against fraction right",
                       bins: Sequence[float] = BINS) -> "Figure":
    """The diagram (see the module docstring): ``samples`` maps each method to its ``(confidence, right)``
    pairs. The points of method ``m`` carry the gid ``"points:m"``, its counts ``"counts:m"``.

    Raises:
        ImportError: matplotlib is missing (``pip install 'mpnet[viz]'``).
        ValueError: as :func:`reliability_bins`.
    """
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, (ax, low) = plt.subplots(2, 1, figsize=(6.0, 5.6), sharex=True, gridspec_kw={"height_ratios": [3, 1.2]})
    ax.plot([0.5, 1], [0.5, 1], linestyle="--", color="grey", linewidth=1, label="calibrated (right as often as said)")
    per: Dict[str, List[Tuple[float, float, int]]] = {m: reliability_bins(s, bins) for m, s in samples.items()}
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (method, points) in enumerate(per.items()):
        if not points:
            continue
        xs, ys, ns = zip(*points)
        color, marker = colors[i % len(colors)], _MARKERS[i % len(_MARKERS)]
        ax.plot(xs, ys, marker=marker, color=color, label=f"{method} ({sum(ns)} edges)", gid=f"points:{method}")
        low.vlines(xs, 0, ns, color=color, linewidth=1.2)
        low.plot(xs, ns, linestyle="none", marker=marker, color=color, markersize=4, gid=f"counts:{method}")
    ax.set_ylabel("fraction of signs right")
    ax.set_ylim(min([0.45] + [y - 0.05 for pts in per.values() for _, y, _ in pts]), 1.03)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    low.set_ylabel("edges in\nthe bin")
    low.set_ylim(0, max([1] + [n for pts in per.values() for _, _, n in pts]) * 1.15)
    low.set_xlabel(f"confidence given (mean of its bin; bins at {', '.join(f'{b:g}' for b in bins[1:-1])})")
    low.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_reliability(samples: Mapping[str, Sequence[Tuple[float, bool]]], path: Union[str, "os.PathLike[str]"], *,
                     title: str = "sign inference: confidence against fraction right", bins: Sequence[float] = BINS,
                     dpi: int = 120) -> None:
    """Write :func:`reliability_figure` to ``path`` (``.png``, ``.svg``, ``.pdf``; ``dpi`` for PNG)."""
    import matplotlib.pyplot as plt
    fig = reliability_figure(samples, title=title, bins=bins)
    try:
        fig.savefig(os.fspath(path), dpi=dpi)
    finally:
        plt.close(fig)
