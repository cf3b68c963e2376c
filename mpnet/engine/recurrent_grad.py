"""A recurrent pass as one ``torch.autograd.Function`` with a fused backward through time (engine stage, under
:mod:`mpnet.engine.recurrent`, beside the forward sweep of :mod:`mpnet.engine.recurrent_sweep`).

The forward is :func:`~mpnet.engine.recurrent_sweep.run_steps` keeping every slot; the backward runs one CSR
product per step with the prebuilt transpose, holding gradients for ``lag + 1`` slots only, then sampled
products (SDDMM) over groups of steps for the weight gradient (``_weight_grad``).
"""
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

import torch
from torch import Tensor

from ..threads import PassThreads
from .compile import Plan
from .functional import backward_into
from .recurrent_sweep import _Steps, run_steps
from .steps import Schedule

if TYPE_CHECKING:
    from .recurrent import RecurrentConv


def _weight_grad(steps: _Steps, dZ: Tensor, H: Tensor, lag: int, chunk: int = 256) -> Tensor:
    """``sum_s sum_b dZ[s, dst - n_in, b] * H[s + lag - 1, src, b]`` for every edge, by SDDMM: one per
    group of steps that together have about ``chunk`` batch columns, laid out ``[rows, steps * batch]`` by
    one copy (free when the batch is 1). A sampled product pays a fixed cost per call, and a long row is
    faster per column: measured on the 500-neuron / 6,000-edge graph over 50 steps, 1 thread, groups of
    256 to 1024 columns took 0.2 ms (batch 1) and 4 ms (batch 64) where one product per step took 2.6
    and 8.6 ms; from batch 256 on, one product per step (no copy) is best."""
    S, B = dZ.shape[0], dZ.shape[2]
    grad = dZ.new_zeros(steps.pattern.values().numel())
    per = max(1, chunk // B)
    for s0 in range(0, S, per):
        s1 = min(S, s0 + per)
        if s1 - s0 == 1:
            dz, h = dZ[s0], H[s0 + lag - 1]
        else:
            dz = dZ[s0:s1].permute(1, 0, 2).reshape(dZ.shape[1], -1)
            h = H[s0 + lag - 1:s1 + lag - 1].permute(1, 0, 2).reshape(H.shape[1], -1)
        grad += torch.sparse.sampled_addmm(steps.pattern, dz, h.t(), beta=0.0).values()
    return grad


class _Recurrent(torch.autograd.Function):
    """``(x [K, num_inputs, B], weight [E], bias [N - n_in], *init) -> (out [K, T * n_out, B], *final)``
    where ``init`` / ``final`` are the ``lag`` non-input state slots ``[N - n_in, B]`` (oldest first)."""

    @staticmethod
    def forward(ctx: Any, conv: "RecurrentConv", plan: Plan, schedule: Schedule, coef: Optional[Tensor], x: Tensor,
                weight: Tensor, bias: Tensor, *init: Tensor) -> Tuple[Tensor, ...]:
        H, Z, A, out = run_steps(conv, plan, schedule, x, weight, bias, init, coef, keep=True)
        ctx.conv, ctx.plan, ctx.schedule, ctx.coef = conv, plan, schedule, coef
        ctx.save_for_backward(H, Z, A if A is not None else H.new_empty(0), weight)
        L, S = schedule.lag, schedule.num_steps
        n_in = plan.num_inputs
        return (out, *[H[S + i, n_in:].clone() for i in range(L)])

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, grad_out: Tensor, *grad_final: Tensor) -> Tuple[Optional[Tensor], ...]:
        # the size rule of the thread policy (mpnet/threads.py), as the feed-forward backward: a step is a level
        with PassThreads(ctx.plan.work_per_sample * grad_out.shape[2]):
            return _Recurrent._backward(ctx, grad_out, *grad_final)

    @staticmethod
    def _backward(ctx: Any, grad_out: Tensor, *grad_final: Tensor) -> Tuple[Optional[Tensor], ...]:
        conv: "RecurrentConv" = ctx.conv
        plan: Plan = ctx.plan
        schedule: Schedule = ctx.schedule
        coef: Optional[Tensor] = ctx.coef   # ctrnn: dt / tau [S, N - n_in] (run_steps made sure it came)
        H, Z, A, weight = ctx.saved_tensors
        steps = _Steps.get(plan, weight)
        n_in, nf, L, S = steps.n_in, steps.nf, schedule.lag, schedule.num_steps
        level, src = steps.level, plan.src
        ctrnn = L == 2
        # dL/dH for a ring of lag + 1 slots: slot j is complete once the steps reading it (j - lag + 1 .. j)
        # have sent their gradient back, so the sweep needs only slots s .. s + lag at step s
        R, out_rows = L + 1, plan.out_rows.view(-1)
        G = H.new_empty(R, H.shape[1], H.shape[2])
        outs_at: Dict[int, List[int]] = {}
        for k, slot in enumerate(schedule.out_slots):
            outs_at.setdefault(slot, []).append(k)

        def open_slot(j: int) -> None:   # its first contribution comes next: zero it, add the outputs' gradient
            G[j % R].zero_()
            for k in outs_at.get(j, ()):
                G[j % R].index_add_(0, out_rows, grad_out[k])
        for i in range(L):
            open_slot(S + i)
            if grad_final[i] is not None:
                G[(S + i) % R, n_in:] += grad_final[i]
        grad_x = H.new_zeros(len(schedule.out_slots), n_in, H.shape[2]) if ctx.needs_input_grad[4] else None
        dZ = torch.empty_like(Z)   # every row of dZ[s] is written by step s; only dZ[:S] is read
        if steps.bwd is not None:
            torch.index_select(weight if plan.unit_scale else weight * plan.edge_scale, 0, steps.by_src,
                               out=steps.bwd_vals)
        grad_generic = torch.zeros_like(weight)    # local autograd sums for edges into generic neurons
        # ctrnn: the part of a slot's gradient kept (1 - dt / tau) and the part passed on (dt / tau), [S, N - n_in, 1]
        blend = ((1.0 - coef).unsqueeze(2), coef.unsqueeze(2)) if coef is not None else None
        single, runs = steps.single, level.runs
        generic = [(g, index) for g, index in zip(level.generic, level.generic_index) if g[4] > g[3]]
        for s in reversed(range(S)):
            g = G[(s + L) % R, n_in:]
            a = A[s] if ctrnn else H[s + L, n_in:]
            open_slot(s)
            if blend is not None:   # ctrnn
                G[s % R, n_in:].addcmul_(g, blend[0][s])   # idle rows: coefficient 0, the whole gradient
                g = g * blend[1][s]
            elif steps.has_idle:
                G[s % R, n_in:].index_add_(0, steps.idle, g.index_select(0, steps.idle))
            dz = dZ[s]
            if single is not None:
                backward_into(single, g, Z[s], a, dz)
            else:
                for name, r0, r1 in runs:
                    backward_into(name, g[r0 - n_in:r1 - n_in], Z[s, r0 - n_in:r1 - n_in], a[r0 - n_in:r1 - n_in],
                                  dz[r0 - n_in:r1 - n_in])
            if steps.has_idle:
                dz.index_fill_(0, steps.idle, 0.0)
            prev_g = G[(s + L - 1) % R]
            if steps.bwd is not None:
                prev_g.addmm_(steps.bwd, dz[:nf - n_in])
            if generic:
                prev = H[s + L - 1]
                for (name, r0, r1, e0, e1), index in generic:
                    with torch.enable_grad():
                        h_j = prev[src[e0:e1]].detach().requires_grad_()
                        w = weight[e0:e1].detach().requires_grad_()
                        agg = conv.aggregate(conv.message(h_j, w), index, dim_size=r1 - r0, aggregation=name)
                        g_h, g_w = torch.autograd.grad(agg, (h_j, w), dz[r0 - n_in:r1 - n_in]
                                                       * plan.row_response[r0:r1, None])
                    prev_g.index_add_(0, src[e0:e1], g_h)
                    grad_generic[e0:e1] += g_w
            if grad_x is not None:   # the input rows of slot s + lag - 1 hear from step s only
                grad_x[schedule.x_index[s]] += prev_g[:n_in]

        grad_w: Optional[Tensor] = None
        grad_b: Optional[Tensor] = None
        if ctx.needs_input_grad[5]:
            if steps.fwd is not None and S:
                grad_fused = _weight_grad(steps, dZ[:S], H, L)
                if not plan.unit_scale:
                    grad_fused *= plan.edge_scale
                grad_w = torch.where(plan.generic_edges, grad_generic, grad_fused)
            else:
                grad_w = grad_generic
        if ctx.needs_input_grad[6]:
            grad_b = dZ[:S].sum((0, 2))
        grad_init = [G[i % R, n_in:].clone() if ctx.needs_input_grad[7 + i] else None for i in range(L)]
        return (None, None, None, None, grad_x, grad_w, grad_b, *grad_init)
