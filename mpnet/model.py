"""The trainable network: an ``nn.Module`` owning one weight per edge and one bias per neuron (fourth stage).

Sign constraints are an explicit map from the raw weight vector (the parameter ``raw_weight``, what the
optimizer moves) to the weights the network computes with (``net.weight``)::

    free edge:            w = raw
    fixed sign s (+1/-1): w = s * |raw|   (d|raw|/draw taken as +1 at raw = 0, so zero is not a trap)
    frozen edge:          w = its declared value (a buffer; no gradient reaches it)

so they hold by construction through any optimizer. We chose ``|raw|`` over ``softplus(raw)`` or a clamp:
it has no dead zone (a clamp stops all gradient once the weight hits zero; softplus can never reach zero
and vanishes slowly), and a hand-set value is represented exactly. The trade-off: the gradient with
respect to ``raw`` flips sign with ``raw``, so a weight that an optimizer pushes through zero bounces back
to the allowed side instead of sticking at zero.

Tied edges (:mod:`mpnet.graph.ties`) share parameters: ``raw_weight`` then holds one entry per edge's own
parameter and one per group, the sign map applies to those, and a :class:`~mpnet.engine.tiemap.TieMap`
(``net.tie_map``) sums the terms of each edge into ``net.weight [E]``. Such a network's weights are set on its
topology (``with_weights(..., ties=...)``), not edge by edge.

Weights left unset in the topology are drawn like ``nn.Linear``: ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``
with ``fan_in`` the in-degree of the edge's target (for a fixed sign, the magnitude of such a draw).

The map is a plain module call, not ``torch.nn.utils.parametrize``, so that a Network pickles
(``torch.save(net)``, ``copy.deepcopy``) and so that editing ``net.weight`` in place works the same with and
without fixed-sign edges: the tensor ``net.weight`` hands out is watched, and an edit is written back into
``raw_weight`` (checked against the edge's sign and frozen value) before the network next computes or reads
its weights. :meth:`Network.set_weights` and ``net.weight = values`` do the same at once.
"""
import contextlib
import gc
import numbers
import os
import weakref
from typing import Any, Dict, Hashable, List, Mapping, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor, nn

from .graph.arrays import ArrayTopology
from .checks import check_bool, check_dtype, check_int
from .engine.compile import compile_arrays
from .errors import ArgumentError, DataError, NonFiniteError, SignConflictError, UnknownEdgeError
from .engine.propagate import LayeredConv, run_levels
from .engine.recurrent import RecurrentConv, Stepper, recurrent_states
from .engine.steps import (RecurrentState, check_times, ctrnn_schedule, discrete_schedule, final_state, initial_slots,
                    sequence_rows)
from .threads import PassThreads, Tuner
from .engine.tiemap import ParameterTable, TieMap, group_bounds, parameter_table
from .graph.topology import Edge, Topology

__all__ = ["Network", "SignConstraint"]


class SignConstraint(nn.Module):
    """The map ``raw -> w`` enforcing fixed signs and frozen values (see module docstring).

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
        # derived from the topology, so not part of the state_dict (which holds raw_weight and bias only)
        self.register_buffer("pos", torch.where(free, 1.0, torch.where(fixed, sign, 0.0)).to(value.dtype),
                             persistent=False)
        self.register_buffer("neg", torch.where(free, 1.0, torch.where(fixed, -sign, 0.0)).to(value.dtype),
                             persistent=False)
        self.register_buffer("frozen", frozen, persistent=False)
        self.register_buffer("sign", sign.to(value.dtype), persistent=False)
        # c: the frozen values, 0 elsewhere
        self.register_buffer("value", torch.where(frozen, value, 0.0), persistent=False)
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
        """A raw vector giving ``w`` (``w`` itself: it lies on the allowed side of every fixed sign)."""
        return w


@contextlib.contextmanager
def _collector_paused():
    """Pause Python's cyclic garbage collector while many acyclic objects are built (a batch's topologies read
    back): its sweeps over the growing heap otherwise about double the time. Nothing built here forms a cycle."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _topology_list(topology: Any) -> List[Topology]:
    """``topology`` as a list of topologies, each checked to be one (naming the first that is not)."""
    if isinstance(topology, (str, bytes, os.PathLike, Mapping)) or not hasattr(topology, "__iter__"):
        hint = " (a path? load it first: Topology.load(path))" if isinstance(topology, (str, os.PathLike)) else ""
        raise ArgumentError(f"Expected topology to be a Topology or a list of them (got a "
                            f"{type(topology).__name__}){hint}.")
    topos = list(topology)
    for i, t in enumerate(topos):
        if not isinstance(t, Topology):
            raise ArgumentError(f"Expected topology to be a Topology or a list of them, but item {i} is a "
                                f"{type(t).__name__} ({t!r:.60}).")
    return topos


class Network(nn.Module):
    """A network of individually connected neurons, computed level by level with message passing.

    Args:
        topology: one :class:`~mpnet.Topology`, or a list of them (trained together in one pass, each with
            its own weights; they must share their numbers of inputs and outputs), or an
            :class:`~mpnet.ArrayTopology` (one graph or a batch given as columns: the cheap way to build big
            graphs and whole generations). Recurrent topologies (cycles) are given as ``Topology`` objects
            (:mod:`mpnet.engine.recurrent`); all of a batch must share one network type.
        seed: seeds the draw of the weights the topology leaves unset (``None``: torch's global RNG).
        fused: use the fused sparse path (default) or the plain autograd path (see :mod:`mpnet.engine.propagate`).
        dtype, device: of the parameters; ``float64`` represents hand-set weights exactly.
        advance_time, time_step: a ctrnn's defaults for :meth:`forward` (each input is held for
            ``advance_time``, integrated in steps of ``time_step``, as ``CTRNN.advance``).

    Shapes:
        one topology: ``x: [batch, n_inputs] -> [batch, n_outputs]``;
        ``T`` topologies: ``x: [batch, n_inputs]`` (shared) or ``[T, batch, n_inputs]`` ->
        ``[T, batch, n_outputs]``.
        recurrent topologies (:mod:`mpnet.engine.recurrent`):
        ``x: [steps, batch, n_inputs] -> [steps, batch, n_outputs]``; ``T`` of them:
        ``x: [steps, batch, n_inputs]`` or ``[T, steps, batch, n_inputs]`` -> ``[T, steps, batch, n_outputs]``.

    Example:
        >>> topo = Topology.from_edges([("x", "y", 2.0)], inputs=["x"], outputs=["y"])
        >>> Network(topo)(torch.ones(3, 1)).tolist()
        [[2.0], [2.0], [2.0]]
    """

    def __init__(self, topology: Union[Topology, Sequence[Topology], ArrayTopology], *, seed: Optional[int] = None,
                 fused: bool = True, dtype: Optional[torch.dtype] = None, device=None,
                 advance_time: Optional[float] = None, time_step: Optional[float] = None):
        super().__init__()
        seed = check_int(seed, "seed", allow_none=True)
        fused = check_bool(fused, "fused")
        dtype = check_dtype(dtype, allow_none=True)
        if not isinstance(topology, (ArrayTopology, Topology)):
            topology = _topology_list(topology)          # names the first item that is not a Topology
        self.arrays = ArrayTopology.of(topology)       # the declaration as columns, in union order
        self.batched = self.arrays.batched
        #: ``"feedforward"``, ``"recurrent"`` or ``"ctrnn"`` (batched topologies must agree: ArrayTopology checks)
        self.network_type: str = self.arrays.network_type
        self.recurrent = self.network_type != "feedforward"
        if (advance_time is not None or time_step is not None) and self.network_type != "ctrnn":
            raise ArgumentError(f"advance_time and time_step are for ctrnn topologies (recurrent='ctrnn'); these "
                                f"are {self.network_type}.")
        self.advance_time, self.time_step = check_times(advance_time, time_step)
        self._tuners: Dict[Any, Tuner] = {}              # per pass shape: the forward's thread count (threads.py)
        with PassThreads(self.arrays.num_edges + self.arrays.num_nodes):   # a build is one pass over the graph
            self._build(seed, fused, dtype, device)

    def _build(self, seed: Optional[int], fused: bool, dtype: Optional[torch.dtype], device) -> None:
        self.data, self.plan = compile_arrays(self.arrays)   # recurrent: one level holding every non-input row
        self.seed = seed
        self.conv = (RecurrentConv if self.recurrent else LayeredConv).make(fused)
        factory = dict(dtype=dtype or torch.get_default_dtype(), device=device)

        # per-edge metadata in compiled order, straight from the columns (no Python object per edge)
        edge_perm = self.data.edge_perm
        self._declared = self.arrays.weight.index_select(0, edge_perm)   # float64, NaN where unset
        fan_in = torch.bincount(self.plan.dst, minlength=self.plan.num_nodes)[self.plan.dst]   # on the CPU plan
        edge_bound = 1.0 / fan_in.clamp(min=1).to(factory["dtype"]).sqrt()
        #: tied weights (mpnet.engine.tiemap): each edge's own parameter, then one per tie group; ``None`` (the common
        #: case, and every network built from columns) when no topology declares ties: one parameter per edge,
        #: read from the columns with no Python object per edge
        self._table: Optional[ParameterTable] = None
        topos = self.arrays.topologies                   # None when built from columns (no ties there)
        if topos is not None and any(t.ties for t in topos):
            self._table = parameter_table(topos, self._edges)
        if self._table is None:
            bound = edge_bound
            sign = self.arrays.sign.index_select(0, edge_perm).to(**factory)
            frozen = (~self.arrays.trainable.index_select(0, edge_perm)).to(device)
        else:
            bound = group_bounds(self._table, edge_bound)                                      # [P]
            sign = torch.tensor(self._table.sign, **factory)
            frozen = torch.tensor(self._table.frozen, dtype=torch.bool, device=device)
        self.register_buffer("_bound", bound.to(device), persistent=False)   # on the parameters' device
        #: the parameter the optimizer moves (``[P]``: one per edge, or per edge's own weight and per tie group);
        #: ``weight [E]`` is computed from it (see the module docstring)
        self.raw_weight = nn.Parameter(torch.empty(sign.numel(), **factory))
        self.bias = nn.Parameter(torch.empty(self.plan.num_nodes - self.plan.num_inputs, **factory))
        self.constraint = SignConstraint(sign, frozen, self._given(factory))
        #: ``[P] -> [E]``, summing each edge's terms (None when no edge is tied: ``weight = constraint(raw)``)
        self.tie_map = (TieMap(self._table.terms, edge_perm.numel(), factory["dtype"], device)
                        if self._table is not None and self._table.terms is not None else None)
        if device is not None:
            self.plan = self.plan.apply(lambda t: t.to(device))
        self.plan.set_dtype(factory["dtype"])
        # a ctrnn's time constants per non-input row, float64 on the CPU (never cast: dt / tau is divided
        # in float64, as neat does, and rounded once to the network's dtype)
        # (a ctrnn is declared with Topology objects: ArrayTopology.from_topologies keeps them)
        self._tau = None
        if self.network_type == "ctrnn":
            tau = torch.tensor([n.time_constant for topo in self.topologies for n in topo.nodes.values()],
                               dtype=torch.float64)                       # union order
            self._tau = tau.index_select(0, self.data.node_perm[self.plan.num_inputs:])
        self._handed_out: List[Tuple[Any, Tensor]] = []   # tensors net.weight gave out: (ref, values then)
        self._last_handed: Optional[Tensor] = None
        self._check_declared_finite()
        self.reset_parameters()

    def _given(self, factory) -> Tensor:
        """``[P]`` the declared value of each parameter (0 where unset; without ties the declared weights in
        compiled order)."""
        if self._table is None:
            return torch.nan_to_num(self._declared, nan=0.0).to(**factory)
        return torch.tensor([0.0 if v is None else v for v in self._table.given], **factory)

    def reset_parameters(self) -> None:
        """Hand-set weights and biases to their declared values; unset weights drawn again (same seed,
        same draw)."""
        gen = torch.Generator().manual_seed(self.seed) if self.seed is not None else None
        self._forget_handed_out()
        raw = self.raw_weight
        dtype, device = raw.dtype, raw.device
        unset = (torch.isnan(self._declared) if self._table is None
                 else torch.tensor([v is None for v in self._table.given], dtype=torch.bool))
        given = self._given(dict(dtype=dtype, device=device))
        with torch.no_grad():
            if bool(unset.any()):        # nothing to draw (and no random number used) when every weight is given
                drawn = torch.rand(raw.shape, generator=gen, dtype=torch.float64) * 2 - 1
                raw.copy_(torch.where(unset.to(device), drawn.to(dtype=dtype, device=device) * self._bound, given))
            else:
                raw.copy_(given)
            self.constraint.set_values(given)
            self.bias.copy_(self.arrays.bias[self.data.node_perm[self.plan.num_inputs:]])

    def _apply(self, fn, recurse=True):
        self._write_back_edits()
        self._forget_handed_out()
        dtype = self.bias.dtype
        super()._apply(fn, recurse)
        self.plan = self.plan.apply(fn)
        self.plan.set_dtype(self.bias.dtype)   # scales exact per dtype, not re-cast
        with torch.no_grad():  # frozen values stay exactly the declared numbers in the new dtype
            given = self._given(dict(dtype=self.bias.dtype, device=self.bias.device))
            self.constraint.set_values(given)
        if self.bias.dtype != dtype and self.bias.dtype.is_floating_point:
            self._check_declared_finite()   # e.g. .float() of a float64 network holding 1e300
        return self

    def _check_declared_finite(self) -> None:
        """Refuse declared numbers that overflow this network's dtype (a weight of 1e300 in float32 is inf)."""
        dtype = self.raw_weight.dtype
        given = self._given(dict(dtype=dtype, device="cpu"))
        bad = ~torch.isfinite(given)
        if bool(bad.any()):
            p = int(torch.nonzero(bad)[0])
            if self._table is None:
                t, e = self._edges[p]
                raise NonFiniteError(f"The weight of edge {e.src!r} -> {e.dst!r}{self._where(t)} is {e.weight!r}, "
                                     f"which is {given[p].item()} in {dtype}; every output it reaches would be inf "
                                     f"or NaN. Scale it down, or use dtype=torch.float64.")
            if p not in self._table.own:   # a tie group's value
                t, name = self._table.groups[p - (len(self._table.sign) - len(self._table.groups))]
                raise NonFiniteError(f"The value of tie {name!r}{self._where(t)} is {given[p].item()} in {dtype}; "
                                     f"scale it down, or use dtype=torch.float64.")
            t, e = self._edges[self._table.own.index(p)]
            raise NonFiniteError(f"The weight of edge {e.src!r} -> {e.dst!r}{self._where(t)} is {e.weight!r}, which "
                                 f"is {given[bad][0].item()} in {dtype}; every output it reaches would be inf or NaN. "
                                 f"Scale it down, or use dtype=torch.float64.")
        rows = self.data.node_perm                      # row -> node in union order
        for what, column in (("bias", self.arrays.bias), ("response", self.arrays.response)):
            declared = column.index_select(0, rows)         # float64, compiled row order
            cast = declared.to(dtype)
            bad = ~torch.isfinite(cast)
            if bool(bad.any()):
                r = int(torch.nonzero(bad)[0])
                t, node = self.rows[r]
                raise NonFiniteError(f"The {what} of node {node!r}{self._where(t)} is {declared[r].item()!r}, "
                                     f"which is {cast[r].item()} in {dtype}; its output would be inf or NaN. Scale "
                                     f"it down, or use dtype=torch.float64.")

    def _where(self, t: int) -> str:
        return f" (topology {t})" if self.batched else ""

    # ------------------------------------------------------------------------------- the weights
    def _compute_weight(self) -> Tensor:
        """``w = constraint(raw_weight)`` (the parameter itself when no edge is constrained), each edge's tie
        terms summed when the network has ties."""
        self._write_back_edits()
        w = self.constraint(self.raw_weight)
        return w if self.tie_map is None else self.tie_map(w)

    @property
    def weight(self) -> Tensor:
        """``[E]`` the weights in compiled order (:attr:`edge_keys` names each), computed from
        :attr:`raw_weight` through the sign constraints, with gradient.

        Writable: ``net.weight = values``, :meth:`set_weights`, or an in-place edit of the tensor this returns
        (``with torch.no_grad(): net.weight[3] = 0.5``), which is written back before the network next
        computes or reads its weights, the same whether or not the network has fixed-sign edges. A value
        against an edge's fixed sign, a change to a frozen edge or a non-finite value is refused.
        """
        w = self._compute_weight()
        if w is self.raw_weight:
            w = w.clone()   # never the parameter itself: edits go through the same checks either way
        self._handed_out.append((weakref.ref(w), w.detach().clone()))
        self._last_handed = w   # keeps `net.weight[i] = v`'s temporary alive until it is written back
        return w

    @weight.setter
    def weight(self, values: Tensor) -> None:
        self.set_weights(values)

    def set_weights(self, values: Union[Tensor, Mapping]) -> None:
        """Set edge weights: ``values`` is ``[E]`` in compiled order (like :attr:`weight`), or a mapping
        ``{(src, dst): w}`` (``{(t, src, dst): w}`` for a batch of topologies) setting those edges only.
        Fixed-sign edges take the value itself (it must lie on the allowed side); frozen edges must keep
        their declared value.

        Raises:
            SignConflictError: a value against an edge's fixed sign, or a change to a frozen edge.
            NonFiniteError: a NaN or infinite value.
            UnknownEdgeError: a key the network does not have.
            ArgumentError: a tensor of the wrong length.
        """
        self._write_back_edits()
        self._refuse_tied()
        E = self.raw_weight.numel()
        if isinstance(values, Mapping):
            index = {(k if self.batched else k[1:]): i for i, k in enumerate(self.edge_keys)}
            unknown = [k for k in values if k not in index]
            if unknown:
                form = "(t, src, dst)" if self.batched else "(src, dst)"
                raise UnknownEdgeError(f"set_weights names edges the network does not have: {unknown[:5]}; keys "
                                       f"are {form} tuples (net.edge_keys lists them).")
            idx = torch.tensor([index[k] for k in values], dtype=torch.long)
            new = self.raw_weight.detach().clone()
            vals = torch.tensor([float(v) for v in values.values()], dtype=torch.float64)
            new[idx.to(new.device)] = vals.to(new.dtype).to(new.device)
            mask = torch.zeros(E, dtype=torch.bool, device=new.device)
            mask[idx.to(new.device)] = True
        else:
            new = torch.as_tensor(values).detach()
            if new.shape != (E,):
                raise ArgumentError(f"Expected weights of shape [{E}] (one per edge, in the order of "
                                    f"net.edge_keys) (got shape {list(new.shape)}).")
            new = new.to(dtype=self.raw_weight.dtype, device=self.raw_weight.device)
            mask = torch.ones(E, dtype=torch.bool, device=new.device)
        self._assign(new, mask)

    def _assign(self, new: Tensor, mask: Tensor) -> None:
        """``raw_weight[mask] = new[mask]``, after checking signs, frozen values and finiteness."""
        self._refuse_tied()
        c = self.constraint
        bad = mask & ~torch.isfinite(new)
        if bool(bad.any()):
            i = int(torch.nonzero(bad)[0])
            raise NonFiniteError(f"Cannot set the weight of {self._edge_name(i)} to {new[i].item()}; weights must "
                                 f"be finite.")
        wrong = mask & ~c.frozen & (new * c.sign < 0)
        if bool(wrong.any()):
            i = int(torch.nonzero(wrong)[0])
            raise SignConflictError(f"Cannot set the weight of {self._edge_name(i)} to {new[i].item()}: the edge has "
                                    f"fixed sign {'+' if c.sign[i] > 0 else '-'}. Give a value of that sign (or 0), "
                                    f"or declare the edge free.")
        moved = mask & c.frozen & (new != c.value)
        if bool(moved.any()):
            i = int(torch.nonzero(moved)[0])
            raise SignConflictError(f"Cannot set the weight of {self._edge_name(i)} to {new[i].item()}: the edge is "
                                    f"frozen at {c.value[i].item()} (trainable=False). Declare it trainable, or give "
                                    f"the topology another value.")
        with torch.no_grad():
            self.raw_weight.copy_(torch.where(mask & ~c.frozen, new, self.raw_weight))

    def _refuse_tied(self) -> None:
        if self._table is not None:
            raise ArgumentError(f"This network ties weights ({len(self._table.groups)} shared groups): an edge's "
                                f"weight is a sum of shared parameters, so it cannot be set edge by edge. Set the "
                                f"values on the topology (topology.with_weights(weights, ties={{name: value}})) and "
                                f"build the network again.")

    def _edge_name(self, i: int) -> str:
        t, e = self._edges[i]
        return f"edge {e.src!r} -> {e.dst!r}{self._where(t)}"

    def _write_back_edits(self) -> None:
        """Write edits made in place to tensors :attr:`weight` handed out into :attr:`raw_weight`."""
        handed = self.__dict__.get("_handed_out")
        if not handed:
            return
        keep = []
        for ref, before in handed:
            w = ref()
            if w is None:
                continue
            now = w.detach()
            if now.shape == before.shape and now.dtype == before.dtype and now.device == before.device:
                changed = (now != before) & ~(torch.isnan(now) & torch.isnan(before))
                if bool(changed.any()):
                    self._handed_out = []   # a refused edit is not retried at every later call
                    self._last_handed = None
                    self._assign(now.to(self.raw_weight.dtype), changed)
                    before = now.clone()
            keep.append((ref, before))
        self._handed_out = keep
        self._last_handed = None   # written back: the tensor lives on only if its holder keeps it

    def _forget_handed_out(self) -> None:
        if "_handed_out" in self.__dict__:
            self._handed_out = []
            self._last_handed = None

    # ------------------------------------------------------------------------------------ forward
    @property
    def num_graphs(self) -> int:
        return self.plan.num_graphs

    def _input_rows(self, x: Tensor, shared: bool = False) -> Tensor:
        """``x: [batch, n_in]`` or ``[T, batch, n_in]`` -> input rows ``[T * n_in, batch]`` (``[n_in, batch]``
        for a ``[batch, n_in]`` input with ``shared=True``: the propagation broadcasts it to every graph)."""
        plan, T = self.plan, self.plan.num_graphs
        x = self._as_input(x, f"[batch, {plan.n_in}]")
        if x.dim() == 2 and x.shape[1] == plan.n_in:
            rows = x.t()
            return rows.repeat(T, 1) if T > 1 and not shared else rows
        if self.batched and x.dim() == 3 and x.shape[0] == T and x.shape[2] == plan.n_in:
            return x.transpose(1, 2).reshape(T * plan.n_in, x.shape[1])
        want = f"[batch, {plan.n_in}]" + (f" or [{T}, batch, {plan.n_in}]" if self.batched else "")
        raise DataError(f"Expected input of shape {want} (got {list(x.shape)}).")

    def forward(self, x: Tensor, state: Union[RecurrentState, Tensor, None] = None, *, return_state: bool = False,
                advance_time: Optional[float] = None, time_step: Optional[float] = None,
                weight: Optional[Tensor] = None, bias: Optional[Tensor] = None):
        """The outputs on ``x`` (see the class for the shapes).

        Args:
            state, return_state: recurrent networks only: start from ``state`` (a :class:`RecurrentState`
                returned by an earlier call; ``None`` starts every neuron at 0, neat's ``reset()``), and
                return ``(outputs, final state)``. Continuing from the returned state computes what one
                longer sequence would.
            advance_time, time_step: ctrnn only, overriding the constructor's.
            weight, bias: feed-forward networks only: ``weight`` ``[E]`` (effective weights in
                :attr:`edge_keys` order, constraints not applied) and ``bias`` ``[num_nodes - num_inputs]``
                replace the module's own for this call (a functional call, for optimizers that keep their own
                copies of the parameters, as sign inference does).
        """
        if self.recurrent:
            if weight is not None or bias is not None:
                raise ArgumentError("weight= and bias= overrides are for feed-forward networks; this one is "
                                    "recurrent (set net.weight / net.bias instead).")
            return self._forward_sequence(x, state, return_state, advance_time, time_step)
        if state is not None or return_state or advance_time is not None or time_step is not None:
            raise ArgumentError("state, return_state, advance_time and time_step are for recurrent networks; this "
                            "one is feed-forward.")
        plan, T = self.plan, self.plan.num_graphs
        batch = x.shape[-2] if isinstance(x, Tensor) and x.dim() > 1 else 1
        tuner = self._tuners.get(batch) or self._tuners.setdefault(batch, Tuner())
        with PassThreads(self.plan.work_per_sample * batch, tuner):   # input rows and outputs included
            weight = self._compute_weight() if weight is None else weight
            bias = self.bias if bias is None else bias
            # conv.forward, not conv(...): an internal layer, no hooks to run
            rows = self._input_rows(x, shared=True).contiguous()      # [T * n_in, B], or [n_in, B] for all graphs
            out = self.conv.forward(rows, plan, weight, bias)         # [T * n_out, B]
        # one view each way (every view is an autograd node of the backward)
        return out.view(T, plan.n_out, -1).transpose(1, 2) if self.batched else out.t()   # [T, B, n_out] / [B, n_out]

    def pass_threads(self, batch: int) -> PassThreads:
        """A context manager giving torch the thread count the size rule of mpnet's policy picks for passes
        of ``batch`` samples (see :mod:`mpnet.threads`), the user's setting restored on exit. :func:`mpnet.fit`
        holds it over its whole loop, so losses and optimizer steps of small networks stay on one thread
        too; within it the passes of a big network still time their thread counts."""
        return PassThreads(self.plan.work_per_sample * batch)

    def _sequence_rows(self, x: Tensor) -> Tensor:
        """A recurrent network's ``x`` (see the class) -> input rows ``[steps, T * n_in, batch]``."""
        x = self._as_input(x, f"[steps, batch, {self.plan.n_in}]")
        return sequence_rows(x, self.plan, self.batched)

    def _as_input(self, x: Tensor, shape: str) -> Tensor:
        """``x`` as a tensor of the network's dtype (integers converted), or a clear error; ``shape`` names
        the expected shape in the message."""
        if not isinstance(x, Tensor):
            raise ArgumentError(f"Expected the input x to be a torch.Tensor of shape {shape} (got a "
                                f"{type(x).__name__}); convert it with torch.as_tensor(x, dtype={self.bias.dtype}).")
        if not torch.is_floating_point(x):
            x = x.to(self.bias.dtype)
        if x.dtype != self.bias.dtype:
            raise ArgumentError(f"Expected input of dtype {self.bias.dtype} (got {x.dtype}); convert the input or "
                                f"the network (e.g. net.double()).")
        return x

    def _schedule(self, steps: int, time: float, advance_time: Optional[float], time_step: Optional[float]):
        if self.network_type != "ctrnn":
            if advance_time is not None or time_step is not None:
                raise ArgumentError("advance_time and time_step are for ctrnn networks; this one is a discrete-time "
                                "recurrent network (one step per input).")
            return discrete_schedule(steps)
        advance_time = self.advance_time if advance_time is None else advance_time
        time_step = self.time_step if time_step is None else time_step
        if advance_time is None or time_step is None:
            raise ArgumentError("A ctrnn network needs advance_time and time_step (how long each input is held, "
                             "and the integration step): Network(topo, advance_time=..., time_step=...) or "
                             "net(x, advance_time=..., time_step=...).")
        return ctrnn_schedule(steps, advance_time, time_step, time)

    def _forward_sequence(self, x: Tensor, state, return_state: bool, advance_time, time_step):
        plan, T = self.plan, self.plan.num_graphs
        # the thread policy as for a feed-forward pass, over the whole call (the input copy and the initial
        # state are parallel regions too): a step is one level over every edge; the tuner times whole
        # passes, so it is kept per batch size and number of inputs
        B = x.shape[-2] if isinstance(x, Tensor) and x.dim() > 1 else 1
        key = ("steps", B, x.shape[-3] if isinstance(x, Tensor) and x.dim() > 2 else 1)
        tuner = self._tuners.get(key) or self._tuners.setdefault(key, Tuner())
        with PassThreads(plan.work_per_sample * B, tuner):
            rows = self._sequence_rows(x)                                       # [K, T * n_in, B]
            init, time = initial_slots(state, plan, 2 if self.network_type == "ctrnn" else 1, rows)
            schedule = self._schedule(rows.shape[0], time, advance_time, time_step)
            out, final = self.conv.forward(rows, plan, self._compute_weight(), self.bias, schedule, init, self._tau)
            K = rows.shape[0]
            # one view each way, no select: the backward of each runs outside the thread policy
            out = (out.view(K, T, plan.n_out, B).permute(1, 0, 3, 2) if self.batched      # [T, K, B, n_out]
                   else out.view(K, plan.n_out, B).transpose(1, 2))                     # [K, B, n_out]
            return (out, final_state(rows, init, final, schedule)) if return_state else out

    @torch.no_grad()
    def states(self, x: Tensor, state: Union[RecurrentState, Tensor, None] = None, *,
               advance_time: Optional[float] = None, time_step: Optional[float] = None,
               weight: Optional[Tensor] = None, bias: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        """Every neuron's pre-activation and activation on ``x``: ``(z, h)``, each ``[num_nodes, batch]``
        in compiled row order; :attr:`rows` names the neuron of each row. A recurrent network gives them
        after every step (every integration step of a ctrnn): ``[steps, num_nodes, batch]``, from ``state``
        if given (a neuron without incoming edges is never computed; its ``z`` is just its bias).
        ``weight`` and ``bias`` (feed-forward only) as in :meth:`forward`."""
        if self.recurrent:
            if weight is not None or bias is not None:
                raise ArgumentError("weight= and bias= overrides are for feed-forward networks; this one is "
                                    "recurrent.")
            with self.pass_threads(x.shape[-2] if isinstance(x, Tensor) and x.dim() > 1 else 1):
                rows = self._sequence_rows(x)
                init, time = initial_slots(state, self.plan, 2 if self.network_type == "ctrnn" else 1, rows)
                schedule = self._schedule(rows.shape[0], time, advance_time, time_step)
                return recurrent_states(self.conv, self.plan, rows, self._compute_weight(), self.bias, schedule,
                                        init, self._tau)
        rows = self._input_rows(x)
        weight = self._compute_weight() if weight is None else weight
        bias = self.bias if bias is None else bias
        H, Z = run_levels(self.conv, self.plan, rows.contiguous(), weight, bias)
        Z[:self.plan.num_inputs] = H[:self.plan.num_inputs]   # an input's "pre-activation" is its value
        return Z, H

    def stepper(self, batch: int = 1) -> "Stepper":
        """A discrete recurrent network's :class:`~mpnet.engine.recurrent.Stepper`: one step per call with few ops,
        for closed loops (a snapshot of the current weights; inference only)."""
        if self.network_type != "recurrent":
            raise ArgumentError(f"stepper() steps a discrete-time recurrent network; this one is "
                                f"{self.network_type}.")
        batch = check_int(batch, "batch", min=1)
        return Stepper(self.conv, self.plan, self._compute_weight().detach(), self.bias.detach(), batch)

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
        with torch.no_grad():
            weight = self._compute_weight()
        w = torch.empty(weight.numel(), dtype=torch.float64)
        w[self.data.edge_perm] = weight.double().cpu()
        b = self.arrays.bias.clone()
        b[self.data.node_perm[self.plan.num_inputs:]] = self.bias.detach().double().cpu()
        return w, b

    def topology(self, index: int = 0) -> Topology:
        """Topology ``index`` with its current (trained) weights and biases (frozen edges: the declared
        number itself)."""
        if isinstance(index, bool) or not isinstance(index, numbers.Integral):
            raise ArgumentError(f"Expected a topology index, an int in 0 .. {self.num_graphs - 1} (got "
                                f"{index!r}).")
        index = int(index)
        if not -self.num_graphs <= index < self.num_graphs:
            raise IndexError(f"Topology index {index} out of range: this network holds {self.num_graphs} "
                             f"topologies (valid: 0 .. {self.num_graphs - 1}).")
        if self._table is not None:
            return self._tied_topology(index % self.num_graphs, *self._parameter_values())
        return self.arrays.topology(index % self.num_graphs, *self.numbers())

    # a tied network reads back through its parameter table: each group's value goes back to its tie and each
    # edge's own parameter to its edge, so the topology keeps its ties (numbers() gives the summed weights)
    def _parameter_values(self) -> Tuple[Tensor, Tensor]:
        """Each parameter's value ``[P]`` (sign map applied, ties not summed) and the biases."""
        with torch.no_grad():
            self._write_back_edits()
            return self.constraint(self.raw_weight).detach().cpu(), self.bias.detach().cpu()

    def _tied_topology(self, index: int, w: Tensor, b: Tensor) -> Topology:
        """Topology ``index`` of a tied network with the parameter values ``w [P]`` and biases ``b`` (read for
        its own entries only)."""
        assert self._table is not None
        edges, edge_ids, row_ids = self._tied_index()
        mine = edge_ids[index]
        own = [self._table.own[i] for i in mine]
        with_own = [o for o in own if o >= 0]
        values = iter(w[torch.tensor(with_own, dtype=torch.long)].tolist() if with_own else [])
        weights: Dict = {}
        for i, o in zip(mine, own):
            if o < 0:
                continue   # no parameter of its own: its groups carry its value
            e = edges[i][1]
            value = next(values)
            weights[e.key] = value if e.trainable else e.weight   # frozen: the declared number itself
        ties: Dict = {}
        n_own = w.numel() - len(self._table.groups)
        for k, (t, name) in enumerate(self._table.groups):
            if t == index and self.topologies[t].ties[name].trainable:
                ties[name] = float(w[n_own + k])
        n_in = self.plan.num_inputs
        rows = row_ids[index]
        b_mine = b[torch.tensor(rows, dtype=torch.long) - n_in].tolist() if rows else []
        names = self.rows
        biases = {names[r][1]: value for r, value in zip(rows, b_mine)}
        return self.topologies[index].with_weights(weights, biases, ties)

    def _tied_index(self) -> Tuple[List[Tuple[int, Edge]], List[List[int]], List[List[int]]]:
        """A tied network's edges in compiled order, and per topology its entries of :attr:`weight` and its
        non-input rows (made once)."""
        if "_tied_index_made" not in self.__dict__:
            edges = self._edges
            edge_ids: List[List[int]] = [[] for _ in range(self.num_graphs)]
            row_ids: List[List[int]] = [[] for _ in range(self.num_graphs)]
            for i, (t, _) in enumerate(edges):
                edge_ids[t].append(i)
            for r, t in enumerate(self.data.batch.tolist()):
                if r >= self.plan.num_inputs:
                    row_ids[t].append(r)
            self._tied_index_made = (edges, edge_ids, row_ids)
        return self._tied_index_made

    def to_topology(self) -> Union[Topology, List[Topology]]:
        """The topology (or, for a batch, the list of topologies) with current weights and biases; the
        weights are read once for all, so a batch reads back in time linear in its size."""
        if self.batched:
            with _collector_paused():
                if self._table is not None:
                    values = self._parameter_values()
                    return [self._tied_topology(i, *values) for i in range(self.num_graphs)]
                numbers = self.numbers()
                return [self.arrays.topology(i, *numbers) for i in range(self.num_graphs)]
        return self.topology(0)

    # -------------------------------------------------------------------------------- save, load
    def save(self, path: Union[str, os.PathLike]) -> None:
        """Write the whole network to ``path`` (topologies, exact weights and biases, constraints, dtype,
        settings); :meth:`load` gives back an equal network. The format and why: :mod:`mpnet.persist`.

        Raises:
            FileNotFoundError: the file's directory does not exist.
        """
        from .persist import save_network
        save_network(self, path)

    @classmethod
    def load(cls, path: Union[str, os.PathLike], *, device=None) -> "Network":
        """Read a network written by :meth:`save` (onto ``device``, default the CPU).

        Raises:
            FormatError: the file is not a saved network, or is damaged; the message names the file and the
                field.
            FileNotFoundError: no such file.
        """
        from .persist import load_network
        return load_network(path, device=device)

    def __reduce_ex__(self, protocol):
        """Pickle (``torch.save(net)``, ``copy.deepcopy``, multiprocessing) as the plain data of :meth:`save`,
        rebuilt through the constructor; hooks and attributes added from outside are not kept."""
        from .persist import network_from_payload, network_payload
        return network_from_payload, (network_payload(self, cpu=False),)

    def __repr__(self) -> str:
        if self.recurrent:
            return (f"Network(graphs={self.num_graphs}, nodes={self.plan.num_nodes}, "
                    f"edges={self.data.edge_perm.numel()}, {self.network_type}, fused={self.conv.fused})")
        return (f"Network(graphs={self.num_graphs}, nodes={self.plan.num_nodes}, "
                f"edges={self.data.edge_perm.numel()}, depth={len(self.plan.levels)}, fused={self.conv.fused})")
