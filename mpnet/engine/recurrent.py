"""Recurrent networks over a compiled plan: one sparse product per time step (third stage, beside propagate).

A recurrent topology (``Topology(..., recurrent=True)``) compiles like a DAG whose non-input neurons all
sit at depth 1 (:mod:`mpnet.engine.compile`), so its edges form one CSR matrix over every row. Step ``s`` computes
every neuron from the previous step's values at once, as ``neat.nn.RecurrentNetwork.activate`` does::

    z_i(s) = r_i * aggregate_i({w_e * h_j(s - 1) : e = (j -> i)}) + b_i,      h_i(s) = activation_i(z_i(s))

where an input's ``h_j(s - 1)`` is the *current* step's input (neat writes the inputs before computing).
Every neuron starts at 0 (or at a given state). A neuron without incoming edges is never computed: it
keeps its value (0 unless a state says otherwise), as in neat-python, whose network has no entry for it.

A ``"ctrnn"`` topology follows ``neat.ctrnn.CTRNN.advance(x, advance_time, time_step)``: each input is
held while the clock advances by ``advance_time`` in integration steps ``dt = min(time_step, end - t)``,
and an integration step sets ``h(s) = h(s - 2) + dt / tau * (activation(z(s)) - h(s - 2))``, with ``z(s)``
from ``h(s - 1)``: neat keeps two buffers and writes the new value over the *older* one. What it returns
after an advance is that older buffer, the values one integration step before the last; so do we.

Both run as one ``torch.autograd.Function`` over preallocated buffers: the state of every step
``[slots, num_nodes, batch]`` (``O(steps x neurons x batch)`` memory), one CSR product per step for the
sum and mean neurons plus ``message`` / ``aggregate`` for the other aggregations, and a fused backward
through time: one CSR product per step with the prebuilt transpose (gradients held for ``lag + 1`` slots
only), then sampled products (SDDMM) over groups of steps for the weight gradient. ``fused=False`` runs
the same maths through ``MessagePassing.propagate`` with plain autograd (the second opinion of the tests).
A pass without gradient keeps a ring of ``lag + 1`` slots when the sequence is long; :class:`Stepper`
runs one step per call for closed loops.
"""
from typing import List, Optional, Sequence, Tuple

import torch
from torch import Tensor

from .compile import Plan, _csr_rows, transpose
from .functional import activate_into, backward_into
from .propagate import LayeredConv
from ..threads import PassThreads
# importable from here too (documented in mpnet.engine.steps, where they live)
from .steps import RecurrentState, Schedule, ctrnn_schedule, discrete_schedule  # noqa: F401

__all__ = ["RecurrentConv", "run_steps", "recurrent_states", "Stepper"]


#: A pass without gradient keeps every step's state up to this many elements (then a ring of lag + 1 slots).
_KEEP_ELEMENTS = 1 << 22


def _csr(crow: Tensor, col: Tensor, values: Tensor, shape) -> Tensor:
    return torch.sparse_csr_tensor(crow, col, values, shape, check_invariants=False)


class _Steps:
    """The recurrent plan, built once per (plan, dtype, device): the CSR matrix of every fused edge over
    all rows, its transpose for the backward, the SDDMM pattern of all edges, the idle rows (no incoming
    edge). Values live in two buffers refreshed by one copy per pass."""

    def __init__(self, plan: Plan, dtype: torch.dtype, device: torch.device):
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
        self.state = None   # buffers reused by passes that need no gradient

    @staticmethod
    def get(plan: Plan, like: Tensor) -> "_Steps":
        key = ("recurrent", like.dtype, like.device)
        if key not in plan.prebuilt:
            plan.prebuilt[key] = _Steps(plan, like.dtype, like.device)
        return plan.prebuilt[key]


def _coefficients(schedule: Schedule, tau: Tensor, steps: _Steps, dtype) -> Tensor:
    """``[S, N - n_in]`` ``dt / tau`` per step and row (``tau`` float64 on the CPU), divided in float64 as
    neat does, rounded once to ``dtype``; 0 on idle rows."""
    coef = torch.tensor(schedule.dt, dtype=torch.float64)[:, None] / tau[None, :]
    if steps.has_idle:
        coef[:, steps.idle.cpu()] = 0.0
    return coef.to(dtype=dtype, device=steps.idle.device)


def run_steps(conv: "RecurrentConv", plan: Plan, schedule: Schedule, x: Tensor, weight: Tensor, bias: Tensor,
              init: Sequence[Tensor], coef: Optional[Tensor] = None, keep: bool = True):
    """The forward sweep without autograd.

    Args:
        x: ``[K, num_inputs, B]`` input rows of each input.
        init: ``lag`` tensors ``[N - n_in, B]``: the non-input rows of slots ``0 .. lag - 1``.
        coef: ctrnn ``[S, N - n_in]`` (:func:`_coefficients`).
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
        a = A[s if keep else 0] if ctrnn else nxt[n_in:]
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
            if ctrnn:   # h(s) = h(s - 2) + dt / tau * (activation - h(s - 2)), neat's order of operations
                torch.addcmul(older, coef[s].unsqueeze(1), a - older, out=nxt[n_in:])
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
    def forward(ctx, conv, plan: Plan, schedule: Schedule, coef: Optional[Tensor], x: Tensor, weight: Tensor,
                bias: Tensor, *init: Tensor):
        H, Z, A, out = run_steps(conv, plan, schedule, x, weight, bias, init, coef, keep=True)
        ctx.conv, ctx.plan, ctx.schedule, ctx.coef = conv, plan, schedule, coef
        ctx.save_for_backward(H, Z, A if A is not None else H.new_empty(0), weight)
        L, S = schedule.lag, schedule.num_steps
        n_in = plan.num_inputs
        return (out, *[H[S + i, n_in:].clone() for i in range(L)])

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out: Tensor, *grad_final: Tensor):
        # the size rule of the thread policy (mpnet/threads.py), as the feed-forward backward: a step is a level
        with PassThreads(ctx.plan.work_per_sample * grad_out.shape[2]):
            return _Recurrent._backward(ctx, grad_out, *grad_final)

    @staticmethod
    def _backward(ctx, grad_out: Tensor, *grad_final: Tensor):
        conv, plan, schedule, coef = ctx.conv, ctx.plan, ctx.schedule, ctx.coef
        H, Z, A, weight = ctx.saved_tensors
        steps = _Steps.get(plan, weight)
        n_in, nf, L, S = steps.n_in, steps.nf, schedule.lag, schedule.num_steps
        level, src = steps.level, plan.src
        ctrnn = L == 2
        # dL/dH for a ring of lag + 1 slots: slot j is complete once the steps reading it (j - lag + 1 .. j)
        # have sent their gradient back, so the sweep needs only slots s .. s + lag at step s
        R, out_rows = L + 1, plan.out_rows.view(-1)
        G = H.new_empty(R, H.shape[1], H.shape[2])
        outs_at: dict = {}
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
        keep_c = (1.0 - coef).unsqueeze(2) if ctrnn else None
        coef3 = coef.unsqueeze(2) if ctrnn else None
        single, runs = steps.single, level.runs
        generic = [(g, index) for g, index in zip(level.generic, level.generic_index) if g[4] > g[3]]
        for s in reversed(range(S)):
            g = G[(s + L) % R, n_in:]
            a = A[s] if ctrnn else H[s + L, n_in:]
            open_slot(s)
            if ctrnn:
                G[s % R, n_in:].addcmul_(g, keep_c[s])   # idle rows: coefficient 0, the whole gradient
                g = g * coef3[s]
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

        grad_w = grad_b = None
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


class RecurrentConv(LayeredConv):
    r"""Synchronous recurrent message passing: every non-input neuron at every step, from the previous
    step's values (see the module docstring for the update and the ctrnn blend).

    Shapes:
        x: ``[K, num_inputs, B]`` (one slice per input of the sequence), weight: ``[E]``,
        bias: ``[num_nodes - num_inputs]``, init: ``lag`` tensors ``[num_nodes - num_inputs, B]``
        -> outputs ``[K, T * n_out, B]`` and the final ``lag`` state slots.
    """

    def forward(self, x: Tensor, plan: Plan, weight: Tensor, bias: Tensor, schedule: Schedule,
                init: Sequence[Tensor], tau: Optional[Tensor] = None) -> Tuple[Tensor, List[Tensor]]:
        coef = _coefficients(schedule, tau, _Steps.get(plan, weight), weight.dtype) if schedule.lag == 2 else None
        if not self.fused:
            return self._plain(x, plan, weight, bias, schedule, init, coef)
        needs_grad = torch.is_grad_enabled() and (x.requires_grad or weight.requires_grad or bias.requires_grad
                                                  or any(h.requires_grad for h in init))
        if not needs_grad:   # a ring of slots for long runs; short ones keep every slot (fewer ops per step)
            keep = schedule.num_steps * plan.num_nodes * x.shape[2] <= _KEEP_ELEMENTS
            H, _, _, out = run_steps(self, plan, schedule, x, weight, bias, init, coef, keep=keep)
            S, L, n_in = schedule.num_steps, schedule.lag, plan.num_inputs
            slots = H.shape[0]
            return out, [H[(S + i) % slots, n_in:].clone() if not keep else H[S + i, n_in:] for i in range(L)]
        out, *final = _Recurrent.apply(self, plan, schedule, coef, x, weight, bias, *init)
        return out, final

    def _plain(self, x: Tensor, plan: Plan, weight: Tensor, bias: Tensor, schedule: Schedule,
               init: Sequence[Tensor], coef: Optional[Tensor]) -> Tuple[Tensor, List[Tensor]]:
        """The same steps with ordinary autograd, through ``MessagePassing.propagate``."""
        n_in, N = plan.num_inputs, plan.num_nodes
        (level,) = plan.levels
        L = schedule.lag
        w_eff = weight * plan.edge_scale
        src, dst = plan.src, plan.dst
        indeg = (plan.crow[1:] - plan.crow[:-1])[n_in:].long()
        idle = (indeg == 0).unsqueeze(1)
        slots = list(init)                                   # non-input rows of every slot so far
        out_rows = plan.out_rows.view(-1)
        for s in range(schedule.num_steps):
            prev = torch.cat([x[schedule.x_index[s]], slots[s + L - 1]])
            parts = []
            if level.n_fused > n_in:
                e = slice(0, level.e_fused)
                parts.append(self.propagate(torch.stack([src[e], dst[e] - n_in]), x=(prev, None),
                                            edge_weight=w_eff[e], size=(N, level.n_fused - n_in),
                                            aggregation="sum"))
            for name, r0, r1, e0, e1 in level.generic:
                parts.append(self.propagate(torch.stack([src[e0:e1], dst[e0:e1] - r0]), x=(prev, None),
                                            edge_weight=weight[e0:e1], size=(N, r1 - r0), aggregation=name)
                             * plan.row_response[r0:r1, None])
            z = torch.cat(parts) if len(parts) > 1 else parts[0]
            a = torch.cat([self.activate(z[r0 - n_in:r1 - n_in], bias[r0 - n_in:r1 - n_in], name)
                           for name, r0, r1 in level.runs])
            older = slots[s]
            new = older + coef[s].unsqueeze(1) * (a - older) if coef is not None else a
            slots.append(torch.where(idle, older, new))
        local = out_rows - n_in   # outputs are never input rows
        outs = [slots[slot][local] for slot in schedule.out_slots]
        out = torch.stack(outs) if outs else x.new_empty(0, out_rows.numel(), x.shape[2])
        return out, slots[-L:]


def recurrent_states(conv: "RecurrentConv", plan: Plan, x_rows: Tensor, weight: Tensor, bias: Tensor,
                     schedule: Schedule, init: Sequence[Tensor], tau: Optional[Tensor]) -> Tuple[Tensor, Tensor]:
    """Every neuron's pre-activation and value after each (integration) step: ``(z, h)``, each
    ``[steps, num_nodes, batch]``; input rows hold the step's input in both."""
    n_in = plan.num_inputs
    coef = _coefficients(schedule, tau, _Steps.get(plan, weight), weight.dtype) if schedule.lag == 2 else None
    H, Z, _, _ = run_steps(conv, plan, schedule, x_rows, weight, bias, init, coef, keep=True)
    S, L = schedule.num_steps, schedule.lag
    h = H[L:S + L]
    z = torch.cat([h[:, :n_in], Z[:S]], dim=1)
    h = h.clone()
    if S:
        idx = torch.tensor(schedule.x_index, dtype=torch.long, device=h.device)
        h[:, :n_in] = z[:, :n_in] = x_rows[idx]
    return z, h


class Stepper:
    """One discrete step at a time with as few ops as a step needs, for closed loops (a controller whose
    next input depends on its last output): a snapshot of the weights and biases, its own two state slots.

    ``step(x)`` computes what ``net(x.unsqueeze(0), state, return_state=True)`` computes, starting from 0
    (``reset()``), without building a schedule, checking shapes or copying the state per call.

    Shapes:
        ``step(x: [T * n_in, batch])`` input rows (topology after topology, each in its input order) ->
        ``[T * n_out, batch]`` output rows (``plan.out_rows`` order); ``h``: ``[num_nodes, batch]``.
    """

    def __init__(self, conv: "RecurrentConv", plan: Plan, weight: Tensor, bias: Tensor, batch: int):
        self.conv, self.plan = conv, plan
        self.weight, self.bias = weight.detach().clone(), bias.detach().clone()
        self.steps = _Steps(plan, weight.dtype, weight.device)   # its own CSR buffers: a snapshot
        if self.steps.fwd is not None:
            torch.mul(self.weight, plan.edge_scale, out=self.steps.fwd_vals)
        N, n_in = plan.num_nodes, plan.num_inputs
        self.H = weight.new_zeros(2, N, batch)
        self.z = weight.new_empty(N - n_in, batch)
        self.cur = 0
        self.out_rows = plan.out_rows.view(-1)
        self.b2 = self.bias.unsqueeze(1)

    def reset(self) -> None:
        """Every neuron back to 0 (neat's ``reset()``)."""
        self.H.zero_()
        self.cur = 0

    @property
    def h(self) -> Tensor:
        """The current values ``[num_nodes, batch]`` (input rows: the last input)."""
        return self.H[self.cur]

    @torch.no_grad()
    def step(self, x: Tensor) -> Tensor:
        """One step on input rows ``x [T * n_in, batch]``; returns the output rows ``[T * n_out, batch]``
        (a new tensor; the state advances in place)."""
        st, plan, n_in = self.steps, self.plan, self.plan.num_inputs
        prev, nxt = self.H[self.cur], self.H[1 - self.cur]
        prev[:n_in] = x
        z, a = self.z, nxt[n_in:]
        if st.fwd is not None:
            torch.addmm(self.b2[:st.nf - n_in], st.fwd, prev, out=z[:st.nf - n_in])
        src = plan.src
        for (name, r0, r1, e0, e1), index in zip(st.level.generic, st.level.generic_index):
            m = self.conv.message(prev[src[e0:e1]], self.weight[e0:e1])
            z[r0 - n_in:r1 - n_in] = self.conv.aggregate(m, index, dim_size=r1 - r0, aggregation=name) \
                * plan.row_response[r0:r1, None] + self.b2[r0 - n_in:r1 - n_in]
        if st.single is not None:
            activate_into(st.single, z, a)
        else:
            for name, r0, r1 in st.level.runs:
                activate_into(name, z[r0 - n_in:r1 - n_in], a[r0 - n_in:r1 - n_in])
        if st.has_idle:
            a.index_copy_(0, st.idle, prev[n_in:].index_select(0, st.idle))
        nxt[:n_in] = x
        self.cur = 1 - self.cur
        return nxt.index_select(0, self.out_rows)
