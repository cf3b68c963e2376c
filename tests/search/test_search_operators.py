"""mpnet.search.operators: every mutation keeps genomes valid; crossover and distance on hand-made genomes."""
import random
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mpnet import Topology
from mpnet.search import NEATConfig
from mpnet.search import operators as ops
from mpnet.search.genome import Genome, GenomeError, Innovations, check_genome

from test_search_genome import hand_genome

CFG = NEATConfig(activation_options=("sigmoid", "tanh", "relu", "sin"))

OPS = {
    "add_node": lambda g, innov, rng: ops.add_node(g, CFG, innov, rng),
    "add_connection": lambda g, innov, rng: ops.add_connection(g, CFG, innov, rng),
    "remove_connection": lambda g, innov, rng: ops.remove_connection(g, rng),
    "remove_node": lambda g, innov, rng: ops.remove_node(g, rng),
    "weights": lambda g, innov, rng: ops.mutate_weights(g, CFG, rng),
    "biases": lambda g, innov, rng: ops.mutate_biases(g, CFG, rng),
    "activation": lambda g, innov, rng: ops.mutate_activation(g, CFG, rng),
    "mutate": lambda g, innov, rng: ops.mutate(g, replace(CFG, add_node_rate=0.5, add_connection_rate=0.5,
                                                          remove_connection_rate=0.1, remove_node_rate=0.1,
                                                          activation_mutate_rate=0.5), innov, rng),
}


def assert_valid(g: Genome) -> None:
    """Acyclic over all genes, no duplicate edge or innovation, inputs without in-edges, signs kept, and the
    topology builds (mpnet validates it again)."""
    check_genome(g)
    topo = g.to_topology(CFG)
    assert topo.num_edges == g.num_enabled()
    for x in topo.inputs:
        assert topo.predecessors(x) == []
    assert len(set(topo.edges)) == topo.num_edges


def signed_start() -> Topology:
    """A start topology with fixed signs and a Dale neuron: mutation must keep all of them."""
    return Topology.from_edges([("a", "h", 0.5), ("b", "h", -0.5), ("h", "y", 1.0), ("a", "y", -1.0),
                                ("b", "z", -0.3)],
                               inputs=["a", "b"], outputs=["y", "z"], activation="sigmoid",
                               output_activation="sigmoid", signs={("a", "y"): "-"}, dale={"h": "+", "b": "-"})


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2 ** 32 - 1), steps=st.lists(st.sampled_from(sorted(OPS)), min_size=1, max_size=60),
       signed=st.booleans())
def test_random_mutations_keep_genomes_valid(seed, steps, signed):
    rng = random.Random(seed)
    if signed:
        innov = Innovations(2, 2)
        g = Genome.from_topology(0, signed_start(), CFG, innov, rng)
    else:
        innov = Innovations(3, 2)
        g = Genome.minimal(0, 3, 2, CFG, innov, rng)
    signs = {k: g.sign_of(c) for k, c in g.conns.items()}
    for name in steps:
        OPS[name](g, innov, rng)
        assert_valid(g)
    for k, sign in signs.items():   # fixed signs survive every mutation (while the gene does)
        if k in g.conns and sign is not None:
            assert g.sign_of(g.conns[k]) == sign


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2 ** 32 - 1), n=st.integers(1, 40))
def test_crossover_of_mutated_relatives_is_valid(seed, n):
    rng = random.Random(seed)
    innov = Innovations(2, 1)
    mom = Genome.minimal(0, 2, 1, CFG, innov, rng)
    dad = mom.copy(1)
    for _ in range(n):
        OPS["mutate"](mom, innov, rng)
        OPS["mutate"](dad, innov, rng)
    for fitter, other in ((mom, dad), (dad, mom)):
        child = ops.crossover(fitter, other, 2, CFG, rng)
        assert_valid(child)
        assert set(child.conns) == set(fitter.conns)      # the structure of the fitter parent
        assert ops.distance(child, fitter, CFG) >= 0


def test_add_node_splits_an_edge_like_the_paper():
    innov = Innovations(2, 1)
    g = hand_genome([(0, 2, 0.75, True)], innov=innov)
    assert ops.add_node(g, CFG, innov, random.Random(0))
    assert g.conns[(0, 2)].enabled is False
    assert g.conns[(0, 3)].weight == 1.0 and g.conns[(3, 2)].weight == 0.75
    assert g.nodes[3].activation == CFG.hidden_activation
    assert [g.conns[k].innovation for k in [(0, 2), (0, 3), (3, 2)]] == [0, 1, 2]
    # the same split in another genome makes the same neuron and innovation numbers
    h = hand_genome([(0, 2, -0.5, True)], innov=innov, key=1)
    ops.add_node(h, CFG, innov, random.Random(5))
    assert {k: c.innovation for k, c in h.conns.items()} == {k: c.innovation for k, c in g.conns.items()}
    assert not ops.add_node(hand_genome([(0, 2, 1.0, False)]), CFG, Innovations(2, 1), random.Random(0))


def test_add_node_out_of_a_dale_inhibitory_neuron_keeps_its_sign():
    innov = Innovations(1, 1)
    g = Genome.from_topology(0, Topology.from_edges([("x", "y", -0.5)], inputs=["x"], outputs=["y"],
                                                    dale={"x": "-"}), CFG, innov)
    ops.add_node(g, CFG, innov, random.Random(0))
    new = g.hidden()[0]
    assert g.conns[(0, new)].weight == -1.0
    check_genome(g)


def test_add_connection_never_closes_a_cycle():
    innov = Innovations(1, 1)
    # x0 -> h2 -> h3 -> y1 plus every other forward edge: only backward pairs remain
    g = hand_genome([(0, 2, 1, True), (2, 3, 1, True), (3, 1, 1, True), (0, 3, 1, True), (0, 1, 1, True),
                     (2, 1, 1, True)], hidden=[2, 3], n_inputs=1, n_outputs=1, innov=innov)
    for seed in range(50):
        assert not ops.add_connection(g, CFG, innov, random.Random(seed))
    check_genome(g)


def test_add_connection_re_enables_a_disabled_gene():
    innov = Innovations(1, 1)
    g = hand_genome([(0, 1, 1.0, False)], n_inputs=1, n_outputs=1, innov=innov)
    assert ops.add_connection(g, CFG, innov, random.Random(0))
    assert g.conns[(0, 1)].enabled and len(g.conns) == 1


def test_remove_node_takes_its_connections():
    g = hand_genome([(0, 2, 1, True), (0, 3, 1, True), (3, 2, 1, True), (1, 3, 1, True)], hidden=[3])
    assert ops.remove_node(g, random.Random(0))
    assert 3 not in g.nodes and list(g.conns) == [(0, 2)]
    assert not ops.remove_node(g, random.Random(0))
    assert ops.remove_connection(g, random.Random(0)) and not g.conns
    assert not ops.remove_connection(g, random.Random(0))


def test_weight_mutation_respects_signs_and_the_cap():
    cfg = replace(CFG, weight_perturb_power=100.0, weight_max=3.0)
    innov = Innovations(2, 1)
    g = Genome.from_topology(0, signed_start_for_cap(), cfg, innov)
    rng = random.Random(0)
    for _ in range(50):
        ops.mutate_weights(g, cfg, rng)
        ops.mutate_biases(g, cfg, rng)
        assert g.conns[(0, 2)].weight >= 0 and g.conns[(1, 2)].weight <= 0
        assert all(abs(c.weight) <= 3.0 for c in g.conns.values())
        assert all(abs(n.bias) <= 3.0 for n in g.nodes.values())


def signed_start_for_cap() -> Topology:
    return Topology.from_edges([("a", "y", 0.5), ("b", "y", -0.5)], inputs=["a", "b"], outputs=["y"],
                               signs={("a", "y"): "+", ("b", "y"): "-"})


def test_mutate_activation_draws_from_the_options():
    g = hand_genome([(0, 3, 1, True), (3, 2, 1, True)], hidden=[3])
    cfg = replace(CFG, activation_options=("gauss",))
    assert ops.mutate_activation(g, cfg, random.Random(0))
    assert g.nodes[3].activation == "gauss" and g.nodes[2].activation == "sigmoid"   # outputs keep theirs


# ------------------------------------------------------------------------------------------ crossover
def parents():
    """Two hand-made relatives. Innovations: 0 (0->2), 1 (1->2), 2 (0->3), 3 (3->2), 4 (1->3), 5 (0->4),
    6 (4->2). mom has 0-4 (1 disabled), dad has 0, 1, 2, 3, 5, 6 (3 disabled)."""
    innov = Innovations(2, 1)
    for pair in [(0, 2), (1, 2), (0, 3), (3, 2), (1, 3), (0, 4), (4, 2)]:
        innov.connection(*pair)
    mom = hand_genome([(0, 2, 1.0, True), (1, 2, 2.0, False), (0, 3, 3.0, True), (3, 2, 4.0, True),
                       (1, 3, 5.0, True)], hidden=[3], innov=innov, key=0)
    dad = hand_genome([(0, 2, -1.0, True), (1, 2, -2.0, True), (0, 3, -3.0, True), (3, 2, -4.0, False),
                       (0, 4, -6.0, True), (4, 2, -7.0, True)], hidden=[3, 4], innov=innov, key=1)
    mom.nodes[3].bias, dad.nodes[3].bias = 0.5, -0.5
    return mom, dad


def test_crossover_aligns_by_innovation():
    mom, dad = parents()
    seen = {k: set() for k in mom.conns}
    for seed in range(40):
        child = ops.crossover(mom, dad, 9, CFG, random.Random(seed))
        assert child.key == 9 and set(child.conns) == set(mom.conns) and set(child.nodes) == set(mom.nodes)
        for k, c in child.conns.items():
            seen[k].add(c.weight)
            assert c.innovation == mom.conns[k].innovation
    for k in [(0, 2), (1, 2), (0, 3), (3, 2)]:            # matching genes: from either parent
        assert seen[k] == {mom.conns[k].weight, dad.conns[k].weight}
    assert seen[(1, 3)] == {5.0}                           # disjoint gene of the fitter parent
    child = ops.crossover(dad, mom, 9, CFG, random.Random(0))
    assert set(child.conns) == set(dad.conns)              # excess genes 5, 6 come with the fitter dad


def test_crossover_disables_genes_disabled_in_either_parent():
    mom, dad = parents()
    always = ops.crossover(mom, dad, 9, replace(CFG, disable_inherit_rate=1.0), random.Random(0))
    assert not always.conns[(1, 2)].enabled and not always.conns[(3, 2)].enabled and always.conns[(0, 2)].enabled
    never = ops.crossover(mom, dad, 9, replace(CFG, disable_inherit_rate=0.0), random.Random(0))
    assert never.conns[(1, 2)].enabled and never.conns[(3, 2)].enabled
    rate = sum(not ops.crossover(mom, dad, 9, CFG, random.Random(s)).conns[(1, 2)].enabled for s in range(2000))
    assert 0.70 < rate / 2000 < 0.80                       # the paper's 75%


# ------------------------------------------------------------------------------------------- distance
def test_distance_counts_excess_disjoint_and_weights_by_hand():
    mom, dad = parents()
    # mom innovations {0,1,2,3,4}, dad {0,1,2,3,5,6}: matching 0-3; cut = min(4, 6) = 4
    # mom's 4 is disjoint (<= 4); dad's 5, 6 are excess (> 4)   => E = 2, D = 1
    # W: |1+1| + |2+2| + |3+3| + |4+4| = 20 over 4 connections, plus neuron 2 (bias 0 vs 0) and neuron 3
    # (|0.5 + 0.5| = 1): 21 over 6 matching genes
    expected = 1.0 * 2 + 1.0 * 1 + 0.4 * 21 / 6
    assert ops.distance(mom, dad, CFG) == pytest.approx(expected)
    assert ops.distance(dad, mom, CFG) == pytest.approx(expected)
    assert ops.distance(mom, mom, CFG) == 0.0
    # the paper's text normalisation: N = 6 genes once it reaches normalize_min_genes
    cfg = replace(CFG, normalize_min_genes=6)
    assert ops.distance(mom, dad, cfg) == pytest.approx(3 / 6 + 0.4 * 21 / 6)
    # a differing activation counts 1 in the mean difference
    dad.nodes[3].activation = "tanh"
    assert ops.distance(mom, dad, CFG) == pytest.approx(3 + 0.4 * 22 / 6)


# ------------------------------------------------------------------------------- recurrent genomes
RECURRENT = replace(CFG, feed_forward=False)


def test_without_feed_forward_add_connection_closes_cycles_and_self_loops():
    innov = Innovations(1, 1)
    g = hand_genome([(0, 2, 1, True), (2, 3, 1, True), (3, 1, 1, True), (0, 3, 1, True), (0, 1, 1, True),
                     (2, 1, 1, True)], hidden=[2, 3], n_inputs=1, n_outputs=1, innov=innov)
    rng = random.Random(0)
    while ops.add_connection(g, RECURRENT, innov, rng):   # until every allowed pair is present
        pass
    assert {(3, 2), (1, 2), (1, 3), (2, 2), (3, 3), (1, 1)} <= set(g.conns)   # backward pairs and self-loops
    assert not any(dst == 0 for _, dst in g.conns)                           # never into an input
    check_genome(g, acyclic=False)
    with pytest.raises(GenomeError, match="self-loop|cycle"):
        check_genome(g)
    topo = g.to_topology(RECURRENT)
    assert topo.network_type == "recurrent" and ("h2", "h2") in topo.edges


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2 ** 32 - 1), steps=st.lists(st.sampled_from(["add_node", "add_connection", "mutate",
                                                                          "remove_node"]), min_size=1, max_size=40))
def test_recurrent_mutations_and_crossover_keep_genomes_valid(seed, steps):
    rng = random.Random(seed)
    innov = Innovations(3, 2)
    cfg = replace(RECURRENT, add_node_rate=0.5, add_connection_rate=0.5, remove_node_rate=0.1)
    mom = Genome.minimal(0, 3, 2, cfg, innov, rng)
    dad = mom.copy(1)
    for name in steps:
        for g in (mom, dad):
            {"add_node": lambda: ops.add_node(g, cfg, innov, rng),
             "add_connection": lambda: ops.add_connection(g, cfg, innov, rng),
             "mutate": lambda: ops.mutate(g, cfg, innov, rng),
             "remove_node": lambda: ops.remove_node(g, rng)}[name]()
            check_genome(g, acyclic=False)
    child = ops.crossover(mom, dad, 2, cfg, rng)
    check_genome(child, acyclic=False)
    topo = child.to_topology(cfg)
    assert topo.num_edges == child.num_enabled() and topo.recurrent


def test_a_recurrent_start_topology_needs_a_recurrent_search():
    topo = Topology.from_edges([("x", "h", 0.5), ("h", "h", 0.5), ("h", "y", 1.0)], inputs=["x"], outputs=["y"],
                               activation="sigmoid", output_activation="sigmoid", recurrent=True)
    with pytest.raises(GenomeError, match="recurrent but the search is feed-forward; set feed_forward=False"):
        Genome.from_topology(0, topo, CFG, Innovations(1, 1))
    g = Genome.from_topology(0, topo, RECURRENT, Innovations(1, 1))
    check_genome(g, acyclic=False)
    back = g.to_topology(RECURRENT, input_names=["x"], output_names=["y"])
    assert back.recurrent and len(back.edges) == 3 and any(s == d for s, d in back.edges)
