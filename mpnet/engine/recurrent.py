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

Here is the layer (:class:`RecurrentConv`) and the states read-back (:func:`recurrent_states`); the forward
sweep is in :mod:`mpnet.engine.recurrent_sweep`, the autograd function and its backward through time in
:mod:`mpnet.engine.recurrent_grad`, the one-step-per-call :class:`Stepper` in
:mod:`mpnet.engine.recurrent_stepper`. Every public name is importable from here.
"""
from typing import List, Optional, Sequence, Tuple

import torch
from torch import Tensor

from .compile import Plan
from .propagate import LayeredConv
from .recurrent_grad import _Recurrent
from .recurrent_stepper import Stepper
from .recurrent_sweep import _coefficients, _Steps, run_steps
# importable from here too (documented in mpnet.engine.steps, where they live)
from .steps import RecurrentState, Schedule, ctrnn_schedule, discrete_schedule  # noqa: F401

__all__ = ["RecurrentConv", "run_steps", "recurrent_states", "Stepper"]


#: A pass without gradient keeps every step's state up to this many elements (then a ring of lag + 1 slots).
_KEEP_ELEMENTS = 1 << 22


def _ctrnn_coefficients(schedule: Schedule, tau: Optional[Tensor], plan: Plan, weight: Tensor) -> Optional[Tensor]:
    """A ctrnn schedule's ``dt / tau`` per step and row (``_coefficients``); None for a discrete schedule."""
    if schedule.lag != 2:
        return None
    if tau is None:
        raise TypeError("A ctrnn schedule needs the neurons' time constants (tau).")
    return _coefficients(schedule, tau, _Steps.get(plan, weight), weight.dtype)


class RecurrentConv(LayeredConv):
    r"""Synchronous recurrent message passing: every non-input neuron at every step, from the previous
    step's values (see the module docstring for the update and the ctrnn blend).

    Shapes:
        x: ``[K, num_inputs, B]`` (one slice per input of the sequence), weight: ``[E]``,
        bias: ``[num_nodes - num_inputs]``, init: ``lag`` tensors ``[num_nodes - num_inputs, B]``
        -> outputs ``[K, T * n_out, B]`` and the final ``lag`` state slots.
    """

    # a recurrent pass takes a schedule and the state besides the feed-forward pass's arguments, and returns the
    # final state too: the same layer (message, aggregate, activate) with another forward
    def forward(self, x: Tensor, plan: Plan, weight: Tensor, bias: Tensor,  # type: ignore[override]
                schedule: Schedule, init: Sequence[Tensor], tau: Optional[Tensor] = None
                ) -> Tuple[Tensor, List[Tensor]]:
        coef = _ctrnn_coefficients(schedule, tau, plan, weight)
        if not self.fused:
            return self._plain_steps(x, plan, weight, bias, schedule, init, coef)
        needs_grad = torch.is_grad_enabled() and (x.requires_grad or weight.requires_grad or bias.requires_grad
                                                  or any(h.requires_grad for h in init))
        if not needs_grad:   # a ring of slots for long runs; short ones keep every slot (fewer ops per step)
            keep = schedule.num_steps * plan.num_nodes * x.shape[2] <= _KEEP_ELEMENTS
            H, _, _, out = run_steps(self, plan, schedule, x, weight, bias, init, coef, keep=keep)
            S, L, n_in = schedule.num_steps, schedule.lag, plan.num_inputs
            slots = H.shape[0]
            return out, [H[(S + i) % slots, n_in:].clone() if not keep else H[S + i, n_in:] for i in range(L)]
        out, *final = _Recurrent.apply(self, plan, schedule, coef, x, weight, bias,  # type: ignore[no-untyped-call]
                                       *init)   # torch leaves Function.apply untyped
        return out, final

    def _plain_steps(self, x: Tensor, plan: Plan, weight: Tensor, bias: Tensor, schedule: Schedule,
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
    coef = _ctrnn_coefficients(schedule, tau, plan, weight)
    H, Z, _, _ = run_steps(conv, plan, schedule, x_rows, weight, bias, init, coef, keep=True)
    S, L = schedule.num_steps, schedule.lag
    h = H[L:S + L]
    z = torch.cat([h[:, :n_in], Z[:S]], dim=1)
    h = h.clone()
    if S:
        idx = torch.tensor(schedule.x_index, dtype=torch.long, device=h.device)
        h[:, :n_in] = z[:, :n_in] = x_rows[idx]
    return z, h
