"""Pictures of networks and sign reports with matplotlib (signs stage; optional extra ``viz``, no graphviz).

Neurons stand in columns by depth, inputs on the left and outputs on the right (:mod:`mpnet.viz.layout`); an
edge that skips columns curves around the neurons it passes. Each edge is coloured by its sign (red ``+``,
blue ``-``, grey when unknown: ``?`` in a sign report, an unset free weight in a topology), as wide as its
weight is large, paler the less sure a sign report is, dashed when no data could determine its sign, and
marked when its sign is fixed (a ``+``/``-`` disc) or its value frozen (a square). A legend explains all of it.
"""
import math
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, Hashable, List, Mapping, Optional, Tuple, Union

from .layout import Layout, Route, layered_layout
from ..graph.elements import Edge, EdgeKey, Node
from ..graph.topology import Topology

if TYPE_CHECKING:   # pragma: no cover
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.legend import Legend
    from matplotlib.lines import Line2D

    from ..model import Network
    from ..signs.report import EdgeSign, SignReport

    _Handle = Union[Line2D, Tuple[Line2D, ...]]   # a legend entry's artist (a tuple: drawn on top of each other)
    Drawable = Union[Topology, Network, SignReport]   # what draw and figure take

__all__ = ["draw", "figure", "POSITIVE", "NEGATIVE", "UNKNOWN"]

POSITIVE, NEGATIVE, UNKNOWN = "#c0392b", "#2c62b4", "#5a5a5a"   # red +, blue -, grey ?
_FACE = {"input": "#e8e8e8", "hidden": "#ffffff", "output": "#fde3b8"}
_FONT = 8.0               # label size in points at scale 1
_RADIUS = 12.5 / 72       # a neuron's radius in inches at scale 1
_MAX_INCHES = (26.0, 20.0)  # a picture larger than this is scaled down as a whole
_FADE_FLOOR = 0.3         # an edge of confidence 0 keeps 30% of its colour (still visible)


@dataclass(frozen=True)
class EdgeStyle:
    """How one edge is painted: ``sign`` (``"+"``, ``"-"``, ``"?"``), ``confidence`` in [0, 1] (1 for a
    plain topology), ``magnitude`` (``|w|``, ``None`` when unset), ``dashed`` (undeterminable) and
    ``constraint`` (``"free"``, ``"fixed +"``, ``"fixed -"``, ``"frozen"``)."""
    sign: str
    confidence: float
    magnitude: Optional[float]
    dashed: bool
    constraint: str

    @property
    def base_color(self) -> str:
        return {"+": POSITIVE, "-": NEGATIVE}.get(self.sign, UNKNOWN)


def _fade(color: str, confidence: float) -> Tuple[float, float, float]:
    """``color`` blended with white: full at confidence 1, ``_FADE_FLOOR`` of it at 0, quadratic in between
    so that doubt shows early (0.9 keeps 87%, 0.5 keeps 48%); opaque, so crossing edges do not darken each
    other."""
    from matplotlib.colors import to_rgb
    f = _FADE_FLOOR + (1 - _FADE_FLOOR) * max(0.0, min(1.0, confidence)) ** 2
    return tuple(f * c + (1 - f) for c in to_rgb(color))   # type: ignore[return-value]


def _constraint(edge: Edge) -> str:
    return "frozen" if not edge.trainable else f"fixed {edge.sign}" if edge.sign else "free"


def _styles(topo: Topology, report: Optional[Mapping[EdgeKey, "EdgeSign"]]
            ) -> Dict[Tuple[Hashable, Hashable], EdgeStyle]:
    """Each edge's style: from the report's row when there is a report, else from the weight and the
    declared sign (a fixed sign colours an edge even before it has a weight)."""
    out: Dict[Tuple[Hashable, Hashable], EdgeStyle] = {}
    for key, edge in topo.edges.items():
        if report is not None and key in report:
            row = report[key]
            out[key] = EdgeStyle(row.sign if row.sign in ("+", "-") else "?", float(row.confidence),
                                 abs(float(row.weight)), not row.identifiable, _constraint(edge))
            continue
        w = edge.weight
        sign = "+" if (w is not None and w > 0) else "-" if (w is not None and w < 0) else (edge.sign or "?")
        out[key] = EdgeStyle(sign, 1.0, None if w is None else abs(w), False, _constraint(edge))
    return out


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


def figure(obj: "Drawable", *, title: Optional[str] = None, labels: bool = True, legend: bool = True,
           figsize: Optional[Tuple[float, float]] = None) -> "Figure":
    """The picture of :func:`draw` as a matplotlib ``Figure`` (close it with ``plt.close(fig)``).

    Every edge path carries the gid ``"edge:<src>-><dst>"``, its arrowhead ``"head:<src>-><dst>"``, every
    neuron ``"node:<id>"`` and its label ``"label:<id>"``, so the drawing can be checked artist by artist.

    Args:
        obj: a :class:`~mpnet.Topology`, a single-topology :class:`~mpnet.Network` or a
            :class:`~mpnet.signs.SignReport`.
        title: the heading; a summary of ``obj`` by default, ``""`` for none.
        labels: write each neuron's id in it.
        legend: add the legend (sign, confidence for a report, constraint, width, neuron roles).
        figsize: ``(width, height)`` in inches to fit the picture into; by default the picture takes the
            room its layout needs (at most 26 x 20 inches; bigger graphs are scaled down as a whole).

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
    topo, rows, report = _as_topology(obj)
    styles = _styles(topo, rows)
    text: Dict[Hashable, str] = {n: str(n) if labels else "" for n in topo.nodes}
    sizes: Dict[Hashable, Tuple[float, float]] = {n: _node_size(text[n]) for n in topo.nodes}
    lay = layered_layout(list(topo.nodes), list(topo.edges), sizes,
                         sources=[n for n, v in topo.nodes.items() if v.role == "input"],
                         sinks=[n for n, v in topo.nodes.items() if v.role == "output"])
    heading = _default_title(topo, report, len(lay.layers) - 1) if title is None else title

    pad = 0.25                                     # inches around the graph
    depth_row = 0.22                               # the row of "depth k" captions above the columns
    graph_w, graph_h = lay.width + 2 * pad, lay.height + 2 * pad + depth_row
    title_h = 0.4 if heading else 0.1
    fig = plt.figure(figsize=(max(graph_w, 4.0), graph_h + title_h))
    leg = _legend(fig, styles, topo, report) if legend else None
    leg_w, leg_h = _extent_inches(fig, leg) if leg is not None else (0.0, 0.0)
    leg_h = leg_h + 0.15 if leg is not None else 0.0

    # one scale for everything (geometry, fonts, line widths) so the picture fits the size asked for
    total_w, total_h = max(graph_w, leg_w + 0.3, 4.0), graph_h + title_h + leg_h
    limit = figsize or _MAX_INCHES
    scale = min(1.0, limit[0] / total_w, limit[1] / total_h) if figsize is None else min(limit[0] / total_w,
                                                                                        limit[1] / total_h)
    if leg is not None and scale != 1.0:
        leg.remove()
        leg = _legend(fig, styles, topo, report, scale)
    fig.set_size_inches(total_w * scale, total_h * scale)
    ax = fig.add_axes(((total_w - graph_w) / 2 / total_w, leg_h / total_h, graph_w / total_w, graph_h / total_h))
    ax.set_xlim(-pad, lay.width + pad)
    ax.set_ylim(-pad, lay.height + pad + depth_row)
    ax.set_axis_off()
    _paint(ax, lay, topo, styles, text, scale)
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
         legend: bool = True, figsize: Optional[Tuple[float, float]] = None, dpi: int = 150) -> None:
    """Draw a :class:`~mpnet.Topology`, a single-topology :class:`~mpnet.Network` or a
    :class:`~mpnet.signs.SignReport` to ``path`` (``.png``, ``.svg`` or ``.pdf``, by extension).

    Neurons stand in columns by depth; edges that skip columns curve around the neurons they pass. Colour:
    red ``+``, blue ``-``, grey for an unknown sign (``?`` in a report, an unset free weight in a topology);
    width grows with ``|w|`` (a report's best-fit weight); paler = less confident; dashed = no data could
    determine the sign; a ``+``/``-`` disc marks a fixed sign, a square a frozen weight.

    Args:
        obj: what to draw (see above).
        path: the file to write; its extension picks the format.
        title: the heading; a summary of ``obj`` by default, ``""`` for none.
        labels: write each neuron's id in it.
        legend: add the legend (sign, confidence for a report, constraint, width, neuron roles).
        figsize: ``(width, height)`` in inches to fit the picture into (default: the room it needs).
        dpi: pixels per inch of a ``.png``.

    Raises:
        ImportError: matplotlib is missing (``pip install 'mpnet[viz]'``).
        TypeError: ``obj`` is none of the above.
        ValueError: ``obj`` is a sign report without a topology.
    """
    import matplotlib.pyplot as plt
    fig = figure(obj, title=title, labels=labels, legend=legend, figsize=figsize)
    try:
        fig.savefig(os.fspath(path), dpi=dpi)
    finally:
        plt.close(fig)


def _width(style: EdgeStyle, largest: float, scale: float) -> float:
    if style.magnitude is None:
        return 1.0 * scale
    return (0.7 + 3.3 * style.magnitude / largest) * scale if largest > 0 else 1.0 * scale


def _paint(ax: "Axes", lay: Layout, topo: Topology, styles: Mapping[Tuple[Hashable, Hashable], EdgeStyle],
           text: Mapping[Hashable, str], scale: float) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Ellipse, Polygon
    inch = 1 / 72                                           # a point, in data units (inches) at scale 1
    largest = max((s.magnitude for s in styles.values() if s.magnitude is not None), default=0.0)
    # unsure and thin edges first, so sure and strong ones lie on top
    keys = sorted(lay.routes, key=lambda k: (styles[k].confidence, styles[k].magnitude or 0.0))
    for key in keys:
        route, style = lay.routes[key], styles[key]
        color = _fade(style.base_color, style.confidence)
        lw = _width(style, largest, scale)
        head = (4.5 + 1.1 * lw / scale) * inch             # arrowhead length (data units)
        pts, tip, direction = _trim(route, head)
        name = f"{key[0]}->{key[1]}"
        ax.add_line(Line2D([p[0] for p in pts], [p[1] for p in pts], color=color, linewidth=lw,
                           linestyle=(0, (4, 2.5)) if style.dashed else "-", solid_capstyle="butt",
                           dash_capstyle="butt", zorder=1 + style.confidence, gid=f"edge:{name}"))
        ux, uy = direction
        base = (tip[0] - head * ux, tip[1] - head * uy)
        half = 0.42 * head
        ax.add_patch(Polygon([tip, (base[0] - half * uy, base[1] + half * ux), (base[0] + half * uy,
                                                                                 base[1] - half * ux)],
                             closed=True, facecolor=color, edgecolor="none", zorder=1.5 + style.confidence,
                             gid=f"head:{name}"))
        if style.constraint != "free":
            mx, my = route.midpoint()
            if style.constraint == "frozen":
                ax.plot([mx], [my], marker="s", markersize=6.5 * scale, markerfacecolor=color,
                        markeredgecolor="white", markeredgewidth=0.8 * scale, zorder=2.6, gid=f"mark:{name}")
            else:
                ax.plot([mx], [my], marker="o", markersize=9 * scale, markerfacecolor="white",
                        markeredgecolor=color, markeredgewidth=1.2 * scale, zorder=2.6, gid=f"mark:{name}")
                ax.plot([mx], [my], marker="$+$" if style.constraint.endswith("+") else "$-$",
                        markersize=5.5 * scale, color=color, zorder=2.7)
    nodes: Dict[Hashable, Node] = {n: v for n, v in topo.nodes.items()}   # keyed as the layout keys them
    for node_id, box in lay.nodes.items():
        node = nodes[node_id]
        border = {"+": POSITIVE, "-": NEGATIVE}.get(node.dale or "", "#222222")
        ax.add_patch(Ellipse((box.x, box.y), 2 * box.a, 2 * box.b, facecolor=_FACE.get(node.role, "white"),
                             edgecolor=border, linewidth=(2.2 if node.dale else 1.1) * scale, zorder=3,
                             gid=f"node:{node_id}"))
        if text[node_id]:
            ax.text(box.x, box.y, text[node_id], ha="center", va="center_baseline", fontsize=_FONT * scale,
                    zorder=4, gid=f"label:{node_id}")


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


def _legend(fig: "Figure", styles: Mapping[Tuple[Hashable, Hashable], EdgeStyle], topo: Topology,
            report: Optional["SignReport"], scale: float = 1.0) -> "Legend":
    """One legend, a column per topic (sign, confidence, constraint, width, neurons), under the graph."""
    from matplotlib.lines import Line2D
    blank = Line2D([], [], linestyle="none")
    lw = 2.2 * scale

    def line(color: str, conf: float = 1.0, width: float = lw, dashed: bool = False, marker: Optional[str] = None,
             mcolor: Union[str, Tuple[float, float, float], None] = None) -> "Line2D":
        kw: Dict[str, Any] = {}
        if marker == "fixed":
            kw = dict(marker="o", markersize=9 * scale, markerfacecolor="white", markeredgecolor=mcolor,
                      markeredgewidth=1.2 * scale)
        elif marker == "frozen":
            kw = dict(marker="s", markersize=6.5 * scale, markerfacecolor=mcolor, markeredgecolor="white")
        return Line2D([], [], color=_fade(color, conf), linewidth=width,
                      linestyle=(0, (4, 2.5)) if dashed else "-", **kw)

    def disc(face: str, edge: str, width: float) -> "Line2D":
        return Line2D([], [], linestyle="none", marker="o", markersize=11 * scale, markerfacecolor=face,
                      markeredgecolor=edge, markeredgewidth=width * scale)

    groups: List[List[Tuple["_Handle", str]]] = []
    if report is not None:
        groups.append([(blank, "sign (inferred or fixed)"), (line(POSITIVE), "+  positive"),
                       (line(NEGATIVE), "\u2212  negative"), (line(UNKNOWN), "?  not determined")])
        groups.append([(blank, "confidence (any colour)"), (line(UNKNOWN, 1.0), "1.0 (sure)"),
                       (line(UNKNOWN, 0.75), "0.75"), (line(UNKNOWN, 0.5), "0.5"), (line(UNKNOWN, 0.0), "0.0"),
                       (line(UNKNOWN, 0.0, dashed=True), "dashed: no data can\ndetermine the sign")])
    else:
        groups.append([(blank, "sign of the weight"), (line(POSITIVE), "+  positive (or fixed +)"),
                       (line(NEGATIVE), "\u2212  negative (or fixed \u2212)"),
                       (line(UNKNOWN), "unset or 0, free")])
    fixed_plus = Line2D([], [], marker="$+$", markersize=5.5 * scale, color=POSITIVE, linestyle="none")
    groups.append([(blank, "constraint"),
                   ((line(POSITIVE, marker="fixed", mcolor=POSITIVE), fixed_plus), "fixed sign (+ or \u2212)"),
                   (line(NEGATIVE, marker="frozen", mcolor=_fade(NEGATIVE, 1.0)), "frozen value"),
                   (line(UNKNOWN), "free (no mark)")])
    mags = [s.magnitude for s in styles.values() if s.magnitude is not None]
    if mags:
        top = max(mags)
        widths: List[Tuple["_Handle", str]] = [(blank, "width ~ |w|" + (" (best fit)" if report is not None
                                                                         else ""))]
        groups.append(widths + [(line("#444444", width=_width(EdgeStyle("+", 1, f * top, False, "free"), top, scale)),
                                 f"|w| = {f * top:.3g}") for f in (1.0, 0.5, 0.1)])
    roles = [r for r in ("input", "hidden", "output") if any(n.role == r for n in topo.nodes.values())]
    group: List[Tuple["_Handle", str]] = [(blank, "neurons")]
    for r in roles:
        group.append((disc(_FACE[r], "#222222", 1.1), r))
    for d in sorted({n.dale for n in topo.nodes.values() if n.dale}):
        group.append((disc("white", POSITIVE if d == "+" else NEGATIVE, 2.2), f"Dale {d}: all outgoing {d}"))
    groups.append(group)

    rows = max(len(g) for g in groups)
    handles: List["_Handle"] = []
    names: List[str] = []
    headers: List[int] = []
    for g in groups:
        headers.append(len(names))
        for h, n in g + [(blank, "")] * (rows - len(g)):
            handles.append(h)
            names.append(n)
    from matplotlib.legend_handler import HandlerTuple
    # a tuple handle (marks drawn over a line) is legal with HandlerTuple; matplotlib's stubs take Artists only
    leg: "Legend" = fig.legend(handles, names, ncol=len(groups), loc="lower center", fontsize=7 * scale,
                     frameon=True, framealpha=1.0, edgecolor="#cccccc", handlelength=2.6,
                     columnspacing=1.6, handler_map={tuple: HandlerTuple(ndivide=1, pad=0.0)}
                     )  # type: ignore[call-overload]
    leg.set_gid("legend")
    texts = leg.get_texts()
    for i in headers:
        texts[i].set_fontweight("bold")
    return leg


def _extent_inches(fig: "Figure", artist: "Artist") -> Tuple[float, float]:
    renderer = fig.canvas.get_renderer()   # type: ignore[attr-defined]  # the Agg canvas has one, the base stub not
    box = artist.get_window_extent(renderer)
    return box.width / fig.dpi, box.height / fig.dpi
