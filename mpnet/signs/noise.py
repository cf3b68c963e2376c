"""How much of the target is noise: the floor a good fit should reach, estimated without a model of the noise.

A fit "reaches the noise floor" when its mean squared error is about the variance of the noise in ``Y``.
That variance is estimated from the data, and from a fit's residuals when one is given:

* **replicates** — rows of ``X`` that occur more than once: the pooled variance of ``Y`` within each group
  (unbiased, ``sum (n_g - 1)`` degrees of freedom). Used whenever the data have them.
* **local linear** — without replicates, each point is predicted by a least-squares plane through its
  ``k = max(d + 3, 5)`` nearest neighbours (inputs standardised, the point itself left out). Where the target
  is linear over the neighbourhood, the squared prediction error over ``1 + leverage`` is the noise variance
  times a chi-squared variable of one degree of freedom; the median over the points divided by that
  variable's median is the estimate (the median ignores neighbourhoods that straddle a kink, up to half).
  Its ``dof`` says how many points it used, and the report always prints the method.
* **local linear on a fit's residuals** — the estimate above errs upward where the target bends inside a
  neighbourhood: on 12 random ReLU teachers (2-4 inputs, 2,000 samples, 1 % and 5 % noise) it ran 0.95-3.23x
  the true noise variance (within 1.3x on 17 of 24), the more the more inputs. Subtracting any function of
  ``X`` leaves the noise as it is, and what remains after a fit of the wiring bends far less: given a fit's
  predictions (``fit=``), the same estimate on ``Y - fit`` came within 0.95-1.14x of the truth on 23 of the
  24 (quick fits up to 3.9x above the floor) and erred upward (2.2x) only beside a fit 76x above it, which
  no floor hides (``python scripts/noise_floor.py --teachers 12`` prints the table). Both estimates err
  upward, so the smaller is used (a fit of ``P`` parameters absorbs only about ``P / n`` of the noise, 2 % for
  40 parameters and 2,000 samples).
"""
import math
from dataclasses import dataclass
from typing import List, Optional

import torch
from torch import Tensor

__all__ = ["NoiseEstimate", "estimate_noise"]

_CHI2_1_MEDIAN = 0.45493642311957283   # median of a chi-squared variable with one degree of freedom


@dataclass(frozen=True)
class NoiseEstimate:
    """The noise variance of ``Y`` (mean over output columns) and how it was obtained."""
    variance: float
    method: str        # "given", "replicates", "local linear" or "local linear on the fit's residuals"
    dof: int           # degrees of freedom (replicates) or points used (nearest neighbours)
    raw: float = math.nan   # with a fit: the local-linear estimate on Y itself (an upper estimate)

    def __str__(self) -> str:
        return f"noise variance {self.variance:.4g} ({self.method}, {self.dof} dof)"


def _replicates(X: Tensor, Y: Tensor) -> Optional[NoiseEstimate]:
    _, group, counts = torch.unique(X, dim=0, return_inverse=True, return_counts=True)
    dof = int((counts - 1).sum())
    if dof == 0:
        return None
    G = counts.numel()
    mean = torch.zeros(G, Y.shape[1], dtype=Y.dtype).index_add_(0, group, Y) / counts[:, None].to(Y.dtype)
    ss = (Y - mean[group]).pow(2).sum(0)             # [n_out]
    return NoiseEstimate(float((ss / dof).mean()), "replicates", dof)


def _local_linear(X: Tensor, Y: Tensor, max_points: int = 4000, seed: int = 0) -> NoiseEstimate:
    n, d = X.shape
    k = min(max(d + 3, 5), n - 1)
    Xs = (X - X.mean(0)) / X.std(0).clamp(min=1e-12)
    gen = torch.Generator().manual_seed(seed)
    query = torch.randperm(n, generator=gen)[:max_points] if n > max_points else torch.arange(n)
    parts: List[Tensor] = []
    for chunk in torch.split(query, 512):
        dist = torch.cdist(Xs[chunk], Xs)
        dist[torch.arange(chunk.numel()), chunk] = float("inf")          # leave the point itself out
        nbr = dist.topk(k, dim=1, largest=False).indices                   # [c, k]
        A = torch.cat([torch.ones(chunk.numel(), k, 1, dtype=X.dtype), Xs[nbr] - Xs[chunk][:, None]], 2)
        AtA_inv = torch.linalg.pinv(A.transpose(1, 2) @ A)                 # [c, d+1, d+1]
        coef = AtA_inv @ A.transpose(1, 2) @ Y[nbr]                        # [c, d+1, n_out]
        resid = Y[chunk] - coef[:, 0]                                      # prediction at the point: intercept
        leverage = AtA_inv[:, 0, 0]                                        # Var(prediction) / sigma^2
        parts.append(resid.pow(2) / (1 + leverage)[:, None])
    scaled = torch.cat(parts)                                              # [q, n_out]: sigma^2 * chi2_1
    variance = scaled.median(0).values / _CHI2_1_MEDIAN
    return NoiseEstimate(float(variance.mean()), "local linear", int(query.numel()))


def estimate_noise(X: Tensor, Y: Tensor, *, noise_std: Optional[float] = None,
                   fit: Optional[Tensor] = None) -> NoiseEstimate:
    """The noise variance of ``Y [n, n_out]`` given ``X [n, n_in]``: ``noise_std ** 2`` when given, else from
    replicated rows of ``X`` when there are any, else the local-linear estimate, on ``Y - fit`` as well when a
    fit's predictions ``fit [n, n_out]`` are given (the smaller of the two: module docstring)."""
    if noise_std is not None:
        return NoiseEstimate(float(noise_std) ** 2, "given", 0)
    X, Y = X.detach().double().cpu(), Y.detach().double().cpu()
    replicated = _replicates(X, Y)
    if replicated is not None:
        return replicated
    raw = _local_linear(X, Y)
    if fit is None:
        return raw
    residual = _local_linear(X, Y - fit.detach().double().cpu().reshape(Y.shape))
    if residual.variance < raw.variance:
        return NoiseEstimate(residual.variance, "local linear on the fit's residuals", residual.dof, raw.variance)
    return NoiseEstimate(raw.variance, raw.method, raw.dof, raw.variance)
