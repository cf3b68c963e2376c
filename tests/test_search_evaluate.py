"""mpnet.search.evaluate: one batched pass per generation, Lamarckian fine-tuning and its read-back, Ray shards."""
import pytest
import torch

import mpnet
from mpnet import Topology
from mpnet.search import NEAT, Finetune, LocalEvaluator, tasks
from mpnet.search.evaluate import evaluate_batch, read_back


def population(n=12, seed=0, generations=3):
    algo = NEAT(2, 1, population=n, seed=seed, add_node_rate=0.5, add_connection_rate=0.5)
    for _ in range(generations):
        algo.tell([float(t.num_edges) for t in algo.ask()])
    return algo


def test_read_back_equals_network_topology_after_training():
    topologies = population().ask()
    net = mpnet.Network(topologies, dtype=torch.float64)
    X, Y = tasks.XOR().data()
    mpnet.fit(net, X, Y, epochs=5, lr=0.1, progress=False)
    weights = read_back(net)
    for i, topo in enumerate(topologies):
        assert weights[i].apply(topo) == net.topology(i)


def test_evaluate_batch_equals_each_network_alone():
    topologies = population().ask()
    task = tasks.XOR()
    batched = evaluate_batch(task, topologies, dtype=torch.float64)
    assert batched.trained is None and set(batched.timings) == {"compile", "finetune", "forward"}
    for i, topo in enumerate(topologies):
        alone = evaluate_batch(task, [topo], dtype=torch.float64)
        assert alone.fitness[0] == pytest.approx(batched.fitness[i], abs=1e-12)


def test_finetune_improves_fitness_and_is_what_gets_scored():
    topologies = population().ask()
    task = tasks.XOR()
    before = evaluate_batch(task, topologies, dtype=torch.float64)
    after = evaluate_batch(task, topologies, Finetune(steps=30, lr=0.05), dtype=torch.float64)
    assert sum(after.fitness) > sum(before.fitness)
    rescored = evaluate_batch(task, [w.apply(t) for w, t in zip(after.trained, topologies)], dtype=torch.float64)
    assert rescored.fitness == pytest.approx(after.fitness, abs=1e-12)


def test_finetune_honours_sign_constraints_through_the_write_back():
    start = Topology.from_edges([("a", "y", 0.01), ("b", "y", -0.01)], inputs=["a", "b"], outputs=["y"],
                                output_activation="sigmoid", signs={("a", "y"): "+", ("b", "y"): "-"})
    algo = NEAT(2, 1, population=8, seed=0, start=start)
    topologies = algo.ask()
    task = tasks.Parity(bits=2)       # XOR pushes the weights every way: the signs must still hold
    ev = LocalEvaluator(torch.float64).evaluate(task, topologies, Finetune(steps=50, lr=0.5))
    for w in ev.trained:
        assert w.edges[("a", "y")] >= 0 and w.edges[("b", "y")] <= 0
    algo.tell(ev.fitness, ev.trained)
    for g in algo.population:
        assert g.conns[(0, 2)].weight >= 0 and g.conns[(1, 2)].weight <= 0


def test_finetune_settings_are_checked():
    with pytest.raises(ValueError, match="steps to be an int >= 1"):
        Finetune(steps=0)
    with pytest.raises(ValueError, match="lr > 0"):
        Finetune(lr=-1.0)


@pytest.mark.slow   # starting a local Ray takes ~10 s
def test_ray_evaluator_splits_a_generation_across_two_workers():
    ray = pytest.importorskip("ray")
    from mpnet.search import RayEvaluator
    topologies = population(n=10).ask()
    task = tasks.XOR()
    local = LocalEvaluator(torch.float64).evaluate(task, topologies, Finetune(steps=3))
    evaluator = RayEvaluator(num_workers=2, dtype=torch.float64, num_cpus=2, include_dashboard=False,
                             log_to_driver=False)
    try:
        remote = evaluator.evaluate(task, topologies, Finetune(steps=3))
        assert len(set(evaluator.last_pids)) == 2
    finally:
        evaluator.close()
    assert not ray.is_initialized()
    assert remote.fitness == pytest.approx(local.fitness, abs=1e-9) and remote.solved == local.solved
    for a, b in zip(remote.trained, local.trained):
        assert a.edges.keys() == b.edges.keys()
        assert list(a.edges.values()) == pytest.approx(list(b.edges.values()), abs=1e-9)
