"""Compiling topologies into tensors: a torch_geometric ``Data`` plus a per-level plan (second stage).

One or many :class:`~mpnet.topology.Topology` become one disjoint union (built with torch_geometric's
``Batch``) whose nodes are then re-ordered by depth, so that every level of every graph is one contiguous
range of rows, and whose edges are ordered by target, so that the edges into a level are one contiguous
range too. Inside a level, neurons whose aggregation is a weighted sum (``sum``, ``mean``) come first and
are sorted by activation; the others follow, grouped by aggregation.

Row layout of the state ``H: [num_nodes, batch]``: rows ``[0, T * n_in)`` are the inputs of graph 0, then
of graph 1, ... (in each topology's input order); the outputs are gathered with ``out_rows: [T, n_out]``.
"""
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor
from torch_geometric.data import Data

from .errors import MismatchError
from .functional import FUSED_AGGREGATIONS
from .topology import Topology
from .vocabulary import ACTIVATIONS, AGGREGATIONS

__all__ = ["Level", "Plan", "compile_topologies", "to_pyg"]


@dataclass
class Level:
    """The rows and edges computed at one depth ``k >= 1``.

    ``[n0, n_fused)`` rows take the fused sparse product over edges ``[e0, e_fused)`` (CSR ``crow``);
    ``generic`` lists ``(aggregation, row0, row1, edge0, edge1)`` for the other neurons; ``runs`` lists
    ``(activation, row0, row1)`` covering ``[n0, n1)``. ``out_crow`` / ``out_range`` describe the fused
    edges leaving this level's rows (sorted by source), used by the backward pass.
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
    out_crow: Tensor
    out_range: Tuple[int, int]
    out_col: Tensor            # target row - n1 of each fused edge leaving this level (backward CSR columns)
    col: Tensor                # source row of each fused edge into this level (forward CSR columns)
    generic_index: List[Tensor] = field(default_factory=list)   # per generic group: target row - row0


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
    by_src: Tensor             # [E_fused_total] fused edge ids sorted by (source row, target row)
    out_crow0: Tensor          # CSR row pointer of the fused edges leaving the input rows
    out_range0: Tuple[int, int]
    out_col0: Tensor
    levels: List[Level]
    generic_edges: Tensor      # [E] bool, edges into neurons with a non-sum aggregation
    response: Tensor           # [N] float64 on the CPU: each row's response (1 for inputs); never cast
    edge_scale: Optional[Tensor] = None     # [E] network dtype, set by set_dtype
    row_response: Optional[Tensor] = None   # [N] network dtype, set by set_dtype
    unit_scale: bool = False                # every edge_scale is 1 (set by set_dtype)
    prebuilt: dict = field(default_factory=dict)   # per (dtype, device): CSR matrices over value buffers

    def apply(self, fn) -> "Plan":
        """Apply a tensor function (``.to(device)``, dtype casts of float tensors) to every tensor but
        ``response``, the exact source of the scales (re-derive them with :meth:`set_dtype`)."""
        moved = {k: (fn(v) if isinstance(v, Tensor) and k != "response" else v) for k, v in self.__dict__.items()
                 if k not in ("levels", "prebuilt")}
        def move(v):
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


_ACT_CODE = {name: i for i, name in enumerate(ACTIVATIONS)}
_AGG_CODE = {name: i for i, name in enumerate(AGGREGATIONS)}


def _disjoint_union(topos: Sequence[Topology]) -> Data:
    """The disjoint union of the topologies in declaration order: the same ``Data`` as torch_geometric's
    ``Batch.from_data_list`` of one ``Data`` per topology (node indices offset graph by graph, ``graph`` the
    batch vector; tests/test_compile.py checks it), built from flat lists in one pass: per-graph ``Data``
    objects cost ~0.25 ms each, which dominated compiling a NEAT generation of 150 small genomes."""
    depth, rank, act, agg, response, is_output, out_rank, graph, src, dst = ([] for _ in range(10))
    offset = 0
    for t, topo in enumerate(topos):
        nodes = topo.nodes
        index = {n: offset + i for i, n in enumerate(nodes)}
        d = topo.depth()
        input_rank = {n: i for i, n in enumerate(topo.inputs)}
        output_rank = {n: i for i, n in enumerate(topo.outputs)}
        for i, (node_id, node) in enumerate(nodes.items()):
            depth.append(d[node_id])
            rank.append(input_rank.get(node_id, i))
            act.append(_ACT_CODE[node.activation])
            agg.append(_AGG_CODE[node.aggregation])
            response.append(float(node.response))
            out_rank.append(output_rank.get(node_id, -1))
            is_output.append(node.role == "output")
        graph += [t] * len(nodes)
        for e in topo.edges.values():
            src.append(index[e.src])
            dst.append(index[e.dst])
        offset += len(nodes)
    long = dict(dtype=torch.long)
    return Data(edge_index=torch.tensor([src, dst], **long).view(2, -1), num_nodes=offset,
                depth=torch.tensor(depth, **long), rank=torch.tensor(rank, **long), act=torch.tensor(act, **long),
                agg=torch.tensor(agg, **long), response=torch.tensor(response, dtype=torch.float64),
                is_output=torch.tensor(is_output, dtype=torch.bool), out_rank=torch.tensor(out_rank, **long),
                graph=torch.tensor(graph, **long))


def _lexsort(*keys: Tensor) -> Tensor:
    """Permutation sorting by ``keys[0]``, then ``keys[1]``, ... (stable)."""
    perm = torch.arange(keys[0].numel())
    for key in reversed(keys):
        perm = perm[torch.argsort(key[perm], stable=True)]
    return perm


def _csr_rows(row: Tensor, num_rows: int) -> Tensor:
    crow = torch.zeros(num_rows + 1, dtype=torch.long)
    crow[1:] = torch.bincount(row, minlength=num_rows).cumsum(0)
    return crow


def _runs(values: List[int], start: int) -> List[Tuple[int, int, int]]:
    """``[(value, row0, row1)]`` for the runs of equal values in ``values`` (rows numbered from start)."""
    out = []
    for i, v in enumerate(values):
        if out and out[-1][0] == v:
            out[-1] = (v, out[-1][1], start + i + 1)
        else:
            out.append((v, start + i, start + i + 1))
    return out


def compile_topologies(topologies: Union[Topology, Sequence[Topology]]) -> Tuple[Data, Plan]:
    """Compile one topology or a list of them into ``(data, plan)``.

    Returns:
        ``(data, plan)``: ``data`` is a ``torch_geometric.data.Data`` in the compiled (level-sorted) order
        with ``edge_index [2, E]``, ``depth [N]``, ``batch [N]`` (graph of each row), ``level_ptr`` (row
        where each depth starts), ``edge_level_ptr`` (edge where each depth's incoming edges start),
        ``node_perm`` (row -> node of the PyG ``Batch`` of the topologies in declaration order) and
        ``edge_perm``; ``plan`` is the :class:`Plan` the propagation runs on.

    Raises:
        MismatchError: the topologies do not all have the same number of inputs and outputs.
    """
    topos = [topologies] if isinstance(topologies, Topology) else list(topologies)
    if not topos:
        raise MismatchError("Expected at least one topology (got an empty list).")
    n_in, n_out = len(topos[0].inputs), len(topos[0].outputs)
    for t, topo in enumerate(topos):
        if (len(topo.inputs), len(topo.outputs)) != (n_in, n_out):
            raise MismatchError(f"Topology {t} has {len(topo.inputs)} inputs and {len(topo.outputs)} outputs "
                                f"but topology 0 has {n_in} and {n_out}; batched topologies must agree on "
                                f"both (the input columns and output columns are shared).")
    union = _disjoint_union(topos)
    num_nodes = union.num_nodes
    is_input = union.depth == 0
    fused_codes = torch.tensor([AGGREGATIONS.index(a) for a in FUSED_AGGREGATIONS])
    generic = ~torch.isin(union.agg, fused_codes) & ~is_input
    # rows: by depth; inputs by (graph, input rank); others fused first, by (aggregation, activation).
    agg_key = torch.where(generic, union.agg, torch.zeros_like(union.agg))
    act_key = torch.where(is_input, torch.zeros_like(union.act), union.act)
    node_perm = _lexsort(union.depth, generic.long(), agg_key, act_key, union.graph, union.rank)
    row_of = torch.empty_like(node_perm)
    row_of[node_perm] = torch.arange(num_nodes)

    src0, dst0 = row_of[union.edge_index[0]], row_of[union.edge_index[1]]
    edge_perm = _lexsort(dst0, src0)
    src, dst = src0[edge_perm], dst0[edge_perm]

    depth = union.depth[node_perm]
    act = union.act[node_perm]
    agg = union.agg[node_perm]
    gen_row = generic[node_perm]
    num_levels = int(depth.max()) + 1
    level_ptr = _csr_rows(depth, num_levels)
    crow = _csr_rows(dst, num_nodes)
    edge_level_ptr = crow[level_ptr]
    indeg = crow[1:] - crow[:-1]
    mean_code = AGGREGATIONS.index("mean")
    is_mean_row = (agg == mean_code) & ~gen_row & (depth > 0)
    edge_div = torch.where(is_mean_row[dst], indeg[dst].clamp(min=1), torch.ones_like(dst))
    generic_edges = gen_row[dst]

    # fused edges sorted by source row, for the backward "pull" of gradients level by level
    fused_ids = torch.nonzero(~generic_edges).view(-1)
    by_src = fused_ids[_lexsort(src[fused_ids], dst[fused_ids])]
    src_sorted = src[by_src]
    src_ptr = torch.searchsorted(src_sorted, level_ptr)   # fused edges leaving each level start here

    lp, ep, sp = level_ptr.tolist(), edge_level_ptr.tolist(), src_ptr.tolist()
    act_l, agg_l, gen_l = act.tolist(), agg.tolist(), gen_row.tolist()

    dst_by_src = dst[by_src]

    i32 = torch.int32   # CSR indices in int32: the sparse kernels convert int64 ones on every call

    def out_structure(k: int) -> Tuple[Tensor, Tuple[int, int], Tensor]:
        a, b = sp[k], sp[k + 1]
        return (_csr_rows(src_sorted[a:b] - lp[k], lp[k + 1] - lp[k]).to(i32), (a, b),
                (dst_by_src[a:b] - lp[k + 1] if k + 1 < len(lp) else dst_by_src[a:b]).to(i32))

    levels = []
    for k in range(1, num_levels):
        n0, n1, e0, e1 = lp[k], lp[k + 1], ep[k], ep[k + 1]
        n_fused = n0 + sum(1 for g in gen_l[n0:n1] if not g)
        e_fused = int(crow[n_fused])
        groups = [(AGGREGATIONS[code], r0, r1, int(crow[r0]), int(crow[r1]))
                  for code, r0, r1 in _runs(agg_l[n_fused:n1], n_fused)]
        runs = [(ACTIVATIONS[code], r0, r1) for code, r0, r1 in
                _runs(act_l[n0:n_fused], n0) + _runs(act_l[n_fused:n1], n_fused)]
        out_crow, out_range, out_col = out_structure(k)
        levels.append(Level(n0, n1, e0, e1, n_fused, e_fused, (crow[n0:n_fused + 1] - crow[n0]).to(i32), groups,
                            runs, out_crow, out_range, out_col, src[e0:e_fused].to(i32),
                            [dst[g0:g1] - r0 for _, r0, _, g0, g1 in groups]))
    out_crow0, out_range0, out_col0 = out_structure(0)

    out_pos = torch.nonzero(union.is_output[node_perm]).view(-1)
    out_graph, out_rank = union.graph[node_perm][out_pos], union.out_rank[node_perm][out_pos]
    out_rows = torch.empty(len(topos), n_out, dtype=torch.long)
    out_rows[out_graph, out_rank] = out_pos

    data = Data(edge_index=torch.stack([src, dst]), num_nodes=num_nodes, depth=depth,
                batch=union.graph[node_perm], level_ptr=level_ptr, edge_level_ptr=edge_level_ptr,
                node_perm=node_perm, edge_perm=edge_perm)
    plan = Plan(num_graphs=len(topos), num_nodes=num_nodes, num_inputs=len(topos) * n_in, n_in=n_in,
                n_out=n_out, src=src, dst=dst, edge_div=edge_div, crow=crow.to(i32), src32=src.to(i32), out_rows=out_rows,
                by_src=by_src, out_crow0=out_crow0, out_range0=out_range0, out_col0=out_col0, levels=levels,
                generic_edges=generic_edges, response=union.response[node_perm])
    return data, plan


def to_pyg(topologies: Union[Topology, Sequence[Topology]]) -> Data:
    """The ``data`` of :func:`compile_topologies` with the topologies' own numbers attached, in compiled order:
    ``edge_weight [E]`` (float64, NaN where unset), ``edge_sign [E]`` (+1, -1, 0 for free), ``trainable [E]``,
    ``bias [N]``, ``response [N]`` (float64), ``act [N]`` / ``agg [N]`` (indices into
    :data:`~mpnet.topology.ACTIVATIONS` / :data:`~mpnet.topology.AGGREGATIONS`), ``is_input [N]``,
    ``is_output [N]`` and ``node_id`` (the id of each row; ``batch`` tells its topology)."""
    topos = [topologies] if isinstance(topologies, Topology) else list(topologies)
    data, _ = compile_topologies(topos)
    nodes = [n for topo in topos for n in topo.nodes.values()]
    nodes = [nodes[i] for i in data.node_perm.tolist()]
    edges = [e for topo in topos for e in topo.edges.values()]
    edges = [edges[i] for i in data.edge_perm.tolist()]
    f64 = dict(dtype=torch.float64)
    data.edge_weight = torch.tensor([float("nan") if e.weight is None else e.weight for e in edges], **f64)
    data.edge_sign = torch.tensor([{"+": 1, "-": -1, None: 0}[e.sign] for e in edges], dtype=torch.long)
    data.trainable = torch.tensor([e.trainable for e in edges], dtype=torch.bool)
    data.bias = torch.tensor([float(n.bias) for n in nodes], **f64)
    data.response = torch.tensor([float(n.response) for n in nodes], **f64)
    data.act = torch.tensor([ACTIVATIONS.index(n.activation) for n in nodes], dtype=torch.long)
    data.agg = torch.tensor([AGGREGATIONS.index(n.aggregation) for n in nodes], dtype=torch.long)
    data.is_input = torch.tensor([n.role == "input" for n in nodes], dtype=torch.bool)
    data.is_output = torch.tensor([n.role == "output" for n in nodes], dtype=torch.bool)
    data.node_id = [n.id for n in nodes]
    return data
