"""The trainable network: an ``nn.Module`` owning one weight per edge and one bias per neuron (fourth stage).

Sign constraints are a parametrization (``torch.nn.utils.parametrize``) of the raw weight vector:

    free edge:            w = raw
    fixed sign s (+1/-1): w = s * |raw|   (d|raw|/draw taken as +1 at raw = 0, so zero is not a trap)
    frozen edge:          w = its declared value (a buffer; no gradient reaches it)

so they hold by construction through any optimizer. We chose ``|raw|`` over ``softplus(raw)`` or a clamp:
it has no dead zone (a clamp stops all gradient once the weight hits zero; softplus can never reach zero
and vanishes slowly), and a hand-set value is represented exactly. The trade-off: the gradient with
respect to ``raw`` flips sign with ``raw``, so a weight that an optimizer pushes through zero bounces back
to the allowed side instead of sticking at zero.

Weights left unset in the topology are drawn like ``nn.Linear``: ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``
with ``fan_in`` the in-degree of the edge's target (for a fixed sign, the magnitude of such a draw).
"""
from typing import Dict, Hashable, List, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor, nn
from torch.nn.utils import parametrize

from .arrays import ArrayTopology
from .compile import compile_arrays
from .propagate import LayeredConv, run_levels
from .threads import PassThreads, Tuner
from .topology import Edge, Topology

__all__ = ["Network", "SignConstraint"]


class SignConstraint(nn.Module):
    """Parametrization ``raw -> w`` enforcing fixed signs and frozen values (see module docstring).

    Args:
        sign: ``[E]`` +1, -1, or 0 for a free edge.
        frozen: ``[E]`` bool, edges whose value is ``value``.
        value: ``[E]`` the frozen values (other entries ignored).
    """

    def __init__(self, sign: Tensor, frozen: Tensor, value: Tensor):
        super().__init__()
        # w = raw * m + c with a multiplier m that depends only on the side of zero raw is on:
        #   free: m = 1;  fixed s: m = s for raw >= 0, -s for raw < 0 (so w = s * |raw|);  frozen: m = 0, c = value
        free = (sign == 0) & ~frozen
        fixed = (sign != 0) & ~frozen
        self.register_buffer("pos", torch.where(free, 1.0, torch.where(fixed, sign, 0.0)).to(value.dtype))
        self.register_buffer("neg", torch.where(free, 1.0, torch.where(fixed, -sign, 0.0)).to(value.dtype))
        self.register_buffer("frozen", frozen)
        self.register_buffer("value", torch.where(frozen, value, 0.0))   # c: the frozen values, 0 elsewhere
        self.trivial = bool(free.all())   # nothing to enforce: w = raw

    def set_values(self, value: Tensor) -> None:
        """Set the frozen edges' values (entries of other edges are ignored)."""
        self.value.copy_(torch.where(self.frozen, value, 0.0))

    def forward(self, raw: Tensor) -> Tensor:
        if self.trivial:
            return raw
        with torch.no_grad():   # m is piecewise constant in raw: its derivative is m itself
            m = torch.where(raw >= 0, self.pos, self.neg)
        return torch.addcmul(self.value, raw, m)

    def right_inverse(self, w: Tensor) -> Tensor:
        return w


class Network(nn.Module):
    """A network of individually connected neurons, computed level by level with message passing.

    Args:
        topology: one :class:`~mpnet.Topology`, or a list of them (trained together in one pass, each with
            its own weights; they must share their numbers of inputs and outputs), or an
            :class:`~mpnet.ArrayTopology` (one graph or a batch given as columns: the cheap way to build big
            graphs and whole generations).
        seed: seeds the draw of the weights the topology leaves unset (``None``: torch's global RNG).
        fused: use the fused sparse path (default) or the plain autograd path (see :mod:`mpnet.propagate`).
        dtype, device: of the parameters; ``float64`` represents hand-set weights exactly.

    Shapes:
        one topology: ``x: [batch, n_inputs] -> [batch, n_outputs]``;
        ``T`` topologies: ``x: [batch, n_inputs]`` (shared) or ``[T, batch, n_inputs]`` ->
        ``[T, batch, n_outputs]``.

    Example:
        >>> topo = Topology.from_edges([("x", "y", 2.0)], inputs=["x"], outputs=["y"])
        >>> Network(topo)(torch.ones(3, 1)).tolist()
        [[2.0], [2.0], [2.0]]
    """

    def __init__(self, topology: Union[Topology, Sequence[Topology], ArrayTopology], *, seed: Optional[int] = None,
                 fused: bool = True, dtype: Optional[torch.dtype] = None, device=None):
        super().__init__()
        self.arrays = ArrayTopology.of(topology)       # the declaration as columns, in union order
        self.batched = self.arrays.batched
        self._tuners: Dict[int, Tuner] = {}              # per batch size: the forward's thread count (threads.py)
        with PassThreads(self.arrays.num_edges + self.arrays.num_nodes):   # a build is one pass over the graph
            self._build(seed, fused, dtype, device)

    def _build(self, seed: Optional[int], fused: bool, dtype: Optional[torch.dtype], device) -> None:
        self.data, self.plan = compile_arrays(self.arrays)
        self.seed = seed
        self.conv = LayeredConv.make(fused)
        factory = dict(dtype=dtype or torch.get_default_dtype(), device=device)

        # per-edge metadata in compiled order, straight from the columns (no Python object per edge)
        edge_perm = self.data.edge_perm
        self._declared = self.arrays.weight.index_select(0, edge_perm)   # float64, NaN where unset
        fan_in = torch.bincount(self.plan.dst, minlength=self.plan.num_nodes)[self.plan.dst]
        self.register_buffer("_bound", 1.0 / fan_in.clamp(min=1).to(factory["dtype"]).sqrt(), persistent=False)
        sign = self.arrays.sign.index_select(0, edge_perm).to(**factory)
        frozen = (~self.arrays.trainable.index_select(0, edge_perm)).to(device)
        self.weight = nn.Parameter(torch.empty(edge_perm.numel(), **factory))
        self.bias = nn.Parameter(torch.empty(self.plan.num_nodes - self.plan.num_inputs, **factory))
        parametrize.register_parametrization(self, "weight", SignConstraint(sign, frozen, self._given(factory)))
        if device is not None:
            self.plan = self.plan.apply(lambda t: t.to(device))
        self.plan.set_dtype(factory["dtype"])
        self.reset_parameters()

    def _given(self, factory) -> Tensor:
        """The declared weights in compiled order (0 where unset)."""
        return torch.nan_to_num(self._declared, nan=0.0).to(**factory)

    def reset_parameters(self) -> None:
        """Hand-set weights and biases to their declared values; unset weights drawn again (same seed,
        same draw)."""
        gen = torch.Generator().manual_seed(self.seed) if self.seed is not None else None
        raw = self.parametrizations.weight.original
        dtype, device = raw.dtype, raw.device
        unset = torch.isnan(self._declared)
        given = self._given(dict(dtype=dtype, device=device))
        with torch.no_grad():
            if bool(unset.any()):        # nothing to draw (and no random number used) when every weight is given
                drawn = torch.rand(raw.shape, generator=gen, dtype=torch.float64) * 2 - 1
                raw.copy_(torch.where(unset.to(device), drawn.to(dtype=dtype, device=device) * self._bound, given))
            else:
                raw.copy_(given)
            self.parametrizations.weight[0].set_values(given)
            self.bias.copy_(self.arrays.bias[self.data.node_perm[self.plan.num_inputs:]])

    def _apply(self, fn, recurse=True):
        super()._apply(fn, recurse)
        self.plan = self.plan.apply(fn)
        self.plan.set_dtype(self.bias.dtype)   # scales exact per dtype, not re-cast
        with torch.no_grad():  # frozen values stay exactly the declared numbers in the new dtype
            given = self._given(dict(dtype=self.bias.dtype, device=self.bias.device))
            self.parametrizations.weight[0].set_values(given)
        return self

    # ------------------------------------------------------------------------------------ forward
    @property
    def num_graphs(self) -> int:
        return self.plan.num_graphs

    def _input_rows(self, x: Tensor, shared: bool = False) -> Tensor:
        """``x: [batch, n_in]`` or ``[T, batch, n_in]`` -> input rows ``[T * n_in, batch]`` (``[n_in, batch]``
        for a ``[batch, n_in]`` input with ``shared=True``: the propagation broadcasts it to every graph)."""
        plan, T = self.plan, self.plan.num_graphs
        if not torch.is_floating_point(x):
            x = x.to(self.bias.dtype)
        if x.dtype != self.bias.dtype:
            raise TypeError(f"Expected input of dtype {self.bias.dtype} (got {x.dtype}); convert the input or "
                            f"the network (e.g. net.double()).")
        if x.dim() == 2 and x.shape[1] == plan.n_in:
            rows = x.t()
            return rows.repeat(T, 1) if T > 1 and not shared else rows
        if self.batched and x.dim() == 3 and x.shape[0] == T and x.shape[2] == plan.n_in:
            return x.transpose(1, 2).reshape(T * plan.n_in, x.shape[1])
        want = f"[batch, {plan.n_in}]" + (f" or [{T}, batch, {plan.n_in}]" if self.batched else "")
        raise ValueError(f"Expected input of shape {want} (got {list(x.shape)}).")

    def forward(self, x: Tensor) -> Tensor:
        plan, T = self.plan, self.plan.num_graphs
        batch = x.shape[-2] if x.dim() > 1 else 1
        tuner = self._tuners.get(batch) or self._tuners.setdefault(batch, Tuner())
        with PassThreads(self.plan.work_per_sample * batch, tuner):   # input rows and outputs included
            # conv.forward, not conv(...): an internal layer, no hooks to run
            rows = self._input_rows(x, shared=True).contiguous()      # [T * n_in, B], or [n_in, B] for all graphs
            out = self.conv.forward(rows, plan, self.weight, self.bias)        # [T * n_out, B]
        # one view each way (every view is an autograd node of the backward)
        return out.view(T, plan.n_out, -1).transpose(1, 2) if self.batched else out.t()   # [T, B, n_out] / [B, n_out]

    def pass_threads(self, batch: int) -> PassThreads:
        """A context manager giving torch the thread count the size rule of mpnet's policy picks for passes
        of ``batch`` samples (see :mod:`mpnet.threads`), the user's setting restored on exit. :func:`mpnet.fit`
        holds it over its whole loop, so losses and optimizer steps of small networks stay on one thread
        too; within it the passes of a big network still time their thread counts."""
        return PassThreads(self.plan.work_per_sample * batch)

    @torch.no_grad()
    def states(self, x: Tensor) -> Tuple[Tensor, Tensor]:
        """Every neuron's pre-activation and activation on ``x``: ``(z, h)``, each ``[num_nodes, batch]``
        in compiled row order; :attr:`rows` names the neuron of each row."""
        rows = self._input_rows(x)
        H, Z = run_levels(self.conv, self.plan, rows.contiguous(), self.weight, self.bias)
        Z[:self.plan.num_inputs] = H[:self.plan.num_inputs]   # an input's "pre-activation" is its value
        return Z, H

    @property
    def topologies(self) -> List[Topology]:
        """The topologies as declared (made from the columns on first use when built from arrays)."""
        if self.arrays.topologies is None:
            self.arrays.topologies = self.arrays.to_topologies()
        return self.arrays.topologies

    @property
    def rows(self) -> List[Tuple[int, Hashable]]:
        """``(topology index, node id)`` of each row of :meth:`states` (made on first use, then copied)."""
        if "_rows_made" not in self.__dict__:
            ids = self.arrays.node_ids()
            self._rows_made = [(t, ids[i]) for t, i in zip(self.data.batch.tolist(), self.data.node_perm.tolist())]
        return list(self._rows_made)

    @property
    def edge_keys(self) -> List[Tuple[int, Hashable, Hashable]]:
        """``(topology index, src, dst)`` of each entry of :attr:`weight` (made on first use, then copied)."""
        if "_edge_keys_made" not in self.__dict__:
            ids, batch, perm = self.arrays.node_ids(), self.data.batch.tolist(), self.data.edge_perm
            self._edge_keys_made = [(batch[s], ids[i], ids[j]) for s, i, j in zip(
                self.data.edge_index[0].tolist(), self.arrays.src[perm].tolist(), self.arrays.dst[perm].tolist())]
        return list(self._edge_keys_made)

    @property
    def _edges(self) -> List[Tuple[int, Edge]]:
        """``(topology index, Edge)`` of each entry of :attr:`weight`, as declared (made on use)."""
        union = [(t, e) for t, topo in enumerate(self.topologies) for e in topo.edges.values()]
        return [union[i] for i in self.data.edge_perm.tolist()]

    # --------------------------------------------------------------------------------- read back
    def numbers(self) -> Tuple[Tensor, Tensor]:
        """Current weights ``[E]`` and biases ``[N]`` (float64, CPU) in declaration order: topology after
        topology, the order of :attr:`arrays` (and of ``arrays.columns()``, so a worker can send back
        just these two tensors); inputs keep their declared bias."""
        w = torch.empty(self.weight.numel(), dtype=torch.float64)
        w[self.data.edge_perm] = self.weight.detach().double().cpu()
        b = self.arrays.bias.clone()
        b[self.data.node_perm[self.plan.num_inputs:]] = self.bias.detach().double().cpu()
        return w, b

    def topology(self, index: int = 0) -> Topology:
        """Topology ``index`` with its current (trained) weights and biases (frozen edges: the declared
        number itself)."""
        if not -self.num_graphs <= index < self.num_graphs:
            raise IndexError(f"Topology index {index} out of range: this network holds {self.num_graphs} "
                             f"topologies (valid: 0 .. {self.num_graphs - 1}).")
        return self.arrays.topology(index % self.num_graphs, *self.numbers())

    def to_topology(self) -> Union[Topology, List[Topology]]:
        """The topology (or, for a batch, the list of topologies) with current weights and biases."""
        if self.batched:
            numbers = self.numbers()
            return [self.arrays.topology(i, *numbers) for i in range(self.num_graphs)]
        return self.topology(0)

    def __repr__(self) -> str:
        return (f"Network(graphs={self.num_graphs}, nodes={self.plan.num_nodes}, "
                f"edges={self.weight.numel()}, depth={len(self.plan.levels)}, fused={self.conv.fused})")
