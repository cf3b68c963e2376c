"""Torch code for the named activations and aggregations of :mod:`mpnet.graph.topology` (used by propagate).

Each activation comes with its derivative written in closed form, ``grad(z, h)`` with ``h = f(z)``, so the
fused backward of :mod:`mpnet.engine.propagate` needs no autograd graph. Each aggregation reduces the messages
``[E, B]`` of a group of neurons into ``[num_targets, B]``; a neuron without incoming edges aggregates to 0.

The ``neat.*`` activations are neat-python's (``neat/activations.py``) formula for formula, argument clamps
included; where a clamp holds, their derivative is 0 (as autograd's). They are written so that no branch
of a ``torch.where`` overflows, which keeps autograd (the plain path) free of ``0 * inf``.
"""
import math
from functools import partial
from typing import Callable, Dict, NamedTuple, Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from ..graph.vocabulary import ACTIVATIONS, AGGREGATIONS

__all__ = ["Activation", "ACTIVATION_FNS", "NEAT_ACTIVATION_FNS", "AGGREGATION_FNS", "FUSED_AGGREGATIONS",
           "ACTIVATE_INPLACE", "GRAD_FROM_H", "activation", "aggregation", "backward_inplace"]

_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772, 1.0507009873554805
_LEAKY = 0.01
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


class Activation(NamedTuple):
    fn: Callable[[Tensor], Tensor]             # h = fn(z)
    grad: Callable[[Tensor, Tensor], Tensor]   # dh/dz from (z, h)


def _ones(z: Tensor, h: Tensor) -> Tensor:
    return torch.ones_like(z)


def _gelu_grad(z: Tensor, h: Tensor) -> Tensor:
    cdf = 0.5 * (1.0 + torch.erf(z * (1.0 / math.sqrt(2.0))))
    return cdf + z * torch.exp(-0.5 * z * z) * _INV_SQRT_2PI


ACTIVATION_FNS: Dict[str, Activation] = {
    "identity": Activation(lambda z: z, _ones),
    "relu": Activation(torch.relu, lambda z, h: (z > 0).to(z.dtype)),
    "leaky_relu": Activation(lambda z: F.leaky_relu(z, _LEAKY),
                             lambda z, h: torch.where(z > 0, 1.0, _LEAKY).to(z.dtype)),
    "elu": Activation(F.elu, lambda z, h: torch.where(z > 0, torch.ones_like(h), h + 1.0)),
    "selu": Activation(torch.selu, lambda z, h: torch.where(z > 0, torch.full_like(h, _SELU_SCALE),
                                                              h + _SELU_SCALE * _SELU_ALPHA)),
    "gelu": Activation(F.gelu, _gelu_grad),
    "tanh": Activation(torch.tanh, lambda z, h: 1.0 - h * h),
    "sigmoid": Activation(torch.sigmoid, lambda z, h: h * (1.0 - h)),
    "softplus": Activation(F.softplus, lambda z, h: torch.sigmoid(z)),
    "sin": Activation(torch.sin, lambda z, h: torch.cos(z)),
    "gauss": Activation(lambda z: torch.exp(-z * z), lambda z, h: -2.0 * z * h),
    "abs": Activation(torch.abs, lambda z, h: torch.sign(z)),
    "square": Activation(torch.square, lambda z, h: 2.0 * z),
    "clamped": Activation(lambda z: z.clamp(-1.0, 1.0), lambda z, h: ((z > -1) & (z < 1)).to(z.dtype)),
}

# --------------------------------------------------------------------- neat-python's activations
_NEAT_SELU_SCALE = 1.0507009873554804934193349852946
_NEAT_SELU_SCALED_ALPHA = _NEAT_SELU_SCALE * 1.6732632423543772848170429916717   # neat's lam * alpha
_NEAT_LEAKY = 0.005
_NEAT_LOG_FLOOR = 1e-7


def _within(z: Tensor, bound: float) -> Tensor:
    """Where ``clamp(z, -bound, bound)`` passes its gradient (bounds included, as autograd's clamp)."""
    return (z >= -bound) & (z <= bound)


def _masked(mask: Tensor, value: Tensor) -> Tensor:
    return torch.where(mask, value, torch.zeros_like(value))


def _neat_inv(z: Tensor) -> Tensor:
    zero = z == 0   # neat: 1 / 0 raises ZeroDivisionError, caught, and returns 0
    return torch.where(zero, torch.zeros_like(z), 1.0 / torch.where(zero, torch.ones_like(z), z))


def _neat_exp_neg(z: Tensor) -> Tensor:
    """``exp(z) - 1`` for ``z <= 0`` (the negative branch of neat's elu and selu), finite everywhere."""
    return torch.exp(z.clamp(max=0.0)) - 1.0


NEAT_ACTIVATION_FNS: Dict[str, Activation] = {
    "neat.sigmoid": Activation(lambda z: torch.sigmoid((5.0 * z).clamp(-60.0, 60.0)),
                               lambda z, h: _masked(_within(5.0 * z, 60.0), 5.0 * h * (1.0 - h))),
    "neat.tanh": Activation(lambda z: torch.tanh((2.5 * z).clamp(-60.0, 60.0)),
                            lambda z, h: _masked(_within(2.5 * z, 60.0), 2.5 * (1.0 - h * h))),
    "neat.sin": Activation(lambda z: torch.sin((5.0 * z).clamp(-60.0, 60.0)),
                           lambda z, h: _masked(_within(5.0 * z, 60.0), 5.0 * torch.cos(5.0 * z))),
    "neat.gauss": Activation(lambda z: torch.exp(-5.0 * z.clamp(-3.4, 3.4) ** 2),
                             lambda z, h: _masked(_within(z, 3.4), -10.0 * z * h)),
    "neat.relu": Activation(lambda z: torch.where(z > 0, z, torch.zeros_like(z)),
                            lambda z, h: (z > 0).to(z.dtype)),
    "neat.elu": Activation(lambda z: torch.where(z > 0, z, _neat_exp_neg(z)),
                           lambda z, h: torch.where(z > 0, torch.ones_like(h), h + 1.0)),
    "neat.lelu": Activation(lambda z: torch.where(z > 0, z, _NEAT_LEAKY * z),
                            lambda z, h: torch.where(z > 0, 1.0, _NEAT_LEAKY).to(z.dtype)),
    "neat.selu": Activation(lambda z: torch.where(z > 0, _NEAT_SELU_SCALE * z,
                                                  _NEAT_SELU_SCALED_ALPHA * _neat_exp_neg(z)),
                            lambda z, h: torch.where(z > 0, torch.full_like(h, _NEAT_SELU_SCALE),
                                                     h + _NEAT_SELU_SCALED_ALPHA)),
    "neat.softplus": Activation(lambda z: 0.2 * torch.log(1.0 + torch.exp((5.0 * z).clamp(-60.0, 60.0))),
                                lambda z, h: _masked(_within(5.0 * z, 60.0), torch.sigmoid(5.0 * z))),
    "neat.identity": Activation(lambda z: z, _ones),
    "neat.clamped": Activation(lambda z: z.clamp(-1.0, 1.0), lambda z, h: _within(z, 1.0).to(z.dtype)),
    "neat.inv": Activation(_neat_inv, lambda z, h: -h * h),
    "neat.log": Activation(lambda z: torch.log(z.clamp(min=_NEAT_LOG_FLOOR)),
                           lambda z, h: _masked(z >= _NEAT_LOG_FLOOR, 1.0 / z.clamp(min=_NEAT_LOG_FLOOR))),
    "neat.exp": Activation(lambda z: torch.exp(z.clamp(-60.0, 60.0)), lambda z, h: _masked(_within(z, 60.0), h)),
    "neat.abs": Activation(torch.abs, lambda z, h: torch.sign(z)),
    "neat.hat": Activation(lambda z: (1.0 - z.abs()).clamp(min=0.0),
                           lambda z, h: _masked(z.abs() <= 1.0, -torch.sign(z))),
    "neat.square": Activation(lambda z: z * z, lambda z, h: 2.0 * z),
    "neat.cube": Activation(lambda z: z * z * z, lambda z, h: 3.0 * z * z),
}
ACTIVATION_FNS.update(NEAT_ACTIVATION_FNS)


def _scatter(messages: Tensor, index: Tensor, num: int, reduce: str) -> Tensor:
    out = messages.new_zeros((num,) + messages.shape[1:])
    idx = index.view(-1, *([1] * (messages.dim() - 1))).expand_as(messages)
    return out.scatter_reduce(0, idx, messages, reduce=reduce, include_self=False)


def _sum(m: Tensor, index: Tensor, num: int) -> Tensor:
    return m.new_zeros((num,) + m.shape[1:]).index_add(0, index, m)


def _mean(m: Tensor, index: Tensor, num: int) -> Tensor:
    count = torch.bincount(index, minlength=num).clamp(min=1).to(m.dtype)
    return _sum(m, index, num) / count.view(-1, *([1] * (m.dim() - 1)))


def _maxabs(m: Tensor, index: Tensor, num: int) -> Tensor:
    hi, lo = _scatter(m, index, num, "amax"), _scatter(m, index, num, "amin")
    return torch.where(hi >= -lo, hi, lo)


def _median(m: Tensor, index: Tensor, num: int) -> Tensor:
    """Exact median (mean of the two middle messages for an even count), by padding each neuron's
    messages to the group's largest in-degree; used only for neurons that ask for it."""
    out = m.new_zeros((num,) + m.shape[1:])
    if m.shape[0] == 0:
        return out
    count = torch.bincount(index, minlength=num)
    order = torch.argsort(index, stable=True)
    m, index = m[order], index[order]
    start = torch.cumsum(count, 0) - count
    slot = torch.arange(m.shape[0], device=m.device) - start[index]
    pad = m.new_full((num, int(count.max())) + m.shape[1:], float("inf"))
    pad = pad.index_put((index, slot), m)
    ranked = pad.sort(dim=1).values
    has = count > 0
    lo_idx = ((count - 1).clamp(min=0) // 2)
    hi_idx = (count // 2).clamp(max=ranked.shape[1] - 1)
    shape = (num, 1) + m.shape[1:]
    lo = ranked.gather(1, lo_idx.view(-1, *([1] * (m.dim()))).expand(shape)).squeeze(1)
    hi = ranked.gather(1, hi_idx.view(-1, *([1] * (m.dim()))).expand(shape)).squeeze(1)
    return torch.where(has.view(-1, *([1] * (m.dim() - 1))), 0.5 * (lo + hi), out)


AGGREGATION_FNS: Dict[str, Callable[[Tensor, Tensor, int], Tensor]] = {
    "sum": _sum,
    "mean": _mean,
    "max": lambda m, index, num: _scatter(m, index, num, "amax"),
    "min": lambda m, index, num: _scatter(m, index, num, "amin"),
    "product": lambda m, index, num: _scatter(m, index, num, "prod"),
    "maxabs": _maxabs,
    "median": _median,
}

#: Aggregations that are a weighted sum (mean = sum with weights / in-degree): these take the fused
#: sparse-product path; the others go through :data:`AGGREGATION_FNS` with a local autograd graph.
FUSED_AGGREGATIONS = ("sum", "mean")

# In-place forms of the commonest activations and their backward, used by the fused path to avoid a
# temporary per level: ``ACTIVATE_INTO[name](z, out)`` and ``BACKWARD_INTO[name](g, z, h, out)``.
# neat.tanh's clamp of 2.5 z to [-60, 60] changes nothing: tanh is exactly +-1 in float32 and float64 well before
# (so is its derivative 2.5 (1 - h^2) = 0); the in-place forms skip it.
ACTIVATE_INTO: Dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "identity": lambda z, out: out.copy_(z),
    "relu": lambda z, out: torch.clamp_min(z, 0.0, out=out),
    "tanh": lambda z, out: torch.tanh(z, out=out),
    "sigmoid": lambda z, out: torch.sigmoid(z, out=out),
    "neat.tanh": lambda z, out: torch.mul(z, 2.5, out=out).tanh_(),
    "neat.sigmoid": lambda z, out: torch.mul(z, 5.0, out=out).clamp_(-60.0, 60.0).sigmoid_(),
}
BACKWARD_INTO: Dict[str, Callable[[Tensor, Tensor, Tensor, Tensor], Tensor]] = {
    "identity": lambda g, z, h, out: out.copy_(g),
    "relu": lambda g, z, h, out: torch.ops.aten.threshold_backward.grad_input(g, h, 0.0, grad_input=out),
    "tanh": lambda g, z, h, out: torch.addcmul(g, g, h * h, value=-1.0, out=out),
    # g h (1 - h) = gh - gh h; alias-safe (the fused feed-forward backward passes out=g)
    "sigmoid": lambda g, z, h, out: torch.addcmul(gh := g * h, gh, h, value=-1.0, out=out),
    "neat.tanh": lambda g, z, h, out: torch.addcmul(g, g, h * h, value=-1.0, out=out).mul_(2.5),
}


#: Activations the fused path applies in place on the state (no pre-activation kept), because their
#: derivative needs only ``h = f(z)``: name -> the in-place tensor method (``None``: identity, nothing to do).
ACTIVATE_INPLACE: Dict[str, Optional[str]] = {"identity": None, "relu": "relu_", "tanh": "tanh_", "sigmoid": "sigmoid_"}


def _tanh_grad_into(h: Tensor, out: Tensor) -> None:
    out.fill_(1.0).addcmul_(h, h, value=-1.0)          # 1 - h^2


def _sigmoid_grad_into(h: Tensor, out: Tensor) -> None:
    torch.mul(h, h, out=out)
    torch.sub(h, out, out=out)                          # h - h^2


#: ``GRAD_FROM_H[name](h, out)`` writes ``f'(z)`` into ``out`` knowing only ``h = f(z)`` (the activations
#: of :data:`ACTIVATE_INPLACE` but the identity): one pass over a whole state, after which each level's
#: backward multiplies by its rows.
GRAD_FROM_H: Dict[str, Callable[[Tensor, Tensor], object]] = {
    "relu": lambda h, out: torch.gt(h, 0.0, out=out),
    "tanh": _tanh_grad_into,
    "sigmoid": _sigmoid_grad_into,
}
_GRAD_FROM_H_OPS = {"relu": (torch.ops.aten.threshold_backward.grad_input, (0.0,)),
                    "tanh": (torch.ops.aten.tanh_backward.grad_input, ()),
                    "sigmoid": (torch.ops.aten.sigmoid_backward.grad_input, ())}


def backward_inplace(name: str, g: Tensor, h: Tensor) -> Callable[[], Tensor]:
    """For an activation of :data:`GRAD_FROM_H`: a callable that multiplies ``g`` in place by ``f'(z)``,
    computed from ``h = f(z)`` in one fused kernel (for big levels, where a call's overhead does not count)."""
    op, args = _GRAD_FROM_H_OPS[name]
    return partial(op, g, h, *args, grad_input=g)


def activate_into(name: str, z: Tensor, out: Tensor) -> None:
    fast = ACTIVATE_INTO.get(name)
    if fast is not None:
        fast(z, out)
    else:
        out.copy_(ACTIVATION_FNS[name].fn(z))


def backward_into(name: str, g: Tensor, z: Tensor, h: Tensor, out: Tensor) -> None:
    fast = BACKWARD_INTO.get(name)
    if fast is not None:
        fast(g, z, h, out)
    else:
        torch.mul(g, ACTIVATION_FNS[name].grad(z, h), out=out)

assert tuple(ACTIVATION_FNS) == ACTIVATIONS and tuple(AGGREGATION_FNS) == AGGREGATIONS


def activation(name: str) -> Activation:
    return ACTIVATION_FNS[name]


def aggregation(name: str) -> Callable[[Tensor, Tensor, int], Tensor]:
    return AGGREGATION_FNS[name]
