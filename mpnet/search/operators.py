"""NEAT's variation operators on :class:`~mpnet.search.genome.Genome`: mutations, crossover aligned by
innovation number, and the compatibility distance (search stage; pure Python, no torch).

Each operator takes the ``random.Random`` to draw from and changes only the genome it is given (crossover
returns a new one); all keep the invariants of :mod:`mpnet.search.genome`.
"""
import random
from bisect import bisect_right
from typing import Dict, List, Tuple

from .config import NEATConfig
from .genome import ConnGene, Genome, Innovations, NodeGene, _signed, creates_cycle

__all__ = ["mutate", "add_node", "add_connection", "remove_connection", "remove_node", "mutate_weights",
           "mutate_biases", "mutate_activation", "crossover", "distance", "genes", "distance_of"]


def _clamp(value: float, bound: float) -> float:
    return bound if value > bound else -bound if value < -bound else value


def add_node(g: Genome, config: NEATConfig, innov: Innovations, rng: random.Random) -> bool:
    """Split a random enabled connection ``a -> b``: the gene is disabled, a neuron ``n`` appears with
    ``a -> n`` of weight 1 (-1 out of a Dale '-' neuron) and ``n -> b`` with the old weight and sign (paper)."""
    enabled = [c for c in g.conns.values() if c.enabled]
    if not enabled:
        return False
    old = rng.choice(enabled)
    old.enabled = False
    new = innov.split_node(old.innovation, g.nodes)
    g.nodes[new] = NodeGene(new, config.hidden_activation, 0.0)
    into = -1.0 if g.nodes[old.src].dale == "-" else 1.0
    g.conns[(old.src, new)] = ConnGene(old.src, new, innov.connection(old.src, new), into)
    g.conns[(new, old.dst)] = ConnGene(new, old.dst, innov.connection(new, old.dst), old.weight, True, old.sign)
    return True


def add_connection(g: Genome, config: NEATConfig, innov: Innovations, rng: random.Random) -> bool:
    """Connect a random pair ``src -> dst`` (``dst`` not an input) that closes no cycle over all genes (unless
    ``config.feed_forward`` is False: then any pair, a self-loop included), with a weight ~ N(0,
    weight_init_std) (and the fixed sign the start topology gave this pair, if any); a picked pair whose gene
    is disabled is re-enabled instead. Gives up after ``add_connection_tries`` draws (the genome may be
    complete)."""
    sources = list(g.nodes)
    targets = [k for k in sources if not g.is_input(k)]
    acyclic = config.feed_forward
    for _ in range(config.add_connection_tries):
        src, dst = rng.choice(sources), rng.choice(targets)
        if src == dst and acyclic:
            continue
        existing = g.conns.get((src, dst))
        if existing is not None:
            if existing.enabled:
                continue
            existing.enabled = True
            return True
        if acyclic and creates_cycle(g.conns, (src, dst)):
            continue
        sign = innov.signs.get((src, dst))
        weight = _signed(rng.gauss(0.0, config.weight_init_std), sign or g.nodes[src].dale)
        g.conns[(src, dst)] = ConnGene(src, dst, innov.connection(src, dst), weight, True, sign)
        return True
    return False


def remove_connection(g: Genome, rng: random.Random) -> bool:
    """Delete a random connection gene (its neurons stay, possibly off every path)."""
    if not g.conns:
        return False
    del g.conns[rng.choice(list(g.conns))]
    return True


def remove_node(g: Genome, rng: random.Random) -> bool:
    """Delete a random hidden neuron and every connection gene touching it."""
    hidden = g.hidden()
    if not hidden:
        return False
    node = rng.choice(hidden)
    del g.nodes[node]
    g.conns = {k: c for k, c in g.conns.items() if node not in k}
    return True


def mutate_weights(g: Genome, config: NEATConfig, rng: random.Random) -> None:
    """Each connection weight: replaced by a new draw (``weight_replace_rate``) or perturbed by
    N(0, ``weight_perturb_power``); then capped at ``weight_max`` and reflected onto its fixed sign."""
    for c in g.conns.values():
        if rng.random() < config.weight_replace_rate:
            w = rng.gauss(0.0, config.weight_init_std)
        else:
            w = c.weight + rng.gauss(0.0, config.weight_perturb_power)
        c.weight = _signed(_clamp(w, config.weight_max), g.sign_of(c))


def mutate_biases(g: Genome, config: NEATConfig, rng: random.Random) -> None:
    """Each non-input neuron's bias, as :func:`mutate_weights` with the ``bias_*`` numbers."""
    for k, node in g.nodes.items():
        if not g.is_input(k):
            if rng.random() < config.bias_replace_rate:
                b = rng.gauss(0.0, config.weight_init_std)
            else:
                b = node.bias + rng.gauss(0.0, config.bias_perturb_power)
            node.bias = _clamp(b, config.weight_max)


def mutate_activation(g: Genome, config: NEATConfig, rng: random.Random) -> bool:
    """Give one random hidden neuron an activation drawn from ``activation_options``."""
    hidden = g.hidden()
    if not hidden:
        return False
    g.nodes[rng.choice(hidden)].activation = rng.choice(config.activation_options)
    return True


def mutate(g: Genome, config: NEATConfig, innov: Innovations, rng: random.Random) -> None:
    """One offspring's mutations, each with its rate; with ``structural_exclusive`` an offspring that gained
    a neuron or a connection gets no weight, bias or activation change (as in NEAT's C++ release)."""
    grew = False
    if rng.random() < config.add_node_rate:
        grew = add_node(g, config, innov, rng)
    if rng.random() < config.add_connection_rate:
        grew = add_connection(g, config, innov, rng) or grew
    if rng.random() < config.remove_connection_rate:
        remove_connection(g, rng)
    if rng.random() < config.remove_node_rate:
        remove_node(g, rng)
    if grew and config.structural_exclusive:
        return
    if rng.random() < config.weight_mutate_rate:
        mutate_weights(g, config, rng)
    if rng.random() < config.bias_mutate_rate:
        mutate_biases(g, config, rng)
    if rng.random() < config.activation_mutate_rate:
        mutate_activation(g, config, rng)


def crossover(fitter: Genome, other: Genome, key: int, config: NEATConfig, rng: random.Random) -> Genome:
    """A child aligned by innovation number (paper, section 3.2): matching genes take their weight from
    either parent at random, disjoint and excess genes come from the fitter parent, so the child has exactly
    the fitter parent's structure (and stays acyclic if it was). A gene disabled in either parent is disabled with
    probability ``disable_inherit_rate``; matching neurons take bias and activation from either parent."""
    child = Genome(key, fitter.n_inputs, fitter.n_outputs)
    by_innovation = {c.innovation: c for c in other.conns.values()}
    for k, node in fitter.nodes.items():
        twin = other.nodes.get(k)
        pick = node if twin is None or rng.random() < 0.5 else twin
        child.nodes[k] = NodeGene(k, pick.activation, pick.bias, node.dale)
    for key_, gene in fitter.conns.items():
        match = by_innovation.get(gene.innovation)
        if match is None:
            child.conns[key_] = ConnGene(gene.src, gene.dst, gene.innovation, gene.weight, gene.enabled, gene.sign)
            continue
        weight = gene.weight if rng.random() < 0.5 else match.weight
        enabled = True
        if not (gene.enabled and match.enabled):
            enabled = rng.random() >= config.disable_inherit_rate
        conn = ConnGene(gene.src, gene.dst, gene.innovation, weight, enabled, gene.sign)
        conn.weight = _signed(weight, child.sign_of(conn))
        child.conns[key_] = conn
    return child


def distance(a: Genome, b: Genome, config: NEATConfig) -> float:
    """NEAT's compatibility distance ``c1 E / N + c2 D / N + c3 W`` (paper, eq. 1).

    Connection genes are aligned by innovation number: ``E`` counts genes past the other genome's highest
    innovation, ``D`` the other unmatched ones, ``N`` is the larger gene count once it reaches
    ``normalize_min_genes``, else 1. ``W`` is the mean difference over matching genes: weights of matching
    connections, and biases of matching neurons (the paper's biases were weights from a bias input) plus 1
    where their activations differ.
    """
    return distance_of(genes(a), genes(b), config)


Genes = Tuple[Dict[int, float], List[int], Dict[int, Tuple[float, str]]]


def genes(g: Genome) -> Genes:
    """What :func:`distance` reads of a genome: ``({innovation: weight}, sorted innovations,
    {neuron: (bias, activation)})``; compute it once per genome when comparing many pairs."""
    conns = {c.innovation: c.weight for c in g.conns.values()}
    first = g.n_inputs
    return conns, sorted(conns), {k: (n.bias, n.activation) for k, n in g.nodes.items() if k >= first}


def distance_of(a: Genes, b: Genes, config: NEATConfig) -> float:
    """:func:`distance` between two :func:`genes` views."""
    wa, sa, na = a
    wb, sb, nb = b
    common = wa.keys() & wb.keys()
    unmatched = len(wa) + len(wb) - 2 * len(common)
    # excess genes lie past the smaller of the two highest innovations; only the other genome has any
    if sa and sb:
        longer, cut = (sa, sb[-1]) if sa[-1] > sb[-1] else (sb, sa[-1])
        excess = len(longer) - bisect_right(longer, cut)
    else:
        excess = len(sa) + len(sb)
    diff = sum(abs(wa[n] - wb[n]) for n in common)
    matching = len(common)
    for k in na.keys() & nb.keys():
        (bias_a, act_a), (bias_b, act_b) = na[k], nb[k]
        diff += abs(bias_a - bias_b) + (act_a != act_b)
        matching += 1
    size = max(len(wa), len(wb))
    limit = config.normalize_min_genes
    norm = size if limit is not None and size >= limit else 1
    mean_diff = diff / matching if matching else 0.0
    return (config.excess_coefficient * excess + config.disjoint_coefficient * (unmatched - excess)) / norm \
        + config.weight_coefficient * mean_diff
