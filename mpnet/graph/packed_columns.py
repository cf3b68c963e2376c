"""The flat arrays of many packed topologies (:class:`mpnet.scale.packed.Packed`) read straight into the columns of
an :class:`~mpnet.graph.arrays.ArrayTopology` (graph stage: what a worker builds its batched network from).

A Ray worker gets its chunk of a generation as a few numpy arrays. Turning them back into ``Topology`` objects
(a ``Node`` per neuron, an ``Edge`` per connection, each checked) and then into columns costs microseconds per
object; :func:`packed_columns` reads the arrays as columns in one pass per column, checked by the same column
checks as :meth:`~mpnet.graph.arrays.ArrayTopology.from_batch` (a recurrent batch allows cycles and
self-loops, as a recurrent ``Topology`` does). The network built from them computes what the network built from
the unpacked topologies computes, bit for bit. Only ties have no column: a tied batch is refused by name.
"""
from typing import Any, Dict, List, Optional, Protocol

import numpy as np
import torch

from ..errors import ArgumentError, MismatchError, NonFiniteError
from .columns import batch_columns
from .elements import NETWORK_TYPES
from .vocabulary import ROLES

__all__ = ["PackedLike", "packed_columns"]

_INPUT, _OUTPUT = ROLES.index("input"), ROLES.index("output")


class PackedLike(Protocol):
    """What :func:`packed_columns` reads of a :class:`mpnet.scale.packed.Packed` (see its docstring)."""
    node_ptr: np.ndarray
    edge_ptr: np.ndarray
    role: np.ndarray
    activation: np.ndarray
    bias: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    weight: np.ndarray
    aggregation: Optional[np.ndarray]
    response: Optional[np.ndarray]
    dale: Optional[np.ndarray]
    sign: Optional[np.ndarray]
    trainable: Optional[np.ndarray]
    time_constant: Optional[np.ndarray]
    network_type: Optional[np.ndarray]
    ties: Optional[List[Optional[str]]]


def packed_columns(packed: PackedLike) -> Dict[str, Any]:
    """The keyword arguments of ``ArrayTopology`` for the topologies of ``packed``, in their order (a batch).

    Raises:
        ArgumentError: a topology is tied (ties have no column: unpack the chunk into topologies).
        MismatchError: no topology, or the topologies mix network types or numbers of inputs and outputs.
        NonFiniteError: a ctrnn's time constant is not a finite number > 0.
        TopologyError: what :meth:`~mpnet.graph.arrays.ArrayTopology.from_batch` raises for the same columns.
    """
    node_ptr = torch.as_tensor(np.asarray(packed.node_ptr, dtype=np.int64))
    edge_ptr = torch.as_tensor(np.asarray(packed.edge_ptr, dtype=np.int64))
    T = node_ptr.numel() - 1
    if T < 1 or edge_ptr.numel() != T + 1:
        raise MismatchError(f"Expected node_ptr and edge_ptr of one length T + 1 >= 2 (got {node_ptr.numel()} and "
                            f"{edge_ptr.numel()}).")
    if packed.ties is not None and (t := next((i for i, x in enumerate(packed.ties) if x is not None), None)) \
            is not None:
        raise ArgumentError(f"Packed topology {t} is tied; ties have no column. Build tied topologies from "
                            f"Topology objects (mpnet.scale.packed.unpack, then ArrayTopology.from_topologies).")
    kinds = np.zeros(T, np.int64) if packed.network_type is None else np.asarray(packed.network_type, np.int64)
    if len(kinds) != T or ((kinds < 0) | (kinds >= len(NETWORK_TYPES))).any():
        raise MismatchError(f"Expected network_type to hold {T} codes 0 .. {len(NETWORK_TYPES) - 1} "
                            f"(indices into {list(NETWORK_TYPES)}; got {len(kinds)} values).")
    if (kinds != kinds[0]).any():
        t = int(np.flatnonzero(kinds != kinds[0])[0])
        raise MismatchError(f"The packed topologies mix network types: topology 0 is {NETWORK_TYPES[kinds[0]]}, "
                            f"topology {t} {NETWORK_TYPES[kinds[t]]}; one Network computes one kind.")
    network_type = NETWORK_TYPES[int(kinds[0])]
    counts, ecounts = node_ptr.diff(), edge_ptr.diff()
    if bool((counts < 0).any()) or bool((ecounts < 0).any()):
        raise MismatchError("Expected node_ptr and edge_ptr to rise (a topology has >= 0 nodes and edges).")
    role = torch.as_tensor(np.asarray(packed.role)).long()
    if role.numel() != int(node_ptr[-1]):
        raise MismatchError(f"Expected role to hold node_ptr[-1] = {int(node_ptr[-1])} entries, one per node (got "
                            f"{role.numel()}).")
    graph = torch.repeat_interleave(torch.arange(T), counts, output_size=role.numel())
    ports = []
    for code, what in ((_INPUT, "inputs"), (_OUTPUT, "outputs")):
        nodes = torch.nonzero(role == code).view(-1)          # declaration order: the column order
        per = torch.bincount(graph[nodes], minlength=T)
        if bool((per != per[0]).any()):
            t = int(torch.nonzero(per != per[0])[0])
            raise MismatchError(f"Packed topology {t} has {int(per[t])} {what} but topology 0 has {int(per[0])}; "
                                f"batched topologies must agree (the {what[:-1]} columns are shared).")
        ports.append((nodes - node_ptr[:-1][graph[nodes]]).view(T, int(per[0])))
    weight = torch.as_tensor(np.asarray(packed.weight, dtype=np.float64))
    drawn = weight.isnan()
    cols = batch_columns(counts, packed.src, packed.dst, ecounts, ports[0], ports[1], weight.nan_to_num(0.0),
                         packed.sign, packed.trainable, packed.bias, packed.response, packed.activation, "identity",
                         packed.aggregation if packed.aggregation is not None else "sum", packed.dale, None, False,
                         drawn, recurrent=network_type != "feedforward")
    tau = None if packed.time_constant is None else torch.as_tensor(np.asarray(packed.time_constant, np.float64))
    if tau is not None and (tau.numel() != role.numel() or not bool((torch.isfinite(tau) & (tau > 0)).all())):
        bad = torch.nonzero(~(torch.isfinite(tau) & (tau > 0))).view(-1)
        where = (f"node {int(bad[0] - node_ptr[graph[bad[0]]])} of packed topology {int(graph[bad[0]])} has "
                 f"{float(tau[bad[0]])}" if bad.numel() and tau.numel() == role.numel()
                 else f"got {tau.numel()} for {role.numel()} nodes")
        raise NonFiniteError(f"Expected one time constant per node, each a finite number > 0 ({where}).")
    return dict(cols, batched=True, network_type=network_type, time_constant=tau)
