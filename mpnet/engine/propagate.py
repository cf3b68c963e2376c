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
  forward and two backward, on views and matrices made once (:mod:`mpnet.engine.state`): the per-level Python cost
  is a loop iteration. Each pass picks its thread count (:mod:`mpnet.threads`).
* the **plain** path (``fused=False``): the same maths through ``MessagePassing.propagate`` level by
  level with ordinary autograd (it re-concatenates the state per level, so it costs O(depth * N * B)
  more). It supports double backward and serves as a second opinion in the tests.
"""
import copy
import warnings
from typing import Any, Callable, Dict, List, Optional, Tuple

import torch
from torch import Tensor
from torch_geometric.nn import MessagePassing  # type: ignore[import-untyped]

from .compile import Level, Plan
from .functional import ACTIVATION_FNS, AGGREGATION_FNS, activate_into, backward_into
from .state import Buffers, Lease, Prebuilt
from ..threads import PassThreads

__all__ = ["LayeredConv", "run_levels"]

warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta state")

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


def _sweep(conv: "LayeredConv", plan: Plan, pre: Prebuilt, bufs: Buffers, x: Tensor, weight: Tensor,
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
    pre = Prebuilt.get(plan, weight)
    N, n_in = plan.num_nodes, plan.num_inputs
    H, Z = x.new_empty(N, x.shape[1]), x.new_empty(N, x.shape[1])
    H[:n_in].view(-1, x.shape[0], x.shape[1]).copy_(x)      # x: [num_inputs, B], or [n_in, B] for every graph
    torch.mul(weight, plan.edge_scale, out=pre.fwd_vals)
    for lvl, adj in zip(plan.levels, pre.fwd):
        _general_level(conv, plan, lvl, adj, H, Z, weight, bias)
    return H, Z


def _general_backward(conv: "LayeredConv", plan: Plan, lvl: Level, adj: Optional[Tensor], deeper: Tensor,
                      pull: Optional[Callable[..., Tensor]], outs: Optional[Tuple[Tensor, int, int]],
                      g: Tensor, D: Tensor, H: Tensor, Z: Tensor, weight: Tensor,
                      dw_generic: List[Tuple[int, int, Tensor]]) -> None:
    """One level's backward the general way: gradients pulled from deeper rows (``pull(adj, deeper)``, set only
    when ``adj`` is, see :meth:`Buffers.gradients`) plus the output gradient of its output rows, each run's
    derivative, and a small local autograd graph per group of generic (max, product, ...) neurons."""
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
    def forward(ctx: Any, conv: "LayeredConv", plan: Plan, x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
        pre = Prebuilt.get(plan, weight)
        bufs = pre.acquire(x.shape[1])
        ctx.lease = Lease(bufs)      # busy until this graph is freed
        with PassThreads(bufs.work):
            _sweep(conv, plan, pre, bufs, x, weight, bias)
            if any(ctx.needs_input_grad):   # a backward follows: its one-time parts (and their reads of the
                bufs.gradients(pre, plan)   # plan's level bounds) are made now, so the backward reads nothing
        ctx.conv, ctx.plan, ctx.pre, ctx.shared_x = conv, plan, pre, x.shape[0] != plan.num_inputs
        ctx.save_for_backward(weight)
        return bufs.H.index_select(0, plan.out_rows.view(-1))

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, grad_out: Tensor
                 ) -> Tuple[None, None, Optional[Tensor], Optional[Tensor], Optional[Tensor]]:
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
            dw_generic: List[Tuple[int, int, Tensor]] = []
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


_PROTOTYPES: Dict[Tuple[type, bool], "LayeredConv"] = {}   # per (layer class, fused)


class LayeredConv(MessagePassing):  # type: ignore[misc]   # torch_geometric has no type information
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
        proto = _PROTOTYPES.get((cls, fused))
        if proto is None:
            proto = _PROTOTYPES[cls, fused] = cls(fused)
        conv = copy.copy(proto)
        for key, value in proto.__dict__.items():
            if isinstance(value, (dict, list, set)):
                conv.__dict__[key] = copy.copy(value)
        return conv

    def forward(self, x: Tensor, plan: Plan, weight: Tensor, bias: Tensor) -> Tensor:
        if not self.fused:
            return self._plain(x, plan, weight, bias)
        if torch.is_grad_enabled() and (x.requires_grad or weight.requires_grad or bias.requires_grad):
            return _Layered.apply(self, plan, x, weight, bias)  # type: ignore[no-any-return, no-untyped-call]
        pre = Prebuilt.get(plan, weight)
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
        # torch_geometric's hook signature; its propagate, and every call here, gives dim_size
        return AGGREGATION_FNS[aggregation](inputs, index, dim_size)  # type: ignore[arg-type]

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
