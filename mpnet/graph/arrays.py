"""Topologies as arrays: one topology or a batch of them in flat tensors, validated with array ops (between
topology and compile; compile reads only this form).

A :class:`~mpnet.Topology` is a set of Python objects (a ``Node`` per neuron, an ``Edge`` per connection):
readable, editable, JSON-ready, and about a microsecond per object to build and check. An
:class:`ArrayTopology` is the same declaration as columns (``src``, ``dst``, ``weight``, ... per edge;
``activation``, ``bias``, ... per node), checked with a few tensor ops per column and per depth level, so a
million-edge graph or a generation of ten thousand genomes takes milliseconds. It makes ``Topology``
objects only when asked (:meth:`ArrayTopology.topology`).
"""
import math
from typing import Any, Dict, List, Optional, Sequence, Union

import torch
from torch import Tensor

from .columns import Column, as_long, batch_columns, check_size
from ..checks import check_int
from ..threads import PassThreads
from ..errors import ArgumentError
from .assemble import PlainEdges, column_edges, finite, rebiased, reweighted
from .validate import NUMPY_EDGES
from .elements import EdgeKey, NodeId, collector_paused
from .packed_columns import PackedLike, packed_columns
from .topology import Edge, Node, Topology
from .topology_columns import topology_columns
from .vocabulary import ACTIVATIONS, AGGREGATIONS

__all__ = ["ArrayTopology"]

_SIGN_NAME = {1: "+", -1: "-", 0: None}


class ArrayTopology:
    """One topology, or a batch of topologies (their disjoint union), as flat tensors on the CPU.

    Build one with :meth:`from_arrays` / :meth:`from_edge_index` (one graph), :meth:`from_batch` (many graphs
    given as concatenated columns, e.g. a generation of genomes) or :meth:`from_topologies`; pass it to
    :class:`mpnet.Network` like a :class:`~mpnet.Topology`. The checks are those of ``Topology`` and raise
    the same errors, naming the graph, node and edge.

    Graph ``t`` owns nodes ``node_ptr[t]:node_ptr[t+1]`` and edges ``edge_ptr[t]:edge_ptr[t+1]``; the node
    indices in ``src``, ``dst``, ``inputs`` and ``outputs`` count over the whole union.

    Attributes:
        src, dst: ``[E]`` int64. weight: ``[E]`` float64, NaN where the network draws the weight.
        sign: ``[E]`` int8, +1 / -1 fixed, 0 free (a Dale source's sign written in). trainable: ``[E]`` bool.
        activation, aggregation: ``[N]`` int64 indices into :data:`~mpnet.graph.topology.ACTIVATIONS` /
            :data:`~mpnet.graph.topology.AGGREGATIONS`. bias, response: ``[N]`` float64. dale: ``[N]`` int8.
        inputs: ``[T, n_in]``, outputs: ``[T, n_out]``: node indices in column order.
        depth: ``[N]`` as :meth:`mpnet.Topology.depth`. node_ptr, edge_ptr: ``[T + 1]``.
        network_type: ``"feedforward"``, or ``"recurrent"`` / ``"ctrnn"`` for recurrent topologies (these
            come from :class:`~mpnet.Topology` objects, :meth:`from_topologies`, or packed ones,
            :meth:`from_packed`).
        batched: ``False`` for one graph built with :meth:`from_arrays` (a ``Network`` of it takes and gives
            ``[batch, features]``), ``True`` for a batch.
    """

    def __init__(self, **columns: Any):
        self.src: Tensor = columns["src"]
        self.dst: Tensor = columns["dst"]
        self.weight: Tensor = columns["weight"]
        self.sign: Tensor = columns["sign"]
        self.trainable: Tensor = columns["trainable"]
        self.activation: Tensor = columns["activation"]
        self.aggregation: Tensor = columns["aggregation"]
        self.bias: Tensor = columns["bias"]
        self.response: Tensor = columns["response"]
        self.dale: Tensor = columns["dale"]
        self.inputs: Tensor = columns["inputs"]
        self.outputs: Tensor = columns["outputs"]
        self.node_ptr: Tensor = columns["node_ptr"]
        self.edge_ptr: Tensor = columns["edge_ptr"]
        self.depth: Tensor = columns["depth"]
        self.batched: bool = columns["batched"]
        self._node_ids: Optional[List[NodeId]] = columns.get("node_ids")
        self.topologies: Optional[List[Topology]] = columns.get("topologies")
        # "feedforward" (made from arrays: always), "recurrent" or "ctrnn" (from recurrent topologies; then
        # every non-input node has depth 1, cycles and self-loops included)
        self.network_type: str = columns.get("network_type", "feedforward")
        #: ``[N]`` float64 time constants (a ctrnn's, from :meth:`from_packed`), or None: every time constant is
        #: 1, or the topologies' own
        self.time_constant: Optional[Tensor] = columns.get("time_constant")

    # ------------------------------------------------------------------------------------ sizes
    @property
    def num_graphs(self) -> int:
        return self.node_ptr.numel() - 1

    @property
    def num_nodes(self) -> int:
        return self.activation.numel()

    @property
    def num_edges(self) -> int:
        return self.src.numel()

    @property
    def n_in(self) -> int:
        return self.inputs.shape[1]

    @property
    def n_out(self) -> int:
        return self.outputs.shape[1]

    @property
    def graph(self) -> Tensor:
        """``[N]`` the graph of each node (torch_geometric's ``batch`` vector)."""
        return torch.repeat_interleave(torch.arange(self.num_graphs), self.node_ptr.diff(),
                                       output_size=self.num_nodes)

    def __repr__(self) -> str:
        return (f"ArrayTopology(graphs={self.num_graphs}, inputs={self.n_in}, outputs={self.n_out}, "
                f"nodes={self.num_nodes}, edges={self.num_edges}"
                f"{'' if self.network_type == 'feedforward' else ', ' + self.network_type})")

    # ----------------------------------------------------------------------------- construction
    @classmethod
    def from_arrays(cls, src: Column, dst: Column, *, inputs: Column, outputs: Column,
                    num_nodes: Optional[int] = None, weight: Optional[Column] = None, sign: Optional[Column] = None,
                    trainable: Optional[Column] = None, bias: Optional[Column] = None,
                    response: Optional[Column] = None, activation: Union[str, Column] = "relu",
                    output_activation: str = "identity", aggregation: Union[str, Column] = "sum",
                    dale: Optional[Column] = None, node_ids: Optional[Sequence[NodeId]] = None,
                    drawn: Optional[Column] = None, warn: bool = True) -> "ArrayTopology":
        """One graph from its edge columns; nodes are ``0 .. num_nodes - 1``.

        Args:
            src, dst: ``[E]`` node indices of each edge.
            inputs, outputs: node indices, in the column order of the network's inputs and outputs.
            num_nodes: defaults to one more than the largest index named.
            weight: ``[E]`` finite initial weights; ``None`` lets the network draw them all, ``drawn``
                (``[E]`` bool) those of some edges.
            sign: ``[E]`` +1 / -1 (fixed sign) or 0 (free). trainable: ``[E]`` bool (``False``: frozen).
            bias, response: ``[N]`` (default 0 and 1).
            activation: the hidden neurons' activation name, or one name or code per node;
                ``output_activation`` applies to the outputs when ``activation`` is one name.
            aggregation: one name, or one name or code per node. dale: ``[N]`` +1 / -1 / 0.
            node_ids: ``[N]`` ids for the topologies this makes and for error messages (default: indices).
            warn: warn (:class:`~mpnet.errors.TopologyWarning`) about nodes off every input-to-output path.

        Raises:
            TopologyError: any subclass, as :class:`~mpnet.Topology` raises for the same mistake.

        Example:
            >>> arrays = ArrayTopology.from_arrays([0, 1, 2], [2, 2, 3], inputs=[0, 1], outputs=[3],
            ...                                    weight=[0.5, -0.5, 2.0])
            >>> arrays
            ArrayTopology(graphs=1, inputs=2, outputs=1, nodes=4, edges=3)
        """
        src, dst = as_long(src, "src"), as_long(dst, "dst")
        ins, outs = as_long(inputs, "inputs", ndim=2).view(1, -1), as_long(outputs, "outputs", ndim=2).view(1, -1)
        if num_nodes is None:
            named = torch.cat([src, dst, ins.view(-1), outs.view(-1)])
            num_nodes = int(named.max()) + 1 if named.numel() else 0
            check_size(num_nodes, src.numel(), f"The largest node index named ({num_nodes - 1}, in src, dst, inputs "
                                               f"or outputs)")
        num_nodes = check_int(num_nodes, "num_nodes", min=0)
        made = cls.from_batch([num_nodes], src, dst, [src.numel()], inputs=ins, outputs=outs, weight=weight,
                              sign=sign, trainable=trainable, bias=bias, response=response, activation=activation,
                              output_activation=output_activation, aggregation=aggregation, dale=dale,
                              node_ids=node_ids, drawn=drawn, warn=warn)
        made.batched = False
        return made

    @classmethod
    def from_edge_index(cls, edge_index: Column, **kwargs: Any) -> "ArrayTopology":
        """:meth:`from_arrays` with torch_geometric's ``edge_index [2, E]`` (row 0 sources, row 1 targets)."""
        edge_index = as_long(edge_index, "edge_index", ndim=2)
        if edge_index.dim() != 2 or edge_index.shape[0] != 2:
            raise ValueError(f"Expected 'edge_index' of shape [2, num_edges] (got {list(edge_index.shape)}).")
        return cls.from_arrays(edge_index[0], edge_index[1], **kwargs)

    @classmethod
    def from_batch(cls, num_nodes: Column, src: Column, dst: Column, num_edges: Column, *, inputs: Column,
                   outputs: Column, weight: Optional[Column] = None, sign: Optional[Column] = None,
                   trainable: Optional[Column] = None, bias: Optional[Column] = None,
                   response: Optional[Column] = None, activation: Union[str, Column] = "relu",
                   output_activation: str = "identity", aggregation: Union[str, Column] = "sum",
                   dale: Optional[Column] = None, node_ids: Optional[Sequence[NodeId]] = None,
                   drawn: Optional[Column] = None, warn: bool = True) -> "ArrayTopology":
        """``T`` graphs given as concatenated columns: graph ``t`` has ``num_nodes[t]`` nodes and the next
        ``num_edges[t]`` edges, whose ``src``/``dst`` count from its own first node (0).

        This is the compact form of a generation of genomes (what a worker needs to build its batched
        :class:`~mpnet.Network`): a few flat arrays, no Python object per gene. The other columns are those of
        :meth:`from_arrays`, concatenated over the graphs.

        Args:
            inputs, outputs: ``[n]`` local indices shared by every graph (NEAT: inputs ``0 .. n_in - 1``,
                outputs next), or ``[T, n]``, one row per graph.

        Example:
            Two genomes: ``x0, x1 -> y`` (nodes 0, 1, 2), and ``x0, x1 -> h -> y`` with ``x0 -> y`` too
            (nodes 0, 1, 2 and h = 3), their edges' ends counted from each genome's own node 0:

            >>> gen = ArrayTopology.from_batch([3, 4], src=[0, 1, 0, 1, 3, 0], dst=[2, 2, 3, 3, 2, 2],
            ...                                num_edges=[2, 4], inputs=[0, 1], outputs=[2],
            ...                                weight=[1.0, -1.0, 0.5, 0.5, 2.0, -0.5])
            >>> gen
            ArrayTopology(graphs=2, inputs=2, outputs=1, nodes=7, edges=6)
            >>> gen.topology(1).edges[(3, 2)].weight
            2.0
        """
        with PassThreads(len(src)):                  # checks and waves: one pass over the edges
            return cls(**batch_columns(num_nodes, src, dst, num_edges, inputs, outputs, weight, sign, trainable,
                                       bias, response, activation, output_activation, aggregation, dale, node_ids,
                                       warn, drawn), batched=True)

    @classmethod
    @collector_paused
    def from_topologies(cls, topologies: Union[Topology, Sequence[Topology]]) -> "ArrayTopology":
        """The disjoint union of validated topologies, in their order (a Python pass over their nodes and
        edges; nothing is checked again). One :class:`~mpnet.Topology` gives ``batched=False``.

        Raises:
            MismatchError: the topologies do not all have the same number of inputs and outputs.
        """
        return cls(**topology_columns(topologies))

    @classmethod
    def from_packed(cls, packed: PackedLike) -> "ArrayTopology":
        """The topologies of a :class:`mpnet.scale.packed.Packed` (a chunk of a generation, as a worker gets
        it) as one batch, read from its arrays with no Python object per topology, node or edge: feed-forward,
        recurrent or ctrnn (time constants kept), not tied. A network of it computes what a network of
        ``unpack(packed)`` computes, bit for bit; node ids are each topology's indices ``0 .. n - 1``.

        Raises:
            ArgumentError: a topology is tied (build those from :func:`mpnet.scale.packed.unpack`).
            MismatchError: the topologies mix network types, or numbers of inputs or outputs.
            TopologyError: what :meth:`from_batch` raises for the same columns (a recurrent batch allows
                cycles and self-loops).
        """
        with PassThreads(len(packed.src)):
            return cls(**packed_columns(packed))

    @classmethod
    def of(cls, topology: Union["ArrayTopology", Topology, Sequence[Topology]]) -> "ArrayTopology":
        """``topology`` itself if it is an ArrayTopology, else :meth:`from_topologies`."""
        return topology if isinstance(topology, ArrayTopology) else cls.from_topologies(topology)

    def columns(self, start: int = 0, stop: Optional[int] = None) -> Dict[str, Any]:
        """Graphs ``start .. stop - 1`` as the keyword arguments of :meth:`from_batch` (local indices, one
        tensor per column; node ids only when given): a compact, picklable shard of a generation, e.g. for a
        worker that builds its own batched Network with ``ArrayTopology.from_batch(**cols, warn=False)``."""
        if self.network_type != "feedforward":
            raise ArgumentError(f"columns() gives the arguments of from_batch, which builds feed-forward graphs; "
                                f"this batch is {self.network_type}. Send its topologies instead "
                                f"(arrays.topologies[start:stop], e.g. as Topology.to_dict()).")
        start = check_int(start, "start", min=0)
        stop = self.num_graphs if stop is None else check_int(stop, "stop", min=0)
        if not 0 <= start < stop <= self.num_graphs:
            raise IndexError(f"Expected 0 <= start < stop <= {self.num_graphs} (got {start}, {stop}).")
        n0, n1, e0, e1 = (int(v) for v in (self.node_ptr[start], self.node_ptr[stop], self.edge_ptr[start],
                                           self.edge_ptr[stop]))
        edge_base = self.node_ptr[:-1][torch.searchsorted(self.node_ptr, self.src[e0:e1], right=True) - 1]
        base = self.node_ptr[start:stop].view(-1, 1)
        weight = self.weight[e0:e1]
        cols: Dict[str, Any]   # tensors, and a list of node ids
        cols = dict(num_nodes=self.node_ptr[start + 1:stop + 1] - self.node_ptr[start:stop],
                    src=self.src[e0:e1] - edge_base, dst=self.dst[e0:e1] - edge_base,
                    num_edges=self.edge_ptr[start + 1:stop + 1] - self.edge_ptr[start:stop],
                    inputs=self.inputs[start:stop] - base, outputs=self.outputs[start:stop] - base,
                    weight=torch.nan_to_num(weight, nan=0.0), drawn=weight.isnan(), sign=self.sign[e0:e1],
                    trainable=self.trainable[e0:e1], bias=self.bias[n0:n1].index_fill(0, self.inputs[start:stop]
                                                                                      .reshape(-1) - n0, 0.0),
                    response=self.response[n0:n1],
                    activation=self.activation[n0:n1], aggregation=self.aggregation[n0:n1], dale=self.dale[n0:n1])
        if self._node_ids is not None or self.topologies is not None:
            cols["node_ids"] = self.node_ids()[n0:n1]
        return cols

    # ------------------------------------------------------------------------------ read back
    def node_ids(self) -> List[NodeId]:
        """The id of every node, graph after graph (given ids, the topologies' ids, or local indices)."""
        if self._node_ids is None:
            if self.topologies is not None:
                self._node_ids = [n for topo in self.topologies for n in topo.nodes]
            else:
                self._node_ids = (torch.arange(self.num_nodes) - self.node_ptr[:-1][self.graph]).tolist()
        return self._node_ids

    @collector_paused
    def topology(self, t: int = 0, weight: Optional[Tensor] = None, bias: Optional[Tensor] = None) -> Topology:
        """Graph ``t`` as a :class:`~mpnet.Topology`; ``weight [E]`` and ``bias [N]`` (float64, union order)
        replace the declared numbers of its trainable edges and non-input nodes when given. Made from
        arrays, its nodes are declared inputs first, then the hidden neurons, then the outputs."""
        t = check_int(t, "t", min=0)
        if t >= self.num_graphs:
            raise IndexError(f"Graph index {t} out of range: this ArrayTopology holds {self.num_graphs} graphs "
                             f"(valid: 0 .. {self.num_graphs - 1}).")
        n0, n1, e0, e1 = (int(v) for v in (self.node_ptr[t], self.node_ptr[t + 1], self.edge_ptr[t],
                                           self.edge_ptr[t + 1]))
        if weight is not None:
            weight = torch.where(self.trainable[e0:e1], weight[e0:e1], self.weight[e0:e1])
        if self.topologies is not None:
            topo = self.topologies[t]
            if weight is None and bias is None:
                return topo
            # Topology.with_weights, with every weight given in edge order: no lookup by key; edges kept as columns
            # stay columns when every new weight is a finite float (else the Edge objects, the culprit named)
            kept, new_w = topo._columns(), None if weight is None else weight.tolist()
            new_edges: Union[Dict[EdgeKey, Edge], PlainEdges]
            if kept is not None and (new_w is None or finite(new_w)):
                new_edges = kept if new_w is None else PlainEdges(kept.src, kept.dst, new_w)
            else:
                new_edges = dict(zip(topo._edges, topo._edges.values() if new_w is None else
                                     reweighted(topo._edges.values(), new_w)))
            new_nodes = dict(topo._nodes)
            biases = {} if bias is None else {n: v for n, v in zip(new_nodes, bias[n0:n1].tolist())
                                              if new_nodes[n].role != "input"}
            new_nodes.update(zip(biases, rebiased(map(new_nodes.__getitem__, biases), biases.values())))
            return topo._with(new_edges, new_nodes, None)
        ids = self.node_ids()[n0:n1]
        ins, outs = self.inputs[t].tolist(), self.outputs[t].tolist()
        role = {**{i: "input" for i in ins}, **{o: "output" for o in outs}}
        order = ins + [i for i in range(n0, n1) if i not in role] + outs
        b, act, agg, resp, dale = (c[n0:n1].tolist() for c in (self.bias if bias is None else bias, self.activation,
                                                               self.aggregation, self.response, self.dale))
        tau = [1.0] * (n1 - n0) if self.time_constant is None else self.time_constant[n0:n1].tolist()
        local = [i - n0 for i in order]
        for i in ins:
            b[i - n0] = 0.0   # an input has no bias

        def at(column: List[Any]) -> List[Any]:   # a column's entries in the nodes' order
            return list(map(column.__getitem__, local))
        nodes = list(map(Node, at(ids), [role.get(i, "hidden") for i in order], map(ACTIVATIONS.__getitem__, at(act)),
                         map(AGGREGATIONS.__getitem__, at(agg)), at(b), map(_SIGN_NAME.__getitem__, at(dale)), at(resp),
                         at(tau)))
        # NaN: a weight the network draws; a trained one stays NaN, for the Topology to refuse naming the edge
        w = [None if math.isnan(v) else v for v in self.weight[e0:e1].tolist()] if weight is None else weight.tolist()
        src, dst = (list(map(ids.__getitem__, (c[e0:e1] - n0).tolist())) for c in (self.src, self.dst))
        sign, train, values = self.sign[e0:e1], self.trainable[e0:e1], self.weight[e0:e1] if weight is None else weight
        plain = (self.network_type == "feedforward" and not bool(sign.any()) and bool(train.all())   # PlainEdges
                 and not bool(values.isinf().any()) and (weight is None or not bool(weight.isnan().any())))
        edges = column_edges(src, dst, w, map(_SIGN_NAME.__getitem__, sign.tolist()), train.tolist(), plain)
        if isinstance(edges, PlainEdges) and e1 - e0 >= NUMPY_EDGES:   # the positions of the ends, known: no lookup
            position = torch.empty(n1 - n0, dtype=torch.long)
            position[torch.tensor(local)] = torch.arange(n1 - n0)
            edges.known = (position[self.src[e0:e1] - n0].numpy(), position[self.dst[e0:e1] - n0].numpy())
        return Topology(nodes, edges, warn=False, recurrent=self.network_type)

    def to_topologies(self) -> List[Topology]:
        """Every graph as a :class:`~mpnet.Topology` (see :meth:`topology`)."""
        return [self.topology(t) for t in range(self.num_graphs)]
