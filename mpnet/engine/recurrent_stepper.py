"""One discrete recurrent step per call, for closed loops (engine stage, under :mod:`mpnet.engine.recurrent`):
a controller whose next input depends on its last output steps a :class:`Stepper` instead of running a whole
sequence.
"""
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from .compile import Plan
from ..errors import ArgumentError
from .functional import activate_into
from .recurrent_sweep import _Steps

if TYPE_CHECKING:
    from .recurrent import RecurrentConv

__all__ = ["Stepper"]


class Stepper:
    """One discrete step at a time with as few ops as a step needs, for closed loops (a controller whose
    next input depends on its last output): a snapshot of the weights and biases, its own two state slots.

    ``step(x)`` computes what ``net(x.unsqueeze(0), state, return_state=True)`` computes, starting from 0
    (``reset()``), without building a schedule, checking shapes or copying the state per call.

    Shapes:
        ``step(x: [T * n_in, batch])`` input rows (topology after topology, each in its input order) ->
        ``[T * n_out, batch]`` output rows (``plan.out_rows`` order); ``h``: ``[num_nodes, batch]``.
    """

    def __init__(self, conv: "RecurrentConv", plan: Plan, weight: Tensor, bias: Tensor, batch: int) -> None:
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
        try:
            prev[:n_in] = x
        except (RuntimeError, TypeError):   # checked only when it fails: a step stays a few ops
            raise ArgumentError(f"Expected the stepper's input x as rows [{n_in}, {self.H.shape[2]}] (T * n_inputs, "
                                f"batch), a tensor of {self.H.dtype} (got "
                                f"{list(x.shape) if isinstance(x, Tensor) else type(x).__name__}"
                                f"{' ' + str(x.dtype) if isinstance(x, Tensor) else ''}); a [batch, n_inputs] "
                                f"sample is x.t().") from None
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
