"""Where a picture puts each neuron and how each edge runs (viz stage, the geometry behind :mod:`mpnet.viz.draw`;
pure Python, no matplotlib).

A layered (Sugiyama) layout: columns are depths, an edge that skips columns gets one invisible waypoint per
column it crosses, the waypoints take slots beside the neurons, so the edge curves *around* the neurons it
passes instead of through them; the order within each column is chosen to cut crossings (barycentre sweeps
and adjacent swaps) and the heights by a least-squares fit that keeps every slot apart and long edges straight.
Inside a column's band every edge runs level at its own height (its port's or its waypoint's slot), and
changes height only between columns, where no neuron stands: so no edge can cross a neuron it does not join.
Each edge leaves and enters a neuron at its own height of the outline. Cycles (if a topology has any) are
drawn as edges running right to left, self-loops as a loop over the neuron. All lengths are in inches.

:func:`layered_layout` puts the pieces together: :mod:`mpnet.viz.layout_columns` places the neurons and waypoints,
:mod:`mpnet.viz.layout_routes` draws the edges through them, :mod:`mpnet.viz.layout_shapes` holds the result.
"""
from typing import Dict, Hashable, List, Mapping, Sequence, Tuple

from .layout_columns import _back_edges, _heights, _layers, _order
from .layout_routes import _curve, _loop, _ports
from .layout_shapes import EdgeKey as EdgeKey, Point as Point   # the geometry's types, importable from here
from .layout_shapes import Layout, NodeBox, Route

__all__ = ["NodeBox", "Route", "Layout", "layered_layout"]


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
