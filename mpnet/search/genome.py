"""NEAT genomes: neuron and connection genes with innovation numbers, and their conversion to and from
:class:`~mpnet.Topology` (search stage; pure Python, no torch).

A genome's node keys are historical markings: inputs are ``0 .. n_in - 1``, outputs ``n_in .. n_in + n_out - 1``,
hidden neurons get the number :class:`Innovations` hands out when a connection is split. A connection gene
is keyed by ``(src, dst)`` and carries the innovation number of that pair, the same in every genome.

Invariants every operator keeps (:func:`check_genome` checks them): all genes, enabled or not, form an acyclic
graph (so enabling a gene is always safe), unless the config says ``feed_forward=False`` (then cycles and
self-loops are allowed and the genome is a recurrent topology); no input has an incoming connection; each ``(src, dst)`` appears
once and each innovation number once; a fixed sign (an edge's own or its source's Dale sign) agrees with the
weight.
"""
import math
import random
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Mapping, NamedTuple, Optional, Sequence, Tuple, Union

from ..graph.elements import EdgeKey, NodeId
from ..graph.topology import Edge, Node, Topology
from .config import NEATConfig

__all__ = ["NodeGene", "ConnGene", "Genome", "Innovations", "Weights", "check_genome", "creates_cycle",
           "GenomeError"]

ConnKey = Tuple[int, int]
Names = Optional[Sequence[NodeId]]   # topology ids for the inputs (or outputs) in key order; None: x0.. (y0..)


class GenomeError(ValueError):
    """A genome breaks one of the invariants of the module docstring."""


class Weights(NamedTuple):
    """The numbers of one topology after training, by topology ids: ``edges {(src, dst): weight}`` and
    ``biases {neuron: bias}``. Lighter than a validated :class:`~mpnet.Topology` when a whole generation is
    written back; :meth:`apply` makes the topology."""
    edges: Dict[EdgeKey, float]
    biases: Dict[NodeId, float]

    @classmethod
    def of(cls, topology: Topology) -> "Weights":
        """A trained topology's numbers (an edge whose weight is unset has none here)."""
        return cls({k: e.weight for k, e in topology.edges.items() if e.weight is not None},
                   {n: node.bias for n, node in topology.nodes.items() if node.role != "input"})

    def apply(self, topology: Topology) -> Topology:
        """``topology`` with these weights and biases."""
        return topology.with_weights(self.edges, self.biases)

    def to_dict(self) -> Dict[str, Any]:
        return {"edges": [[s, d, w] for (s, d), w in self.edges.items()], "biases": [[n, b] for n, b in self.biases.items()]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Weights":
        return cls({(s, d): float(w) for s, d, w in data["edges"]}, {n: float(b) for n, b in data["biases"]})


@dataclass
class NodeGene:
    """A neuron: ``key`` is its historical marking; ``bias`` is in NEAT units (see :mod:`.config`)."""
    key: int
    activation: str = "identity"
    bias: float = 0.0
    dale: Optional[str] = None          # "+" / "-": every outgoing connection has this sign


@dataclass
class ConnGene:
    """A connection ``src -> dst``; a disabled gene is kept (for alignment) but is no edge of the topology."""
    src: int
    dst: int
    innovation: int
    weight: float
    enabled: bool = True
    sign: Optional[str] = None          # "+" / "-": mutation and training keep the weight on this side

    @property
    def key(self) -> ConnKey:
        return (self.src, self.dst)


class Innovations:
    """The historical markings of one population: one innovation number per connection ``(src, dst)`` ever
    created, and the hidden neurons made by splitting each connection.

    Keying by ``(src, dst)`` globally (not per generation as in the paper) gives the same structural change
    the same number however often it arises, which aligns more genes in crossover and distance.
    """

    def __init__(self, n_inputs: int, n_outputs: int):
        self.next_node = n_inputs + n_outputs
        self.next_innovation = 0
        self.connections: Dict[ConnKey, int] = {}
        self.splits: Dict[int, List[int]] = {}      # innovation of the split connection -> node keys made
        self.start_nodes: List[int] = []            # keys of a start topology's hidden neurons, in order
        self.signs: Dict[ConnKey, str] = {}         # fixed signs of a start topology's connections: a
        #                                           # connection removed and added again gets its sign back

    def connection(self, src: int, dst: int) -> int:
        key = (src, dst)
        number = self.connections.get(key)
        if number is None:
            number = self.connections[key] = self.next_innovation
            self.next_innovation += 1
        return number

    def split_node(self, innovation: int, taken: Mapping[int, object]) -> int:
        """The node key for splitting connection ``innovation`` in a genome whose nodes are ``taken``: the
        first neuron ever made by this split that the genome lacks, else a new one."""
        made = self.splits.setdefault(innovation, [])
        for key in made:
            if key not in taken:
                return key
        made.append(self.next_node)
        self.next_node += 1
        return made[-1]

    def start_node(self, index: int) -> int:
        """The key of hidden neuron ``index`` of the start topology (the same in every genome)."""
        while len(self.start_nodes) <= index:
            self.start_nodes.append(self.next_node)
            self.next_node += 1
        return self.start_nodes[index]

    def to_dict(self) -> Dict[str, Any]:
        return {"next_node": self.next_node, "next_innovation": self.next_innovation,
                "connections": [[s, d, n] for (s, d), n in self.connections.items()],
                "splits": [[n, keys] for n, keys in self.splits.items()], "start_nodes": self.start_nodes,
                "signs": [[s, d, sign] for (s, d), sign in self.signs.items()]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Innovations":
        innov = cls(0, 0)
        innov.next_node, innov.next_innovation = int(data["next_node"]), int(data["next_innovation"])
        innov.connections = {(int(s), int(d)): int(n) for s, d, n in data["connections"]}
        innov.splits = {int(n): [int(k) for k in keys] for n, keys in data["splits"]}
        innov.start_nodes = [int(k) for k in data.get("start_nodes", [])]
        innov.signs = {(int(s), int(d)): sign for s, d, sign in data.get("signs", [])}
        return innov


class Genome:
    """A NEAT genome: ``nodes`` (inputs, outputs and hidden neurons) and ``conns`` keyed by ``(src, dst)``.

    Args:
        key: the genome's id in its population.
        n_inputs, n_outputs: fix the keys of the input and output neurons.
    """
    __slots__ = ("key", "n_inputs", "n_outputs", "nodes", "conns", "fitness")

    def __init__(self, key: int, n_inputs: int, n_outputs: int):
        self.key = key
        self.n_inputs = n_inputs
        self.n_outputs = n_outputs
        self.nodes: Dict[int, NodeGene] = {}
        self.conns: Dict[ConnKey, ConnGene] = {}
        self.fitness: Optional[float] = None

    # ---------------------------------------------------------------------------------- roles
    def is_input(self, node: int) -> bool:
        return node < self.n_inputs

    def is_output(self, node: int) -> bool:
        return self.n_inputs <= node < self.n_inputs + self.n_outputs

    def hidden(self) -> List[int]:
        first = self.n_inputs + self.n_outputs
        return [k for k in self.nodes if k >= first]

    def num_enabled(self) -> int:
        return sum(1 for c in self.conns.values() if c.enabled)

    def copy(self, key: Optional[int] = None) -> "Genome":
        g = Genome(self.key if key is None else key, self.n_inputs, self.n_outputs)
        g.nodes = {k: NodeGene(n.key, n.activation, n.bias, n.dale) for k, n in self.nodes.items()}
        g.conns = {k: ConnGene(c.src, c.dst, c.innovation, c.weight, c.enabled, c.sign) for k, c in self.conns.items()}
        g.fitness = self.fitness
        return g

    def sign_of(self, conn: ConnGene) -> Optional[str]:
        """The fixed sign of a connection: its own, else its source's Dale sign, else None."""
        return conn.sign or self.nodes[conn.src].dale

    def __repr__(self) -> str:
        return (f"Genome(key={self.key}, hidden={len(self.hidden())}, conns={self.num_enabled()}/"
                f"{len(self.conns)} enabled, fitness={self.fitness})")

    # --------------------------------------------------------------------------------- creation
    @classmethod
    def minimal(cls, key: int, n_inputs: int, n_outputs: int, config: NEATConfig, innov: Innovations,
                rng: random.Random) -> "Genome":
        """NEAT's start: every input connected to every output, random weights and biases."""
        g = cls(key, n_inputs, n_outputs)
        for i in range(n_inputs):
            g.nodes[i] = NodeGene(i, "identity")
        for o in range(n_inputs, n_inputs + n_outputs):
            g.nodes[o] = NodeGene(o, config.output_activation, rng.gauss(0.0, config.weight_init_std))
        for o in range(n_inputs, n_inputs + n_outputs):
            for i in range(n_inputs):
                g.conns[(i, o)] = ConnGene(i, o, innov.connection(i, o), rng.gauss(0.0, config.weight_init_std))
        return g

    @classmethod
    def from_topology(cls, key: int, topology: Topology, config: NEATConfig, innov: Innovations,
                      rng: Optional[random.Random] = None) -> "Genome":
        """A genome computing ``topology`` (its signs and Dale neurons kept). Inputs and outputs map to keys in
        their column order, hidden neurons in declaration order; unset weights are drawn ~ N(0, std).

        Raises:
            GenomeError: a frozen edge (NEAT mutates every weight), a node aggregation other than sum, or a
                recurrent topology for a feed-forward search.
        """
        if topology.recurrent and config.feed_forward:
            raise GenomeError("The start topology is recurrent but the search is feed-forward; set "
                              "feed_forward=False in the NEATConfig.")
        rng = rng or random.Random(config.seed)
        n_in, n_out = len(topology.inputs), len(topology.outputs)
        g = cls(key, n_in, n_out)
        nodes = topology.nodes
        ids: Dict[NodeId, int] = {}
        for i, node_id in enumerate(topology.inputs):
            ids[node_id] = i
        for j, node_id in enumerate(topology.outputs):
            ids[node_id] = n_in + j
        hidden = [n for n in nodes if nodes[n].role == "hidden"]
        for i, node_id in enumerate(hidden):   # the same keys in every genome made from this topology
            ids[node_id] = innov.start_node(i)
        for node_id, k in ids.items():
            node = nodes[node_id]
            if node.aggregation != "sum":
                raise GenomeError(f"Node {node_id!r} aggregates with {node.aggregation!r}; NEAT genomes use "
                                  f"'sum' neurons only.")
            gain = config.gain(node.activation)
            g.nodes[k] = NodeGene(k, node.activation if node.role != "input" else "identity",
                                  node.bias / gain if node.role != "input" else 0.0, node.dale)
        for edge in topology.edges.values():
            if not edge.trainable:
                raise GenomeError(f"Edge {edge.src!r} -> {edge.dst!r} is frozen; NEAT mutates every weight, "
                                  f"so give search a topology without frozen edges.")
            s, d = ids[edge.src], ids[edge.dst]
            gain = config.gain(g.nodes[d].activation)
            w = rng.gauss(0.0, config.weight_init_std) if edge.weight is None else edge.weight / gain
            sign = edge.sign if edge.sign != g.nodes[s].dale else None
            if sign is not None:
                innov.signs[(s, d)] = sign
            g.conns[(s, d)] = ConnGene(s, d, innov.connection(s, d), _signed(w, edge.sign), True, sign)
        return g

    # ------------------------------------------------------------------------------ to topology
    def names(self, input_names: Names = None, output_names: Names = None) -> Dict[int, NodeId]:
        """Topology node ids: ``x0.., y0..`` (or the given names) and ``h<key>`` for hidden neurons."""
        names: Dict[int, NodeId] = {}
        for k in self.nodes:
            if k < self.n_inputs:
                names[k] = input_names[k] if input_names else f"x{k}"
            elif k < self.n_inputs + self.n_outputs:
                j = k - self.n_inputs
                names[k] = output_names[j] if output_names else f"y{j}"
            else:
                names[k] = f"h{k}"
        return names

    def to_topology(self, config: NEATConfig, input_names: Names = None, output_names: Names = None) -> Topology:
        """The network this genome encodes: enabled connections only, weights and biases times the gain of
        their target's activation (so the topology computes the paper's network exactly); a recurrent
        topology when ``config.feed_forward`` is False."""
        names = self.names(input_names, output_names)
        n_io = self.n_inputs + self.n_outputs
        order = (list(range(self.n_inputs)) + sorted(k for k in self.nodes if k >= n_io)
                 + list(range(self.n_inputs, n_io)))
        nodes = []
        for k in order:
            gene = self.nodes[k]
            if k < self.n_inputs:
                nodes.append(Node(names[k], "input", "identity", dale=gene.dale))
            else:
                nodes.append(Node(names[k], "output" if k < n_io else "hidden", gene.activation, "sum",
                                  gene.bias * config.gain(gene.activation), gene.dale))
        edges = [Edge(names[c.src], names[c.dst], c.weight * config.gain(self.nodes[c.dst].activation), c.sign)
                 for c in self.conns.values() if c.enabled]
        return Topology(nodes, edges, warn=False, recurrent=not config.feed_forward)

    def set_weights(self, trained: Union[Topology, Weights], config: NEATConfig,
                    input_names: Names = None, output_names: Names = None) -> None:
        """Write trained weights and biases back, by connection key (the Lamarckian step): the inverse of
        :meth:`to_topology` for every enabled gene; structure, signs and disabled genes are untouched.

        Args:
            trained: the topology of :meth:`to_topology` after training, or its :class:`Weights`.

        Raises:
            GenomeError: ``trained`` lacks one of this genome's enabled connections or neurons.
        """
        if isinstance(trained, Topology):
            trained = Weights.of(trained)
        names = self.names(input_names, output_names)
        edges, biases = trained.edges, trained.biases
        for conn in self.conns.values():
            if conn.enabled:
                w = edges.get((names[conn.src], names[conn.dst]))
                if w is None:
                    raise GenomeError(f"set_weights: no trained weight for edge {names[conn.src]!r} -> "
                                      f"{names[conn.dst]!r}, an enabled connection of genome {self.key}.")
                conn.weight = w / config.gain(self.nodes[conn.dst].activation)
        for k, gene in self.nodes.items():
            if k >= self.n_inputs:
                b = biases.get(names[k])
                if b is None:
                    raise GenomeError(f"set_weights: no trained bias for neuron {names[k]!r} of genome {self.key}.")
                gene.bias = b / config.gain(gene.activation)

    # ------------------------------------------------------------------------------- serialize
    def to_dict(self) -> Dict[str, Any]:
        """JSON-ready; floats are written as Python's repr, which reads back exactly."""
        return {"key": self.key, "n_inputs": self.n_inputs, "n_outputs": self.n_outputs, "fitness": self.fitness,
                "nodes": [[n.key, n.activation, n.bias, n.dale] for n in self.nodes.values()],
                "conns": [[c.src, c.dst, c.innovation, c.weight, c.enabled, c.sign] for c in self.conns.values()]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Genome":
        g = cls(int(data["key"]), int(data["n_inputs"]), int(data["n_outputs"]))
        g.fitness = data.get("fitness")
        g.nodes = {int(k): NodeGene(int(k), act, float(b), dale) for k, act, b, dale in data["nodes"]}
        g.conns = {(int(s), int(d)): ConnGene(int(s), int(d), int(n), float(w), bool(e), sign)
                   for s, d, n, w, e, sign in data["conns"]}
        return g


# --------------------------------------------------------------------------------- graph helpers
def creates_cycle(connections: Iterable[ConnKey], new: ConnKey) -> bool:
    """Whether adding ``new = (src, dst)`` to the directed graph ``connections`` closes a cycle (a self-loop
    counts): true iff ``dst`` already reaches ``src``.

    >>> creates_cycle([(0, 1), (1, 2)], (2, 0))
    True
    >>> creates_cycle([(0, 1), (1, 2)], (0, 2))
    False
    """
    src, dst = new
    if src == dst:
        return True
    succ: Dict[int, List[int]] = {}
    for a, b in connections:
        succ.setdefault(a, []).append(b)
    seen, stack = {dst}, [dst]
    while stack:
        node = stack.pop()
        for nxt in succ.get(node, ()):
            if nxt == src:
                return True
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return False


def _signed(weight: float, sign: Optional[str]) -> float:
    """Reflect a weight onto the side of a fixed sign (the rule mpnet's sign parametrization applies)."""
    if sign == "+":
        return abs(weight)
    if sign == "-":
        return -abs(weight)
    return weight


def check_genome(g: Genome, acyclic: bool = True) -> None:
    """Raise :class:`GenomeError` naming the first broken invariant (see the module docstring); ``acyclic``
    False (a recurrent search) allows cycles and self-loops."""
    n_io = g.n_inputs + g.n_outputs
    for k in range(n_io):
        if k not in g.nodes:
            raise GenomeError(f"Genome {g.key} lacks {'input' if k < g.n_inputs else 'output'} neuron {k}.")
    for k, node in g.nodes.items():
        if node.key != k:
            raise GenomeError(f"Genome {g.key}: node gene stored under {k} has key {node.key}.")
        if not math.isfinite(node.bias):
            raise GenomeError(f"Genome {g.key}: neuron {k} has bias {node.bias}.")
    innovations = set()
    for key, c in g.conns.items():
        if c.key != key:
            raise GenomeError(f"Genome {g.key}: connection stored under {key} is {c.key}.")
        if c.src not in g.nodes or c.dst not in g.nodes:
            raise GenomeError(f"Genome {g.key}: connection {c.key} names a neuron the genome lacks.")
        if c.src == c.dst and acyclic:
            raise GenomeError(f"Genome {g.key}: connection {c.key} is a self-loop.")
        if g.is_input(c.dst):
            raise GenomeError(f"Genome {g.key}: connection {c.key} ends in input {c.dst}.")
        if c.innovation in innovations:
            raise GenomeError(f"Genome {g.key}: innovation number {c.innovation} appears twice.")
        innovations.add(c.innovation)
        if not math.isfinite(c.weight):
            raise GenomeError(f"Genome {g.key}: connection {c.key} has weight {c.weight}.")
        sign = g.sign_of(c)
        if sign is not None and c.weight * (1 if sign == "+" else -1) < 0:
            raise GenomeError(f"Genome {g.key}: connection {c.key} has sign {sign!r} but weight {c.weight}.")
    keys = list(g.conns) if acyclic else []
    for i, key in enumerate(keys):   # acyclic over all genes, enabled or not
        if creates_cycle(keys[:i], key):
            raise GenomeError(f"Genome {g.key}: its connection genes contain a cycle through {key}.")
