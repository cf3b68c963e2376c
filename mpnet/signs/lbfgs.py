"""Batched, bounded L-BFGS: ``M`` independent small problems advanced together, one evaluation per step.

Each row of ``theta [M, P]`` is its own problem with its own curvature history, step length and stopping
rule; only the function evaluations are shared (one batched forward/backward for all rows). Sign inference
needs fits that really converge: on the small ReLU networks of the sign benchmark, Adam after 3,000 steps
stood 8x above the noise floor where L-BFGS from the same start reached it in ~300 evaluations.

Bounds are handled by projection: entries at a bound whose gradient points outward are held (their
direction component set to 0), and every trial point is clipped into ``[lower, upper]``. Step lengths come
from a backtracking Armijo search with quadratic interpolation; the trial points are evaluated without
gradients and the gradient is computed once, at the accepted points.
"""
from typing import Callable, Optional, Tuple

import torch
from torch import Tensor

__all__ = ["minimize"]

LossAndGrad = Callable[[Tensor], Tuple[Tensor, Tensor]]   # theta [M, P] -> (loss [M], grad [M, P])
LossOnly = Callable[[Tensor], Tensor]                     # theta [M, P] -> loss [M]


def _direction(g: Tensor, S: Tensor, Yh: Tensor, rho: Tensor) -> Tensor:
    """The L-BFGS two-loop recursion for every row; pair 0 is the newest, rows with ``rho == 0`` unused."""
    q = g.clone()
    history = S.shape[1]
    alpha = g.new_zeros(g.shape[0], history)
    for i in range(history):
        alpha[:, i] = rho[:, i] * (S[:, i] * q).sum(1)
        q -= alpha[:, i:i + 1] * Yh[:, i]
    sy, yy = (S[:, 0] * Yh[:, 0]).sum(1), (Yh[:, 0] * Yh[:, 0]).sum(1)
    # initial Hessian scale: s.y / y.y, or (no history) a step of at most 1 along the gradient
    gamma = torch.where(rho[:, 0] > 0, sy / yy.clamp(min=1e-300), 1.0 / g.abs().sum(1).clamp(min=1.0))
    r = q * gamma[:, None]
    for i in reversed(range(history)):
        beta = rho[:, i] * (Yh[:, i] * r).sum(1)
        r += S[:, i] * (alpha[:, i] - beta)[:, None]
    return -r


def minimize(loss_and_grad: LossAndGrad, loss_only: LossOnly, theta: Tensor, *, lower: Optional[Tensor] = None,
             upper: Optional[Tensor] = None, iters: int = 200, history: int = 10, tol: float = 1e-10,
             patience: int = 3, backtracks: int = 6, c1: float = 1e-4) -> Tuple[Tensor, Tensor]:
    """Minimise every row of ``theta`` independently.

    Args:
        loss_and_grad: ``theta [M, P] -> (loss [M], grad [M, P])``.
        loss_only: ``theta [M, P] -> loss [M]`` (the line search's cheaper evaluation).
        theta: ``[M, P]`` starting points (clipped into the bounds).
        lower, upper: ``[M, P]`` bounds (``None``: unbounded); ``lower == upper`` holds an entry fixed.
        iters: most iterations.
        history: curvature pairs kept per row.
        tol: a row stops after ``patience`` accepted steps in a row that improve its loss by less than this
            relative amount, or after two line searches in a row that find no acceptable step.

    Returns:
        ``(theta, loss)``: the final points ``[M, P]`` and their losses ``[M]``.
    """
    M, P = theta.shape
    lo = torch.full_like(theta, -float("inf")) if lower is None else lower
    hi = torch.full_like(theta, float("inf")) if upper is None else upper
    theta = torch.maximum(torch.minimum(theta, hi), lo)
    fixed = lo == hi
    S, Yh = theta.new_zeros(M, history, P), theta.new_zeros(M, history, P)
    rho = theta.new_zeros(M, history)
    loss, g = loss_and_grad(theta)
    active = torch.isfinite(loss)
    stall = torch.zeros(M, dtype=torch.long, device=theta.device)
    fails = torch.zeros_like(stall)
    first_step = torch.ones_like(loss)
    for _ in range(iters):
        held = fixed | ((theta <= lo) & (g > 0)) | ((theta >= hi) & (g < 0))
        g_free = torch.where(held, 0.0, g)
        d = torch.where(held, 0.0, _direction(g_free, S, Yh, rho))
        uphill = ~((g_free * d).sum(1) < 0)          # not a descent direction: forget the history
        rho = torch.where(uphill[:, None], 0.0, rho)
        d = torch.where(uphill[:, None], -g_free / g_free.abs().sum(1, keepdim=True).clamp(min=1.0), d)

        step = torch.where(active, first_step, 0.0)
        pending = active.clone()
        new_theta = theta.clone()
        for _ in range(backtracks):
            trial = torch.maximum(torch.minimum(theta + step[:, None] * d, hi), lo)
            trial_loss = loss_only(trial)
            slope = (g * (trial - theta)).sum(1)
            ok = pending & torch.isfinite(trial_loss) & (trial_loss <= loss + c1 * slope)
            new_theta[ok] = trial[ok]
            pending &= ~ok
            if not bool(pending.any()):
                break
            # the minimum of the quadratic through loss, slope and trial_loss, within [0.1, 0.5] of the step
            curvature = trial_loss - loss - slope
            shrink = torch.where(torch.isfinite(trial_loss) & (curvature > 0), -slope / (2 * curvature),
                                 torch.full_like(loss, 0.1))
            step = torch.where(pending, step * shrink.clamp(0.1, 0.5), step)
        accepted, failed = active & ~pending, active & pending
        rho = torch.where(failed[:, None], 0.0, rho)
        first_step = torch.where(failed, step * 0.5, (step * 2).clamp(max=1.0))
        fails = torch.where(failed, fails + 1, torch.zeros_like(fails))

        new_loss, new_g = loss_and_grad(new_theta)
        s, y = new_theta - theta, new_g - g
        sy = (s * y).sum(1)
        keep = accepted & (sy > 1e-12 * y.norm(dim=1) * s.norm(dim=1))   # curvature condition
        if bool(keep.any()):
            S[keep], Yh[keep], rho[keep] = S[keep].roll(1, 1), Yh[keep].roll(1, 1), rho[keep].roll(1, 1)
            S[keep, 0], Yh[keep, 0], rho[keep, 0] = s[keep], y[keep], 1.0 / sy[keep]
        gain = (loss - new_loss) / loss.abs().clamp(min=1e-300)
        stall = torch.where(accepted, torch.where(gain < tol, stall + 1, 0), stall)
        theta, loss, g = new_theta, torch.where(active, new_loss, loss), new_g
        active &= (stall < patience) & (fails < 2)
        if not bool(active.any()):
            break
    return theta, loss
