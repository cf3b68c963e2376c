"""Many copies of one topology as one batched Network, seen as a parameter matrix ``theta [M, P]``.

Sign inference fits the same wiring many times — random starts, moves, refits with one edge's sign forced —
and each fit is a row of ``theta``: the ``E`` edge weights in the topology's edge order, then the biases of
the ``V`` non-input neurons in the topology's node order. All rows are evaluated in one forward pass of a
batched :class:`~mpnet.Network` (a functional call with the weights scattered into its compiled order), so a
row is a member of an ensemble, not a Python object.

With recorded hidden neurons (``observed``), the batched network is the wiring's recording twin
(:func:`~mpnet.model.recorded.recording_twin`: those neurons are outputs too), and the loss is the weighed mean
squared error over every target and every recorded value (:meth:`Population.loss`).

A recurrent wiring (discrete-time or ctrnn, :class:`~mpnet.signs.inputs.Sequences`) runs the same way: a row of
the data is one input sequence flattened (``[n, steps * n_in]``), the batched network steps every member over it
with the weights of ``theta`` through its recurrent layer, and the prediction is flattened as the targets are
(every step's outputs, step-major, or the last step's). :meth:`Population.states` then gives every neuron's
values at every (integration) step of every sequence, as ``[rows, n * steps]``: the moves of the search read a
neuron's range over all of them.

Constraints are bounds per entry (``lower``/``upper``, ``[M, P]``): a fixed ``+`` edge is ``[0, inf)``, a
frozen edge has ``lower == upper ==`` its value. The optimizers (:mod:`mpnet.signs.lbfgs`) project onto them.
"""
import math
from dataclasses import replace
from typing import Dict, List, NamedTuple, Optional, Sequence, Set, Tuple

import torch
from torch import Tensor
from torch.types import Device

from ..engine.recurrent import recurrent_states
from ..engine.steps import Schedule, initial_slots
from ..model import Network
from ..model import sequence
from ..model.recorded import columns, recording_twin
from ..graph.elements import EdgeKey, NodeId
from ..graph.ties import groups_of, own_parameter
from ..graph.topology import Topology
from ..errors import ArgumentError
from .inputs import Sequences
from .report import EdgeSign

__all__ = ["Population", "mse", "weighed_mse", "distinct"]

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


class _Parameters(NamedTuple):
    keys: List[EdgeKey]                       # one per weight column
    groups: Dict[EdgeKey, str]                # the tied columns' keys -> their group
    edge_col: Dict[EdgeKey, int]              # every edge -> its own column, its group's if it reports one, else
                                              # its first group's
    terms: List[List[Tuple[int, float]]]      # per edge (topology order): (column, coefficient)
    lower: List[float]
    upper: List[float]


def _bounds(sign: Optional[str], trainable: bool, weight: Optional[float]) -> Tuple[float, float]:
    if not trainable:
        assert weight is not None          # Topology refuses a frozen edge or tie without a value
        return weight, weight
    return (0.0, INF) if sign == "+" else (-INF, 0.0) if sign == "-" else (-INF, INF)


def _report_edges(topology: Topology, edge_col: Dict[EdgeKey, int]) -> Dict[str, EdgeKey]:
    """Each tie group's report edge: one carrying the group and no parameter of its own, no two groups the same.
    A group takes its first such edge still unclaimed; when every one is claimed, the claims are moved along an
    augmenting path (a bipartite matching), so a chemical synapse on a gap junction's edge does not leave its
    class group without a row."""
    candidates: Dict[str, List[EdgeKey]] = {}
    for k, e in topology.edges.items():
        for g, _ in groups_of(e.tie):
            candidates.setdefault(g, [])
            if k not in edge_col and k not in candidates[g]:
                candidates[g].append(k)
    owner: Dict[EdgeKey, str] = {}

    def claim(g: str, seen: Set[EdgeKey]) -> bool:
        free = [k for k in candidates[g] if k not in owner and k not in seen]
        for k in free[:1] + [k for k in candidates[g] if k in owner and k not in seen]:
            seen.add(k)
            if k not in owner or claim(owner[k], seen):
                owner[k] = g
                return True
        return False

    for g in candidates:
        if not claim(g, set()):
            raise ArgumentError(f"infer_signs: tie group {g!r} has no edge of its own to report it on (each of "
                                f"its edges has its own parameter or reports another group); give it an edge "
                                f"tied to {g!r} alone.")
    return {g: k for k, g in owner.items()}


def _parameters(topology: Topology) -> _Parameters:
    """The weight columns of ``topology``: one per edge with a parameter of its own, one per tie group
    (:mod:`mpnet.graph.ties`), keyed by an edge that has no parameter of its own, its first one another group
    does not need (the test of a group is reported on that edge's row: :func:`_report_edges`)."""
    keys: List[EdgeKey] = []
    groups: Dict[EdgeKey, str] = {}
    group_col: Dict[str, int] = {}
    lower: List[float] = []
    upper: List[float] = []
    edge_col: Dict[EdgeKey, int] = {}
    terms: List[List[Tuple[int, float]]] = []
    for k, e in topology.edges.items():
        if own_parameter(e.tie):
            edge_col[k] = len(keys)
            keys.append(k)
            lo, hi = _bounds(e.sign, e.trainable, e.weight)
            lower.append(lo)
            upper.append(hi)
    report = _report_edges(topology, edge_col)
    for k, e in topology.edges.items():
        mine = [(edge_col[k], 1.0 if e.tie is None or isinstance(e.tie, str) else
                 next(c for g, c in e.tie if g is None))] if k in edge_col else []
        for g, c in groups_of(e.tie):
            if g not in group_col:
                group_col[g] = len(keys)
                keys.append(report[g])
                groups[report[g]] = g
                tie = topology.ties[g]
                lo, hi = _bounds(tie.sign, tie.trainable, tie.weight)
                lower.append(lo)
                upper.append(hi)
            mine.append((group_col[g], c))
            edge_col.setdefault(k, group_col[g])
        terms.append(mine)
    for g, k in report.items():      # a group's report edge is its column, whatever group the edge names first
        edge_col[k] = group_col[g]
    return _Parameters(keys, groups, edge_col, terms, lower, upper)


class Population:
    """``size`` copies of ``topology`` evaluated together.

    Args:
        topology: the wiring; its fixed signs and frozen edges become bounds.
        size: number of members ``M``.
        dtype, device: of the batched network (float64 by default: loss ratios near the noise floor need it).
        observed: recorded hidden neurons: :meth:`predict` gives their activations after the outputs.
        sequences: a recurrent wiring's data layout (module docstring); ``None`` for a feed-forward one.
    """

    def __init__(self, topology: Topology, size: int, *, dtype: torch.dtype = torch.float64,
                 device: Device = None, observed: Sequence[NodeId] = (), sequences: Optional[Sequences] = None
                 ) -> None:
        self.topology, self.size, self.dtype = topology, size, dtype
        self.observed: List[NodeId] = list(observed)
        self.sequences = sequences
        twin = recording_twin(topology, self.observed) if self.observed else topology
        ctrnn = sequences is not None and sequences.network_type == "ctrnn"
        self.net = Network([twin] * size, dtype=dtype, device=device, seed=0,
                           advance_time=sequences.advance_time if ctrnn and sequences else None,
                           time_step=sequences.time_step if ctrnn and sequences else None)
        params = _parameters(topology)
        #: the weight columns: an edge's own parameter, or a tie group's (keyed by one edge it covers)
        self.keys: List[EdgeKey] = params.keys
        self.groups: Dict[EdgeKey, str] = params.groups      # column key -> tie group, for the tied columns
        self.node_ids: List[NodeId] = [n for n, node in topology.nodes.items() if node.role != "input"]
        self.E, self.V = len(self.keys), len(self.node_ids)
        self.col: Dict[NodeId, int] = {n: self.E + i for i, n in enumerate(self.node_ids)}   # bias columns
        #: every edge's column: its own parameter's, else its first group's
        self.edge_col: Dict[EdgeKey, int] = params.edge_col
        #: ``[E, edges]``: each edge's weight as a sum of columns (None without ties: one column per edge)
        self._terms: Optional[Tensor] = None
        if self.groups or any(t != [(i, 1.0)] for i, t in enumerate(params.terms)):
            self._terms = torch.zeros(self.E, len(topology.edges), dtype=dtype, device=device)
            for j, terms in enumerate(params.terms):
                for c, coef in terms:
                    self._terms[c, j] += coef
        pos = {key: i for i, key in enumerate(self.net.edge_keys)}
        rows = {key: i for i, key in enumerate(self.net.rows)}
        device = self.net.bias.device
        self._widx = torch.tensor([pos[(t,) + k] for t in range(size) for k in topology.edges], dtype=torch.long,
                                  device=device)
        #: state row of every (member, non-input neuron): ``[M, V]``, for :meth:`states`
        self.rows = torch.tensor([[rows[(t, n)] for n in self.node_ids] for t in range(size)], dtype=torch.long,
                                 device=device)
        self._bidx = (self.rows - self.net.plan.num_inputs).view(-1)
        self.input_rows = torch.tensor([[rows[(t, n)] for n in topology.inputs] for t in range(size)],
                                       dtype=torch.long, device=device)
        lo, hi = list(params.lower), list(params.upper)
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
        values = [topology.ties[self.groups[k]].weight if k in self.groups else topology.edges[k].weight
                  for k in self.keys]
        w = [math.nan if v is None else v for v in values]
        b = [topology.nodes[n].bias for n in self.node_ids]
        return torch.tensor(w + b, dtype=self.dtype, device=self.lower.device)

    def edge_weights(self, theta: Tensor) -> Tensor:
        """``theta [M, P]`` -> every edge's weight ``[M, edges]`` in the topology's edge order (tie terms summed)."""
        return theta[:, :self.E] if self._terms is None else theta[:, :self.E] @ self._terms

    def topology_of(self, theta: Tensor) -> Topology:
        """The wiring with the weights, tie values and biases of the fit ``theta [P]`` (frozen edges and ties
        keep their declared values)."""
        row = theta.tolist()
        topo = self.topology
        own = {k: row[i] for i, k in enumerate(self.keys) if k not in self.groups and topo.edges[k].trainable}
        ties = {g: row[self.edge_col[k]] for k, g in self.groups.items() if topo.ties[g].trainable}
        return topo.with_weights(own, {n: row[self.col[n]] for n in self.node_ids}, ties)

    def free_keys(self) -> List[EdgeKey]:
        """The columns the sign test asks about: trainable, no fixed sign (an edge's own weight, or a tie group's,
        keyed by its edge in :attr:`keys`)."""
        free = (self.lower[:self.E] == -INF) & (self.upper[:self.E] == INF)
        return [k for k, f in zip(self.keys, free.tolist()) if f]

    def verdict_keys(self) -> List[EdgeKey]:
        """The edges that get a verdict row from the test, in the topology's order: every edge with a parameter of
        its own and the key edge of each free tie group (a fixed or frozen group's row is :meth:`tie_rows`')."""
        free = set(self.free_keys())
        return [k for k in self.topology.edges if k in self.edge_col and (k not in self.groups or k in free)
                and (k in self.groups or self.keys[self.edge_col[k]] == k)]

    def tie_rows(self, rows: List[EdgeSign], theta: Tensor) -> List[EdgeSign]:
        """``rows`` (of :meth:`verdict_keys`) with each tie group reported once, on its key edge's row: the reason
        names the group and every edge it sets; a fixed or frozen group's row added (the fit ``theta [P]``'s
        value). Edges without a parameter of their own have no row: their group's row is theirs."""
        if not self.groups:
            return rows
        topo, value = self.topology, theta.tolist()
        by_key = {r.key: r for r in rows}
        out = []
        for k in topo.edges:
            g = self.groups.get(k)
            if g is None:
                if k in by_key:
                    out.append(by_key[k])
                continue
            covered = ", ".join(f"{a}->{b}" for (a, b), e in topo.edges.items() if any(h == g for h, _ in
                                                                                     groups_of(e.tie)))
            what = f"tie group {g!r} (one weight for {covered})"
            tie = topo.ties[g]
            if k in by_key:
                r = by_key[k]
                out.append(replace(r, reason=f"{what}: {r.reason}"))
                continue
            w = value[self.edge_col[k]]
            sign = tie.sign or ("+" if w > 0 else "-" if w < 0 else "?")
            out.append(EdgeSign(k[0], k[1], sign, 1.0 if tie.sign or not tie.trainable else 0.0, w, True,
                                f"{what}: " + ("frozen at its declared value" if not tie.trainable else
                                               "fixed by declaration"),
                                "tie frozen" if not tie.trainable else f"tie fixed {tie.sign}"))
        return out

    def _split(self, theta: Tensor) -> Tuple[Tensor, Tensor]:
        w = theta.new_zeros(self.net.weight.shape[0]).index_put((self._widx,), self.edge_weights(theta).reshape(-1))
        b = theta.new_zeros(self.net.bias.shape[0]).index_put((self._bidx,), theta[:, self.E:].reshape(-1))
        return w, b

    def predict(self, theta: Tensor, X: Tensor) -> Tensor:
        """``theta [M, P]``, ``X [n, n_in]`` -> ``[M, n, n_out + k]``: the outputs, then the activations of the
        ``k`` recorded neurons (recurrent: ``X [n, steps * n_in]`` -> ``[M, n, steps * n_out]`` or, last step
        only, ``[M, n, n_out]``)."""
        w, b = self._split(theta)
        if self.sequences is not None:
            return self._run(w, b, X)
        out: Tensor = self.net(X, weight=w, bias=b)   # nn.Module.__call__ is typed Any
        return out[:, :, self._cols] if self.observed else out

    def _steps(self, X: Tensor) -> Tuple[Tensor, List[Tensor], Schedule]:
        """A recurrent run's input rows, initial slots (every neuron at 0) and schedule for rows ``X``."""
        assert self.sequences is not None
        rows = sequence.input_sequence(self.net, self.sequences.unflatten(X))     # [steps, M * n_in, n]
        lag = 2 if self.sequences.network_type == "ctrnn" else 1
        init, clock = initial_slots(None, self.net.plan, lag, rows)
        return rows, init, sequence.schedule(self.net, rows.shape[0], clock, None, None)

    def _run(self, w: Tensor, b: Tensor, X: Tensor) -> Tensor:
        """The recurrent layer run with the weights ``w`` and biases ``b`` of every member (what
        :func:`mpnet.model.sequence.forward_sequence` does with the network's own), flattened as the targets."""
        assert self.sequences is not None
        net = self.net
        rows, init, sched = self._steps(X)
        conv = sequence._conv(net)
        out, _ = conv.forward(rows, net.plan, w, b, sched, init, net._tau)          # [K, M * C, n]
        K, n = out.shape[0], out.shape[2]
        out = out.view(K, self.size, -1, n).permute(1, 3, 0, 2)                    # [M, n, K, C]
        if self.sequences.last:
            out = out[:, :, -1:]
        return out[..., self._cols].reshape(self.size, n, -1)

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
        ``Z[rows[m, j]]`` is neuron ``node_ids[j]`` of member ``m`` (recurrent: ``[rows, n * steps]``, every
        sequence's values after each of its steps, the integration steps of a ctrnn)."""
        w, b = self._split(theta.detach())
        if self.sequences is None:
            return self.net.states(X, weight=w, bias=b)
        net = self.net
        with torch.no_grad():
            rows, init, sched = self._steps(X)
            Z, H = recurrent_states(sequence._conv(net), net.plan, rows, w, b, sched, init, net._tau)   # [S, N, n]
        return Z.permute(1, 2, 0).reshape(Z.shape[1], -1), H.permute(1, 2, 0).reshape(H.shape[1], -1)


def distinct(theta: Tensor, loss: Tensor, k: int, rel: float = 1e-4) -> Tuple[Tensor, Tensor]:
    """Per group: the ``k`` best rows whose losses differ by more than ``rel`` (copies of one fit count
    once). ``theta [G, R, P]``, ``loss [G, R]`` -> ``[G, k, P]``, ``[G, k]`` (a group short of distinct rows
    repeats its best)."""
    G = loss.shape[0]
    idx = torch.zeros(G, k, dtype=torch.long, device=loss.device)
    for g in range(G):
        keep: List[int] = []
        values = loss[g].tolist()
        for i in torch.argsort(loss[g]).tolist():
            if all(abs(values[i] - values[j]) > rel * abs(values[j]) for j in keep):
                keep.append(i)
            if len(keep) == k:
                break
        idx[g] = torch.tensor((keep + keep[:1] * k)[:k])
    return theta.gather(1, idx[:, :, None].expand(-1, -1, theta.shape[2])), loss.gather(1, idx)
