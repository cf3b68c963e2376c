"""What a layered drawing is made of (viz stage, the data of :mod:`mpnet.viz.layout`; pure Python): a neuron's
ellipse (:class:`NodeBox`), an edge's polyline (:class:`Route`) and the whole picture's geometry
(:class:`Layout`). All lengths are in inches.
"""
import math
from dataclasses import dataclass
from typing import Dict, Hashable, Tuple

__all__ = ["NodeBox", "Route", "Layout"]

Point = Tuple[float, float]
EdgeKey = Tuple[Hashable, Hashable]


@dataclass(frozen=True)
class NodeBox:
    """A neuron's place: an ellipse centred at ``(x, y)`` with half-width ``a`` and half-height ``b``."""
    x: float
    y: float
    a: float
    b: float
    layer: int

    def contains(self, x: float, y: float, margin: float = 0.0) -> bool:
        """Whether ``(x, y)`` lies inside the ellipse grown by ``margin`` on every side.

        Args:
            x, y: the point, in inches.
            margin: added to both half-axes (e.g. half a line's width).
        """
        return ((x - self.x) / (self.a + margin)) ** 2 + ((y - self.y) / (self.b + margin)) ** 2 < 1.0

    def boundary(self, angle: float) -> Point:
        """The point of the outline in direction ``angle`` from the centre.

        Args:
            angle: radians, counter-clockwise from the positive x axis.
        """
        c, s = math.cos(angle), math.sin(angle)
        r = 1.0 / math.sqrt((c / self.a) ** 2 + (s / self.b) ** 2)
        return (self.x + r * c, self.y + r * s)


@dataclass(frozen=True)
class Route:
    """How one edge is drawn: a polyline from the source's outline to the target's outline.

    ``kind`` is ``"forward"`` (left to right), ``"back"`` (an edge closing a cycle, right to left) or
    ``"loop"`` (``src == dst``).
    """
    src: Hashable
    dst: Hashable
    kind: str
    points: Tuple[Point, ...]

    def midpoint(self) -> Point:
        """The point halfway along the route (by length)."""
        pts = self.points
        steps = [math.dist(p, q) for p, q in zip(pts, pts[1:])]
        half, run = sum(steps) / 2.0, 0.0
        for (p, q), step in zip(zip(pts, pts[1:]), steps):
            if run + step >= half and step > 0:
                t = (half - run) / step
                return (p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1]))
            run += step
        return pts[-1]


@dataclass(frozen=True)
class Layout:
    """Every neuron's :class:`NodeBox` and every edge's :class:`Route`, in a box ``[0, width] x [0, height]``.

    ``layers`` lists the x of each column (column ``k`` holds the neurons of layer ``k``).
    """
    nodes: Dict[Hashable, NodeBox]
    routes: Dict[EdgeKey, Route]
    layers: Tuple[float, ...]
    width: float
    height: float
