"""mpnet.scale.population: per-topology initial draws, chunked training equal to one fit per chunk, read-back."""
import math

import pytest
import torch

import mpnet
from mpnet import sample
from mpnet.scale.population import init_weights, train_population, trained_arrays
from mpnet.search.evaluate import read_back
from mpnet.graph.topology import Edge, Node, Topology


def parity():
    bits = torch.tensor([[(i >> k) & 1 for k in range(3)] for i in range(8)])
    return bits.float() * 2 - 1, (bits.sum(1, keepdim=True) % 2).float()


def population(n=12):
    return [sample.random_dag(3, 1, 6, avg_in_degree=2.5, seed=s, activation=["tanh", "sigmoid", "relu"][s % 3])
            for s in range(n)]


def test_init_weights_draws_each_topology_from_its_own_stream():
    topos = population(6)
    whole = init_weights(topos, seed=3)
    assert init_weights(topos[2:5], seed=3, start=2) == whole[2:5]        # wherever it is cut
    assert init_weights(topos, seed=4) != whole
    for topo, drawn in zip(topos, whole):
        fan_in = {n: len(topo.predecessors(n)) for n in topo.nodes}
        for (src, dst), e in drawn.edges.items():
            assert e.weight is not None and abs(e.weight) <= 1 / math.sqrt(fan_in[dst])


def test_init_weights_keeps_given_weights_signs_and_frozen_edges():
    topo = Topology([Node("a", "input"), Node("b", "input"), Node("y", "output")],
                    [Edge("a", "y", sign="-"), Edge("b", "y", 0.25, trainable=False)])
    (drawn,) = init_weights([topo], seed=0)
    assert drawn.edges[("a", "y")].weight <= 0 and drawn.edges[("b", "y")].weight == 0.25
    full = Topology.from_edges([("a", "y", 1.0)], inputs=["a"], outputs=["y"])
    assert init_weights([full])[0] is full


def test_one_chunk_is_one_batched_fit():
    topos, (X, Y) = population(), parity()
    result = train_population(topos, X, Y, epochs=15, lr=0.05, seed=1, chunk_size=len(topos), dtype=torch.float64)
    net = mpnet.Network(init_weights(topos, seed=1), dtype=torch.float64)
    history = mpnet.fit(net, X, Y, epochs=15, lr=0.05, seed=1, progress=False)
    assert torch.equal(result.history, history)
    w, b = trained_arrays(net)
    assert (result.weights == w).all() and (result.biases == b).all()
    with torch.no_grad():
        assert torch.equal(result.loss, (net(X.double()) - Y.double()).pow(2).mean(dim=(1, 2)))
    for i in (0, 5, 11):
        assert result.topology(i) == read_back(net)[i].apply(topos[i])


def test_chunks_change_only_round_off_and_the_same_chunks_repeat_exactly():
    topos, (X, Y) = population(), parity()
    kw = dict(epochs=10, lr=0.05, seed=0, outputs=True)
    a = train_population(topos, X, Y, chunk_size=5, **kw)
    b = train_population(topos, X, Y, chunk_size=5, **kw)
    c = train_population(topos, X, Y, chunk_size=12, **kw)
    assert (a.weights == b.weights).all() and torch.equal(a.history, b.history) and torch.equal(a.outputs, b.outputs)
    assert a.history.shape == (10, 12) and a.loss.shape == (12,) and a.outputs.shape == (12, 8, 1)
    assert abs(a.weights - c.weights).max() < 1e-5 and torch.allclose(a.loss, c.loss, atol=1e-6)
    assert a.workers == [a.workers[0]] * 3       # three chunks, all in this process


def test_cross_entropy_targets_and_bad_arguments():
    topos = [sample.random_dag(3, 2, 5, seed=s) for s in range(4)]
    X, Y = parity()
    result = train_population(topos, X, Y[:, 0].long(), loss="cross_entropy", epochs=3, chunk_size=3)
    assert result.loss.shape == (4,) and torch.isfinite(result.loss).all()
    with pytest.raises(ValueError, match="empty population"):
        train_population([], X, Y)
    with pytest.raises(ValueError, match="chunk_size to be an int >= 1"):
        train_population(topos, X, Y, chunk_size=0)
    with pytest.raises(IndexError, match="Topology index 4 out of range: the population has 4 topologies"):
        result.topology(4)


# ------------------------------------------------------------------------------- hostile arguments
def _one():
    return Topology.from_edges([("x", "h", 0.5), ("h", "y", 1.0)], inputs=["x"], outputs=["y"])


@pytest.mark.parametrize("kw, match", [
    (dict(workers=0), r"Expected workers to be None \(train in this process\), an int >= 1 \(that many Ray "
                      r"workers\) or a RayPool of trainers \(got 0\)"),                # before any Ray import
    (dict(workers=True), r"Expected workers to be None .* \(got True\)"),
    (dict(workers=2.0), r"Expected workers to be None .* \(got 2.0"),
    (dict(chunk_size=True), r"Expected chunk_size to be an int >= 1 \(got True\)"),
    (dict(ray={"address": "auto"}), r"ray= configures the Ray workers that workers=N starts; workers=None trains "
                                    r"in this process"),
    (dict(epochs=10 ** 8), r"epochs=100000000 for 2 topologies asks for 2e\+08 loss values"),
    (dict(outputs="no"), r"Expected outputs to be True or False \(got 'no' \(a str\)\)"),
    (dict(seed=2 ** 64), r"Expected seed to be an int in"),
])
def test_train_population_names_a_bad_argument(kw, match):
    from mpnet.errors import ArgumentError
    with pytest.raises(ArgumentError, match=match):
        train_population([_one(), _one()], torch.rand(8, 1), torch.rand(8, 1), **{"epochs": 1, **kw})


def test_train_population_takes_a_list_of_topologies():
    from mpnet.errors import ArgumentError
    X, Y = torch.rand(8, 1), torch.rand(8, 1)
    with pytest.raises(ArgumentError, match=r"Expected topologies to be a list .* \(one topology\? pass "
                                            r"\[topology\]\)"):
        train_population(_one(), X, Y, epochs=1)
    with pytest.raises(ArgumentError, match=r"Expected topologies to be a list of Topology objects \(got 'ab'"):
        train_population("ab", X, Y, epochs=1)
    with pytest.raises(ArgumentError, match=r"item 1 is 5"):
        train_population([_one(), 5], X, Y, epochs=1)
    rec = Topology.from_edges([("x", "h", 0.5), ("h", "h", 0.1), ("h", "y", 1.0)], inputs=["x"], outputs=["y"],
                              recurrent=True)
    with pytest.raises(ArgumentError, match=r"share one network type: topology 0 is feedforward, topology 1 is "
                                            r"recurrent"):
        train_population([_one(), rec], torch.rand(8, 3, 1), Y, epochs=1)
    trained = train_population([_one()], X, Y, epochs=1)
    with pytest.raises(ArgumentError, match=r"Expected index to be an int \(got 'a' \(a str\)\)"):
        trained.topology("a")


def test_a_pool_handed_in_is_configured_already():
    from mpnet.errors import ArgumentError
    from mpnet.scale.ray_pool import RayPool
    pool = RayPool.__new__(RayPool)               # a pool object (no Ray needed: refused before it is used)
    X, Y = torch.rand(8, 1), torch.rand(8, 1)
    with pytest.raises(ArgumentError, match=r"device='cpu': a pool's workers train on their own device"):
        train_population([_one()], X, Y, epochs=1, workers=pool, device="cpu")
    with pytest.raises(ArgumentError, match=r"a pool handed in is configured already: drop ray="):
        train_population([_one()], X, Y, epochs=1, workers=pool, ray={"num_cpus": 2})
