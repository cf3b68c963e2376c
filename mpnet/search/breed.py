"""NEAT's genomes as columns, the compatibility distance and crossover aligned by innovation number as tensor
operations over a whole population at once (search stage; torch on the CPU, no Python object per genome or
gene). The mutations are in :mod:`~mpnet.search.mutation`.

A :class:`Pool` holds ``P`` genomes the way :class:`~mpnet.search.genome.Genome` does, as flat columns: node
genes sorted by (genome, key), connection genes by (genome, innovation); ``node_ptr`` / ``conn_ptr``
(``[P + 1]``) say where each genome starts. Keys and innovation numbers come from the same
:class:`~mpnet.search.genome.Innovations` table as the object path, so both paths number structure alike.
Every operator follows its object twin in :mod:`~mpnet.search.operators` (the same probabilities, the same
choices), drawing from a ``torch.Generator`` instead of ``random.Random``.
"""
from dataclasses import dataclass, replace
from typing import List, Optional, Tuple

import torch
from torch import Tensor

from ..graph.vocabulary import ACTIVATIONS
from .config import NEATConfig

__all__ = ["Pool", "Lineup", "ranges", "owners", "distance_to", "crossover", "ACT_INDEX"]

ACT_INDEX = {name: i for i, name in enumerate(ACTIVATIONS)}
_L = torch.long


def ranges(ptr: Tensor, rows: Tensor) -> Tuple[Tensor, Tensor]:
    """The positions of every element of segments ``rows`` of ``ptr`` (in that order) and their new ``ptr``."""
    counts = ptr[rows + 1] - ptr[rows]
    new_ptr = torch.zeros(len(rows) + 1, dtype=_L)
    torch.cumsum(counts, 0, out=new_ptr[1:])
    total = int(new_ptr[-1])
    start = torch.repeat_interleave(ptr[rows] - new_ptr[:-1], counts, output_size=total)
    return start + torch.arange(total), new_ptr


def owners(ptr: Tensor) -> Tensor:
    """``[ptr[-1]]`` the segment of each element."""
    return torch.repeat_interleave(torch.arange(len(ptr) - 1), ptr.diff(), output_size=int(ptr[-1]))


def _ptr(owner: Tensor, count: int) -> Tensor:
    ptr = torch.zeros(count + 1, dtype=_L)
    torch.cumsum(torch.bincount(owner, minlength=count), 0, out=ptr[1:])
    return ptr


def found(sorted_codes: Tensor, query: Tensor) -> Tuple[Tensor, Tensor]:
    """``(hit, pos)``: whether each query code is in ``sorted_codes`` and where (clamped where not)."""
    pos = torch.searchsorted(sorted_codes, query).clamp_(max=max(len(sorted_codes) - 1, 0))
    hit = sorted_codes[pos] == query if len(sorted_codes) else torch.zeros(len(query), dtype=torch.bool)
    return hit, pos


@dataclass
class Pool:
    """``P`` NEAT genomes as columns (see the module docstring).

    Shapes:
        key: ``[P]`` genome keys. node_ptr, conn_ptr: ``[P + 1]``. Per node gene ``[N]``: node_key, bias
        (float64, NEAT units), act (index into ``ACTIVATIONS``). Per connection gene ``[C]``: src, dst (node
        keys), innov, weight (float64), enabled (bool).
    """
    n_inputs: int
    n_outputs: int
    key: Tensor
    node_ptr: Tensor
    node_key: Tensor
    bias: Tensor
    act: Tensor
    conn_ptr: Tensor
    src: Tensor
    dst: Tensor
    innov: Tensor
    weight: Tensor
    enabled: Tensor

    def __len__(self) -> int:
        return len(self.key)

    @classmethod
    def build(cls, n_inputs: int, n_outputs: int, key: Tensor, node_g: Tensor, node_key: Tensor, bias: Tensor,
              act: Tensor, conn_g: Tensor, src: Tensor, dst: Tensor, innov: Tensor, weight: Tensor,
              enabled: Tensor) -> "Pool":
        """A pool from unordered gene rows, each naming its genome ``node_g`` / ``conn_g`` (0 .. P - 1)."""
        P = len(key)
        span = int(node_key.max()) + 1 if len(node_key) else 1
        order = torch.argsort(node_g * span + node_key)
        span = int(innov.max()) + 1 if len(innov) else 1
        corder = torch.argsort(conn_g * span + innov)
        return cls(n_inputs, n_outputs, key, _ptr(node_g, P), node_key[order], bias[order], act[order],
                   _ptr(conn_g, P), src[corder], dst[corder], innov[corder], weight[corder], enabled[corder])

    def take(self, rows: Tensor, keys: Tensor) -> "Pool":
        """Copies of genomes ``rows`` (a row may repeat), given the keys ``keys``."""
        nodes, node_ptr = ranges(self.node_ptr, rows)
        conns, conn_ptr = ranges(self.conn_ptr, rows)
        return Pool(self.n_inputs, self.n_outputs, keys, node_ptr, self.node_key[nodes], self.bias[nodes],
                    self.act[nodes], conn_ptr, self.src[conns], self.dst[conns], self.innov[conns],
                    self.weight[conns], self.enabled[conns])

    def rows(self) -> Tuple[Tensor, Tensor]:
        """The genome of every node gene and of every connection gene."""
        return owners(self.node_ptr), owners(self.conn_ptr)

    def node_codes(self) -> Tuple[Tensor, int]:
        """Sorted ``genome * span + key`` of every node gene, and ``span``."""
        span = int(self.node_key.max()) + 1 if len(self.node_key) else 1
        return owners(self.node_ptr) * span + self.node_key, span

    def conn_codes(self) -> Tuple[Tensor, int]:
        """Sorted ``genome * span + innovation`` of every connection gene, and ``span``."""
        span = int(self.innov.max()) + 1 if len(self.innov) else 1
        return owners(self.conn_ptr) * span + self.innov, span

    def node_rows(self, g: Tensor, keys: Tensor) -> Tuple[Tensor, Tensor]:
        """``(hit, row)``: whether genome ``g`` has node ``keys`` and its row."""
        codes, span = self.node_codes()
        ok = keys < span
        hit, pos = found(codes, g * span + keys.clamp(max=span - 1))
        return hit & ok, pos

    def extended(self, nodes: Tuple[Tensor, ...], conns: Tuple[Tensor, ...]) -> "Pool":
        """This pool with more genes: ``nodes = (genome, key, bias, act)`` and ``conns = (genome, src, dst,
        innov, weight, enabled)`` rows, in any order."""
        ng, cg = self.rows()
        return Pool.build(self.n_inputs, self.n_outputs, self.key, torch.cat([ng, nodes[0]]),
                          torch.cat([self.node_key, nodes[1]]), torch.cat([self.bias, nodes[2]]),
                          torch.cat([self.act, nodes[3]]), torch.cat([cg, conns[0]]), torch.cat([self.src, conns[1]]),
                          torch.cat([self.dst, conns[2]]), torch.cat([self.innov, conns[3]]),
                          torch.cat([self.weight, conns[4]]), torch.cat([self.enabled, conns[5]]))

    def without(self, node_drop: Tensor, conn_drop: Tensor) -> "Pool":
        """This pool less the node genes and connection genes flagged (``[N]``, ``[C]`` bool)."""
        ng, cg = self.rows()
        kn, kc = ~node_drop, ~conn_drop
        P = len(self)
        return Pool(self.n_inputs, self.n_outputs, self.key, _ptr(ng[kn], P), self.node_key[kn], self.bias[kn],
                    self.act[kn], _ptr(cg[kc], P), self.src[kc], self.dst[kc], self.innov[kc], self.weight[kc],
                    self.enabled[kc])


# ----------------------------------------------------------------------------------------- distance
@dataclass
class Lineup:
    """What :func:`distance_to` reads of a pool, computed once for many representatives."""
    g_conn: Tensor      # [C] genome of each connection gene
    size: Tensor        # [P] connection genes
    g_max: Tensor       # [P] highest innovation (-1: none)
    key: Tensor         # [M] the node genes past the inputs (the only ones compared): key, genome, bias, act
    genome: Tensor
    bias: Tensor
    act: Tensor

    @classmethod
    def of(cls, pool: Pool) -> "Lineup":
        g_node, g_conn = pool.rows()
        g_max = torch.full((len(pool),), -1, dtype=_L).scatter_reduce_(0, g_conn, pool.innov, "amax")
        later = pool.node_key >= pool.n_inputs
        return cls(g_conn, pool.conn_ptr.diff(), g_max, pool.node_key[later], g_node[later],
                   pool.bias[later], pool.act[later])


def distance_to(pool: Pool, rep: Pool, config: NEATConfig,
                lineup: Optional[Lineup] = None) -> Tensor:
    """``[P]`` NEAT's compatibility distance of every genome of ``pool`` to the single genome ``rep``
    (:func:`mpnet.search.operators.distance`: excess and disjoint genes by innovation number, the mean
    weight difference of matching genes, matching neurons' bias difference plus 1 where activations differ).
    ``lineup``: :meth:`Lineup.of` the pool, when comparing it with many representatives."""
    view = lineup or Lineup.of(pool)
    P = len(pool)
    size, g_max = view.size, view.g_max
    r_size = len(rep.innov)
    r_max = int(rep.innov.max()) if r_size else -1
    span = max(int(pool.innov.max()) if len(pool.innov) else 0, r_max) + 1
    r_w = torch.zeros(span, dtype=torch.float64)
    r_has = torch.zeros(span, dtype=torch.bool)
    r_w[rep.innov], r_has[rep.innov] = rep.weight, True
    # per gene: matched (0/1), |weight difference| where matched, past the representative's highest innovation
    cols = torch.empty(len(pool.innov), 3, dtype=torch.float64)
    match = r_has[pool.innov]
    cols[:, 0] = match
    torch.mul(torch.sub(pool.weight, r_w[pool.innov]).abs_(), match, out=cols[:, 1])
    cols[:, 2] = pool.innov > r_max
    per = torch.zeros(P, 3, dtype=torch.float64).index_add_(0, view.g_conn, cols)
    common, diff, mine = per[:, 0], per[:, 1], per[:, 2]
    # excess: genes past the smaller of the two highest innovations (only the other genome has any)
    theirs = r_size - torch.searchsorted(torch.sort(rep.innov).values, g_max, right=True)
    excess = torch.where(g_max > r_max, mine, theirs.double())
    excess = torch.where((size == 0) | (r_size == 0), (size + r_size).double(), excess)
    unmatched = size + r_size - 2 * common
    # neurons past the inputs that both genomes have: bias difference, + 1 where the activation differs
    nspan = max(int(pool.node_key.max()) if len(pool.node_key) else 0, int(rep.node_key.max())) + 1
    r_b = torch.zeros(nspan, dtype=torch.float64)
    r_a = torch.zeros(nspan, dtype=_L)
    r_n = torch.zeros(nspan, dtype=torch.bool)
    r_b[rep.node_key], r_a[rep.node_key], r_n[rep.node_key] = rep.bias, rep.act, True
    ncols = torch.empty(len(view.key), 2, dtype=torch.float64)
    nmatch = r_n[view.key]
    ncols[:, 0] = nmatch
    torch.mul((view.bias - r_b[view.key]).abs_() + (view.act != r_a[view.key]), nmatch, out=ncols[:, 1])
    nper = torch.zeros(P, 2, dtype=torch.float64).index_add_(0, view.genome, ncols)
    diff = diff + nper[:, 1]
    matching = common + nper[:, 0]
    larger = torch.clamp(size, min=r_size)
    limit = config.normalize_min_genes
    norm = torch.where(larger >= limit, larger, 1) if limit is not None else torch.ones(P, dtype=_L)
    mean_diff = torch.where(matching > 0, diff / matching.clamp(min=1), 0.0)
    return ((config.excess_coefficient * excess + config.disjoint_coefficient * (unmatched - excess)) / norm
            + config.weight_coefficient * mean_diff)


# ----------------------------------------------------------------------------------------- crossover
def crossover(pool: Pool, fitter: Tensor, other: Tensor, keys: Tensor, config: NEATConfig,
              gen: torch.Generator) -> Pool:
    """Children of genomes ``fitter[i]`` and ``other[i]`` (:func:`mpnet.search.operators.crossover`): the fitter
    parent's structure; a matching gene takes its weight from either parent at random and, disabled in either,
    is disabled with ``disable_inherit_rate``; matching neurons take bias and activation from either parent."""
    child = pool.take(fitter, keys)
    c_conn = owners(child.conn_ptr)
    codes, span = pool.conn_codes()
    match, pos = found(codes, other[c_conn] * span + child.innov)
    coin = torch.rand(len(child.innov), generator=gen, dtype=torch.float64)
    child.weight = torch.where(match & (coin >= 0.5), pool.weight[pos], child.weight)
    both = child.enabled & pool.enabled[pos]
    keep = torch.rand(len(child.innov), generator=gen, dtype=torch.float64) >= config.disable_inherit_rate
    child.enabled = torch.where(match & ~both, keep, child.enabled)
    twin, row = pool.node_rows(other[owners(child.node_ptr)], child.node_key)
    pick = twin & (torch.rand(len(child.node_key), generator=gen, dtype=torch.float64) >= 0.5)
    child.bias = torch.where(pick, pool.bias[row], child.bias)
    child.act = torch.where(pick, pool.act[row], child.act)
    return child
