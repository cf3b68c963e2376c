"""Pictures of networks and sign reports with matplotlib (optional extra ``viz``; no graphviz needed).

Neurons are laid out by depth, inputs on the left and outputs on the right. Edges are red when positive
and blue when negative, as wide as their weight is large; a sign report fades edges by confidence and
dashes the ones whose sign no data can determine.
"""
import os
from typing import Dict, Hashable, Optional, Tuple, Union

from .topology import Topology

__all__ = ["draw"]

POSITIVE, NEGATIVE, UNKNOWN = "#c0392b", "#2c62b4", "#999999"


def _layout(topo: Topology) -> Dict[Hashable, Tuple[float, float]]:
    depth = topo.depth()
    last = max(depth.values())
    for o in topo.outputs:          # outputs share the rightmost column
        depth[o] = max(last, 1)
    columns: Dict[int, list] = {}
    for node_id in topo.nodes:
        columns.setdefault(depth[node_id], []).append(node_id)
    pos = {}
    for d, ids in columns.items():
        for i, node_id in enumerate(ids):
            pos[node_id] = (float(d), (len(ids) - 1) / 2.0 - i)
    return pos


def draw(obj, path: Union[str, os.PathLike], *, title: Optional[str] = None, labels: bool = True,
         figsize: Optional[Tuple[float, float]] = None) -> None:
    """Draw a :class:`~mpnet.Topology`, a single-topology :class:`~mpnet.Network` or a
    :class:`~mpnet.signs.SignReport` to ``path`` (``.png``, ``.svg`` or ``.pdf``, by extension).

    Raises:
        ImportError: matplotlib is missing (``pip install mpnet[viz]``).
        TypeError: ``obj`` is none of the above.
    """
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as err:   # pragma: no cover - depends on the environment
        raise ImportError("mpnet.draw needs matplotlib: pip install 'mpnet[viz]'") from err
    from .signs import SignReport
    report = None
    if isinstance(obj, SignReport):
        report = {r.key: r for r in obj.edges}
        topo = obj.topology
        if topo is None:
            raise ValueError("This SignReport has no topology (no member fitted); nothing to draw.")
    elif isinstance(obj, Topology):
        topo = obj
    elif hasattr(obj, "to_topology") and not getattr(obj, "batched", False):
        topo = obj.to_topology()
    else:
        raise TypeError(f"Expected a Topology, a single-topology Network or a SignReport (got {type(obj).__name__}).")

    pos = _layout(topo)
    weights = [abs(e.weight) for e in topo.edges.values() if e.weight is not None]
    scale = max(weights) if weights else 1.0
    width = max(len(set(x for x, _ in pos.values())) * 1.6, 4.0)
    height = max(max(sum(1 for p in pos.values() if p[0] == x) for x, _ in pos.values()) * 0.8, 3.0)
    fig, ax = plt.subplots(figsize=figsize or (min(width, 24), min(height, 18)))
    for key, edge in topo.edges.items():
        (x0, y0), (x1, y1) = pos[edge.src], pos[edge.dst]
        w = edge.weight
        color = UNKNOWN if w is None or w == 0 else POSITIVE if w > 0 else NEGATIVE
        alpha, style = 0.9, "-"
        if report is not None:
            row = report[key]
            color = POSITIVE if row.sign == "+" else NEGATIVE if row.sign == "-" else color
            alpha = 0.25 + 0.7 * row.confidence
            style = "-" if row.identifiable else "--"
        lw = 0.5 + 3.5 * (abs(w) / scale if w is not None else 0.2)
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                    arrowprops=dict(arrowstyle="-|>", color=color, alpha=alpha, lw=lw, linestyle=style,
                                    shrinkA=9, shrinkB=9, connectionstyle="arc3,rad=0.08"))
    for node_id, node in topo.nodes.items():
        x, y = pos[node_id]
        face = {"input": "#f4f4f4", "output": "#fde9c9"}.get(node.role, "white")
        edge_color = {"+": POSITIVE, "-": NEGATIVE}.get(node.dale, "black")
        ax.scatter([x], [y], s=420, c=face, edgecolors=edge_color, linewidths=1.5, zorder=3)
        if labels:
            ax.text(x, y, str(node_id), ha="center", va="center", fontsize=8, zorder=4)
    ax.set_axis_off()
    ax.set_title(title or ("edge signs: red +, blue -, faded = unsure, dashed = undeterminable" if report
                           else "red: positive, blue: negative, width ~ |w|"), fontsize=9)
    ax.margins(0.12)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
