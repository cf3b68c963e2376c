"""On a CUDA GPU (skipped without one; scripts/gpu_check.sh runs them): a Network lives wholly on its device,
passes and training steps never synchronise with the host, fit and the search tasks read the device a fixed
number of times whatever their length, and every result matches the CPU."""
import warnings

import pytest
import torch

import mpnet
from mpnet import sample
from mpnet.scale.population import train_population
from mpnet.search import NEAT, Finetune, LocalEvaluator, tasks
from mpnet.testing import random_topology

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
f64 = torch.float64


def batch(n=6):
    return [random_topology(s, n_hidden=12, aggregations=["sum", "mean", "max", "product"]) for s in range(n)]


def host_syncs(fn) -> int:
    """Synchronising CUDA calls made by ``fn()``, counted by torch's own sync debug mode."""
    torch.cuda.synchronize()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            fn()
        finally:
            torch.cuda.set_sync_debug_mode("default")
    return sum("synchronizing" in str(w.message) for w in caught)


def test_a_network_lives_wholly_on_its_device_and_matches_the_cpu():
    topos = batch()
    gpu, cpu = mpnet.Network(topos, dtype=f64, device="cuda"), mpnet.Network(topos, dtype=f64)
    for name, t in list(gpu.named_parameters()) + list(gpu.named_buffers()):
        assert t.device.type == "cuda", name
    plan_tensors = [v for k, v in gpu.plan.__dict__.items() if isinstance(v, torch.Tensor) and k != "response"]
    plan_tensors += [v for lvl in gpu.plan.levels for v in lvl.__dict__.values() if isinstance(v, torch.Tensor)]
    assert all(t.device.type == "cuda" for t in plan_tensors)
    x = torch.randn(32, 3, dtype=f64)
    torch.testing.assert_close(gpu(x.cuda()).cpu(), cpu(x))
    gpu(x.cuda()).pow(2).sum().backward()
    cpu(x).pow(2).sum().backward()
    torch.testing.assert_close(gpu.raw_weight.grad.cpu(),
                               cpu.raw_weight.grad)
    torch.testing.assert_close(gpu.bias.grad.cpu(), cpu.bias.grad)


def test_passes_and_training_steps_never_synchronise():
    net = mpnet.Network(batch(), device="cuda")
    x, y = torch.randn(64, 3, device="cuda"), torch.randn(64, 2, device="cuda")
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    for _ in range(2):                         # warm: the first passes build their CSR matrices and buffers
        (net(x) - y).pow(2).mean().backward()
        opt.step()
        with torch.no_grad():
            net(x)
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for _ in range(3):
            with torch.no_grad():
                net(x)
            loss = (net(x) - y).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    finally:
        torch.cuda.set_sync_debug_mode("default")


def test_fit_syncs_do_not_grow_with_epochs():
    net = mpnet.Network(batch(), device="cuda")
    x, y = torch.randn(64, 3, device="cuda"), torch.randn(64, 2, device="cuda")
    mpnet.fit(net, x, y, epochs=2, batch_size=16, progress=False)
    short = host_syncs(lambda: mpnet.fit(net, x, y, epochs=2, batch_size=16, progress=False))
    long = host_syncs(lambda: mpnet.fit(net, x, y, epochs=20, batch_size=16, progress=False))
    assert short == long <= 2


def test_search_tasks_run_on_the_gpu_and_match_the_cpu():
    algo = NEAT(2, 1, population=30, seed=0, add_node_rate=0.5, add_connection_rate=0.5)
    for _ in range(3):
        algo.tell([float(t.num_edges) for t in algo.ask()])
    topologies = algo.ask()
    for task, ft in ((tasks.XOR(), Finetune(steps=5)), (tasks.Spirals(points=30), None)):
        gpu = LocalEvaluator(f64, device="cuda").evaluate(task, topologies, ft)
        cpu = LocalEvaluator(f64).evaluate(task, topologies, ft)
        assert gpu.fitness == pytest.approx(cpu.fitness, abs=1e-9) and gpu.solved == cpu.solved
    pole = [sample.random_dag(4, 1, 5, seed=s, weights=True) for s in range(20)]
    for steps in (20, 200):
        task = tasks.PoleBalancing(max_steps=steps)
        gpu = LocalEvaluator(f64, device="cuda").evaluate(task, pole)
        assert gpu.fitness == pytest.approx(LocalEvaluator(f64).evaluate(task, pole).fitness, abs=1e-9)
    net = mpnet.Network(pole, device="cuda")
    short = host_syncs(lambda: tasks.PoleBalancing(max_steps=20).evaluate(net))
    long = host_syncs(lambda: tasks.PoleBalancing(max_steps=300).evaluate(net))
    assert short == long                       # the setup's copies only: none per simulation step


def test_a_population_trains_on_the_gpu_as_on_the_cpu():
    topos = [sample.random_dag(3, 1, 6, seed=s) for s in range(20)]
    X, Y = torch.randn(16, 3), torch.rand(16, 1)
    gpu = train_population(topos, X, Y, epochs=10, lr=0.05, dtype=f64, device="cuda", chunk_size=8)
    cpu = train_population(topos, X, Y, epochs=10, lr=0.05, dtype=f64, chunk_size=8)
    assert abs(gpu.weights - cpu.weights).max() < 1e-9
    torch.testing.assert_close(gpu.history, cpu.history)
