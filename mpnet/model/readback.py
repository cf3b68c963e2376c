"""A network read back (model stage): the names of its rows and weights, its current numbers, and its
topologies with the trained weights and biases (a tied network's through its parameter table, so the
topologies keep their ties)."""
import numbers as _numbers
from typing import TYPE_CHECKING, Dict, List, Tuple, Union

import torch
from torch import Tensor

from ..errors import ArgumentError
from ..graph.elements import collector_paused
from ..graph.topology import Edge, EdgeKey, NodeId, Topology

if TYPE_CHECKING:
    from .network import Network

__all__ = ["row_names", "edge_keys", "declared_edges", "numbers", "topology", "to_topology"]

#: a tied network's edges in compiled order, and per topology its entries of ``weight`` and its non-input rows
TiedIndex = Tuple[List[Tuple[int, Edge]], List[List[int]], List[List[int]]]


def row_names(net: "Network") -> List[Tuple[int, NodeId]]:
    """``(topology index, node id)`` of each row of :meth:`~mpnet.Network.states` (made on first use and kept:
    not to be changed)."""
    if "_rows_made" not in net.__dict__:
        ids = net.arrays.node_ids()
        net._rows_made = [(t, ids[i]) for t, i in zip(net.data.batch.tolist(), net.data.node_perm.tolist())]
    return net._rows_made


def edge_keys(net: "Network") -> List[Tuple[int, NodeId, NodeId]]:
    """``(topology index, src, dst)`` of each entry of :attr:`~mpnet.Network.weight` (made on first use and
    kept: not to be changed)."""
    if "_edge_keys_made" not in net.__dict__:
        ids, batch, perm = net.arrays.node_ids(), net.data.batch.tolist(), net.data.edge_perm
        net._edge_keys_made = [(batch[s], ids[i], ids[j]) for s, i, j in zip(
            net.data.edge_index[0].tolist(), net.arrays.src[perm].tolist(), net.arrays.dst[perm].tolist())]
    return net._edge_keys_made


def declared_edges(net: "Network") -> List[Tuple[int, Edge]]:
    """``(topology index, Edge)`` of each entry of :attr:`~mpnet.Network.weight`, as declared."""
    union = [(t, e) for t, topo in enumerate(net.topologies) for e in topo.edges.values()]
    return [union[i] for i in net.data.edge_perm.tolist()]


def numbers(net: "Network") -> Tuple[Tensor, Tensor]:
    """Current weights ``[E]`` and biases ``[N]`` (float64, CPU) in declaration order (see
    :meth:`~mpnet.Network.numbers`)."""
    with torch.no_grad():
        weight = net._compute_weight()
    w = torch.empty(weight.numel(), dtype=torch.float64)
    w[net.data.edge_perm] = weight.double().cpu()
    b = net.arrays.bias.clone()
    b[net.data.node_perm[net.plan.num_inputs:]] = net.bias.detach().double().cpu()
    return w, b


def topology(net: "Network", index: int) -> Topology:
    """Topology ``index`` with its current weights and biases, the index checked."""
    if isinstance(index, bool) or not isinstance(index, _numbers.Integral):
        raise ArgumentError(f"Expected a topology index, an int in 0 .. {net.num_graphs - 1} (got "
                            f"{index!r}).")
    index = int(index)
    if not -net.num_graphs <= index < net.num_graphs:
        raise IndexError(f"Topology index {index} out of range: this network holds {net.num_graphs} "
                         f"topologies (valid: 0 .. {net.num_graphs - 1}).")
    if net._table is not None:
        return _tied_topology(net, index % net.num_graphs, *_parameter_values(net))
    return net.arrays.topology(index % net.num_graphs, *numbers(net))


@collector_paused   # a batch's topologies: many objects, none in a cycle, that the collector would sweep again
def to_topology(net: "Network") -> Union[Topology, List[Topology]]:
    """The topology, or a batch's list of them, with current weights and biases (the numbers read once)."""
    if net.batched:
        if net._table is not None:
            values = _parameter_values(net)
            return [_tied_topology(net, i, *values) for i in range(net.num_graphs)]
        w_b = numbers(net)
        return [net.arrays.topology(i, *w_b) for i in range(net.num_graphs)]
    return topology(net, 0)


# a tied network reads back through its parameter table: each group's value goes back to its tie and each
# edge's own parameter to its edge, so the topology keeps its ties (numbers() gives the summed weights)
def _parameter_values(net: "Network") -> Tuple[Tensor, Tensor]:
    """Each parameter's value ``[P]`` (sign map applied, ties not summed) and the biases."""
    with torch.no_grad():
        net._write_back_edits()
        return net.constraint(net.raw_weight).detach().cpu(), net.bias.detach().cpu()


def _tied_topology(net: "Network", index: int, w: Tensor, b: Tensor) -> Topology:
    """Topology ``index`` of a tied network with the parameter values ``w [P]`` and biases ``b`` (read for
    its own entries only)."""
    table = net._table
    assert table is not None
    edges, edge_ids, row_ids = _tied_index(net)
    mine = edge_ids[index]
    own = [table.own[i] for i in mine]
    with_own = [o for o in own if o >= 0]
    values = iter(w[torch.tensor(with_own, dtype=torch.long)].tolist() if with_own else [])
    weights: Dict[EdgeKey, float] = {}
    for i, o in zip(mine, own):
        if o < 0:
            continue   # no parameter of its own: its groups carry its value
        e = edges[i][1]
        value = next(values)
        # frozen: the declared number itself (which a frozen edge has: validation)
        weights[e.key] = value if e.trainable or e.weight is None else e.weight
    ties: Dict[str, float] = {}
    n_own = w.numel() - len(table.groups)
    for k, (t, name) in enumerate(table.groups):
        if t == index and net.topologies[t].ties[name].trainable:
            ties[name] = float(w[n_own + k])
    n_in = net.plan.num_inputs
    rows = row_ids[index]
    b_mine = b[torch.tensor(rows, dtype=torch.long) - n_in].tolist() if rows else []
    names = row_names(net)
    biases: Dict[NodeId, float] = {names[r][1]: value for r, value in zip(rows, b_mine)}
    return net.topologies[index].with_weights(weights, biases, ties)


def _tied_index(net: "Network") -> TiedIndex:
    """A tied network's edges in compiled order, and per topology its entries of ``weight`` and its
    non-input rows (made once)."""
    if "_tied_index_made" not in net.__dict__:
        edges = net._edges
        edge_ids: List[List[int]] = [[] for _ in range(net.num_graphs)]
        row_ids: List[List[int]] = [[] for _ in range(net.num_graphs)]
        for i, (t, _) in enumerate(edges):
            edge_ids[t].append(i)
        for r, t in enumerate(net.data.batch.tolist()):
            if r >= net.plan.num_inputs:
                row_ids[t].append(r)
        net._tied_index_made = (edges, edge_ids, row_ids)
    return net._tied_index_made
