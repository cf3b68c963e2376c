"""The noise floor estimated from data alone (mpnet.signs.noise)."""
import pytest
import torch

from mpnet.signs.noise import estimate_noise


def test_replicates_give_the_pooled_within_group_variance():
    X = torch.tensor([[0.0], [0.0], [0.0], [1.0], [1.0], [2.0]])
    Y = torch.tensor([[1.0], [2.0], [3.0], [5.0], [7.0], [9.0]])
    est = estimate_noise(X, Y)
    # groups {1, 2, 3}: SS 2, {5, 7}: SS 2, {9}: none -> 4 / (2 + 1)
    assert est.method == "replicates" and est.dof == 3
    assert est.variance == pytest.approx(4 / 3)


def test_a_given_level_is_used_as_is():
    est = estimate_noise(torch.zeros(5, 1), torch.zeros(5, 1), noise_std=0.1)
    assert est.method == "given" and est.variance == pytest.approx(0.01)


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_local_linear_recovers_the_noise_of_a_smooth_function(dim):
    g = torch.Generator().manual_seed(dim)
    X = torch.rand(2000, dim, generator=g, dtype=torch.float64) * 4 - 2
    f = X.sum(1, keepdim=True) * 0.7 + 0.3 * torch.sin(X[:, :1])
    Y = f + 0.05 * torch.randn(f.shape, generator=g, dtype=torch.float64)
    est = estimate_noise(X, Y)
    assert est.method == "local linear"
    assert est.variance == pytest.approx(0.05 ** 2, rel=0.25)


def test_local_linear_is_robust_to_the_kinks_of_a_relu_target():
    g = torch.Generator().manual_seed(7)
    X = torch.rand(2000, 2, generator=g, dtype=torch.float64) * 4 - 2
    f = torch.relu(X[:, :1] - 0.3 * X[:, 1:]) - 0.5 * torch.relu(X[:, 1:] + 0.5)
    Y = f + 0.02 * torch.randn(f.shape, generator=g, dtype=torch.float64)
    assert estimate_noise(X, Y).variance == pytest.approx(0.02 ** 2, rel=0.3)


def relu_teacher_4d(noise=0.01, n=2000, seed=3):
    """A sum of eight ReLUs of random directions in 4 inputs, kinks inside the data, noise a fraction of its std."""
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n, 4, generator=g, dtype=torch.float64) * 4 - 2
    W = torch.randn(4, 8, generator=g, dtype=torch.float64)
    Z = X @ W
    b = -Z.quantile(torch.rand(8, generator=g, dtype=torch.float64) * 0.6 + 0.2, dim=0).diagonal()
    f = torch.relu(Z + b) @ torch.randn(8, 1, generator=g, dtype=torch.float64)
    var = (noise * float(f.std())) ** 2
    return X, f, f + var ** 0.5 * torch.randn(f.shape, generator=g, dtype=torch.float64), var


def test_a_fits_residuals_remove_the_bias_of_the_targets_kinks():
    X, f, Y, var = relu_teacher_4d()
    raw = estimate_noise(X, Y)
    assert raw.variance > 1.3 * var          # the kinks inside each neighbourhood inflate the estimate on Y
    est = estimate_noise(X, Y, fit=f)
    assert est.method == "local linear on the fit's residuals" and est.raw == raw.variance
    assert est.variance == pytest.approx(var, rel=0.15)
    # a poor fit (here: none at all, a constant) cannot make the estimate larger than the one on Y
    flat = estimate_noise(X, Y, fit=torch.full_like(Y, float(Y.mean())))
    assert flat.variance == pytest.approx(raw.variance, rel=1e-9)


def test_replicates_and_a_given_level_ignore_the_fit():
    X = torch.tensor([[0.0], [0.0], [1.0], [1.0]])
    Y = torch.tensor([[1.0], [3.0], [5.0], [5.0]])
    assert estimate_noise(X, Y, fit=torch.zeros(4, 1)).method == "replicates"
    assert estimate_noise(X, Y, noise_std=0.5, fit=torch.zeros(4, 1)).variance == 0.25
