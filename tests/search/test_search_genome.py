"""mpnet.search.genome: genes, innovation numbers, conversion to and from Topology, the invariant checker."""
import json
import math
import random

import pytest

from mpnet import Topology
from mpnet.search import NEATConfig
from mpnet.search.genome import (ConnGene, Genome, GenomeError, Innovations, NodeGene, Weights, check_genome,
                                 creates_cycle)
from mpnet.testing import reference_forward

CFG = NEATConfig()


def hand_genome(conns, hidden=(), n_inputs=2, n_outputs=1, key=0, innov=None):
    """A genome from ``[(src, dst, weight, enabled)]``; innovation numbers from ``innov`` (a fresh registry)."""
    innov = innov or Innovations(n_inputs, n_outputs)
    g = Genome(key, n_inputs, n_outputs)
    for k in range(n_inputs):
        g.nodes[k] = NodeGene(k, "identity")
    for k in list(range(n_inputs, n_inputs + n_outputs)) + list(hidden):
        g.nodes[k] = NodeGene(k, "sigmoid", 0.0)
    for src, dst, w, enabled in conns:
        g.conns[(src, dst)] = ConnGene(src, dst, innov.connection(src, dst), w, enabled)
    return g


@pytest.mark.parametrize("edges, new, expected", [
    ([(0, 1), (1, 2)], (2, 0), True),
    ([(0, 1), (1, 2)], (0, 2), False),
    ([(0, 1), (1, 2)], (1, 1), True),
    ([], (0, 1), False),
    ([(0, 1), (2, 3)], (3, 0), False),
    ([(0, 1), (1, 2), (2, 3)], (3, 1), True),
])
def test_creates_cycle(edges, new, expected):
    assert creates_cycle(edges, new) is expected


def test_minimal_genome_is_neats_start():
    innov = Innovations(3, 2)
    g = Genome.minimal(0, 3, 2, CFG, innov, random.Random(0))
    check_genome(g)
    assert sorted(g.conns) == [(i, o) for i in range(3) for o in (3, 4)]
    assert g.hidden() == []
    # a second genome gets the same innovation numbers for the same connections
    h = Genome.minimal(1, 3, 2, CFG, innov, random.Random(1))
    assert {k: c.innovation for k, c in g.conns.items()} == {k: c.innovation for k, c in h.conns.items()}


def test_to_topology_computes_the_papers_steepened_sigmoid():
    g = hand_genome([(0, 3, 0.7, True), (1, 3, -1.2, True), (3, 2, 2.0, True), (0, 2, 0.5, True),
                     (1, 2, 0.3, False)], hidden=[3])
    g.nodes[3].bias, g.nodes[2].bias = 0.25, -0.5
    topo = g.to_topology(CFG)
    assert topo.inputs == ("x0", "x1") and topo.outputs == ("y0",)
    assert ("x1", "y0") not in topo.edges              # disabled gene: no edge
    assert topo.edges[("h3", "y0")].weight == pytest.approx(4.9 * 2.0)

    def neat(x0, x1):   # the paper's network, by hand
        s = lambda z: 1 / (1 + math.exp(-4.9 * z))
        h = s(0.7 * x0 - 1.2 * x1 + 0.25)
        return s(2.0 * h + 0.5 * x0 - 0.5)
    xs = [[0, 0], [0, 1], [1, 0], [1, 1], [0.3, -0.7]]
    got = reference_forward(topo, xs)
    for x, y in zip(xs, got):
        assert y[0] == pytest.approx(neat(*x), abs=1e-12)


def test_from_topology_round_trip_keeps_signs_and_dale():
    topo = Topology.from_edges([("a", "h", 0.5), ("b", "h", -0.25), ("h", "out", 1.5), ("a", "out", -2.0)],
                               inputs=["a", "b"], outputs=["out"], activation="tanh", output_activation="sigmoid",
                               signs={("a", "out"): "-"}, dale={"h": "+"}, biases={"h": 0.1, "out": -0.3})
    innov = Innovations(2, 1)
    g = Genome.from_topology(0, topo, CFG, innov)
    check_genome(g)
    back = g.to_topology(CFG, input_names=["a", "b"], output_names=["out"])
    assert back.edges[("a", "h3")].weight == pytest.approx(0.5)                # tanh: gain 1
    assert back.edges[("h3", "out")].weight == pytest.approx(1.5)             # sigmoid: w/4.9 then *4.9
    assert back.edges[("a", "out")].sign == "-" and back.edges[("h3", "out")].sign == "+"
    assert back.nodes["h3"].dale == "+" and back.nodes["out"].bias == pytest.approx(-0.3)
    # every genome built from the same start shares its hidden keys
    assert Genome.from_topology(1, topo, CFG, innov).nodes.keys() == g.nodes.keys()


def test_from_topology_rejects_what_neat_cannot_mutate():
    frozen = Topology.from_edges([("x", "y", 1.0)], inputs=["x"], outputs=["y"], frozen=[("x", "y")])
    with pytest.raises(GenomeError, match="frozen"):
        Genome.from_topology(0, frozen, CFG, Innovations(1, 1))
    maxed = Topology.from_edges([("x", "y", 1.0)], inputs=["x"], outputs=["y"], aggregation="max")
    with pytest.raises(GenomeError, match="aggregates with 'max'"):
        Genome.from_topology(0, maxed, CFG, Innovations(1, 1))


def test_set_weights_writes_back_by_connection_key():
    g = hand_genome([(0, 2, 1.0, True), (1, 2, 1.0, True), (0, 3, 0.5, True), (3, 2, 0.5, True),
                     (1, 3, 9.0, False)], hidden=[3])
    topo = g.to_topology(CFG)
    trained = topo.with_weights({("x0", "y0"): 4.9 * 3.0, ("h3", "y0"): -4.9}, {"h3": 4.9 * 0.2})
    g.set_weights(trained, CFG)
    assert g.conns[(0, 2)].weight == pytest.approx(3.0) and g.conns[(3, 2)].weight == pytest.approx(-1.0)
    assert g.nodes[3].bias == pytest.approx(0.2)
    assert g.conns[(1, 3)].weight == 9.0          # disabled gene untouched
    g.set_weights(Weights({("x0", "y0"): 4.9, ("x1", "y0"): 0.0, ("x0", "h3"): 0.0, ("h3", "y0"): 0.0},
                          {"y0": 0.0, "h3": 0.0}), CFG)
    assert g.conns[(0, 2)].weight == pytest.approx(1.0)
    with pytest.raises(GenomeError, match="no trained weight for edge 'x0' -> 'y0'"):
        g.set_weights(Weights({}, {}), CFG)


def test_weights_of_topology_apply_round_trip():
    topo = Topology.from_edges([("x", "y", 0.5)], inputs=["x"], outputs=["y"], biases={"y": 0.25})
    w = Weights.of(topo)
    assert w == Weights({("x", "y"): 0.5}, {"y": 0.25})
    assert w.apply(topo) == topo
    assert Weights.from_dict(json.loads(json.dumps(w.to_dict()))) == w


def test_genome_dict_round_trip_is_exact():
    g = hand_genome([(0, 2, 0.1 + 0.2, True), (1, 2, -1e-17, False)])
    g.nodes[2].bias = 1 / 3
    g.fitness = 3.25
    back = Genome.from_dict(json.loads(json.dumps(g.to_dict())))
    assert back.to_dict() == g.to_dict()


def test_innovations_share_split_nodes_and_round_trip():
    innov = Innovations(2, 1)
    n = innov.connection(0, 2)
    assert innov.connection(0, 2) == n and innov.connection(1, 2) == n + 1
    first = innov.split_node(n, {0: None, 1: None, 2: None})
    assert innov.split_node(n, {}) == first                       # same split elsewhere: same neuron
    assert innov.split_node(n, {first: None}) != first            # a genome that has it gets another
    back = Innovations.from_dict(json.loads(json.dumps(innov.to_dict())))
    assert back.to_dict() == innov.to_dict()


@pytest.mark.parametrize("breakage, message", [
    (lambda g: g.conns.update({(2, 3): ConnGene(2, 3, 90, 1.0), (3, 2): ConnGene(3, 2, 91, 1.0)}), "cycle"),
    (lambda g: g.conns.update({(2, 0): ConnGene(2, 0, 90, 1.0)}), "ends in input 0"),
    (lambda g: g.conns.update({(1, 3): ConnGene(1, 3, 0, 1.0)}), "innovation number 0 appears twice"),
    (lambda g: g.conns.update({(1, 7): ConnGene(1, 7, 90, 1.0)}), "names a neuron the genome lacks"),
    (lambda g: g.nodes.pop(2), "lacks output neuron 2"),
    (lambda g: setattr(g.conns[(0, 2)], "sign", "+"), "has sign '\\+' but weight -1.0"),
    (lambda g: g.conns.update({(3, 3): ConnGene(3, 3, 90, 1.0)}), "self-loop"),
    (lambda g: setattr(g.nodes[3], "bias", float("nan")), "bias nan"),
])
def test_check_genome_names_each_broken_invariant(breakage, message):
    g = hand_genome([(0, 2, -1.0, True), (0, 3, 1.0, True), (3, 2, 1.0, True)], hidden=[3])
    check_genome(g)
    breakage(g)
    with pytest.raises(GenomeError, match=message):
        check_genome(g)


def test_repr():
    g = hand_genome([(0, 2, 1.0, True), (1, 2, 1.0, False)])
    assert repr(g) == "Genome(key=0, hidden=0, conns=1/2 enabled, fitness=None)"
