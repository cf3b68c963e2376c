"""mpnet.scale.syncs: the counter catches every kind of host-device sync and host transfer; passes, training steps and
search tasks make none (checked on the CPU for what would stall a GPU)."""
import pytest
import torch

import mpnet
from mpnet import sample
from mpnet.search import NEAT, tasks
from mpnet.scale.syncs import count_syncs
from mpnet.testing import random_topology


def test_the_counter_catches_each_kind_of_sync_and_transfer():
    x = torch.randn(6, requires_grad=False)
    cases = {"_local_scalar_dense": lambda: x.sum().item(), "tolist": lambda: x.tolist(), "cpu": lambda: x.cpu(),
             "numpy": lambda: x.numpy(), "nonzero": lambda: torch.nonzero(x), "index": lambda: x[x > 0],
             "index_put_": lambda: x.clone().__setitem__(x > 0, 0.0), "bincount": lambda: torch.bincount(x.long().abs()),
             "repeat_interleave": lambda: torch.repeat_interleave(x.long().abs())}
    for name, call in cases.items():
        with count_syncs() as log:
            call()
        assert [what for what, _ in log.syncs] == [name], (name, log)
    with count_syncs() as log:
        bool(x.sum() > 0)
        float(x.sum())
    assert [what for what, _ in log.syncs] == ["_local_scalar_dense"] * 2
    with count_syncs() as log:
        torch.tensor([1.0, 2.0])
        torch.as_tensor([3.0])
        x.to("cpu")
    assert [what for what, _ in log.transfers] == ["tensor", "as_tensor", "to"]
    assert log.transfers[0][1].endswith(f"test_syncs.py:{log.transfers[0][1].rsplit(':', 1)[1]}")


def test_the_counter_lets_pure_device_work_and_dtype_casts_pass():
    x = torch.randn(4, 3)
    with count_syncs() as log:
        y = (x @ x.t()).relu().sum(0).to(torch.float64)
        torch.as_tensor(y)                   # a tensor already: no copy
        torch.repeat_interleave(y, 2)        # known output size
    assert log.syncs == [] and log.transfers == [], log


def test_the_counter_is_gone_after_the_block():
    with count_syncs() as log:
        pass
    torch.ones(2).tolist()
    assert log.syncs == []


def batch(n=6, seed=0):
    return [random_topology(seed + s, n_hidden=10, aggregations=["sum", "mean", "max", "product"]) for s in range(n)]


def test_forward_and_backward_make_no_sync():
    net = mpnet.Network(batch(), dtype=torch.float64)
    x = torch.randn(16, 3, dtype=torch.float64)
    net(x)                                     # the first pass builds the prebuilt CSR matrices
    with count_syncs() as log:
        with torch.no_grad():
            net(x)
        net(x).pow(2).sum().backward()
    assert log.syncs == [] and log.transfers == [], log


@pytest.mark.slow
def test_a_training_step_makes_no_sync_and_fit_reads_the_device_once():
    net = mpnet.Network(batch(), dtype=torch.float64)
    x, y = torch.randn(32, 3, dtype=torch.float64), torch.randn(32, 2, dtype=torch.float64)
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    net(x).sum().backward()
    opt.step()
    with count_syncs() as log:
        for _ in range(3):
            loss = (net(x) - y).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    assert log.syncs == [] and log.transfers == [], log      # Adam's host-side step counter is not a sync
    counts = set()
    for epochs, batch_size in ((2, None), (5, None), (2, 8), (3, 8)):   # 2 to 12 steps
        with count_syncs() as log:
            history = mpnet.fit(net, x, y, epochs=epochs, batch_size=batch_size, progress=False)
        assert history.shape == (epochs, 6)
        counts.add((len(log.syncs), len(log.transfers)))
        # the data checked once before training (NaN, targets) and the history read back once at the end:
        # a fixed number of reads, none per step or epoch
        assert len(log.syncs) <= 4 and len(log.transfers) <= 2, log
    assert len(counts) == 1, counts


def test_search_tasks_make_no_sync_per_step():
    algo = NEAT(4, 1, population=12, seed=0, add_node_rate=0.5)
    for _ in range(2):
        algo.tell([float(t.num_edges) for t in algo.ask()])
    net = mpnet.Network(algo.ask())
    counts = []
    for steps in (5, 40):
        task = tasks.PoleBalancing(max_steps=steps, starts=3)
        with count_syncs() as log:
            fitness, solved = task.evaluate(net)
        assert [what for what, _ in log.syncs] == ["numpy"], log   # once: a view of the host-side "alive" flag
        counts.append(len(log.transfers))               # the starting states and scales, once per evaluation
    assert counts[0] == counts[1] == 3
    for task in (tasks.Parity(bits=4), tasks.Spirals(points=20)):
        net = mpnet.Network([sample.random_dag(task.n_inputs, 1, 5, seed=s) for s in range(4)])
        with count_syncs() as log:
            task.evaluate(net)
        assert log.syncs == [], log
