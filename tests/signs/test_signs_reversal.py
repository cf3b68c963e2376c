"""The edge test's moves between equally good ReLU fits that face or sit the other way (issue 19): a ReLU reversed
(``relu(z) = relu(-z) + z``, the linear part carried by its targets' direct edges) and two neurons exchanged.

On benchmark teacher dag2 the best fit had a ReLU facing the other way from the teacher's; no refit with the
teacher's signs found the teacher's equally good fit, and two edges were called wrong at confidence 0.95. The wirings
here have the same structure, small enough that the test's random and region starts are left out: the deterministic
moves from the best fit must reach the twin by themselves."""
import math

import torch

from mpnet.graph.topology import Topology
from mpnet.model import Network
from mpnet.signs import Effort
from mpnet.signs.edgetest import SAME, test_edges as edge_refits
from mpnet.signs.fitting import Workspace
from mpnet.signs.inputs import as_recordings
from mpnet.signs.moves import reverse_neuron, reversible, swap_neurons
from mpnet.signs.population import Population


EFFORT = Effort(starts=8, subsample=128, keep=4, islands=1, pool=1, redraws=1, rounds=0, hop_iters=60,
                polish_iters=200)


def inputs(n=400, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 2, generator=g, dtype=torch.float64) * 4 - 2


def mirrored_relu(act="relu"):
    """dag2's shape: ``h`` reads both inputs and feeds ``g``, which reads both inputs too; ``h`` kinks inside the
    data (active on about half of it), so neither neuron is linear and no flip symmetry makes its signs open."""
    return Topology.from_edges([("x0", "h", 0.8), ("x1", "h", -0.5), ("h", "g", -0.8), ("x0", "g", 0.4),
                                ("x1", "g", -1.0), ("g", "y", -0.5)], inputs=["x0", "x1"], outputs=["y"],
                               activation=act, biases={"h": -0.1, "g": -0.2, "y": 0.3})


def swapped_pair():
    """dag7's shape in its simplest form: two ReLUs with the same sources and target, one read with ``+``, the
    other with ``-``; the fit with the two exchanged is the same function with those signs the other way."""
    return Topology.from_edges([("x0", "u", 1.0), ("x1", "u", 0.3), ("x0", "v", -0.4), ("x1", "v", 1.0),
                                ("u", "y", 0.7), ("v", "y", -0.9)], inputs=["x0", "x1"], outputs=["y"],
                               activation="relu", biases={"u": -0.2, "v": -0.3, "y": 0.1})


def test_a_reversed_relu_computes_the_same_function_with_its_incoming_signs_reversed():
    for act in ("relu", "softplus", "gelu", "leaky_relu"):
        topo = mirrored_relu(act)
        pop = Population(topo, 1)
        theta = pop.theta_of(topo)[None]
        X = inputs()
        turned = reverse_neuron(pop, theta, "h")
        assert torch.allclose(pop.forward(turned, X), Network(topo, dtype=torch.float64)(X), atol=1e-12), act
        col = pop.edge_col
        assert float(turned[0, col[("x0", "h")]]) < 0 < float(turned[0, col[("x1", "h")]])   # incoming reversed
        assert float(turned[0, col[("h", "g")]]) == -0.8                                     # outgoing kept
    assert not reversible(topo, "y") and not reversible(mirrored_relu("tanh"), "h")


def test_a_reversal_without_the_direct_edges_is_only_a_start():
    topo = Topology.from_edges([("x0", "h", 0.8), ("x1", "h", -0.5), ("h", "g", -0.8), ("x0", "g", 0.4),
                                ("g", "y", -0.5)], inputs=["x0", "x1"], outputs=["y"], activation="relu",
                               biases={"h": -0.1, "g": -0.2, "y": 0.3})          # no x1 -> g: x1's part is lost
    pop = Population(topo, 1)
    theta = pop.theta_of(topo)[None]
    X = inputs()
    assert not torch.allclose(pop.forward(reverse_neuron(pop, theta, "h"), X), pop.forward(theta, X), atol=1e-3)


def test_swapping_two_neurons_of_the_same_place_keeps_the_function():
    topo = swapped_pair()
    pop = Population(topo, 1)
    theta = pop.theta_of(topo)[None]
    X = inputs()
    swapped = swap_neurons(pop, theta, "u", "v")
    assert torch.allclose(pop.forward(swapped, X), pop.forward(theta, X), atol=1e-12)
    assert float(swapped[0, pop.edge_col[("u", "y")]]) == -0.9
    assert float(swapped[0, pop.col["u"]]) == -0.3


def edge_test(topo, keys, *, mirror_first=None):
    """The edge test of ``keys`` from the teacher's own fit of its data (1 % noise), polished, or, ``mirror_first``,
    from its twin with that neuron reversed (the best fit facing the other way); no random or region starts."""
    X = inputs()
    Y = Network(topo, dtype=torch.float64)(X).detach()
    Y = Y + 0.01 * Y.std() * torch.randn(Y.shape, generator=torch.Generator().manual_seed(1), dtype=Y.dtype)
    ws = Workspace(topo, X, Y, seed=0)
    best = ws.pop(1).theta_of(topo)[None]
    if mirror_first is not None:
        best = reverse_neuron(ws.pop(1), best, mirror_first)
    best, loss = ws.fit(best, iters=200, tol=1e-13)
    lo, hi = ws.bounds(1)
    return edge_refits(ws, best, loss, keys, lo[0], hi[0], {}, EFFORT, n_random=0, n_region=0, verify=math.inf,
                       restarts=0)


def test_the_edge_test_finds_the_reversed_relus_fit_for_its_incoming_edges():
    for mirror in (None, "h"):       # the best fit facing either way: the other way fits exactly as well
        out = edge_test(mirrored_relu(), [("x0", "h"), ("x1", "h")], mirror_first=mirror)
        assert out.stable and out.restarts == 0
        for key, r in out.edges.items():
            assert r.ratio < SAME, (mirror, key, r.ratio)


def test_the_edge_test_finds_the_exchanged_neurons_fit_for_their_outgoing_edges():
    out = edge_test(swapped_pair(), [("u", "y"), ("v", "y")])
    assert out.stable and out.restarts == 0
    for key, r in out.edges.items():
        assert r.ratio < SAME, (key, r.ratio)


def dag0():
    """Benchmark teacher dag0 (relu, 1 % noise) as drawn by scripts/sign_recovery.py, weights to 3 digits."""
    edges = [("x1", "h0", -0.98), ("x0", "h1", 0.446), ("h0", "h1", 0.756), ("x0", "h2", 0.685), ("x1", "h2", 0.386),
             ("h0", "h2", -0.666), ("h1", "h2", 0.605), ("x0", "h3", 0.355), ("x1", "h3", -0.69), ("h0", "h3", -0.09),
             ("h2", "h3", 0.521), ("x1", "h4", -1.393), ("h0", "h4", -0.092), ("h1", "h4", -0.404),
             ("h2", "h4", -0.352), ("x1", "h5", 0.348), ("h0", "h5", -0.25), ("h2", "h5", -0.624),
             ("h3", "h5", -0.348), ("h4", "h5", 0.868), ("x0", "y0", -0.154), ("x1", "y0", 0.237), ("h0", "y0", 0.046),
             ("h1", "y0", 0.29), ("h3", "y0", 0.215), ("h4", "y0", 0.34), ("h5", "y0", 0.257)]
    biases = {"h0": 0.584, "h1": -0.303, "h2": 0.294, "h3": -0.195, "h4": 0.846, "h5": -0.451, "y0": 0.0}
    return Topology.from_edges(edges, inputs=["x0", "x1"], outputs=["y0"], activation="relu",
                               output_activation="identity", biases=biases)


def test_the_edge_test_turns_two_neighbouring_relus_back_together():
    # Benchmark dag0 with h0 and h4 recorded: the best fit had h3 and its target h5 both facing the other way
    # (1.08x the teacher's loss there); turning either alone lost the linear part its targets have no edge for
    # (x0 -> h5, h2 -> y0): the refit with x0 -> h3's sign reversed stayed 1.4x above, and seven edges were called
    # wrong at confidence 0.96-0.98. Turning both finds the teacher's fit, which beats the best and restarts the test.
    topo = dag0()
    g = torch.Generator().manual_seed(0)
    X = torch.rand(300, 2, generator=g, dtype=torch.float64) * 4 - 2
    net = Network(topo, dtype=torch.float64)
    _, H = net.states(X)
    Y = net(X).detach()
    Y = Y + 0.01 * Y.std() * torch.randn(Y.shape, generator=g, dtype=Y.dtype)
    recorded = {v: H[net.rows.index((0, v))] for v in ("h0", "h4")}
    recorded = {v: h + 0.01 * h.std() * torch.randn(h.shape, generator=g, dtype=h.dtype) for v, h in recorded.items()}
    ws = Workspace(topo, X, Y, seed=0, observed=as_recordings(recorded, None, topo, X, Y, None))
    pop = ws.pop(1)
    teacher = pop.theta_of(topo)[None]
    best, loss = ws.fit(reverse_neuron(pop, reverse_neuron(pop, teacher, "h3"), "h5"), iters=400, tol=1e-13)
    key = ("x0", "h3")
    assert float(best[0, pop.edge_col[key]]) < 0 and float(loss[0]) > 1.05 * float(ws.loss(teacher)[0])
    lo, hi = ws.bounds(1)
    out = edge_refits(ws, best, loss, [key], lo[0], hi[0], {}, EFFORT, n_random=0, n_region=0, verify=math.inf,
                      restarts=1)
    assert out.restarts == 1 and out.stable
    assert float(out.theta[pop.edge_col[key]]) > 0                       # the teacher's sign
    assert out.loss < 1.03 * float(ws.loss(teacher)[0])


def test_region_starts_are_drawn_only_for_edges_whose_opposite_sign_still_costs(monkeypatch):
    # The region starts (each through the smoothing stages) were most of the edge test's time; an edge whose warm
    # refits already fit as well with the other sign (ratio below SAME) can only get a lower ratio from them.
    from mpnet.signs import edgetest
    drawn = []

    def spy(pop, best, X, nodes, gen, lower, upper):
        drawn.append(lower.shape[0])
        return region_starts(pop, best, X, nodes, gen, lower, upper)
    region_starts = edgetest.region_starts
    monkeypatch.setattr(edgetest, "region_starts", spy)
    topo = mirrored_relu()
    X = inputs()
    Y = Network(topo, dtype=torch.float64)(X).detach()
    Y = Y + 0.01 * Y.std() * torch.randn(Y.shape, generator=torch.Generator().manual_seed(1), dtype=Y.dtype)
    ws = Workspace(topo, X, Y, seed=0)
    best, loss = ws.fit(ws.pop(1).theta_of(topo)[None], iters=200, tol=1e-13)
    lo, hi = ws.bounds(1)
    keys = [("x0", "h"), ("x1", "h"), ("g", "y")]
    out = edge_refits(ws, best, loss, keys, lo[0], hi[0], {}, EFFORT, n_random=0, n_region=4, verify=math.inf,
                      restarts=0)
    assert out.edges[("x0", "h")].ratio < SAME and out.edges[("x1", "h")].ratio < SAME   # the reversed h
    assert out.edges[("g", "y")].ratio > 1                                                # g's output sign costs
    assert drawn == [4]                                                                   # g -> y's region only
