"""NEAT's mutations on a :class:`~mpnet.search.breed.Pool`: add a neuron, add a connection (acyclic when
feed-forward), remove either, perturb or replace weights and biases, change an activation, each over every
genome drawn for it at once (search stage; torch on the CPU). Each follows its object twin in
:mod:`~mpnet.search.operators`.
"""
from dataclasses import replace
from typing import List, Tuple

import torch
from torch import Tensor

from .breed import ACT_INDEX, Pool, found, owners, ranges
from .config import NEATConfig
from .genome import Innovations

__all__ = ["mutate", "add_node", "add_connection", "remove_connection", "remove_node"]

_L = torch.long


def _pick(ptr: Tensor, eligible: Tensor, who: Tensor, gen: torch.Generator) -> Tuple[Tensor, Tensor]:
    """For each genome ``who[i]`` one uniformly drawn element among its ``eligible`` ones: ``(has, index)``."""
    idx = torch.nonzero(eligible).view(-1)
    seg = torch.searchsorted(ptr, idx, right=True) - 1
    count = torch.bincount(seg, minlength=len(ptr) - 1)
    first = torch.zeros(len(ptr), dtype=_L)
    torch.cumsum(count, 0, out=first[1:])
    n = count[who]
    k = (torch.rand(len(who), generator=gen, dtype=torch.float64) * n).long().clamp(max=(n - 1).clamp(min=0))
    has = n > 0
    return has, idx[(first[who] + k).clamp(max=max(len(idx) - 1, 0))] if len(idx) else torch.zeros_like(who)


def _numbers(innov: Innovations, src: Tensor, dst: Tensor) -> Tensor:
    """The innovation number of each pair ``(src, dst)`` (new pairs get new numbers, as the object path)."""
    if not len(src):
        return torch.zeros(0, dtype=_L)
    pairs, inverse = torch.unique(torch.stack([src, dst], 1), dim=0, return_inverse=True)
    first = torch.full((len(pairs),), len(src), dtype=_L).scatter_reduce_(0, inverse, torch.arange(len(src)), "amin")
    numbers = torch.zeros(len(pairs), dtype=_L)
    listed = pairs.tolist()
    for i in torch.argsort(first).tolist():         # new numbers in the order the pairs first arise
        numbers[i] = innov.connection(*listed[i])
    return numbers[inverse]


def add_node(pool: Pool, who: Tensor, config: NEATConfig, innov: Innovations,
             gen: torch.Generator) -> Tuple[Pool, Tensor]:
    """Genomes ``who`` split a random enabled connection each (:func:`mpnet.search.operators.add_node`).
    Returns the new pool and which of ``who`` grew."""
    has, chosen = _pick(pool.conn_ptr, pool.enabled, who, gen)
    who, chosen = who[has], chosen[has]
    if not len(who):
        return pool, has
    enabled = pool.enabled.clone()
    enabled[chosen] = False
    pool = replace(pool, enabled=enabled)
    numbers = pool.innov[chosen]
    firsts = {i: innov.split_node(i, {}) for i in torch.unique(numbers).tolist()}   # the key most genomes take
    new = torch.tensor([firsts[i] for i in numbers.tolist()], dtype=_L)
    taken, _ = pool.node_rows(who, new)
    for j in torch.nonzero(taken).view(-1).tolist():   # the genome split this gene before: the next key
        g = int(who[j])
        keys = dict.fromkeys(pool.node_key[pool.node_ptr[g]:pool.node_ptr[g + 1]].tolist())
        new[j] = innov.split_node(int(numbers[j]), keys)
    src, dst = pool.src[chosen], pool.dst[chosen]
    k = len(who)
    into, out = torch.cat([src, new]), torch.cat([new, dst])
    nodes = (who, new, torch.zeros(k, dtype=torch.float64), torch.full((k,), ACT_INDEX[config.hidden_activation]))
    weight = torch.cat([torch.ones(k, dtype=torch.float64), pool.weight[chosen]])
    conns = (torch.cat([who, who]), into, out, _numbers(innov, into, out), weight, torch.ones(2 * k, dtype=torch.bool))
    return pool.extended(nodes, conns), has


def _reaches(pool: Pool, g: Tensor, start: Tensor, goal: Tensor, srow: Tensor, drow: Tensor) -> Tensor:
    """``[Q]`` whether node row ``start[q]`` reaches node row ``goal[q]`` over every connection gene of genome
    ``g[q]`` (enabled or not; ``srow`` / ``drow``: the node rows of every gene's ends): a breadth-first search
    of all queries at once, one step per tensor pass."""
    nodes, q_node_ptr = ranges(pool.node_ptr, g)
    conns, q_conn_ptr = ranges(pool.conn_ptr, g)
    q_of = owners(q_conn_ptr)
    shift = q_node_ptr[:-1] - pool.node_ptr[g]            # a node row of genome g[q] -> its copy for query q
    s, d = srow[conns] + shift[q_of], drow[conns] + shift[q_of]
    reached = torch.zeros(len(nodes), dtype=torch.bool)
    reached[start + shift] = True
    for _ in range(len(nodes)):
        step = reached.clone()
        step[d[reached[s]]] = True
        if torch.equal(step, reached):
            break
        reached = step
    return reached[goal + shift]


def _pair_table(innov: Innovations, span: int) -> Tuple[Tensor, Tensor]:
    """Every numbered pair as a sorted code ``src * span + dst``, and its innovation number."""
    if not innov.connections:
        return torch.zeros(0, dtype=_L), torch.zeros(0, dtype=_L)
    pairs = torch.tensor(list(innov.connections), dtype=_L)
    numbers = torch.tensor(list(innov.connections.values()), dtype=_L)
    codes = pairs[:, 0] * span + pairs[:, 1]
    order = torch.argsort(codes)
    return codes[order], numbers[order]


def add_connection(pool: Pool, who: Tensor, config: NEATConfig, innov: Innovations,
                   gen: torch.Generator) -> Tuple[Pool, Tensor]:
    """Genomes ``who`` connect a random pair each (:func:`mpnet.search.operators.add_connection`): up to
    ``add_connection_tries`` draws of (any neuron, a non-input neuron); a pair whose gene exists and is disabled
    is re-enabled; a new pair must close no cycle over all genes when ``feed_forward``. Returns the new pool and
    which of ``who`` grew."""
    acyclic = config.feed_forward
    n_in = pool.n_inputs
    grew = torch.zeros(len(who), dtype=torch.bool)
    todo = torch.arange(len(who))
    enable: List[Tensor] = []
    new_rows: List[Tensor] = []
    new_pairs: List[Tensor] = []
    codes, span = pool.conn_codes()
    key_span = max(innov.next_node, int(pool.node_key.max()) + 1)
    table, numbers = _pair_table(innov, key_span)
    g_conn = owners(pool.conn_ptr)
    _, srow = pool.node_rows(g_conn, pool.src)
    _, drow = pool.node_rows(g_conn, pool.dst)
    for _ in range(config.add_connection_tries):
        if not len(todo):
            break
        g = who[todo]
        n = pool.node_ptr[g + 1] - pool.node_ptr[g]
        base = pool.node_ptr[g]
        u = torch.rand(2, len(g), generator=gen, dtype=torch.float64)
        a = base + (u[0] * n).long().clamp(max=n - 1)                          # any neuron
        b = base + n_in + (u[1] * (n - n_in)).long().clamp(max=n - n_in - 1)   # a non-input neuron
        src, dst = pool.node_key[a], pool.node_key[b]
        ok = src != dst if acyclic else torch.ones(len(g), dtype=torch.bool)
        named, at = found(table, src * key_span + dst)
        known = torch.where(named, numbers[at] if len(numbers) else at, -1)
        hit, pos = found(codes, g * span + known.clamp(min=0))
        hit &= named & (known < span)                  # a number past the pool's last is no gene here
        ok &= ~(hit & pool.enabled[pos])                 # the gene exists and is enabled: draw again
        reopen = ok & hit
        fresh = ok & ~hit
        if acyclic and fresh.any():
            f = torch.nonzero(fresh).view(-1)
            fresh[f] = ~_reaches(pool, g[f], b[f], a[f], srow, drow)
        enable.append(pos[reopen])
        new_rows.append(g[fresh])
        new_pairs.append(torch.stack([src, dst], 1)[fresh])
        done = reopen | fresh
        grew[todo[done]] = True
        todo = todo[~done]
    enabled = pool.enabled.clone()
    if enable:
        enabled[torch.cat(enable)] = True
    pool = replace(pool, enabled=enabled)
    rows = torch.cat(new_rows) if new_rows else who[:0]
    if len(rows):
        pairs = torch.cat(new_pairs)
        k = len(rows)
        weight = torch.randn(k, generator=gen, dtype=torch.float64) * config.weight_init_std
        nothing = (rows[:0], rows[:0], torch.zeros(0, dtype=torch.float64), rows[:0])
        pool = pool.extended(nothing, (rows, pairs[:, 0], pairs[:, 1], _numbers(innov, pairs[:, 0], pairs[:, 1]),
                                       weight, torch.ones(k, dtype=torch.bool)))
    return pool, grew


def remove_connection(pool: Pool, who: Tensor, gen: torch.Generator) -> Pool:
    """Genomes ``who`` lose a random connection gene each."""
    has, chosen = _pick(pool.conn_ptr, torch.ones(len(pool.src), dtype=torch.bool), who, gen)
    drop = torch.zeros(len(pool.src), dtype=torch.bool)
    drop[chosen[has]] = True
    return pool.without(torch.zeros(len(pool.node_key), dtype=torch.bool), drop)


def remove_node(pool: Pool, who: Tensor, gen: torch.Generator) -> Pool:
    """Genomes ``who`` lose a random hidden neuron each, with every connection gene touching it."""
    first = pool.n_inputs + pool.n_outputs
    has, chosen = _pick(pool.node_ptr, pool.node_key >= first, who, gen)
    if not has.any():
        return pool
    drop = torch.zeros(len(pool.node_key), dtype=torch.bool)
    drop[chosen[has]] = True
    g_conn = owners(pool.conn_ptr)
    _, srow = pool.node_rows(g_conn, pool.src)
    _, drow = pool.node_rows(g_conn, pool.dst)
    return pool.without(drop, drop[srow] | drop[drow])


def _perturbed(values: Tensor, replace_rate: float, power: float, config: NEATConfig,
               gen: torch.Generator) -> Tensor:
    """Each value replaced by a new draw (``replace_rate``) or perturbed by N(0, power), capped at weight_max."""
    u = torch.rand(len(values), generator=gen, dtype=torch.float64)
    z = torch.randn(len(values), generator=gen, dtype=torch.float64)
    new = torch.where(u < replace_rate, z * config.weight_init_std, values + z * power)
    return new.clamp(-config.weight_max, config.weight_max)


def mutate(pool: Pool, mutated: Tensor, config: NEATConfig, innov: Innovations, gen: torch.Generator) -> Pool:
    """The mutations of :func:`mpnet.search.operators.mutate` on the genomes flagged in ``mutated`` (``[P]``
    bool), each with its rate; with ``structural_exclusive`` a genome that gained a neuron or a connection
    gets no weight, bias or activation change."""
    P = len(pool)
    r = torch.rand(7, P, generator=gen, dtype=torch.float64)
    grew = torch.zeros(P, dtype=torch.bool)
    who = torch.nonzero(mutated & (r[0] < config.add_node_rate)).view(-1)
    if len(who):
        pool, has = add_node(pool, who, config, innov, gen)
        grew[who[has]] = True
    who = torch.nonzero(mutated & (r[1] < config.add_connection_rate)).view(-1)
    if len(who):
        pool, has = add_connection(pool, who, config, innov, gen)
        grew[who[has]] = True
    who = torch.nonzero(mutated & (r[2] < config.remove_connection_rate)).view(-1)
    if len(who):
        pool = remove_connection(pool, who, gen)
    who = torch.nonzero(mutated & (r[3] < config.remove_node_rate)).view(-1)
    if len(who):
        pool = remove_node(pool, who, gen)
    free = mutated & ~(grew & config.structural_exclusive)
    g_node, g_conn = pool.rows()
    weights = (free & (r[4] < config.weight_mutate_rate))[g_conn]
    if weights.any():
        w = pool.weight.clone()
        w[weights] = _perturbed(w[weights], config.weight_replace_rate, config.weight_perturb_power, config, gen)
        pool = replace(pool, weight=w)
    biases = (free & (r[5] < config.bias_mutate_rate))[g_node] & (pool.node_key >= pool.n_inputs)
    if biases.any():
        b = pool.bias.clone()
        b[biases] = _perturbed(b[biases], config.bias_replace_rate, config.bias_perturb_power, config, gen)
        pool = replace(pool, bias=b)
    who = torch.nonzero(free & (r[6] < config.activation_mutate_rate)).view(-1)
    if len(who):
        has, chosen = _pick(pool.node_ptr, pool.node_key >= pool.n_inputs + pool.n_outputs, who, gen)
        options = torch.tensor([ACT_INDEX[a] for a in config.activation_options], dtype=_L)
        act = pool.act.clone()
        act[chosen[has]] = options[torch.randint(len(options), (int(has.sum()),), generator=gen)]
        pool = replace(pool, act=act)
    return pool
