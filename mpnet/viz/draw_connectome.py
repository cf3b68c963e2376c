"""A connectome drawn as an adjacency matrix ordered by neuron type and class (viz stage, beside
:mod:`mpnet.viz.draw`; optional extra ``viz``), not as hundreds of overlapping curves.

Rows are the presynaptic neurons, columns the postsynaptic ones, both in the same order: by type (sensory,
interneuron, motor, then any other ``meta["type"]``), then by ``meta["cell_class"]``, then by name; thin lines
part the classes, thick lines the types, and each class is named once on both axes. A chemical synapse is a
square in its cell: filled red (``+``) or blue (``-``) when its sign is called, paler the lower its
confidence; an open grey square when it is not (``?``). A gap junction is a black dot, in both of its cells.
The legend lists only what the matrix shows.
"""
import os
from typing import TYPE_CHECKING, Hashable, List, Mapping, Optional, Set, Tuple, Union

from .edge_style import MINUS, NEGATIVE, POSITIVE, UNKNOWN, fade
from ..graph.elements import NodeId
from ..graph.topology import Topology

if TYPE_CHECKING:   # pragma: no cover
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["draw_connectome", "connectome_figure", "neuron_order"]

_ORDER = ["sensory", "interneuron", "motor"]
_CELL = 0.17          # inches per matrix cell
_INSET = 0.1          # a synapse's square leaves this share of its cell free on each side
Signs = Mapping[Tuple[Hashable, Hashable], Tuple[str, float]]


def neuron_order(topo: Topology) -> List[Tuple[NodeId, str, str]]:
    """``(neuron, type, class)`` for every neuron that is not an input, by type, class, then name."""
    rank = {k: i for i, k in enumerate(_ORDER)}
    out = []
    for n, node in topo.nodes.items():
        if node.role == "input":
            continue
        meta = node.meta or {}
        out.append((n, str(meta.get("type", "other")), str(meta.get("cell_class", n))))
    return sorted(out, key=lambda t: (rank.get(t[1], len(_ORDER)), t[1], t[2], str(t[0])))


def _runs(labels: List[str]) -> List[Tuple[str, int, int]]:
    """``(label, first, last + 1)`` for each run of equal neighbours."""
    runs: List[Tuple[str, int, int]] = []
    for i, lab in enumerate(labels):
        if runs and runs[-1][0] == lab:
            runs[-1] = (lab, runs[-1][1], i + 1)
        else:
            runs.append((lab, i, i + 1))
    return runs


def _gaps(topo: Topology, index: Mapping[NodeId, int]) -> List[Tuple[int, int]]:
    """Matrix cells ``(row, column)`` of every gap junction between two drawn neurons (both directions)."""
    cells = []
    for name in topo.ties:
        if str(name).startswith("gap:"):
            a, b = str(name)[4:].split("|")
            if a in index and b in index:
                cells += [(index[a], index[b]), (index[b], index[a])]
    return cells


def connectome_figure(topo: Topology, signs: Optional[Signs] = None, *, title: Optional[str] = None) -> "Figure":
    """The matplotlib figure (see the module docstring). Each synapse's square has the gid
    ``"edge:<src>-><dst>"``, the gap junctions' dots ``"gaps"``.

    Args:
        topo: a connectome topology (:mod:`mpnet.connectome`): nodes with ``meta`` ``type`` and ``cell_class``,
            chemical edges with ``meta["transmitter"]``, gap junctions as ties named ``gap:a|b``.
        signs: ``{(src, dst): (sign, confidence)}`` for chemical edges, ``sign`` the verdict ``+``, ``-`` or
            ``?``; an edge not in it is drawn from its declared sign (``?`` when free) at full confidence.
        title: above the picture.

    Raises:
        ImportError: matplotlib is missing (``pip install 'mpnet[viz]'``).
        ValueError: ``topo`` has no neuron besides its inputs, or a sign is none of ``+``, ``-``, ``?``.
    """
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    order = neuron_order(topo)
    if not order:
        raise ValueError("connectome_figure: the topology has no neuron besides its inputs; nothing to draw.")
    index = {n: i for i, (n, _, _) in enumerate(order)}
    size = len(order)
    fig = plt.figure(figsize=(size * _CELL + 2.4, size * _CELL + 2.6))
    w, h = fig.get_size_inches()
    ax = fig.add_axes((1.5 / w, 1.0 / h, size * _CELL / w, size * _CELL / h))
    ax.set_xlim(0, size)
    ax.set_ylim(size, 0)
    seen: Set[str] = set()
    for (s, d), e in topo.edges.items():
        if s not in index or d not in index or not (e.meta or {}).get("transmitter"):
            continue
        sign, conf = (signs or {}).get((s, d), (e.sign or "?", 1.0))
        if sign not in ("+", "-", "?"):
            raise ValueError(f"connectome_figure: edge {s!r} -> {d!r} has sign {sign!r}; expected '+', '-' or '?'.")
        x, y, side = index[d] + _INSET, index[s] + _INSET, 1 - 2 * _INSET
        if sign == "?":
            patch = Rectangle((x, y), side, side, facecolor="white", edgecolor=UNKNOWN, linewidth=0.7)
        else:
            patch = Rectangle((x, y), side, side, facecolor=fade(POSITIVE if sign == "+" else NEGATIVE, conf),
                              edgecolor="none")
        patch.set_gid(f"edge:{s}->{d}")
        ax.add_patch(patch)
        seen.add("?" if sign == "?" else f"{sign} pale" if conf < 0.99 else sign)
    gaps = _gaps(topo, index)
    if gaps:
        ax.plot([c + 0.5 for _, c in gaps], [r + 0.5 for r, _ in gaps], linestyle="none", marker="o",
                markersize=2.2, color="black", zorder=3, gid="gaps")
    _frame(ax, order)
    _legend(fig, seen, bool(gaps))
    if title:
        fig.text(0.5, 1 - 0.3 / h, title, ha="center", va="center", fontsize=11, gid="title")
    return fig


def _frame(ax: "Axes", order: List[Tuple[NodeId, str, str]]) -> None:
    """Lines between classes (thin) and types (thick), class names on both axes, type names outside them."""
    size = len(order)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_linewidth(1.2)
    classes = _runs([f"{t}\0{c}" for _, t, c in order])
    types = _runs([t for _, t, _ in order])
    for _, lo, _ in classes[1:]:
        ax.axhline(lo, color="#d0d0d0", linewidth=0.5, zorder=0)
        ax.axvline(lo, color="#d0d0d0", linewidth=0.5, zorder=0)
    for _, lo, _ in types[1:]:
        ax.axhline(lo, color="#333333", linewidth=1.2, zorder=4)
        ax.axvline(lo, color="#333333", linewidth=1.2, zorder=4)
    for label, lo, hi in classes:
        name = label.split("\0")[1]
        ax.text(-0.4, (lo + hi) / 2, name, ha="right", va="center", fontsize=6.5, gid=f"class-row:{name}")
        ax.text((lo + hi) / 2, -0.4, name, ha="center", va="bottom", rotation=90, fontsize=6.5,
                gid=f"class-col:{name}")
    for kind, lo, hi in types:
        ax.text(-4.6, (lo + hi) / 2, kind, ha="center", va="center", rotation=90, fontsize=9, weight="bold")
        ax.text((lo + hi) / 2, -3.9, kind, ha="center", va="bottom", fontsize=9, weight="bold")
    ax.text(size / 2, size + 0.6, "postsynaptic neuron (to)", ha="center", va="top", fontsize=9)
    ax.text(size + 0.6, size / 2, "presynaptic neuron (from)", ha="left", va="center", rotation=270, fontsize=9)


def _legend(fig: "Figure", seen: Set[str], gaps: bool) -> None:
    """One row under the matrix, an entry per style drawn."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    def square(face: object, edge: object = "none") -> Patch:
        return Patch(facecolor=face, edgecolor=edge, linewidth=0.7)   # type: ignore[arg-type]

    entries: List[Tuple["Artist", str]] = []
    if "+" in seen or "+ pale" in seen:
        entries.append((square(POSITIVE), "+ excitatory (called)"))
    if "-" in seen or "- pale" in seen:
        entries.append((square(NEGATIVE), f"{MINUS} inhibitory (called)"))
    if "+ pale" in seen or "- pale" in seen:
        entries.append((square(fade(POSITIVE if "+ pale" in seen else NEGATIVE, 0.75)),
                        "paler: lower confidence (0.75 shown)"))
    if "?" in seen:
        entries.append((square("white", UNKNOWN), "? not called"))
    if gaps:
        entries.append((Line2D([], [], linestyle="none", marker="o", markersize=3, color="black"),
                        "gap junction (both cells)"))
    if entries:
        leg = fig.legend([e for e, _ in entries], [n for _, n in entries], loc="lower center", ncol=len(entries),
                         fontsize=8, frameon=False, bbox_to_anchor=(0.5, 0.0))
        leg.set_gid("legend")


def draw_connectome(topo: Topology, signs: Optional[Signs], path: Union[str, "os.PathLike[str]"], *,
                    title: Optional[str] = None, dpi: int = 100) -> None:
    """Write :func:`connectome_figure` to ``path`` (PNG, SVG or PDF by its extension; ``dpi`` for PNG).

    Raises:
        ImportError: matplotlib is missing (``pip install 'mpnet[viz]'``).
        ValueError: as :func:`connectome_figure`.
    """
    import matplotlib.pyplot as plt
    fig = connectome_figure(topo, signs, title=title)
    try:
        fig.savefig(os.fspath(path), dpi=dpi)
    finally:
        plt.close(fig)

