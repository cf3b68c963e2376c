"""state: buffers kept between passes stay correct under interleaved, retained and resized passes."""
import torch

import mpnet
from mpnet.engine.state import Prebuilt
from mpnet.testing import random_topology

FAST = ["relu", "tanh", "sigmoid", "identity"]


def test_kept_buffers_serve_interleaved_passes():
    # two graphs alive at once, a retained graph run twice, other batch sizes in between: each backward
    # must see its own forward's state
    topo = random_topology(5, n_hidden=9, p_edge=0.4, activations=FAST, aggregations=["sum"])
    net = mpnet.Network(topo, dtype=torch.float64)
    raw = net.raw_weight
    x1, x2 = torch.randn(4, 3, dtype=torch.float64), torch.randn(4, 3, dtype=torch.float64)

    def grad(loss):
        return torch.autograd.grad(loss, raw, retain_graph=True)[0]
    g1, g2 = grad(net(x1).sum()), grad(net(x2).pow(2).sum())
    l1, l2 = net(x1).sum(), net(x2).pow(2).sum()            # both graphs alive
    with torch.no_grad():
        net(torch.randn(4, 3, dtype=torch.float64))        # a no-grad pass of the same batch size
    net(torch.randn(7, 3, dtype=torch.float64)).sum().backward()
    torch.testing.assert_close(grad(l2), g2, rtol=0, atol=0)
    torch.testing.assert_close(grad(l1), g1, rtol=0, atol=0)
    torch.testing.assert_close(grad(l1), g1, rtol=0, atol=0)   # retained: a second backward of the same graph
    pool = Prebuilt.get(net.plan, raw).pool
    assert sum(len(kept) for kept in pool.values()) <= 2 * len(pool)


def test_a_copied_network_remakes_its_state():
    import copy
    net = mpnet.Network(random_topology(2, n_hidden=6), dtype=torch.float64)
    x = torch.randn(5, 3, dtype=torch.float64)
    net(x).sum().backward()                                   # prebuilt matrices and buffers exist now
    twin = copy.deepcopy(net)
    assert twin.plan.prebuilt == {} and net.plan.prebuilt
    torch.testing.assert_close(twin(x), net(x), rtol=0, atol=0)
