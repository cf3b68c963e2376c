"""Torch code for the named activations and aggregations of :mod:`mpnet.topology` (used by propagate).

Each activation comes with its derivative written in closed form, ``grad(z, h)`` with ``h = f(z)``, so the
fused backward of :mod:`mpnet.propagate` needs no autograd graph. Each aggregation reduces the messages
``[E, B]`` of a group of neurons into ``[num_targets, B]``; a neuron without incoming edges aggregates to 0.
"""
import math
from typing import Callable, Dict, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

from .topology import ACTIVATIONS, AGGREGATIONS

__all__ = ["Activation", "ACTIVATION_FNS", "AGGREGATION_FNS", "FUSED_AGGREGATIONS", "activation",
           "aggregation"]

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

assert tuple(ACTIVATION_FNS) == ACTIVATIONS and tuple(AGGREGATION_FNS) == AGGREGATIONS


def activation(name: str) -> Activation:
    return ACTIVATION_FNS[name]


def aggregation(name: str) -> Callable[[Tensor, Tensor, int], Tensor]:
    return AGGREGATION_FNS[name]
