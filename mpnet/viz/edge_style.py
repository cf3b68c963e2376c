"""How each edge of a picture is painted and labelled (viz stage, under :mod:`mpnet.viz.draw`): its colour,
line pattern, width and the text on it, from a sign report's row or from the topology's own weight and sign.

The encodings, one meaning each:

- colour is the verdict: red ``+``, blue ``-``, grey ``?`` (a topology: an unset free weight);
- a called sign is paler the lower its confidence; a ``?`` is never faded, so doubt and "not determined"
  never look alike;
- the pattern says why a report left a sign open: dotted when these data do not determine it (the
  opposite sign fits about as well), dashed when no data can (a symmetry: ``EdgeSign.identifiable`` false);
- width grows with ``|w|`` (thinner overall in big pictures);
- the label on the edge repeats the verdict and, for a free edge, its confidence and best-fit weight.
"""
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, Hashable, Literal, Mapping, Optional, Tuple

from ..graph.elements import Edge, EdgeKey
from ..graph.topology import Topology

if TYPE_CHECKING:   # pragma: no cover
    from ..signs.report import EdgeSign

__all__ = ["POSITIVE", "NEGATIVE", "UNKNOWN", "MINUS", "PATTERNS", "EdgeStyle", "edge_styles", "fade", "width_range"]

POSITIVE, NEGATIVE, UNKNOWN = "#c0392b", "#2c62b4", "#5a5a5a"   # red +, blue -, grey ?
MINUS = "\u2212"          # the typographic minus, in labels and the legend
_FADE_FLOOR = 0.3         # a called sign of confidence 0 would keep 30% of its colour (still visible)
#: ":" and "--" as drawn here (in line widths): round dots for "not determined by these data", long dashes for
#: "no data can determine"; lines are made inside ``matplotlib.rc_context(PATTERNS)``.
PATTERNS: Dict[str, Any] = {"lines.dotted_pattern": [0.01, 2.0], "lines.dashed_pattern": [4.0, 2.5],
                            "lines.scale_dashes": True}


@dataclass(frozen=True)
class EdgeStyle:
    """How one edge is painted.

    ``sign`` is ``"+"``, ``"-"`` or ``"?"``; ``confidence`` in [0, 1] (1 for a plain topology); ``magnitude``
    is ``|w|`` (``None`` when unset); ``pattern`` is ``"solid"``, ``"dotted"`` (a report's ``?`` the data
    leave open) or ``"dashed"`` (no data can determine it); ``constraint`` is ``"free"``, ``"fixed +"``,
    ``"fixed -"`` or ``"frozen"``; ``text`` is the label written on the edge (``""``: none).
    """
    sign: str
    confidence: float
    magnitude: Optional[float]
    pattern: str
    constraint: str
    text: str = ""

    @property
    def dashed(self) -> bool:
        """No data can determine the sign (a symmetry)."""
        return self.pattern == "dashed"

    @property
    def base_color(self) -> str:
        return {"+": POSITIVE, "-": NEGATIVE}.get(self.sign, UNKNOWN)

    @property
    def color(self) -> Tuple[float, float, float]:
        """The colour drawn: a called sign faded by its confidence, a ``?`` its plain grey."""
        return fade(self.base_color, self.confidence if self.sign in ("+", "-") else 1.0)

    @property
    def linestyle(self) -> Literal["-", ":", "--"]:
        """``":"`` (dotted), ``"--"`` (dashed) or ``"-"``; their patterns are ``PATTERNS``."""
        return ":" if self.pattern == "dotted" else "--" if self.pattern == "dashed" else "-"

    @property
    def capstyle(self) -> Literal["round", "butt"]:
        """Round dots for ``dotted``, square ends otherwise."""
        return "round" if self.pattern == "dotted" else "butt"


def fade(color: str, confidence: float) -> Tuple[float, float, float]:
    """``color`` blended with white: full at confidence 1, ``_FADE_FLOOR`` of it at 0, quadratic in between
    so that doubt shows early (0.9 keeps 87%, 0.5 keeps 48%); opaque, so crossing edges do not darken each
    other."""
    from matplotlib.colors import to_rgb
    f = _FADE_FLOOR + (1 - _FADE_FLOOR) * max(0.0, min(1.0, confidence)) ** 2
    r, g, b = to_rgb(color)
    return (f * r + (1 - f), f * g + (1 - f), f * b + (1 - f))


def width_range(num_edges: int) -> Tuple[float, float]:
    """``(thinnest, span)`` of the line widths in points at scale 1: an edge of weight ``|w|`` is
    ``thinnest + span * |w| / max|w|`` wide. Up to 30 edges 0.7 to 4 points; more edges are drawn thinner
    (by ``sqrt(30 / edges)``, at most 2.5 times), so a big network is lines, not a blanket."""
    f = max(0.4, min(1.0, math.sqrt(30.0 / max(num_edges, 1))))
    return max(0.45, 0.7 * f), 3.3 * f


def _number(value: float, spec: str) -> str:
    return format(value, spec).replace("-", MINUS)


def _verdict(sign: str) -> str:
    return {"-": MINUS}.get(sign, sign)


def _constraint(edge: Edge) -> str:
    return "frozen" if not edge.trainable else f"fixed {edge.sign}" if edge.sign else "free"


def _report_style(row: "EdgeSign", edge: Edge) -> EdgeStyle:
    sign = row.sign if row.sign in ("+", "-") else "?"
    constraint = _constraint(edge)
    pattern = "dashed" if not row.identifiable else "dotted" if sign == "?" else "solid"
    weight = float(row.weight)
    if constraint.startswith("fixed"):
        text = _verdict(sign)                                  # written in the fixed-sign disc
    elif constraint == "frozen":
        text = f"{_verdict(sign)} w={_number(weight, '+.3g')}"
    else:
        relative = (f" (rel. {_verdict(row.relative)})" if not row.identifiable and row.relative in ("+", "-")
                    else "")
        text = f"{_verdict(sign)}{relative} {float(row.confidence):.2f}, w={_number(weight, '+.3g')}"
    magnitude = abs(weight) if math.isfinite(weight) else None
    return EdgeStyle(sign, float(row.confidence), magnitude, pattern, constraint, text)


def _topology_style(edge: Edge) -> EdgeStyle:
    w = edge.weight
    sign = "+" if (w is not None and w > 0) else "-" if (w is not None and w < 0) else (edge.sign or "?")
    constraint = _constraint(edge)
    text = _verdict(sign) if constraint.startswith("fixed") else "" if w is None else _number(w, "+.3g")
    return EdgeStyle(sign, 1.0, None if w is None else abs(w), "solid", constraint, text)


def edge_styles(topo: Topology, report: Optional[Mapping[EdgeKey, "EdgeSign"]]
                ) -> Dict[Tuple[Hashable, Hashable], EdgeStyle]:
    """Each edge's style: from the report's row when there is a report, else from the weight and the declared
    sign (a fixed sign colours an edge even before it has a weight; the label is the weight)."""
    out: Dict[Tuple[Hashable, Hashable], EdgeStyle] = {}   # keyed as the layout keys its routes
    for key, edge in topo.edges.items():
        if report is not None and key in report:
            out[key] = _report_style(report[key], edge)
        else:
            out[key] = _topology_style(edge)
    return out
