"""Copies of one topology as a parameter matrix (mpnet.signs.population): same numbers as Network."""
import math

import torch

import mpnet
from mpnet.signs.population import Population
from mpnet.graph.topology import Topology


def constrained():
    return Topology.from_edges(
        [("x1", "h1", 0.5), ("x2", "h1", -0.3), ("x1", "h2", 0.8), ("h1", "h2", 1.2), ("h1", "y", 0.7),
         ("h2", "y", -0.4), ("x2", "y", 0.25)], inputs=["x1", "x2"], outputs=["y"], activation="tanh",
        signs={("h1", "h2"): "+", ("h2", "y"): "-"}, frozen=[("x2", "y")], biases={"h1": 0.1, "y": -0.2})


def test_rows_compute_what_a_network_of_their_weights_computes():
    topo = constrained()
    pop = Population(topo, 3)
    g = torch.Generator().manual_seed(0)
    theta = torch.randn(3, pop.P, generator=g, dtype=torch.float64)
    lo, hi = pop.bounds()
    theta = torch.maximum(torch.minimum(theta, hi), lo)
    X = torch.rand(50, 2, generator=g, dtype=torch.float64)
    out = pop.forward(theta, X)
    for m in range(3):
        w = {k: float(theta[m, i]) for i, k in enumerate(pop.keys) if topo.edges[k].trainable}
        b = {n: float(theta[m, pop.col[n]]) for n in pop.node_ids}
        ref = mpnet.Network(topo.with_weights(w, b), dtype=torch.float64)(X)
        assert torch.allclose(out[m], ref, atol=1e-12)


def test_bounds_come_from_the_topology():
    pop = Population(constrained(), 2)
    lo, hi = pop.bounds()
    c = pop.edge_col
    assert (lo[:, c[("h1", "h2")]] == 0).all() and math.isinf(float(hi[0, c[("h1", "h2")]]))
    assert (hi[:, c[("h2", "y")]] == 0).all()
    assert (lo[:, c[("x2", "y")]] == 0.25).all() and (hi[:, c[("x2", "y")]] == 0.25).all()
    assert lo.shape == (2, pop.P) and pop.P == 7 + 3


def test_gradient_of_each_row_is_its_own():
    topo = constrained()
    pop = Population(topo, 2)
    theta = torch.stack([pop.theta_of(topo), pop.theta_of(topo) * 0.5])
    X = torch.rand(20, 2, dtype=torch.float64)
    Y = torch.rand(20, 1, dtype=torch.float64)
    loss, grad = pop.loss_and_grad(theta, X, Y)
    for m in range(2):
        t = theta[m:m + 1].clone().requires_grad_()
        lm = ((Population(topo, 1).forward(t, X) - Y) ** 2).mean()
        gm, = torch.autograd.grad(lm, t)
        assert torch.allclose(grad[m], gm[0], atol=1e-12) and float(loss[m]) == float(lm)


def test_states_rows_name_each_neuron():
    topo = constrained()
    pop = Population(topo, 2)
    theta = pop.theta_of(topo).expand(2, -1).clone()
    X = torch.rand(7, 2, dtype=torch.float64)
    Z, H = pop.states(theta, X)
    h1 = torch.tanh(0.5 * X[:, 0] - 0.3 * X[:, 1] + 0.1)
    j = pop.node_ids.index("h1")
    assert torch.allclose(H[pop.rows[1, j]], h1, atol=1e-12)
    assert torch.allclose(H[pop.input_rows[0, 1]], X[:, 1])
