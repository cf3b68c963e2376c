"""Batched, bounded L-BFGS (mpnet.signs.lbfgs): independent rows, exact optima of known problems."""
import torch

from mpnet.signs.lbfgs import minimize


def quadratic(A, b):
    """f_m(x) = 0.5 x^T A_m x - b_m^T x for every row m."""
    def loss_and_grad(x):
        Ax = torch.einsum("mij,mj->mi", A, x)
        return 0.5 * (x * Ax).sum(1) - (b * x).sum(1), Ax - b
    return loss_and_grad, lambda x: loss_and_grad(x)[0]


def spd(M, P, seed=0):
    g = torch.Generator().manual_seed(seed)
    Q = torch.randn(M, P, P, generator=g, dtype=torch.float64)
    return Q @ Q.transpose(1, 2) + 0.1 * torch.eye(P, dtype=torch.float64)


def test_rows_reach_their_own_optimum():
    A, b = spd(5, 6), torch.randn(5, 6, dtype=torch.float64)
    f, f0 = quadratic(A, b)
    x, loss = minimize(f, f0, torch.zeros(5, 6, dtype=torch.float64), iters=300, tol=1e-14)
    exact = torch.linalg.solve(A, b[:, :, None])[:, :, 0]
    assert torch.allclose(x, exact, atol=1e-6)
    assert torch.allclose(loss, f0(exact), rtol=1e-10)


def test_a_row_does_not_depend_on_the_others():
    A, b = spd(4, 5, seed=1), torch.randn(4, 5, dtype=torch.float64)
    f, f0 = quadratic(A, b)
    together, _ = minimize(f, f0, torch.zeros(4, 5, dtype=torch.float64), iters=40)
    fa, fa0 = quadratic(A[2:3], b[2:3])
    alone, _ = minimize(fa, fa0, torch.zeros(1, 5, dtype=torch.float64), iters=40)
    assert torch.allclose(together[2:3], alone, atol=1e-12)


def test_bounds_hold_and_give_the_constrained_optimum():
    # f(x) = (x0 - 2)^2 + (x1 + 3)^2 with x0 <= 1 and x1 fixed at 0.5 (lower == upper)
    def f(x):
        d = x - torch.tensor([2.0, -3.0], dtype=x.dtype)
        return (d * d).sum(1), 2 * d
    lo = torch.tensor([[-float("inf"), 0.5]], dtype=torch.float64)
    hi = torch.tensor([[1.0, 0.5]], dtype=torch.float64)
    x, loss = minimize(f, lambda x: f(x)[0], torch.tensor([[-5.0, 0.5]], dtype=torch.float64), lower=lo, upper=hi,
                       iters=100)
    assert x.tolist() == [[1.0, 0.5]]
    assert float(loss) == 1.0 + 3.5 ** 2


def test_a_start_outside_the_bounds_is_clipped_in():
    def f(x):
        return (x * x).sum(1), 2 * x
    lo = torch.full((2, 3), 1.0, dtype=torch.float64)
    x, _ = minimize(f, lambda x: f(x)[0], torch.full((2, 3), -4.0, dtype=torch.float64), lower=lo, iters=20)
    assert torch.equal(x, lo)


def test_a_nonconvex_row_stops_at_a_stationary_point():
    # Rosenbrock in one row, a plain bowl in the other
    def f(x):
        a, b = x[:, 0], x[:, 1]
        rosen = (1 - a) ** 2 + 100 * (b - a * a) ** 2
        g = torch.stack([-2 * (1 - a) - 400 * a * (b - a * a), 200 * (b - a * a)], 1)
        return rosen, g
    x, loss = minimize(f, lambda x: f(x)[0], torch.tensor([[-1.2, 1.0], [0.5, 0.5]], dtype=torch.float64),
                       iters=2000, tol=1e-15)
    assert torch.allclose(x, torch.ones(2, 2, dtype=torch.float64), atol=1e-5)
    assert float(loss.max()) < 1e-9
