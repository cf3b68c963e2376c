"""Problems for the search: each scores a whole generation, batched in one :class:`~mpnet.Network`, and says
which networks meet its success criterion (search stage; the only place tasks touch tensors).

A task is a frozen dataclass (its fields are its typed config) with ``n_inputs``, ``n_outputs``,
``evaluate(net, generation) -> (fitness [T], solved [T])`` and, for supervised tasks, ``data() -> (X, Y)``
and ``loss`` used by Lamarckian fine-tuning. ``to_dict`` / :func:`from_dict` make it part of a checkpoint.
"""
import math
from abc import ABC, abstractmethod
from dataclasses import Field, asdict, dataclass, fields
from typing import Any, ClassVar, Dict, List, Mapping, Optional, Sequence, Tuple, Type, Union

import torch
from torch import Tensor

from ..checks import check_float, check_int

from ..graph.topology import Topology
from ..model import Network

__all__ = ["Task", "Supervised", "XOR", "Parity", "Spirals", "PoleBalancing", "TASKS", "make", "from_dict"]


class Task(ABC):
    """Base of every task: ``n_inputs``, ``n_outputs``, ``evaluate``; ``supervised`` tasks add ``data``."""
    name: ClassVar[str] = "task"
    supervised: ClassVar[bool] = False
    #: every task is a frozen dataclass (declared here for the type checker; the subclasses' decorator sets it)
    __dataclass_fields__: ClassVar[Dict[str, "Field[Any]"]]

    @property
    def n_inputs(self) -> int:
        """Inputs of the task's networks (a subclass sets it: a class constant or a property)."""
        raise AttributeError(f"{type(self).__name__!r} object has no attribute 'n_inputs'")

    @property
    def n_outputs(self) -> int:
        """Outputs of the task's networks (a subclass sets it: a class constant or a property)."""
        raise AttributeError(f"{type(self).__name__!r} object has no attribute 'n_outputs'")

    @abstractmethod
    def evaluate(self, net: Network, generation: int = 0) -> Tuple[Tensor, Tensor]:
        """``net`` holds T topologies; return ``(fitness [T] float, solved [T] bool)``, higher is better."""

    def settle(self, topologies: Sequence[Topology], fitness: List[float], solved: List[bool]) -> List[bool]:
        """The generation's solved flags, decided on the driver once every chunk is back (in order).

        :meth:`evaluate` runs per chunk, possibly on a Ray worker holding its own copy of the task; a task whose
        verdict needs the whole generation or memory across generations (the pole task tests the best genome
        it has not tested before) decides here, where the task object is the driver's one. Default: the
        chunks' flags as they are.
        """
        return solved

    def to_dict(self) -> Dict[str, Any]:
        return {"name": self.name, **asdict(self)}

    def describe(self) -> str:
        """One line: the fitness and the success criterion."""
        return self.name


class Supervised(Task):
    """A fixed data set scored NEAT's way: fitness ``N - sum((output - target)^2)`` over the ``N`` patterns
    (and outputs); fine-tuning minimises the mean squared error, the same quantity."""
    supervised = True
    loss: ClassVar[str] = "mse"
    _X: Tensor     # the data set, made by the subclass's __post_init__
    _Y: Tensor

    @abstractmethod
    def data(self) -> Tuple[Tensor, Tensor]:
        """``(X [N, n_inputs], Y [N, n_outputs])`` as float32."""

    def _errors(self, net: Network) -> Tuple[Tensor, Tensor, Tensor]:
        X, Y = self.data()
        dtype, device = net.bias.dtype, net.bias.device            # the data goes where the network is
        X, Y = X.to(dtype=dtype, device=device), Y.to(dtype=dtype, device=device)
        out = net(X)                                             # [T, N, n_out]
        sq = (out - Y).pow(2).sum(dim=(1, 2)).double()           # [T]
        return float(X.shape[0]) - sq, out, Y


@dataclass(frozen=True)
class Parity(Supervised):
    """``bits``-bit parity: the output is 1 when an odd number of inputs are 1, over all ``2^bits`` patterns.

    Solved when fitness ``2^bits - sum(err^2) >= 2^bits * (1 - tolerance)``: the mean squared error per
    pattern is at most ``tolerance`` (0.025 makes the 2-bit case neat-python's XOR criterion, 3.9 of 4).
    """
    name: ClassVar[str] = "parity"
    bits: int = 3                 # number of inputs
    tolerance: float = 0.025      # largest mean squared error per pattern of a solution

    def __post_init__(self) -> None:
        check_int(self.bits, "bits", min=1)
        check_float(self.tolerance, "tolerance", min=0)
        X = torch.tensor([[(i >> b) & 1 for b in reversed(range(self.bits))] for i in range(2 ** self.bits)],
                         dtype=torch.float32)
        object.__setattr__(self, "_X", X)
        object.__setattr__(self, "_Y", (X.sum(1, keepdim=True) % 2))

    @property
    def n_inputs(self) -> int:
        return self.bits

    @property
    def n_outputs(self) -> int:
        return 1

    @property
    def threshold(self) -> float:
        patterns: int = 2 ** self.bits
        return patterns * (1 - self.tolerance)

    def data(self) -> Tuple[Tensor, Tensor]:
        return self._X, self._Y

    @torch.no_grad()
    def evaluate(self, net: Network, generation: int = 0) -> Tuple[Tensor, Tensor]:
        fitness, _, _ = self._errors(net)
        return fitness, fitness >= self.threshold

    def describe(self) -> str:
        n = 2 ** self.bits
        return f"{self.name}-{self.bits}: fitness {n} - sum(err^2), solved at >= {self.threshold:.4g}"


@dataclass(frozen=True)
class XOR(Parity):
    """XOR, NEAT's first benchmark: fitness ``4 - sum(err^2)`` over the 4 patterns, solved at >= 3.9
    (neat-python's criterion)."""
    name: ClassVar[str] = "xor"
    bits: int = 2

    def describe(self) -> str:
        return f"xor: fitness 4 - sum(err^2), solved at >= {self.threshold:.4g}"


@dataclass(frozen=True)
class Spirals(Supervised):
    """Two spirals (Lang & Witbrock 1988): ``2 * points`` points on two interleaved spirals of ``turns`` turns,
    class 1 and class 0, inputs scaled to [-1, 1]. Fitness ``N - sum(err^2)``; solved when at least
    ``accuracy`` of the points fall on the right side of 0.5 (1.0: every point, the classic criterion)."""
    name: ClassVar[str] = "spirals"
    points: int = 97              # per spiral (the classic set: 97, i.e. 194 points)
    turns: float = 3.0            # the classic set: 3 turns (angle i * pi / 16, i < 97)
    accuracy: float = 1.0         # fraction of points a solution classifies correctly

    def __post_init__(self) -> None:
        if self.points < 2 or not 0 < self.accuracy <= 1:
            raise ValueError(f"Expected points >= 2 and 0 < accuracy <= 1 (got {self.points}, {self.accuracy}).")
        i = torch.arange(self.points, dtype=torch.float64)
        angle = i * (2 * math.pi * self.turns) / (self.points - 1)
        radius = (self.points + 7 - i) / (self.points + 7)          # 6.5 (104 - i) / 104, scaled by 6.5
        a = torch.stack([radius * torch.sin(angle), radius * torch.cos(angle)], 1)
        X = torch.cat([a, -a]).float()
        Y = torch.cat([torch.ones(self.points, 1), torch.zeros(self.points, 1)])
        object.__setattr__(self, "_X", X)
        object.__setattr__(self, "_Y", Y)

    n_inputs: ClassVar[int] = 2
    n_outputs: ClassVar[int] = 1

    def data(self) -> Tuple[Tensor, Tensor]:
        return self._X, self._Y

    @torch.no_grad()
    def evaluate(self, net: Network, generation: int = 0) -> Tuple[Tensor, Tensor]:
        fitness, out, Y = self._errors(net)
        correct = ((out > 0.5) == (Y > 0.5)).double().mean(dim=(1, 2))
        return fitness, correct >= self.accuracy - 1e-12

    def describe(self) -> str:
        n = 2 * self.points
        return f"spirals: fitness {n} - sum(err^2), solved at >= {self.accuracy:.0%} of {n} points classified"


@dataclass(frozen=True)
class PoleBalancing(Task):
    """Balance poles on a cart, the whole population in parallel: the state is a tensor ``[T, starts, 2 + 2 poles]``
    and each time step is one batched forward pass. A run fails when ``|x| > 2.4`` m or a pole leans past its
    limit. Fitness: the mean fraction of ``max_steps`` survived over ``starts`` fixed random starting states
    (drawn once from ``seed``); solved when every start survives all ``max_steps``.

    * ``poles=1``: Barto, Sutton & Anderson (1983), gym's CartPole physics: Euler steps of 0.02 s, output > 0.5
      pushes right with 10 N, else left; limit 12 degrees. Inputs: x / 2.4, x' / 3, angle / 0.21, angle' / 3.
    * ``poles=2``: double pole balancing with velocities, NEAT's benchmark (Wieland 1991; the ESP/NEAT
      code's constants: poles of 0.1 kg and 0.01 kg, half-lengths 0.5 m and 0.05 m): Runge-Kutta 4 steps of
      0.01 s, two per action, force ``(output - 0.5) * 20`` N; limit 36 degrees. Inputs: x / 4.8, x' / 2,
      angles / 0.52, angular velocities / 2. (The paper balances 100,000 steps from one start.)
    """
    name: ClassVar[str] = "pole"
    n_outputs: ClassVar[int] = 1
    poles: int = 1                # 1 or 2
    max_steps: int = 1000         # actions (0.02 s each)
    starts: int = 4               # starting states
    seed: int = 0

    def __post_init__(self) -> None:
        if self.poles not in (1, 2):
            raise ValueError(f"Expected poles to be 1 or 2 (got {self.poles!r}).")
        if self.max_steps < 1 or self.starts < 1:
            raise ValueError(f"Expected max_steps >= 1 and starts >= 1 (got {self.max_steps}, {self.starts}).")

    @property
    def n_inputs(self) -> int:
        return 2 + 2 * self.poles

    def initial_states(self) -> Tensor:
        """``[starts, 2 + 2 poles]`` float64: x, x', then angle and angular velocity of each pole."""
        gen = torch.Generator().manual_seed(self.seed)
        if self.poles == 1:
            spread = [1.0, 0.5, 0.1, 0.2]
        else:
            spread = [0.5, 0.2, 0.07, 0.1, 0.0, 0.0]
        scale = torch.tensor(spread, dtype=torch.float64)
        return (torch.rand(self.starts, len(scale), generator=gen, dtype=torch.float64) * 2 - 1) * scale

    @torch.no_grad()
    def evaluate(self, net: Network, generation: int = 0) -> Tuple[Tensor, Tensor]:
        T, dtype, device = net.num_graphs, net.bias.dtype, net.bias.device
        state = self.initial_states().to(device).expand(T, -1, -1).clone()   # [T, S, D] float64
        if self.poles == 1:
            gains, step, limits = [1 / 2.4, 1 / 3.0, 1 / 0.2094, 1 / 3.0], _cartpole_step, (2.4, 12 * math.pi / 180)
        else:
            gains, step, limits = [1 / 4.8, 0.5, 1 / 0.52, 0.5, 1 / 0.52, 0.5], _double_step, (2.4, 36 * math.pi / 180)
        # the simulation runs in float64 beside the net
        scale = torch.tensor(gains, dtype=torch.float64, device=device)
        alive = torch.ones(T, self.starts, dtype=torch.bool, device=device)
        steps = torch.zeros(T, self.starts, dtype=torch.float64, device=device)
        any_alive = _AnyAlive(device)
        for _ in range(self.max_steps):
            action = net((state * scale).to(dtype))[..., 0].double()           # [T, S]
            state = step(state, action)
            failed = state[..., 0].abs() > limits[0]
            for p in range(self.poles):
                failed |= state[..., 2 + 2 * p].abs() > limits[1]
            alive = alive & ~failed
            steps += alive
            if not any_alive.update(alive):
                break
        fitness = steps.mean(1) / self.max_steps
        return fitness, (steps == self.max_steps).all(1)

    def describe(self) -> str:
        what = "pole" if self.poles == 1 else "double pole"
        return (f"pole ({what}): fitness = mean fraction of {self.max_steps} steps balanced from {self.starts} "
                f"starts, solved when all starts last {self.max_steps} steps")


class _AnyAlive:
    """Whether any run is still alive, known without stalling the device. On a GPU, ``alive.any()`` is copied
    to pinned host memory behind the computation and read once the copy has landed (checked without waiting),
    so the loop may run a step or two past the last failure, which changes nothing: a failed run counts no
    more steps. On the CPU it is read at once."""

    def __init__(self, device: torch.device) -> None:
        self.cuda = device.type == "cuda"
        self.host = torch.ones((), dtype=torch.bool, pin_memory=self.cuda)
        self.value = self.host.numpy()            # a view of the host flag: reading it is no torch op
        self.event: Optional[torch.cuda.Event] = None   # marks the last copy (GPU only)
        if self.cuda:
            self.event = torch.cuda.Event()   # type: ignore[no-untyped-call]  # torch leaves Event untyped
        self.pending = False

    def update(self, alive: Tensor) -> bool:
        """Send ``alive.any()`` on its way; False once a flag that has arrived says that no run is alive."""
        if self.event is not None and self.pending:
            if not self.event.query():   # type: ignore[no-untyped-call]  # the last flag is still on its way
                return True
            if not self.value:
                return False
        self.host.copy_(alive.any(), non_blocking=self.cuda)
        if self.event is None:
            return bool(self.value)
        self.event.record()
        self.pending = True
        return True


def _cartpole_step(state: Tensor, action: Tensor) -> Tensor:
    """One Euler step (0.02 s) of gym's CartPole; ``action > 0.5`` pushes right with 10 N."""
    gravity, m_cart, m_pole, half, tau = 9.8, 1.0, 0.1, 0.5, 0.02
    total, pml = m_cart + m_pole, m_pole * half
    force = torch.where(action > 0.5, 10.0, -10.0)
    x, x_dot, th, th_dot = state.unbind(-1)
    cos, sin = torch.cos(th), torch.sin(th)
    temp = (force + pml * th_dot * th_dot * sin) / total
    th_acc = (gravity * sin - cos * temp) / (half * (4.0 / 3.0 - m_pole * cos * cos / total))
    x_acc = temp - pml * th_acc * cos / total
    return torch.stack([x + tau * x_dot, x_dot + tau * x_acc, th + tau * th_dot, th_dot + tau * th_acc], -1)


def _double_derivs(state: Tensor, force: Tensor) -> Tensor:
    """Time derivative of the double-pole state (Wieland 1991, as in the ESP/NEAT benchmark code)."""
    gravity, m_cart, mup = -9.8, 1.0, 0.000002
    masses, halves = (0.1, 0.01), (0.5, 0.05)
    x_dot = state[..., 1]
    fi: Union[float, Tensor] = 0.0
    mi: Union[float, Tensor] = 0.0
    parts: List[Tuple[Tensor, Tensor, Tensor, Tensor]] = []
    for p in range(2):
        th, th_dot = state[..., 2 + 2 * p], state[..., 3 + 2 * p]
        cos, g_sin = torch.cos(th), gravity * torch.sin(th)
        ml = masses[p] * halves[p]
        temp = mup * th_dot / ml
        fi = fi + ml * th_dot * th_dot * torch.sin(th) + 0.75 * masses[p] * cos * (temp + g_sin)
        mi = mi + masses[p] * (1 - 0.75 * cos * cos)
        parts.append((cos, g_sin, temp, th_dot))
    x_acc = (force + fi) / (mi + m_cart)
    out = [x_dot, x_acc]
    for p, (cos, g_sin, temp, th_dot) in enumerate(parts):
        out += [th_dot, -0.75 * (x_acc * cos + g_sin + temp) / halves[p]]
    return torch.stack(out, -1)


def _double_step(state: Tensor, action: Tensor) -> Tensor:
    """Two Runge-Kutta 4 steps of 0.01 s with force ``(action - 0.5) * 20`` N."""
    force, h = (action - 0.5) * 20.0, 0.01
    for _ in range(2):
        k1 = _double_derivs(state, force)
        k2 = _double_derivs(state + 0.5 * h * k1, force)
        k3 = _double_derivs(state + 0.5 * h * k2, force)
        k4 = _double_derivs(state + h * k3, force)
        state = state + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return state


#: Task names understood by :func:`make` and the ``scripts/search.py`` command line.
TASKS: Dict[str, Type[Task]] = {"xor": XOR, "parity": Parity, "spirals": Spirals, "pole": PoleBalancing}


def make(name: str, **params: Any) -> Task:
    """A task by name, e.g. ``make("parity", bits=3)``."""
    if name not in TASKS:
        raise ValueError(f'Invalid task "{name}". Must be one of {list(TASKS)}.')
    cls = TASKS[name]
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(params) - known)
    if unknown:
        raise ValueError(f"Task {name!r} has no settings {unknown}; its settings are {sorted(known)}.")
    return cls(**params)


def from_dict(data: Mapping[str, Any]) -> Task:
    """Inverse of ``task.to_dict()``."""
    data = dict(data)
    return make(data.pop("name"), **data)
