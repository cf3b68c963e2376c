"""The forward sweep of a recurrent network over a compiled plan, one sparse product per step (engine stage,
under :mod:`mpnet.engine.recurrent`, which gives the update it computes).

``_Steps`` is the recurrent plan built once per (plan, dtype, device): the CSR matrix of every fused edge, its
transpose for the backward, the sampled-product pattern for the weight gradient, the idle rows.
:func:`run_steps` runs every step without autograd into preallocated buffers (every slot, or a ring of
``lag + 1`` slots); :mod:`mpnet.engine.recurrent_grad` wraps it in the fused backward through time.
"""
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor

from .compile import Plan, _csr_rows, transpose
from .functional import activate_into
from .steps import Schedule

if TYPE_CHECKING:
    from .recurrent import RecurrentConv

__all__ = ["run_steps"]


def _csr(crow: Tensor, col: Tensor, values: Tensor, shape: Tuple[int, int]) -> Tensor:
    return torch.sparse_csr_tensor(crow, col, values, shape, check_invariants=False)


class _Steps:
    """The recurrent plan, built once per (plan, dtype, device): the CSR matrix of every fused edge over
    all rows, its transpose for the backward, the SDDMM pattern of all edges, the idle rows (no incoming
    edge). Values live in two buffers refreshed by one copy per pass."""

    def __init__(self, plan: Plan, dtype: torch.dtype, device: torch.device) -> None:
        n_in, N = plan.num_inputs, plan.num_nodes
        (level,) = plan.levels   # a recurrent plan has one level: every non-input row
        self.n_in, self.N, self.nf = n_in, N, level.n_fused
        self.level = level
        self.fwd_vals = torch.empty(plan.src.numel(), dtype=dtype, device=device)
        #: the fused edges sorted by source (the backward's order), one sort per plan, dtype and device
        self.by_src = by_src = transpose(plan).by_src
        self.bwd_vals = torch.empty(by_src.numel(), dtype=dtype, device=device)
        nf = level.n_fused
        self.fwd = _csr(level.crow, level.col, self.fwd_vals[:level.e_fused], (nf - n_in, N)) if nf > n_in else None
        i32 = torch.int32
        self.bwd = (_csr(_csr_rows(plan.src[by_src], N).to(i32), (plan.dst[by_src] - n_in).to(i32), self.bwd_vals,
                         (N, nf - n_in)) if nf > n_in else None)
        self.pattern = _csr(plan.crow[n_in:], plan.src32, torch.zeros(plan.src.numel(), dtype=dtype, device=device),
                            (N - n_in, N))
        indeg = (plan.crow[1:] - plan.crow[:-1])[n_in:]
        self.idle = torch.nonzero(indeg == 0).view(-1).to(device)   # local rows (minus n_in) never computed
        self.has_idle = bool(self.idle.numel())
        self.single = (level.runs[0][0] if len(level.runs) == 1 and nf == N else None)
        self.state: Optional[Tuple[Tensor, Tensor, Tensor]] = None   # buffers reused by passes that need no gradient

    @staticmethod
    def get(plan: Plan, like: Tensor) -> "_Steps":
        # the plan's cache holds the feed-forward state.Prebuilt under (dtype, device), this under a key of its own
        cache: Dict[Any, Any] = plan.prebuilt
        key = ("recurrent", like.dtype, like.device)
        if key not in cache:
            cache[key] = _Steps(plan, like.dtype, like.device)
        steps: _Steps = cache[key]
        return steps


def _coefficients(schedule: Schedule, tau: Tensor, steps: _Steps, dtype: torch.dtype) -> Tensor:
    """``[S, N - n_in]`` ``dt / tau`` per step and row (``tau`` float64 on the CPU), divided in float64 as
    neat does, rounded once to ``dtype``; 0 on idle rows."""
    coef = torch.tensor(schedule.dt, dtype=torch.float64)[:, None] / tau[None, :]
    if steps.has_idle:
        coef[:, steps.idle.cpu()] = 0.0
    return coef.to(dtype=dtype, device=steps.idle.device)


def run_steps(conv: "RecurrentConv", plan: Plan, schedule: Schedule, x: Tensor, weight: Tensor, bias: Tensor,
              init: Sequence[Tensor], coef: Optional[Tensor] = None, keep: bool = True
              ) -> Tuple[Tensor, Tensor, Optional[Tensor], Tensor]:
    """The forward sweep without autograd.

    Args:
        x: ``[K, num_inputs, B]`` input rows of each input.
        init: ``lag`` tensors ``[N - n_in, B]``: the non-input rows of slots ``0 .. lag - 1``.
        coef: ctrnn ``[S, N - n_in]`` (``_coefficients``).
        keep: keep every slot (for the backward and :meth:`~mpnet.Network.states`); otherwise a ring of
            ``lag + 1`` slots, reused between calls.

    Returns:
        ``(H, Z, A, out)``: ``H [slots, N, B]``, ``Z [S or 1, N - n_in, B]`` pre-activations, ``A`` the
        activations (ctrnn, else ``None``), ``out [K, T * n_out, B]``.
    """
    steps = _Steps.get(plan, weight)
    n_in, N, nf, L = steps.n_in, steps.N, steps.nf, schedule.lag
    S, K, B = schedule.num_steps, x.shape[0], x.shape[2]
    level = steps.level
    ctrnn = L == 2
    blend = coef if ctrnn else None   # [S, N - n_in]: dt / tau of each step and row
    if ctrnn and blend is None:
        raise TypeError("run_steps: a ctrnn schedule (lag 2) needs coef, the dt / tau of each step and row "
                        "(_coefficients).")
    A: Optional[Tensor]
    if keep:
        H = x.new_empty(S + L, N, B)
        Z = x.new_empty(max(S, 1), N - n_in, B)
        A = x.new_empty(max(S, 1), N - n_in, B) if ctrnn else None
    else:
        shape = (L + 1, N, B)
        if steps.state is None or steps.state[0].shape != shape or steps.state[0].dtype != x.dtype:
            steps.state = (x.new_empty(shape), x.new_empty(1, N - n_in, B), x.new_empty(1, N - n_in, B))
        H, Z, A = steps.state
        A = A if ctrnn else None
    slots = H.shape[0]
    for i, h in enumerate(init):
        H[i, n_in:] = h
    x_index = schedule.x_index
    if keep and S:   # every step's inputs in the input rows of the slot it reads, in one copy
        H[L - 1:S + L - 1, :n_in] = x if not ctrnn else x[torch.tensor(x_index, device=x.device)]
        H[S + L - 1, :n_in] = x[x_index[-1]]
    elif S:
        H[L - 1, :n_in] = x[x_index[0]]
    if steps.fwd is not None:
        if plan.unit_scale:
            steps.fwd_vals.copy_(weight)
        else:
            torch.mul(weight, plan.edge_scale, out=steps.fwd_vals)
    src = plan.src
    b2 = bias.unsqueeze(1)
    bf = b2[:nf - n_in]
    out_rows = plan.out_rows.view(-1)
    gather_after: List[List[int]] = [[] for _ in range(S + 1)]   # ring: outputs ready after step s - 1
    if not keep:
        out = x.new_empty(K, out_rows.numel(), B)
        for k, slot in enumerate(schedule.out_slots):
            gather_after[max(slot - L + 1, 0)].append(k)
        for k in gather_after[0]:
            out[k] = H[schedule.out_slots[k] % slots, out_rows]
    single, runs, generic = steps.single, level.runs, list(zip(level.generic, level.generic_index))
    for s in range(S):
        prev = H[(s + L - 1) % slots]            # read: the inputs of this step are in its input rows
        nxt = H[(s + L) % slots]
        z = Z[s if keep else 0]
        a = A[s if keep else 0] if A is not None else nxt[n_in:]   # A: ctrnn only
        if steps.fwd is not None:
            torch.addmm(bf, steps.fwd, prev, out=z[:nf - n_in])
        for (name, r0, r1, e0, e1), index in generic:
            m = conv.message(prev[src[e0:e1]], weight[e0:e1])
            z[r0 - n_in:r1 - n_in] = conv.aggregate(m, index, dim_size=r1 - r0, aggregation=name) \
                * plan.row_response[r0:r1, None] + b2[r0 - n_in:r1 - n_in]
        if single is not None:
            activate_into(single, z, a)
        else:
            for name, r0, r1 in runs:
                activate_into(name, z[r0 - n_in:r1 - n_in], a[r0 - n_in:r1 - n_in])
        if ctrnn or steps.has_idle:
            older = H[s % slots, n_in:]
            if blend is not None:   # h(s) = h(s - 2) + dt / tau * (activation - h(s - 2)), neat's order of operations
                torch.addcmul(older, blend[s].unsqueeze(1), a - older, out=nxt[n_in:])
            if steps.has_idle:
                nxt[n_in:].index_copy_(0, steps.idle, older.index_select(0, steps.idle))
        if not keep:
            nxt[:n_in] = x[x_index[s + 1] if s + 1 < S else x_index[s]]
            for k in gather_after[s + 1]:
                out[k] = H[schedule.out_slots[k] % slots, out_rows]
    if keep:
        out_slots = torch.tensor(schedule.out_slots, dtype=torch.long, device=H.device)
        out = H[out_slots[:, None], out_rows[None, :]]
    return H, Z, A, out
