"""A connectome drawn as a biologist reads one: neurons in columns by type, grouped by class; edges coloured by
sign and faded by confidence (signs stage, beside :mod:`mpnet.viz.draw`; optional extra ``viz``).

Columns, left to right: sensory neurons, interneurons, motor neurons (and any other type), from each node's
``meta["type"]``; inside a column neurons of one ``meta["cell_class"]`` sit together, the class named once
beside them. A chemical edge is a curve coloured by its sign (red ``+``, blue ``-``, grey unknown), paler the
lower its confidence (as in :mod:`mpnet.viz.draw`); a gap junction is a thin dashed grey line.
"""
import os
from typing import TYPE_CHECKING, Dict, Hashable, List, Mapping, Optional, Tuple, Union

from .draw import NEGATIVE, POSITIVE, UNKNOWN, _fade
from ..graph.elements import NodeId
from ..graph.topology import Topology

if TYPE_CHECKING:   # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["draw_connectome", "connectome_figure"]

_ORDER = ["sensory", "interneuron", "motor"]


def _columns(topo: Topology) -> Dict[str, List[NodeId]]:
    """Neuron ids per type, sorted by class then name (inputs left out)."""
    cols: Dict[str, List[NodeId]] = {}
    for n, node in topo.nodes.items():
        if node.role == "input":
            continue
        kind = (node.meta or {}).get("type", "other")
        cols.setdefault(kind, []).append(n)
    order = [k for k in _ORDER if k in cols] + sorted(k for k in cols if k not in _ORDER)
    cls = lambda n: ((topo.nodes[n].meta or {}).get("cell_class", str(n)), str(n))
    return {k: sorted(cols[k], key=cls) for k in order}


def connectome_figure(topo: Topology, signs: Optional[Mapping[Tuple[Hashable, Hashable], Tuple[str, float]]] = None,
                      *, title: Optional[str] = None) -> "Figure":
    """The matplotlib figure (see the module docstring).

    Args:
        topo: a connectome topology (:mod:`mpnet.connectome`): nodes with ``meta`` ``type`` and ``cell_class``,
            chemical edges with ``meta["transmitter"]``, gap junctions as ties named ``gap:a|b``.
        signs: ``{(src, dst): (sign, confidence)}`` for chemical edges; an edge not in it is drawn from its
            declared sign (grey when free) at full confidence.
        title: above the picture.

    Raises:
        ImportError: matplotlib is missing (``pip install 'mpnet[viz]'``).
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import FancyArrowPatch

    cols = _columns(topo)
    tallest = max(len(v) for v in cols.values())
    fig, ax = plt.subplots(figsize=(4.2 * len(cols) + 1.5, max(5.0, 0.19 * tallest + 1.5)))
    pos: Dict[Hashable, Tuple[float, float]] = {}
    for c, (kind, ids) in enumerate(cols.items()):
        x = 3.0 * c
        for i, n in enumerate(ids):
            pos[n] = (x, (len(ids) - 1) / 2 - i)   # each column centred on y = 0
        ax.text(x, (tallest - 1) / 2 + 1.2, kind, ha="center", va="bottom", fontsize=11, weight="bold")
        last = None
        for n in ids:   # the class name once per run of neurons of one class
            cls = (topo.nodes[n].meta or {}).get("cell_class", str(n))
            if cls != last:
                ax.text(x - 0.25, pos[n][1], cls, ha="right", va="center", fontsize=6.5)
                last = cls
    for (s, d), e in topo.edges.items():
        if s not in pos or d not in pos or not (e.meta or {}).get("transmitter"):
            continue
        sign, conf = (signs or {}).get((s, d), (e.sign or "?", 1.0))
        color = _fade({"+": POSITIVE, "-": NEGATIVE}.get(sign, UNKNOWN), conf)
        bend = 0.25 if pos[s][0] == pos[d][0] else 0.08
        ax.add_patch(FancyArrowPatch(pos[s], pos[d], connectionstyle=f"arc3,rad={bend}", arrowstyle="-|>",
                                     mutation_scale=5, lw=0.5 + 0.6 * conf, color=color, zorder=1 + conf))
    for name in topo.ties:
        if name.startswith("gap:"):
            a, b = name[4:].split("|")
            if a in pos and b in pos:
                ax.plot(*zip(pos[a], pos[b]), ls=(0, (2, 2)), lw=0.5, color="#9a9a9a", zorder=0.5)
    xs = [p[0] for p in pos.values()]
    ax.scatter(xs, [p[1] for p in pos.values()], s=14, c="white", edgecolors="black", linewidths=0.6, zorder=5)
    ax.set_xlim(min(xs) - 1.6, max(xs) + 1.0)
    ax.axis("off")
    handles = [Line2D([], [], color=POSITIVE, label="+ excitatory"),
               Line2D([], [], color=NEGATIVE, label="- inhibitory"),
               Line2D([], [], color=UNKNOWN, label="? unknown"),
               Line2D([], [], color=_fade(POSITIVE, 0.5), label="paler: lower confidence"),
               Line2D([], [], color="#9a9a9a", ls=(0, (2, 2)), label="gap junction")]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=5, fontsize=8, frameon=False)
    ax.set_ylim(-(tallest - 1) / 2 - 1.0, (tallest - 1) / 2 + 2.2)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def draw_connectome(topo: Topology, signs: Optional[Mapping[Tuple[Hashable, Hashable], Tuple[str, float]]],
                    path: Union[str, "os.PathLike[str]"], *, title: Optional[str] = None, dpi: int = 100) -> None:
    """Write :func:`connectome_figure` to ``path`` (PNG, SVG or PDF by its extension; ``dpi`` for PNG)."""
    import matplotlib.pyplot as plt
    fig = connectome_figure(topo, signs, title=title)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
