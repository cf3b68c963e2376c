"""mpnet.testing: the slow references themselves, checked against literal tables and against neat-python's
own RecurrentNetwork and CTRNN on hundreds of random recurrent genomes (neat-python's own mutation code)."""
import math
import random

import pytest

from mpnet import Topology
from mpnet.testing import CTRNNReferenceState, reference_ctrnn, reference_recurrent
from mpnet.graph.topology import AGGREGATIONS, NEAT_ACTIVATIONS

from recurrent_genomes import close, make_config, neat, neat_advance, neat_run, random_genomes, random_sequence


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    return make_config(tmp_path_factory.mktemp("neat"))


def ramp(n):
    return [[float(t + 1)] for t in range(n)]


# ------------------------------------------------------------------------------------- literal tables
def test_self_loop_accumulates_and_inputs_are_read_at_the_current_step():
    topo = Topology.from_edges([("x", "h", 1.0), ("h", "h", 1.0), ("h", "y", 1.0), ("x", "y", 10.0)],
                               inputs=["x"], outputs=["y"], activation="identity", recurrent=True)
    out, value = reference_recurrent(topo, ramp(4))
    # h(t) = h(t-1) + x(t): 1, 3, 6, 10; y(t) = h(t-1) + 10 x(t)
    assert out == [[10.0], [21.0], [33.0], [46.0]]
    assert value == {"x": 4.0, "h": 10.0, "y": 46.0}


def test_a_chain_delays_by_one_step_per_edge_and_an_edgeless_neuron_keeps_its_value():
    topo = Topology.from_edges([("x", "a", 1.0), ("a", "y", 1.0), ("b", "y", 1.0)], inputs=["x"], outputs=["y"],
                               activation="identity", biases={"b": 5.0, "a": 0.0}, recurrent=True, warn=False)
    out, _ = reference_recurrent(topo, ramp(3))
    assert out == [[0.0], [1.0], [2.0]]                      # b (no incoming edge) stays 0, bias or not
    out, _ = reference_recurrent(topo, ramp(3), state={"b": 0.5, "a": 7.0})
    assert out == [[7.5], [1.5], [2.5]]


def test_ctrnn_blends_the_older_buffer_and_returns_it():
    # one identity neuron fed 1: neat's two-buffer update y(s) = y(s-2) + dt/tau (1 - y(s-2)); steps of
    # 0.03 for an advance of 0.1: 0.03, 0.03, 0.03, 0.01 (the clock's round-off decides the last one)
    topo = Topology.from_edges([("x", "y", 1.0)], inputs=["x"], outputs=["y"], recurrent="ctrnn")
    out, state = reference_ctrnn(topo, [[1.0]], advance_time=0.1, time_step=0.03)
    y, clock = [0.0, 0.0], 0.0
    for _ in range(4):
        dt = min(0.03, 0.1 - clock)
        y.append(y[-2] + dt * (1.0 - y[-2]))
        clock += dt
    assert 0.1 - 0.09 != 0.01 and clock == 0.1
    assert out == [[y[-2]]] and state.value["y"] == y[-1] and state.previous["y"] == y[-2]
    assert y[2:] == pytest.approx([0.03, 0.03, 0.0591, 0.0397], abs=1e-15)
    out, again = reference_ctrnn(topo, [[1.0]], 0.0, 0.03, state=state)   # no time: nothing moves
    assert out == [[y[-2]]] and again == state


# ------------------------------------------------------------------------------------- against neat
def _coverage(topos):
    computed = [n for t in topos for n in t.nodes.values() if n.role != "input" and t.predecessors(n.id)]
    assert {n.activation for n in computed} == set(NEAT_ACTIVATIONS)
    assert {n.aggregation for n in computed} == set(AGGREGATIONS)
    assert sum(any(a == b for a, b in t.edges) for t in topos) > len(topos) // 4        # self-loops
    assert any(not t.predecessors(n) for t in topos for n in t.nodes if t.nodes[n].role != "input")


def test_hundreds_of_recurrent_genomes_step_like_neat(config):
    """Every step from neat's own state (teacher forcing: no round-off carried over), every node."""
    genomes = random_genomes(config, 300, seed=1)
    topos = [Topology.from_neat_genome(g, config, warn=False) for g in genomes]
    _coverage(topos)
    rng = random.Random(0)
    compared = 0
    for genome, topo in zip(genomes, topos):
        net = neat.nn.RecurrentNetwork.create(genome, config)
        for x in random_sequence(rng, 8):
            before = dict(net.values[net.active])
            try:
                net.activate(x)
            except OverflowError:   # neat's z ** 3 raising where a float overflows
                break
            _, value = reference_recurrent(topo, [x], state=before)
            for node, want in net.values[net.active].items():
                assert close(want, value[node], 1e-9), (genome.key, node, want, value[node])
                compared += 1
    assert compared > 15000


def test_free_running_sequences_equal_neat_where_round_off_does_not_grow(config):
    genomes = random_genomes(config, 200, seed=2)
    rng = random.Random(1)
    runs = 0
    for genome in genomes:
        topo = Topology.from_neat_genome(genome, config, warn=False)
        seq = random_sequence(rng, 10)
        ours, _ = reference_recurrent(topo, seq)
        nudged, _ = reference_recurrent(topo, [[v * (1 + 1e-13) for v in x] for x in seq])
        if any(not close(a, b, 1e-10) for o, p in zip(ours, nudged) for a, b in zip(o, p)):
            continue   # chaotic: a 1e-13 nudge grows past 1e-10, so summation order would too
        want = neat_run(neat.nn.RecurrentNetwork.create(genome, config), seq)
        for w, o in zip(want, ours):
            assert all(close(a, b, 1e-9) for a, b in zip(w, o)), (genome.key, w, o)
        runs += 1
    assert runs > 150


@pytest.mark.parametrize("advance_time, time_step", [(0.1, 0.03), (0.05, 0.05), (0.2, 0.07)])
def test_hundreds_of_ctrnn_genomes_advance_like_neat(config, advance_time, time_step):
    genomes = random_genomes(config, 150, seed=3)
    topos = [Topology.from_neat_genome(g, config, warn=False, network_type="ctrnn") for g in genomes]
    assert len({n.time_constant for t in topos for n in t.nodes.values()}) > 100
    rng = random.Random(2)
    compared = 0
    for genome, topo in zip(genomes, topos):
        net = neat.ctrnn.CTRNN.create(genome, config)
        for x in random_sequence(rng, 5):
            state = CTRNNReferenceState(dict(net.values[net.active]), dict(net.values[1 - net.active]),
                                        net.time_seconds)
            try:
                want = net.advance(x, advance_time, time_step)
            except OverflowError:
                break
            out, after = reference_ctrnn(topo, [x], advance_time, time_step, state=state)
            assert all(close(a, b, 1e-9) for a, b in zip(want, out[0]))
            assert after.time == net.time_seconds
            for node, w in net.values[net.active].items():
                assert close(w, after.value[node], 1e-9)
                compared += 1
    assert compared > 3000


def test_ctrnn_free_running_with_a_clock_that_does_not_divide(config):
    genomes = random_genomes(config, 40, seed=4, max_mutations=8)
    rng = random.Random(3)
    for genome in genomes:
        topo = Topology.from_neat_genome(genome, config, warn=False, network_type="ctrnn")
        seq = random_sequence(rng, 6, scale=1.0)
        want = neat_advance(neat.ctrnn.CTRNN.create(genome, config), seq, 0.1, 0.03)
        ours, _ = reference_ctrnn(topo, seq, 0.1, 0.03)
        for w, o in zip(want, ours):
            assert all(close(a, b, 1e-8) or math.isnan(a) for a, b in zip(w, o)), (genome.key, w, o)
