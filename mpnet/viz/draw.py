"""Pictures of networks and sign reports with matplotlib (viz stage; optional extra ``viz``, no graphviz).

Neurons stand in columns by depth, inputs on the left and outputs on the right (:mod:`mpnet.viz.layout`); an
edge that skips columns curves around the neurons it passes. Each edge is coloured by its sign (red ``+``,
blue ``-``, grey ``?``), as wide as its weight is large; in a sign report a called sign is paler the less sure
it is, a sign these data leave open is dotted grey and one no data can determine (a symmetry) dashed grey,
and every edge carries a label with its verdict, confidence and best-fit weight (:mod:`mpnet.viz.edge_style`,
placed by :mod:`mpnet.viz.edge_labels`). A fixed sign is a ``+``/``-`` disc on the edge, a frozen value a
square. The legend (:mod:`mpnet.viz.legend`) explains what the picture uses.
"""
import math
import os
from typing import TYPE_CHECKING, Dict, Hashable, List, Mapping, Optional, Tuple, Union

from .edge_labels import Box, place_labels
from .edge_style import NEGATIVE, PATTERNS, POSITIVE, UNKNOWN, EdgeStyle, edge_styles, fade, width_range
from .layout import Layout, Route, layered_layout
from .layout_shapes import EdgeKey as RouteKey
from .legend import FACE, legend as _legend
from ..graph.elements import EdgeKey, Node
from ..graph.topology import Topology

if TYPE_CHECKING:   # pragma: no cover
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..model import Network
    from ..signs.report import EdgeSign, SignReport

    Drawable = Union[Topology, Network, SignReport]   # what draw and figure take

__all__ = ["draw", "figure", "POSITIVE", "NEGATIVE", "UNKNOWN"]

_fade = fade               # the name draw_connectome and older callers import
_FONT = 8.0                # a neuron's label in points at scale 1
_EDGE_FONT = 6.0           # an edge's label in points at scale 1
_RADIUS = 12.5 / 72        # a neuron's radius in inches at scale 1
_MAX_INCHES = (26.0, 20.0)  # a picture larger than this is scaled down as a whole
_AUTO_LABELS = 60          # a sign report of at most this many edges labels every edge by default


def _as_topology(obj: "Drawable") -> Tuple[Topology, Optional[Dict[EdgeKey, "EdgeSign"]], Optional["SignReport"]]:
    from ..signs import SignReport
    if isinstance(obj, SignReport):
        if obj.topology is None:
            raise ValueError("This SignReport has no topology (no member fitted); nothing to draw.")
        return obj.topology, {r.key: r for r in obj.edges}, obj
    if isinstance(obj, Topology):
        return obj, None, None
    if hasattr(obj, "to_topology") and not getattr(obj, "batched", False):
        topo = obj.to_topology()   # a single topology: the network is not batched
        if isinstance(topo, Topology):
            return topo, None, None
    raise TypeError(f"Expected a Topology, a single-topology Network or a SignReport (got {type(obj).__name__}); "
                    f"for a batched Network draw one member: draw(net.topology(i), path).")


def _text_width(text: str, size: float) -> float:
    """Width of ``text`` in points at font size ``size``."""
    from matplotlib.textpath import TextPath
    return TextPath((0, 0), text, size=size).get_extents().width if text else 0.0


def _node_size(label: str) -> Tuple[float, float]:
    """Half-width and half-height (inches) of an ellipse that holds ``label`` at ``_FONT`` points."""
    b = _RADIUS
    tw = (_text_width(label, _FONT) / 2 + 2.5) / 72      # half the text plus padding
    th = 0.45 * _FONT / 72
    a = max(b, tw / math.sqrt(1 - (th / b) ** 2))
    return a, b


def _default_title(topo: Topology, report: Optional["SignReport"], depth: int) -> str:
    if report is not None:
        fit = (f"; best fit {report.floor_ratio:.2f}x the noise floor" if report.floor_ratio == report.floor_ratio
               else "")
        free = [r for r in report.edges if r.constraint == "free"]
        called = sum(r.sign != "?" for r in free)
        return (f"Edge signs: {called} of {len(free)} free edges called at confidence >= {report.threshold:g} "
                f"({report.method}{fit})")
    return f"{topo.num_nodes} neurons, {topo.num_edges} edges, depth {depth}"


def _label_size(text: str) -> Tuple[float, float]:
    """Width and height (inches at scale 1) of an edge label's box: the text at ``_EDGE_FONT`` and its padding."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import text_to_path
    w, h, _ = text_to_path.get_text_width_height_descent(text, FontProperties(size=_EDGE_FONT), ismath=False)
    pad = 0.3 * _EDGE_FONT                              # the box's padding (points) on each side
    return (w + 2 * pad) / 72, (1.25 * _EDGE_FONT + 2 * pad) / 72


def _arranged(topo: Topology, styles: Mapping[RouteKey, EdgeStyle], sizes: Mapping[Hashable, Tuple[float, float]],
              labelled: bool) -> Tuple[Layout, Dict[RouteKey, Tuple[float, float]]]:
    """The layout and, when ``labelled``, every edge label's centre. Columns and rows are spread apart until
    every label finds room, three times at most; a label still without room then sits at its edge's middle."""
    boxes: Dict[RouteKey, Tuple[float, float]] = {k: _label_size(s.text) for k, s in styles.items() if labelled
                                                  and s.text and not s.constraint.startswith("fixed")}
    column_gap = max([0.9] + [w + 0.45 for w, _ in boxes.values()])   # a stretch of edge shows on both sides
    node_gap = 0.22 if not boxes else 0.3
    spreads = 0
    while True:
        lay = layered_layout(list(topo.nodes), list(topo.edges), sizes,
                             sources=[n for n, v in topo.nodes.items() if v.role == "input"],
                             sinks=[n for n, v in topo.nodes.items() if v.role == "output"],
                             column_gap=column_gap, node_gap=node_gap, lane_gap=0.14 if not boxes else 0.2)
        if not boxes:
            return lay, {}
        bounds = (-0.2, -0.2, lay.width + 0.2, lay.height + 0.2)
        centres, unplaced = place_labels(lay.routes, boxes, lay.nodes, bounds, obstacles=_marks(lay, styles))
        if not unplaced or spreads == 3:
            centres.update({k: lay.routes[k].midpoint() for k in unplaced})
            return lay, centres
        spreads += 1
        column_gap *= 1.35
        node_gap += 0.12


def _marks(lay: Layout, styles: Mapping[RouteKey, EdgeStyle]) -> List[Box]:
    """The boxes no edge label may cover: each fixed or frozen edge's mark, each arrowhead."""
    out: List[Box] = []
    r = 5.0 / 72
    for key, route in lay.routes.items():
        if styles[key].constraint != "free":
            mx, my = route.midpoint()
            out.append((mx - r, my - r, mx + r, my + r))
        tx, ty = route.points[-1]
        h = 7.0 / 72
        out.append((tx - h, ty - h, tx + h, ty + h))
    return out


def figure(obj: "Drawable", *, title: Optional[str] = None, labels: bool = True, legend: bool = True,
           figsize: Optional[Tuple[float, float]] = None, edge_labels: Optional[bool] = None) -> "Figure":
    """The picture of :func:`draw` as a matplotlib ``Figure`` (close it with ``plt.close(fig)``).

    Every edge path carries the gid ``"edge:<src>-><dst>"``, its arrowhead ``"head:<src>-><dst>"``, its label
    ``"edge-label:<src>-><dst>"``, every neuron ``"node:<id>"`` and its label ``"label:<id>"``, so the drawing
    can be checked artist by artist.

    Args:
        obj: a :class:`~mpnet.Topology`, a single-topology :class:`~mpnet.Network` or a
            :class:`~mpnet.signs.SignReport`.
        title: the heading; a summary of ``obj`` by default, ``""`` for none.
        labels: write each neuron's id in it.
        legend: add the legend (what the picture uses of: verdict or sign, confidence, edge labels,
            constraint, width, neuron roles).
        figsize: ``(width, height)`` in inches to fit the picture into; by default the picture takes the
            room its layout needs (at most 26 x 20 inches; bigger graphs are scaled down as a whole).
        edge_labels: write a label on each edge: a sign report's verdict, confidence and best-fit weight, a
            topology's weight. By default on for a sign report of at most 60 edges, off otherwise (a fixed
            sign's disc always shows its sign).

    Raises:
        ImportError: matplotlib is missing (``pip install 'mpnet[viz]'``).
        TypeError: ``obj`` is none of the above.
        ValueError: ``obj`` is a sign report without a topology.
    """
    try:
        import matplotlib
        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError as err:   # pragma: no cover - depends on the environment
        raise ImportError("mpnet.draw needs matplotlib: pip install 'mpnet[viz]'") from err
    # the dotted and dashed patterns the lines are made with (matplotlib's stubs type rc keys as one Literal)
    with matplotlib.rc_context(PATTERNS):   # type: ignore[arg-type]
        return _compose(obj, title, labels, legend, figsize, edge_labels)


def _compose(obj: "Drawable", title: Optional[str], labels: bool, legend: bool,
             figsize: Optional[Tuple[float, float]], edge_labels: Optional[bool]) -> "Figure":
    import matplotlib.pyplot as plt
    topo, rows, report = _as_topology(obj)
    styles = edge_styles(topo, rows)
    labelled = (report is not None and topo.num_edges <= _AUTO_LABELS) if edge_labels is None else bool(edge_labels)
    text: Dict[Hashable, str] = {n: str(n) if labels else "" for n in topo.nodes}
    sizes: Dict[Hashable, Tuple[float, float]] = {n: _node_size(text[n]) for n in topo.nodes}
    lay, centres = _arranged(topo, styles, sizes, labelled)
    heading = _default_title(topo, report, len(lay.layers) - 1) if title is None else title

    pad = 0.25                                     # inches around the graph
    depth_row = 0.22                               # the row of "depth k" captions above the columns
    graph_w, graph_h = lay.width + 2 * pad, lay.height + 2 * pad + depth_row
    title_h = 0.4 if heading else 0.1
    fig = plt.figure(figsize=(max(graph_w, 4.0), graph_h + title_h))
    leg = _legend(fig, styles, topo, report, labelled=labelled) if legend else None
    leg_w, leg_h = _extent_inches(fig, leg) if leg is not None else (0.0, 0.0)
    leg_h = leg_h + 0.15 if leg is not None else 0.0

    # one scale for everything (geometry, fonts, line widths) so the picture fits the size asked for
    total_w, total_h = max(graph_w, leg_w + 0.3, 4.0), graph_h + title_h + leg_h
    limit = figsize or _MAX_INCHES
    scale = min(1.0, limit[0] / total_w, limit[1] / total_h) if figsize is None else min(limit[0] / total_w,
                                                                                        limit[1] / total_h)
    if leg is not None and scale != 1.0:
        leg.remove()
        leg = _legend(fig, styles, topo, report, scale, labelled=labelled)
    fig.set_size_inches(total_w * scale, total_h * scale)
    ax = fig.add_axes(((total_w - graph_w) / 2 / total_w, leg_h / total_h, graph_w / total_w, graph_h / total_h))
    ax.set_xlim(-pad, lay.width + pad)
    ax.set_ylim(-pad, lay.height + pad + depth_row)
    ax.set_axis_off()
    _paint(ax, lay, topo, styles, text, scale)
    _write_labels(ax, lay, styles, centres, scale)
    for k, x in enumerate(lay.layers):
        ax.text(x, lay.height + pad / 2 + depth_row / 2, f"depth {k}", ha="center", va="center",
                fontsize=6.5 * scale, color="#666666", gid=f"depth:{k}")
    if heading:
        fig.text(0.5, 1 - (title_h / 2) / total_h, heading, ha="center", va="center", fontsize=9 * scale,
                 gid="title")
    if leg is not None:
        leg.set_bbox_to_anchor((0.5, 0.06 / total_h), transform=fig.transFigure)
    return fig


def draw(obj: "Drawable", path: Union[str, "os.PathLike[str]"], *, title: Optional[str] = None, labels: bool = True,
         legend: bool = True, figsize: Optional[Tuple[float, float]] = None, dpi: int = 150,
         edge_labels: Optional[bool] = None) -> None:
    """Draw a :class:`~mpnet.Topology`, a single-topology :class:`~mpnet.Network` or a
    :class:`~mpnet.signs.SignReport` to ``path`` (``.png``, ``.svg`` or ``.pdf``, by extension).

    Neurons stand in columns by depth; edges that skip columns curve around the neurons they pass. Colour:
    red ``+``, blue ``-``, grey ``?``; width grows with ``|w|`` (a report's best-fit weight). In a sign
    report a called sign is paler the less sure it is, a sign these data leave open is dotted, one no data can
    determine (a symmetry) dashed, and each edge's label gives its verdict, confidence and weight. A
    ``+``/``-`` disc marks a fixed sign, a square a frozen weight.

    Args:
        obj: what to draw (see above).
        path: the file to write; its extension picks the format.
        title: the heading; a summary of ``obj`` by default, ``""`` for none.
        labels: write each neuron's id in it.
        legend: add the legend (what the picture uses of: verdict or sign, confidence, edge labels,
            constraint, width, neuron roles).
        figsize: ``(width, height)`` in inches to fit the picture into (default: the room it needs).
        dpi: pixels per inch of a ``.png``.
        edge_labels: a label on each edge (default: on for a sign report of at most 60 edges).

    Raises:
        ImportError: matplotlib is missing (``pip install 'mpnet[viz]'``).
        TypeError: ``obj`` is none of the above.
        ValueError: ``obj`` is a sign report without a topology.
    """
    import matplotlib.pyplot as plt
    fig = figure(obj, title=title, labels=labels, legend=legend, figsize=figsize, edge_labels=edge_labels)
    try:
        fig.savefig(os.fspath(path), dpi=dpi)
    finally:
        plt.close(fig)


def _paint(ax: "Axes", lay: Layout, topo: Topology, styles: Mapping[RouteKey, EdgeStyle],
           text: Mapping[Hashable, str], scale: float) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Ellipse, Polygon
    inch = 1 / 72                                           # a point, in data units (inches) at scale 1
    largest = max((s.magnitude for s in styles.values() if s.magnitude is not None), default=0.0)
    thin, span = width_range(len(styles))
    # undetermined and thin edges first, so called and strong ones lie on top
    keys = sorted(lay.routes, key=lambda k: (styles[k].sign in ("+", "-"), styles[k].confidence,
                                             styles[k].magnitude or 0.0))
    for key in keys:
        route, style = lay.routes[key], styles[key]
        color = style.color
        lw = (thin + span * style.magnitude / largest if style.magnitude is not None and largest > 0 else 1.0) * scale
        head = (4.5 + 1.1 * lw / scale) * inch             # arrowhead length (data units)
        pts, tip, direction = _trim(route, head)
        name = f"{key[0]}->{key[1]}"
        z = 1 + style.confidence if style.sign in ("+", "-") else 1.0
        ax.add_line(Line2D([p[0] for p in pts], [p[1] for p in pts], color=color, linewidth=lw,
                           linestyle=style.linestyle, solid_capstyle="butt",
                           dash_capstyle=style.capstyle, zorder=z, gid=f"edge:{name}"))
        ux, uy = direction
        base = (tip[0] - head * ux, tip[1] - head * uy)
        half = 0.42 * head
        ax.add_patch(Polygon([tip, (base[0] - half * uy, base[1] + half * ux), (base[0] + half * uy,
                                                                                 base[1] - half * ux)],
                             closed=True, facecolor=color, edgecolor="none", zorder=z + 0.5, gid=f"head:{name}"))
        if style.constraint != "free":
            mx, my = route.midpoint()
            if style.constraint == "frozen":
                ax.plot([mx], [my], marker="s", markersize=6.5 * scale, markerfacecolor=color,
                        markeredgecolor="white", markeredgewidth=0.8 * scale, zorder=3.6, gid=f"mark:{name}")
            else:
                ax.plot([mx], [my], marker="o", markersize=9 * scale, markerfacecolor="white",
                        markeredgecolor=color, markeredgewidth=1.2 * scale, zorder=3.6, gid=f"mark:{name}")
                ax.text(mx, my, style.text, ha="center", va="center_baseline", fontsize=7 * scale,
                        fontweight="bold", color=color, zorder=3.7, gid=f"edge-label:{name}")
    nodes: Dict[Hashable, Node] = {n: v for n, v in topo.nodes.items()}   # keyed as the layout keys them
    for node_id, box in lay.nodes.items():
        node = nodes[node_id]
        border = {"+": POSITIVE, "-": NEGATIVE}.get(node.dale or "", "#222222")
        ax.add_patch(Ellipse((box.x, box.y), 2 * box.a, 2 * box.b, facecolor=FACE.get(node.role, "white"),
                             edgecolor=border, linewidth=(2.2 if node.dale else 1.1) * scale, zorder=4,
                             gid=f"node:{node_id}"))
        if text[node_id]:
            ax.text(box.x, box.y, text[node_id], ha="center", va="center_baseline", fontsize=_FONT * scale,
                    zorder=5, gid=f"label:{node_id}")


def _write_labels(ax: "Axes", lay: Layout, styles: Mapping[RouteKey, EdgeStyle],
                  centres: Mapping[RouteKey, Tuple[float, float]], scale: float) -> None:
    """Each edge's label in a white box at its centre, framed in the edge's colour (a fixed sign's label is
    already in its disc)."""
    for key, (x, y) in centres.items():
        style = styles[key]
        ax.text(x, y, style.text, ha="center", va="center", fontsize=_EDGE_FONT * scale, color="#222222",
                zorder=3.5, gid=f"edge-label:{key[0]}->{key[1]}",
                bbox=dict(boxstyle="round,pad=0.3", facecolor="white", edgecolor=style.color,
                          linewidth=0.6 * scale))


def _trim(route: Route, head: float) -> Tuple[List[Tuple[float, float]], Tuple[float, float], Tuple[float, float]]:
    """The route shortened by ``head`` at its end (where the arrowhead goes), the tip, and the unit direction
    of arrival."""
    pts = list(route.points)
    tip = pts[-1]
    run, i = 0.0, len(pts) - 1
    while i > 0 and run + math.dist(pts[i], pts[i - 1]) < head:
        run += math.dist(pts[i], pts[i - 1])
        i -= 1
    if i == 0:                                      # a route shorter than its arrowhead
        d = math.dist(pts[0], tip) or 1.0
        return [pts[0], pts[0]], tip, ((tip[0] - pts[0][0]) / d, (tip[1] - pts[0][1]) / d)
    p, q = pts[i], pts[i - 1]
    step = math.dist(p, q)
    t = (head - run) / step if step else 0.0
    cut = (p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1]))
    d = math.dist(cut, tip) or 1.0
    return pts[:i] + [cut], tip, ((tip[0] - cut[0]) / d, (tip[1] - cut[1]) / d)


def _extent_inches(fig: "Figure", artist: "Artist") -> Tuple[float, float]:
    renderer = fig.canvas.get_renderer()   # type: ignore[attr-defined]  # the Agg canvas has one, the base stub not
    box = artist.get_window_extent(renderer)
    return box.width / fig.dpi, box.height / fig.dpi
