"""Fitting to the noise floor (mpnet.signs.fitting): reaches it on a small teacher, says when it cannot."""
import pytest
import torch

import mpnet
from mpnet.signs import Effort, multistart
from mpnet.graph.topology import Topology

TINY = Effort(starts=16, keep=4, pool=2, redraws=1, rounds=2, hop_iters=60, polish_iters=300, explore_iters=60,
              smooth=(3.0, 10.0))


def two_kinks(n=400, noise=0.01, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n, 2, generator=g, dtype=torch.float64) * 4 - 2
    f = torch.relu(X[:, :1] - 0.5) - 0.8 * torch.relu(-X[:, 1:] - 0.2) + 0.3 * X[:, :1]
    return X, f + noise * torch.randn(f.shape, generator=g, dtype=torch.float64), noise


def wiring():
    return Topology.from_edges([("x1", "h1"), ("x2", "h2"), ("h1", "y"), ("h2", "y"), ("x1", "y")],
                               inputs=["x1", "x2"], outputs=["y"])


def test_reaches_the_noise_floor_from_unknown_weights():
    X, Y, noise = two_kinks()
    result = multistart(wiring(), X, Y, effort=TINY, seed=0)
    assert result.best_loss == pytest.approx(noise ** 2, rel=0.3)
    assert result.quality == "at the noise floor" and "at the noise floor" in result.summary()
    net = result.network(dtype=torch.float64)
    assert float(((net(X) - Y) ** 2).mean().detach()) == pytest.approx(result.best_loss, rel=1e-9)
    assert result.theta.shape[0] == result.loss.shape[0] and bool((result.loss[1:] >= result.loss[0]).all())


@pytest.mark.slow
def test_same_seed_same_result():
    # every stage of TINY (pool, redraws, two rounds, both smoothings), with fewer iterations: half the time
    quick = Effort(starts=8, keep=2, pool=2, redraws=1, rounds=2, hop_iters=15, polish_iters=30, explore_iters=15,
                   smooth=(3.0, 10.0))
    X, Y, _ = two_kinks(n=200)
    a = multistart(wiring(), X, Y, effort=quick, seed=3)
    b = multistart(wiring(), X, Y, effort=quick, seed=3)
    assert torch.equal(a.theta, b.theta)
    assert not torch.equal(a.theta, multistart(wiring(), X, Y, effort=quick, seed=4).theta)   # the seed is used


def test_a_poor_fit_is_said_plainly():
    X, Y, _ = two_kinks()
    linear = Topology.from_edges([("x1", "y"), ("x2", "y")], inputs=["x1", "x2"], outputs=["y"])
    result = multistart(linear, X, Y, effort=TINY, seed=0)
    assert result.quality == "poor" and result.floor_ratio > 10
    assert "far from the noise floor" in result.summary()


def test_a_trained_network_is_one_of_the_starts():
    X, Y, _ = two_kinks()
    teacher = wiring().with_weights({("x1", "h1"): 1.0, ("x2", "h2"): -1.0, ("h1", "y"): 1.0, ("h2", "y"): -0.8,
                                     ("x1", "y"): 0.3}, {"h1": -0.5, "h2": -0.2})
    net = mpnet.Network(teacher, dtype=torch.float64)
    start_loss = float(((net(X) - Y) ** 2).mean().detach())
    result = multistart(net, X, Y, effort=Effort(starts=1, keep=1, pool=1, rounds=0, polish_iters=50,
                                                 explore_iters=20, smooth=()), seed=0)
    assert result.best_loss <= start_loss


def test_bad_data_is_named():
    X, Y, _ = two_kinks(n=20)
    X[3, 1] = float("nan")
    with pytest.raises(ValueError, match=r"X holds nan at row 3, column 1 .'x2'.; every value must be finite"):
        multistart(wiring(), X, Y, effort=TINY)
    with pytest.raises(ValueError, match=r"Expected X of shape \[n, 2\]"):
        multistart(wiring(), torch.zeros(5, 3), torch.zeros(5, 1), effort=TINY)
    with pytest.raises(ValueError, match=r"Expected Y of shape \[5, 1\]"):
        multistart(wiring(), torch.zeros(5, 2), torch.zeros(4, 1), effort=TINY)
    with pytest.raises(TypeError, match="Expected a Topology or a Network"):
        multistart("net.json", X, Y)
    with pytest.raises(ValueError, match=r"at least 4 samples.*\(got 0\)"):
        multistart(wiring(), torch.zeros(0, 2), torch.zeros(0, 1), effort=TINY)
    with pytest.raises(ValueError, match=r"Expected X to be a tensor or an array of numbers \(got 'x.csv'"):
        multistart(wiring(), "x.csv", Y, effort=TINY)
    Y[0, 0] = float("inf")
    with pytest.raises(ValueError, match=r"Y holds inf at row 0, column 0 .'y'.; every value must be finite"):
        multistart(wiring(), X.nan_to_num(), Y, effort=TINY)
