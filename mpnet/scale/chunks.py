"""One chunk of a population trained as one batched network, wherever it lands (train stage): the initial draws
of its own per topology, :func:`~mpnet.fit`, the final loss and the trained numbers as flat arrays.

Shared by :func:`~mpnet.scale.population.train_population` (in this process) and the Ray actor of
:mod:`mpnet.scale.population_ray`. Feed-forward, recurrent and ctrnn topologies, tied ones included.
"""
import math
import os
import random
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch import Tensor

from ..graph.ties import groups_of, own_parameter
from ..graph.topology import EdgeKey, NodeId, Topology
from ..model import Network
from ..train import LOSSES, fit

__all__ = ["init_weights", "trained_arrays", "train_chunk", "Chunk", "final_loss"]

LossFn = Callable[[Tensor, Tensor], Tensor]   # (pred, target) -> [T] or a scalar, as fit takes it
#: a tied topology's trained parameters: each edge's own parameter (None: it has none) in declaration order, and
#: each tie group's value
TiedValues = Tuple[List[Optional[float]], Dict[str, float]]


def init_weights(topologies: Sequence[Topology], seed: int = 0, start: int = 0) -> List[Topology]:
    """The topologies with every unset weight drawn as :class:`~mpnet.Network` draws it,
    ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` (a fixed sign keeps the magnitude), from a stream of its own:
    topology ``i`` of the list uses ``random.Random(f"{seed}/{start + i}")``, whatever else is around it.
    A tie group without a value (:mod:`mpnet.graph.ties`) is drawn after the edges, in declaration order, within
    the mean bound of the edges where it enters with a positive coefficient (of all its edges if none), as
    :class:`~mpnet.Network` bounds it; a tied edge without a parameter of its own takes no draw.

    Args:
        topologies: the population, or a chunk of it.
        seed: the population's seed.
        start: the index of ``topologies[0]`` in the population.

    Returns:
        The topologies, each with every weight set (one without unset weights is returned as is).
    """
    out = []
    for i, topo in enumerate(topologies):
        edges = topo.edges
        unset = [key for key, e in edges.items() if e.weight is None and own_parameter(e.tie)]
        groups = [name for name, tie in topo.ties.items() if tie.weight is None]
        if not unset and not groups:
            out.append(topo)
            continue
        fan_in: Dict[NodeId, int] = {}
        for _, dst in edges:
            fan_in[dst] = fan_in.get(dst, 0) + 1
        rng = random.Random(f"{seed}/{start + i}")
        drawn: Dict[EdgeKey, float] = {}
        for key in unset:
            drawn[key] = _signed((rng.random() * 2 - 1) / math.sqrt(fan_in[key[1]]), edges[key].sign)
        ties: Dict[str, float] = {}
        if groups:
            bounds = _group_bounds(topo, fan_in)
            for name in groups:
                ties[name] = _signed((rng.random() * 2 - 1) * bounds[name], topo.ties[name].sign)
        out.append(topo.with_weights(drawn, None, ties))
    return out


def _signed(w: float, sign: Optional[str]) -> float:
    return abs(w) if sign == "+" else -abs(w) if sign == "-" else w


def _group_bounds(topo: Topology, fan_in: Mapping[NodeId, int]) -> Dict[str, float]:
    """Each tie group's half-width: the mean ``1/sqrt(fan_in)`` of the edges where it enters with a positive
    coefficient, of all its edges if none (:func:`mpnet.engine.tiemap.group_bounds`)."""
    positive: Dict[str, List[float]] = {}
    every: Dict[str, List[float]] = {}
    for (_, dst), e in topo.edges.items():
        for group, coef in groups_of(e.tie):
            bound = 1 / math.sqrt(fan_in[dst])
            every.setdefault(group, []).append(bound)
            if coef > 0:
                positive.setdefault(group, []).append(bound)
    return {g: float(np.mean(positive.get(g) or every[g])) for g in every}


def trained_arrays(net: Network) -> Tuple[np.ndarray, np.ndarray]:
    """The weights ``[E]`` and biases ``[N]`` (0 for inputs) of ``net`` in declaration order, topology after
    topology, as float64 numpy arrays (one device read each). A tied edge's weight is the sum of its terms.

    Args:
        net: a (batched) network.

    Returns:
        ``(weights, biases)``: ``[E]`` and ``[N]``, float64.
    """
    num_inputs = net.plan.num_inputs
    weight = net.weight.detach().double().cpu()                 # [E] compiled order
    union_w = torch.empty_like(weight)
    union_w[net.data.edge_perm] = weight                        # declaration order, topology after topology
    bias = net.bias.detach().double().cpu()                     # [N - num_inputs] compiled rows
    union_b = torch.zeros(net.plan.num_nodes, dtype=torch.float64)
    union_b[net.data.node_perm[num_inputs:]] = bias
    return union_w.numpy(), union_b.numpy()


@dataclass
class Chunk:
    """One trained chunk, as flat arrays (what a worker sends back)."""
    weights: np.ndarray              # [E] float64, declaration order
    biases: np.ndarray               # [N] float64
    history: Tensor                  # [epochs, T]
    loss: Tensor                     # [T]
    outputs: Optional[Tensor]        # [T, n, n_out], or [T, n, steps, n_out] for sequences
    seconds: float
    worker: int = 0
    tied: Dict[int, TiedValues] = field(default_factory=dict)   # by population index: tied topologies only


def train_chunk(topologies: Sequence[Topology], X: Tensor, Y: Tensor, fit_kwargs: Dict[str, Any], *, seed: int,
                start: int, dtype: torch.dtype, device: Union[torch.device, str, None] = None,
                outputs: bool = False, network: Optional[Dict[str, Any]] = None) -> Chunk:
    """Train one chunk (topologies ``start ..`` of the population) as one batched network on ``device``
    (``network``: more :class:`~mpnet.Network` keywords, a ctrnn's ``advance_time`` and ``time_step``)."""
    t0 = time.perf_counter()
    net = Network(init_weights(topologies, seed, start), dtype=dtype, device=device, **(network or {}))
    history = fit(net, X, Y, **fit_kwargs)
    with torch.no_grad():
        final, pred = final_loss(net, X, Y, fit_kwargs.get("loss", "mse"))
    w, b = trained_arrays(net)
    tied: Dict[int, TiedValues] = {}
    for i, topo in enumerate(topologies):
        if topo.ties:        # its own parameters and groups, by position (a worker numbers the nodes anew)
            back = net.topology(i)
            tied[start + i] = ([e.weight if own_parameter(e.tie) else None for e in back.edges.values()],
                               {name: float(t.weight) for name, t in back.ties.items() if t.weight is not None})
    return Chunk(w, b, history.reshape(history.shape[0], -1), final.reshape(-1), pred.cpu() if outputs else None,
                 time.perf_counter() - t0, os.getpid(), tied)


def final_loss(net: Network, X: Tensor, Y: Tensor, loss: Union[str, LossFn]) -> Tuple[Tensor, Tensor]:
    """Each topology's loss ``[T]`` (float64, on the host) on all of ``(X, Y)``, with the targets shaped as
    :func:`~mpnet.fit` shapes them, and the outputs: ``[T, n, n_out]``, or for sequences (``X [n, steps,
    n_in]``) every step's, ``[T, n, steps, n_out]``, whether the targets are per step or the last step's."""
    loss_fn = LOSSES[loss] if isinstance(loss, str) else loss
    ce = loss_fn is LOSSES["cross_entropy"]
    x = X.to(dtype=net.bias.dtype, device=net.bias.device)
    y = Y.to(device=net.bias.device)
    if not ce or y.is_floating_point():
        y = y.to(net.bias.dtype)
    T, n_out = net.num_graphs, net.plan.n_out
    if not net.recurrent:
        if not ce and y.dim() == x.dim() - 1 and n_out == 1:
            y = y.unsqueeze(-1)
        pred = net(x)                                          # [T, n, n_out] (a list of topologies: batched)
        per = loss_fn(pred if net.batched else pred.unsqueeze(0), y)
        return per.expand(T).double().cpu(), pred if net.batched else pred.unsqueeze(0)
    lead = x.dim() - 3                                         # 1: one data set per topology
    if not ce and n_out == 1 and y.dim() == lead + 1:
        y = y.unsqueeze(-1)                                    # [n] -> [n, 1]: one output, last step
    out = net(x.transpose(-3, -2))                             # [(T,) steps, n, n_out]
    out = (out if net.batched else out.unsqueeze(0)).transpose(1, 2)      # [T, n, steps, n_out]
    if y.dim() == lead + (2 if ce else 3):                     # a target per step, as fit flattens it
        per = loss_fn(out.reshape(T, -1, n_out), y.reshape(y.shape[:lead] + (-1,) + y.shape[lead + 2:]))
    else:                                                      # the last step's
        per = loss_fn(out[:, :, -1], y)
    return per.expand(T).double().cpu(), out
