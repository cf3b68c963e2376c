"""What a recurrent run computes, decided before it runs: the schedule of steps (one per input, or neat's
CTRNN clock), the state between calls, and the shapes of sequences (beside :mod:`mpnet.engine.recurrent`).

Nothing here touches the network's numbers; :mod:`mpnet.engine.recurrent` runs the steps a :class:`Schedule` lists.
"""
import math
import numbers
from typing import List, NamedTuple, Optional, Sequence, Tuple, Union, overload

import torch
from torch import Tensor

from ..checks import check_float
from .compile import Plan
from ..errors import ArgumentError, DataError

__all__ = ["RecurrentState", "Schedule", "discrete_schedule", "ctrnn_schedule", "check_times", "check_clock",
           "sequence_rows", "initial_slots", "final_state", "MAX_STEPS_PER_INPUT"]

#: The most integration steps a ctrnn takes per input (``advance_time / time_step``): each is one pass over the
#: network whose state is kept for the gradient, and the schedule lists them one by one, so a unit slip
#: (``time_step=1e-9``) would otherwise run for hours or exhaust the memory. neat-python's examples take 1 to 100.
MAX_STEPS_PER_INPUT = 100_000


class RecurrentState(NamedTuple):
    """The state of a recurrent Network between two calls (each ``[num_nodes, batch]``, rows in compiled
    order, named by :attr:`mpnet.model.Network.rows`; input rows hold the last input and are never read).
    """
    #: every neuron's value now.
    h: Tensor
    #: a ctrnn's values one integration step earlier (its second buffer); ``None`` otherwise.
    previous: Optional[Tensor] = None
    #: a ctrnn's simulated time (its clock decides the integration steps of the next advance).
    time: float = 0.0


class Schedule(NamedTuple):
    """What a run computes, decided before it starts (Python numbers, no tensors but ``dt``).

    ``lag`` 1 (discrete) or 2 (ctrnn: the older buffer is blended); step ``s`` reads state slot
    ``s + lag - 1`` with the input ``x[x_index[s]]`` in its input rows and writes slot ``s + lag``; the
    output of input ``k`` is slot ``out_slots[k]``; ``dt`` (ctrnn) the integration step of each step.
    """
    lag: int
    x_index: List[int]
    out_slots: List[int]
    dt: Optional[List[float]] = None
    time: float = 0.0   # the clock after the run

    @property
    def num_steps(self) -> int:
        """How many steps (integration steps for a ctrnn) the run computes."""
        return len(self.x_index)


def discrete_schedule(num_inputs: int) -> Schedule:
    """One step per input, output after each."""
    return Schedule(1, list(range(num_inputs)), list(range(1, num_inputs + 1)))


def ctrnn_schedule(num_inputs: int, advance_time: float, time_step: float, time: float = 0.0) -> Schedule:
    """neat-python's integration steps for ``num_inputs`` calls of ``advance(x, advance_time, time_step)``
    from clock ``time``, with neat's own float arithmetic (the clock's round-off decides the last step).

    Raises:
        ArgumentError: ``time_step`` not a finite number > 0 or ``advance_time`` not a finite number >= 0.
    """
    advance_time, time_step = check_times(advance_time, time_step)
    time = check_clock(time)
    x_index: List[int] = []
    dts: List[float] = []
    out_slots: List[int] = []
    for k in range(num_inputs):
        end, taken = time + advance_time, 0
        if end == time and advance_time > 0:
            taken = MAX_STEPS_PER_INPUT + 1   # the clock cannot even reach the end: refused below
        while time < end or taken > MAX_STEPS_PER_INPUT:
            dt = min(time_step, end - time)
            x_index.append(k)
            dts.append(dt)
            if time + dt == time or taken > MAX_STEPS_PER_INPUT:   # the clock's float64 resolution passed time_step
                raise ArgumentError(f"A ctrnn's clock at time {time!r} cannot advance in steps of time_step="
                                    f"{time_step!r}: float64 numbers near {time:g} are {math.ulp(time):g} apart. "
                                    f"Start the sequence again from time 0 (state=None, or a RecurrentState with "
                                    f"time=0.0).")
            time += dt
            taken += 1
        out_slots.append(len(dts))   # neat returns the older buffer: slot (steps so far) of lag 2
    return Schedule(2, x_index, out_slots, dts, time)


def check_clock(time: object, name: str = "state.time") -> float:
    """A ctrnn's clock as a float: a finite number >= 0 (neat's clock starts at 0 and only advances).

    Raises:
        ArgumentError: a bool, a string, NaN, an infinity or a negative time (each would leave the integration
            steps of the next advance undefined: ``while time < end`` never runs for NaN).
    """
    if (isinstance(time, bool) or not isinstance(time, numbers.Real) or not math.isfinite(time)
            or time < 0):
        raise ArgumentError(f"Expected {name} to be a finite number >= 0, a ctrnn's clock (got {time!r:.60}); "
                            f"pass the state a previous call returned, or time=0.0 to start a sequence.")
    return float(time)


@overload
def check_times(advance_time: float, time_step: float) -> Tuple[float, float]: ...
@overload
def check_times(advance_time: Optional[float], time_step: Optional[float]
                ) -> Tuple[Optional[float], Optional[float]]: ...
def check_times(advance_time: Optional[float], time_step: Optional[float]
                ) -> Tuple[Optional[float], Optional[float]]:
    """``(advance_time, time_step)`` as floats (``None`` stays ``None``: not given yet).

    Raises:
        ArgumentError: ``time_step`` not a finite number > 0 or ``advance_time`` not a finite number >= 0.
    """
    try:
        advance_time = None if advance_time is None else check_float(advance_time, "advance_time", min=0.0)
        time_step = None if time_step is None else check_float(time_step, "time_step", min=0.0, min_open=True)
    except ArgumentError as err:
        raise ArgumentError(f"{err} A ctrnn integrates each input for advance_time in steps of "
                            f"time_step.") from None
    if advance_time is not None and time_step is not None and advance_time / time_step > MAX_STEPS_PER_INPUT:
        raise ArgumentError(f"advance_time={advance_time!r} in steps of time_step={time_step!r} is "
                            f"{advance_time / time_step:.3g} integration steps per input; a ctrnn takes at most "
                            f"{MAX_STEPS_PER_INPUT:,} (each is a pass over the network, its state kept for the "
                            f"gradient). Check the units, or raise time_step.")
    return advance_time, time_step


def sequence_rows(x: Tensor, plan: Plan, batched: bool) -> Tensor:
    """``x: [steps, batch, n_in]`` (shared by every topology) or ``[T, steps, batch, n_in]`` (batched) ->
    input rows ``[steps, T * n_in, batch]``.

    Raises:
        DataError: another shape (a single sample ``[batch, n_in]`` needs a steps axis).
    """
    T, n_in = plan.num_graphs, plan.n_in
    if x.dim() == 3 and x.shape[2] == n_in:
        rows = x.transpose(1, 2)
        K, B = x.shape[0], x.shape[1]
        return (rows.unsqueeze(1).expand(K, T, n_in, B).reshape(K, T * n_in, B) if T > 1 else rows).contiguous()
    if batched and x.dim() == 4 and x.shape[0] == T and x.shape[3] == n_in:
        K, B = x.shape[1], x.shape[2]
        return x.permute(1, 0, 3, 2).reshape(K, T * n_in, B).contiguous()
    want = f"[steps, batch, {n_in}]" + (f" or [{T}, steps, batch, {n_in}]" if batched else "")
    raise DataError(f"Expected a recurrent network's input of shape {want} (got {list(x.shape)}); a "
                    f"recurrent network reads a sequence: add a steps axis (x.unsqueeze(0) for one step).")


def initial_slots(state: Union[RecurrentState, Tensor, None], plan: Plan, lag: int, like: Tensor
                  ) -> Tuple[List[Tensor], float]:
    """The ``lag`` non-input state slots (oldest first) and the clock a run starts from: zeros and 0 without
    a state; a :class:`RecurrentState` (or a bare ``[num_nodes, batch]`` tensor as its ``h``) otherwise. A
    ctrnn state without ``previous`` starts both buffers at ``h`` (neat's ``set_node_value``).

    Raises:
        ArgumentError: ``state`` is neither a RecurrentState nor a tensor, or a state tensor has the wrong
            shape, dtype or device.
    """
    n_in, N, B = plan.num_inputs, plan.num_nodes, like.shape[2]
    if state is None:
        zero = like.new_zeros(N - n_in, B)
        return [zero] * lag, 0.0
    if isinstance(state, Tensor):
        state = RecurrentState(state)
    if not isinstance(state, RecurrentState):
        raise ArgumentError(f"Expected state to be a RecurrentState or a [{N}, batch] tensor (got "
                            f"{type(state).__name__}).")
    if lag == 1 and (state.previous is not None or not (isinstance(state.time, (int, float)) and state.time == 0)):
        raise ArgumentError(f"state.previous and state.time are a ctrnn's (its second buffer and its clock); this "
                            f"network is a discrete-time recurrent one, whose state is h alone (got previous="
                            f"{'a tensor' if state.previous is not None else None}, time={state.time!r:.40}). Pass "
                            f"RecurrentState(h), or the state this network returned.")
    clock = check_clock(state.time) if lag == 2 else 0.0
    tensors = [state.previous if state.previous is not None else state.h, state.h] if lag == 2 else [state.h]
    for name, h in zip(("previous", "h") if lag == 2 else ("h",), tensors):
        if not isinstance(h, Tensor) or h.shape != (N, B) or h.dtype != like.dtype or h.device != like.device:
            got = (f"{list(h.shape)} {h.dtype} on {h.device}" if isinstance(h, Tensor) else type(h).__name__)
            raise ArgumentError(f"Expected state.{name} of shape [{N}, {B}] (num_nodes, batch), {like.dtype} on "
                                f"{like.device} (got {got}); pass the state a previous call returned for the "
                                f"same batch size.")
    return [h[n_in:] for h in tensors], clock


def final_state(x_rows: Tensor, init: Sequence[Tensor], final: Sequence[Tensor], schedule: Schedule
                ) -> RecurrentState:
    """The :class:`RecurrentState` after a run: input rows hold the last input (zeros for an empty run)."""
    last = x_rows[-1] if x_rows.shape[0] else x_rows.new_zeros(x_rows.shape[1], final[-1].shape[1])
    full = [torch.cat([last, h]) for h in final]
    if schedule.lag == 2:
        return RecurrentState(full[1], full[0], schedule.time)
    return RecurrentState(full[0])
