"""The legend of a network picture (viz stage, under :mod:`mpnet.viz.draw`): one column per topic (verdict or
sign, edge labels, confidence, constraint, width, neurons), each entry drawn exactly as the picture draws
it, and an entry only for a style the picture uses."""
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Tuple, Union

from .edge_style import MINUS, NEGATIVE, POSITIVE, EdgeStyle, width_range
from .layout_shapes import EdgeKey
from ..graph.topology import Topology

if TYPE_CHECKING:   # pragma: no cover
    from matplotlib.figure import Figure
    from matplotlib.legend import Legend
    from matplotlib.lines import Line2D

    from ..signs.report import SignReport

    _Handle = Union[Line2D, Tuple[Line2D, ...]]   # a legend entry's artist (a tuple: drawn on top of each other)

__all__ = ["legend", "FACE"]

FACE = {"input": "#e8e8e8", "hidden": "#ffffff", "output": "#fde3b8"}


def legend(fig: "Figure", styles: Mapping[EdgeKey, EdgeStyle], topo: Topology, report: Optional["SignReport"],
           scale: float = 1.0, labelled: bool = False) -> "Legend":
    """One legend under the graph, a column per topic; ``labelled``: the edges carry labels (say what they
    hold)."""
    from matplotlib.lines import Line2D
    from matplotlib.legend_handler import HandlerTuple
    blank = Line2D([], [], linestyle="none")
    lw = 2.2 * scale
    used = list(styles.values())

    def line(style: EdgeStyle, width: float = lw, marker: Optional[str] = None) -> "Line2D":
        kw: Dict[str, Any] = {}
        if marker == "fixed":
            kw = dict(marker="o", markersize=9 * scale, markerfacecolor="white", markeredgecolor=style.color,
                      markeredgewidth=1.2 * scale)
        elif marker == "frozen":
            kw = dict(marker="s", markersize=6.5 * scale, markerfacecolor=style.color, markeredgecolor="white")
        return Line2D([], [], color=style.color, linewidth=width, linestyle=style.linestyle,
                      dash_capstyle=style.capstyle, **kw)

    def plain(sign: str, confidence: float = 1.0, pattern: str = "solid") -> EdgeStyle:
        return EdgeStyle(sign, confidence, None, pattern, "free")

    def disc(face: str, edge: str, width: float) -> "Line2D":
        return Line2D([], [], linestyle="none", marker="o", markersize=11 * scale, markerfacecolor=face,
                      markeredgecolor=edge, markeredgewidth=width * scale)

    groups: List[List[Tuple["_Handle", str]]] = []
    if report is not None:
        verdicts: List[Tuple["_Handle", str]] = [(blank, "verdict (inferred or fixed)")]
        for sign, name in (("+", "+  positive"), ("-", f"{MINUS}  negative")):
            if any(s.sign == sign for s in used):
                verdicts.append((line(plain(sign)), name))
        if any(s.pattern == "dotted" for s in used):
            verdicts.append((line(plain("?", pattern="dotted")), "?  not determined:\n    these data leave it open"))
        if any(s.pattern == "dashed" for s in used):
            verdicts.append((line(plain("?", pattern="dashed")), "?  no data can determine it\n    (a symmetry)"))
        groups.append(verdicts)
        called = [s for s in used if s.sign in ("+", "-") and s.constraint == "free"]
        low = min((s.confidence for s in called), default=1.0)
        if low < 0.995:                        # some called sign is drawn paler than full colour
            sure: List[Tuple["_Handle", str]] = [(blank, "confidence of a called sign")]
            sure += [(line(plain("+", c)), f"{c:.2f}") for c in sorted({1.0, round(low, 2)}, reverse=True)]
            groups.append(sure + [(blank, "paler: less sure")])
        if labelled:
            example = next((s.text for s in used if s.constraint == "free" and s.text), "")
            groups.append([(blank, "label on each edge"), (blank, example),
                           (blank, "verdict, confidence,\nw = best-fit weight")])
    else:
        signs: List[Tuple["_Handle", str]] = [(blank, "sign of the weight")]
        for sign, name in (("+", "+  positive (or fixed +)"), ("-", f"{MINUS}  negative (or fixed {MINUS})"),
                           ("?", "unset or 0, free")):
            if any(s.sign == sign for s in used):
                signs.append((line(plain(sign)), name))
        if labelled and any(s.text for s in used if s.constraint != "fixed +" and s.constraint != "fixed -"):
            signs.append((blank, "label: the weight"))
        groups.append(signs)
    constraint: List[Tuple["_Handle", str]] = [(blank, "constraint")]
    fixed = [s for s in used if s.constraint.startswith("fixed")]
    if fixed:
        mark = Line2D([], [], marker=f"${fixed[0].sign.replace('-', MINUS)}$", markersize=5.5 * scale,
                      color=fixed[0].color, linestyle="none")
        constraint.append(((line(fixed[0], marker="fixed"), mark), f"fixed sign (+ or {MINUS})"))
    frozen = [s for s in used if s.constraint == "frozen"]
    if frozen:
        constraint.append((line(frozen[0], marker="frozen"), "frozen value"))
    if any(s.constraint == "free" for s in used):
        constraint.append((line(plain("?")), "free (no mark)"))
    if len(constraint) > 1:
        groups.append(constraint)
    mags = [s.magnitude for s in used if s.magnitude is not None]
    if mags:
        top = max(mags)
        thin, span = width_range(len(styles))
        widths: List[Tuple["_Handle", str]] = [(blank, "width ~ |w|" + (" (best fit)" if report is not None else ""))]
        groups.append(widths + [(Line2D([], [], color="#444444", linewidth=(thin + span * f) * scale),
                                 f"|w| = {f * top:.3g}") for f in (1.0, 0.5, 0.1)])
    group: List[Tuple["_Handle", str]] = [(blank, "neurons")]
    for r in ("input", "hidden", "output"):
        if any(n.role == r for n in topo.nodes.values()):
            group.append((disc(FACE[r], "#222222", 1.1), r))
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

