"""A recurrent network's run over a sequence (model stage): discrete steps or a ctrnn's integration
(:mod:`mpnet.engine.recurrent`), from a state and back to one, for :meth:`~mpnet.Network.forward`,
:meth:`~mpnet.Network.states` and :meth:`~mpnet.Network.stepper`."""
from typing import TYPE_CHECKING, Optional, Tuple, Union, cast

from torch import Tensor

from ..checks import check_int
from ..engine.recurrent import RecurrentConv, Stepper, recurrent_states
from ..engine.steps import (RecurrentState, Schedule, ctrnn_schedule, discrete_schedule, final_state, initial_slots,
                            sequence_rows)
from ..errors import ArgumentError
from ..threads import PassThreads, Tuner
from .feedforward import as_input

if TYPE_CHECKING:
    from .network import Network

__all__ = ["input_sequence", "schedule", "forward_sequence", "states", "stepper"]

#: what ``state=`` accepts: a :class:`RecurrentState`, a tensor of the neurons' values, or ``None`` (all at 0)
State = Union[RecurrentState, Tensor, None]


def _conv(net: "Network") -> RecurrentConv:
    """The network's layer, which a recurrent network builds as a :class:`~mpnet.engine.recurrent.RecurrentConv`."""
    return cast(RecurrentConv, net.conv)


def input_sequence(net: "Network", x: Tensor) -> Tensor:
    """A recurrent network's ``x`` (see :class:`~mpnet.Network`) -> input rows ``[steps, T * n_in, batch]``."""
    x = as_input(net, x, f"[steps, batch, {net.plan.n_in}]")
    return sequence_rows(x, net.plan, net.batched)


def schedule(net: "Network", steps: int, time: float, advance_time: Optional[float],
             time_step: Optional[float]) -> Schedule:
    """The steps of a run over ``steps`` inputs from ``time``: one per input, or a ctrnn's integration steps
    (``advance_time`` and ``time_step`` overriding the network's)."""
    if net.network_type != "ctrnn":
        if advance_time is not None or time_step is not None:
            raise ArgumentError("advance_time and time_step are for ctrnn networks; this one is a discrete-time "
                                "recurrent network (one step per input).")
        return discrete_schedule(steps)
    advance_time = net.advance_time if advance_time is None else advance_time
    time_step = net.time_step if time_step is None else time_step
    if advance_time is None or time_step is None:
        raise ArgumentError("A ctrnn network needs advance_time and time_step (how long each input is held, "
                            "and the integration step): Network(topo, advance_time=..., time_step=...) or "
                            "net(x, advance_time=..., time_step=...).")
    return ctrnn_schedule(steps, advance_time, time_step, time)


def forward_sequence(net: "Network", x: Tensor, state: State, return_state: bool, advance_time: Optional[float],
                     time_step: Optional[float]) -> Union[Tensor, Tuple[Tensor, RecurrentState]]:
    """A recurrent network's outputs on the sequence ``x`` (and its final state if ``return_state``)."""
    plan, T = net.plan, net.plan.num_graphs
    # the thread policy as for a feed-forward pass, over the whole call (the input copy and the initial
    # state are parallel regions too): a step is one level over every edge; the tuner times whole
    # passes, so it is kept per batch size and number of inputs
    B = x.shape[-2] if isinstance(x, Tensor) and x.dim() > 1 else 1
    key = ("steps", B, x.shape[-3] if isinstance(x, Tensor) and x.dim() > 2 else 1)
    tuner = net._tuners.get(key) or net._tuners.setdefault(key, Tuner())
    with PassThreads(plan.work_per_sample * B, tuner):
        rows = input_sequence(net, x)                                       # [K, T * n_in, B]
        init, time = initial_slots(state, plan, 2 if net.network_type == "ctrnn" else 1, rows)
        sched = schedule(net, rows.shape[0], time, advance_time, time_step)
        out, final = _conv(net).forward(rows, plan, net._compute_weight(), net.bias, sched, init, net._tau)
        K = rows.shape[0]
        # one view each way, no select: the backward of each runs outside the thread policy
        out = (out.view(K, T, plan.n_out, B).permute(1, 0, 3, 2) if net.batched      # [T, K, B, n_out]
               else out.view(K, plan.n_out, B).transpose(1, 2))                     # [K, B, n_out]
        return (out, final_state(rows, init, final, sched)) if return_state else out


def states(net: "Network", x: Tensor, state: State, advance_time: Optional[float],
           time_step: Optional[float]) -> Tuple[Tensor, Tensor]:
    """A recurrent network's ``(z, h)`` after every step, each ``[steps, num_nodes, batch]`` (see
    :meth:`~mpnet.Network.states`; the caller holds ``torch.no_grad``)."""
    with net.pass_threads(x.shape[-2] if isinstance(x, Tensor) and x.dim() > 1 else 1):
        rows = input_sequence(net, x)
        init, time = initial_slots(state, net.plan, 2 if net.network_type == "ctrnn" else 1, rows)
        sched = schedule(net, rows.shape[0], time, advance_time, time_step)
        return recurrent_states(_conv(net), net.plan, rows, net._compute_weight(), net.bias, sched, init, net._tau)


def stepper(net: "Network", batch: int) -> Stepper:
    """:meth:`~mpnet.Network.stepper`: a discrete recurrent network stepped one input per call."""
    if net.network_type != "recurrent":
        raise ArgumentError(f"stepper() steps a discrete-time recurrent network; this one is "
                            f"{net.network_type}.")
    batch = check_int(batch, "batch", min=1)
    return Stepper(_conv(net), net.plan, net._compute_weight().detach(), net.bias.detach(), batch)
