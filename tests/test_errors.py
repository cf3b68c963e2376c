"""mpnet.errors: one base class for everything mpnet raises on purpose; located() names a file around an error."""
import pytest

import mpnet
from mpnet import errors
from mpnet.graph.topology import Topology


def test_every_error_class_is_an_mpnet_error_with_the_builtin_bases_callers_expect():
    assert issubclass(errors.TopologyError, (errors.MpnetError, ValueError))
    assert issubclass(errors.ArgumentError, ValueError) and issubclass(errors.ArgumentError, TypeError)
    assert issubclass(errors.DataError, ValueError) and issubclass(errors.CheckpointError, ValueError)
    assert issubclass(errors.DivergenceError, ArithmeticError) and issubclass(errors.RunLockedError, RuntimeError)
    assert mpnet.MpnetError is errors.MpnetError


def test_located_keeps_the_class_and_its_attributes(tmp_path):
    path = tmp_path / "cyc.json"
    topo = {"format": "mpnet.topology", "version": 1,
            "nodes": [{"id": "x", "role": "input"}, {"id": "a"}, {"id": "b"}, {"id": "y", "role": "output"}],
            "edges": [{"src": "x", "dst": "a"}, {"src": "a", "dst": "b"}, {"src": "b", "dst": "a"},
                      {"src": "b", "dst": "y"}]}
    import json
    path.write_text(json.dumps(topo))
    with pytest.raises(errors.CycleError, match=r"cyc\.json: The edges contain a cycle: 'a' -> 'b' -> 'a'") as info:
        Topology.load(path)
    assert info.value.cycle == ["a", "b", "a"]
    err = errors.located(errors.UnknownEdgeError("no such edge"), "f.json")
    assert isinstance(err, KeyError) and str(err) == "f.json: no such edge"


def test_divergence_error_carries_history_and_epoch():
    err = errors.DivergenceError("boom", history=[1.0], epoch=1)
    assert err.history == [1.0] and err.epoch == 1 and str(err) == "boom"
    with pytest.raises(errors.MpnetError, match="boom"):
        raise err
