"""mpnet.viz.layout: columns, order, heights and routes of the layered drawing (pure geometry, no matplotlib)."""
import itertools
import math
import random

import pytest
from hypothesis import assume, given, settings, strategies as st

from mpnet import examples, sample
from mpnet.viz.layout import NodeBox, layered_layout
from mpnet.viz.layout_columns import _crossings as _column_crossings, _isotonic, _sift

R = 0.17


def _lay(topo, **kw):
    return layered_layout(list(topo.nodes), list(topo.edges), {n: (R, R) for n in topo.nodes},
                          sources=topo.inputs, sinks=topo.outputs, **kw)


def _entered(lay, margin=0.0):
    """(edge, node) pairs where a route enters a node other than its endpoints."""
    return [(k, n) for k, r in lay.routes.items() for n, box in lay.nodes.items()
            if n not in k and any(box.contains(x, y, margin) for x, y in r.points)]


def _segments_cross(p, q, r, s):
    def orient(a, b, c):
        return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
    return orient(p, q, r) * orient(p, q, s) < 0 and orient(r, s, p) * orient(r, s, q) < 0


def _crossings(lay):
    routes = list(lay.routes.values())
    count = 0
    for a, b in itertools.combinations(routes, 2):
        if {a.src, a.dst} & {b.src, b.dst}:
            continue
        pa, pb = a.points[::4] + a.points[-1:], b.points[::4] + b.points[-1:]    # coarse polylines suffice
        if max(p[0] for p in pa) < min(p[0] for p in pb) or max(p[0] for p in pb) < min(p[0] for p in pa):
            continue
        count += any(_segments_cross(p, q, r, s) for p, q in zip(pa, pa[1:]) for r, s in zip(pb, pb[1:]))
    return count


def test_columns_are_depths_inputs_left_in_order_outputs_right():
    topo = sample.random_dag(n_inputs=3, n_outputs=2, n_hidden=12, seed=4)
    lay = _lay(topo)
    depth = topo.depth()
    for n, box in lay.nodes.items():
        if topo.nodes[n].role != "output":
            assert box.layer == depth[n]
        assert box.x == pytest.approx(lay.layers[box.layer])
    last = max(b.layer for b in lay.nodes.values())
    assert all(lay.nodes[o].layer == last for o in topo.outputs)
    ys = [lay.nodes[i].y for i in topo.inputs]
    assert ys == sorted(ys, reverse=True)                          # declared order, top to bottom
    assert all(0 <= p[0] <= lay.width and 0 <= p[1] <= lay.height for r in lay.routes.values() for p in r.points)


def test_the_question_network_is_drawn_without_crossings_or_edges_through_neurons():
    lay = _lay(examples.question_network())
    assert _crossings(lay) == 0
    assert _entered(lay) == []
    b1, a1, c1 = lay.nodes["b1"], lay.nodes["a1"], lay.nodes["c1"]
    passing = [p for p in lay.routes[("a1", "c1")].points if abs(p[0] - b1.x) <= 2 * R]
    assert passing and all(abs(p[1] - b1.y) > 2 * R for p in passing)   # a1 -> c1 passes b1's column beside it
    assert max(p[1] for p in passing) - min(p[1] for p in passing) < 0.01  # ... level, in its own slot


def test_routes_start_and_end_on_distinct_points_of_the_outlines():
    topo = sample.random_dag(n_inputs=4, n_outputs=2, n_hidden=20, avg_in_degree=3, seed=2)
    lay = _lay(topo)
    ends = {}
    for (s, d), r in lay.routes.items():
        for node, p in ((s, r.points[0]), (d, r.points[-1])):
            box = lay.nodes[node]
            assert ((p[0] - box.x) / box.a) ** 2 + ((p[1] - box.y) / box.b) ** 2 == pytest.approx(1.0)
            ends.setdefault(node, []).append(p)
    for node, points in ends.items():
        for p, q in itertools.combinations(points, 2):
            assert math.dist(p, q) > 1e-3, node


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(0, 25), st.floats(1.0, 4.0))
def test_no_route_enters_a_neuron_it_does_not_join(seed, hidden, degree):
    try:
        topo = sample.random_dag(n_inputs=3, n_outputs=2, n_hidden=hidden, avg_in_degree=degree, seed=seed)
    except ValueError:          # more edges asked than a DAG this small holds
        assume(False)
    assert _entered(_lay(topo), margin=0.02) == []


def test_cycles_run_backwards_and_self_loops_go_over_their_neuron():
    nodes = ["x", "a", "b", "c", "y"]
    edges = [("x", "a"), ("a", "b"), ("b", "c"), ("c", "a"), ("b", "a"), ("c", "y"), ("b", "b")]
    lay = layered_layout(nodes, edges, {n: (R, R) for n in nodes}, sources=["x"], sinks=["y"])
    assert list(lay.routes) == edges
    kinds = {k: r.kind for k, r in lay.routes.items()}
    assert kinds[("c", "a")] == kinds[("b", "a")] == "back" and kinds[("b", "b")] == "loop"
    assert [lay.nodes[n].layer for n in nodes] == [0, 1, 2, 3, 4]
    assert lay.routes[("c", "a")].points[0][0] > lay.routes[("c", "a")].points[-1][0]   # right to left
    loop = lay.routes[("b", "b")].points
    assert min(p[1] for p in loop) >= lay.nodes["b"].y and max(p[1] for p in loop) > lay.nodes["b"].y + 1.5 * R
    fwd, back = lay.routes[("a", "b")].points, lay.routes[("b", "a")].points
    assert max(abs(p[1] - q[1]) for p, q in zip(fwd, reversed(back))) > R   # a 2-cycle's edges stay apart
    assert _entered(lay) == []


def test_bad_input_names_the_node():
    with pytest.raises(ValueError, match="Edge 'a' -> 'z' names node 'z', which is not among the nodes"):
        layered_layout(["a"], [("a", "z")], {"a": (R, R)})
    with pytest.raises(ValueError, match=r"No size given for node\(s\) \['b'\]"):
        layered_layout(["a", "b"], [], {"a": (R, R)})


def test_a_single_node_and_an_empty_graph():
    lay = layered_layout(["a"], [], {"a": (R, R)})
    assert lay.nodes["a"] == NodeBox(R, R, R, R, 0) and lay.width == pytest.approx(2 * R)
    assert layered_layout([], [], {}).routes == {}


def test_isotonic_keeps_the_gaps_and_is_least_squares():
    assert _isotonic([0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [1.0, 1.0]) == pytest.approx([-1.0, 0.0, 1.0])
    assert _isotonic([0.0, 5.0], [1.0, 1.0], [1.0]) == pytest.approx([0.0, 5.0])        # already apart
    assert _isotonic([0.0, 0.0], [3.0, 1.0], [1.0]) == pytest.approx([-0.25, 0.75])     # the heavy one moves less
    rng = random.Random(0)
    for _ in range(50):
        n = rng.randint(1, 6)
        t, w, g = [rng.uniform(-3, 3) for _ in range(n)], [rng.uniform(0.5, 3) for _ in range(n)], \
            [rng.uniform(0, 1) for _ in range(n - 1)]
        y = _isotonic(t, w, g)
        assert all(b - a >= gap - 1e-9 for a, b, gap in zip(y, y[1:], g))
        cost = sum(wi * (yi - ti) ** 2 for wi, yi, ti in zip(w, y, t))
        for _ in range(20):   # no feasible nudge does better
            z = [yi + rng.uniform(-0.1, 0.1) for yi in y]
            if all(b - a >= gap for a, b, gap in zip(z, z[1:], g)):
                assert sum(wi * (zi - ti) ** 2 for wi, zi, ti in zip(w, z, t)) >= cost - 1e-9


def test_the_sweeps_remove_crossings():
    topo = sample.random_dag(n_inputs=3, n_outputs=2, n_hidden=20, seed=3)
    assert _crossings(_lay(topo)) < 0.6 * _crossings(_lay(topo, sweeps=0))


@pytest.mark.parametrize("seed", range(6))
def test_sifting_never_adds_crossings_and_keeps_the_fixed_order(seed):
    rng = random.Random(seed)
    cols = [list(range(k * 8, k * 8 + rng.randint(3, 8))) for k in range(4)]
    up = {v: [] for c in cols for v in c}
    down = {v: [] for c in cols for v in c}
    for a, b in zip(cols, cols[1:]):
        for v in a:
            for w in rng.sample(b, rng.randint(0, len(b))):
                down[v].append(w)
                up[w].append(v)
    n = max(up) + 1
    up_l, down_l = [up.get(v, []) for v in range(n)], [down.get(v, []) for v in range(n)]
    fixed = {cols[0][0]: 1, cols[0][2]: 0}            # kept in this order: cols[0][2] above cols[0][0]
    cols[0][0], cols[0][2] = cols[0][2], cols[0][0]

    def total(c):
        return sum(_column_crossings(a, b, down_l) for a, b in zip(c, c[1:]))
    after = _sift(cols, up_l, down_l, fixed)
    assert [sorted(c) for c in after] == [sorted(c) for c in cols]
    assert total(after) <= total(cols)
    first = [v for v in after[0] if v in fixed]
    assert first == sorted(first, key=fixed.get)


@pytest.mark.slow
def test_sifting_finds_what_the_sweeps_miss_on_the_pictured_dag(monkeypatch):
    from mpnet.viz import layout_columns
    topo = sample.random_dag(n_inputs=4, n_outputs=2, n_hidden=40, avg_in_degree=3, seed=1, weights=True)
    sifted = _crossings(_lay(topo))
    monkeypatch.setattr(layout_columns, "_sift", lambda cols, *args, **kw: cols)
    assert sifted < 0.95 * _crossings(_lay(topo))
