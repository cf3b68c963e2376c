"""Layered, synchronous message passing over a compiled plan (third stage of the flow).

Step ``k`` updates only the depth-``k`` neurons, from the edges into them::

    z_i = r_i * aggregate_i({w_e * h_j : e = (j -> i)}) + b_i,      h_i = activation_i(z_i)

with a constant response ``r_i`` (1 unless set; for sum and mean neurons it is folded into the weights,
``plan.edge_scale``).

Two paths compute it:

* the **fused** path (default): one ``torch.autograd.Function`` runs every level into a state
  ``H: [num_nodes, batch]`` kept between passes. Neurons whose aggregation is a weighted sum (``sum``;
  ``mean`` is a sum with weights ``w / in_degree``) take one CSR sparse-dense product per level
  (``message_and_aggregate``), each edge read once per pass; the gradient of every weight comes from a
  single sampled product (SDDMM) over all edges after the backward sweep. Other aggregations run
  ``message`` / ``aggregate`` on the level's edges, with a small local autograd graph in the backward
  sweep. A level of sum neurons with one relu, tanh, sigmoid or identity activation is two in-place calls
  forward and two backward, on views and matrices made once (:class:`_Buffers`): the per-level Python cost
  is a loop iteration. Each pass picks its thread count (:mod:`mpnet.threads`).
* the **plain** path (``fused=False``): the same maths through ``MessagePassing.propagate`` level by
  level with ordinary autograd (it re-concatenates the state per level, so it costs O(depth * N * B)
  more). It supports double backward and serves as a second opinion in the tests.
"""
import copy
import threading
import warnings
from functools import partial
from typing import Dict, List, Optional, Tuple

import torch
from torch import Tensor
from torch_geometric.nn import MessagePassing

from .compile import Level, Plan, transpose
from .functional import (ACTIVATE_INPLACE, ACTIVATION_FNS, AGGREGATION_FNS, GRAD_FROM_H, activate_into,
                         backward_inplace, backward_into)
from .threads import PassThreads, Tuner

__all__ = ["LayeredConv", "run_levels"]

warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta state")

_POOL_PER_BATCH = 2    # state buffers kept per batch size (a training loop holds one graph while building the next)
_POOL_BATCHES = 4      # batch sizes kept
_BIG_STATE = 1 << 22   # elements of H above which a fast level's derivative is one fused kernel per run


def _csr(crow: Tensor, col: Tensor, values: Tensor, shape) -> Tensor:
    return torch.sparse_csr_tensor(crow, col, values, shape, check_invariants=False)


class _Buffers:
    """The state of passes at one batch size, kept between passes, with every level's views made once:
    ``H [N, B]`` (activations; the rows of fast levels are computed in place), ``Z [N, B]`` (pre-activations,
    only when some level needs them), ``D [N, B]`` (gradients, made at the first backward).

    A *fast* level (sum or mean neurons only, one activation of :data:`~mpnet.functional.ACTIVATE_INPLACE`)
    is one in-place sparse product into its rows, which hold their biases, and one in-place activation; its
    backward is one product and one in-place derivative computed from ``h``. Each step below holds the
    bound methods and views it calls, so the loop over levels does no slicing and no bookkeeping.
    """
    __slots__ = ("busy", "batch", "H", "Z", "D", "x_rows", "rest", "steps", "back", "grad_h", "zero",
                 "inputs_touched", "out_order", "work", "tuner")

    def __init__(self, pre: "_Prebuilt", plan: Plan, batch: int):
        N, n_in = plan.num_nodes, plan.num_inputs
        self.busy, self.batch = True, batch
        self.H = torch.empty(N, batch, dtype=pre.dtype, device=pre.device)
        self.Z = None if all(pre.fast) else torch.empty_like(self.H)
        self.x_rows, self.rest = self.H[:n_in], self.H[n_in:]
        self.steps: List[tuple] = []
        H = self.H
        for lvl, adj, fast in zip(plan.levels, pre.fwd, pre.fast):
            if not fast:
                self.steps.append((False, lvl, adj, None, None))
            else:   # one in-place method per run that is not the identity
                acts = tuple(getattr(H[r0:r1], ACTIVATE_INPLACE[name]) for name, r0, r1 in lvl.runs
                             if ACTIVATE_INPLACE[name] is not None)
                self.steps.append((True, H[lvl.n0:lvl.n1].addmm_, adj, H[:lvl.n0], acts))
        self.D: Optional[Tensor] = None
        self.back: List[tuple] = []
        self.grad_h: Dict[str, Tensor] = {}
        self.zero: List = []            # zero_ of the D rows that accumulate
        self.inputs_touched = False
        self.work = plan.work_per_sample * batch      # per level, for the thread policy
        self.tuner = Tuner()                          # the backward's thread count at this batch size

    def gradients(self, pre: "_Prebuilt", plan: Plan) -> Tensor:
        """``D``, with the backward steps over it (deepest level first), made on first use.

        A level's rows are written by its pull from deeper rows with ``beta=0`` (no zeroing of ``D``); the
        output gradient of its output rows is added after the pull (:attr:`out_order` sorts ``grad_out`` by
        row once per backward, each level adds its slice). Only levels that receive the sends of generic
        neurons, or pull nothing, are zeroed first (:attr:`zero`) and accumulate. A fast level's derivative
        is one in-place multiply per run: by the rows of a whole-state buffer ``f'(z)`` that
        :meth:`derivatives` fills from ``H`` (one pass per activation), or, when the state is big (a call's
        overhead then does not count, the extra pass would), one fused kernel per run."""
        if self.D is None:
            D, H = torch.empty_like(self.H), self.H
            adjs = pre.backward_parts()[1]
            big = H.numel() > _BIG_STATE
            touched = torch.zeros(plan.num_nodes, dtype=torch.bool, device=H.device)
            touched[plan.src[plan.generic_edges]] = True
            lp = plan.level_ptr.cpu()
            hit = torch.segment_reduce(touched.float().cpu(), "max", offsets=lp).bool().tolist()
            out_rows, self.out_order = torch.sort(plan.out_rows.reshape(-1))
            cut = torch.searchsorted(out_rows.cpu(), lp).tolist()    # outputs of depth k: [cut[k], cut[k + 1])
            self.inputs_touched = hit[0]
            if hit[0]:
                self.zero.append(D[:plan.num_inputs].zero_)
            for k in range(len(plan.levels), 0, -1):
                lvl, adj, fast = plan.levels[k - 1], adjs[k], pre.fast[k - 1]
                dk, deeper = D[lvl.n0:lvl.n1], D[lvl.n1:]
                accumulate = hit[k] or adj is None
                if accumulate:
                    self.zero.append(dk.zero_)
                pull = None if adj is None else dk.addmm_ if accumulate else partial(dk.addmm_, beta=0.0)
                outs = (out_rows[cut[k]:cut[k + 1]], cut[k], cut[k + 1]) if cut[k + 1] > cut[k] else None
                if not fast:
                    self.back.append((False, lvl, adj, deeper, pull, outs))
                    continue
                grads = []
                for name, r0, r1 in lvl.runs:
                    if name == "identity":
                        continue
                    if big:
                        grads.append(backward_inplace(name, D[r0:r1], H[r0:r1]))
                    else:
                        if name not in self.grad_h:
                            self.grad_h[name] = torch.empty_like(H)
                        grads.append(partial(D[r0:r1].mul_, self.grad_h[name][r0:r1]))
                self.back.append((True, pull, adj, deeper, tuple(grads), outs))
            self.D = D
        return self.D

    def derivatives(self) -> None:
        """Fill the whole-state derivative buffers from ``H`` (see :meth:`gradients`)."""
        for name, out in self.grad_h.items():
            GRAD_FROM_H[name](self.H, out)


class _Lease:
    """Held by an autograd graph: its buffers stay busy until the graph is freed (a second backward with
    ``retain_graph=True`` still finds its forward's state)."""
    __slots__ = ("bufs",)

    def __init__(self, bufs: _Buffers):
        self.bufs = bufs

    def __del__(self):
        self.bufs.busy = False


class _Prebuilt:
    """Per plan, dtype and device: every level's CSR matrix, built once, whose values are views of one
    buffer (the forward's ``w_eff`` in edge order; a pass refreshes it with one copy), and pools of
    :class:`_Buffers`. The backward's matrices (edges sorted by source, values in a second buffer) and the
    sparsity pattern of the one SDDMM that gives every weight gradient are made at the first backward."""

    def __init__(self, plan: Plan, dtype: torch.dtype, device: torch.device):
        self.plan, self.dtype, self.device = plan, dtype, device
        self.fwd_vals = torch.empty(plan.src.numel(), dtype=dtype, device=device)
        self.fwd = [_csr(l.crow, l.col, self.fwd_vals[l.e0:l.e_fused], (l.n_fused - l.n0, l.n0))
                    if l.n_fused > l.n0 else None for l in plan.levels]
        # fast levels: sum/mean neurons only, each run's activation one of ACTIVATE_INPLACE
        self.fast = [l.n_fused == l.n1 and adj is not None and all(r[0] in ACTIVATE_INPLACE for r in l.runs)
                     for l, adj in zip(plan.levels, self.fwd)]
        self._back = None
        self.pool: dict = {}
        self.lock = threading.Lock()

    def backward_parts(self):
        """``(by_src, [CSR of the edges leaving each depth, inputs first], bwd_vals, pattern)``."""
        if self._back is None:
            plan, N = self.plan, self.plan.num_nodes
            tr = transpose(plan)
            bwd_vals = torch.empty(tr.by_src.numel(), dtype=self.dtype, device=self.device)
            rows = [(0, plan.num_inputs)] + [(l.n0, l.n1) for l in plan.levels]
            adjs = [_csr(crow, col, bwd_vals[a:b], (n1 - n0, N - n1)) if b > a else None
                    for (n0, n1), (crow, (a, b), col) in zip(rows, tr.levels)]
            # int64 indices: sampled_addmm runs ~30% faster with them than with int32 ones (unlike the products)
            pattern = _csr(plan.crow.long(), plan.src, torch.zeros(plan.src.numel(), dtype=self.dtype,
                                                                    device=self.device), (N, N))
            self._back = (tr.by_src, adjs, bwd_vals, pattern)
        return self._back

    def acquire(self, batch: int) -> _Buffers:
        """A free :class:`_Buffers` of this batch size (marked busy), made if none is free."""
        with self.lock:
            kept = self.pool.pop(batch, [])
            self.pool[batch] = kept                                   # most recently used last
            for bufs in kept:
                if not bufs.busy:
                    bufs.busy = True
                    return bufs
            bufs = _Buffers(self, self.plan, batch)
            if len(kept) < _POOL_PER_BATCH:
                kept.append(bufs)
            while len(self.pool) > _POOL_BATCHES:
                del self.pool[next(iter(self.pool))]
            return bufs

    @staticmethod
    def get(plan: Plan, like: Tensor) -> "_Prebuilt":
        key = (like.dtype, like.device)
        if key not in plan.prebuilt:
            plan.prebuilt[key] = _Prebuilt(plan, *key)
        return plan.prebuilt[key]


def _effective(plan: Plan, weight: Tensor) -> Tensor:
    return weight if plan.unit_scale else weight * plan.edge_scale


def _general_level(conv: "LayeredConv", plan: Plan, lvl: Level, adj: Optional[Tensor], H: Tensor, Z: Tensor,
                   weight: Tensor, bias: Tensor) -> None:
    """One level the general way: pre-activations into ``Z`` (fused rows by one CSR product, the others by
    ``message`` / ``aggregate``), then each run's activation into ``H``."""
    n_in, n0, nf = plan.num_inputs, lvl.n0, lvl.n_fused
    if adj is not None:   # message_and_aggregate (adj @ H) and the bias in one fused call
        torch.addmm(bias[n0 - n_in:nf - n_in, None], adj, H[:n0], out=Z[n0:nf])
    src = plan.src
    for (name, r0, r1, e0, e1), index in zip(lvl.generic, lvl.generic_index):
        m = conv.message(H[src[e0:e1]], weight[e0:e1])
        Z[r0:r1] = conv.aggregate(m, index, dim_size=r1 - r0, aggregation=name) \
            * plan.row_response[r0:r1, None] + bias[r0 - n_in:r1 - n_in, None]
    for name, r0, r1 in lvl.runs:
        activate_into(name, Z[r0:r1], H[r0:r1])


def _sweep(conv: "LayeredConv", plan: Plan, pre: _Prebuilt, bufs: _Buffers, x: Tensor, weight: Tensor,
           bias: Tensor) -> None:
    """The forward sweep into ``bufs`` (no autograd)."""
    if x.shape[0] == plan.num_inputs:
        bufs.x_rows.copy_(x)
    else:                                  # one input [n_in, B] for every graph: broadcast, never repeated
        bufs.x_rows.view(plan.num_graphs, plan.n_in, -1).copy_(x)
    bufs.rest.copy_(bias.unsqueeze(1))     # every row starts at its bias; fast levels add their product to it
    if plan.unit_scale:
        pre.fwd_vals.copy_(weight)
    else:
        torch.mul(weight, plan.edge_scale, out=pre.fwd_vals)
    H, Z = bufs.H, bufs.Z
    for fast, a, b, c, d in bufs.steps:
        if fast:
            a(b, c)               # h_k += A_k @ H[:n0]
            for activate in d:
                activate()        # h = f(h) in place, run by run
        else:
            _general_level(conv, plan, a, b, H, Z, weight, bias)


def run_levels(conv: "LayeredConv", plan: Plan, x: Tensor, weight: Tensor, bias: Tensor) -> Tuple[Tensor, Tensor]:
    """The forward sweep without autograd, every level the general way: ``(H, Z)``, activations and
    pre-activations ``[num_nodes, B]`` in compiled row order (new tensors; rows of inputs: ``H = x``, ``Z``
    undefined)."""
    pre = _Prebuilt.get(plan, weight)
    N, n_in = plan.num_nodes, plan.num_inputs
    H, Z = x.new_empty(N, x.shape[1]), x.new_empty(N, x.shape[1])
    H[:n_in].view(-1, x.shape[0], x.shape[1]).copy_(x)      # x: [num_inputs, B], or [n_in, B] for every graph
    torch.mul(weight, plan.edge_scale, out=pre.fwd_vals)
    for lvl, adj in zip(plan.levels, pre.fwd):
        _general_level(conv, plan, lvl, adj, H, Z, weight, bias)
    return H, Z


def _general_backward(conv: "LayeredConv", plan: Plan, lvl: Level, adj: Optional[Tensor], deeper: Tensor,
                      pull, outs, g: Tensor, D: Tensor, H: Tensor, Z: Tensor, weight: Tensor, dw_generic: list) -> None:
    """One level's backward the general way: gradients pulled from deeper rows (``pull``, see
    :meth:`_Buffers.gradients`) plus the output gradient of its output rows, each run's derivative, and a
    small local autograd graph per group of generic (max, product, ...) neurons."""
    src = plan.src
    if pull is not None:   # gradients of this level's rows from the (finished) deeper fused neurons
        pull(adj, deeper)
    if outs is not None:
        D.index_add_(0, outs[0], g[outs[1]:outs[2]])
    for name, r0, r1 in lvl.runs:
        backward_into(name, D[r0:r1], Z[r0:r1], H[r0:r1], D[r0:r1])
    for (name, r0, r1, e0, e1), index in zip(lvl.generic, lvl.generic_index):
        if e1 == e0:   # neurons without incoming edges: nothing to send back
            continue
        with torch.enable_grad():
            h_j = H[src[e0:e1]].detach().requires_grad_()
            w = weight[e0:e1].detach().requires_grad_()
            z = conv.aggregate(conv.message(h_j, w), index, dim_size=r1 - r0, aggregation=name)
            g_h, g_w = torch.autograd.grad(z, (h_j, w), D[r0:r1] * plan.row_response[r0:r1, None])
        D.index_add_(0, src[e0:e1], g_h)
        dw_generic.append((e0, e1, g_w))


class _Layered(torch.autograd.Function):
    """``(x_rows [num_inputs, B], weight [E], bias [N - num_inputs]) -> outputs [T * n_out, B]``."""

    @staticmethod
    def forward(ctx, conv: "LayeredConv", plan: Plan, x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
        pre = _Prebuilt.get(plan, weight)
        bufs = pre.acquire(x.shape[1])
        ctx.lease = _Lease(bufs)      # busy until this graph is freed
        with PassThreads(bufs.work):
            _sweep(conv, plan, pre, bufs, x, weight, bias)
        ctx.conv, ctx.plan, ctx.pre, ctx.shared_x = conv, plan, pre, x.shape[0] != plan.num_inputs
        ctx.save_for_backward(weight)
        return bufs.H.index_select(0, plan.out_rows.view(-1))

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out: Tensor):
        conv, plan, pre, bufs = ctx.conv, ctx.plan, ctx.pre, ctx.lease.bufs
        (weight,) = ctx.saved_tensors
        n_in = plan.num_inputs
        with PassThreads(bufs.work, bufs.tuner):
            by_src, adjs, bwd_vals, pattern = pre.backward_parts()
            D = bufs.gradients(pre, plan)   # dL/dh of input rows, dL/dz of the others
            bufs.derivatives()
            H, Z = bufs.H, bufs.Z
            for zero in bufs.zero:
                zero()
            g = grad_out.index_select(0, bufs.out_order)                                 # sorted by row
            torch.index_select(_effective(plan, weight), 0, by_src, out=bwd_vals)   # source order
            dw_generic: list = []
            for fast, a, b, c, d, o in bufs.back:
                if fast:
                    if a is not None:
                        a(b, c)           # d_k = A_k' @ D[n1:], the edges leaving level k
                    if o is not None:
                        D.index_add_(0, o[0], g[o[1]:o[2]])    # the level's output rows: + dL/dy
                    for derivative in d:
                        derivative()      # d *= f'(z), from h, run by run
                else:
                    _general_backward(conv, plan, a, b, c, d, o, g, D, H, Z, weight, dw_generic)
            grad_x = grad_w = grad_b = None
            if ctx.needs_input_grad[2]:
                if adjs[0] is not None:   # the inputs' gradients, from the edges they send
                    D[:n_in].addmm_(adjs[0], D[n_in:], beta=1.0 if bufs.inputs_touched else 0.0)
                elif not bufs.inputs_touched:
                    D[:n_in].zero_()
                if ctx.shared_x:          # one input for every graph: its gradient sums theirs
                    grad_x = D[:n_in].view(plan.num_graphs, plan.n_in, -1).sum(0)
                else:
                    grad_x = D[:n_in].clone()
            if ctx.needs_input_grad[3] and weight.numel():
                grad_w = torch.sparse.sampled_addmm(pattern, D, H.t(), beta=0.0).values()
                if not plan.unit_scale:
                    grad_w = grad_w * plan.edge_scale
                for e0, e1, g_w in dw_generic:
                    grad_w[e0:e1] = g_w
            elif ctx.needs_input_grad[3]:
                grad_w = torch.zeros_like(weight)
            if ctx.needs_input_grad[4]:
                grad_b = D[n_in:].sum(1)
        return None, None, grad_x, grad_w, grad_b


_PROTOTYPES: Dict[bool, "LayeredConv"] = {}


class LayeredConv(MessagePassing):
    r"""Synchronous layered message passing: depth by depth, from the inputs to the outputs.

    .. math::
        h_i = \sigma_i\Big(r_i \bigoplus_{j \to i} w_{ji}\, h_j + b_i\Big)

    with a per-neuron activation :math:`\sigma_i`, aggregation :math:`\bigoplus_i` and constant response
    :math:`r_i`. The layer holds no
    parameters; :class:`mpnet.Network` passes the weights and biases.

    Shapes:
        x: ``[num_inputs, batch]`` (rows in the plan's input order) or ``[n_in, batch]`` (one input for
        every graph), weight: ``[E]``,
        bias: ``[num_nodes - num_inputs]`` -> ``[T * n_out, batch]`` (rows in ``plan.out_rows`` order).
    """

    def __init__(self, fused: bool = True):
        super().__init__(aggr="sum", flow="source_to_target")
        self.fused = fused

    @classmethod
    def make(cls, fused: bool = True) -> "LayeredConv":
        """A new layer copied from a prototype: torch_geometric inspects a layer's method signatures in its
        constructor (~0.5 ms), most of what building a small :class:`~mpnet.Network` would cost. The copy
        gets its own hook and registry containers; it holds no parameters or buffers."""
        proto = _PROTOTYPES.get(fused)
        if proto is None:
            proto = _PROTOTYPES[fused] = cls(fused)
        conv = copy.copy(proto)
        for key, value in proto.__dict__.items():
            if isinstance(value, (dict, list, set)):
                conv.__dict__[key] = copy.copy(value)
        return conv

    def forward(self, x: Tensor, plan: Plan, weight: Tensor, bias: Tensor) -> Tensor:
        if not self.fused:
            return self._plain(x, plan, weight, bias)
        if torch.is_grad_enabled() and (x.requires_grad or weight.requires_grad or bias.requires_grad):
            return _Layered.apply(self, plan, x, weight, bias)
        pre = _Prebuilt.get(plan, weight)
        bufs = pre.acquire(x.shape[1])
        try:
            with PassThreads(bufs.work):
                _sweep(self, plan, pre, bufs, x, weight, bias)
                return bufs.H.index_select(0, plan.out_rows.view(-1))
        finally:
            bufs.busy = False

    # ------------------------------------------------------------------------- MessagePassing maths
    def message(self, x_j: Tensor, edge_weight: Tensor) -> Tensor:
        return edge_weight.view(-1, 1) * x_j

    def aggregate(self, inputs: Tensor, index: Tensor, ptr: Optional[Tensor] = None,
                  dim_size: Optional[int] = None, aggregation: str = "sum") -> Tensor:
        return AGGREGATION_FNS[aggregation](inputs, index, dim_size)

    def message_and_aggregate(self, adj_t: Tensor, x: Tensor) -> Tensor:
        return adj_t @ x

    @staticmethod
    def activate(z: Tensor, bias: Tensor, activation: str) -> Tensor:
        return ACTIVATION_FNS[activation].fn(z + bias.view(-1, 1))

    # ------------------------------------------------------------------------------- plain path
    def _plain(self, x: Tensor, plan: Plan, weight: Tensor, bias: Tensor) -> Tensor:
        n_in = plan.num_inputs
        state = x if x.shape[0] == n_in else x.repeat(plan.num_graphs, 1)
        w_eff = weight * plan.edge_scale
        src, dst = plan.src, plan.dst
        for lvl in plan.levels:
            parts = []
            if lvl.n_fused > lvl.n0:
                e = slice(lvl.e0, lvl.e_fused)
                edge_index = torch.stack([src[e], dst[e] - lvl.n0])
                agg = self.propagate(edge_index, x=(state, None), edge_weight=w_eff[e],
                                     size=(state.shape[0], lvl.n_fused - lvl.n0), aggregation="sum")
                parts.append(agg)
            for name, r0, r1, e0, e1 in lvl.generic:
                edge_index = torch.stack([src[e0:e1], dst[e0:e1] - r0])
                parts.append(self.propagate(edge_index, x=(state, None), edge_weight=weight[e0:e1],
                                            size=(state.shape[0], r1 - r0), aggregation=name)
                             * plan.row_response[r0:r1, None])
            z = torch.cat(parts) if len(parts) > 1 else parts[0]
            outs = [self.activate(z[r0 - lvl.n0:r1 - lvl.n0], bias[r0 - n_in:r1 - n_in], name)
                    for name, r0, r1 in lvl.runs]
            state = torch.cat([state] + outs)
        return state[plan.out_rows.view(-1)]
