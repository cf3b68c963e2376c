"""Slow, obvious references that every fast path is tested against (usable by any later test).

:func:`reference_forward` evaluates a :class:`~mpnet.Topology` node by node in float64 with the ``math``
module only: no torch, no batching, no sparse tricks. :func:`random_topology` draws small random DAGs
with every activation and aggregation for property tests. :func:`best_cpu_seconds` times an operation at two
sizes for the tests that keep it linear.
"""
import gc
import math
import random
import time
import statistics
from typing import Dict, List, Mapping, Optional, Sequence

from .topology import ACTIVATIONS, AGGREGATIONS, Edge, Node, Topology

__all__ = ["reference_forward", "random_topology", "best_cpu_seconds", "REFERENCE_ACTIVATIONS",
           "REFERENCE_AGGREGATIONS"]

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

REFERENCE_ACTIVATIONS = {
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


REFERENCE_AGGREGATIONS = {
    "sum": math.fsum,
    "mean": statistics.fmean,
    "max": max,
    "min": min,
    "product": math.prod,
    "maxabs": _maxabs,
    "median": statistics.median,       # mean of the two middle values for an even count
}
assert tuple(REFERENCE_ACTIVATIONS) == ACTIVATIONS and tuple(REFERENCE_AGGREGATIONS) == AGGREGATIONS


def reference_forward(topology: Topology, x: Sequence[Sequence[float]],
                      weights: Optional[Mapping] = None, biases: Optional[Mapping] = None) -> List[List[float]]:
    """Outputs ``[batch][n_outputs]`` of ``topology`` on inputs ``x: [batch][n_inputs]``, in float64.

    Args:
        weights: ``{(src, dst): w}`` overriding the topology's edge weights (every edge must end up with one).
        biases: ``{node: b}`` overriding the topology's biases.
    """
    edges = topology.edges
    weights = {k: (weights[k] if weights and k in weights else e.weight) for k, e in edges.items()}
    missing = [k for k, w in weights.items() if w is None]
    if missing:
        raise ValueError(f"reference_forward needs a weight on every edge; unset: {missing[:5]}")
    nodes = topology.nodes
    order = topology.topological_order()
    results = []
    for row in x:
        value: Dict = dict(zip(topology.inputs, map(float, row)))
        for node_id in order:
            node = nodes[node_id]
            if node.role == "input":
                continue
            msgs = [weights[(src, node_id)] * value[src] for src in topology.predecessors(node_id)]
            agg = REFERENCE_AGGREGATIONS[node.aggregation](msgs) if msgs else 0.0
            bias = biases[node_id] if biases and node_id in biases else node.bias
            value[node_id] = REFERENCE_ACTIVATIONS[node.activation](node.response * agg + bias)
        results.append([value[o] for o in topology.outputs])
    return results


def random_topology(seed: int, n_inputs: int = 3, n_outputs: int = 2, n_hidden: int = 8, p_edge: float = 0.3,
                    activations: Sequence[str] = ACTIVATIONS, aggregations: Sequence[str] = AGGREGATIONS,
                    p_sign: float = 0.2, p_frozen: float = 0.1, ids: str = "str", p_response: float = 0.0
                    ) -> Topology:
    """A random DAG over inputs, hidden neurons and outputs with all weights and biases set.

    Nodes are ranked (inputs, then hidden, then outputs, shuffled in id); each forward pair is an edge with
    probability ``p_edge``, so depth, skips and fan-in vary. Some edges get a fixed sign, some are frozen;
    with ``p_response > 0`` some neurons get a response in [-2, 2] other than 1.
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
        nodes.append(Node(n, "output" if n in outputs else "hidden", rng.choice(list(activations)),
                          rng.choice(list(aggregations)), bias=round(rng.uniform(-0.5, 0.5), 3),
                          response=response))
    rng.shuffle(nodes)  # declaration order must not matter
    edges = []
    for i, a in enumerate(ranked):
        for b in ranked[max(i + 1, n_inputs):]:
            if b in outputs and a in outputs:
                continue
            if rng.random() < p_edge:
                w = round(rng.uniform(-1.5, 1.5), 3)
                sign = None
                if rng.random() < p_sign:
                    sign = "+" if w >= 0 else "-"
                edges.append(Edge(a, b, w, sign, trainable=rng.random() >= p_frozen))
    rng.shuffle(edges)
    return Topology(nodes, edges, warn=False)


def best_cpu_seconds(small, large, repeats: int = 5) -> List[float]:
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
