"""Where each edge's label goes (viz stage, under :mod:`mpnet.viz.draw`; pure Python): on its own edge,
clear of every neuron, mark and other label.

A label is a box centred on a point of its edge's route. The candidates are points every ``step`` inches
along the route; a candidate is refused when its box touches a neuron, an obstacle (a fixed-sign disc, an
arrowhead) or a label already placed, or leaves the picture. Among the rest the cheapest wins: near the
middle of the edge, on a level stretch, over as few other edges as possible. Labels with the fewest
candidates are placed first. All lengths are in inches.
"""
import math
from typing import Dict, Hashable, List, Mapping, Sequence, Set, Tuple

from .layout_shapes import EdgeKey, NodeBox, Point, Route

__all__ = ["Box", "place_labels"]

Box = Tuple[float, float, float, float]   # x0, y0, x1, y1
_CELL = 0.1                               # grid cell of the index of route points (inches)


def _overlap(a: Box, b: Box, gap: float = 0.0) -> bool:
    return a[0] < b[2] + gap and b[0] < a[2] + gap and a[1] < b[3] + gap and b[1] < a[3] + gap


def _box_meets_ellipse(box: Box, node: NodeBox, margin: float) -> bool:
    """Whether ``box`` comes within ``margin`` of the ellipse: its point nearest the centre is inside."""
    nx = min(max(node.x, box[0]), box[2])
    ny = min(max(node.y, box[1]), box[3])
    return node.contains(nx, ny, margin)


def _samples(points: Sequence[Point], step: float) -> List[Tuple[float, Point, float]]:
    """``(arc length, point, |slope|)`` every ``step`` along the polyline."""
    out: List[Tuple[float, Point, float]] = []
    run, next_at = 0.0, 0.0
    for p, q in zip(points, points[1:]):
        seg = math.dist(p, q)
        slope = abs(q[1] - p[1]) / max(abs(q[0] - p[0]), 1e-9)
        while seg > 0 and next_at <= run + seg:
            t = (next_at - run) / seg
            out.append((next_at, (p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])), slope))
            next_at += step
        run += seg
    return out


def _index(routes: Mapping[EdgeKey, Route], step: float) -> Dict[Tuple[int, int], List[Tuple[EdgeKey, Point]]]:
    """Points of every route, ``step`` apart, filed by grid cell."""
    grid: Dict[Tuple[int, int], List[Tuple[EdgeKey, Point]]] = {}
    for key, route in routes.items():
        for _, p, _ in _samples(route.points, step):
            grid.setdefault((int(p[0] // _CELL), int(p[1] // _CELL)), []).append((key, p))
    return grid


def _crossed(box: Box, grid: Mapping[Tuple[int, int], List[Tuple[EdgeKey, Point]]], own: EdgeKey) -> int:
    """How many other edges run through ``box`` (a label there would hide a piece of them)."""
    seen: Set[EdgeKey] = set()
    for i in range(int(box[0] // _CELL), int(box[2] // _CELL) + 1):
        for j in range(int(box[1] // _CELL), int(box[3] // _CELL) + 1):
            for key, p in grid.get((i, j), ()):
                if key != own and key not in seen and box[0] <= p[0] <= box[2] and box[1] <= p[1] <= box[3]:
                    seen.add(key)
    return len(seen)


def place_labels(routes: Mapping[EdgeKey, Route], sizes: Mapping[EdgeKey, Tuple[float, float]],
                 nodes: Mapping[Hashable, NodeBox], bounds: Box, *, obstacles: Sequence[Box] = (),
                 step: float = 0.03, gap: float = 0.015) -> Tuple[Dict[EdgeKey, Point], List[EdgeKey]]:
    """Put each label on its edge without touching a neuron, an obstacle or another label.

    Args:
        routes: each edge's route (a layout's ``routes``).
        sizes: ``{edge: (width, height)}`` of each label's box; edges not in it get no label.
        nodes: every neuron's ellipse.
        bounds: the box the labels must stay inside.
        obstacles: boxes no label may touch (marks on edges, arrowheads).
        step: distance between candidate points along a route.
        gap: the least room between a label and anything it must not touch.

    Returns:
        ``(centres, unplaced)``: the centre of every label that found room, and the edges whose label did
        not (each candidate touched something); the caller may widen the layout and try again.
    """
    grid = _index(routes, step)
    options: Dict[EdgeKey, List[Tuple[float, Box, Point]]] = {}
    for key, (w, h) in sizes.items():
        samples = _samples(routes[key].points, step)
        length = samples[-1][0] if samples else 0.0
        found = []
        for s, (x, y), slope in samples:
            box = (x - w / 2, y - h / 2, x + w / 2, y + h / 2)
            if box[0] < bounds[0] or box[1] < bounds[1] or box[2] > bounds[2] or box[3] > bounds[3]:
                continue
            if any(_box_meets_ellipse(box, n, gap) for n in nodes.values()):
                continue
            if any(_overlap(box, o, gap) for o in obstacles):
                continue
            middle = abs(s / length - 0.5) if length > 0 else 0.0
            cost = middle + 0.25 * min(slope, 2.0) + 0.35 * _crossed(box, grid, key)
            found.append((cost, box, (x, y)))
        options[key] = sorted(found, key=lambda o: o[0])
    placed: Dict[EdgeKey, Point] = {}
    boxes: List[Box] = []
    unplaced: List[EdgeKey] = []
    for key in sorted(options, key=lambda k: len(options[k])):   # the most constrained first
        for _, box, centre in options[key]:
            if not any(_overlap(box, b, gap) for b in boxes):
                placed[key] = centre
                boxes.append(box)
                break
        else:
            unplaced.append(key)
    return placed, unplaced
