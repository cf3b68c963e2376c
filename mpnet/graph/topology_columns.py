"""The columns of validated :class:`~mpnet.graph.topology.Topology` objects, their disjoint union, read for an
:class:`~mpnet.graph.arrays.ArrayTopology` (graph stage; what :meth:`~mpnet.graph.arrays.ArrayTopology.from_topologies`
builds from, and :class:`~mpnet.Network` from a list of topologies).

Nothing is checked again: the topologies are valid by construction. One C-level ``map()`` per column runs over all
topologies' objects (their own dicts, read, not copied), edges kept as columns
(:class:`~mpnet.graph.assemble.PlainEdges`) are read as they are, and the positions of the edges' ends each topology
keeps are offset: Python runs per topology, not per node or edge.
"""
from itertools import chain, repeat
from operator import attrgetter
from typing import Any, Dict, List, Sequence, Union

import numpy as np
import numpy.typing as npt
import torch
from torch import Tensor

from ..errors import MismatchError
from ..threads import PassThreads
from .columns import ACT_CODE, AGG_CODE
from .depth import waves
from .topology import Topology
from .validate import Positions

__all__ = ["topology_columns", "SIGN_CODE"]

#: a sign (an edge's, or a Dale neuron's) as the int8 code of the columns
SIGN_CODE = {"+": 1, "-": -1, None: 0}
_ROLE = {"input": 0, "hidden": 1, "output": 2}


def topology_columns(topologies: Union[Topology, Sequence[Topology]]) -> Dict[str, Any]:
    """The keyword arguments of ``ArrayTopology`` holding ``topologies`` (one gives ``batched=False``).

    Raises:
        MismatchError: no topology, or topologies that mix network types or numbers of inputs and outputs.
    """
    single = isinstance(topologies, Topology)
    topos = [topologies] if isinstance(topologies, Topology) else list(topologies)
    if not topos:
        raise MismatchError("Expected at least one topology (got an empty list).")
    n_in, n_out = len(topos[0].inputs), len(topos[0].outputs)
    kinds = {getattr(t, "network_type", "feedforward") for t in topos}
    if len(kinds) > 1:
        raise MismatchError(f"The topologies mix network types {sorted(kinds)}; one Network computes one "
                            f"kind (declare them all recurrent=..., or none).")
    network_type = kinds.pop()
    # one C-level map() per column over all topologies' objects (their own dicts, read, not copied), and the
    # positions of the edges' ends each topology keeps: Python runs per topology, not per node or edge
    node_lists = [t._nodes for t in topos]
    columns = list(map(Topology._columns, topos))       # edges kept as columns (no Edge objects), else None
    counts, ecounts = list(map(len, node_lists)), list(map(attrgetter("num_edges"), topos))
    ports = list(zip(map(len, map(attrgetter("inputs"), topos)), map(len, map(attrgetter("outputs"), topos))))
    if set(ports) != {(n_in, n_out)}:
        t = next(t for t, p in enumerate(ports) if p != (n_in, n_out))
        raise MismatchError(f"Topology {t} has {ports[t][0]} inputs and {ports[t][1]} outputs but topology 0 "
                            f"has {n_in} and {n_out}; batched topologies must agree on both (the input columns "
                            f"and output columns are shared).")
    all_nodes = list(chain.from_iterable(map(dict.values, node_lists)))
    act, agg = (list(map(table.__getitem__, map(attrgetter(field), all_nodes)))
            for table, field in ((ACT_CODE, "activation"), (AGG_CODE, "aggregation")))
    bias, resp = (list(map(attrgetter(field), all_nodes)) for field in ("bias", "response"))
    dale = list(map(SIGN_CODE.__getitem__, map(attrgetter("dale"), all_nodes)))
    # the columns of each topology's edges: read from its columns, or from its Edge objects
    weight = list(chain.from_iterable(map(attrgetter("weight"), t._edges.values()) if c is None else c.weight
                                  for t, c in zip(topos, columns)))   # None: NaN (numpy reads it so)
    sign = list(chain.from_iterable(map(SIGN_CODE.__getitem__, map(attrgetter("sign"), t._edges.values()))
                                if c is None else repeat(0, len(c)) for t, c in zip(topos, columns)))
    train = list(chain.from_iterable(map(attrgetter("trainable"), t._edges.values()) if c is None
                                 else repeat(True, len(c)) for t, c in zip(topos, columns)))
    ends = list(map(Topology._edge_positions, topos))      # local positions: + the topology's first node
    first = np.repeat(np.cumsum([0] + counts[:-1], dtype=np.int64), ecounts)
    src, dst = (_concat([e[k] for e in ends]) + first for k in (0, 1))
    # a topology's inputs (outputs) are its input (output) nodes in declaration order, so in the union too
    role = np.array(list(map(_ROLE.__getitem__, map(attrgetter("role"), all_nodes))), dtype=np.int8)
    ins, outs = np.flatnonzero(role == 0), np.flatnonzero(role == 2)
    T = len(topos)

    def col(values: Sequence[Any], dtype: npt.DTypeLike) -> Tensor:   # numpy reads a list ~5x faster than torch
        return torch.from_numpy(np.array(values, dtype=dtype))
    node_ptr, edge_ptr = torch.zeros(T + 1, dtype=torch.long), torch.zeros(T + 1, dtype=torch.long)
    node_ptr[1:], edge_ptr[1:] = col(counts, np.int64).cumsum(0), col(ecounts, np.int64).cumsum(0)
    src_t, dst_t = torch.from_numpy(src), torch.from_numpy(dst)
    ins_t, outs_t = torch.from_numpy(ins.astype(np.int64)).view(T, n_in), torch.from_numpy(outs.astype(np.int64))
    is_input = torch.zeros(len(act), dtype=torch.bool)
    is_input[ins_t.view(-1)] = True
    # a recurrent topology's depth (Topology.depth): inputs 0, every other node 1 (one synchronous step)
    depth = _depth(src_t, dst_t, is_input) if network_type == "feedforward" else (~is_input).long()
    return dict(src=src_t, dst=dst_t, weight=col(weight, np.float64), sign=col(sign, np.int8),
                trainable=col(train, np.bool_), activation=col(act, np.int64), aggregation=col(agg, np.int64),
                bias=col(bias, np.float64), response=col(resp, np.float64), dale=col(dale, np.int8),
                inputs=ins_t, outputs=outs_t.view(T, n_out), node_ptr=node_ptr, edge_ptr=edge_ptr,
                depth=depth, batched=not single, topologies=topos, network_type=network_type)


def _concat(parts: List[Positions]) -> npt.NDArray[np.int64]:
    """The edge-end positions of many topologies as one int64 array (lists, or arrays where a topology is large)."""
    if any(isinstance(p, np.ndarray) for p in parts):
        return np.concatenate([np.asarray(p, dtype=np.int64) for p in parts])
    return np.array(list(chain.from_iterable(parts)), dtype=np.int64).reshape(-1)


def _depth(src: Tensor, dst: Tensor, is_input: Tensor) -> Tensor:
    with PassThreads(src.numel()):
        return waves(src, dst, is_input).depth
