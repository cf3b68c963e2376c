"""mpnet/model/payload.py: a saved network's integrity. A flipped bit is refused (checksum), a file without a
checksum still loads, a non-finite network is not written, and savers never share a temporary file."""
import os
import random
import threading
import warnings

import pytest
import torch

import mpnet
from mpnet.errors import ArgumentError, FormatError, NonFiniteError
from mpnet.graph.ties import Tie
from mpnet.model import payload as payload_module
from mpnet.model.payload import payload_checksum


def _topology():
    return mpnet.Topology.from_edges([("x1", "h", 0.5), ("x2", "h"), ("h", "y"), ("x1", "y", -1.0)],
                                     inputs=["x1", "x2"], outputs=["y"], signs={("x1", "y"): "-"})


def _net(**kw):
    net = mpnet.Network(_topology(), seed=0, dtype=torch.float64, **kw)
    with torch.no_grad():
        net.raw_weight.mul_(1.5)
        net.bias.add_(0.25)
    return net


def _same(a, b):
    x = torch.randn(3, 2, dtype=torch.float64)
    return torch.equal(a.raw_weight, b.raw_weight) and torch.equal(a.bias, b.bias) and torch.equal(a(x), b(x))


def _flip(path, offset, bit, out):
    data = bytearray(path.read_bytes())
    data[offset] ^= 1 << bit
    out.write_bytes(bytes(data))
    return out


def test_a_saved_file_carries_the_checksum_of_its_fields(tmp_path):
    net = _net()
    net.save(tmp_path / "net.mpnet")
    payload = torch.load(tmp_path / "net.mpnet", weights_only=True)
    assert payload["checksum"].startswith("sha256:") and payload["checksum"] == payload_checksum(payload)
    changed = dict(payload, raw_weight=payload["raw_weight"].clone())
    changed["raw_weight"][0] = torch.nextafter(changed["raw_weight"][0], torch.tensor(9.0, dtype=torch.float64))
    assert payload_checksum(changed) != payload["checksum"]          # one ulp of one weight
    assert payload_checksum(dict(payload, seed=1)) != payload["checksum"]
    assert payload_checksum(dict(payload, raw_weight=payload["raw_weight"].float())) != payload["checksum"]   # dtype


def test_a_flipped_bit_in_a_weight_bias_or_topology_is_refused(tmp_path):
    net = _net()
    net.save(tmp_path / "net.mpnet")
    data = (tmp_path / "net.mpnet").read_bytes()
    targets = {"weight": net.raw_weight.detach().numpy().tobytes(), "bias": net.bias.detach().numpy().tobytes(),
               "topology text": b'"x2"'}
    for what, needle in targets.items():
        at = data.find(needle)
        assert at > 0, what
        for bit in (0, 5):
            bad = _flip(tmp_path / "net.mpnet", at + 1, bit, tmp_path / "bad.mpnet")
            with pytest.raises(FormatError, match=r"bad\.mpnet fails its checksum: it was damaged or edited"):
                mpnet.Network.load(bad)


def test_no_single_bit_flip_loads_as_another_network(tmp_path):
    """Any byte of the file, one bit flipped: refused with a FormatError, or the very same network (a flip in a
    part of the zip no reader looks at). Never a different network, never another error type."""
    net = _net()
    net.save(tmp_path / "net.mpnet")
    size = (tmp_path / "net.mpnet").stat().st_size
    rng = random.Random(0)
    outcomes = {"refused": 0, "same": 0}
    for _ in range(80):
        bad = _flip(tmp_path / "net.mpnet", rng.randrange(size), rng.randrange(8), tmp_path / "bad.mpnet")
        try:
            back = mpnet.Network.load(bad)
        except FormatError:
            outcomes["refused"] += 1
            continue
        assert _same(net, back)
        outcomes["same"] += 1
    assert outcomes["refused"] > 25, outcomes


def test_a_file_without_a_checksum_loads_silently(tmp_path):
    """Files saved before checksums came hold the same fields without one: they load, without a warning."""
    net = _net()
    old = payload_module.network_payload(net, cpu=True)
    assert "checksum" not in old
    torch.save(old, tmp_path / "old.mpnet")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _same(net, mpnet.Network.load(tmp_path / "old.mpnet"))


@pytest.mark.parametrize("change, match", [
    (lambda p: p.update(chekcsum=p.pop("checksum")), r"the field 'chekcsum' is not one of a saved network's"),
    (lambda p: p.update(checksum="sha256:" + "0" * 64), r"fails its checksum"),
    (lambda p: p.update(checksum=5), r"fails its checksum"),
    (lambda p: p.update(checksum=torch.zeros(3)), r"fails its checksum"),
    (lambda p: p.update(advance_time=float("nan")), r"fails its checksum"),
])
def test_a_damaged_checksum_or_field_name_is_refused(tmp_path, change, match):
    net = _net()
    net.save(tmp_path / "net.mpnet")
    p = torch.load(tmp_path / "net.mpnet", weights_only=True)
    change(p)
    torch.save(p, tmp_path / "bad.mpnet")
    with pytest.raises(FormatError, match=rf"bad\.mpnet:? .*{match}"):
        mpnet.Network.load(tmp_path / "bad.mpnet")


def test_training_must_be_a_bool(tmp_path):
    p = payload_module.network_payload(_net(), cpu=True)
    for value in ("no", 0, None):
        torch.save({**p, "training": value}, tmp_path / "bad.mpnet")
        with pytest.raises(FormatError, match=r"bad\.mpnet: the field 'training' is .*; expected true or false"):
            mpnet.Network.load(tmp_path / "bad.mpnet")
    torch.save({**p, "training": False}, tmp_path / "ok.mpnet")
    assert mpnet.Network.load(tmp_path / "ok.mpnet").training is False


def _poke(net, tensor, i, value):
    with torch.no_grad():
        getattr(net, tensor)[i] = value
    return net


def test_save_refuses_a_non_finite_weight_naming_the_edge(tmp_path):
    net = _net()
    net.save(tmp_path / "net.mpnet")
    before = (tmp_path / "net.mpnet").read_bytes()
    i = net.edge_keys.index((0, "x2", "h"))
    _poke(net, "raw_weight", i, float("nan"))
    with pytest.raises(NonFiniteError, match=r"Cannot save the network: the weight of edge 'x2' -> 'h' is nan"):
        net.save(tmp_path / "net.mpnet")
    assert (tmp_path / "net.mpnet").read_bytes() == before            # the good copy is untouched
    assert sorted(os.listdir(tmp_path)) == ["net.mpnet"]               # no temporary file left


def test_save_refuses_a_non_finite_bias_naming_the_neuron(tmp_path):
    net = _net()
    i = [n for _, n in net.rows][net.plan.num_inputs:].index("y")
    _poke(net, "bias", i, float("-inf"))
    with pytest.raises(NonFiniteError, match=r"the bias of neuron 'y' is -inf"):
        net.save(tmp_path / "net.mpnet")
    assert not os.listdir(tmp_path)


def test_save_names_the_topology_and_the_tie_of_a_non_finite_number(tmp_path):
    batch = mpnet.Network([_topology(), _topology()], seed=0, dtype=torch.float64)
    _poke(batch, "raw_weight", batch.edge_keys.index((1, "h", "y")), float("inf"))
    with pytest.raises(NonFiniteError, match=r"the weight of edge 'h' -> 'y' of topology 1 is inf"):
        batch.save(tmp_path / "batch.mpnet")
    tied = mpnet.Topology.from_edges([{"src": "x1", "dst": "h", "tie": "shared"},
                                      {"src": "x2", "dst": "h", "tie": "shared"}, ("h", "y")],
                                     inputs=["x1", "x2"], outputs=["y"], ties=[Tie("shared", weight=0.5)])
    net = mpnet.Network(tied, seed=0, dtype=torch.float64)
    _poke(net, "raw_weight", len(net.raw_weight) - 1, float("nan"))    # the tie's parameter comes last
    with pytest.raises(NonFiniteError, match=r"the shared weight of tie 'shared' is nan"):
        net.save(tmp_path / "tied.mpnet")


def test_save_to_a_directory_is_refused(tmp_path):
    with pytest.raises(ArgumentError, match=r"it is a directory; name a file in it"):
        _net().save(tmp_path)


def test_the_temporary_file_is_named_by_process_and_call(tmp_path, monkeypatch):
    seen = []
    real = os.replace
    monkeypatch.setattr(payload_module.os, "replace", lambda a, b: (seen.append(os.fspath(a)), real(a, b)))
    net = _net()
    net.save(tmp_path / "net.mpnet")
    net.save(tmp_path / "net.mpnet")
    assert len(seen) == 2 and seen[0] != seen[1]
    assert all(os.path.basename(s).startswith(f"net.mpnet.{os.getpid()}.") and s.endswith(".tmp") for s in seen)
    assert sorted(os.listdir(tmp_path)) == ["net.mpnet"]


def test_concurrent_savers_to_one_path_leave_one_whole_file(tmp_path):
    """Two writers racing on one path (threads here; processes name their files by pid as well): every save
    succeeds and the file left is one of the two networks, whole and checked."""
    nets = [_net(), _poke(_net(), "bias", 0, 7.0)]
    errors = []

    def saver(net):
        try:
            for _ in range(15):
                net.save(tmp_path / "net.mpnet")
        except Exception as err:   # noqa: BLE001  (collected: a race shows as any error)
            errors.append(err)

    threads = [threading.Thread(target=saver, args=(n,)) for n in nets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    back = mpnet.Network.load(tmp_path / "net.mpnet")
    assert any(_same(n, back) for n in nets)
    assert sorted(os.listdir(tmp_path)) == ["net.mpnet"]
