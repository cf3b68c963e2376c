"""Recorded hidden neurons (model stage): the activations of chosen hidden neurons beside a network's outputs,
with gradient, for fitting recordings (:func:`mpnet.fit` and sign inference's ``observed=``).

The pass through a network gives its outputs only; a hidden neuron's activation becomes differentiable by making
it an output too. :func:`recording_twin` does that to a topology (the neuron keeps its activation and its outgoing
edges, so the function is unchanged), and :class:`RecordingPass` runs a network's own weights and biases through
its twin, so gradients reach the network's parameters; :class:`Recordings` holds what :func:`mpnet.fit` fits
them to and the loss of outputs and recordings together.
"""
from dataclasses import replace
from typing import List, Optional, Sequence, Tuple

import torch
from torch import Tensor

from ..graph.elements import NodeId
from ..graph.topology import Topology
from .network import Network

__all__ = ["recording_twin", "RecordingPass", "Recordings"]


def recording_twin(topology: Topology, neurons: Sequence[NodeId]) -> Topology:
    """``topology`` with the hidden ``neurons`` made outputs as well (activation, bias and edges kept): its
    outputs are the old ones and those neurons' activations, in the topology's node order."""
    chosen = set(neurons)
    nodes = [replace(n, role="output") if n.id in chosen else n for n in topology.nodes.values()]
    return Topology(nodes, list(topology.edges.values()), warn=False, recurrent=topology.network_type,
                    ties=list(topology.ties.values()))


def columns(topology: Topology, twin: Topology, neurons: Sequence[NodeId]) -> Tuple[List[int], List[int]]:
    """Where the twin's outputs hold ``topology``'s outputs and the recorded ``neurons``."""
    at = {n: i for i, n in enumerate(twin.outputs)}
    return [at[n] for n in topology.outputs], [at[n] for n in neurons]


class RecordingPass:
    """``net``'s outputs and the activations of its hidden ``neurons`` on ``x``, through the network's own
    parameters (the sign constraints and ties applied as in its forward pass).

    Args:
        net: a feed-forward :class:`~mpnet.Network` (one topology or a batch); each neuron must be hidden in
            every topology (the caller checks).
        neurons: the recorded neurons.

    Calling it with ``x`` (as the network takes it) gives ``(outputs [T, B, n_out], recorded [T, B, k])``
    (``T = 1`` for a single topology).
    """

    def __init__(self, net: Network, neurons: Sequence[NodeId]) -> None:
        self.net, self.neurons = net, list(neurons)
        topologies = net.topologies
        twins = [recording_twin(t, neurons) for t in topologies]
        self.twin = Network(twins if net.batched else twins[0], seed=0, dtype=net.bias.dtype,
                            device=net.bias.device)
        where = {key: i for i, key in enumerate(net.edge_keys)}
        device = net.bias.device
        self.edge_order = torch.tensor([where[key] for key in self.twin.edge_keys], dtype=torch.long, device=device)
        rows = {key: i for i, key in enumerate(net.rows)}
        n_in = net.plan.num_inputs
        self.bias_order = torch.tensor([rows[key] - n_in for key in self.twin.rows[n_in:]], dtype=torch.long,
                                       device=device)
        cols = [columns(t, w, neurons) for t, w in zip(topologies, twins)]
        self.out_cols = torch.tensor([c[0] for c in cols], dtype=torch.long, device=device)   # [T, n_out]
        self.rec_cols = torch.tensor([c[1] for c in cols], dtype=torch.long, device=device)   # [T, k]

    def __call__(self, x: Tensor) -> Tuple[Tensor, Tensor]:
        net = self.net
        weight = net._compute_weight()[self.edge_order]
        bias = net.bias[self.bias_order]
        pred: Tensor = self.twin(x, weight=weight, bias=bias)       # [B, C] or [T, B, C]
        pred = pred if self.twin.batched else pred.unsqueeze(0)
        T, B = pred.shape[0], pred.shape[1]
        out = pred.gather(2, self.out_cols[:, None, :].expand(T, B, -1))
        rec = pred.gather(2, self.rec_cols[:, None, :].expand(T, B, -1))
        return out, rec


class Recordings:
    """Recordings of ``net``'s hidden ``neurons`` as :func:`mpnet.fit` fits them (the arguments checked there).

    Args:
        net: the network (feed-forward).
        neurons: the recorded neurons, ``k``.
        values: ``[n, k]`` or ``[T, n, k]``, NaN where a sample was not recorded.
        weight: ``[k]`` the weight of each neuron's squared errors against the outputs' (their noise
            variance over the neuron's).
    """

    def __init__(self, net: Network, neurons: Sequence[NodeId], values: Tensor, weight: Sequence[float]) -> None:
        param = net.bias
        self.run = RecordingPass(net, neurons)
        self.mask = (~torch.isnan(values)).to(dtype=param.dtype, device=param.device)
        self.values = values.nan_to_num(0.0).to(dtype=param.dtype, device=param.device)
        self.weight = torch.tensor(list(weight), dtype=param.dtype, device=param.device)

    def loss(self, x: Tensor, y: Tensor, idx: Optional[Tensor] = None) -> Tensor:
        """``[T]``: per topology, the mean over every target value (``y [(T,) B, n_out]``) and every recorded
        value of the batch (rows ``idx`` of the recordings; None: all) of its weighed squared error."""
        out, h = self.run(x)                                            # [T, B, n_out], [T, B, k]
        r, m = (self.values, self.mask) if idx is None else (self.values[..., idx, :], self.mask[..., idx, :])
        total = (out - y).pow(2).flatten(-2).sum(-1) + ((h - r).pow(2) * m * self.weight).flatten(-2).sum(-1)
        return total / (y.shape[-2] * y.shape[-1] + m.flatten(-2).sum(-1))
