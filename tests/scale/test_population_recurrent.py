"""mpnet.scale.population on recurrent, ctrnn and tied topologies with sequence targets: a population trained
together gives what each topology trained alone gives (float64), and the arguments of sequences are checked."""
import random

import pytest
import torch

import mpnet
from mpnet.errors import ArgumentError
from mpnet.graph.ties import Tie
from mpnet.graph.topology import Topology
from mpnet.scale.population import init_weights, train_population

f64 = torch.float64


def recurrent(seed, kind=True, n_hidden=4):
    """A random recurrent topology (self-loops and backward edges), weights unset, tanh/sigmoid neurons."""
    rng = random.Random(seed)
    hidden = [f"h{i}" for i in range(n_hidden)]
    edges = [(x, h) for x in ("x0", "x1") for h in hidden if rng.random() < 0.6]
    edges += [(a, b) for a in hidden for b in hidden if rng.random() < 0.35]
    edges += [(h, "y") for h in hidden if rng.random() < 0.7] or [(hidden[0], "y")]
    edges += [(hidden[0], hidden[0])] if (hidden[0], hidden[0]) not in edges else []
    taus = {h: round(rng.uniform(0.5, 2.0), 2) for h in hidden} if kind == "ctrnn" else None
    return Topology.from_edges(edges, inputs=["x0", "x1"], outputs=["y"], hidden=hidden,
                               activation=rng.choice(["tanh", "sigmoid"]), output_activation="identity",
                               recurrent=kind, time_constants=taus, warn=False)


def tied(seed):
    """A recurrent topology with a gap-junction-like group (+1 across, -1 on the self-loops) and a summed term."""
    rng = random.Random(seed)
    edges = [("x0", "a"), ("x1", "b"), ("a", "y"), ("b", "y"),
             {"src": "a", "dst": "b", "tie": "g"}, {"src": "b", "dst": "a", "tie": "g"},
             {"src": "a", "dst": "a", "tie": [("g", -1.0)]},
             {"src": "b", "dst": "b", "tie": [(None, 1.0), ("g", -1.0)]}]
    if rng.random() < 0.5:
        edges.append(("x0", "b"))
    return Topology.from_edges(edges, inputs=["x0", "x1"], outputs=["y"], activation="tanh", recurrent=True,
                               ties=[Tie("g", sign="+")], warn=False)


def sequences(n=10, steps=6, per_step=True):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(n, steps, 2, generator=g, dtype=f64)
    Y = torch.tanh(X.cumsum(1)[..., :1] * 0.5) if per_step else torch.tanh(X.sum(1)[:, :1] * 0.3)
    return X, Y


def one_by_one(topos, X, Y, seed, network=None, start=0, **fit_kw):
    """Each topology trained alone, as train_population draws it: history [epochs, T], nets."""
    nets, histories = [], []
    for i, topo in enumerate(topos):
        net = mpnet.Network(init_weights([topo], seed=seed, start=start + i), dtype=f64, **(network or {}))
        histories.append(mpnet.fit(net, X, Y, seed=seed, progress=False, **fit_kw))
        nets.append(net)
    return torch.cat(histories, 1), nets          # Network([topo]) is a batch of one: [epochs, 1] each


@pytest.mark.parametrize("per_step, batch_size", [(True, None), (False, 4)])
def test_recurrent_population_trains_as_each_topology_alone(per_step, batch_size):
    topos = [recurrent(s) for s in (1, 2, 3)]
    assert len({t.num_edges for t in topos}) > 1                 # three different wirings
    X, Y = sequences(per_step=per_step)
    kw = dict(epochs=12, lr=0.05, batch_size=batch_size)
    together = train_population(topos, X, Y, seed=4, dtype=f64, outputs=True, **kw)
    history, nets = one_by_one(topos, X, Y, 4, **kw)
    torch.testing.assert_close(together.history, history, rtol=1e-10, atol=1e-12)
    assert together.outputs.shape == (3, 10, 6, 1) and together.loss.shape == (3,)
    for i, net in enumerate(nets):
        with torch.no_grad():
            out = net(X.transpose(0, 1))[0].transpose(0, 1)          # [n, steps, 1]
        torch.testing.assert_close(together.outputs[i], out, rtol=1e-10, atol=1e-12)
        want = (out - Y).pow(2).mean() if per_step else (out[:, -1] - Y).pow(2).mean()
        assert together.loss[i].item() == pytest.approx(want.item(), rel=1e-10)
        back, alone = together.topology(i), net.topology(0)
        assert back.network_type == "recurrent" and back.edges.keys() == alone.edges.keys()
        for key, e in alone.edges.items():
            assert back.edges[key].weight == pytest.approx(e.weight, rel=1e-9, abs=1e-12)
        for n, node in alone.nodes.items():
            assert back.nodes[n].bias == pytest.approx(node.bias, rel=1e-9, abs=1e-12)
    assert not torch.equal(together.history[-1], together.history[0])   # it trained


def test_ctrnn_population_trains_as_each_alone_and_needs_its_integration():
    topos = [recurrent(s, "ctrnn") for s in (5, 6, 7)]
    X, Y = sequences(per_step=False)
    times = dict(advance_time=0.3, time_step=0.1)
    together = train_population(topos, X, Y, seed=1, dtype=f64, epochs=8, lr=0.05, chunk_size=2, **times)
    history, nets = one_by_one(topos, X, Y, 1, network=times, epochs=8, lr=0.05)
    torch.testing.assert_close(together.history, history, rtol=1e-10, atol=1e-12)
    back = together.topology(2)
    assert back.network_type == "ctrnn"
    assert [n.time_constant for n in back.nodes.values()] == [n.time_constant for n in topos[2].nodes.values()]
    with pytest.raises(ArgumentError, match=r"ctrnn topologies need advance_time= and time_step="):
        train_population(topos, X, Y, epochs=1)
    with pytest.raises(ArgumentError, match=r"advance_time and time_step are for ctrnn topologies; these are "
                                            r"recurrent"):
        train_population([recurrent(1)], X, Y, epochs=1, advance_time=1.0, time_step=0.5)
    with pytest.raises(ArgumentError, match=r"time_step"):
        train_population(topos, X, Y, epochs=1, advance_time=1.0, time_step=-0.5)


def test_tied_population_trains_as_each_alone_and_keeps_its_ties():
    topos = [tied(s) for s in range(3)]
    X, Y = sequences()
    together = train_population(topos, X, Y, seed=2, dtype=f64, epochs=10, lr=0.05)
    history, nets = one_by_one(topos, X, Y, 2, epochs=10, lr=0.05)
    torch.testing.assert_close(together.history, history, rtol=1e-10, atol=1e-12)
    for i, net in enumerate(nets):
        back, alone = together.topology(i), net.topology(0)
        assert back.ties.keys() == {"g"} and back.ties["g"].weight >= 0
        assert back.ties["g"].weight == pytest.approx(alone.ties["g"].weight, rel=1e-9)
        assert back.ties["g"].weight != topos[i].ties["g"].weight                     # drawn, then trained
        for key, e in alone.edges.items():
            assert (back.edges[key].weight is None) == (e.weight is None)              # tied: no own number
            if e.weight is not None:
                assert back.edges[key].weight == pytest.approx(e.weight, rel=1e-9, abs=1e-12)
        # read back and rebuilt, it computes what the trained network computes
        with torch.no_grad():
            torch.testing.assert_close(mpnet.Network(back, dtype=f64)(X.transpose(0, 1)), net(X.transpose(0, 1))[0])


def test_init_weights_draws_tie_groups_from_the_topology_stream():
    topo = tied(0)
    a, b = init_weights([topo, topo], seed=3)
    assert a.ties["g"].weight is not None and a.ties["g"].weight >= 0 and a != b      # own stream per position
    assert init_weights([topo], seed=3, start=1)[0] == b
    assert all(e.weight is None for e in a.edges.values() if e.tie == "g")         # tied edges take no draw


def test_sequence_class_targets_and_chunks_change_only_round_off():
    topos = [recurrent(s) for s in range(5)]
    X, _ = sequences()
    classes = (X[..., 0] > 0).long()                                  # [n, steps] a class per step
    kw = dict(loss="cross_entropy", epochs=5, lr=0.05, seed=0, dtype=f64)
    two = [mpnet.Topology.from_edges([(s, d) for s, d in t.edges] + [("h0", "z")], inputs=["x0", "x1"],
                                     outputs=["y", "z"], hidden=[f"h{i}" for i in range(4)], recurrent=True,
                                     activation="tanh", warn=False) for t in topos]
    a = train_population(two, X, classes, chunk_size=2, **kw)
    b = train_population(two, X, classes, chunk_size=5, **kw)
    assert a.loss.shape == (5,) and torch.isfinite(a.loss).all()
    torch.testing.assert_close(a.history, b.history, rtol=1e-10, atol=1e-12)


def test_one_data_set_per_topology_goes_to_its_topology():
    topos = [recurrent(s) for s in (1, 2, 3)]
    X, Y = sequences()
    Xs, Ys = torch.stack([X, -X, X * 0.5]), torch.stack([Y, Y * 0.3, -Y])     # [T, n, steps, ...]
    together = train_population(topos, Xs, Ys, seed=1, dtype=f64, epochs=6, lr=0.05, chunk_size=2, outputs=True)
    for i, topo in enumerate(topos):
        history, (net,) = one_by_one([topo], Xs[i], Ys[i], 1, start=i, epochs=6, lr=0.05)
        torch.testing.assert_close(together.history[:, i], history[:, 0], rtol=1e-10, atol=1e-12)
        history, _ = one_by_one([topo], X, Y, 1, start=i, epochs=6, lr=0.05)
        assert i == 0 or not torch.allclose(together.history[:, i], history[:, 0])   # not the shared data
    with pytest.raises(mpnet.errors.DataError, match=r"X and Y need one per topology of the population: 2 \(got X "
                                                     r"\[3, 10, 6, 2\], Y \[3, 10, 6, 1\]\)"):
        train_population(topos[:2], Xs, Ys, epochs=1)


def test_a_population_is_of_one_network_type():
    ff = Topology.from_edges([("x0", "y"), ("x1", "y")], inputs=["x0", "x1"], outputs=["y"])
    X, Y = sequences()
    with pytest.raises(ArgumentError, match=r"share one network type: topology 0 is recurrent, topology 2 is "
                                            r"feedforward \(train them as two populations\)"):
        train_population([recurrent(1), recurrent(2), ff], X, Y, epochs=1)
    with pytest.raises(ArgumentError, match=r"topology 1 is ctrnn"):
        train_population([recurrent(1), recurrent(2, "ctrnn")], X, Y, epochs=1)
