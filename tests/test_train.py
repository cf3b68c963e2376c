"""fit: losses, optimizers, mini-batches, seeding, batched per-topology histories."""
import pytest
import torch

import mpnet
import mpnet.sample
from mpnet.examples import question_network, question_task
from mpnet.testing import random_topology


def test_fit_question_network_learns_its_task():
    X, Y = question_task()
    net = mpnet.Network(question_network())
    history = mpnet.fit(net, X, Y, loss="mse", epochs=60, lr=0.02, batch_size=64, progress=False)
    assert history.shape == (60,)
    assert history[-1] < 0.05 * Y.var()


def test_fit_is_seeded():
    X, Y = question_task(n=128)
    runs = []
    for _ in range(2):
        net = mpnet.Network(question_network())
        runs.append(mpnet.fit(net, X, Y, epochs=5, batch_size=16, seed=7, progress=False))
    assert torch.equal(runs[0], runs[1])
    net = mpnet.Network(question_network())
    assert not torch.equal(runs[0], mpnet.fit(net, X, Y, epochs=5, batch_size=16, seed=8, progress=False))


@pytest.mark.parametrize("loss", ["bce", "cross_entropy"])
def test_classification_losses(loss):
    torch.manual_seed(0)
    X = torch.randn(200, 3)
    label = (X[:, 0] + X[:, 1] > 0).long()
    n_out = 1 if loss == "bce" else 2
    topo = mpnet.sample.layered([3, 6, n_out], density=1.0, seed=0, activation="tanh")
    net = mpnet.Network(topo, seed=0)
    Y = label.float().unsqueeze(1) if loss == "bce" else label
    history = mpnet.fit(net, X, Y, loss=loss, epochs=80, lr=0.05, progress=False)
    assert history[-1] < history[0]
    pred = net(X)
    guess = (pred[:, 0] > 0).long() if loss == "bce" else pred.argmax(1)
    assert (guess == label).float().mean() > 0.8


def test_callable_loss_and_optimizer_choices():
    X, Y = question_task(n=64)
    net = mpnet.Network(question_network())
    h = mpnet.fit(net, X, Y, loss=lambda p, t: (p - t).abs().mean(), epochs=3, optimizer="sgd", lr=0.01,
                  progress=False)
    assert h.shape == (3,)
    net = mpnet.Network(question_network())
    opt = torch.optim.RMSprop(net.parameters(), lr=0.01)
    h = mpnet.fit(net, X, Y, epochs=3, optimizer=opt, progress=False)
    assert torch.isfinite(h).all()
    with pytest.raises(ValueError, match=r'Invalid optimizer "bogus". Must be one of'):
        mpnet.fit(net, X, Y, optimizer="bogus")
    with pytest.raises(ValueError, match=r'Invalid loss "l7". Must be one of'):
        mpnet.fit(net, X, Y, loss="l7")
    with pytest.raises(ValueError, match="X has 64 samples but Y has shape"):
        mpnet.fit(net, X, Y[:10])
    with pytest.raises(ValueError, match=r"Expected Y with 1 column\(s\), one per network output \(got shape \[64, 2\]\)"):
        mpnet.fit(net, X, torch.cat([Y, Y], 1))
    with pytest.raises(ValueError, match=r"Expected X with 2 column\(s\), one per network input"):
        mpnet.fit(net, torch.cat([X, X], 1), Y)


def test_batched_fit_equals_training_each_alone():
    topos = [random_topology(s, n_hidden=4, aggregations=["sum", "mean"], p_frozen=0) for s in range(6)]
    X = torch.randn(40, 3, dtype=torch.float64)
    Y = torch.randn(40, 2, dtype=torch.float64)
    nets = mpnet.Network(topos, dtype=torch.float64, seed=0)
    hist = mpnet.fit(nets, X, Y, epochs=15, lr=0.01, progress=False)
    assert hist.shape == (15, 6)
    for i in (0, 3, 5):
        alone = mpnet.Network(topos[i], dtype=torch.float64, seed=0)
        h = mpnet.fit(alone, X, Y, epochs=15, lr=0.01, progress=False)
        torch.testing.assert_close(hist[:, i], h, rtol=1e-9, atol=1e-12)
        got, want = nets.topology(i), alone.to_topology()
        for key, edge in want.edges.items():
            assert got.edges[key].weight == pytest.approx(edge.weight, rel=1e-9, abs=1e-12)


# ------------------------------------------------------------------------------------------ sequences
def _parity_task(n=128, steps=5, seed=0):
    """Running sign product of the inputs, a task a recurrent net needs its memory for."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, steps, 1, generator=g).sign()
    return X, X.cumprod(1)


def test_fit_sequences_last_step_only_and_per_step_targets():
    X, Y = _parity_task()
    topo = mpnet.sample.layered([1, 4, 1], density=1.0, seed=0, activation="tanh")
    topo = mpnet.Topology(list(topo.nodes.values()),
                          list(topo.edges.values()) + [mpnet.Edge(h, h) for h in topo.nodes
                                                       if topo.nodes[h].role == "hidden"], recurrent=True)
    for target in (Y, Y[:, -1], Y[:, -1, 0]):
        net = mpnet.Network(topo, seed=0)
        history = mpnet.fit(net, X, target, epochs=40, lr=0.05, batch_size=32, progress=False)
        assert history.shape == (40,) and history[-1] < history[0]


def test_fit_batched_sequences_each_topology_its_own_data():
    topos = [random_topology(s, n_inputs=2, n_outputs=1, n_hidden=3, p_edge=0.5, activations=["tanh"],
                             aggregations=["sum"], recurrent=True, p_frozen=0.0) for s in range(4)]
    X = torch.randn(4, 32, 3, 2, generator=torch.Generator().manual_seed(1))
    Y = X.sum(-1, keepdim=True).tanh()
    net = mpnet.Network(topos, seed=0)
    history = mpnet.fit(net, X, Y, epochs=30, lr=0.05, progress=False)
    assert history.shape == (30, 4) and (history[-1] <= history[0]).all() and (history[-1] < history[0]).sum() >= 3
    # the same as training each alone (no two topologies share a parameter): start from the same weights
    alone = mpnet.Network(mpnet.Network(topos, seed=0).topology(2))
    torch.testing.assert_close(mpnet.fit(alone, X[2], Y[2], epochs=30, lr=0.05, progress=False), history[:, 2],
                               rtol=1e-4, atol=1e-6)


def test_fit_sequences_cross_entropy_per_step():
    X, Y = _parity_task(n=64, steps=4)
    topo = random_topology(0, n_inputs=1, n_outputs=2, n_hidden=4, p_edge=0.6, activations=["tanh"],
                           aggregations=["sum"], recurrent=True, p_frozen=0.0)
    net = mpnet.Network(topo, seed=0)
    label = (Y[..., 0] > 0).long()                                             # [n, steps]
    history = mpnet.fit(net, X, label, loss="cross_entropy", epochs=20, lr=0.05, progress=False)
    assert history[-1] < history[0]
    mpnet.fit(net, X, label[:, -1], loss="cross_entropy", epochs=2, progress=False)   # last step only


def test_fit_sequences_shape_errors():
    topo = random_topology(0, n_inputs=1, n_outputs=1, n_hidden=2, recurrent=True)
    net = mpnet.Network(topo)
    X = torch.randn(8, 3, 1)
    with pytest.raises(ValueError, match=r"Expected X of shape \[n, steps, 1\] for a recurrent network.*got shape "
                                         r"\[8, 1\]"):
        mpnet.fit(net, X[:, 0], X[:, 0], epochs=1, progress=False)
    with pytest.raises(ValueError, match=r"Expected Y of shape \[8, 3, 1\] \(a target per step\) or \[8, 1\] "
                                         r"\(the last step only\).*got \[8, 4, 1\]"):
        mpnet.fit(net, X, torch.zeros(8, 4, 1), epochs=1, progress=False)
