"""The graphs and the peers of scripts/bench.py: each method of a graph as a runner checked against mpnet."""
import random
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

import neat
import torch
from torch import Tensor, nn

import mpnet
import mpnet.graph.sample


# ------------------------------------------------------------------------------------------- graphs
def with_biases(topo: mpnet.Topology, seed: int) -> mpnet.Topology:
    """Give every non-input neuron a small random bias so the cross-checks cover biases too."""
    rng = random.Random(seed)
    return topo.with_weights({}, {n: rng.gauss(0.0, 0.1) for n in topo.nodes if n not in topo.inputs})


def question_net() -> mpnet.Topology:
    rng = random.Random(0)
    pairs = [("x1", "a1"), ("x2", "a2"), ("a1", "b1"), ("a2", "b2"), ("b1", "c1"), ("b2", "c2"),
             ("a1", "c1"), ("a2", "c2"), ("c1", "y"), ("c2", "y")]
    return mpnet.Topology.from_edges([(s, d, rng.gauss(0.0, 1.0)) for s, d in pairs],
                                     inputs=["x1", "x2"], outputs=["y"])


GRAPHS: Dict[str, Tuple[Callable[[], mpnet.Topology], int]] = {   # name -> (topology with weights, batch)
    "question": (question_net, 256),
    "dag-6k": (lambda: mpnet.sample.random_dag(16, 8, 488, avg_in_degree=6000 / 496, seed=0, weights=True), 256),
    "layered": (lambda: mpnet.sample.layered([784, 256, 256, 256, 10], density=0.1, skip=0.2, seed=0,
                                             weights=True), 256),
    "dag-50k": (lambda: mpnet.sample.random_dag(32, 16, 4952, avg_in_degree=50000 / 4968, seed=0,
                                                weights=True), 1024),
}


def genomes(count: int) -> List[mpnet.Topology]:
    """NEAT-sized genomes: 2 inputs, 7 hidden, 1 output, ~25 edges each."""
    return [with_biases(mpnet.sample.random_dag(2, 1, 7, avg_in_degree=25 / 8, seed=s, weights=True), s)
            for s in range(count)]


@dataclass
class Graph:
    """One topology as mpnet sees it and as the peers see it (rows sorted by depth, inputs first)."""
    name: str
    topo: mpnet.Topology
    net: mpnet.Network
    x: Tensor                      # [batch, n_in]
    ref: Tensor                    # [batch, n_out] mpnet's output, which every peer must reproduce
    n_in: int
    levels: List[Tuple[int, int]]  # row range [r0, r1) of each depth >= 1
    src: Tensor                    # [E] peer row of each edge's source, edges sorted by (dst, src)
    dst: Tensor                    # [E]
    weight: Tensor                 # [E]
    bias: Tensor                   # [N] (0 for inputs)
    relu: Tensor                   # [N] bool: relu neuron (else identity)
    out_rows: Tensor               # [n_out]

    @property
    def edges(self) -> int:
        return self.src.numel()


def prepare(name: str) -> Graph:
    build, batch = GRAPHS[name]
    topo = with_biases(build(), seed=1)
    nodes, depth = topo.nodes, topo.depth()
    assert {n.activation for n in nodes.values() if n.role != "input"} <= {"relu", "identity"}
    assert {n.aggregation for n in nodes.values()} == {"sum"}
    order = sorted(nodes, key=lambda n: (depth[n], nodes[n].role == "output"))   # stable: declaration order
    row = {n: i for i, n in enumerate(order)}
    pairs = sorted((row[e.dst], row[e.src], e.weight) for e in topo.edges.values())
    depths = [depth[n] for n in order]
    levels = [(depths.index(k), len(depths) - depths[::-1].index(k)) for k in sorted(set(depths)) if k > 0]
    net = mpnet.Network(topo)
    x = torch.randn(batch, len(topo.inputs), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        ref = net(x)
    src, dst, weight = (torch.tensor(col) for col in zip(*[(p[1], p[0], p[2]) for p in pairs]))
    return Graph(name, topo, net, x, ref, len(topo.inputs), levels, src, dst, weight,
                 torch.tensor([nodes[n].bias for n in order]), torch.tensor([nodes[n].activation == "relu" for n in order]),
                 torch.tensor([row[n] for n in topo.outputs]))


# -------------------------------------------------------------------------------------------- peers
def relu(z: float) -> float:
    return z if z > 0.0 else 0.0


def identity(z: float) -> float:
    return z


def to_neat(topo: mpnet.Topology) -> neat.nn.FeedForwardNetwork:
    """neat-python's network for the same topology: int keys (inputs -1, -2, ...), plain relu and sum."""
    key = {n: -1 - i for i, n in enumerate(topo.inputs)}
    nodes, depth = topo.nodes, topo.depth()
    for n in topo.topological_order():
        key.setdefault(n, len(key))
    incoming: Dict = {n: [] for n in nodes}
    for e in topo.edges.values():
        incoming[e.dst].append((key[e.src], e.weight))
    evals = [(key[n], relu if nodes[n].activation == "relu" else identity, sum, nodes[n].bias, 1.0, incoming[n])
             for n in topo.topological_order() if depth[n] > 0]
    return neat.nn.FeedForwardNetwork([key[n] for n in topo.inputs], [key[n] for n in topo.outputs], evals)


class PerNeuron(nn.Module):
    """The usual answer: one nn.Linear(fan_in, 1) per neuron, each fed by torch.cat of its sources."""

    def __init__(self, g: Graph):
        super().__init__()
        fan_in = torch.bincount(g.dst, minlength=g.bias.numel()).tolist()    # edges are sorted by dst
        self.sources = [s.tolist() for s in g.src.split(fan_in)]
        self.linears = nn.ModuleList(nn.Linear(k, 1) for k in fan_in[g.n_in:])
        with torch.no_grad():
            for lin, w, b in zip(self.linears, g.weight.split(fan_in)[g.n_in:], g.bias[g.n_in:]):
                lin.weight.copy_(w.view(1, -1))
                lin.bias.fill_(float(b))
        self.relu, self.out = g.relu.tolist()[g.n_in:], g.out_rows.tolist()

    def forward(self, x: Tensor) -> Tensor:                     # [B, n_in] -> [B, n_out]
        h = list(x.split(1, dim=1))                             # one [B, 1] per neuron, in row order
        for lin, srcs, is_relu in zip(self.linears, self.sources[x.shape[1]:], self.relu):
            z = lin(torch.cat([h[s] for s in srcs], 1) if srcs else x[:, :0])
            h.append(z.relu() if is_relu else z)
        return torch.cat([h[o] for o in self.out], 1)


class MaskedDense(nn.Module):
    """A dense W [N, N] times a 0/1 mask; depth k's rows computed from the full state h [N, B]."""

    def __init__(self, g: Graph):
        super().__init__()
        n = g.bias.numel()
        w, mask = torch.zeros(n, n), torch.zeros(n, n)
        w[g.dst, g.src], mask[g.dst, g.src] = g.weight, 1.0
        self.weight, self.bias = nn.Parameter(w), nn.Parameter(g.bias.clone())
        self.register_buffer("mask", mask)
        self.register_buffer("relu", g.relu.view(-1, 1))
        self.levels, self.out = g.levels, g.out_rows

    def forward(self, x: Tensor) -> Tensor:                     # [B, n_in] -> [B, n_out]
        wm = self.weight * self.mask                            # [N, N]
        h = torch.cat([x.t(), x.new_zeros(wm.shape[0] - x.shape[1], x.shape[0])])   # [N, B]
        for r0, r1 in self.levels:
            z = torch.addmm(self.bias[r0:r1, None], wm[r0:r1], h)                     # [r1 - r0, B]
            h = torch.cat([h[:r0], torch.where(self.relu[r0:r1], z.relu(), z), h[r1:]])
        return h[self.out].t()


def forward_backward(module: nn.Module, x: Tensor) -> Callable[[], None]:
    def run() -> None:
        module(x).sum().backward()
        module.zero_grad()
    return run


def no_grad(fn: Callable[[], object]) -> Callable[[], None]:
    def run() -> None:
        with torch.no_grad():
            fn()
    return run


def check(peer: Tensor, ref: Tensor, what: str) -> None:
    torch.testing.assert_close(peer.double(), ref.double(), rtol=1e-4, atol=1e-4, msg=lambda m: f"{what}: {m}")


@dataclass
class Case:
    label: str
    kind: str                        # "fwd" or "fwd+bwd": the mpnet row it is compared with
    run: Callable[[], None]
    scale: float = 1.0               # measured time x scale = the time reported (an estimate when != 1)
    slow: bool = False
    torch_threads: bool = True       # False: not a torch computation, timed once (TensorNEAT's JAX threads)


def make_case(g: Graph, method: str, cfg) -> Optional[Case]:
    """The runner of one method on one graph, checked against mpnet first; None when skipped."""
    x, ref, batch = g.x, g.ref, g.x.shape[0]
    if method == "neat":
        net, rows = to_neat(g.topo), x.tolist()
        k = min(batch, max(8, cfg.neat_budget // g.edges))
        check(torch.tensor([net.activate(r) for r in rows[:4]]), ref[:4], "neat-python")
        label = "neat-python" + (f" ({k} of {batch} samples, scaled)" if k < batch else "")
        return Case(label, "fwd", lambda: [net.activate(r) for r in rows[:k]], batch / k, slow=True)
    if method.startswith("csr"):
        n = g.bias.numel()
        crow = torch.zeros(n + 1, dtype=torch.long)
        crow[1:] = torch.bincount(g.dst, minlength=n).cumsum(0)
        adj = torch.sparse_csr_tensor(crow, g.src, g.weight, (n, n), check_invariants=False)   # [N, N]
        h, out = torch.randn(n, batch), torch.empty(n, batch)                                  # [N, B]
        if method == "csr":
            return Case("floor: CSR @ h, all edges", "fwd", no_grad(lambda: adj @ h))
        return Case("floor: CSR @ h, all edges, into a reused out", "fwd",
                    no_grad(lambda: torch.mm(adj, h, out=out)))
    base = method.removesuffix("-fb")
    if base == "per-neuron" and g.edges > cfg.per_neuron_max_edges:
        return None
    module = g.net if base == "mpnet" else (PerNeuron if base == "per-neuron" else MaskedDense)(g)
    label = {"mpnet": "mpnet", "per-neuron": "per-neuron module", "dense": "masked dense, level by level"}[base]
    check(module(x), ref, label)
    if method.endswith("-fb"):
        return Case(label, "fwd+bwd", forward_backward(module, x))
    return Case(label, "fwd", no_grad(lambda: module(x)))


METHODS = ["mpnet", "mpnet-fb", "neat", "per-neuron", "per-neuron-fb", "dense", "dense-fb", "csr", "csr-out"]


