"""mpnet.search.pole: the double pole without velocities, its physics, Gruau's fitness, the solution test, and a
recurrent NEAT run on it."""
import math

import numpy as np
import pytest
import torch

from mpnet import Network, Topology
from mpnet.search import NEAT, run, tasks
from mpnet.search.pole import START, DoublePoleNoVelocities, _damping_fitness, double_pole_step
from mpnet.testing import random_topology


def idle_controller() -> Topology:
    """Pushes with 0 N whatever it sees: its output is sigmoid(0) = 0.5."""
    return Topology.from_edges([(f"x{i}", "y", 0.0) for i in range(4)], inputs=[f"x{i}" for i in range(4)],
                               outputs=["y"], output_activation="sigmoid", recurrent=True)


def test_physics_is_the_double_pole_task_physics_on_floats_arrays_and_tensors():
    from mpnet.search.tasks import _double_step   # the velocity task's torch implementation of the same model
    state = [0.1, -0.2, 0.07, 0.3, -0.02, 0.5]
    for action in (0.0, 0.3, 1.0):
        ours = double_pole_step(state, action, math.cos, math.sin)
        arrays = double_pole_step([np.array([v]) for v in state], np.array([action]))
        theirs = _double_step(torch.tensor([state], dtype=torch.float64), torch.tensor([action], dtype=torch.float64))
        np.testing.assert_allclose(ours, theirs[0].numpy(), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(ours, [a[0] for a in arrays], rtol=1e-12, atol=1e-14)


def fails(state) -> bool:
    return abs(state[0]) > 2.4 or abs(state[2]) > 0.628329 or abs(state[4]) > 0.628329


def test_without_force_the_long_pole_falls_and_the_cart_drifts_back():
    state, t = list(START), 0
    while abs(state[2]) <= 0.628329:
        state = double_pole_step(state, 0.5, math.cos, math.sin)
        t += 1
    assert 20 < t < 200 and state[2] > 0.628329 and state[0] < 0   # falls forward, the cart recoils


def test_damping_fitness_by_hand():
    steps = 1000
    balanced = torch.tensor([50, 100, 101, 1000])
    jiggle = torch.full((steps, 4), 0.02, dtype=torch.float64)
    f = _damping_fitness(balanced, jiggle, steps)
    assert f[0] == pytest.approx(0.1 * 50 / 1000) and f[1] == pytest.approx(0.1 * 100 / 1000)
    assert f[2] == pytest.approx(0.1 * 101 / 1000 + 0.9 * 0.75 / 2.0)     # 100 steps of 0.02
    jiggle[900:, 3] = 0.01                                                # only the last 100 count
    assert _damping_fitness(balanced, jiggle, steps)[3] == pytest.approx(0.1 + 0.9 * 0.75 / 1.0)


def test_the_solution_test_pieces_on_a_controller_that_does_nothing():
    task = DoublePoleNoVelocities(long_steps=500)
    net = Network(idle_controller(), dtype=torch.float64)
    state, t = list(START), 0
    while not fails(state):
        state = double_pole_step(state, 0.5, math.cos, math.sin)
        t += 1
    assert task.long_run(net) == t - 1            # steps balanced before the failing one
    # only the 5 starts with both poles upright and still and the cart at rest stay up without force
    assert task.generalization_score(net) == 5
    assert not task.solves(idle_controller()) and len(task._tested) == 1


def test_evaluate_a_batch_equals_each_alone():
    topos = [random_topology(s, n_inputs=4, n_outputs=1, n_hidden=3, p_edge=0.5, activations=["sigmoid", "tanh"],
                             aggregations=["sum"], recurrent=True) for s in range(6)] + [idle_controller()]
    task = DoublePoleNoVelocities()
    fitness, solved = task.evaluate(Network(topos, dtype=torch.float64))
    assert fitness.shape == solved.shape == (7,) and not solved.any()
    for i, topo in enumerate(topos):
        alone, _ = task.evaluate(Network(topo, dtype=torch.float64))
        assert alone.item() == pytest.approx(fitness[i].item(), rel=1e-12)
    assert fitness[-1] < 0.02                     # falls well within 200 steps


def test_a_feed_forward_network_is_refused_and_settings_are_checked():
    dag = Topology.from_edges([(f"x{i}", "y", 0.1) for i in range(4)], inputs=[f"x{i}" for i in range(4)],
                              outputs=["y"])
    with pytest.raises(ValueError, match="needs discrete-time recurrent networks: run NEAT with feed_forward=False"):
        DoublePoleNoVelocities().evaluate(Network(dag))
    with pytest.raises(ValueError, match="Expected steps > 100"):
        DoublePoleNoVelocities(steps=50)
    assert tasks.make("pole-nv", steps=500).to_dict() == {"name": "pole-nv", "steps": 500, "long_steps": 100000,
                                                           "generalization": 200}
    assert tasks.from_dict(tasks.make("pole-nv").to_dict()) == tasks.make("pole-nv")


def test_recurrent_neat_runs_on_it_and_grows_cycles():
    task = tasks.make("pole-nv")
    algo = NEAT(4, 1, population=30, seed=0, feed_forward=False, add_connection_rate=0.5)
    result = run(algo, task, generations=4, progress=False)
    assert result.generations == 4 and not result.solved
    fitness = result.history.column("best_fitness")
    assert fitness[-1] >= fitness[0] > 0
    assert result.best.topology.recurrent


def test_each_generation_tests_its_best_genome_not_tested_before(monkeypatch):
    import mpnet.search.pole as pole
    topos = [random_topology(s, n_inputs=4, n_outputs=1, n_hidden=2, recurrent=True) for s in range(4)]
    jiggles = torch.tensor([0.03, 0.01, 0.02, 0.04], dtype=torch.float64)      # fitness order: 1, 2, 0, 3

    def fake_run(net, starts, steps):   # every genome balances all steps, with its own jiggle
        return torch.full((net.num_graphs, 1), steps), jiggles.view(1, -1, 1).expand(steps, -1, 1)
    monkeypatch.setattr(pole, "_run", fake_run)
    task = DoublePoleNoVelocities()
    tested = []

    def fake_long_run(self, net):   # record who is tested; nobody passes
        keys = net.topology(0).edges.keys()
        tested.append(next(i for i, t in enumerate(topos) if t.edges.keys() == keys))
        return 0
    monkeypatch.setattr(DoublePoleNoVelocities, "long_run", fake_long_run)
    net = Network(topos)
    for _ in range(3):
        fitness, candidates = task.evaluate(net)
        task.settle(topos, fitness.tolist(), candidates.tolist())
    assert tested == [1, 2, 0]


@pytest.mark.parametrize("chunk_size", [1, 3])
def test_the_memory_of_tested_genomes_is_the_drivers_whatever_the_chunks(monkeypatch, chunk_size):
    # with the test on the workers each chunk tested its own best; now the generation's best is tested, once
    import mpnet.search.pole as pole
    from mpnet.search.evaluate import LocalEvaluator
    topos = [random_topology(s, n_inputs=4, n_outputs=1, n_hidden=2, recurrent=True) for s in range(4)]
    jiggles = {t.num_edges: j for t, j in zip(topos, (0.03, 0.01, 0.02, 0.04))}
    assert len(jiggles) == 4

    def fake_run(net, starts, steps):
        j = torch.tensor([jiggles[net.topology(i).num_edges] for i in range(net.num_graphs)], dtype=torch.float64)
        return torch.full((net.num_graphs, 1), steps), j.view(1, -1, 1).expand(steps, -1, 1)
    monkeypatch.setattr(pole, "_run", fake_run)
    tested = []
    monkeypatch.setattr(DoublePoleNoVelocities, "long_run",
                        lambda self, net: tested.append(net.topology(0).num_edges) or 0)
    task, evaluator = DoublePoleNoVelocities(), LocalEvaluator(chunk_size=chunk_size)
    for _ in range(2):
        assert not any(evaluator.evaluate(task, topos).solved)
    assert tested == [topos[1].num_edges, topos[2].num_edges]
