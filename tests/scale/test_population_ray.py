"""mpnet.scale.population on Ray workers: recurrent and tied populations give what this process gives, bit for bit;
workers=N keeps its workers for the next call; a pool handed in (the search's evaluator's too) is used as it is."""
import os

import pytest
import torch

ray = pytest.importorskip("ray")

from mpnet.errors import ArgumentError                                           # noqa: E402
from mpnet.scale.population import train_population                              # noqa: E402
from mpnet.scale.population_ray import Trainer, kept_pools, release_workers      # noqa: E402
from mpnet.scale.ray_pool import RayPool                                         # noqa: E402

from test_population_recurrent import recurrent, sequences, tied                 # noqa: E402

pytestmark = pytest.mark.slow      # they start Ray workers (the cluster itself is one per session)


@pytest.fixture
def released():
    release_workers()
    yield
    release_workers()


def population():
    return [recurrent(s) for s in range(5)] + [tied(s) for s in range(2)]


def test_recurrent_population_on_workers_is_the_one_trained_here(ray_cluster, released):
    topos, (X, Y) = population(), sequences()
    kw = dict(epochs=6, lr=0.05, seed=3, chunk_size=2, outputs=True, dtype=torch.float64, batch_size=4)
    here = train_population(topos, X, Y, **kw)
    there = train_population(topos, X, Y, workers=2, **kw)
    assert (here.weights == there.weights).all() and (here.biases == there.biases).all()
    assert torch.equal(here.history, there.history) and torch.equal(here.loss, there.loss)
    assert torch.equal(here.outputs, there.outputs)
    assert there.topology(6) == here.topology(6) and there.topology(6).ties == here.topology(6).ties   # tied
    assert os.getpid() not in there.workers
    (pool,) = kept_pools()
    again = train_population(topos, X, Y, workers=2, **kw)          # the same workers, not new ones
    assert kept_pools() == [pool] and len(set(there.workers) | set(again.workers)) <= 2   # no new processes
    assert torch.equal(again.history, here.history)
    assert release_workers() == 1 and kept_pools() == []


def test_ctrnn_population_on_a_pool_handed_in(ray_cluster, released):
    topos, (X, Y) = [recurrent(s, "ctrnn") for s in range(4)], sequences(per_step=False)
    kw = dict(epochs=4, lr=0.05, seed=1, chunk_size=3, dtype=torch.float64, advance_time=0.2, time_step=0.1)
    here = train_population(topos, X, Y, **kw)
    Xs, Ys = torch.stack([X, -X, X, 2 * X]), torch.stack([Y, Y, -Y, Y])     # one data set per topology
    own_here = train_population(topos, Xs, Ys, **kw)
    with RayPool(Trainer, 1, args=("float32", "cpu", 1)) as pool:   # its dtype is a default: each call names its own
        there = train_population(topos, X, Y, workers=pool, **kw)
        own_there = train_population(topos, Xs, Ys, workers=pool, **kw)
        assert pool.workers and kept_pools() == []                  # left running, none started
    assert (here.weights == there.weights).all() and torch.equal(here.history, there.history)
    assert (own_here.weights == own_there.weights).all() and torch.equal(own_here.history, own_there.history)
    assert not torch.equal(own_here.history, here.history)


def test_a_pool_that_cannot_train_is_named(ray_cluster, foreign_module):
    X, Y = sequences()
    with RayPool(foreign_module.Echo, 1) as pool:
        with pytest.raises(ArgumentError, match=r"its actors have no 'train' method"):
            train_population([recurrent(1)], X, Y, epochs=1, workers=pool)
    with pytest.raises(ArgumentError, match=r"has no live worker left"):
        train_population([recurrent(1)], X, Y, epochs=1, workers=pool)      # closed


def test_the_search_evaluators_pool_trains_a_population(ray_cluster, released):
    from mpnet.search import RayEvaluator
    topos, (X, Y) = population()[:3], sequences()
    kw = dict(epochs=3, lr=0.05, seed=2, chunk_size=2, dtype=torch.float64)
    evaluator = RayEvaluator(1)
    try:
        there = train_population(topos, X, Y, workers=evaluator.pool, **kw)
    finally:
        evaluator.close()
    assert torch.equal(there.history, train_population(topos, X, Y, **kw).history)
