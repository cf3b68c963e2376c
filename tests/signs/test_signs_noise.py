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
