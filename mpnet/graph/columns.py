"""Reading and checking the columns of an :class:`~mpnet.graph.arrays.ArrayTopology`: the checks of
:mod:`mpnet.graph.validate`, each over a whole column at once, raising the same errors with the culprit named."""
import math
import warnings
from typing import Any, Callable, Dict, List, Optional, Sequence, Type, Union

import numpy as np
import numpy.typing as npt
import torch
from torch import Tensor

from .depth import argsort_unique, find_cycle, reachability, waves
from ..checks import check_bool, check_memory, describe
from ..errors import (ArgumentError, CycleError, DaleConflictError, DuplicateEdgeError, InputEdgeError, MismatchError,
                     NonFiniteError, RoleError, SelfLoopError, SignConflictError, TopologyError, TopologyWarning,
                     UnknownActivationError, UnknownAggregationError, UnknownNodeError)
from .elements import NodeId
from .vocabulary import ACTIVATIONS, AGGREGATIONS

__all__ = ["Column", "batch_columns", "check_size", "ACT_CODE", "AGG_CODE", "MAX_COUNT"]

ACT_CODE = {name: i for i, name in enumerate(ACTIVATIONS)}
AGG_CODE = {name: i for i, name in enumerate(AGGREGATIONS)}
#: A column as given: a tensor, a NumPy array or a sequence (of numbers, or of names where names are allowed).
Column = Union[Tensor, npt.NDArray[Any], Sequence[Any]]

#: The most nodes, and the most edges, one ArrayTopology holds: the compiled network indexes its sparse rows and
#: columns in int32 (what the sparse kernels take without a conversion per call).
MAX_COUNT = 2 ** 31 - 1
#: Bytes each node and each edge take at least while the columns are read and checked (eight-byte columns and the
#: checks' work arrays): the estimate a size is refused by before anything is allocated.
BYTES_PER_NODE, BYTES_PER_EDGE = 48, 48


def check_size(num_nodes: int, num_edges: int, what: str) -> None:
    """Refuse a graph mpnet cannot index or this machine cannot hold, before allocating its columns.

    Args:
        num_nodes, num_edges: the sizes asked for.
        what: names where the sizes came from (``"num_nodes=10000000000"``).

    Raises:
        ArgumentError: more than :data:`MAX_COUNT` nodes or edges, or columns larger than the physical memory.
    """
    if num_nodes > MAX_COUNT or num_edges > MAX_COUNT:
        raise ArgumentError(f"{what} makes {num_nodes} nodes and {num_edges} edges; an ArrayTopology holds at most "
                            f"2**31 - 1 = {MAX_COUNT} of each (the compiled network indexes them in int32). Split "
                            f"the graphs over several networks.")
    check_memory(num_nodes * BYTES_PER_NODE + num_edges * BYTES_PER_EDGE,
                 f"{what} ({num_nodes} nodes, {num_edges} edges)",
                 "give the real number of nodes, or split the graphs over several networks.")


def batch_columns(num_nodes: Column, src: Column, dst: Column, num_edges: Column, inputs: Column,
                  outputs: Column, weight: Optional[Column], sign: Optional[Column], trainable: Optional[Column],
                  bias: Optional[Column], response: Optional[Column], activation: Union[str, Column],
                  output_activation: str, aggregation: Union[str, Column], dale: Optional[Column],
                  node_ids: Optional[Sequence[NodeId]], warn: bool, drawn: Optional[Column] = None,
                  recurrent: bool = False) -> Dict[str, Any]:
    """The checked columns of ``T`` graphs given with local node indices (see
    :meth:`mpnet.graph.arrays.ArrayTopology.from_batch`), as keyword arguments of ``ArrayTopology``;
    ``recurrent`` allows cycles and self-loops, and every non-input node gets depth 1 (one synchronous step)."""
    counts, ecounts = as_long(num_nodes, "num_nodes"), as_long(num_edges, "num_edges")
    T = counts.numel()
    if T == 0:
        raise MismatchError("Expected at least one topology (got an empty list).")
    if ecounts.numel() != T or bool((counts < 0).any()) or bool((ecounts < 0).any()):
        raise ValueError(f"Expected num_nodes and num_edges to give one count >= 0 per graph (got "
                         f"{counts.numel()} and {ecounts.numel()} counts).")
    warn = check_bool(warn, "warn")
    node_ptr, edge_ptr = torch.zeros(T + 1, dtype=torch.long), torch.zeros(T + 1, dtype=torch.long)
    node_ptr[1:], edge_ptr[1:] = counts.cumsum(0), ecounts.cumsum(0)
    N, E = int(node_ptr[-1]), int(edge_ptr[-1])
    check_size(N, E, f"num_nodes (sum {N}) and num_edges (sum {E})" if T > 1 else f"num_nodes={N}, num_edges={E}")
    src, dst = as_long(src, "src"), as_long(dst, "dst")
    if src.numel() != E or dst.numel() != E:
        raise ValueError(f"Expected src and dst to hold sum(num_edges) = {E} indices (got {src.numel()} and "
                         f"{dst.numel()}).")
    if isinstance(node_ids, (str, bytes)):
        raise ArgumentError(f"Expected node_ids to be a sequence of {N} ids, one per node (got the string "
                            f"{node_ids!r:.40}, which would name each node by a letter).")
    ids = None if node_ids is None else list(node_ids)
    if ids is not None and len(ids) != N:
        raise ValueError(f"Expected node_ids to name all {N} nodes (got {len(ids)}).")
    namer = _Namer(node_ptr, ids)
    edge_graph = torch.repeat_interleave(torch.arange(T), ecounts, output_size=E)
    bound = counts[edge_graph] if T > 1 else counts         # one graph: compare with its size directly
    for end, local in (("source", src), ("target", dst)):
        bad = _first((local < 0) | (local >= bound))
        if bad is not None:
            t = int(edge_graph[bad])
            raise UnknownNodeError(_cap(f"{namer.graph(t)}edge {bad - int(edge_ptr[t])} has {end} node "
                                        f"{int(local[bad])}, which is not declared (valid: 0 .. "
                                        f"{int(counts[t]) - 1}). Fix the index or raise num_nodes."))
    if T > 1:
        offset = node_ptr[:-1][edge_graph]
        src, dst = src + offset, dst + offset
    ins, outs = (_ports(p, counts, node_ptr, what, namer) for p, what in ((inputs, "inputs"), (outputs, "outputs")))
    twice = _first(torch.bincount(torch.cat([ins.reshape(-1), outs.reshape(-1)]), minlength=N) > 1)
    if twice is not None:
        raise RoleError(_cap(f"{namer.node(twice)} is listed twice among the inputs and outputs; a node has one "
                             f"role and one column."))
    is_input, is_output = torch.zeros(N, dtype=torch.bool), torch.zeros(N, dtype=torch.bool)
    is_input[ins.reshape(-1)], is_output[outs.reshape(-1)] = True, True

    act = _codes(activation, N, ACT_CODE, "activation", UnknownActivationError)
    if not isinstance(output_activation, str) or output_activation not in ACT_CODE:
        raise UnknownActivationError(f"Unknown output_activation {describe(output_activation)}; expected a name from "
                                     f"{list(ACT_CODE)}.")
    if not isinstance(activation, str) and output_activation != "identity":
        raise ArgumentError(f"output_activation={output_activation!r} applies when activation is one name; with one "
                            f"activation per node the outputs take theirs from that column. Set the outputs' "
                            f"entries there and leave output_activation out.")
    if isinstance(activation, str):
        act = torch.where(is_output, ACT_CODE[output_activation], torch.where(is_input, ACT_CODE["identity"], act))
    agg = _codes(aggregation, N, AGG_CODE, "aggregation", UnknownAggregationError)
    numbers = dict(bias=_floats(bias, N, 0.0, "bias"), response=_floats(response, N, 1.0, "response"))
    for name, col in numbers.items():
        bad = _first(~torch.isfinite(col))
        if bad is not None:
            raise NonFiniteError(f"The {name} of {namer.node(bad)} is {float(col[bad])}; expected a finite number.")
    if bias is not None and (bad := _first(numbers["bias"][ins.reshape(-1)] != 0)) is not None:
        node = int(ins.reshape(-1)[bad])
        raise ArgumentError(_cap(f"{namer.node(node)} is an input but has bias {float(numbers['bias'][node])}; an "
                                 f"input takes its value from the data and has no bias. Give inputs bias 0."))
    w = _floats(weight, E, math.nan, "weight")
    draw = torch.zeros(E, dtype=torch.bool) if drawn is None else _tensor(drawn, "drawn", "booleans").reshape(-1)
    if draw.dtype != torch.bool or draw.numel() != E:
        raise ValueError(f"Expected drawn to hold {E} booleans (got {draw.numel()} of {draw.dtype}).")
    bad = _first(~torch.isfinite(w) & ~draw) if weight is not None else None
    if bad is not None:
        raise NonFiniteError(f"The weight of {namer.edge(bad, src, dst)} is {float(w[bad])}; expected a finite "
                             f"number (weight=None, or drawn=True for this edge, lets the network draw it).")
    w = torch.where(draw, math.nan, w)
    given = weight is not None and not bool(draw.all())
    sgn = _signs(sign, E, "sign", lambda i: _cap(namer.edge(i, src, dst)))
    dale_ = _signs(dale, N, "dale", lambda i: _cap(namer.node(i)))
    train = (torch.ones(E, dtype=torch.bool) if trainable is None
             else _tensor(trainable, "trainable", "booleans").reshape(-1))
    if train.dtype != torch.bool or train.numel() != E:
        raise SignConflictError(f"Expected trainable to hold {E} booleans (got {train.numel()} of {train.dtype}).")
    by_src = _check_edges(src, dst, w, sgn, dale_, train, is_input, given, namer, N, recurrent)
    if bool(dale_.any()):
        sgn = torch.where(dale_[src] != 0, dale_[src], sgn)
    if recurrent:
        return dict(src=src, dst=dst, weight=w, sign=sgn, trainable=train, activation=act, aggregation=agg,
                    dale=dale_, inputs=ins, outputs=outs, node_ptr=node_ptr, edge_ptr=edge_ptr,
                    depth=(~is_input).long(), node_ids=ids, **numbers)
    found = waves(src, dst, is_input, by_src)
    if not found.acyclic:
        cycle = find_cycle(src, dst, found.left)
        path = " -> ".join(namer.node(n, short=True) for n in cycle)
        raise CycleError(_cap(f"{namer.graph(namer.graph_of(cycle[0]))}the edges contain a cycle: {path}. A "
                              f"feed-forward network must be acyclic; remove one of these edges."),
                         [namer.node_id(n) for n in cycle])
    if warn:
        reached, alive = reachability(found, is_input, is_output)
        lost, dead = torch.nonzero(~reached & ~is_input).view(-1), torch.nonzero(~alive & ~is_output).view(-1)
        if lost.numel() or dead.numel():
            def some(nodes: Tensor) -> str:
                return f"{[namer.node(int(n)) for n in nodes[:5]]} ({nodes.numel()} in all)"
            warnings.warn(f"ArrayTopology has nodes off every input-to-output path (kept, not dropped): no input "
                          f"reaches {some(lost)}; no output is reached from {some(dead)}.", TopologyWarning,
                          stacklevel=4)
    return dict(src=src, dst=dst, weight=w, sign=sgn, trainable=train, activation=act, aggregation=agg, dale=dale_,
                inputs=ins, outputs=outs, node_ptr=node_ptr, edge_ptr=edge_ptr, depth=found.depth, node_ids=ids,
                **numbers)


def as_long(value: Column, name: str, ndim: int = 1) -> Tensor:
    """An integer column as int64, 1-D (or 2-D when ``ndim`` is 2 and it is).

    Raises:
        ArgumentError: a string, something torch cannot read as numbers (an index beyond 64 bits too), booleans,
            floats, or more than ``ndim`` dimensions.
    """
    if isinstance(value, (str, bytes)):
        raise ArgumentError(f"Expected {name} to hold integers (got the string {value!r:.40}, not a list of "
                            f"indices).")
    t = _tensor(value, name, "integers")
    if t.numel() and (t.dtype == torch.bool or t.is_floating_point() or t.is_complex()):
        raise ArgumentError(f"Expected {name} to hold integers (got dtype {t.dtype}).")
    if t.dim() > ndim:
        raise ArgumentError(f"Expected {name} to be {'1-D' if ndim == 1 else '1-D or 2-D'} (got shape "
                            f"{list(t.shape)}).")
    return t.to(torch.long).reshape(-1) if t.dim() <= 1 else t.to(torch.long)


def _tensor(value: Any, name: str, what: str) -> Tensor:
    """``value`` as a tensor (a list read by NumPy: Python floats stay float64), a failure or a column of strings
    or objects an ArgumentError naming ``name``."""
    if isinstance(value, Tensor):
        return value
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError, OverflowError) as err:
        raise ArgumentError(f"Expected {name} to hold {what} (got {describe(value)}: "
                            f"{str(err).splitlines()[0]}).") from None
    if arr.dtype.kind not in "biuf":
        held = {"U": "strings", "S": "bytes", "O": "values that are not 64-bit numbers (None, a list, an int "
                                                  "beyond 64 bits)", "c": "complex numbers"}.get(arr.dtype.kind,
                                                                                            str(arr.dtype))
        raise ArgumentError(f"Expected {name} to hold {what} (got {describe(value)}, which holds {held}).")
    if arr.dtype == np.uint64:   # torch has no kernels for it; Python ints in [2**63, 2**64) are read so
        if arr.size and int(arr.max()) > np.iinfo(np.int64).max:
            raise ArgumentError(f"Expected {name} to hold {what} (got {describe(value)}, which holds "
                                f"{int(arr.max())}, beyond the 64-bit integers torch indexes with).")
        arr = arr.astype(np.int64)
    return torch.as_tensor(arr)


def _first(mask: Tensor) -> Optional[int]:
    """The first position where ``mask`` holds, or None (checked with ``any`` first: errors are rare)."""
    if not bool(mask.any()):
        return None
    return int(torch.nonzero(mask.reshape(-1))[0])


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _floats(value: Optional[Column], n: int, default: float, name: str) -> Tensor:
    if value is None:
        return torch.full((n,), default, dtype=torch.float64)
    if isinstance(value, (str, bytes)):
        raise ArgumentError(f"Expected {name} to hold {n} numbers (got the string {value!r:.40}).")
    t = _tensor(value, name, "numbers")
    if t.dtype == torch.bool or t.is_complex():
        raise ArgumentError(f"Expected {name} to hold real numbers (got dtype {t.dtype}); booleans are not weights.")
    t = t.to(torch.float64).reshape(-1)
    if t.numel() != n:
        raise ValueError(f"Expected {name} to hold {n} numbers, one per {'edge' if name == 'weight' else 'node'} "
                         f"(got {t.numel()}).")
    return t


def _codes(value: Union[str, Column], n: int, table: Dict[str, int], name: str, error: Type[TopologyError]
           ) -> Tensor:
    """Per-node codes from one name, a sequence of names, or integer codes into ``table``."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (Tensor, np.ndarray, Sequence)):
        raise ArgumentError(f"Expected {name} to be a name, or one name or code per node (got {describe(value)}).")
    if not isinstance(value, Tensor) and len(value) and isinstance(next(iter(value)), str):
        unknown = sorted({v for v in value if not isinstance(v, str) or v not in table}, key=str)
        if unknown:
            raise error(f"Unknown {name} {unknown[:5]}; expected names from {list(table)}.")
        codes = torch.tensor([table[v] for v in value], dtype=torch.long)
    else:
        codes = as_long(value, name)
        bad = _first((codes < 0) | (codes >= len(table)))
        if bad is not None:
            raise error(f"The {name} code {int(codes[bad])} at position {bad} is out of range; expected 0 .. "
                        f"{len(table) - 1} (indices into {list(table)[:3]} ...).")
    if codes.numel() == 1:
        return codes.expand(n).clone()
    if codes.numel() != n:
        raise ValueError(f"Expected one {name} or {n} (one per node), got {codes.numel()}.")
    return codes


class _Namer:
    """Names nodes and edges in error messages: ``node 'h3'``, or ``graph 4: node 2`` in a batch."""

    def __init__(self, node_ptr: Tensor, ids: Optional[List[NodeId]]):
        self.node_ptr, self.ids, self.batch = node_ptr, ids, node_ptr.numel() > 2

    def graph(self, t: int) -> str:
        return f"graph {t}: " if self.batch else ""

    def graph_of(self, i: int) -> int:
        return int(torch.searchsorted(self.node_ptr, i, right=True)) - 1

    def node_id(self, i: int) -> NodeId:
        return self.ids[i] if self.ids is not None else i - int(self.node_ptr[self.graph_of(i)])

    def node(self, i: int, short: bool = False) -> str:
        name = repr(self.node_id(i))
        return name if short else f"{self.graph(self.graph_of(i))}node {name}"

    def edge(self, e: int, src: Tensor, dst: Tensor) -> str:
        s, d = int(src[e]), int(dst[e])
        return f"{self.graph(self.graph_of(s))}edge {self.node_id(s)!r} -> {self.node_id(d)!r}"


def _ports(value: Column, counts: Tensor, node_ptr: Tensor, what: str, namer: _Namer) -> Tensor:
    """Inputs or outputs ``[n]`` (local indices shared by all graphs) or ``[T, n]`` -> node indices ``[T, n]``."""
    T = counts.numel()
    local = as_long(value, what, ndim=2)
    local = local.view(1, -1).expand(T, -1) if local.dim() == 1 else local
    if local.dim() != 2 or local.shape[0] != T:
        raise MismatchError(f"Expected {what} of shape [n] or [{T}, n] (got {list(local.shape)}).")
    if local.shape[1] == 0:
        raise RoleError(f"The topology has no {what[:-1]} node; declare at least one.")
    bad = torch.nonzero((local < 0) | (local >= counts.view(-1, 1)))
    if bad.numel():
        t, j = (int(v) for v in bad[0])
        raise UnknownNodeError(_cap(f"{namer.graph(t)}{what[:-1]} {j} is node {int(local[t, j])}, which is not "
                                    f"declared (valid: 0 .. {int(counts[t]) - 1})."))
    return local + node_ptr[:-1].view(-1, 1)


def _signs(value: Optional[Column], n: int, what: str, name: Callable[[int], str]) -> Tensor:
    if value is None:
        return torch.zeros(n, dtype=torch.int8)
    t = _tensor(value, what, "+1, -1 or 0").reshape(-1)
    if t.dtype == torch.bool:
        raise ArgumentError(f"Expected {what} to hold +1, -1 or 0 (got dtype {t.dtype}); True is not a sign.")
    if t.numel() != n:
        raise ValueError(f"Expected {what} to hold {n} entries (got {t.numel()}).")
    bad = _first((t != 0) & (t != 1) & (t != -1))
    if bad is not None:
        raise SignConflictError(f"{name(bad)} has {what} {t[bad].item()}; expected +1, -1 or 0 (free).")
    return t.to(torch.int8)


def _check_edges(src: Tensor, dst: Tensor, w: Tensor, sign: Tensor, dale: Tensor, train: Tensor, is_input: Tensor,
                 given: bool, namer: _Namer, N: int, recurrent: bool = False) -> Tensor:
    """The edge checks of :func:`mpnet.graph.validate.check_edge`, over all edges at once; returns the permutation
    sorting the edges by ``(src, dst)``, found on the way (a duplicate edge is two equal neighbours)."""
    def edge(e: int) -> str:
        return _cap(namer.edge(e, src, dst))

    if not recurrent and (e := _first(src == dst)) is not None:
        raise SelfLoopError(f"{edge(e)} is a self-loop; a feed-forward network has none. Remove it.")
    if (e := _first(is_input.index_select(0, dst))) is not None:
        raise InputEdgeError(f"{edge(e)} ends in an input node; inputs take their value from the data. Point the "
                             f"edge at a hidden or output node.")
    key = src * N + dst
    order = argsort_unique(key)                      # keys not yet known distinct: equal ones end up adjacent
    sorted_key = key.index_select(0, order)
    if (e := _first(sorted_key[1:] == sorted_key[:-1])) is not None:
        raise DuplicateEdgeError(f"{edge(int(order[e + 1]))} is declared twice; each (src, dst) pair carries one "
                                 f"weight. Merge the two declarations.")
    d = dale[src] if bool(dale.any()) else None          # most graphs have no Dale neuron and no fixed sign
    if d is not None and (e := _first((d != 0) & (sign != 0) & (sign != d))) is not None:
        raise DaleConflictError(f"{edge(e)} has fixed sign {int(sign[e]):+d} but its source is a Dale neuron of "
                                f"sign {int(d[e]):+d}. Drop one of the two signs.")
    if d is not None and given and (e := _first((d != 0) & (w * d < 0))) is not None:
        raise DaleConflictError(f"{edge(e)} has initial weight {float(w[e])} but its source is a Dale neuron of "
                                f"sign {int(d[e]):+d}. Give a weight of that sign (or 0).")
    if given and bool(sign.any()) and (e := _first((sign != 0) & (w * sign < 0))) is not None:
        raise SignConflictError(f"{edge(e)} has fixed sign {int(sign[e]):+d} but initial weight {float(w[e])}. "
                                f"Give a weight of that sign (or 0).")
    if not bool(train.all()) and (e := _first(~train & torch.isnan(w))) is not None:
        raise NonFiniteError(f"{edge(e)} is frozen (trainable=False) but has no weight; a frozen edge keeps its "
                             f"initial value, so give weights.")
    return order
