"""Compiling topologies into tensors: a torch_geometric ``Data`` plus a per-level plan (second stage).

One or many :class:`~mpnet.graph.topology.Topology` become one disjoint union (built with torch_geometric's
``Batch``) whose nodes are then re-ordered by depth, so that every level of every graph is one contiguous
range of rows, and whose edges are ordered by target, so that the edges into a level are one contiguous
range too. Inside a level, neurons whose aggregation is a weighted sum (``sum``, ``mean``) come first and
are sorted by activation; the others follow, grouped by aggregation.

Row layout of the state ``H: [num_nodes, batch]``: rows ``[0, T * n_in)`` are the inputs of graph 0, then
of graph 1, ... (in each topology's input order); the outputs are gathered with ``out_rows: [T, n_out]``.
"""
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Dict, List, NamedTuple, Sequence, Tuple, Union

import torch
from torch import Tensor
from torch_geometric.data import Data  # type: ignore[import-untyped]

from .functional import FUSED_AGGREGATIONS
from ..graph.arrays import ArrayTopology
from ..graph.depth import argsort_unique
from ..graph.topology import Topology
from ..graph.vocabulary import ACTIVATIONS, AGGREGATIONS
from ..graph.adapters import lend

if TYPE_CHECKING:   # state imports this module
    from .state import Prebuilt

__all__ = ["Level", "Plan", "Transposed", "compile_topologies", "compile_arrays", "transpose", "to_pyg"]


@dataclass
class Level:
    """The rows and edges computed at one depth ``k >= 1``.

    ``[n0, n_fused)`` rows take the fused sparse product over edges ``[e0, e_fused)`` (CSR ``crow``);
    ``generic`` lists ``(aggregation, row0, row1, edge0, edge1)`` for the other neurons; ``runs`` lists
    ``(activation, row0, row1)`` covering ``[n0, n1)``. The backward pass's view of the edges (sorted by
    source) is :func:`transpose`, made on first use.
    """
    n0: int
    n1: int
    e0: int
    e1: int
    n_fused: int
    e_fused: int
    crow: Tensor
    generic: List[Tuple[str, int, int, int, int]]
    runs: List[Tuple[str, int, int]]
    col: Tensor                # source row of each fused edge into this level (forward CSR columns)
    generic_index: List[Tensor] = field(default_factory=list)   # per generic group: target row - row0


def _unset() -> Tensor:
    """A scale not derived yet (:meth:`Plan.set_dtype` derives it in the network's dtype)."""
    return torch.empty(0)


@dataclass
class Plan:
    """Everything the propagation needs, as tensors and Python ints (no per-forward bookkeeping)."""
    num_graphs: int
    num_nodes: int
    num_inputs: int            # rows [0, num_inputs) are inputs (T * n_in)
    n_in: int
    n_out: int
    src: Tensor                # [E] source row of each edge, edges sorted by (target row, source row)
    dst: Tensor                # [E]
    edge_div: Tensor           # [E] in-degree for edges into 'mean' neurons, else 1 (an integer, exact)
    crow: Tensor               # [N + 1] CSR row pointer of all edges over target rows (int32)
    src32: Tensor              # [E] src as int32, the CSR column indices of all edges
    out_rows: Tensor           # [T, n_out]
    level_ptr: Tensor          # [depth + 2] the first row of each depth (inputs are depth 0), then num_nodes
    levels: List[Level]
    generic_edges: Tensor      # [E] bool, edges into neurons with a non-sum aggregation
    response: Tensor           # [N] float64 on the CPU: each row's response (1 for inputs); never cast
    edge_scale: Tensor = field(default_factory=_unset)     # [E] network dtype, set by set_dtype (empty before)
    row_response: Tensor = field(default_factory=_unset)   # [N] network dtype, set by set_dtype (empty before)
    unit_scale: bool = False                # every edge_scale is 1 (set by set_dtype)

    @property
    def work_per_sample(self) -> float:
        """Edges and rows per level, per sample: a pass's size for the thread policy (mpnet/threads.py)."""
        return (self.src.numel() + self.num_nodes) / max(len(self.levels), 1)
    # per (dtype, device): CSR matrices over value buffers
    prebuilt: Dict[Tuple[torch.dtype, torch.device], "Prebuilt"] = field(default_factory=dict)

    def __getstate__(self) -> Dict[str, Any]:
        """Copies and pickles leave the prebuilt matrices and buffers behind (remade on first use)."""
        return {**self.__dict__, "prebuilt": {}}

    def apply(self, fn: Callable[[Tensor], Tensor]) -> "Plan":
        """Apply a tensor function (``.to(device)``, dtype casts of float tensors) to every tensor but
        ``response``, the exact source of the scales (re-derive them with :meth:`set_dtype`)."""
        moved: Dict[str, Any] = {k: (fn(v) if isinstance(v, Tensor) and k != "response" else v)
                                 for k, v in self.__dict__.items() if k not in ("levels", "prebuilt")}
        def move(v: Any) -> Any:   # a Level's field: an int, a tensor, a list of tensors or of tuples
            if isinstance(v, Tensor):
                return fn(v)
            return [fn(t) for t in v] if isinstance(v, list) and v and isinstance(v[0], Tensor) else v
        levels = [Level(**{k: move(v) for k, v in lvl.__dict__.items()}) for lvl in self.levels]
        return Plan(levels=levels, **moved)

    def set_dtype(self, dtype: torch.dtype) -> "Plan":
        """Derive the scales in the network's dtype from their exact sources (integer in-degrees, float64
        responses), each rounded once, never re-cast from another float dtype:

        * ``edge_scale [E]``: ``response[dst] / edge_div`` on fused edges (a sum neuron's response and a
          mean's 1 / in-degree folded into the weight, ``w_eff = w * edge_scale``), 1 on generic edges;
        * ``row_response [N]``: multiplies the aggregate of a generic (max, min, product, ...) neuron.
        """
        device = self.edge_div.device
        self.row_response = self.response.to(dtype).to(device)
        scale = self.row_response[self.dst] / self.edge_div.to(dtype)
        self.edge_scale = torch.where(self.generic_edges, torch.ones_like(scale), scale)
        self.unit_scale = bool((self.edge_scale == 1).all())   # then w_eff = w, no multiply per forward
        return self


def _lexsort(*keys: Tensor) -> Tensor:
    """Permutation sorting by ``keys[0]``, then ``keys[1]``, ... (keys >= 0, distinct taken together). When
    they fit in 63 bits they are packed into one int64 and sorted once."""
    bits = [max(int(k.max()).bit_length(), 1) if k.numel() else 1 for k in keys]
    if sum(bits) <= 63:
        packed = torch.zeros_like(keys[0])
        for key, b in zip(keys, bits):
            packed = (packed << b) | key
        return argsort_unique(packed)
    perm = torch.arange(keys[0].numel())
    for key in reversed(keys):
        perm = perm[torch.argsort(key[perm], stable=True)]
    return perm


def _csr_rows(row: Tensor, num_rows: int) -> Tensor:
    crow = torch.zeros(num_rows + 1, dtype=torch.long)
    crow[1:] = torch.bincount(row, minlength=num_rows).cumsum(0)
    return crow


def _runs(rows: Tensor, *keys: Tensor) -> Tuple[Tensor, Tensor]:
    """``(row0, row1)``: the first row and one past the last of each run of consecutive rows (``rows``
    ascending) over which every key is constant."""
    if rows.numel() == 0:
        return rows, rows
    a, b = rows[:-1], rows[1:]
    change = b != a + 1
    for key in keys:
        change |= key.index_select(0, b) != key.index_select(0, a)
    cut = torch.nonzero(change).view(-1) + 1
    first = torch.cat([cut.new_zeros(1), cut])
    last = torch.cat([cut, cut.new_full((1,), rows.numel())]) - 1
    return rows[first], rows[last] + 1


def compile_topologies(topologies: Union[Topology, Sequence[Topology], ArrayTopology]) -> Tuple[Data, Plan]:
    """Compile one topology, a list of them, or an :class:`~mpnet.graph.arrays.ArrayTopology` into ``(data, plan)``.

    Returns:
        ``(data, plan)``: ``data`` is a ``torch_geometric.data.Data`` in the compiled (level-sorted) order
        with ``edge_index [2, E]``, ``depth [N]``, ``batch [N]`` (graph of each row), ``level_ptr`` (row
        where each depth starts), ``edge_level_ptr`` (edge where each depth's incoming edges start),
        ``node_perm`` (row -> node of the disjoint union of the topologies in declaration order) and
        ``edge_perm``; ``plan`` is the :class:`Plan` the propagation runs on.

    Raises:
        MismatchError: the topologies do not all have the same number of inputs and outputs.
    """
    return compile_arrays(ArrayTopology.of(topologies))


def compile_arrays(arrays: ArrayTopology) -> Tuple[Data, Plan]:
    """:func:`compile_topologies` of an :class:`~mpnet.graph.arrays.ArrayTopology`: tensor ops over all nodes and
    edges, plus a few per depth level and per run of equal activations; no Python object per node or edge."""
    T, n_in, n_out, num_nodes = arrays.num_graphs, arrays.n_in, arrays.n_out, arrays.num_nodes
    graph = arrays.graph
    is_input = torch.zeros(num_nodes, dtype=torch.bool)
    is_input[arrays.inputs.view(-1)] = True
    rank = torch.arange(num_nodes) - arrays.node_ptr[:-1][graph]     # inputs: their input rank instead
    rank[arrays.inputs.view(-1)] = torch.arange(n_in).repeat(T)
    fused_codes = torch.tensor([AGGREGATIONS.index(a) for a in FUSED_AGGREGATIONS])
    generic = ~torch.isin(arrays.aggregation, fused_codes) & ~is_input
    # rows: by depth; inputs by (graph, input rank); others fused first, by (aggregation, activation).
    agg_key = torch.where(generic, arrays.aggregation, 0)
    act_key = torch.where(is_input, 0, arrays.activation)
    node_perm = _lexsort(arrays.depth, generic.long(), agg_key, act_key, graph, rank)
    row_of = torch.empty_like(node_perm)
    row_of[node_perm] = torch.arange(num_nodes)

    src0, dst0 = row_of.index_select(0, arrays.src), row_of.index_select(0, arrays.dst)
    edge_perm = _lexsort(dst0, src0)
    src, dst = src0.index_select(0, edge_perm), dst0.index_select(0, edge_perm)

    depth, act, agg, gen_row = (col.index_select(0, node_perm) for col in (arrays.depth, arrays.activation,
                                                                           arrays.aggregation, generic))
    num_levels = int(depth.max()) + 1
    level_ptr = _csr_rows(depth, num_levels)
    crow = _csr_rows(dst, num_nodes)
    edge_level_ptr = crow[level_ptr]
    indeg = crow[1:] - crow[:-1]
    mean_code = AGGREGATIONS.index("mean")
    is_mean_row = (agg == mean_code) & ~gen_row & (depth > 0)
    edge_div = torch.where(is_mean_row[dst], indeg.index_select(0, dst).clamp(min=1), torch.ones_like(dst))
    generic_edges = gen_row[dst]

    # per level: where its fused rows end, its runs of one activation, its groups of one generic aggregation
    n_fused_l = (level_ptr[:-1] + torch.bincount(depth[~gen_row], minlength=num_levels)).tolist()
    e_fused_l = crow[n_fused_l].tolist()
    rows = torch.arange(T * n_in, num_nodes)
    runs: List[List[Tuple[str, int, int]]] = [[] for _ in range(num_levels)]
    r0, r1 = _runs(rows, depth, gen_row, act)              # Python only per run, never per node
    for k, a, x0, x1 in zip(depth[r0].tolist(), act[r0].tolist(), r0.tolist(), r1.tolist()):
        runs[k].append((ACTIVATIONS[a], x0, x1))
    groups: List[List[Tuple[str, int, int, int, int]]] = [[] for _ in range(num_levels)]
    r0, r1 = _runs(torch.nonzero(gen_row).view(-1), depth, agg)
    for k, a, x0, x1, c0, c1 in zip(depth[r0].tolist(), agg[r0].tolist(), r0.tolist(), r1.tolist(),
                                    crow[r0].tolist(), crow[r1].tolist()):
        groups[k].append((AGGREGATIONS[a], x0, x1, c0, c1))
    lp, ep = level_ptr.tolist(), edge_level_ptr.tolist()

    i32 = torch.int32   # CSR indices in int32: the sparse kernels convert int64 ones on every call
    levels = []
    for k in range(1, num_levels):
        n0, n1, e0, e1, n_fused, e_fused = lp[k], lp[k + 1], ep[k], ep[k + 1], n_fused_l[k], e_fused_l[k]
        levels.append(Level(n0, n1, e0, e1, n_fused, e_fused, (crow[n0:n_fused + 1] - crow[n0]).to(i32), groups[k],
                            runs[k], src[e0:e_fused].to(i32), [dst[g0:g1] - r0 for _, r0, _, g0, g1 in groups[k]]))

    out_pos = row_of[arrays.outputs]                          # [T, n_out]: the row of each output
    data = Data(edge_index=torch.stack([src, dst]), num_nodes=num_nodes, depth=depth, batch=graph[node_perm],
                level_ptr=level_ptr, edge_level_ptr=edge_level_ptr, node_perm=node_perm, edge_perm=edge_perm)
    plan = Plan(num_graphs=T, num_nodes=num_nodes, num_inputs=T * n_in, n_in=n_in, n_out=n_out, src=src, dst=dst,
                edge_div=edge_div, crow=crow.to(i32), src32=src.to(i32), out_rows=out_pos, level_ptr=level_ptr,
                levels=levels,
                generic_edges=generic_edges, response=arrays.response[node_perm])
    return data, plan


class Transposed(NamedTuple):
    """The fused edges sorted by source row, cut by the level of their source, for the backward pass:
    ``by_src [E_fused]`` edge ids; per depth ``k = 0 .. depth`` (0: the inputs) ``crow`` (over the level's
    rows), ``(a, b)`` (its slice of ``by_src``) and ``col`` (target row minus the level's last row + 1)."""
    by_src: Tensor
    levels: List[Tuple[Tensor, Tuple[int, int], Tensor]]


def transpose(plan: Plan) -> Transposed:
    """:class:`Transposed` of a plan (one sort of the fused edges; made at the first backward pass)."""
    src, dst, lp_t = plan.src.cpu(), plan.dst.cpu(), plan.level_ptr.cpu()
    fused_ids = torch.nonzero(~plan.generic_edges.cpu()).view(-1)
    by_src = fused_ids.index_select(0, _lexsort(src.index_select(0, fused_ids), dst.index_select(0, fused_ids)))
    src_sorted, dst_sorted = src.index_select(0, by_src), dst.index_select(0, by_src)
    sp, lp = torch.searchsorted(src_sorted, lp_t).tolist(), lp_t.tolist()
    device, levels = plan.src.device, []
    for k in range(len(lp) - 1):
        a, b = sp[k], sp[k + 1]
        crow = _csr_rows(src_sorted[a:b] - lp[k], lp[k + 1] - lp[k]).to(torch.int32)
        col = (dst_sorted[a:b] - lp[k + 1]).to(torch.int32)
        levels.append((crow.to(device), (a, b), col.to(device)))
    return Transposed(by_src.to(device), levels)


@lend("to_pyg")
def to_pyg(topologies: Union[Topology, Sequence[Topology], ArrayTopology]) -> Data:
    """The ``data`` of :func:`compile_topologies` with the topologies' own numbers attached, in compiled order:
    ``edge_weight [E]`` (float64, NaN where unset), ``edge_sign [E]`` (+1, -1, 0 for free), ``trainable [E]``,
    ``bias [N]``, ``response [N]`` (float64), ``act [N]`` / ``agg [N]`` (indices into
    :data:`~mpnet.graph.topology.ACTIVATIONS` / :data:`~mpnet.graph.topology.AGGREGATIONS`), ``is_input [N]``,
    ``is_output [N]`` and ``node_id`` (the id of each row; ``batch`` tells its topology)."""
    arrays = ArrayTopology.of(topologies)
    data, _ = compile_arrays(arrays)
    node, edge = data.node_perm, data.edge_perm
    data.edge_weight = arrays.weight[edge]
    data.edge_sign = arrays.sign[edge].long()
    data.trainable = arrays.trainable[edge]
    data.bias = arrays.bias[node]
    data.response = arrays.response[node]
    data.act = arrays.activation[node]
    data.agg = arrays.aggregation[node]
    data.is_input = data.depth == 0
    is_output = torch.zeros(arrays.num_nodes, dtype=torch.bool)
    is_output[arrays.outputs.view(-1)] = True
    data.is_output = is_output[node]
    ids = arrays.node_ids()
    data.node_id = [ids[i] for i in node.tolist()]
    return data
