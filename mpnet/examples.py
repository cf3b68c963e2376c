"""Embedded defaults: the network of the usual question, a teacher for it, and simulated data (used by
``mpnet demo``, the tests and the sign benchmark).

The question: inputs x1, x2; neurons a1, a2 (first layer), b1, b2 (second), c1, c2 (third); output y;
a chain per input plus two cross-layer edges a1 -> c1 and a2 -> c2 known to be inhibitory (fixed "-").
``data/question_network.json`` is :func:`question_network` saved to disk.
"""
import random
from dataclasses import replace
from typing import Dict, Optional, Tuple

import torch
from torch import Tensor

from .model import Network
from .graph.elements import EdgeKey, NodeId
from .graph.topology import Topology

__all__ = ["question_network", "question_teacher", "question_task", "unknown_weights", "kinks_in_data",
           "simulate"]

QUESTION_EDGES = [("x1", "a1", 0.5), ("x2", "a2", 0.5), ("a1", "b1", 1.0), ("a2", "b2", 1.0),
                  ("b1", "c1", 0.7), ("b2", "c2", 0.7), ("a1", "c1", -0.4), ("a2", "c2", -0.4),
                  ("c1", "y", 1.0), ("c2", "y", -1.0)]
QUESTION_SIGNS: Dict[EdgeKey, Optional[str]] = {("a1", "c1"): "-", ("a2", "c2"): "-"}


def question_network() -> Topology:
    """The question's network with its hand-set initial weights (ReLU hidden, identity output)."""
    return Topology.from_edges(QUESTION_EDGES, inputs=["x1", "x2"], outputs=["y"], activation="relu",
                               output_activation="identity", signs=QUESTION_SIGNS)


def question_teacher() -> Topology:
    """The same wiring with the weights and biases of the function the demo learns.

    Every hidden neuron kinks inside the data (x in [-2, 2]^2) and each chain's kinks all show in y (three
    slope changes per input), so the data can determine signs; the signs are mixed (a2 -> b2 and c1 -> y are
    negative). With a teacher whose kinks hide behind one another (a neuron that only matters where a
    downstream one is silent) most signs are undetermined, whatever the method: ``mpnet demo`` reports that
    as ``?``.
    """
    weights: Dict[EdgeKey, float] = {
        ("x1", "a1"): 1.2, ("x2", "a2"): 1.3, ("a1", "b1"): 0.6, ("a2", "b2"): -0.7, ("b1", "c1"): 1.4,
        ("b2", "c2"): 1.4, ("a1", "c1"): -1.5, ("a2", "c2"): -1.1, ("c1", "y"): -0.9, ("c2", "y"): 0.7}
    biases: Dict[NodeId, float] = {"a1": -0.5, "a2": 0.15, "b1": -0.2, "b2": 0.05, "c1": 0.7, "c2": 0.65, "y": 0.3}
    return question_network().with_weights(weights, biases)


def unknown_weights(topology: Topology) -> Topology:
    """The wiring as a user who must infer the weights has it: every trainable weight unset, every bias 0;
    fixed signs, Dale neurons and frozen edges kept."""
    nodes = [replace(n, bias=0.0) for n in topology.nodes.values()]
    edges = [replace(e, weight=None) if e.trainable else e for e in topology.edges.values()]
    return Topology(nodes, edges, warn=False)


def kinks_in_data(topology: Topology, X: Tensor, seed: int = 0, low: float = 0.2, high: float = 0.8,
                  scale: float = 1.0) -> Topology:
    """A teacher on ``topology``'s wiring: unset trainable weights drawn ``N(0, scale^2 / fan_in)`` (on the
    allowed side of fixed signs), and each hidden neuron's bias set, in topological order, so that its
    pre-activation crosses zero at a random quantile in ``[low, high]`` of ``X`` (a ReLU's kink, a tanh's
    centre inside the data). Set weights are kept."""
    rng = random.Random(seed)
    fan_in = {n: max(len(topology.predecessors(n)), 1) for n in topology.nodes}
    weights: Dict[EdgeKey, float] = {}
    for key, e in topology.edges.items():
        if e.weight is None:
            w = rng.gauss(0.0, scale / fan_in[e.dst] ** 0.5)
            weights[key] = abs(w) if e.sign == "+" else -abs(w) if e.sign == "-" else w
    teacher = topology.with_weights(weights)
    biases: Dict[NodeId, float] = {}
    X = torch.as_tensor(X, dtype=torch.float64)
    for node in topology.topological_order():
        if topology.nodes[node].role != "hidden":
            continue
        net = Network(teacher.with_weights({}, biases), dtype=torch.float64)
        Z, _ = net.states(X)
        row = net.rows.index((0, node))
        biases[node] = -float(torch.quantile(Z[row], rng.uniform(low, high)))
    return teacher.with_weights({}, biases)


def simulate(teacher: Topology, n: int, noise: float, seed: int = 0, low: float = -2.0, high: float = 2.0,
             X: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
    """``(X [n, n_in], Y [n, n_out])`` in float64: ``X ~ U(low, high)`` (unless given), ``Y = teacher(X)`` plus
    Gaussian noise whose std is ``noise`` times the std of each output column."""
    gen = torch.Generator().manual_seed(seed)
    if X is None:
        X = torch.rand(n, len(teacher.inputs), generator=gen, dtype=torch.float64) * (high - low) + low
    with torch.no_grad():
        Y = Network(teacher, dtype=torch.float64)(X)
    return X, Y + noise * Y.std(0) * torch.randn(Y.shape, generator=gen, dtype=torch.float64)


def question_task(n: int = 2000, noise: float = 0.01, seed: int = 0) -> Tuple[Tensor, Tensor]:
    """``(X [n, 2], Y [n, 1])`` in float64: X ~ U(-2, 2)^2, Y = question_teacher(X) + noise (std ``noise``
    times the std of the noiseless target)."""
    return simulate(question_teacher(), n, noise, seed)
