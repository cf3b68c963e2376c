"""How each edge of a layered drawing runs (viz stage, under :mod:`mpnet.viz.layout`; pure Python): where it
leaves and enters a neuron's outline (its port), and the curve through its columns.

Inside a column's band every edge runs level at its own height (its port's or its waypoint's slot), and
changes height only between columns, where no neuron stands, by a Bezier S-curve; self-loops are a loop over
the neuron.
"""
import math
from typing import Dict, Hashable, List, Tuple

from .layout_columns import _isotonic
from .layout_shapes import EdgeKey, NodeBox, Point

_SAMPLES = 24                  # points per Bezier piece of a route
_PORT_REACH = 0.8   # ports lie within 0.8 half-heights of a neuron's middle, on its left and right sides
_PORT_STEP = 0.55   # wanted height between neighbouring ports, in half-heights


def _spread(wanted: List[float]) -> List[float]:
    """Port angles on one side of a neuron, in the order of ``wanted`` (radians around that side's horizontal):
    their heights (``sin`` of the angle, in half-heights) at most ``_PORT_REACH`` from the middle and
    ``_PORT_STEP`` apart where room allows, each as near its wanted height as that permits."""
    if not wanted:
        return []
    order = sorted(range(len(wanted)), key=lambda i: wanted[i])
    step = min(_PORT_STEP, 2 * _PORT_REACH / max(len(wanted) - 1, 1))
    heights = [max(-_PORT_REACH, min(_PORT_REACH, math.sin(wanted[i]))) for i in order]
    placed = _isotonic(heights, [1.0] * len(order), [step] * (len(order) - 1))
    shift = max(0.0, -_PORT_REACH - placed[0]) - max(0.0, placed[-1] - _PORT_REACH)
    out = [0.0] * len(wanted)
    for i, h in zip(order, placed):
        out[i] = math.asin(max(-1.0, min(1.0, h + shift)))
    return out


def _ports(boxes: Dict[Hashable, NodeBox],
           paths: Dict[EdgeKey, Tuple[str, List[Point]]]) -> Dict[EdgeKey, Tuple[float, float]]:
    """Each edge's angle of departure at its source and of arrival at its target: towards its neighbouring
    point, spread so that no two edges share a point of a node's outline."""
    sides: Dict[Tuple[Hashable, bool], List[Tuple[EdgeKey, int, float]]] = {}
    for key, (_, points) in paths.items():
        for end, node, here, there in ((0, key[0], points[0], points[1]), (1, key[1], points[-1], points[-2])):
            right = there[0] > here[0] or (there[0] == here[0] and end == 0)
            angle = math.atan2(there[1] - here[1], there[0] - here[0])
            local = angle if right else math.atan2(math.sin(angle - math.pi), math.cos(angle - math.pi))
            sides.setdefault((node, right), []).append((key, end, local if right else -local))
    out: Dict[EdgeKey, List[float]] = {key: [0.0, 0.0] for key in paths}
    for (node, right), items in sides.items():
        for (key, end, _), a in zip(items, _spread([w for _, _, w in items])):
            out[key][end] = a if right else math.pi - a
    return {k: (v[0], v[1]) for k, v in out.items()}


def _bezier(p0: Point, c0: Point, c1: Point, p1: Point, n: int = _SAMPLES) -> List[Point]:
    pts = []
    for i in range(n + 1):
        t = i / n
        u = 1 - t
        pts.append((u ** 3 * p0[0] + 3 * u * u * t * c0[0] + 3 * u * t * t * c1[0] + t ** 3 * p1[0],
                    u ** 3 * p0[1] + 3 * u * u * t * c0[1] + 3 * u * t * t * c1[1] + t ** 3 * p1[1]))
    return pts


def _curve(xs: List[float], ys: List[float], band: List[float], start: Point, end: Point, kind: str) -> List[Point]:
    """The route through its columns: inside a column's band (``x`` within ``band`` of the column) it runs
    level at its own height (the port's, or its waypoint's slot), so it cannot touch a neuron there; between
    columns a Bezier S-curve, level at both ends, changes height where no neuron stands."""
    go = 1.0 if xs[-1] >= xs[0] else -1.0
    runs: List[Tuple[Point, Point]] = [(start, (xs[0] + go * band[0], ys[0]))]
    for x, y, w in zip(xs[1:-1], ys[1:-1], band[1:-1]):
        runs.append(((x - go * w, y), (x + go * w, y)))
    runs.append(((xs[-1] - go * band[-1], ys[-1]), end))
    out: List[Point] = [runs[0][0]]
    for (_, p), (q, q_end) in zip(runs, runs[1:]):
        reach = 0.45 * abs(q[0] - p[0])
        c0, c1 = (p[0] + go * reach, p[1]), (q[0] - go * reach, q[1])
        if kind == "back" and len(xs) == 2:       # bulge, so a 2-cycle's two edges stay apart
            lift = 0.35 * abs(q[0] - p[0]) + 0.5 * abs(q[1] - p[1])
            c0, c1 = (c0[0], c0[1] + lift), (c1[0], c1[1] + lift)
        out.extend(_bezier(p, c0, c1, q))
        out.append(q_end)
    return out


def _loop(box: NodeBox) -> List[Point]:
    """A loop over the node, from its upper left to its upper right."""
    a0, a1 = math.radians(118), math.radians(62)
    p0, p1 = box.boundary(a0), box.boundary(a1)
    reach = 2.2 * box.b
    c0 = (p0[0] + reach * math.cos(a0) - 0.4 * box.a, p0[1] + reach * math.sin(a0))
    c1 = (p1[0] + reach * math.cos(a1) + 0.4 * box.a, p1[1] + reach * math.sin(a1))
    return _bezier(p0, c0, c1, p1)
