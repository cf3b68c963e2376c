"""Starting points and moves on rows of ``theta`` (see :mod:`mpnet.signs.population`).

* :func:`random_starts` — weights drawn per fan-in (He scale), then, level by level, each hidden neuron's bias
  set so that its pre-activation crosses zero inside the data (a ReLU's kink, a tanh's centre at a random
  quantile of the data). Random starts with zero biases leave ReLU chains dead: on the question network 8 of 8
  started that way fitted nothing.
* :func:`redraw_neurons` — one hidden neuron per row gets new incoming weights, a kink inside the data and
  small outgoing weights, the rest of the row kept: a basin-hopping move that moves one kink at a time.
* :func:`mirror_edges` — one edge per row has its weight negated: the smallest move that changes a sign
  (in the sign benchmark, refits from such moves often found better optima than neuron redraws).
* :func:`crossover` — one row's parameters of a region of the network (the neurons up- and downstream of an
  edge) taken from another fit: parts of a network that barely interact (e.g. two chains summed at the
  output) are fitted well by different fits, and a refit from the combination keeps both.
* :func:`flip_neuron` — the sign flips of a neuron (:mod:`mpnet.signs.symmetry`), exact for odd, affine-odd
  and even activations; for a ReLU it is the "linear flip" that is exact when the neuron never leaves its
  linear regime, and a good start for a refit otherwise.
* :func:`reverse_neuron` — a ReLU-like neuron turned to face the other way: ``relu(z) = relu(-z) + z``, so its
  incoming weights and bias are negated and the linear part ``z`` is carried by its targets' direct edges from
  its sources (and their biases); its outgoing weights keep their signs. Exact where every such edge exists; the
  move that finds a fit whose ReLU faces the other way from the best fit's (issue 19: on a random teacher
  the refits with the teacher's signs missed the teacher's own, equally good, fit without it).
* :func:`swap_neurons` — two hidden neurons exchange their places (weights in and out, biases): where one of them
  reads the other, the best fit may have them the other way round from an equally good (or better) fit, and
  refits of one edge at a time do not get from one to the other.
"""
import math
from typing import Callable, Iterable, List, Optional, Sequence, Set

import torch
from torch import Tensor

from ..engine.functional import activation
from ..graph.elements import EdgeKey, NodeId
from ..graph.topology import Topology
from .population import Population
from .symmetry import AFFINE_ODD, EVEN, ODD

__all__ = ["random_starts", "region_starts", "redraw_neurons", "mirror_edges", "flip_neuron", "reverse_neuron",
           "reversible", "swap_neurons", "crossover", "region", "clip", "REVERSIBLE"]

#: activations with ``f(z) - f(-z) = slope * z`` (relu, leaky ones, softplus, gelu): :func:`reverse_neuron`'s kinds
REVERSIBLE = frozenset({"relu", "leaky_relu", "softplus", "gelu", "neat.relu", "neat.lelu", "neat.softplus"})


def clip(theta: Tensor, lower: Tensor, upper: Tensor) -> Tensor:
    return torch.maximum(torch.minimum(theta, upper), lower)


def _kink_quantiles(pop: Population, theta: Tensor, X: Tensor, cols: Sequence[int], gen: torch.Generator,
                    lo: float = 0.1, hi: float = 0.9) -> Tensor:
    """Set each row's bias of neuron column ``cols[m]`` (``-1``: none) so that its pre-activation is zero at a
    random quantile in ``[lo, hi]`` of the data. ``pop`` must hold ``theta.shape[0]`` members."""
    theta = theta.clone()
    rows = [m for m, c in enumerate(cols) if c >= 0]
    if not rows:
        return theta
    for m in rows:
        theta[m, pop.E + cols[m]] = 0.0
    Z, _ = pop.states(theta, X)
    m_idx = torch.tensor(rows, device=theta.device)
    c_idx = torch.tensor([cols[m] for m in rows], device=theta.device)
    z = Z[pop.rows[m_idx, c_idx]]                                                 # [k, n]
    q = torch.rand(len(rows), generator=gen, dtype=torch.float64).to(z) * (hi - lo) + lo
    kth = (q * (z.shape[1] - 1)).round().long()
    theta[m_idx, pop.E + c_idx] = -z.sort(dim=1).values.gather(1, kth[:, None]).squeeze(1)
    return theta


def _scales(pop: Population) -> Tensor:
    """``[E]``: the He-scale standard deviation ``sqrt(2 / fan_in)`` of each edge's target."""
    topo = pop.topology
    fan = {n: max(len(topo.predecessors(n)), 1) for n in topo.nodes}
    return torch.tensor([math.sqrt(2.0 / fan[d]) for _, d in pop.keys], dtype=pop.dtype, device=pop.lower.device)


def random_starts(pop: Population, X: Tensor, gen: torch.Generator, lower: Tensor, upper: Tensor) -> Tensor:
    """``[M, P]`` random starts for the ``M = pop.size`` members, within ``[lower, upper]``."""
    M, topo = pop.size, pop.topology
    theta = torch.zeros(M, pop.P, dtype=pop.dtype, device=lower.device)
    draw = torch.randn(M, pop.E, generator=gen, dtype=torch.float64).to(theta) * _scales(pop)
    # a fixed sign keeps the magnitude of the draw: |w| on the allowed side
    draw = torch.where(lower[:, :pop.E] >= 0, draw.abs(), torch.where(upper[:, :pop.E] <= 0, -draw.abs(), draw))
    theta[:, :pop.E] = draw
    theta = clip(theta, lower, upper)
    depth = topo.depth()
    hidden = [j for j, n in enumerate(pop.node_ids) if topo.nodes[n].role == "hidden"
              and topo.nodes[n].activation != "identity"]
    for level in sorted({depth[pop.node_ids[j]] for j in hidden}):
        for j in (j for j in hidden if depth[pop.node_ids[j]] == level):
            theta = _kink_quantiles(pop, theta, X, [j] * M, gen)
    return theta


def region_starts(pop: Population, best: Tensor, X: Tensor, nodes: Iterable[NodeId], gen: torch.Generator,
                  lower: Tensor, upper: Tensor) -> Tensor:
    """``[M, P]`` (``M = pop.size``): the fit ``best [P]`` with the neurons ``nodes`` drawn afresh as
    :func:`random_starts` draws them (He-scale weights into and out of them, then, in topological order, each
    kink inside the data), the rest kept; within ``[lower, upper]`` (``[M, P]``)."""
    M, topo = pop.size, pop.topology
    mine = set(nodes)
    fresh = random_starts(pop, X, gen, lower, upper)
    theta = clip(crossover(pop, best.expand(M, -1), fresh, mine), lower, upper)
    for n in topo.topological_order():
        if n in mine and topo.nodes[n].activation != "identity":
            theta = _kink_quantiles(pop, theta, X, [pop.col[n] - pop.E] * M, gen)
    return clip(theta, lower, upper)


def redraw_neurons(pop: Population, theta: Tensor, X: Tensor, nodes: Sequence[NodeId], gen: torch.Generator,
                   lower: Tensor, upper: Tensor, out_scale: float = 0.1) -> Tensor:
    """Row ``m`` of ``theta`` with hidden neuron ``nodes[m]`` redrawn: new incoming weights (He scale), small
    outgoing weights (``out_scale``), the kink inside the data. ``pop`` must hold ``theta.shape[0]``
    members; bounds are respected (frozen entries stay)."""
    theta = theta.clone()
    M = theta.shape[0]
    scale = _scales(pop)
    topo = pop.topology
    cols = []
    for m, node in enumerate(nodes):
        ins = [pop.edge_col[(p, node)] for p in topo.predecessors(node)]
        outs = [pop.edge_col[(node, s)] for s in topo.successors(node)]
        if ins:
            theta[m, ins] = torch.randn(len(ins), generator=gen, dtype=torch.float64).to(theta) * scale[ins]
        if outs:
            theta[m, outs] = torch.randn(len(outs), generator=gen, dtype=torch.float64).to(theta) * out_scale
        cols.append(pop.col[node] - pop.E)
    theta = clip(theta, lower[:M], upper[:M])
    return clip(_kink_quantiles(pop, theta, X, cols, gen), lower[:M], upper[:M])


def mirror_edges(theta: Tensor, cols: Sequence[int], lower: Tensor, upper: Tensor) -> Tensor:
    """Row ``m`` of ``theta`` with weight column ``cols[m]`` negated, clipped into the bounds."""
    theta = theta.clone()
    rows = torch.arange(theta.shape[0], device=theta.device)
    c = torch.as_tensor(list(cols), dtype=torch.long, device=theta.device)
    theta[rows, c] = -theta[rows, c]
    return clip(theta, lower, upper)


def flip_neuron(pop: Population, theta: Tensor, node: NodeId, X: Optional[Tensor] = None) -> Tensor:
    """Every row of ``theta`` with ``node``'s sign flip applied (bounds not checked: callers clip).

    odd (tanh, identity, ...): negate the incoming weights, the bias and the outgoing weights; affine-odd
    (sigmoid): the same, each target's bias absorbing ``w_out``; even: incoming weights and bias only; any
    other activation (ReLU-like, needs ``X``): the *linear flip* — negate as for odd and shift the bias by
    ``c``, the largest pre-activation on ``X``, each target's bias taking ``w_out * c``: the neuron then
    computes ``relu(c - z)``, and the function is unchanged wherever the neuron was in its linear regime.
    """
    theta = theta.clone()
    topo = pop.topology
    act = topo.nodes[node].activation
    ins = [pop.edge_col[(p, node)] for p in topo.predecessors(node)]
    outs = [(pop.edge_col[(node, t)], pop.col[t]) for t in topo.successors(node)]
    shift = torch.zeros_like(theta[:, 0])
    if act not in ODD | AFFINE_ODD | EVEN:
        if X is None:
            raise ValueError(f"The linear flip of {act} neuron {node!r} needs the data X.")
        Z, _ = pop.states(theta, X)
        shift = Z[pop.rows[:theta.shape[0], pop.col[node] - pop.E]].max(1).values
    theta[:, ins] = -theta[:, ins]
    theta[:, pop.col[node]] = shift - theta[:, pop.col[node]]
    if act in EVEN:
        return theta
    for e, target_bias in outs:
        theta[:, target_bias] += theta[:, e] * (1.0 if act in AFFINE_ODD else shift)
        theta[:, e] = -theta[:, e]
    return theta


def reversible(topology: Topology, node: NodeId) -> bool:
    """Whether :func:`reverse_neuron` applies to ``node``: a hidden neuron of a :data:`REVERSIBLE` kind that sums
    its messages, without a self-loop."""
    n = topology.nodes[node]
    return (n.role == "hidden" and n.activation in REVERSIBLE and n.aggregation == "sum"
            and node not in topology.predecessors(node))


def reverse_neuron(pop: Population, theta: Tensor, node: NodeId) -> Tensor:
    """Every row of ``theta`` with ``node`` facing the other way (bounds not checked: callers clip).

    ``node`` (:func:`reversible`) computes ``f(z)``, ``z = sum_p w_p h_p + b``; with ``f(z) = f(-z) + s z``
    (``s = f(1) - f(-1)``: 1 for relu, softplus and gelu) its incoming weights and bias are negated, so that it
    is active where it was not, and each target ``t`` (weight ``u``) takes the linear part ``u s z``: edge
    ``p -> t`` gains ``u s w_p`` for every source ``p`` of ``node`` it has, and ``t``'s bias ``u s b``. The
    outgoing weights keep their signs. The function is unchanged when every such edge ``p -> t`` exists (and
    sums); otherwise the part of ``p`` without an edge is lost, and the move is a start for a refit.
    """
    topo = pop.topology
    f = activation(topo.nodes[node].activation).fn
    one = torch.tensor([1.0, -1.0], dtype=torch.float64)
    slope = float(f(one)[0] - f(one)[1])
    ins = [(p, pop.edge_col[(p, node)]) for p in topo.predecessors(node)]
    out = theta.clone()
    w = theta[:, [c for _, c in ins]]                                           # [M, fan-in]
    b = theta[:, pop.col[node]]
    out[:, [c for _, c in ins]] = -w
    out[:, pop.col[node]] = -b
    for t in topo.successors(node):
        u = slope * theta[:, pop.edge_col[(node, t)]]
        out[:, pop.col[t]] += u * b
        for i, (p, _) in enumerate(ins):
            if (p, t) in pop.edge_col:       # every edge has a column (topo.edges would copy per access)
                out[:, pop.edge_col[(p, t)]] += u * w[:, i]
    return out


def swap_neurons(pop: Population, theta: Tensor, u: NodeId, v: NodeId) -> Tensor:
    """Every row of ``theta`` with neurons ``u`` and ``v`` exchanged: with ``pi`` swapping them, edge ``i -> j``
    takes the weight of ``pi(i) -> pi(j)`` (0 where the wiring has no such edge, e.g. ``v -> u`` for ``u -> v``),
    and each takes the other's bias. Exact when both have the same sources, targets and kind and no edge joins
    them; otherwise a start for a refit (bounds not checked: callers clip)."""
    pi = {u: v, v: u}
    topo = pop.topology
    out = theta.clone()
    for i, j in pop.edge_col:                # every edge (topo.edges would copy per access)
        if u not in (i, j) and v not in (i, j):
            continue
        pre = (pi.get(i, i), pi.get(j, j))
        out[:, pop.edge_col[(i, j)]] = theta[:, pop.edge_col[pre]] if pre in pop.edge_col else 0.0
    out[:, pop.col[u]], out[:, pop.col[v]] = theta[:, pop.col[v]], theta[:, pop.col[u]]
    return out


def region(topology: Topology, key: EdgeKey) -> Set[NodeId]:
    """The hidden neurons whose parameters shape the signal through edge ``key``: its ends and every hidden
    ancestor of its source and descendant of its target."""
    def walk(start: NodeId, step: Callable[[NodeId], List[NodeId]]) -> Set[NodeId]:
        seen: Set[NodeId] = set()
        todo = [start]
        while todo:
            for m in step(todo.pop()):
                if m not in seen:
                    seen.add(m)
                    todo.append(m)
        return seen
    src, dst = key
    nodes = {src, dst} | walk(src, topology.predecessors) | walk(dst, topology.successors)
    return {n for n in nodes if topology.nodes[n].role == "hidden"}


def crossover(pop: Population, base: Tensor, donor: Tensor, nodes: Iterable[NodeId]) -> Tensor:
    """``base`` (rows ``[M, P]``) with the incoming weights and bias of every neuron in ``nodes``, and the
    weights of the edges those neurons send, taken from ``donor`` (``[M, P]``)."""
    topo = pop.topology
    cols: Set[int] = set()
    for n in nodes:
        cols.add(pop.col[n])
        cols.update(pop.edge_col[(p, n)] for p in topo.predecessors(n))
        cols.update(pop.edge_col[(n, t)] for t in topo.successors(n))
    out = base.clone()
    idx = torch.tensor(sorted(cols), dtype=torch.long, device=base.device)
    out[:, idx] = donor[:, idx]
    return out
