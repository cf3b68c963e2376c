"""Starts and moves (mpnet.signs.moves): exact flips keep the function, redraws put kinks in the data."""
import pytest
import torch

from mpnet.signs.moves import clip, flip_neuron, mirror_edges, random_starts, redraw_neurons, region, region_starts
from mpnet.signs.population import Population
from mpnet.graph.topology import Topology


def chain(act, agg="sum"):
    return Topology.from_edges([("x1", "h", 0.8), ("x2", "h", -0.6), ("h", "g", 1.1), ("x1", "g", 0.3),
                                ("h", "y", 0.9), ("g", "y", -0.7)], inputs=["x1", "x2"], outputs=["y"],
                               activation="relu", activations={"h": act},
                               biases={"h": 0.2, "g": 0.1, "y": -0.3})


def data(n=200, lo=-2.0, hi=2.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 2, generator=g, dtype=torch.float64) * (hi - lo) + lo


@pytest.mark.parametrize("act", ["tanh", "identity", "sin", "sigmoid", "abs", "square", "gauss"])
def test_exact_flips_keep_the_function(act):
    topo = chain(act)
    pop = Population(topo, 1)
    theta = pop.theta_of(topo)[None]
    X = data()
    flipped = flip_neuron(pop, theta, "h")
    assert torch.allclose(pop.forward(flipped, X), pop.forward(theta, X), atol=1e-12)
    assert float(flipped[0, pop.edge_col[("x1", "h")]]) == -0.8


def test_the_linear_flip_of_a_relu_is_exact_where_it_stays_linear():
    topo = chain("relu")
    pop = Population(topo, 1)
    theta = pop.theta_of(topo)[None]
    X = data(lo=0.6, hi=1.0)                 # 0.8 x1 - 0.6 x2 + 0.2 >= 0.08 on all of it: h is linear
    flipped = flip_neuron(pop, theta, "h", X)
    assert torch.allclose(pop.forward(flipped, X), pop.forward(theta, X), atol=1e-12)
    with pytest.raises(ValueError, match="needs the data X"):
        flip_neuron(pop, theta, "h")


def test_random_starts_respect_bounds_and_put_every_kink_in_the_data():
    topo = Topology.from_edges([("x1", "h"), ("x2", "h"), ("h", "g"), ("x1", "g"), ("g", "y"), ("h", "y")],
                               inputs=["x1", "x2"], outputs=["y"], signs={("h", "g"): "-"},
                               frozen=[], activation="relu")
    pop = Population(topo, 16)
    lo, hi = pop.bounds()
    X = data()
    theta = random_starts(pop, X, torch.Generator().manual_seed(0), lo, hi)
    assert torch.equal(clip(theta, lo, hi), theta)
    Z, _ = pop.states(theta, X)
    for node in ("h", "g"):
        z = Z[pop.rows[:, pop.node_ids.index(node)]]              # [16, n]
        frac = (z > 0).double().mean(1)
        assert ((frac > 0.05) & (frac < 0.95)).all()


def test_redraw_changes_one_neuron_and_keeps_the_rest():
    topo = chain("relu")
    pop = Population(topo, 2)
    lo, hi = pop.bounds()
    theta = pop.theta_of(topo).expand(2, -1).clone()
    X = data()
    new = redraw_neurons(pop, theta, X, ["h", "g"], torch.Generator().manual_seed(1), lo, hi)
    c = pop.edge_col
    touched_h = {c[("x1", "h")], c[("x2", "h")], c[("h", "g")], c[("h", "y")], pop.col["h"]}
    untouched = [i for i in range(pop.P) if i not in touched_h]
    assert torch.equal(new[0, untouched], theta[0, untouched])
    Z, _ = pop.states(new, X)
    z = Z[pop.rows[0, pop.node_ids.index("h")]]
    assert 0 < float((z > 0).double().mean()) < 1


def test_mirror_negates_one_weight_within_bounds():
    topo = chain("relu")
    pop = Population(topo, 2)
    lo, hi = pop.bounds()
    hi[1, pop.edge_col[("h", "y")]] = 0.0            # row 1: h -> y may not be positive
    theta = pop.theta_of(topo).expand(2, -1).clone()
    theta[1, pop.edge_col[("h", "y")]] = -0.9
    out = mirror_edges(theta, [pop.edge_col[("x1", "h")], pop.edge_col[("h", "y")]], lo, hi)
    assert float(out[0, pop.edge_col[("x1", "h")]]) == -0.8
    assert float(out[1, pop.edge_col[("h", "y")]]) == 0.0     # +0.9 clipped to the bound


def test_region_starts_redraw_the_region_and_keep_the_rest():
    """The edge test's region starts: every neuron of the region around an edge drawn afresh, kinks inside the
    data, the bounds kept; what lies outside the region is the best fit's."""
    topo = Topology.from_edges([("x1", "a", 0.8), ("a", "b", 1.1), ("b", "y", 0.9), ("x2", "c", -0.6),
                                ("c", "y", -0.7)], inputs=["x1", "x2"], outputs=["y"], activation="relu",
                               biases={"a": 0.2, "b": 0.1, "c": 0.3, "y": -0.3})
    M = 16
    pop = Population(topo, M)
    best = Population(topo, 1).theta_of(topo)
    lo, hi = pop.bounds()
    lo[:, pop.edge_col[("a", "b")]] = 0.0             # a forced sign stays forced
    X = data()
    nodes = region(topo, ("a", "b"))
    assert nodes == {"a", "b"}
    rows = region_starts(pop, best, X, nodes, torch.Generator().manual_seed(0), lo, hi)
    assert rows.shape == (M, pop.P) and bool((rows >= lo).all() and (rows <= hi).all())
    kept = [pop.edge_col[("x2", "c")], pop.edge_col[("c", "y")], pop.col["c"], pop.col["y"]]
    assert torch.equal(rows[:, kept], best[kept].expand(M, -1))
    moved = [pop.edge_col[("x1", "a")], pop.edge_col[("b", "y")], pop.col["a"], pop.col["b"]]
    assert bool((rows[:, moved] != best[moved]).all())
    assert len({round(float(w), 9) for w in rows[:, pop.edge_col[("x1", "a")]]}) == M    # each row its own draw
    Z, _ = pop.states(rows, X)
    for n in ("a", "b"):
        frac = (Z[pop.rows[:, pop.col[n] - pop.E]] > 0).double().mean(1)
        assert bool(((frac > 0.05) & (frac < 0.95)).all()), (n, frac)     # every kink inside the data
