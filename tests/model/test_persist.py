"""mpnet/model/persist.py: whole networks saved by function, and pickles written before the model package keep
loading (they name the function they call ``mpnet.persist.network_from_payload``)."""
import copy
import io
import pickle
import sys
import types
import warnings
import zipfile

import pytest
import torch

import mpnet
from mpnet.model.network import _accepts_named_globals
from mpnet.model.persist import NETWORK_FORMAT, load_network, network_from_payload, network_payload, save_network
from mpnet.testing import random_topology


def _net():
    net = mpnet.Network(random_topology(1, n_hidden=4), seed=0, dtype=torch.float64)
    with torch.no_grad():
        net.raw_weight.mul_(1.5)
        net.bias.add_(0.25)
    return net


def _assert_same(a, b):
    assert type(b) is mpnet.Network and torch.equal(a.raw_weight, b.raw_weight) and torch.equal(a.bias, b.bias)
    x = torch.randn(3, a.plan.n_in, dtype=torch.float64)
    assert torch.equal(a(x), b(x)) and a.to_topology() == b.to_topology()


def _as_written_before(net, monkeypatch):
    """``net`` pickled as mpnet 0.1 wrote it: a call of ``mpnet.persist.network_from_payload`` on its payload (the
    same dict as today; only the function's dotted name differs). The old module is stood in for while writing."""
    def old(payload):
        return network_from_payload(payload)
    old.__module__, old.__name__, old.__qualname__ = "mpnet.persist", "network_from_payload", "network_from_payload"

    class Old:
        def __reduce__(self):
            return old, (network_payload(net, cpu=False),)

    stand_in = types.ModuleType("mpnet.persist")
    stand_in.network_from_payload = old
    with monkeypatch.context() as m:
        m.setitem(sys.modules, "mpnet.persist", stand_in)
        buffer = io.BytesIO()
        torch.save(Old(), buffer)
        plain = pickle.dumps(Old())
    return buffer.getvalue(), plain


def test_pickle_of_the_old_module_path_loads_with_weights_only(monkeypatch):
    if not hasattr(torch.serialization, "add_safe_globals") or not _accepts_named_globals():
        pytest.skip("this torch registers safe globals by their own name only")
    net = _net()
    saved, plain = _as_written_before(net, monkeypatch)
    with zipfile.ZipFile(io.BytesIO(saved)) as z:
        data = z.read(next(n for n in z.namelist() if n.endswith("data.pkl")))
    assert b"mpnet.persist\nnetwork_from_payload" in data and b"mpnet.model" not in data
    _assert_same(net, torch.load(io.BytesIO(saved), weights_only=True))
    with warnings.catch_warnings():   # unpickling imports the old path, which warns that it moved
        warnings.simplefilter("ignore", DeprecationWarning)
        _assert_same(net, torch.load(io.BytesIO(saved), weights_only=False))
        _assert_same(net, pickle.loads(plain))


def test_save_and_load_by_function(tmp_path):
    net = _net()
    save_network(net, tmp_path / "net.mpnet")
    _assert_same(net, load_network(tmp_path / "net.mpnet"))
    _assert_same(net, mpnet.Network.load(tmp_path / "net.mpnet"))
    payload = network_payload(net, cpu=True)
    assert payload["format"] == NETWORK_FORMAT
    _assert_same(net, network_from_payload(payload))


def test_new_pickles_name_the_function_beside_the_class(tmp_path):
    net = _net()
    torch.save(net, tmp_path / "whole.pt")
    with zipfile.ZipFile(tmp_path / "whole.pt") as z:
        data = z.read(next(n for n in z.namelist() if n.endswith("data.pkl")))
    assert b"mpnet.model.network\nnetwork_from_payload" in data
    _assert_same(net, torch.load(tmp_path / "whole.pt", weights_only=True))
    _assert_same(net, copy.deepcopy(net))
