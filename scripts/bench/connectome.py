"""The C. elegans connectome rows of scripts/bench.py: mpnet tied, mpnet untied, neat-python's RecurrentNetwork."""
import copy
import math
from typing import Callable, List, Tuple

import neat
import torch

import mpnet

from peers import Case, check, forward_backward, no_grad
from recurrent import neat_sequences
from report import Row

CONNECTOME_STEPS, CONNECTOME_BATCH = 100, 64


def untied(topo: mpnet.Topology, net: mpnet.Network) -> mpnet.Topology:
    """The same network with every edge's effective weight (ties summed) written in and no ties."""
    w = dict(zip([k[1:] for k in net.edge_keys], net.weight.detach().double().tolist()))
    edges = [mpnet.Edge(e.src, e.dst, w[k]) for k, e in topo.edges.items()]
    return mpnet.Topology(list(topo.nodes.values()), edges, recurrent=True, warn=False)


def bench_connectome(cfg, time_round_robin: Callable) -> Tuple[List[Row], str]:
    """The shipped C. elegans connectome (302 tanh neurons, chemical synapses with transmitter signs, gap junctions
    as tied conductances), 100 steps, batch 64: mpnet tied, mpnet with the same weights untied, neat-python's
    RecurrentNetwork on the same wiring and weights (math.tanh, sum; ties expanded, as neat has none), timed by
    bench.py's ``time_round_robin`` (default threads and one thread, repeats interleaved)."""
    from mpnet import connectome
    S, B = CONNECTOME_STEPS, CONNECTOME_BATCH
    topo = connectome.transmitter_signs(connectome.load())
    net = mpnet.Network(topo, seed=0)
    flat = untied(topo, net)
    plain = mpnet.Network(flat)
    x = torch.randn(S, B, len(topo.inputs)) * 0.5                              # [steps, batch, n_in]
    with torch.no_grad():
        ref = net(x)                                                           # [steps, batch, n_out]
    check(plain(x).detach(), ref, "mpnet untied")
    key = {n: i for i, n in enumerate(flat.nodes)}
    evals = [(key[n], math.tanh, neat.aggregations.sum_aggregation, node.bias, node.response,
              [(key[s], flat.edges[(s, n)].weight) for s in flat.predecessors(n)])
             for n, node in flat.nodes.items() if node.role != "input" and flat.predecessors(n)]
    nrn = neat.nn.RecurrentNetwork([key[n] for n in flat.inputs], [key[n] for n in flat.outputs], evals)
    seqs = x.transpose(0, 1).tolist()
    # neat-python computes in float64: compare it with mpnet in float64 (float32 drifts by ~1e-4 over 100 steps
    # of this 302-neuron loop, more than the check allows)
    with torch.no_grad():
        ref64 = copy.deepcopy(net).double()(x.double())
    check(torch.tensor(neat_sequences([nrn], seqs[:2])[0]).transpose(0, 1), ref64[:, :2], "neat-python connectome")
    k = min(B, max(2, cfg.neat_budget // (topo.num_edges * S)))
    cases = [Case(f"mpnet, {len(topo.ties):,} tied conductances", "fwd", no_grad(lambda: net(x))),
             Case(f"mpnet, {len(topo.ties):,} tied conductances", "fwd+bwd", forward_backward(net, x)),
             Case("mpnet, same weights untied", "fwd", no_grad(lambda: plain(x))),
             Case("mpnet, same weights untied", "fwd+bwd", forward_backward(plain, x)),
             Case(f"neat-python RecurrentNetwork ({k} of {B} samples, scaled)", "fwd",
                  lambda: neat_sequences([nrn], seqs[:k]), B / k, slow=True)]
    secs = time_round_robin(cases, cfg)
    ref_t = {"fwd": secs[0]["default"], "fwd+bwd": secs[1]["default"]}
    name = "C. elegans connectome"
    rows = [Row(name, c.label, c.kind, {s: v * 1e3 for s, v in t.items()}, topo.num_edges * B * S,
                t["default"] / ref_t[c.kind]) for c, t in zip(cases, secs)]
    fwd, fb, nt = (secs[i]["default"] for i in (0, 1, 4))
    info = (f"{name}: {topo.num_nodes - len(topo.inputs)} neurons + {len(topo.inputs)} stimulus inputs, "
            f"{topo.num_edges:,} edges (chemical, gap-junction and gap self-terms), {S} steps, batch {B}; "
            f"steps/s: fwd {S / fwd:,.0f}, fwd+bwd {S / fb:,.0f}, neat-python fwd {S / nt:,.1f}")
    return rows, info
