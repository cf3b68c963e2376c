"""Where a picture puts each neuron and how each edge runs (signs stage, the geometry behind :mod:`mpnet.viz.draw`;
pure Python, no matplotlib).

A layered (Sugiyama) layout: columns are depths, an edge that skips columns gets one invisible waypoint per
column it crosses, the waypoints take slots beside the neurons, so the edge curves *around* the neurons it
passes instead of through them; the order within each column is chosen to cut crossings (barycentre sweeps
and adjacent swaps) and the heights by a least-squares fit that keeps every slot apart and long edges straight.
Inside a column's band every edge runs level at its own height (its port's or its waypoint's slot), and
changes height only between columns, where no neuron stands: so no edge can cross a neuron it does not join.
Each edge leaves and enters a neuron at its own height of the outline. Cycles (if a topology has any) are
drawn as edges running right to left, self-loops as a loop over the neuron. All lengths are in inches.
"""
import bisect
import math
from dataclasses import dataclass
from typing import Dict, Hashable, List, Mapping, Optional, Sequence, Set, Tuple

__all__ = ["NodeBox", "Route", "Layout", "layered_layout"]

Point = Tuple[float, float]
EdgeKey = Tuple[Hashable, Hashable]

_SAMPLES = 24                  # points per Bezier piece of a route
_PORT_REACH = 0.8   # ports lie within 0.8 half-heights of a neuron's middle, on its left and right sides
_PORT_STEP = 0.55   # wanted height between neighbouring ports, in half-heights


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


def layered_layout(nodes: Sequence[Hashable], edges: Sequence[EdgeKey], sizes: Mapping[Hashable, Tuple[float, float]],
                   *, sources: Sequence[Hashable] = (), sinks: Sequence[Hashable] = (), column_gap: float = 0.9,
                   node_gap: float = 0.22, lane_gap: float = 0.14, sweeps: int = 12) -> Layout:
    """Lay out a directed graph in columns, left to right.

    Args:
        nodes: every node id, in the order ties are broken (declaration order).
        edges: ``(src, dst)`` pairs; cycles and self-loops are allowed.
        sizes: ``{node: (half_width, half_height)}`` of each node's ellipse, in inches.
        sources: nodes pinned to the first column, kept in this order top to bottom (a network's inputs).
        sinks: nodes put in the last column when nothing leaves them, kept in this order (its outputs).
        column_gap: the least horizontal room between two columns' nodes.
        node_gap: the least vertical room between two nodes of a column.
        lane_gap: the least vertical room between an edge passing a column and its neighbours there.
        sweeps: rounds of crossing reduction.

    Returns:
        a :class:`Layout`; a node's column is its longest-path depth from the sources (a non-source with no
        incoming edge sits in column 1), with edges that close a cycle left out of the count.

    Raises:
        ValueError: an edge names a node that is not in ``nodes``, or a node has no size.
    """
    order = list(nodes)
    index = {n: i for i, n in enumerate(order)}
    for src, dst in edges:
        for end in (src, dst):
            if end not in index:
                raise ValueError(f"Edge {src!r} -> {dst!r} names node {end!r}, which is not among the nodes.")
    missing = [n for n in order if n not in sizes]
    if missing:
        raise ValueError(f"No size given for node(s) {missing[:5]!r}; sizes needs (half_width, half_height) each.")
    source_set, sink_set = set(sources), set(sinks)
    plain = [(s, d) for s, d in edges if s != d]
    loops = {s for s, d in edges if s == d}
    back = _back_edges(order, plain, [n for n in sources if n in index])
    dag = [(d, s) if (s, d) in back else (s, d) for s, d in plain]
    layer = _layers(order, dag, source_set, sink_set)

    # vertices: the nodes, then one waypoint per column an edge skips
    v_layer = [layer[n] for n in order]
    v_half = [sizes[n][1] * (2.9 if n in loops else 1.0) for n in order]   # a loop needs room above
    v_real = [True] * len(order)
    up: List[List[int]] = [[] for _ in order]
    down: List[List[int]] = [[] for _ in order]
    chains: List[List[int]] = []
    for s, d in dag:
        chain = [index[s]]
        for k in range(layer[s] + 1, layer[d]):
            v_layer.append(k)
            v_half.append(0.0)
            v_real.append(False)
            up.append([])
            down.append([])
            chain.append(len(v_layer) - 1)
        chain.append(index[d])
        for a, b in zip(chain, chain[1:]):
            down[a].append(b)
            up[b].append(a)
        chains.append(chain)

    n_layers = max(v_layer) + 1 if v_layer else 0
    columns: List[List[int]] = [[] for _ in range(n_layers)]
    for v, k in enumerate(v_layer):
        columns[k].append(v)
    fixed = {index[n]: i for i, n in enumerate(sources) if n in index}
    fixed.update({index[n]: len(fixed) + i for i, n in enumerate(sinks) if n in index})
    columns = _order(columns, up, down, fixed, sweeps)
    ys = _heights(columns, up, down, v_half, v_real, node_gap, lane_gap)

    # columns' x: wide enough for their widest node, further apart where edges climb far
    half_w = [max((sizes[order[v]][0] for v in col if v_real[v]), default=0.0) for col in columns]
    xs: List[float] = []
    for k in range(n_layers):
        if k == 0:
            xs.append(half_w[0])
            continue
        climb = max((abs(ys[a] - ys[b]) for a in columns[k - 1] for b in down[a]), default=0.0)
        gap = min(max(column_gap, 0.2 * climb), 2.0 * column_gap)
        xs.append(xs[-1] + half_w[k - 1] + half_w[k] + gap)
    boxes = {n: NodeBox(xs[layer[n]], -ys[i], sizes[n][0], sizes[n][1], layer[n]) for i, n in enumerate(order)}

    # routes: each edge's sequence of points, then ports on the outlines, then Bezier pieces through them
    paths: Dict[EdgeKey, Tuple[str, List[Point]]] = {}
    for (s, d), (ls, ld), chain in zip(plain, dag, chains):
        points = [(xs[v_layer[v]], -ys[v]) for v in chain]
        if (s, d) in back:
            points.reverse()
        paths[(s, d)] = ("back" if (s, d) in back else "forward", points)
    ports = _ports(boxes, paths)
    routes: Dict[EdgeKey, Route] = {}
    band = [w + 0.08 for w in half_w]                # a column's band: its widest neuron and a little more
    for (key, (kind, points)), chain in zip(paths.items(), chains):
        a0, a1 = ports[key]
        start, end = boxes[key[0]].boundary(a0), boxes[key[1]].boundary(a1)
        cols = [layer_x for layer_x, _ in points]
        heights = [start[1]] + [y for _, y in points[1:-1]] + [end[1]]
        widths = [band[v_layer[v]] for v in (reversed(chain) if kind == "back" else chain)]
        routes[key] = Route(key[0], key[1], kind, tuple(_curve(cols, heights, widths, start, end, kind)))
    for n in loops:
        routes[(n, n)] = Route(n, n, "loop", tuple(_loop(boxes[n])))
    routes = {(s, d): routes[(s, d)] for s, d in edges}          # the caller's order

    # move everything into [0, width] x [0, height]
    xs_all = [b.x - b.a for b in boxes.values()] + [b.x + b.a for b in boxes.values()]
    ys_all = [b.y - b.b for b in boxes.values()] + [b.y + b.b for b in boxes.values()]
    for r in routes.values():
        xs_all += [p[0] for p in r.points]
        ys_all += [p[1] for p in r.points]
    x0, y0 = (min(xs_all), min(ys_all)) if xs_all else (0.0, 0.0)
    boxes = {n: NodeBox(b.x - x0, b.y - y0, b.a, b.b, b.layer) for n, b in boxes.items()}
    routes = {k: Route(r.src, r.dst, r.kind, tuple((x - x0, y - y0) for x, y in r.points)) for k, r in routes.items()}
    width = max(xs_all) - x0 if xs_all else 0.0
    height = max(ys_all) - y0 if ys_all else 0.0
    return Layout(boxes, routes, tuple(x - x0 for x in xs), width, height)


def _back_edges(order: List[Hashable], edges: List[EdgeKey], starts: List[Hashable]) -> Set[EdgeKey]:
    """Edges that close a cycle in a depth-first search from ``starts``, then from every other node in order."""
    succ: Dict[Hashable, List[Hashable]] = {n: [] for n in order}
    for s, d in edges:
        succ[s].append(d)
    state = {n: 0 for n in order}       # 0 unseen, 1 on the stack, 2 done
    back: Set[EdgeKey] = set()
    for root in list(starts) + order:
        if state[root]:
            continue
        state[root] = 1
        stack = [(root, iter(succ[root]))]
        while stack:
            node, it = stack[-1]
            child = next(it, None)
            if child is None:
                state[node] = 2
                stack.pop()
            elif state[child] == 1:
                back.add((node, child))
            elif state[child] == 0:
                state[child] = 1
                stack.append((child, iter(succ[child])))
    return back


def _layers(order: List[Hashable], dag: List[EdgeKey], sources: Set[Hashable],
            sinks: Set[Hashable]) -> Dict[Hashable, int]:
    """Longest path from the sources (``Topology.depth``'s rule); sinks with nothing after them go last."""
    preds: Dict[Hashable, List[Hashable]] = {n: [] for n in order}
    succ: Dict[Hashable, List[Hashable]] = {n: [] for n in order}
    for s, d in dag:
        preds[d].append(s)
        succ[s].append(d)
    indeg = {n: len(preds[n]) for n in order}
    ready = [n for n in order if indeg[n] == 0]
    layer = {n: 0 if (n in sources or not sources) else 1 for n in ready}
    while ready:
        node = ready.pop()
        for child in succ[node]:
            layer[child] = max(layer.get(child, 0), layer[node] + 1)
            indeg[child] -= 1
            if indeg[child] == 0:
                ready.append(child)
    last = max(layer.values(), default=0)
    for n in order:
        if n in sinks and not succ[n]:
            layer[n] = max(last, 1) if len(order) > 1 else 0
    return layer


def _crossings(upper: List[int], lower: List[int], down: List[List[int]]) -> int:
    """Crossings between two neighbouring columns."""
    pos = {v: i for i, v in enumerate(lower)}
    pairs = sorted((i, pos[w]) for i, v in enumerate(upper) for w in down[v])
    seen: List[int] = []
    count = 0
    for _, p in pairs:
        count += len(seen) - bisect.bisect_right(seen, p)
        bisect.insort(seen, p)
    return count


def _order(columns: List[List[int]], up: List[List[int]], down: List[List[int]], fixed: Dict[int, int],
           sweeps: int) -> List[List[int]]:
    """Barycentre sweeps down and up the columns with adjacent swaps; the order with fewest crossings wins.
    Vertices in ``fixed`` keep their relative order (a network's inputs and outputs)."""
    def total(cols: List[List[int]]) -> int:
        return sum(_crossings(a, b, down) for a, b in zip(cols, cols[1:]))

    def keep_fixed(col: List[int]) -> List[int]:
        slots = [i for i, v in enumerate(col) if v in fixed]
        for i, v in zip(slots, sorted((col[i] for i in slots), key=lambda u: fixed[u])):
            col[i] = v
        return col

    cols = [keep_fixed(sorted(c, key=lambda v: (fixed.get(v, 0), v))) for c in columns]
    best, best_count = [list(c) for c in cols], total(cols)
    for sweep in range(sweeps):
        if best_count == 0:
            break
        downward = sweep % 2 == 0
        rng = range(1, len(cols)) if downward else range(len(cols) - 2, -1, -1)
        for k in rng:
            ref = cols[k - 1] if downward else cols[k + 1]
            nbrs = up if downward else down
            pos = {v: i for i, v in enumerate(ref)}
            here = {v: i for i, v in enumerate(cols[k])}

            def key(v: int) -> Tuple[float, int]:
                ns = nbrs[v]
                return (sum(pos[u] for u in ns) / len(ns) if ns else here[v], here[v])
            cols[k] = keep_fixed(sorted(cols[k], key=key))
        _swap_adjacent(cols, up, down, fixed)
        count = total(cols)
        if count < best_count:
            best, best_count = [list(c) for c in cols], count
    return best


def _swap_adjacent(cols: List[List[int]], up: List[List[int]], down: List[List[int]], fixed: Dict[int, int]) -> None:
    """Swap neighbours in a column while that removes crossings with the columns on both sides."""
    for _ in range(4):
        improved = False
        for k, col in enumerate(cols):
            pos_up = {v: i for i, v in enumerate(cols[k - 1])} if k > 0 else {}
            pos_dn = {v: i for i, v in enumerate(cols[k + 1])} if k + 1 < len(cols) else {}
            for i in range(len(col) - 1):
                v, w = col[i], col[i + 1]
                if v in fixed and w in fixed:
                    continue

                def cost(a: int, b: int) -> int:   # crossings among a's and b's edges with a placed above b
                    c = sum(1 for p in up[a] for q in up[b] if pos_up[p] > pos_up[q])
                    return c + sum(1 for p in down[a] for q in down[b] if pos_dn[p] > pos_dn[q])
                if cost(w, v) < cost(v, w):
                    col[i], col[i + 1] = w, v
                    improved = True
        if not improved:
            return


def _isotonic(targets: List[float], weights: List[float], gaps: List[float]) -> List[float]:
    """Least squares ``sum w_i (t_i - target_i)^2`` subject to ``t_{i+1} - t_i >= gaps_i`` (pool adjacent
    violators on the shifted problem)."""
    offset = [0.0]
    for g in gaps:
        offset.append(offset[-1] + g)
    blocks: List[List[float]] = []        # [weighted sum, weight, count]
    for t, w, c in zip(targets, weights, offset):
        blocks.append([w * (t - c), w, 1])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] >= blocks[-1][0] / blocks[-1][1]:
            s, w2, n = blocks.pop()
            blocks[-1][0] += s
            blocks[-1][1] += w2
            blocks[-1][2] += n
    out: List[float] = []
    for s, w, n in blocks:
        out.extend([s / w] * int(n))   # n counts the targets pooled: a whole number
    return [z + c for z, c in zip(out, offset)]


def _heights(columns: List[List[int]], up: List[List[int]], down: List[List[int]], half: List[float],
             real: List[bool], node_gap: float, lane_gap: float) -> List[float]:
    """Vertical positions (downwards): neighbours in a column kept apart, each vertex pulled towards the mean
    of its neighbours in the next column; waypoints pull harder, so long edges run straight."""
    def gap(a: int, b: int) -> float:
        room = node_gap if real[a] and real[b] else lane_gap if not (real[a] or real[b]) else 1.3 * lane_gap
        return half[a] + half[b] + room

    ys = [0.0] * len(half)
    gaps = [[gap(a, b) for a, b in zip(col, col[1:])] for col in columns]
    for col, g in zip(columns, gaps):
        t = -sum(g) / 2
        for i, v in enumerate(col):
            ys[v] = t
            t += g[i] if i < len(g) else 0.0
    weight = [1.0 if r else 4.0 for r in real]
    for it in range(24):
        mode = ("up", "down", "both")[it % 3] if it < 18 else "both"
        ks = range(len(columns)) if mode != "down" else range(len(columns) - 1, -1, -1)
        for k in ks:
            col = columns[k]
            targets = []
            for v in col:
                ns = up[v] if mode == "up" else down[v] if mode == "down" else up[v] + down[v]
                targets.append(sum(ys[u] for u in ns) / len(ns) if ns else ys[v])
            for v, t in zip(col, _isotonic(targets, [weight[v] for v in col], gaps[k])):
                ys[v] = t
    return ys


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
