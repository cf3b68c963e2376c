"""A recurrent network's run over a sequence (model stage): discrete steps or a ctrnn's integration
(:mod:`mpnet.engine.recurrent`), from a state and back to one, for :meth:`~mpnet.Network.forward`,
:meth:`~mpnet.Network.states` and :meth:`~mpnet.Network.stepper`."""
import math
from typing import TYPE_CHECKING, Optional, Tuple, Union, cast

import torch
from torch import Tensor

from ..checks import check_bool, check_int, check_memory
from ..engine.recurrent import RecurrentConv, Stepper, recurrent_states
from ..engine.steps import (RecurrentState, Schedule, ctrnn_schedule, discrete_schedule, final_state, initial_slots,
                            sequence_rows)
from ..errors import ArgumentError
from ..threads import PassThreads, Tuner
from . import readback
from .feedforward import as_input

if TYPE_CHECKING:
    from .network import Network

__all__ = ["input_sequence", "schedule", "check_stable", "forward_sequence", "states", "stepper"]

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
    sched = ctrnn_schedule(steps, advance_time, time_step, time)
    check_stable(net, sched)
    return sched


def check_stable(net: "Network", sched: Schedule) -> None:
    """Refuse a ctrnn schedule whose integration step ``dt`` is more than twice a neuron's time constant.

    A step sets ``h += dt / tau * (f(z) - h)``, which multiplies ``h``'s distance to ``f(z)`` by ``1 - dt / tau``;
    past ``dt = 2 tau`` that factor is below -1 and the values oscillate with a growing amplitude (inf, then NaN,
    within a few hundred steps; neat-python computes the same). Neurons without incoming edges are never
    integrated and do not count. The smallest such time constant is found once per network.

    Raises:
        ArgumentError: names the neuron, its time constant and the largest time_step that is stable.
    """
    if not sched.dt or net._tau is None:
        return
    floor = net.__dict__.get("_tau_floor")
    if floor is None:
        n_in = net.plan.num_inputs
        live = (net.plan.crow[1:] - net.plan.crow[:-1])[n_in:].cpu() > 0
        tau = torch.where(live, net._tau, torch.full_like(net._tau, math.inf))
        row = int(torch.argmin(tau)) if tau.numel() else 0
        floor = net.__dict__["_tau_floor"] = (float(tau[row]) if tau.numel() else math.inf, n_in + row)
    dt = max(sched.dt)
    if dt > 2 * floor[0]:
        t, node = readback.row_names(net)[floor[1]]
        raise ArgumentError(f"time_step={dt!r} is more than twice the time constant {floor[0]!r} of node {node!r}"
                            f"{net._where(t)}: each integration step multiplies its distance to f(z) by 1 - dt / tau "
                            f"= {1 - dt / floor[0]:.3g}, so its value grows without bound (inf, then NaN), as in "
                            f"neat-python. Use time_step <= {2 * floor[0]!r}, or larger time constants.")


def forward_sequence(net: "Network", x: Tensor, state: State, return_state: bool, advance_time: Optional[float],
                     time_step: Optional[float]) -> Union[Tensor, Tuple[Tensor, RecurrentState]]:
    """A recurrent network's outputs on the sequence ``x`` (and its final state if ``return_state``)."""
    return_state = check_bool(return_state, "return_state")
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
    check_memory(3 * net.plan.num_nodes * batch * net.bias.element_size(), f"stepper(batch={batch})",
                 "step fewer samples at once.")   # the stepper's two state slots and its pre-activations
    return Stepper(_conv(net), net.plan, net._compute_weight().detach(), net.bias.detach(), batch)
