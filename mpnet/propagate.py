"""Layered, synchronous message passing over a compiled plan (third stage of the flow).

Step ``k`` updates only the depth-``k`` neurons, from the edges into them::

    z_i = r_i * aggregate_i({w_e * h_j : e = (j -> i)}) + b_i,      h_i = activation_i(z_i)

with a constant response ``r_i`` (1 unless set; for sum and mean neurons it is folded into the weights,
``plan.edge_scale``).

Two paths compute it:

* the **fused** path (default): one ``torch.autograd.Function`` runs every level into a preallocated state
  ``H: [num_nodes, batch]``. Neurons whose aggregation is a weighted sum (``sum``; ``mean`` is a sum with
  weights ``w / in_degree``) take one CSR sparse-dense product per level (``message_and_aggregate``), each
  edge read once per pass; the gradient of every weight comes from a single sampled product (SDDMM) over
  all edges after the backward sweep. Other aggregations run ``message`` / ``aggregate`` on the level's
  edges, with a small local autograd graph in the backward sweep.
* the **plain** path (``fused=False``): the same maths through ``MessagePassing.propagate`` level by
  level with ordinary autograd (it re-concatenates the state per level, so it costs O(depth * N * B)
  more). It supports double backward and serves as a second opinion in the tests.
"""
import warnings
from typing import Optional

import torch
from torch import Tensor
from torch_geometric.nn import MessagePassing

from .compile import Plan
from .functional import ACTIVATE_INTO, ACTIVATION_FNS, AGGREGATION_FNS, activate_into, backward_into

__all__ = ["LayeredConv", "run_levels"]

warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta state")


def _csr(crow: Tensor, col: Tensor, values: Tensor, shape) -> Tensor:
    return torch.sparse_csr_tensor(crow, col, values, shape, check_invariants=False)


class _Prebuilt:
    """Every level's CSR matrices, built once, whose values are views of two buffers: the forward's
    ``w_eff`` in edge order and the backward's in source order. A pass refreshes a buffer with one copy
    instead of building ~depth sparse tensors. Nothing saved for backward aliases these buffers."""

    def __init__(self, plan: Plan, dtype: torch.dtype, device: torch.device):
        self.state = None   # (H, Z) buffers reused by forward passes that need no gradient
        self.fwd_vals = torch.empty(plan.src.numel(), dtype=dtype, device=device)
        self.bwd_vals = torch.empty(plan.by_src.numel(), dtype=dtype, device=device)
        self.fwd = [_csr(l.crow, l.col, self.fwd_vals[l.e0:l.e_fused], (l.n_fused - l.n0, l.n0))
                    if l.n_fused > l.n0 else None for l in plan.levels]
        N = plan.num_nodes
        starts = [(0, plan.num_inputs, plan.out_crow0, plan.out_range0, plan.out_col0)] + \
            [(l.n0, l.n1, l.out_crow, l.out_range, l.out_col) for l in plan.levels]
        self.bwd = [_csr(crow, col, self.bwd_vals[a:b], (n1 - n0, N - n1)) if b > a else None
                    for n0, n1, crow, (a, b), col in starts]
        # the sparsity pattern of all edges, for the one SDDMM that gives every weight gradient
        self.pattern = _csr(plan.crow, plan.src32, torch.zeros(plan.src.numel(), dtype=dtype, device=device),
                            (N, N))
        # (n0, n1, n_fused, in-place activation or None): the forward loop's per-level numbers, unpacked once
        self.steps = [(l.n0, l.n1, l.n_fused,
                       ACTIVATE_INTO.get(l.runs[0][0]) if len(l.runs) == 1 and l.n_fused == l.n1 else None)
                      for l in plan.levels]

    @staticmethod
    def get(plan: Plan, like: Tensor) -> "_Prebuilt":
        key = (like.dtype, like.device)
        if key not in plan.prebuilt:
            plan.prebuilt[key] = _Prebuilt(plan, *key)
        return plan.prebuilt[key]


def _effective(plan: Plan, weight: Tensor) -> Tensor:
    return weight if plan.unit_scale else weight * plan.edge_scale


def run_levels(conv: "LayeredConv", plan: Plan, x: Tensor, weight: Tensor, bias: Tensor, reuse: bool = False):
    """The forward sweep without autograd: ``(H, Z)``, activations and pre-activations ``[num_nodes, B]``
    in compiled row order (rows of inputs: ``H = x``, ``Z`` undefined). ``reuse=True`` writes into buffers
    kept from the previous call of the same shape: only for callers that keep neither ``H`` nor ``Z``."""
    n_in, N = plan.num_inputs, plan.num_nodes
    batch = x.shape[1]
    pre = _Prebuilt.get(plan, weight)
    if reuse:
        if pre.state is None or pre.state[0].shape != (N, batch):
            pre.state = (x.new_empty(N, batch), x.new_empty(N, batch))
        H, Z = pre.state
    else:
        H, Z = x.new_empty(N, batch), x.new_empty(N, batch)
    H[:n_in] = x
    if plan.unit_scale:
        pre.fwd_vals.copy_(weight)
    else:
        torch.mul(weight, plan.edge_scale, out=pre.fwd_vals)
    src = plan.src
    b2 = bias.unsqueeze(1)
    for lvl, adj, (n0, n1, nf, simple) in zip(plan.levels, pre.fwd, pre.steps):
        if simple is not None:   # the common level: only fused sums (so adj exists), one activation
            zk, hk = Z[n0:n1], H[n0:n1]
            torch.addmm(b2[n0 - n_in:n1 - n_in], adj, H[:n0], out=zk)
            simple(zk, hk)
            continue
        if adj is not None:
            # message_and_aggregate (adj @ H) and the bias in one fused call
            torch.addmm(b2[n0 - n_in:nf - n_in], adj, H[:n0], out=Z[n0:nf])
        elif nf > n0:
            Z[n0:nf] = b2[n0 - n_in:nf - n_in]
        for (name, r0, r1, e0, e1), index in zip(lvl.generic, lvl.generic_index):
            m = conv.message(H[src[e0:e1]], weight[e0:e1])
            Z[r0:r1] = conv.aggregate(m, index, dim_size=r1 - r0, aggregation=name) \
                * plan.row_response[r0:r1, None] + bias[r0 - n_in:r1 - n_in, None]
        for name, r0, r1 in lvl.runs:
            activate_into(name, Z[r0:r1], H[r0:r1])
    return H, Z


class _Layered(torch.autograd.Function):
    """``(x_rows [num_inputs, B], weight [E], bias [N - num_inputs]) -> outputs [T * n_out, B]``."""

    @staticmethod
    def forward(ctx, conv: "LayeredConv", plan: Plan, x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
        H, Z = run_levels(conv, plan, x, weight, bias)
        ctx.conv, ctx.plan = conv, plan
        ctx.save_for_backward(H, Z, weight)
        return H[plan.out_rows.view(-1)]

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out: Tensor):
        conv, plan = ctx.conv, ctx.plan
        H, Z, weight = ctx.saved_tensors
        n_in = plan.num_inputs
        src = plan.src
        G = torch.zeros_like(H)                  # dL/dh
        dZ = torch.empty_like(H)                 # dL/dz: every non-input row is written before it is read
        G.index_add_(0, plan.out_rows.view(-1), grad_out)
        pre = _Prebuilt.get(plan, weight)
        torch.index_select(_effective(plan, weight), 0, plan.by_src, out=pre.bwd_vals)   # source order
        dw_generic = []

        for lvl, adj in zip(reversed(plan.levels), reversed(pre.bwd[1:])):
            n0, n1 = lvl.n0, lvl.n1
            gk = G[n0:n1]
            if adj is not None:   # gradients of this level's rows from the (finished) deeper fused neurons
                gk.addmm_(adj, dZ[n1:])
            if len(lvl.runs) == 1:
                backward_into(lvl.runs[0][0], gk, Z[n0:n1], H[n0:n1], dZ[n0:n1])
            else:
                for name, r0, r1 in lvl.runs:
                    backward_into(name, G[r0:r1], Z[r0:r1], H[r0:r1], dZ[r0:r1])
            for (name, r0, r1, e0, e1), index in zip(lvl.generic, lvl.generic_index):
                if e1 == e0:   # neurons without incoming edges: nothing to send back
                    continue
                with torch.enable_grad():
                    h_j = H[src[e0:e1]].detach().requires_grad_()
                    w = weight[e0:e1].detach().requires_grad_()
                    z = conv.aggregate(conv.message(h_j, w), index, dim_size=r1 - r0, aggregation=name)
                    g_h, g_w = torch.autograd.grad(z, (h_j, w), dZ[r0:r1] * plan.row_response[r0:r1, None])
                G.index_add_(0, src[e0:e1], g_h)
                dw_generic.append((e0, e1, g_w))
        if pre.bwd[0] is not None:   # the inputs' gradients, from the edges they send
            G[:n_in].addmm_(pre.bwd[0], dZ[n_in:])

        grad_x = G[:n_in] if ctx.needs_input_grad[2] else None
        grad_w = grad_b = None
        if ctx.needs_input_grad[3] and weight.numel():
            grad_w = torch.sparse.sampled_addmm(pre.pattern, dZ, H.t(), beta=0.0).values() * plan.edge_scale
            for e0, e1, g_w in dw_generic:
                grad_w[e0:e1] = g_w
        elif ctx.needs_input_grad[3]:
            grad_w = torch.zeros_like(weight)
        if ctx.needs_input_grad[4]:
            grad_b = dZ[n_in:].sum(1)
        return None, None, grad_x, grad_w, grad_b


class LayeredConv(MessagePassing):
    r"""Synchronous layered message passing: depth by depth, from the inputs to the outputs.

    .. math::
        h_i = \sigma_i\Big(r_i \bigoplus_{j \to i} w_{ji}\, h_j + b_i\Big)

    with a per-neuron activation :math:`\sigma_i`, aggregation :math:`\bigoplus_i` and constant response
    :math:`r_i`. The layer holds no
    parameters; :class:`mpnet.Network` passes the weights and biases.

    Shapes:
        x: ``[num_inputs, batch]`` (rows in the plan's input order), weight: ``[E]``,
        bias: ``[num_nodes - num_inputs]`` -> ``[T * n_out, batch]`` (rows in ``plan.out_rows`` order).
    """

    def __init__(self, fused: bool = True):
        super().__init__(aggr="sum", flow="source_to_target")
        self.fused = fused

    def forward(self, x: Tensor, plan: Plan, weight: Tensor, bias: Tensor) -> Tensor:
        if self.fused:
            if not torch.is_grad_enabled() or not (x.requires_grad or weight.requires_grad or bias.requires_grad):
                H, _ = run_levels(self, plan, x, weight, bias, reuse=True)   # nothing saved, buffers reused
                return H[plan.out_rows.view(-1)]
            return _Layered.apply(self, plan, x, weight, bias)
        return self._plain(x, plan, weight, bias)

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
        state = x
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
