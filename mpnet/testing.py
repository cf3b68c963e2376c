"""Slow, obvious references that every fast path is tested against (usable by any later test).

:func:`reference_forward` evaluates a :class:`~mpnet.Topology` node by node in float64 with the ``math``
module only: no torch, no batching, no sparse tricks; :func:`reference_recurrent` and
:func:`reference_ctrnn` do the same for recurrent topologies, one sequence at a time.
:func:`random_topology` draws small random DAGs (or, with ``recurrent``, graphs with cycles and
self-loops) with every activation and aggregation for property tests. :func:`best_cpu_seconds` times an
operation at two sizes for the tests that keep it linear.
"""
import gc
import math
import random
import time
import statistics
from typing import Callable, Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple, Union

from .graph.elements import EdgeKey, NodeId
from .graph.topology import ACTIVATIONS, AGGREGATIONS, Edge, Node, Topology

__all__ = ["reference_forward", "reference_recurrent", "reference_ctrnn", "CTRNNReferenceState", "random_topology",
           "best_cpu_seconds", "REFERENCE_ACTIVATIONS", "REFERENCE_AGGREGATIONS"]

_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772, 1.0507009873554805


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def _softplus(z: float) -> float:
    return z if z > 20 else math.log1p(math.exp(z))   # torch's threshold: identity above 20


def _neat_clamp(z: float, bound: float) -> float:
    return max(-bound, min(bound, z))


def _neat_inv(z: float) -> float:
    return 0.0 if z == 0 else 1.0 / z


_NEAT_LAMBDA, _NEAT_ALPHA = 1.0507009873554804934193349852946, 1.6732632423543772848170429916717

REFERENCE_ACTIVATIONS: Dict[str, Callable[[float], float]] = {
    "identity": lambda z: z,
    "relu": lambda z: max(z, 0.0),
    "leaky_relu": lambda z: z if z > 0 else 0.01 * z,
    "elu": lambda z: z if z > 0 else math.expm1(z),
    "selu": lambda z: _SELU_SCALE * (z if z > 0 else _SELU_ALPHA * math.expm1(z)),
    "gelu": lambda z: 0.5 * z * (1.0 + math.erf(z / math.sqrt(2.0))),
    "tanh": math.tanh,
    "sigmoid": _sigmoid,
    "softplus": _softplus,
    "sin": math.sin,
    "gauss": lambda z: math.exp(-z * z),
    "abs": abs,
    "square": lambda z: z * z,
    "clamped": lambda z: max(-1.0, min(1.0, z)),
    # neat-python's, as in neat/activations.py (products instead of ** so that overflow gives inf)
    "neat.sigmoid": lambda z: 1.0 / (1.0 + math.exp(-_neat_clamp(5.0 * z, 60.0))),
    "neat.tanh": lambda z: math.tanh(_neat_clamp(2.5 * z, 60.0)),
    "neat.sin": lambda z: math.sin(_neat_clamp(5.0 * z, 60.0)),
    "neat.gauss": lambda z: math.exp(-5.0 * _neat_clamp(z, 3.4) * _neat_clamp(z, 3.4)),
    "neat.relu": lambda z: z if z > 0.0 else 0.0,
    "neat.elu": lambda z: z if z > 0.0 else math.exp(z) - 1.0,
    "neat.lelu": lambda z: z if z > 0.0 else 0.005 * z,
    "neat.selu": lambda z: _NEAT_LAMBDA * z if z > 0.0 else _NEAT_LAMBDA * _NEAT_ALPHA * (math.exp(z) - 1.0),
    "neat.softplus": lambda z: 0.2 * math.log(1.0 + math.exp(_neat_clamp(5.0 * z, 60.0))),
    "neat.identity": lambda z: z,
    "neat.clamped": lambda z: _neat_clamp(z, 1.0),
    "neat.inv": _neat_inv,
    "neat.log": lambda z: math.log(max(1e-7, z)),
    "neat.exp": lambda z: math.exp(_neat_clamp(z, 60.0)),
    "neat.abs": abs,
    "neat.hat": lambda z: max(0.0, 1.0 - abs(z)),
    "neat.square": lambda z: z * z,
    "neat.cube": lambda z: z * z * z,
}


def _maxabs(msgs: Sequence[float]) -> float:
    hi, lo = max(msgs), min(msgs)
    return hi if hi >= -lo else lo     # largest magnitude; +a wins a tie against -a


def _sum(msgs: Sequence[float]) -> float:
    return math.fsum(msgs) if all(map(math.isfinite, msgs)) else sum(msgs)   # fsum raises on inf - inf


def _mean(msgs: Sequence[float]) -> float:
    return _sum(msgs) / len(msgs)


REFERENCE_AGGREGATIONS: Dict[str, Callable[[Sequence[float]], float]] = {
    "sum": _sum,
    "mean": _mean,
    "max": max,
    "min": min,
    "product": math.prod,
    "maxabs": _maxabs,
    "median": statistics.median,       # mean of the two middle values for an even count
}
assert tuple(REFERENCE_ACTIVATIONS) == ACTIVATIONS and tuple(REFERENCE_AGGREGATIONS) == AGGREGATIONS


def reference_forward(topology: Topology, x: Sequence[Sequence[float]],
                      weights: Optional[Mapping[EdgeKey, float]] = None, biases: Optional[Mapping[NodeId, float]] = None
                      ) -> List[List[float]]:
    """Outputs ``[batch][n_outputs]`` of ``topology`` on inputs ``x: [batch][n_inputs]``, in float64.

    Args:
        weights: ``{(src, dst): w}`` overriding the topology's edge weights (every edge must end up with one).
        biases: ``{node: b}`` overriding the topology's biases.
    """
    table = _weights_of(topology, weights, "reference_forward")
    nodes = topology.nodes
    order = topology.topological_order()
    results = []
    for row in x:
        value: Dict[NodeId, float] = dict(zip(topology.inputs, map(float, row)))
        for node_id in order:
            node = nodes[node_id]
            if node.role == "input":
                continue
            msgs = [table[(src, node_id)] * value[src] for src in topology.predecessors(node_id)]
            agg = REFERENCE_AGGREGATIONS[node.aggregation](msgs) if msgs else 0.0
            bias = biases[node_id] if biases and node_id in biases else node.bias
            value[node_id] = REFERENCE_ACTIVATIONS[node.activation](node.response * agg + bias)
        results.append([value[o] for o in topology.outputs])
    return results


def _weights_of(topology: Topology, weights: Optional[Mapping[EdgeKey, float]], who: str = "the reference"
                ) -> Dict[EdgeKey, float]:
    """Every edge's weight: ``weights[edge]`` where given, else the topology's (none may be unset)."""
    table = {k: (weights[k] if weights and k in weights else e.weight) for k, e in topology.edges.items()}
    missing = [k for k, w in table.items() if w is None]
    if missing:
        raise ValueError(f"{who} needs a weight on every edge; unset: {missing[:5]}")
    return {k: w for k, w in table.items() if w is not None}


def _neuron(topology: Topology, node_id: NodeId, value: Mapping[NodeId, float], weights: Mapping[EdgeKey, float],
            biases: Optional[Mapping[NodeId, float]]) -> float:
    """``activation(response * aggregate(w * value[src]) + bias)`` of one neuron with incoming edges."""
    node = topology.nodes[node_id]
    msgs = [weights[(src, node_id)] * value[src] for src in topology.predecessors(node_id)]
    bias = biases[node_id] if biases and node_id in biases else node.bias
    return REFERENCE_ACTIVATIONS[node.activation](node.response * REFERENCE_AGGREGATIONS[node.aggregation](msgs)
                                                  + bias)


def reference_recurrent(topology: Topology, sequence: Sequence[Sequence[float]],
                        state: Optional[Mapping[NodeId, float]] = None,
                        weights: Optional[Mapping[EdgeKey, float]] = None,
                        biases: Optional[Mapping[NodeId, float]] = None
                        ) -> Tuple[List[List[float]], Dict[NodeId, float]]:
    """Outputs ``[steps][n_outputs]`` of a discrete-time recurrent topology on one input sequence
    ``[steps][n_inputs]``, and the final value of every node.

    Every node starts at 0 (or at ``state[node]``). At each step the inputs take the step's values; then
    every non-input node with at least one incoming edge becomes
    ``activation(response * aggregate(w * previous value of src) + bias)``, all from the values before the
    step, except that an input's value is the current step's. A node without incoming edges is never
    updated: it keeps its value. The outputs are read after the step.
    """
    weights = _weights_of(topology, weights)
    value: Dict[NodeId, float] = {n: 0.0 for n in topology.nodes}
    value.update(state or {})
    updated = [n for n, node in topology.nodes.items() if node.role != "input" and topology.predecessors(n)]
    outputs = []
    for x in sequence:
        value.update(zip(topology.inputs, map(float, x)))
        new = {n: _neuron(topology, n, value, weights, biases) for n in updated}
        value.update(new)
        outputs.append([value[o] for o in topology.outputs])
    return outputs, value


class CTRNNReferenceState(NamedTuple):
    """A continuous-time network between two advances: the last two node values and the clock."""
    value: Dict[NodeId, float]      # every node's value now
    previous: Dict[NodeId, float]   # every node's value one integration step earlier
    time: float = 0.0    # the simulated time so far


def reference_ctrnn(topology: Topology, sequence: Sequence[Sequence[float]], advance_time: float,
                    time_step: float, state: Optional[CTRNNReferenceState] = None,
                    weights: Optional[Mapping[EdgeKey, float]] = None,
                    biases: Optional[Mapping[NodeId, float]] = None
                    ) -> Tuple[List[List[float]], CTRNNReferenceState]:
    """Outputs ``[steps][n_outputs]`` of a continuous-time topology, one ``advance(x, advance_time,
    time_step)`` per input of ``sequence``, and the final state.

    Each advance integrates, with the inputs held at ``x``, until the clock passes ``time + advance_time``,
    in steps ``dt = min(time_step, end - clock)``. An integration step computes every neuron with incoming
    edges as ``f = activation(response * aggregate(w * current value of src) + bias)`` and sets it to
    ``older + dt / time_constant * (-older + f)``, where ``older`` is the value one integration step
    *before* the current one (neat-python's CTRNN keeps two value buffers and writes the new value into
    the older one). Nodes without incoming edges keep their value; everything starts at 0. The outputs
    after an advance are read from the older buffer too, so they are the values one integration step
    before the last, as ``CTRNN.advance`` returns them.
    """
    weights = _weights_of(topology, weights)
    if state is None:
        zero = {n: 0.0 for n in topology.nodes}
        state = CTRNNReferenceState(zero, dict(zero), 0.0)
    value, older, clock = dict(state.value), dict(state.previous), float(state.time)
    updated = [n for n, node in topology.nodes.items() if node.role != "input" and topology.predecessors(n)]
    outputs = []
    for x in sequence:
        end = clock + advance_time
        inputs = dict(zip(topology.inputs, map(float, x)))
        while clock < end:
            dt = min(time_step, end - clock)
            value.update(inputs)
            older.update(inputs)
            new = dict(older)
            for n in updated:
                f = _neuron(topology, n, value, weights, biases)
                new[n] = older[n] + dt / topology.nodes[n].time_constant * (-older[n] + f)
            older, value = value, new
            clock += dt
        outputs.append([older[o] for o in topology.outputs])   # neat returns the older buffer
    return outputs, CTRNNReferenceState(value, older, clock)


def random_topology(seed: int, n_inputs: int = 3, n_outputs: int = 2, n_hidden: int = 8, p_edge: float = 0.3,
                    activations: Sequence[str] = ACTIVATIONS, aggregations: Sequence[str] = AGGREGATIONS,
                    p_sign: float = 0.2, p_frozen: float = 0.1, ids: str = "str", p_response: float = 0.0,
                    recurrent: Union[bool, str] = False, max_weight: float = 1.5) -> Topology:
    """A random DAG over inputs, hidden neurons and outputs with all weights and biases set.

    Nodes are ranked (inputs, then hidden, then outputs, shuffled in id); each forward pair is an edge with
    probability ``p_edge``, so depth, skips and fan-in vary; weights are drawn in ``[-max_weight, max_weight]``
    (rounded to 3 decimals), biases in [-0.5, 0.5]. Some edges get a fixed sign, some are frozen;
    with ``p_response > 0`` some neurons get a response in [-2, 2] other than 1. With ``recurrent`` (True or
    "ctrnn") every ordered pair into a non-input, backward pairs and self-loops included, is an edge with
    probability ``p_edge``; a "ctrnn" topology's neurons get time constants in [0.05, 2].
    """
    rng = random.Random(seed)
    make = (lambda tag, i: f"{tag}{i}") if ids == "str" else (lambda tag, i: {"x": 0, "h": 1000, "y": 2000}[tag] + i)
    inputs = [make("x", i) for i in range(n_inputs)]
    hidden = [make("h", i) for i in range(n_hidden)]
    outputs = [make("y", i) for i in range(n_outputs)]
    ranked = inputs + hidden + outputs
    nodes = [Node(n, "input", "identity") for n in inputs]
    for n in hidden + outputs:
        response = 1.0
        if p_response and rng.random() < p_response:
            response = round(rng.uniform(-2.0, 2.0), 3)
        tau = round(rng.uniform(0.05, 2.0), 3) if recurrent == "ctrnn" else 1.0
        nodes.append(Node(n, "output" if n in outputs else "hidden", rng.choice(list(activations)),
                          rng.choice(list(aggregations)), bias=round(rng.uniform(-0.5, 0.5), 3),
                          response=response, time_constant=tau))
    rng.shuffle(nodes)  # declaration order must not matter
    edges = []
    for i, a in enumerate(ranked):
        targets = ranked[n_inputs:] if recurrent else ranked[max(i + 1, n_inputs):]
        for b in targets:
            if b in outputs and a in outputs and not recurrent:
                continue
            if rng.random() < p_edge:
                w = round(rng.uniform(-max_weight, max_weight), 3)
                sign = None
                if rng.random() < p_sign:
                    sign = "+" if w >= 0 else "-"
                edges.append(Edge(a, b, w, sign, trainable=rng.random() >= p_frozen))
    rng.shuffle(edges)
    return Topology(nodes, edges, warn=False, recurrent=recurrent)


def best_cpu_seconds(small: Callable[[], object], large: Callable[[], object], repeats: int = 5) -> List[float]:
    """The least CPU time of ``small()`` and of ``large()`` over ``repeats`` interleaved runs (a busy machine slows
    single runs, rarely all of them)."""
    best = [float("inf"), float("inf")]
    for _ in range(repeats):
        for i, fn in enumerate((small, large)):
            gc.collect()
            t0 = time.process_time()
            fn()
            best[i] = min(best[i], time.process_time() - t0)
    return best
