"""Tied weights in the model: the learnable parameters of a batch of topologies and the map to per-edge weights.

Untied edges each own one parameter. Ties (:mod:`mpnet.graph.ties`) add one parameter per group, and an edge's
weight becomes a sum of terms ``w_e = sum c * p[param]``. :class:`TieMap` computes that sum with one gather
and one ``index_add`` over all terms, so the fused forward and backward see a plain ``[E]`` weight vector and
autograd sums each group's gradient over its edges. A network without ties builds no map (``w = p``).
"""
from typing import List, NamedTuple, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn
from torch.types import Device

from ..graph.ties import as_terms
from ..graph.topology import Edge, Topology

__all__ = ["ParameterTable", "parameter_table", "TieMap"]


class ParameterTable(NamedTuple):
    """The learnable parameters of a network, in order: every edge's own parameter (compiled edge order),
    then each topology's ties (declaration order)."""
    sign: List[float]                 # [P] +1, -1, 0 (free)
    frozen: List[bool]                # [P]
    given: List[Optional[float]]      # [P] declared initial value, None = drawn
    own: List[int]                    # [E] parameter of each edge's own term, -1 if it has none
    groups: List[Tuple[int, str]]     # [P - n_own] (topology index, tie name) of each group parameter
    terms: Optional[Tuple[List[int], List[int], List[float]]]   # (edge, parameter, coefficient); None: w = p


def parameter_table(topologies: Sequence[Topology], edges: Sequence[Tuple[int, Edge]]) -> ParameterTable:
    """The parameters of ``edges`` and their terms.

    Args:
        topologies: the network's topologies (their ties, in declaration order, follow the own parameters).
        edges: ``(topology index, Edge)`` in compiled order.
    """
    signs = {"+": 1.0, "-": -1.0, None: 0.0}
    sign: List[float] = []
    frozen: List[bool] = []
    given: List[Optional[float]] = []
    own: List[int] = []
    for _, e in edges:
        if any(g is None for g, _ in as_terms(e.tie)):
            own.append(len(sign))
            sign.append(signs[e.sign])
            frozen.append(not e.trainable)
            given.append(e.weight)
        else:
            own.append(-1)
    index = {}
    groups: List[Tuple[int, str]] = []
    for t, topo in enumerate(topologies):
        for name, tie in topo.ties.items():
            index[(t, name)] = len(sign)
            groups.append((t, name))
            sign.append(signs[tie.sign])
            frozen.append(not tie.trainable)
            given.append(tie.weight)
    if not groups:
        return ParameterTable(sign, frozen, given, own, groups, None)
    edge_ids: List[int] = []
    param_ids: List[int] = []
    coefs: List[float] = []
    for i, (t, e) in enumerate(edges):
        for group, coef in as_terms(e.tie):
            edge_ids.append(i)
            param_ids.append(own[i] if group is None else index[(t, group)])
            coefs.append(coef)
    return ParameterTable(sign, frozen, given, own, groups, (edge_ids, param_ids, coefs))


def group_bounds(table: ParameterTable, edge_bound: Tensor) -> Tensor:
    """``[P]`` the half-width of each parameter's random draw: an edge's own parameter takes its edge's bound
    (``1 / sqrt(fan_in)``); a group the mean bound of the edges where it enters with a positive coefficient
    (of all its edges if none)."""
    P = len(table.sign)
    bound = torch.zeros(P, dtype=edge_bound.dtype, device=edge_bound.device)
    own = torch.tensor(table.own, dtype=torch.long, device=edge_bound.device)
    has = own >= 0
    bound[own[has]] = edge_bound[has]
    if table.terms is not None:
        e, p, c = (torch.tensor(x, device=edge_bound.device) for x in table.terms)
        for mask in (c > 0, torch.ones_like(c, dtype=torch.bool)):
            total = torch.zeros(P, dtype=edge_bound.dtype, device=edge_bound.device).index_add_(
                0, p[mask], edge_bound[e[mask]])
            count = torch.bincount(p[mask], minlength=P).to(edge_bound.dtype)
            fill = (bound == 0) & (count > 0)
            bound = torch.where(fill, total / count.clamp(min=1), bound)
    return bound


class TieMap(nn.Module):
    """``p [P] -> w [E]``, ``w_e = sum over the terms of edge e of coefficient * p[parameter]``.

    Args:
        terms: ``(edge, parameter, coefficient)`` lists (see :class:`ParameterTable`).
        num_edges: ``E``.
    """
    edge: Tensor    # [K] buffers: the edge, parameter and coefficient of each term
    param: Tensor
    coef: Tensor

    def __init__(self, terms: Tuple[List[int], List[int], List[float]], num_edges: int, dtype: torch.dtype,
                 device: Device = None):
        super().__init__()
        edge, param, coef = terms
        self.num_edges = num_edges
        self.register_buffer("edge", torch.tensor(edge, dtype=torch.long, device=device))
        self.register_buffer("param", torch.tensor(param, dtype=torch.long, device=device))
        self.register_buffer("coef", torch.tensor(coef, dtype=dtype, device=device))

    def forward(self, p: Tensor) -> Tensor:
        """``p [P] -> w [E]`` (differentiable; the backward gathers each edge's gradient into its parameters)."""
        w = torch.zeros(self.num_edges, dtype=p.dtype, device=p.device)
        return w.index_add(0, self.edge, p[self.param] * self.coef)

    def __repr__(self) -> str:
        return f"TieMap(terms={self.edge.numel()}, edges={self.num_edges})"
