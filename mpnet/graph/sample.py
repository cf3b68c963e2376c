"""Seeded topology samplers and the perturbations search builds on (graph stage: Python; numpy sorts the pairs
of :func:`random_dag`).

Every sampler returns a valid :class:`~mpnet.Topology` with unset weights (the :class:`~mpnet.Network`
draws them) unless ``weights=True``, in which case each edge gets ``N(0, 1/fan_in)`` from the same seed.
Every perturbation returns a new topology and leaves its argument untouched.
"""
import bisect
import math
import random
from array import array
from dataclasses import replace
from itertools import accumulate, repeat
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from ..checks import check_float, check_int
from ..errors import UnknownEdgeError
from .assemble import column_edges
from .elements import EdgeKey, NodeId, collector_paused
from .topology import Edge, Node, Topology

__all__ = ["random_dag", "layered", "neat_minimal", "small_world", "add_neuron", "add_edge", "remove_edge"]


def _ids(n_inputs: int, n_hidden: int, n_outputs: int) -> Tuple[List[str], List[str], List[str]]:
    return ([f"x{i}" for i in range(n_inputs)], [f"h{i}" for i in range(n_hidden)],
            [f"y{i}" for i in range(n_outputs)])


@collector_paused   # an object per node and edge, none in a cycle: the collector's sweeps only cost time
def _build(inputs: Sequence[str], hidden: Sequence[str], outputs: Sequence[str], pairs: Sequence[Tuple[str, str]],
           rng: random.Random, weights: bool, activation: str, output_activation: str, distinct: bool = False
           ) -> Topology:
    """The topology of ``pairs``; ``distinct``: the caller knows them distinct, none a self-loop or ending in an
    input (:class:`~mpnet.graph.assemble.PlainEdges` then spares each edge its checks)."""
    nodes = ([Node(n, "input", "identity") for n in inputs] + [Node(n, "hidden", activation) for n in hidden]
             + [Node(n, "output", output_activation) for n in outputs])
    if distinct and pairs and not weights:   # PlainEdges: the checks of one pass, done (see _build's callers)
        tails: List[NodeId] = [s for s, _ in pairs]
        heads: List[NodeId] = [d for _, d in pairs]
        return Topology(nodes, column_edges(tails, heads, [None] * len(pairs), repeat(None), repeat(True), True),
                        warn=False)
    fan_in: Dict[str, int] = {}
    for _, dst in pairs:
        fan_in[dst] = fan_in.get(dst, 0) + 1
    edges = [Edge(s, d, rng.gauss(0.0, 1.0 / math.sqrt(fan_in[d])) if weights else None) for s, d in pairs]
    return Topology(nodes, edges, warn=False)


def _check(**counts: int) -> None:
    for name, value in counts.items():
        check_int(value, name, min=0 if name == "n_hidden" else 1)


@collector_paused
def random_dag(n_inputs: int, n_outputs: int, n_hidden: int, avg_in_degree: float = 3.0,
               max_depth: Optional[int] = None, seed: int = 0, *, activation: str = "relu",
               output_activation: str = "identity", weights: bool = False) -> Topology:
    """A random DAG: hidden neurons ranked h0 < h1 < ...; each hidden or output neuron draws its
    sources among lower-ranked neurons (inputs included), at least one each, ``avg_in_degree`` on
    average: one source of each neuron uniformly, then the other edges a uniform sample of the
    (source, target) pairs left. With ``max_depth = d`` hidden neurons are spread over ``d - 1`` layers
    and edges only rise, so no path is longer than ``d``. Time and memory linear in the edges.

    Args:
        n_inputs: input neurons (>= 1).
        n_outputs: output neurons (>= 1).
        n_hidden: hidden neurons ``h0, h1, ...`` (>= 0).
        avg_in_degree: mean number of sources of a hidden or output neuron (> 0).
        max_depth: the longest path allowed (None: no bound).
        seed: seeds the draws (the same seed gives the same topology).
        activation: of the hidden neurons.
        output_activation: of the outputs.
        weights: draw each edge's weight, ``N(0, 1/fan_in)``; otherwise weights are unset.

    Returns:
        A new topology: inputs ``x0, x1, ...``, outputs ``y0, y1, ...``, hidden neurons ``h0, h1, ...``.

    Raises:
        ArgumentError: a count, ``avg_in_degree`` or ``max_depth`` out of range.
        ValueError: ``max_depth=1`` with hidden neurons, or more edges asked than the DAG can hold.
    """
    _check(n_inputs=n_inputs, n_outputs=n_outputs, n_hidden=n_hidden)
    check_float(avg_in_degree, "avg_in_degree", min=0, min_open=True)
    check_int(max_depth, "max_depth", min=1, allow_none=True)
    rng = random.Random(seed)
    inputs, hidden, outputs = _ids(n_inputs, n_hidden, n_outputs)
    n_layers = None if max_depth is None else max(max_depth - 1, 0)
    if n_layers == 0 and n_hidden:
        raise ValueError(f"max_depth=1 leaves no room for {n_hidden} hidden neurons; use max_depth >= 2.")
    layer = {n: 0 for n in inputs}
    for i, n in enumerate(hidden):
        layer[n] = 1 + (i * n_layers // max(n_hidden, 1) if n_layers else i)
    top = max(layer.values()) + 1
    for n in outputs:
        layer[n] = top
    ranked = inputs + hidden
    targets = hidden + outputs
    ranked_layers = [layer[m] for m in ranked]   # non-decreasing: inputs, then hidden neurons by layer
    # sources of n: every neuron of a strictly lower layer, i.e. ranked[:pool_end[n]] (a binary search each)
    pool_end = {n: bisect.bisect_left(ranked_layers, layer[n]) for n in targets}
    want = max(len(targets), round(avg_in_degree * len(targets)))
    # the pairs a target may take, numbered in output order: target t's k-th possible source is pair start[t] + k
    pools: Sequence[int] = [pool_end[n] for n in targets]
    start: Sequence[int] = [0, *accumulate(pools)]
    capacity = start[-1]
    if want > capacity:
        raise ValueError(f"avg_in_degree={avg_in_degree} asks for {want} edges but this DAG holds at most "
                         f"{capacity}; lower avg_in_degree or add neurons.")
    # The draws of rng.randrange(k) and rng.choices(targets, cum_weights=start[1:]) written out (CPython's own:
    # getrandbits until below k; bisect of random() * total): the same topology for a seed as when they were
    # called, at a fraction of the cost. A pair is an int, sorted by numpy: no tuple or key per edge.
    getrandbits, rand, total, hi = rng.getrandbits, rng.random, float(capacity), len(pools) - 1
    chosen = set()
    for t, k in enumerate(pools):   # one source each
        bits = k.bit_length()
        r = getrandbits(bits)
        while r >= k:
            r = getrandbits(bits)
        chosen.add(start[t] + r)
    # bisect compares floats faster than a float with ints (a million draws: about a second less); exact below
    # 2**53. Flat arrays, not lists of number objects: a draw's ~17 random reads then stay in the cache
    # (a million draws: 1.6 s instead of 2.4)
    cum: Sequence[float] = array("d", start[1:]) if capacity < 2 ** 53 else start[1:]
    if capacity < 2 ** 63:
        pools, start = array("q", pools), array("q", start)
    while len(chosen) < want:   # then a target in proportion to its pool, and a source of it: uniform pairs
        t = bisect.bisect_right(cum, rand() * total, 0, hi)
        k = pools[t]
        bits = k.bit_length()
        r = getrandbits(bits)
        while r >= k:
            r = getrandbits(bits)
        chosen.add(start[t] + r)
    drawn = np.sort(np.fromiter(chosen, dtype=np.int64, count=len(chosen)))
    first = np.array(start, dtype=np.int64)
    target = np.searchsorted(first, drawn, side="right") - 1
    pairs = list(zip(map(ranked.__getitem__, (drawn - first[target]).tolist()), map(targets.__getitem__,
                                                                                  target.tolist())))
    return _build(inputs, hidden, outputs, pairs, rng, weights, activation, output_activation, distinct=True)


def layered(sizes: Sequence[int], density: float = 0.1, skip: float = 0.0, seed: int = 0, *,
            activation: str = "relu", output_activation: str = "identity", weights: bool = False) -> Topology:
    """A sparse layered net ``sizes[0] -> ... -> sizes[-1]``: each neuron of layer ``l`` takes about
    ``density * sizes[l-1]`` incoming edges (at least one); each edge, with probability ``skip``, comes from
    a uniformly chosen earlier layer instead of the previous one.

    Args:
        sizes: neurons per layer, inputs first, outputs last (at least two layers, each >= 1).
        density: share of the previous layer feeding each neuron, in ``(0, 1]``.
        skip: probability in ``[0, 1]`` that an edge comes from an earlier layer instead.
        seed: seeds the draws (the same seed gives the same topology).
        activation: of the hidden neurons.
        output_activation: of the outputs.
        weights: draw each edge's weight, ``N(0, 1/fan_in)``; otherwise weights are unset.

    Returns:
        A new topology: inputs ``x0, x1, ...``, outputs ``y0, y1, ...``, hidden neurons ``l<layer>_<i>``.

    Raises:
        ValueError: ``sizes``, ``density`` or ``skip`` out of range.
    """
    if len(sizes) < 2 or any(not isinstance(s, int) or s < 1 for s in sizes):
        raise ValueError(f"Expected sizes to list at least two positive layer sizes (got {list(sizes)}).")
    if not 0 < density <= 1 or not 0 <= skip <= 1:
        raise ValueError(f"Expected 0 < density <= 1 and 0 <= skip <= 1 (got {density}, {skip}).")
    rng = random.Random(seed)
    inputs, _, outputs = _ids(sizes[0], 0, sizes[-1])
    hidden_layers = [[f"l{l}_{i}" for i in range(s)] for l, s in enumerate(sizes[1:-1], start=1)]
    layers = [inputs] + hidden_layers + [outputs]
    pairs = []
    for l in range(1, len(layers)):
        earlier = [m for layer_ in layers[:l - 1] for m in layer_]
        for n in layers[l]:
            k = max(1, sum(rng.random() < density for _ in layers[l - 1]))
            n_skip = min(sum(rng.random() < skip for _ in range(k)), len(earlier))
            srcs = rng.sample(layers[l - 1], k - n_skip) + rng.sample(earlier, n_skip)   # no repeats
            pairs += [(s, n) for s in srcs]
    hidden = [n for layer_ in hidden_layers for n in layer_]
    return _build(inputs, hidden, outputs, pairs, rng, weights, activation, output_activation)


def neat_minimal(n_inputs: int, n_outputs: int, seed: int = 0, *, activation: str = "identity",
                 weights: bool = True) -> Topology:
    """NEAT's starting point: every input connected to every output, no hidden neuron.

    Args:
        n_inputs: input neurons (>= 1).
        n_outputs: output neurons (>= 1).
        seed: seeds the weights.
        activation: of the outputs.
        weights: draw each edge's weight, ``N(0, 1/fan_in)``; otherwise weights are unset.

    Returns:
        A new topology: inputs ``x0, x1, ...``, outputs ``y0, y1, ...``.

    Raises:
        ArgumentError: a count below 1.
    """
    _check(n_inputs=n_inputs, n_outputs=n_outputs)
    rng = random.Random(seed)
    inputs, _, outputs = _ids(n_inputs, 0, n_outputs)
    return _build(inputs, [], outputs, [(i, o) for o in outputs for i in inputs], rng, weights, "relu", activation)


def small_world(n_inputs: int, n_outputs: int, n_hidden: int, k: int = 4, p_rewire: float = 0.1,
                seed: int = 0, *, activation: str = "relu", output_activation: str = "identity",
                weights: bool = False) -> Topology:
    """A Watts-Strogatz-like DAG: neurons on a line, each fed by its ``k`` predecessors on the line; each
    such edge is rewired with probability ``p_rewire`` to a uniformly chosen earlier neuron (long skips).
    Outputs are fed by the last ``k`` hidden neurons (or the inputs when there are none).

    Args:
        n_inputs: input neurons (>= 1).
        n_outputs: output neurons (>= 1).
        n_hidden: hidden neurons ``h0, h1, ...`` (>= 0).
        k: predecessors on the line feeding each neuron (>= 1).
        p_rewire: probability in ``[0, 1]`` that an edge is rewired to an earlier neuron.
        seed: seeds the draws (the same seed gives the same topology).
        activation: of the hidden neurons.
        output_activation: of the outputs.
        weights: draw each edge's weight, ``N(0, 1/fan_in)``; otherwise weights are unset.

    Returns:
        A new topology: inputs ``x0, x1, ...``, outputs ``y0, y1, ...``, hidden neurons ``h0, h1, ...``.

    Raises:
        ArgumentError: a count out of range.
        ValueError: ``p_rewire`` out of ``[0, 1]``.
    """
    _check(n_inputs=n_inputs, n_outputs=n_outputs, n_hidden=n_hidden, k=k)
    if not 0 <= p_rewire <= 1:
        raise ValueError(f"Expected 0 <= p_rewire <= 1 (got {p_rewire}).")
    rng = random.Random(seed)
    inputs, hidden, outputs = _ids(n_inputs, n_hidden, n_outputs)
    line = inputs + hidden
    pairs = set()
    for j in range(n_inputs, len(line)):
        for d in range(1, min(k, j) + 1):
            src = j - d
            if rng.random() < p_rewire:
                src = rng.randrange(j)
            pairs.add((line[src], line[j]))
    for o in outputs:
        for source in line[-k:]:
            pairs.add((source, o))
    order = {n: i for i, n in enumerate(line + outputs)}
    return _build(inputs, hidden, outputs, sorted(pairs, key=lambda e: (order[e[1]], order[e[0]])), rng,
                  weights, activation, output_activation)


# ------------------------------------------------------------------------------------ perturbations
def _rng(seed: Union[int, random.Random, None]) -> random.Random:
    return seed if isinstance(seed, random.Random) else random.Random(seed)


def add_neuron(topo: Topology, edge: Optional[Tuple[NodeId, NodeId]] = None, new_id: Optional[NodeId] = None,
               seed: Union[int, random.Random, None] = 0, activation: Optional[str] = None) -> Topology:
    """Split ``edge`` (random if None) with a new hidden neuron, NEAT-style: ``src -> new`` gets weight 1
    (-1 out of a Dale '-' neuron), ``new -> dst`` the old weight and sign, and the old edge goes.

    Args:
        topo: the topology (left untouched).
        edge: ``(src, dst)`` of the edge to split (None: a random one).
        new_id: the new neuron's id (None: the first free ``n<i>``).
        seed: an int or a ``random.Random`` for the random edge.
        activation: the new neuron's (None: that of the first hidden neuron, else ``relu``).

    Returns:
        A new topology, the new neuron placed after the last non-output neuron.

    Raises:
        ValueError: the topology has no edge.
        UnknownEdgeError: ``edge`` is not in the topology.
    """
    rng = _rng(seed)
    edges = topo.edges
    if not edges:
        raise ValueError("add_neuron needs an edge to split, and this topology has none.")
    key = _require_edge(edges, tuple(edge) if edge is not None else rng.choice(list(edges)))
    if new_id is None:
        taken, i = set(topo.nodes), topo.num_nodes
        while f"n{i}" in taken:
            i += 1
        new_id = f"n{i}"
    old = edges[key]
    hidden_acts = [n.activation for n in topo.nodes.values() if n.role == "hidden"]
    node = Node(new_id, "hidden", activation or (hidden_acts[0] if hidden_acts else "relu"))
    new_edges = [e for k, e in edges.items() if k != key]
    into = -1.0 if topo.nodes[old.src].dale == "-" else 1.0   # a Dale '-' source only sends negative weights
    new_edges += [Edge(old.src, new_id, into), replace(old, src=new_id)]
    nodes = list(topo.nodes.values())
    n_hidden_end = max((i for i, n in enumerate(nodes) if n.role != "output"), default=-1) + 1
    nodes.insert(n_hidden_end, node)
    return Topology(nodes, new_edges, warn=False)


def add_edge(topo: Topology, edge: Optional[Tuple[NodeId, NodeId]] = None, weight: Optional[float] = None,
             seed: Union[int, random.Random, None] = 0, tries: int = 100) -> Topology:
    """Add ``edge`` (or a random one) keeping the graph acyclic; a random one never ends in an input.

    Args:
        topo: the topology (left untouched).
        edge: ``(src, dst)`` of the new edge (None: a random one that keeps the graph acyclic).
        weight: the new edge's weight (None: unset).
        seed: an int or a ``random.Random`` for the random edge.
        tries: random draws before giving up.

    Returns:
        A new topology with the edge added last.

    Raises:
        TopologyError: ``edge`` is given and makes the topology invalid (a cycle, a duplicate, an unknown node).
        ValueError: no new edge fits (the graph is complete in its order) within ``tries`` draws.
    """
    if edge is not None:
        return Topology(list(topo.nodes.values()), list(topo.edges.values()) + [Edge(edge[0], edge[1], weight)],
                        warn=False)
    rng = _rng(seed)
    nodes = list(topo.nodes)
    targets = [n for n in nodes if topo.nodes[n].role != "input"]
    for _ in range(tries):
        src, dst = rng.choice(nodes), rng.choice(targets)
        if src == dst or (src, dst) in topo.edges or _reaches(topo, dst, src):
            continue
        return add_edge(topo, (src, dst), weight)
    raise ValueError(f"No new acyclic edge found in {tries} random draws; the topology may be complete.")


def remove_edge(topo: Topology, edge: Optional[Tuple[NodeId, NodeId]] = None,
                seed: Union[int, random.Random, None] = 0) -> Topology:
    """Remove ``edge`` (or a random one); its neurons stay (possibly unreachable, never dropped).

    Args:
        topo: the topology (left untouched).
        edge: ``(src, dst)`` of the edge to remove (None: a random one).
        seed: an int or a ``random.Random`` for the random edge.

    Returns:
        A new topology without the edge.

    Raises:
        ValueError: the topology has no edge.
        UnknownEdgeError: ``edge`` is not in the topology.
    """
    edges = topo.edges
    if not edges:
        raise ValueError("remove_edge: this topology has no edge to remove.")
    key = _require_edge(edges, tuple(edge) if edge is not None else _rng(seed).choice(list(edges)))
    return Topology(list(topo.nodes.values()), [e for k, e in edges.items() if k != key], warn=False)


def _require_edge(edges: Mapping[EdgeKey, Edge], key: Tuple[NodeId, ...]) -> EdgeKey:
    """``key`` as an edge key of ``edges``, or an error naming it."""
    if key not in edges:
        raise UnknownEdgeError(f"Edge {key[0]!r} -> {key[1]!r} is not in the topology; pick one of its "
                               f"{len(edges)} edges (topo.edges).")
    return key[0], key[1]   # a key of edges: two ids


def _reaches(topo: Topology, start: NodeId, goal: NodeId) -> bool:
    seen, stack = {start}, [start]
    while stack:
        node = stack.pop()
        if node == goal:
            return True
        for nxt in topo.successors(node):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return False
