"""Embedded defaults: the network of the usual question and a small task for it (used by ``mpnet demo``).

The question: inputs x1, x2; neurons a1, a2 (first layer), b1, b2 (second), c1, c2 (third); output y;
a chain per input plus two cross-layer edges a1 -> c1 and a2 -> c2 known to be inhibitory (fixed "-").
``data/question_network.json`` is :func:`question_network` saved to disk.
"""
from typing import Tuple

import torch

from .topology import Topology

__all__ = ["question_network", "question_teacher", "question_task"]

QUESTION_EDGES = [("x1", "a1", 0.5), ("x2", "a2", 0.5), ("a1", "b1", 1.0), ("a2", "b2", 1.0),
                  ("b1", "c1", 0.7), ("b2", "c2", 0.7), ("a1", "c1", -0.4), ("a2", "c2", -0.4),
                  ("c1", "y", 1.0), ("c2", "y", -1.0)]
QUESTION_SIGNS = {("a1", "c1"): "-", ("a2", "c2"): "-"}


def question_network() -> Topology:
    """The question's network with its hand-set initial weights (ReLU hidden, identity output)."""
    return Topology.from_edges(QUESTION_EDGES, inputs=["x1", "x2"], outputs=["y"], activation="relu",
                               output_activation="identity", signs=QUESTION_SIGNS)


def question_teacher() -> Topology:
    """The same wiring with the weights and biases of the function the demo learns."""
    teacher = {("x1", "a1"): 1.2, ("x2", "a2"): 0.9, ("a1", "b1"): 1.5, ("a2", "b2"): 0.8,
               ("b1", "c1"): 1.0, ("b2", "c2"): 1.4, ("a1", "c1"): -0.8, ("a2", "c2"): -0.5,
               ("c1", "y"): 1.0, ("c2", "y"): -0.6}
    biases = {"a1": 0.2, "a2": 0.5, "b1": -0.3, "b2": 0.2, "c1": 0.0, "c2": -0.1, "y": 0.3}
    return question_network().with_weights(teacher, biases)


def question_task(n: int = 512, noise: float = 0.01, seed: int = 0) -> Tuple[torch.Tensor, torch.Tensor]:
    """``(X [n, 2], Y [n, 1])``: X ~ U(-2, 2)^2, Y = teacher(X) + N(0, noise^2), computed in float64."""
    from .model import Network
    gen = torch.Generator().manual_seed(seed)
    X = torch.rand(n, 2, generator=gen, dtype=torch.float64) * 4 - 2
    with torch.no_grad():
        Y = Network(question_teacher(), dtype=torch.float64)(X)
    Y = Y + noise * torch.randn(Y.shape, generator=gen, dtype=torch.float64)
    return X.float(), Y.float()
