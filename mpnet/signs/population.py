"""Many copies of one topology as one batched Network, seen as a parameter matrix ``theta [M, P]``.

Sign inference fits the same wiring many times — random starts, moves, refits with one edge's sign forced —
and each fit is a row of ``theta``: the ``E`` edge weights in the topology's edge order, then the biases of
the ``V`` non-input neurons in the topology's node order. All rows are evaluated in one forward pass of a
batched :class:`~mpnet.Network` (a functional call with the weights scattered into its compiled order), so a
row is a member of an ensemble, not a Python object.

With recorded hidden neurons (``observed``), the batched network is the wiring's recording twin
(:func:`~mpnet.model.recorded.recording_twin`: those neurons are outputs too), and the loss is the weighed mean
squared error over every target and every recorded value (:meth:`Population.loss`).

Constraints are bounds per entry (``lower``/``upper``, ``[M, P]``): a fixed ``+`` edge is ``[0, inf)``, a
frozen edge has ``lower == upper ==`` its value. The optimizers (:mod:`mpnet.signs.lbfgs`) project onto them.
"""
import math
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor
from torch.types import Device

from ..model import Network
from ..model.recorded import columns, recording_twin
from ..graph.elements import EdgeKey, NodeId
from ..graph.topology import Topology

__all__ = ["Population", "mse", "weighed_mse"]

INF = float("inf")


def mse(pred: Tensor, Y: Tensor) -> Tensor:
    """``pred [M, n, n_out]``, ``Y [n, n_out]`` -> mean squared error per member ``[M]``."""
    return (pred - Y).pow(2).mean((1, 2))


def weighed_mse(pred: Tensor, Y: Tensor, weight: Tensor) -> Tensor:
    """``pred [M, n, C]``, ``Y [n, C]`` (NaN: not observed), ``weight [C]`` -> per member ``[M]``, the mean over
    the observed entries of ``Y`` of the weighed squared error."""
    seen = ~torch.isnan(Y)
    err = (pred - Y.nan_to_num(0.0)).pow(2) * (seen * weight)
    return err.sum((1, 2)) / seen.sum()


class Population:
    """``size`` copies of ``topology`` evaluated together.

    Args:
        topology: the wiring; its fixed signs and frozen edges become bounds.
        size: number of members ``M``.
        dtype, device: of the batched network (float64 by default: loss ratios near the noise floor need it).
        observed: recorded hidden neurons: :meth:`predict` gives their activations after the outputs.
    """

    def __init__(self, topology: Topology, size: int, *, dtype: torch.dtype = torch.float64,
                 device: Device = None, observed: Sequence[NodeId] = ()) -> None:
        self.topology, self.size, self.dtype = topology, size, dtype
        self.observed: List[NodeId] = list(observed)
        twin = recording_twin(topology, self.observed) if self.observed else topology
        self.net = Network([twin] * size, dtype=dtype, device=device, seed=0)
        self.keys: List[EdgeKey] = list(topology.edges)
        self.node_ids: List[NodeId] = [n for n, node in topology.nodes.items() if node.role != "input"]
        self.E, self.V = len(self.keys), len(self.node_ids)
        self.col: Dict[NodeId, int] = {n: self.E + i for i, n in enumerate(self.node_ids)}   # bias columns
        self.edge_col: Dict[EdgeKey, int] = {k: i for i, k in enumerate(self.keys)}
        pos = {key: i for i, key in enumerate(self.net.edge_keys)}
        rows = {key: i for i, key in enumerate(self.net.rows)}
        device = self.net.bias.device
        self._widx = torch.tensor([pos[(t,) + k] for t in range(size) for k in self.keys], dtype=torch.long,
                                  device=device)
        #: state row of every (member, non-input neuron): ``[M, V]``, for :meth:`states`
        self.rows = torch.tensor([[rows[(t, n)] for n in self.node_ids] for t in range(size)], dtype=torch.long,
                                 device=device)
        self._bidx = (self.rows - self.net.plan.num_inputs).view(-1)
        self.input_rows = torch.tensor([[rows[(t, n)] for n in topology.inputs] for t in range(size)],
                                       dtype=torch.long, device=device)
        lo, hi = [], []
        for k in self.keys:
            e = topology.edges[k]
            bounds = ((e.weight, e.weight) if not e.trainable else (0.0, INF) if e.sign == "+" else
                      (-INF, 0.0) if e.sign == "-" else (-INF, INF))
            lo.append(bounds[0])
            hi.append(bounds[1])
        lo += [-INF] * self.V
        hi += [INF] * self.V
        self.lower = torch.tensor(lo, dtype=dtype, device=device)   # [P]: the topology's own constraints
        self.upper = torch.tensor(hi, dtype=dtype, device=device)
        outs, recs = columns(topology, twin, self.observed)
        self._cols = torch.tensor(outs + recs, dtype=torch.long, device=device)   # twin's outputs -> predict's

    @property
    def P(self) -> int:
        return self.E + self.V

    def bounds(self, rows: Optional[int] = None) -> Tuple[Tensor, Tensor]:
        """The topology's bounds expanded to ``[rows, P]`` (fresh tensors, free to edit)."""
        m = self.size if rows is None else rows
        return self.lower.expand(m, -1).clone(), self.upper.expand(m, -1).clone()

    def theta_of(self, topology: Topology) -> Tensor:
        """A topology's declared weights and biases as one row ``[P]`` (unset weights are NaN)."""
        w = [math.nan if topology.edges[k].weight is None else topology.edges[k].weight for k in self.keys]
        b = [topology.nodes[n].bias for n in self.node_ids]
        return torch.tensor(w + b, dtype=self.dtype, device=self.lower.device)

    def _split(self, theta: Tensor) -> Tuple[Tensor, Tensor]:
        w = theta.new_zeros(self.net.weight.shape[0]).index_put((self._widx,), theta[:, :self.E].reshape(-1))
        b = theta.new_zeros(self.net.bias.shape[0]).index_put((self._bidx,), theta[:, self.E:].reshape(-1))
        return w, b

    def predict(self, theta: Tensor, X: Tensor) -> Tensor:
        """``theta [M, P]``, ``X [n, n_in]`` -> ``[M, n, n_out + k]``: the outputs, then the activations of the
        ``k`` recorded neurons."""
        w, b = self._split(theta)
        out: Tensor = self.net(X, weight=w, bias=b)   # nn.Module.__call__ is typed Any
        return out[:, :, self._cols] if self.observed else out

    def forward(self, theta: Tensor, X: Tensor) -> Tensor:
        """``theta [M, P]``, ``X [n, n_in]`` -> outputs ``[M, n, n_out]``."""
        out = self.predict(theta, X)
        return out[:, :, :out.shape[2] - len(self.observed)] if self.observed else out

    def _loss(self, theta: Tensor, X: Tensor, Y: Tensor, weight: Optional[Tensor], scale: Optional[Tensor]) -> Tensor:
        if weight is None:
            return mse(self.forward(theta, X), Y)
        pred = self.predict(theta, X)
        return weighed_mse(pred if scale is None else pred / scale, Y, weight)

    def loss(self, theta: Tensor, X: Tensor, Y: Tensor, weight: Optional[Tensor] = None,
             scale: Optional[Tensor] = None) -> Tensor:
        """Mean squared error of every member ``[M]`` (no gradient). With ``weight [n_out + k]``, ``Y`` holds
        the targets and then the recordings (NaN: not recorded), and the loss is :func:`weighed_mse` of
        :meth:`predict` (divided by ``scale [n_out + k]`` if given)."""
        with torch.no_grad():
            return self._loss(theta, X, Y, weight, scale)

    def loss_and_grad(self, theta: Tensor, X: Tensor, Y: Tensor, weight: Optional[Tensor] = None,
                      scale: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        """``(loss [M], d loss / d theta [M, P])`` (the loss as :meth:`loss`): members share no parameter, so one
        backward pass of the summed loss gives every member its own gradient."""
        with torch.enable_grad():
            theta = theta.detach().requires_grad_()
            loss = self._loss(theta, X, Y, weight, scale)
            grad, = torch.autograd.grad(loss.sum(), theta)
        return loss.detach(), grad

    def states(self, theta: Tensor, X: Tensor) -> Tuple[Tensor, Tensor]:
        """Pre-activations and activations of every neuron on ``X``: ``(Z, H)``, each ``[rows, n]``;
        ``Z[rows[m, j]]`` is neuron ``node_ids[j]`` of member ``m``."""
        w, b = self._split(theta.detach())
        return self.net.states(X, weight=w, bias=b)
