"""Declaring a network: neurons are nodes, connections are directed weighted edges (pure Python, no torch).

A :class:`Topology` is immutable and valid by construction: every check happens in its constructor and a
failure raises a :class:`~mpnet.errors.TopologyError` naming the culprit. It is the input of
:mod:`mpnet.engine.compile` and the output of :meth:`mpnet.Network.to_topology`.
"""
from __future__ import annotations

import json
import os
import warnings
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from ..errors import (ArgumentError, CycleError, RoleError, SignConflictError, TopologyError, TopologyWarning,
                      UnknownNodeError, located)
from ..checks import check_bool
from .adapters import borrow
from .elements import FORMAT_VERSION, NETWORK_TYPES, Edge, Node, Unreachable, collector_paused, require_node
from .elements import EdgeKey as EdgeKey, NodeId as NodeId   # re-exported: callers name them from here
from .declare import declaration
from .assemble import PlainEdges, add_edges, add_nodes, rebiased, reweighted
from .ties import Tie, check_ties
from .validate import (Positions, Wiring, check_finite, find_cycle, fmt_node, off_paths, reach,
                       wired as wired_positions, wiring)
from .vocabulary import ACTIVATIONS, AGGREGATIONS, NEAT_ACTIVATIONS  # re-exported: the names live there

if TYPE_CHECKING:   # the types of what later stages lend (nothing is imported at run time)
    import networkx as nx
    from torch_geometric.data import Data  # type: ignore[import-untyped]

__all__ = ["Node", "Edge", "Tie", "Topology", "Unreachable", "ACTIVATIONS", "NEAT_ACTIVATIONS", "AGGREGATIONS",
           "FORMAT_VERSION", "NETWORK_TYPES"]

class Topology:
    """An immutable, validated network declaration: nodes (neurons) and directed edges (connections).

    Build one with :meth:`from_edges` (the short way) or from explicit :class:`Node` and :class:`Edge`
    lists. Node order is kept: inputs in the given order, outputs in the given order; it fixes the
    column order of the network's inputs and outputs.

    Args:
        nodes: the neurons, each id once.
        edges: the connections; a Dale neuron's sign is written into each of its free outgoing edges.
        warn: emit a :class:`~mpnet.errors.TopologyWarning` when :meth:`unreachable` is not empty.
        recurrent: ``False`` (a feed-forward DAG: a cycle is an error), ``True`` (a discrete-time recurrent
            network: cycles and self-loops allowed, each step computes every neuron from the previous
            step's values, as ``neat.nn.RecurrentNetwork``) or ``"ctrnn"`` (continuous time, as
            ``neat.ctrnn.CTRNN``, with per-neuron ``time_constant``); a name of :data:`NETWORK_TYPES` works
            too. See :mod:`mpnet.engine.recurrent`.
        ties: the shared parameters (:class:`~mpnet.graph.ties.Tie`) that edges name in their ``tie``.

    Raises:
        TopologyError: any subclass, see :mod:`mpnet.errors`.
    """

    @collector_paused   # an object per node and edge, none in a cycle: the collector's sweeps only cost time
    def __init__(self, nodes: Iterable[Node], edges: Iterable[Edge], *, warn: bool = True,
                 recurrent: Union[bool, str] = False, ties: Iterable[Tie] = ()):
        warn = check_bool(warn, "warn")
        kinds: Dict[Union[bool, str], str] = {False: "feedforward", True: "recurrent",
                                              **{k: k for k in NETWORK_TYPES}}
        if not isinstance(recurrent, (bool, str)) or recurrent not in kinds:
            raise ArgumentError(f"recurrent={recurrent!r}; expected False (feed-forward), True (discrete-time "
                                f"recurrent) or 'ctrnn' (continuous-time recurrent), or a network type "
                                f"{list(NETWORK_TYPES)}.")
        #: ``"feedforward"``, ``"recurrent"`` or ``"ctrnn"`` (see :data:`NETWORK_TYPES`).
        self.network_type: str = kinds[recurrent]
        self._nodes: Dict[NodeId, Node] = add_nodes(nodes)
        self.inputs: Tuple[NodeId, ...] = tuple(n.id for n in self._nodes.values() if n.role == "input")
        self.outputs: Tuple[NodeId, ...] = tuple(n.id for n in self._nodes.values() if n.role == "output")
        if not self.inputs:
            raise RoleError("The topology has no input node; declare at least one (role='input').")
        if not self.outputs:
            raise RoleError("The topology has no output node; declare at least one (role='output').")
        ties = ties if type(ties) in (tuple, list) else list(ties)
        # edges given as checked columns and fitting the nodes stay columns (assemble.PlainEdges): no Edge objects
        plain = edges if type(edges) is PlainEdges and not ties else None
        positions = None if plain is None else plain.positions(self._nodes)
        if plain is not None and positions is not None:
            self._plain = plain
            self.ties: Dict[str, Tie] = {}
            wired = wired_positions(*positions, len(self._nodes))
        else:
            self._edges = add_edges(edges, self._nodes, self.recurrent)
            #: ``{name: Tie}``: the shared parameters, in declaration order (see :mod:`mpnet.graph.ties`).
            self.ties = check_ties(ties, self._edges, self._nodes)
            wired = wiring(self._nodes, self._edges, len(self._nodes))   # positions, and an order when acyclic
        self._positions: Tuple[Positions, Positions] = (wired.src, wired.dst)   # read by ArrayTopology
        cycle = (None if self.recurrent or wired.order is not None   # Kahn's order missed a node: find its cycle
                 else find_cycle(self._adjacency()[0], list(self._nodes)))
        if cycle is not None:
            path = " -> ".join(fmt_node(n) for n in cycle)
            raise CycleError(f"The edges contain a cycle: {path}. A feed-forward network must be acyclic; "
                             f"remove one of these edges (e.g. {fmt_node(cycle[-2])} -> "
                             f"{fmt_node(cycle[-1])}), or declare the topology recurrent=True.", cycle)
        if warn:
            lost = self._off_paths(wired)
            if lost.unreached or lost.dead_ends:
                some = [f"{ids[:10]}" + (f" ({len(ids)} in all; topo.unreachable() lists them)" if len(ids) > 10
                                         else "") for ids in lost]
                warnings.warn(f"Topology has nodes off every input-to-output path (kept, not dropped): "
                              f"no input reaches {some[0]}; no output is reached from {some[1]}.", TopologyWarning,
                              stacklevel=2)

    # ---------------------------------------------------------------------------------- construction
    @classmethod
    @collector_paused
    def from_edges(cls, edges: Iterable[Union[Sequence[Any], Mapping[str, Any]]], inputs: Sequence[NodeId],
                   outputs: Sequence[NodeId], *, activation: str = "relu", output_activation: str = "identity",
                   aggregation: str = "sum", signs: Optional[Mapping[EdgeKey, Optional[str]]] = None,
                   dale: Optional[Mapping[NodeId, str]] = None, biases: Optional[Mapping[NodeId, float]] = None,
                   activations: Optional[Mapping[NodeId, str]] = None,
                   aggregations: Optional[Mapping[NodeId, str]] = None,
                   responses: Optional[Mapping[NodeId, float]] = None,
                   frozen: Iterable[EdgeKey] = (), hidden: Sequence[NodeId] = (), warn: bool = True,
                   recurrent: Union[bool, str] = False,
                   time_constants: Optional[Mapping[NodeId, float]] = None, ties: Iterable[Tie] = ()) -> "Topology":
        """Declare a network from its edge list; hidden neurons are the nodes that are neither inputs nor
        outputs, in order of first appearance.

        Args:
            edges: ``(src, dst)``, ``(src, dst, weight)`` or a dict with keys ``src, dst`` and optionally
                ``weight, sign, trainable``.
            inputs, outputs: node ids, in the column order of the network's inputs and outputs.
            activation: default activation of hidden neurons; ``output_activation`` that of outputs.
            aggregation: default aggregation of every non-input neuron.
            signs: ``{(src, dst): "+" | "-" | None}`` fixed edge signs.
            dale: ``{node: "+" | "-"}`` neurons obeying Dale's law.
            biases, activations, aggregations, responses: per-node overrides.
            frozen: edges whose weight stays at its (given) initial value.
            hidden: extra hidden neurons to declare even if no edge mentions them.
            recurrent: ``True`` or ``"ctrnn"`` to allow cycles and self-loops (see the class).
            time_constants: per-node time constants of a ``"ctrnn"`` topology (1 unless given).
            ties: shared parameters named by the edges' ``tie`` (see :mod:`mpnet.graph.ties`).

        Example:
            >>> topo = Topology.from_edges([("x", "h", 0.5), ("h", "y", -1.0)], inputs=["x"], outputs=["y"])
            >>> topo.edges[("h", "y")].weight
            -1.0
        """
        nodes, parsed = declaration(edges, inputs, outputs, activation, output_activation, aggregation, signs, dale,
                                    biases, activations, aggregations, responses, frozen, hidden, recurrent,
                                    time_constants)
        return cls(nodes, parsed, warn=warn, recurrent=recurrent, ties=ties)

    # --------------------------------------------------------------------------------------- access
    @property
    def nodes(self) -> Dict[NodeId, Node]:
        """``{id: Node}`` in declaration order (a copy)."""
        return dict(self._nodes)

    @property
    def edges(self) -> Dict[EdgeKey, Edge]:
        """``{(src, dst): Edge}`` in declaration order (a copy)."""
        return dict(self._edges)

    @property
    def _edges(self) -> Dict[EdgeKey, Edge]:
        """``{(src, dst): Edge}``, made from the columns on first use when the edges came as columns (not to be
        changed)."""
        table: Optional[Dict[EdgeKey, Edge]] = self.__dict__.get("_edges")
        if table is None:
            table = self.__dict__["_edges"] = self._plain.table()
        return table

    @_edges.setter
    def _edges(self, table: Dict[EdgeKey, Edge]) -> None:
        self.__dict__["_edges"] = table
        self.__dict__.pop("_plain", None)   # the columns, if any, are another topology's now

    def _columns(self) -> Optional[PlainEdges]:
        """The edges as columns when they came so (:class:`~mpnet.graph.assemble.PlainEdges`: no sign, tie or
        freeze), else None: what :class:`~mpnet.ArrayTopology` reads instead of a million Edge objects."""
        return self.__dict__.get("_plain")

    @property
    def recurrent(self) -> bool:
        """Whether cycles are allowed (``network_type`` "recurrent" or "ctrnn")."""
        return self.network_type != "feedforward"

    @property
    def num_nodes(self) -> int:
        return len(self._nodes)

    @property
    def num_edges(self) -> int:
        plain = self._columns()
        return len(self._edges if plain is None else plain)

    def predecessors(self, node_id: NodeId) -> List[NodeId]:
        """The sources of the edges into ``node_id``, in edge order (UnknownNodeError: a node not declared)."""
        return list(self._adjacency()[1][require_node(node_id, self._nodes)])

    def successors(self, node_id: NodeId) -> List[NodeId]:
        """The targets of the edges out of ``node_id``, in edge order (UnknownNodeError: a node not declared)."""
        return list(self._adjacency()[0][require_node(node_id, self._nodes)])

    def _adjacency(self) -> Tuple[Dict[NodeId, List[NodeId]], Dict[NodeId, List[NodeId]]]:
        """``({id: successors}, {id: predecessors})`` in edge order, made on first use and kept (not to be changed)."""
        if "_succ" not in self.__dict__:
            self._succ: Dict[NodeId, List[NodeId]] = {n: [] for n in self._nodes}
            self._pred: Dict[NodeId, List[NodeId]] = {n: [] for n in self._nodes}
            plain = self._columns()   # the pairs read from the columns when there are some
            for src, dst in (self._edges if plain is None else plain.keys()):
                self._succ[src].append(dst)
                self._pred[dst].append(src)
        return self._succ, self._pred

    def _edge_positions(self) -> Tuple[Positions, Positions]:
        """The positions (declaration order) of each edge's source and target (:class:`~mpnet.ArrayTopology`)."""
        if "_positions" not in self.__dict__:   # a topology unpickled from before 0.2 has none
            wired = wiring(self._nodes, self._edges, len(self._nodes))
            self._positions = (wired.src, wired.dst)
        return self._positions

    def depth(self) -> Dict[NodeId, int]:
        """Longest path from the inputs: inputs 0; a non-input neuron 1 + the deepest of its sources (1 if
        it has none). Neurons of equal depth can be computed together. In a recurrent topology every
        non-input neuron has depth 1: one synchronous step computes them all."""
        if self.recurrent:
            return {n: 0 if node.role == "input" else 1 for n, node in self._nodes.items()}
        depth: Dict[NodeId, int] = {}
        succ, pred = self._adjacency()
        indeg = {n: len(p) for n, p in pred.items()}
        ready = [n for n in self._nodes if indeg[n] == 0]
        for n in ready:
            depth[n] = 0 if self._nodes[n].role == "input" else 1
        while ready:
            node = ready.pop()
            for child in succ[node]:
                depth[child] = max(depth.get(child, 1), depth[node] + 1)
                indeg[child] -= 1
                if indeg[child] == 0:
                    ready.append(child)
        return {n: depth[n] for n in self._nodes}

    def topological_order(self) -> List[NodeId]:
        """Node ids sorted by depth (stable in declaration order)."""
        depth = self.depth()
        return sorted(self._nodes, key=lambda n: depth[n])

    def unreachable(self) -> Unreachable:
        """Non-input nodes no input reaches, and non-output nodes that reach no output. Nothing is
        dropped: these nodes are computed like any other."""
        return self._off_paths(wired_positions(*self._edge_positions(), len(self._nodes)))

    def _off_paths(self, wired: Wiring) -> Unreachable:
        if wired.order is not None:   # acyclic: walked over positions in Kahn's order
            return Unreachable(*off_paths(self._nodes, wired))
        succ, pred = self._adjacency()
        fwd_set, bwd_set = reach(self.inputs, succ), reach(self.outputs, pred)
        return Unreachable([n for n in self._nodes if n not in fwd_set], [n for n in self._nodes if n not in bwd_set])

    @collector_paused
    def with_weights(self, weights: Mapping[EdgeKey, float], biases: Optional[Mapping[NodeId, float]] = None,
                     ties: Optional[Mapping[str, float]] = None) -> "Topology":
        """A copy with some edge weights, node biases and tie values replaced; signs, flags and the wiring kept.
        An edge without a parameter of its own (tied, :mod:`mpnet.graph.ties`) takes no weight: set its group's in
        ``ties``.

        Only the new numbers are checked (finite, and on the side of the edge's fixed or Dale sign): the wiring
        is the validated one of ``self``, so this takes time linear in the number of replaced values.

        Raises:
            UnknownNodeError: a key names no edge, node or tie of the topology.
            NonFiniteError: a value that is not a finite number.
            SignConflictError: a weight against its edge's fixed sign (or its source's Dale sign).
        """
        unknown = ([] if self._edges.keys() >= weights.keys() else [k for k in weights if k not in self._edges]) + [
            n for n in (biases or {}) if n not in self._nodes] + [g for g in (ties or {}) if g not in self.ties]
        if unknown:
            raise UnknownNodeError(f"with_weights names edges, nodes or ties not in the topology: {unknown[:5]}.")
        edges, nodes = dict(self._edges), dict(self._nodes)   # then the new ones, each checked (assemble.py)
        edges.update(zip(weights, reweighted(map(edges.__getitem__, weights), weights.values())))
        nodes.update(zip(biases or {}, rebiased(map(nodes.__getitem__, biases or {}), (biases or {}).values())))
        return self._with(edges, nodes, ties)

    def _with(self, edges: Union[Dict[EdgeKey, Edge], PlainEdges], nodes: Dict[NodeId, Node],
              ties: Optional[Mapping[str, float]]) -> "Topology":
        """A copy with these edges (a table, or columns of a topology without ties) and nodes (the same keys,
        other numbers: checked by the caller) and ``ties``."""
        new_ties = dict(self.ties)
        for name, value in (ties or {}).items():
            t = new_ties[name]
            check_finite(value, f"The value of tie {name!r}", optional=False)
            if t.sign is not None and value * (1 if t.sign == "+" else -1) < 0:
                raise SignConflictError(f"Tie {name!r} has fixed sign {t.sign!r} but with_weights gives it {value}.")
            new_ties[name] = replace(t, weight=float(value))
        new = Topology.__new__(Topology)
        new.__dict__.update(self.__dict__)   # the wiring (immutable, so shared) and anything derived from it
        new._nodes, new.ties = nodes, new_ties
        if isinstance(edges, PlainEdges):
            new.__dict__.pop("_edges", None)
            new._plain = edges
        else:
            new._edges = edges
        return new

    def __eq__(self, other: object) -> bool:
        # node order matters (it fixes the input and output columns); edge declaration order does not
        return (isinstance(other, Topology) and self.network_type == other.network_type
                and list(self._nodes.values()) == list(other._nodes.values()) and self._edges == other._edges
                and self.ties == other.ties)

    def __repr__(self) -> str:
        kind = "" if self.network_type == "feedforward" else f", {self.network_type}"
        return (f"Topology(inputs={len(self.inputs)}, outputs={len(self.outputs)}, "
                f"hidden={self.num_nodes - len(self.inputs) - len(self.outputs)}, edges={self.num_edges}{kind}"
                f"{f', ties={len(self.ties)}' if self.ties else ''})")

    # ------------------------------------------------------------ conversions (lent by mpnet.io, mpnet.engine)
    # These methods are the public face users expect of a Topology; the work lives in later stages (io.serialize,
    # io.neat_io, engine.compile), which lend it through graph.adapters, so the graph stage imports none of them.
    def to_dict(self) -> Dict[str, Any]:
        """A JSON-ready dict (versioned); :meth:`from_dict` inverts it exactly."""
        data: Dict[str, Any] = borrow("to_dict")(self)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, warn: bool = True) -> "Topology":
        """Inverse of :meth:`to_dict`.

        Raises:
            FormatError: the dict is not an mpnet topology, or of a newer version.
        """
        topology: Topology = borrow("from_dict")(data, warn=warn)
        return topology

    def save(self, path: Union[str, os.PathLike[str]]) -> None:
        """Write the topology as JSON (atomically: a temporary file, then a rename)."""
        tmp = f"{os.fspath(path)}.{os.getpid()}.{os.urandom(6).hex()}.tmp"   # per process and call: no shared tmp
        with open(tmp, "w") as f:
            json.dump(self.to_dict(), f, indent=1)
            f.write("\n")
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Union[str, os.PathLike[str]], *, warn: bool = True) -> "Topology":
        """Read a topology written by :meth:`save`.

        Raises:
            TopologyError: the file is not a valid topology (not UTF-8 JSON, a field of the wrong type, an
                invalid network); the message starts with the file's name and names the field.
            FileNotFoundError: no such file.
        """
        data = borrow("read_json")(path)
        try:
            return cls.from_dict(data, warn=warn)
        except TopologyError as err:
            raise located(err, os.fspath(path)) from None

    def to_networkx(self) -> nx.DiGraph[NodeId]:   # networkx is imported only by the lender
        """A ``networkx.DiGraph``; node and edge attributes carry every field, graph attribute
        ``mpnet_version`` the format version. :meth:`from_networkx` inverts it exactly."""
        graph: nx.DiGraph[NodeId] = borrow("to_networkx")(self)
        return graph

    @classmethod
    def from_networkx(cls, graph: nx.Graph[Any], *, inputs: Optional[Sequence[NodeId]] = None,
                      outputs: Optional[Sequence[NodeId]] = None, warn: bool = True,
                      recurrent: Union[bool, str, None] = None) -> "Topology":
        """Build from a ``networkx.DiGraph``. Node attribute ``role`` marks inputs and outputs, or pass
        ``inputs`` / ``outputs``; other attributes (``activation, aggregation, bias, dale, response,
        time_constant`` on nodes, ``weight, sign, trainable`` on edges) are optional; ``recurrent`` defaults
        to the graph attribute ``network_type``."""
        topology: Topology = borrow("from_networkx")(graph, inputs=inputs, outputs=outputs, warn=warn,
                                                     recurrent=recurrent)
        return topology

    # ------------------------------------------------------------------- neat-python and PyG (thin)
    @classmethod
    def from_neat_json(cls, source: Union[str, os.PathLike[str], Mapping[str, Any]], *, warn: bool = True
                       ) -> "Topology":
        """Read neat-python's network JSON (a path, JSON text or dict); see :func:`mpnet.io.neat_io.from_neat_json`.
        ``Network(Topology.from_neat_json(path))`` computes what neat's ``FeedForwardNetwork.activate`` (or
        ``RecurrentNetwork.activate``, ``CTRNN.advance``) does."""
        topology: Topology = borrow("from_neat_json")(source, warn=warn)
        return topology

    @classmethod
    def from_neat_genome(cls, genome: Any, config: Any, *, warn: bool = True, network_type: Optional[str] = None
                         ) -> "Topology":
        """The network neat-python builds from a genome (feed-forward, recurrent or ctrnn); see
        :func:`mpnet.io.neat_io.from_neat_genome`."""
        topology: Topology = borrow("from_neat_genome")(genome, config, warn=warn, network_type=network_type)
        return topology

    def to_neat_json(self, path: Union[str, os.PathLike[str], None] = None, **kw: Any) -> Dict[str, Any]:
        """neat-python's network JSON (a dict; also written to ``path`` if given); see
        :func:`mpnet.io.neat_io.to_neat_json`."""
        data: Dict[str, Any] = borrow("to_neat_json")(self, path, **kw)
        return data

    def to_pyg(self) -> Data:
        """The compiled ``torch_geometric.data.Data`` with the weights, biases, responses, activation and
        aggregation codes attached; see :func:`mpnet.engine.compile.to_pyg` (needs torch)."""
        return borrow("to_pyg")(self)   # Data is Any to mypy (torch_geometric has no type information)
