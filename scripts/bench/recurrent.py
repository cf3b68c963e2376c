"""The recurrent rows of scripts/bench.py (``--recurrent-only`` runs just these): mpnet's recurrent networks
beside neat-python's ``RecurrentNetwork``, the same topology (neat's tanh, sum) and the same input sequences;
neat-python steps one sample at a time (``activate`` per step), mpnet the whole batch per step."""
import random
from typing import Callable, Dict, List, Tuple

import neat
import torch

import mpnet

from peers import Case, check, forward_backward, no_grad
from report import Row, Target

RECURRENT_STEPS = 50


def recurrent_graph(seed: int = 0) -> mpnet.Topology:
    """500 neurons (10 inputs, 480 hidden, 10 outputs), 6,000 distinct random edges, self-loops and cycles
    included, weights N(0, 0.1): with neat's tanh(2.5 z) and 12 inputs a neuron, a gain below 1, so the
    dynamics contract and float32 stays within 1e-4 of neat-python's float64 over 50 steps."""
    rng = random.Random(seed)
    ids = [f"x{i}" for i in range(10)] + [f"h{i}" for i in range(480)] + [f"y{i}" for i in range(10)]
    edges: Dict[Tuple[str, str], float] = {}
    while len(edges) < 6000:
        edges.setdefault((rng.choice(ids), rng.choice(ids[10:])), rng.gauss(0.0, 0.1))
    biases = {n: rng.gauss(0.0, 0.1) for n in ids[10:]}
    return mpnet.Topology.from_edges([(s, d, w) for (s, d), w in edges.items()], inputs=ids[:10], outputs=ids[-10:],
                                     activation="neat.tanh", output_activation="neat.tanh", biases=biases,
                                     recurrent=True, warn=False)


def recurrent_genomes(count: int) -> List[mpnet.Topology]:
    """NEAT-sized recurrent genomes: 2 inputs, 7 hidden, 1 output, ~25 edges each, cycles and self-loops."""
    out = []
    for s in range(count):
        rng = random.Random(s)
        ids = ["x0", "x1"] + [f"h{i}" for i in range(7)] + ["y"]
        edges: Dict[Tuple[str, str], float] = {}
        while len(edges) < 25:
            edges.setdefault((rng.choice(ids), rng.choice(ids[2:])), rng.gauss(0.0, 0.3))
        out.append(mpnet.Topology.from_edges([(a, b, w) for (a, b), w in edges.items()], inputs=ids[:2],
                                             outputs=["y"], activation="neat.tanh", output_activation="neat.tanh",
                                             biases={n: rng.gauss(0.0, 0.1) for n in ids[2:]}, hidden=ids[2:-1],
                                             recurrent=True, warn=False))
    return out


def to_neat_recurrent(topo: mpnet.Topology) -> neat.nn.RecurrentNetwork:
    """neat-python's RecurrentNetwork of the same topology (int keys; neat's tanh and sum)."""
    key = {n: i for i, n in enumerate(topo.nodes)}
    tanh, add = neat.activations.tanh_activation, neat.aggregations.sum_aggregation
    evals = [(key[n], tanh, add, node.bias, node.response, [(key[s], topo.edges[(s, n)].weight)
                                                            for s in topo.predecessors(n)])
             for n, node in topo.nodes.items() if node.role != "input" and topo.predecessors(n)]
    return neat.nn.RecurrentNetwork([key[n] for n in topo.inputs], [key[n] for n in topo.outputs], evals)


def neat_sequences(nets: List[neat.nn.RecurrentNetwork], xs: List[List[List[float]]]) -> List:
    """Each net on each sequence from a reset state: ``[net][sample][step][output]``."""
    out = []
    for net in nets:
        per = []
        for seq in xs:
            net.reset()
            per.append([net.activate(x) for x in seq])
        out.append(per)
    return out


def bench_recurrent(cfg, time_round_robin: Callable) -> Tuple[List[Row], List[str]]:
    """The 500-neuron / 6,000-edge recurrent graph and a population of small recurrent genomes, 50 steps,
    timed by bench.py's ``time_round_robin`` (default threads and one thread, repeats interleaved)."""
    S = RECURRENT_STEPS
    rows, infos = [], []
    # --- one big recurrent graph
    topo, batch = recurrent_graph(), 256
    net = mpnet.Network(topo)
    x = torch.randn(S, batch, len(topo.inputs))                                 # [steps, batch, n_in]
    with torch.no_grad():
        ref = net(x)                                                           # [steps, batch, n_out]
    seqs = x.transpose(0, 1).tolist()                                          # [batch][steps][n_in]
    nrn = to_neat_recurrent(topo)
    check(torch.tensor(neat_sequences([nrn], seqs[:2])[0]).transpose(0, 1), ref[:, :2], "neat-python recurrent")
    k = min(batch, max(2, cfg.neat_budget // (topo.num_edges * S)))
    cases = [Case(f"mpnet, {S} steps", "fwd", no_grad(lambda: net(x))),
             Case(f"mpnet, {S} steps", "fwd+bwd", forward_backward(net, x)),
             Case(f"neat-python RecurrentNetwork ({k} of {batch} samples, scaled)", "fwd",
                  lambda: neat_sequences([nrn], seqs[:k]), batch / k, slow=True)]
    secs = time_round_robin(cases, cfg)
    name = "recurrent-6k"
    ref_t = {"fwd": secs[0]["default"], "fwd+bwd": secs[1]["default"]}
    rows += [Row(name, c.label, c.kind, _ms(t), topo.num_edges * batch * S, t["default"] / ref_t[c.kind])
             for c, t in zip(cases, secs)]
    infos.append(f"{name}: {topo.num_nodes} neurons, {topo.num_edges:,} edges (cycles, self-loops), {S} steps, "
                 f"batch {batch}; fwd+bwd / fwd = {secs[1]['default'] / secs[0]['default']:.2f}")
    # --- a population of small recurrent genomes, one batched Network
    population = cfg.populations[0]
    topos = recurrent_genomes(population)
    pop, pb = mpnet.Network(topos), 64
    xp = torch.randn(S, pb, 2)
    with torch.no_grad():
        refp = pop(xp)                                                         # [P, steps, batch, 1]
    seqs = xp.transpose(0, 1).tolist()
    nets = [to_neat_recurrent(t) for t in topos]
    for i in range(0, population, max(1, population // 5)):
        check(torch.tensor(neat_sequences([nets[i]], seqs[:2])[0]).transpose(0, 1), refp[i, :, :2],
              f"neat-python recurrent genome {i}")
    kp = min(pb, max(1, cfg.neat_budget // (sum(t.num_edges for t in topos) * S)))
    cases = [Case(f"mpnet, one batched Network, {S} steps", "fwd", no_grad(lambda: pop(xp))),
             Case(f"neat-python, loop over {population} nets ({kp} of {pb} samples, scaled)", "fwd",
                  lambda: neat_sequences(nets, seqs[:kp]), pb / kp, slow=True)]
    secs = time_round_robin(cases, cfg)
    edges = sum(t.num_edges for t in topos)
    name = f"recurrent population x{population}"
    rows += [Row(name, c.label, c.kind, _ms(t), edges * pb * S, t["default"] / secs[0]["default"])
             for c, t in zip(cases, secs)]
    infos.append(f"{name}: {population} genomes, {edges:,} edges in all, {S} steps, batch {pb}")
    return rows, infos


def _ms(times: Dict[str, float]) -> Dict[str, float]:
    return {k: v * 1e3 for k, v in times.items()}


def targets(rows: List[Row]) -> List[Target]:
    """The recurrent targets, read from the rows of :func:`bench_recurrent`."""
    big = [r for r in rows if r.graph == "recurrent-6k"]
    fwd, fb = (next(r for r in big if r.label.startswith("mpnet") and r.kind == k) for k in ("fwd", "fwd+bwd"))
    neat_big = next(r for r in big if r.label.startswith("neat"))
    neat_pop = next(r for r in rows if r.graph.startswith("recurrent population") and r.label.startswith("neat"))
    return [Target("recurrent-6k: mpnet fwd >= 100x neat-python RecurrentNetwork", neat_big.ratio, 100, True),
            Target(f"{neat_pop.graph}: mpnet >= 200x neat-python", neat_pop.ratio, 200, True),
            Target(f"recurrent-6k: fwd+bwd through {RECURRENT_STEPS} steps <= 3x {RECURRENT_STEPS} forward steps",
                   fb.ms["default"] / fwd.ms["default"], 3, False)]
