"""Double pole balancing without velocity inputs, the NEAT paper's memory benchmark, for recurrent genomes
(search stage, beside :mod:`mpnet.search.tasks`).

The setup is the paper's (Stanley & Miikkulainen 2002, after Gruau et al. 1996), with the constants of the
NEAT / ESP benchmark code: Wieland's (1991) cart with two poles (0.1 kg and 0.01 kg, half-lengths 0.5 m
and 0.05 m, hinge friction 2e-6, gravity 9.8, no cart friction), two Runge-Kutta 4 steps of 0.01 s per
action, force ``(output - 0.5) * 20`` N, failure past ``|x| = 2.4`` m or ``|angle| = 36`` degrees, the long
pole starting at 0.07 rad. The network sees only ``x / 4.8``, ``angle_1 / 0.52``, ``angle_2 / 0.52`` and a
constant 0.5: it must infer the velocities, so it needs recurrent connections.

* Fitness (Gruau's damping fitness): one run of at most 1,000 actions from the start state;
  ``0.1 t / 1000 + 0.9 * 0.75 / J`` where ``t`` is the number of steps balanced and ``J`` the sum of
  ``|x| + |x'| + |angle_1| + |angle_1'|`` over the last 100 of them (``0.1 t / 1000`` alone when ``t <= 100``):
  reward balancing without the swinging that a velocity-blind controller would use.
* Solution test, once per generation (the paper tests one champion per generation), on the best genome that
  balanced all 1,000 steps and was not tested before (NEAT's code skips species whose champion was tested
  and has not improved since; a champion kept by elitism is not tested again): it must balance 100,000
  steps from the start state, then keep both poles up for 1,000 steps from at least 200 of 625 starting
  states (x, x', angle_1, angle_1' each at 0.05, 0.25, 0.5, 0.75, 0.95 of +-2.16 m, +-1.35 m/s,
  +-3.6 deg, +-8.6 deg/s).

The whole population steps together: one :class:`~mpnet.engine.recurrent.Stepper` pass per action for every
genome, the physics batched over the genomes in float64 (numpy: a few hundred tiny elementwise operations per
action cost about half of what torch's do; the champion's long run uses Python floats).
"""
import math
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Dict, List, Sequence, Tuple, TypeVar, Union

import numpy as np
import torch
from torch import Tensor

from ..graph.topology import Topology
from ..model import Network
from .tasks import TASKS, Task

__all__ = ["DoublePoleNoVelocities", "double_pole_step", "START"]

_GRAVITY, _CART_MASS, _HINGE = -9.8, 1.0, 0.000002
_MASSES, _HALVES = (0.1, 0.01), (0.5, 0.05)
_TAU, _FORCE = 0.01, 10.0
_X_LIMIT, _ANGLE_LIMIT = 2.4, 0.628329          # 36 degrees, as the benchmark code writes it
#: The start state: x, x', angle_1, angle_1', angle_2, angle_2'.
START = (0.0, 0.0, 0.07, 0.0, 0.0, 0.0)
_GRID = (0.05, 0.25, 0.5, 0.75, 0.95)

#: one state variable, the force or an action: floats, numpy arrays or tensors (the physics is the same)
Value = TypeVar("Value", float, np.ndarray[Any, Any], Tensor)


def _derivs(s: Sequence[Value], force: Value, cos: Callable[[Value], Value], sin: Callable[[Value], Value]
            ) -> List[Value]:
    """Time derivative of the state (Wieland's equations; floats or tensors alike)."""
    fi: Union[float, Value] = 0.0
    mi: Union[float, Value] = 0.0
    parts: List[Tuple[Value, Value, Value, Value]] = []
    for p in range(2):
        th, th_dot = s[2 + 2 * p], s[3 + 2 * p]
        c, g_sin = cos(th), _GRAVITY * sin(th)
        ml = _MASSES[p] * _HALVES[p]
        temp = _HINGE * th_dot / ml
        fi = fi + ml * th_dot * th_dot * sin(th) + 0.75 * _MASSES[p] * c * (temp + g_sin)
        mi = mi + _MASSES[p] * (1 - 0.75 * c * c)
        parts.append((c, g_sin, temp, th_dot))
    x_acc = (force + fi) / (mi + _CART_MASS)
    out = [s[1], x_acc]
    for p, (c, g_sin, temp, th_dot) in enumerate(parts):
        out += [th_dot, -0.75 * (x_acc * c + g_sin + temp) / _HALVES[p]]
    return out


# numpy's ufuncs map a float, an array or a tensor to its own kind, which their stubs cannot say to a TypeVar
def double_pole_step(state: Sequence[Value], action: Value,
                     cos: Callable[[Value], Value] = np.cos,    # type: ignore[assignment]
                     sin: Callable[[Value], Value] = np.sin     # type: ignore[assignment]
                     ) -> List[Value]:
    """One action: two Runge-Kutta 4 steps of 0.01 s with force ``(action - 0.5) * 20`` N. ``state`` is the
    six variables: numpy arrays of any shape (``np.cos``, ``np.sin``), floats (``math.cos``, ``math.sin``)
    or tensors (``torch.cos``, ``torch.sin``)."""
    force = (action - 0.5) * _FORCE * 2
    h = _TAU
    s = list(state)
    for _ in range(2):
        k1 = _derivs(s, force, cos, sin)
        k2 = _derivs([v + 0.5 * h * d for v, d in zip(s, k1)], force, cos, sin)
        k3 = _derivs([v + 0.5 * h * d for v, d in zip(s, k2)], force, cos, sin)
        k4 = _derivs([v + h * d for v, d in zip(s, k3)], force, cos, sin)
        s = [v + h / 6.0 * (a + 2.0 * b + 2.0 * c + d) for v, a, b, c, d in zip(s, k1, k2, k3, k4)]
    return s


def _run(net: Network, starts: np.ndarray, steps: int) -> Tuple[Tensor, Tensor]:
    """Every topology of ``net`` from every start ``[B, 6]`` for up to ``steps`` actions: ``(balanced [T, B],
    jiggle [steps, T, B])``, the steps survived and each step's ``|x| + |x'| + |angle_1| + |angle_1'|``."""
    T, B = net.num_graphs, starts.shape[0]
    stepper = net.stepper(B)
    dtype = net.bias.dtype
    state = [np.repeat(starts[None, :, i], T, axis=0) for i in range(6)]            # each [T, B] float64
    obs = np.empty((T, 4, B))
    obs[:, 3] = 0.5
    alive = np.ones((T, B), dtype=bool)
    balanced = np.zeros((T, B), dtype=np.int64)
    jiggle = np.zeros((steps, T, B))
    for t in range(steps):
        obs[:, 0], obs[:, 1], obs[:, 2] = state[0] / 4.8, state[2] / 0.52, state[4] / 0.52
        x = torch.from_numpy(obs).to(dtype).view(T * 4, B)                           # input rows
        action = stepper.step(x).view(T, B).double().numpy()
        state = double_pole_step(state, action)
        np.add(np.add(np.abs(state[0]), np.abs(state[1])), np.add(np.abs(state[2]), np.abs(state[3])), out=jiggle[t])
        alive &= (np.abs(state[0]) <= _X_LIMIT) & (np.abs(state[2]) <= _ANGLE_LIMIT) & (np.abs(state[4]) <= _ANGLE_LIMIT)
        balanced += alive
        if not alive.any():
            break
    return torch.from_numpy(balanced), torch.from_numpy(jiggle)


def _damping_fitness(balanced: Tensor, jiggle: Tensor, steps: int) -> Tensor:
    """Gruau's fitness per run from the steps balanced ``t`` and the per-step jiggle ``[steps, ...]``."""
    cum = torch.cat([torch.zeros_like(jiggle[:1]), jiggle.cumsum(0)])                # [steps + 1, ...]
    last = balanced.clamp(min=100)
    window = cum.gather(0, last.unsqueeze(0)) - cum.gather(0, (last - 100).unsqueeze(0))
    f1 = 0.1 * balanced.double() / steps
    return torch.where(balanced > 100, f1 + 0.9 * 0.75 / window[0], f1)


@dataclass(frozen=True)
class DoublePoleNoVelocities(Task):
    """Double pole balancing without velocities (see the module docstring): fitness by Gruau's damping
    function over ``steps`` actions; each generation, its best genome not tested before is tested for
    ``long_steps`` actions and on the 625 starting states, solved when it balances from at least
    ``generalization`` of them."""
    name: ClassVar[str] = "pole-nv"
    n_inputs: ClassVar[int] = 4
    n_outputs: ClassVar[int] = 1
    steps: int = 1000             # actions per fitness run (paper: 1,000)
    long_steps: int = 100_000     # actions the champion must balance (paper: 100,000)
    generalization: int = 200     # of the 625 starting states (paper: 200)
    _tested: Dict[str, bool] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.steps <= 100 or self.long_steps < 1 or not 0 <= self.generalization <= 625:
            raise ValueError(f"Expected steps > 100, long_steps >= 1 and 0 <= generalization <= 625 (got "
                             f"{self.steps}, {self.long_steps}, {self.generalization}).")

    def to_dict(self) -> Dict[str, Any]:
        """The task's settings as plain data (a search's checkpoint and report record them)."""
        return {"name": self.name, "steps": self.steps, "long_steps": self.long_steps,
                "generalization": self.generalization}

    @torch.no_grad()
    def evaluate(self, net: Network, generation: int = 0) -> Tuple[Tensor, Tensor]:
        """Fitness by the damping function; the flags mark the candidates (balanced every fitness step), which
        :meth:`settle` tests."""
        if net.network_type != "recurrent":
            raise ValueError("pole-nv needs discrete-time recurrent networks: run NEAT with feed_forward=False.")
        with np.errstate(all="ignore"):   # carts that fell keep moving (ignored), overflowing
            balanced, jiggle = _run(net, np.array([START]), self.steps)
        fitness = _damping_fitness(balanced[:, 0], jiggle[:, :, 0], self.steps)
        return fitness, balanced[:, 0] >= self.steps

    def settle(self, topologies: Sequence[Topology], fitness: List[float], solved: List[bool]) -> List[bool]:
        """Of the generation's candidates (``solved`` from :meth:`evaluate`), the fittest not tested before is
        given the solution test; it alone can be solved. Runs on the driver, so the memory of tested genomes is
        one, whatever the chunks or workers (on a worker it would depend on which chunk went where)."""
        out = [False] * len(topologies)
        for i in sorted(range(len(topologies)), key=lambda j: -fitness[j]):
            if not solved[i]:
                break
            if repr(topologies[i].to_dict()) not in self._tested:
                out[i] = self.solves(topologies[i])
                break
        return out

    def solves(self, topology: Topology) -> bool:
        """The paper's solution test: ``long_steps`` actions from the start, then ``generalization`` of the
        625 starting states for 1,000 actions (each run from a reset network). Results are remembered per
        topology (a champion kept unchanged by elitism is not tested twice)."""
        key = repr(topology.to_dict())
        if key not in self._tested:
            net = Network(topology, dtype=torch.float64)
            self._tested[key] = (self.long_run(net) >= self.long_steps
                                 and self.generalization_score(net) >= self.generalization)
        return self._tested[key]

    def long_run(self, net: Network) -> int:
        """Actions balanced from the start state, up to ``long_steps`` (one network, scalar physics)."""
        stepper = net.stepper(1)
        state = list(START)
        x = torch.empty(4, 1, dtype=torch.float64)
        for t in range(self.long_steps):
            x[:, 0] = torch.tensor([state[0] / 4.8, state[2] / 0.52, state[4] / 0.52, 0.5], dtype=torch.float64)
            action = float(stepper.step(x))
            state = double_pole_step(state, action, math.cos, math.sin)
            if abs(state[0]) > _X_LIMIT or abs(state[2]) > _ANGLE_LIMIT or abs(state[4]) > _ANGLE_LIMIT:
                return t
        return self.long_steps

    def generalization_score(self, net: Network) -> int:
        """How many of the 625 starting states the network balances for 1,000 actions (999 counts, as in the
        benchmark code)."""
        grid = np.array(_GRID)
        axes = np.meshgrid(grid * 4.32 - 2.16, grid * 2.70 - 1.35, grid * 0.12566304 - 0.06283152,
                           grid * 0.30019504 - 0.15009752, indexing="ij")
        starts = np.stack([a.ravel() for a in axes] + [np.zeros(625), np.zeros(625)], 1)
        with np.errstate(all="ignore"):
            balanced, _ = _run(net, starts, 1000)
        return int((balanced[0] >= 999).sum())

    def describe(self) -> str:
        return (f"pole-nv (double pole, no velocities): Gruau's damping fitness over {self.steps} steps; solved "
                f"when the generation's best balances {self.long_steps} steps and {self.generalization} of 625 "
                f"starts")


TASKS.setdefault(DoublePoleNoVelocities.name, DoublePoleNoVelocities)
