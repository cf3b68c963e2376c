"""mpnet.search.evaluate: batched passes over fixed chunks, Lamarckian fine-tuning and its read-back."""
import pytest
import torch

import mpnet
from mpnet import Topology
from mpnet.search import NEAT, Finetune, LocalEvaluator, tasks
from mpnet.search.evaluate import chunk_bounds, evaluate_batch, evaluate_chunk, read_back


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
    with pytest.raises(ValueError, match=r"steps to be an int >= 1 \(got True, a bool, not a step count"):
        Finetune(steps=True)     # a bool is an int to Python; it would have run one step


def test_chunk_bounds_depend_on_the_count_and_size_alone():
    assert chunk_bounds(10, 4) == [(0, 4), (4, 8), (8, 10)]
    assert chunk_bounds(10, None) == [(0, 10)] and chunk_bounds(3, 100) == [(0, 3)] and chunk_bounds(0, 5) == []
    with pytest.raises(ValueError, match="chunk_size to be an int >= 1 or None"):
        chunk_bounds(10, 0)
    with pytest.raises(ValueError, match="chunk_size to be an int >= 1 or None"):
        LocalEvaluator(chunk_size=2.5)


def test_local_evaluator_scores_each_chunk_as_its_own_batch():
    topologies = population(n=20).ask()
    task, ft = tasks.Parity(bits=2), Finetune(steps=4)
    ev = LocalEvaluator(chunk_size=8).evaluate(task, topologies, ft, generation=1)
    parts = [evaluate_chunk(task, topologies[a:b], ft, 1) for a, b in ((0, 8), (8, 16), (16, 20))]
    assert ev.fitness == [f for p in parts for f in p.fitness.tolist()]
    assert ev.solved == [bool(s) for p in parts for s in p.solved.tolist()]
    assert [w.edges for w in ev.trained] == [w.edges for w in read_back_all(task, topologies, ft)]
    assert set(ev.timings) == {"compile", "finetune", "forward"}
    whole = LocalEvaluator(chunk_size=None).evaluate(task, topologies, ft)
    assert whole.fitness == pytest.approx(ev.fitness, abs=1e-4)   # other batches: float32 round-off only


def read_back_all(task, topologies, ft):
    """The trained weights chunk by chunk, read back with read_back from each chunk's own network."""
    out = []
    for a, b in ((0, 8), (8, 16), (16, 20)):
        net = mpnet.Network(topologies[a:b])
        X, Y = task.data()
        mpnet.fit(net, X, Y, loss=task.loss, epochs=ft.steps, lr=ft.lr, progress=False)
        out += read_back(net)
    return out


def test_evaluators_honour_the_device():
    topologies = population(n=6).ask()
    ev = LocalEvaluator(torch.float64, device="cpu").evaluate(tasks.XOR(), topologies)
    assert ev.fitness == evaluate_batch(tasks.XOR(), topologies, dtype=torch.float64, device="cpu").fitness
    assert repr(LocalEvaluator(device="cpu")) == "LocalEvaluator(dtype=torch.float32, device=cpu, chunk_size=1000)"


def test_finetune_needs_a_task_with_data_and_loss():
    topologies = population(n=4).ask()
    with pytest.raises(TypeError, match="Fine-tuning needs a supervised task"):
        evaluate_chunk(tasks.PoleBalancing(max_steps=5), topologies, Finetune(steps=1))

