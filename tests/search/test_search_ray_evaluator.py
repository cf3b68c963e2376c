"""mpnet.search.RayEvaluator: a user's own task, the same search for 1, 2 and 3 workers (float32 and float64),
a worker killed mid-generation, chunks handed to whichever worker is free; and a population trained on Ray."""
import os

import pytest
import torch

ray = pytest.importorskip("ray")

from mpnet import sample                                                      # noqa: E402
from mpnet.scale.population import train_population                                 # noqa: E402
from mpnet.search import NEAT, Finetune, LocalEvaluator, RayEvaluator, run, tasks  # noqa: E402
from mpnet.search.history import Record                                       # noqa: E402

pytestmark = pytest.mark.slow      # they start Ray workers (the cluster itself is one per session)


def search(evaluator, task, generations=3, seed=5):
    """A short Lamarckian NEAT run; its history without the timings, and its best topology."""
    algo = NEAT(2, 1, population=40, seed=seed, add_node_rate=0.4, add_connection_rate=0.5,
                output_activation="sigmoid")
    result = run(algo, task, generations, finetune=Finetune(steps=4), evaluator=evaluator, progress=False,
                 stop_when_solved=False)
    rows = [{k: v for k, v in row.items() if k not in Record.TIMINGS} for row in result.history.to_dicts()]
    return rows, result.best.topology


@pytest.fixture(scope="module")
def two_workers(ray_cluster):
    """Two float32 workers, chunks of 10, shared by the tests below (starting workers is the slow part)."""
    with RayEvaluator(2, chunk_size=10) as evaluator:
        yield evaluator


def test_a_users_task_gives_the_same_search_on_1_2_and_3_workers_as_locally(two_workers, foreign_module):
    task = foreign_module.HalfXOR()                # defined where no worker can import it
    local = search(LocalEvaluator(chunk_size=10), task)
    assert max(r["best_fitness"] for r in local[0]) <= 2.0     # halved: the user's evaluate ran
    assert search(two_workers, task) == local
    assert len(two_workers.last_workers) == 4 and os.getpid() not in two_workers.last_workers
    for workers in (1, 3):
        with RayEvaluator(workers, chunk_size=10) as evaluator:
            assert search(evaluator, task) == local, workers
            assert 1 <= len(set(evaluator.last_workers)) <= workers   # who took which chunk varies; not the result


def test_float64_searches_agree_too(ray_cluster):
    local = search(LocalEvaluator(torch.float64, chunk_size=7), tasks.XOR(), seed=2)
    with RayEvaluator(2, dtype=torch.float64, chunk_size=7) as evaluator:
        assert search(evaluator, tasks.XOR(), seed=2) == local


def test_a_worker_killed_mid_generation_is_restarted_and_its_chunk_retried(two_workers, foreign_module, tmp_path):
    marker = tmp_path / "died"
    task = foreign_module.DieOnce(marker=str(marker), die_at=1)   # the first worker at generation 1 dies
    before = set(two_workers.last_workers)
    got = search(two_workers, task)
    assert marker.exists() and set(two_workers.last_workers) - before    # a new process took over
    assert got == search(LocalEvaluator(chunk_size=10), tasks.XOR())


def test_chunks_go_to_whichever_worker_is_free(two_workers, foreign_module, tmp_path):
    topologies = NEAT(2, 1, population=80, seed=0).ask()         # 8 chunks of 10
    task = foreign_module.SlowOnce(marker=str(tmp_path / "slow"), seconds=4.0)
    assert two_workers.pool.wait_started() == 2
    ev = two_workers.evaluate(task, topologies)                  # the first chunk anywhere takes 4 s longer
    counts = [two_workers.last_workers.count(pid) for pid in set(two_workers.last_workers)]
    assert sorted(counts) in ([1, 7], [2, 6]), two_workers.last_workers   # the other worker did the rest
    assert ev.fitness == LocalEvaluator(chunk_size=10).evaluate(tasks.XOR(), topologies).fitness
    assert {"ship", "wait", "collect", "compile", "forward"} <= set(ev.timings)


def test_a_population_trained_on_ray_workers_equals_one_trained_here(ray_cluster):
    topos = [sample.random_dag(3, 1, 6, avg_in_degree=2.5, seed=s, activation=["tanh", "sigmoid", "gelu"][s % 3])
             for s in range(30)]
    bits = torch.tensor([[(i >> k) & 1 for k in range(3)] for i in range(8)])
    X, Y = bits.float() * 2 - 1, (bits.sum(1, keepdim=True) % 2).float()
    kw = dict(epochs=20, lr=0.05, seed=3, chunk_size=8, outputs=True)
    here = train_population(topos, X, Y, **kw)
    there = train_population(topos, X, Y, workers=2, **kw)
    assert (here.weights == there.weights).all() and (here.biases == there.biases).all()
    assert torch.equal(here.history, there.history) and torch.equal(here.loss, there.loss)
    assert torch.equal(here.outputs, there.outputs) and there.topology(29) == here.topology(29)
    assert 1 <= len(set(there.workers)) <= 2 and os.getpid() not in there.workers   # who is up first varies


def pole_search(evaluator, generations=3):
    """A short recurrent NEAT run on pole-nv (discrete-time recurrent genomes, self-loops allowed)."""
    from mpnet.search.pole import DoublePoleNoVelocities
    algo = NEAT(4, 1, population=30, seed=3, feed_forward=False, add_node_rate=0.4, add_connection_rate=0.5)
    result = run(algo, DoublePoleNoVelocities(steps=200, long_steps=300, generalization=1), generations,
                 evaluator=evaluator, progress=False, stop_when_solved=False)
    rows = [{k: v for k, v in row.items() if k not in Record.TIMINGS} for row in result.history.to_dicts()]
    return rows, result.best.topology


def test_a_recurrent_search_gives_the_same_result_on_1_and_2_workers_as_locally(ray_cluster):
    # packed chunks carry the network type; the pole task's memory of tested genomes stays on the driver
    local = pole_search(LocalEvaluator(torch.float64, chunk_size=8))
    assert local[1].network_type == "recurrent"
    for workers in (1, 2):
        with RayEvaluator(workers, dtype=torch.float64, chunk_size=8) as evaluator:
            assert pole_search(evaluator) == local, workers
