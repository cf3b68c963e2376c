"""mpnet.search.tasks: data, fitness and success criteria; batched scoring equals scoring each network alone."""

import pytest
import torch

import mpnet
from mpnet import Topology
from mpnet.search import tasks


def xor_solution(scale: float = 20.0) -> Topology:
    """A hand-made XOR net: h = AND(x0, x1); y = OR(x0, x1) and not h (sigmoid units, large weights)."""
    s = scale
    return Topology.from_edges([("x0", "h", s), ("x1", "h", s), ("x0", "y", s), ("x1", "y", s), ("h", "y", -2 * s)],
                               inputs=["x0", "x1"], outputs=["y"], activation="sigmoid", output_activation="sigmoid",
                               biases={"h": -1.5 * s, "y": -0.5 * s})


def constant(n_inputs: int, value: float = 0.0, activation: str = "sigmoid") -> Topology:
    return Topology.from_edges([(f"x{i}", "y", 0.0) for i in range(n_inputs)], inputs=[f"x{i}" for i in range(n_inputs)],
                               outputs=["y"], output_activation=activation, biases={"y": value})


def test_xor_is_neats_fitness_and_criterion():
    task = tasks.XOR()
    X, Y = task.data()
    assert X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]] and Y.view(-1).tolist() == [0, 1, 1, 0]
    assert task.threshold == pytest.approx(3.9) and (task.n_inputs, task.n_outputs) == (2, 1)
    net = mpnet.Network([xor_solution(), constant(2), xor_solution(2.0)], dtype=torch.float64)
    fitness, solved = task.evaluate(net)
    assert fitness[0] == pytest.approx(4.0, abs=1e-6) and fitness[1] == pytest.approx(3.0)   # 0.5 everywhere
    assert solved.tolist() == [True, False, False]
    assert 3.0 < fitness[2] < 3.9
    assert task.describe() == "xor: fitness 4 - sum(err^2), solved at >= 3.9"


def test_parity():
    task = tasks.Parity(bits=3)
    X, Y = task.data()
    assert X.shape == (8, 3) and Y.view(-1).tolist() == [0, 1, 1, 0, 1, 0, 0, 1]
    assert task.threshold == pytest.approx(7.8)
    net = mpnet.Network([constant(3)])
    assert task.evaluate(net)[0].tolist() == pytest.approx([6.0])
    with pytest.raises(ValueError, match=r"Expected bits to be an int >= 1 \(got 0\)"):
        tasks.Parity(bits=0)


def test_spirals_is_the_classic_set():
    task = tasks.Spirals()
    X, Y = task.data()
    assert X.shape == (194, 2) and Y.sum() == 97
    assert X[0].tolist() == pytest.approx([0.0, 1.0]) and X[97].tolist() == pytest.approx([0.0, -1.0])
    # point 96 of the classic set: radius 6.5 * 8 / 104, angle 96 pi / 16 = 6 pi
    assert X[96].tolist() == pytest.approx([0.0, 8 / 104], abs=1e-6)
    assert X.abs().max() <= 1.0
    net = mpnet.Network([constant(2, 10.0), constant(2, -10.0)])   # everything class 1 / class 0: half right
    fitness, solved = task.evaluate(net)
    assert not solved.any() and fitness.tolist() == pytest.approx([194 - 97, 194 - 97], abs=0.02)
    assert tasks.Spirals(accuracy=0.5).evaluate(net)[1].tolist() == [True, True]


@pytest.mark.parametrize("poles", [1, 2])
def test_pole_balancing_batched_equals_alone_and_ranks_controllers(poles):
    task = tasks.PoleBalancing(poles=poles, max_steps=200, starts=3)
    n = task.n_inputs
    lean = [f"x{i}" for i in range(n)]
    # push towards the side the (first) pole leans and falls: a classic hand controller
    good = Topology.from_edges([("x2", "y", 30.0), ("x3", "y", 10.0), ("x1", "y", 1.0), ("x0", "y", 0.5)],
                               inputs=lean, outputs=["y"], output_activation="sigmoid", warn=False)
    bad = constant(n, 5.0)
    net = mpnet.Network([good, bad, good], dtype=torch.float64)
    fitness, solved = task.evaluate(net)
    assert fitness[0] == fitness[2] and fitness[0] > fitness[1]
    for i, topo in enumerate([good, bad]):
        alone, _ = task.evaluate(mpnet.Network([topo], dtype=torch.float64))
        assert alone[0] == fitness[i]
    assert 0 <= fitness.min() and fitness.max() <= 1
    assert solved[1].item() is False


def test_double_pole_physics_conserve_a_resting_upright_state():
    state = torch.zeros(1, 1, 6, dtype=torch.float64)
    from mpnet.search.tasks import _double_step
    out = _double_step(state, torch.full((1, 1), 0.5, dtype=torch.float64))
    assert torch.equal(out, state)                           # no force, upright, at rest: stays
    tilted = state.clone()
    tilted[..., 2] = 0.05
    out = _double_step(tilted, torch.full((1, 1), 0.5, dtype=torch.float64))
    assert out[..., 2].item() > 0.05                         # gravity pulls the leaning pole further


def test_make_and_from_dict():
    assert tasks.make("parity", bits=4).n_inputs == 4
    task = tasks.PoleBalancing(poles=2, starts=2)
    assert tasks.from_dict(task.to_dict()) == task and task.to_dict()["name"] == "pole"
    assert tasks.from_dict(tasks.XOR().to_dict()) == tasks.XOR()
    with pytest.raises(ValueError, match='Invalid task "tsp". Must be one of'):
        tasks.make("tsp")
    with pytest.raises(ValueError, match="has no settings \\['bitz'\\]"):
        tasks.make("parity", bitz=3)
    with pytest.raises(ValueError, match="poles to be 1 or 2"):
        tasks.PoleBalancing(poles=3)
