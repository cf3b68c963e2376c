"""Quickstart: the question's network in a few lines, trained, with each edge's weight and sign.

    python scripts/quickstart.py
"""
import os
import sys

import torch

import mpnet

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _args import Parser  # noqa: E402  (the scripts' shared argument handling)

Parser(prog="quickstart.py", description=__doc__.split("\n")[0]).parse_args()   # no options: a stray one is refused

# inputs x1, x2 -> a -> b -> c -> y, plus two inhibitory cross-layer edges a -> c (fixed negative)
topo = mpnet.Topology.from_edges(
    [("x1", "a1", 0.5), ("x2", "a2", 0.5), ("a1", "b1", 1.0), ("a2", "b2", 1.0),
     ("b1", "c1", 0.7), ("b2", "c2", 0.7), ("a1", "c1", -0.4), ("a2", "c2", -0.4),
     ("c1", "y", 1.0), ("c2", "y", -1.0)],
    inputs=["x1", "x2"], outputs=["y"], activation="relu", output_activation="identity",
    signs={("a1", "c1"): "-", ("a2", "c2"): "-"})
net = mpnet.Network(topo)                      # a torch.nn.Module: one weight per edge

torch.manual_seed(0)
X = torch.rand(512, 2) * 4 - 2                 # a small task: y = relu(x1) - 0.5 * relu(x2) + noise
Y = torch.relu(X[:, :1]) - 0.5 * torch.relu(X[:, 1:]) + 0.01 * torch.randn(512, 1)
history = mpnet.fit(net, X, Y, loss="mse", epochs=200, lr=0.02, batch_size=64, progress=False)
print(f"{net}\nmse: {history[0]:.4f} -> {history[-1]:.5f}")

for (src, dst), edge in net.to_topology().edges.items():
    sign = "+" if edge.weight > 0 else "-" if edge.weight < 0 else "0"
    fixed = f"  (fixed {edge.sign})" if edge.sign else ""
    print(f"{src:>3} -> {dst:<3} {edge.weight:+.3f}  {sign}{fixed}")
