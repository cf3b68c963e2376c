"""elements: Edge's own constructor behaves as the dataclass one did; collector_paused restores the collector."""
import dataclasses
import gc
import pickle

import pytest

from mpnet.graph.elements import Edge, collector_paused


def test_edge_takes_its_fields_by_position_and_name_with_the_dataclass_defaults():
    full = Edge("a", "b", 0.5, "+", False, "g", {"synapses": 3})
    assert (full.src, full.dst, full.weight, full.sign, full.trainable, full.tie, full.meta) == (
        "a", "b", 0.5, "+", False, "g", {"synapses": 3})
    assert Edge(dst="b", src="a") == Edge("a", "b", None, None, True, None, None)
    assert [f.name for f in dataclasses.fields(Edge)] == ["src", "dst", "weight", "sign", "trainable", "tie", "meta"]
    with pytest.raises(TypeError):
        Edge("a")                                           # dst is required, as before
    with pytest.raises(TypeError):
        Edge("a", "b", color="red")                         # no unknown field


def test_edge_stays_frozen_hashable_comparable_and_picklable():
    e = Edge("a", "b", 0.5, meta={"n": 1})
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.weight = 1.0                                      # type: ignore[misc]
    assert e == Edge("a", "b", 0.5, meta={"n": 1}) and e != Edge("a", "b", 0.25, meta={"n": 1})
    assert hash(e) == hash(Edge("a", "b", 0.5))            # meta is left out of the hash
    assert pickle.loads(pickle.dumps(e)) == e
    assert dataclasses.replace(e, sign="+") == Edge("a", "b", 0.5, "+", meta={"n": 1})
    assert repr(e) == "Edge('a'->'b', w=0.5)"


def test_collector_paused_pauses_and_restores_even_on_an_error():
    @collector_paused
    def state(fail=False):
        if fail:
            raise RuntimeError("boom")
        return gc.isenabled()

    assert gc.isenabled()
    assert state() is False and gc.isenabled()
    with pytest.raises(RuntimeError, match="boom"):
        state(fail=True)
    assert gc.isenabled()
    gc.disable()
    try:
        assert state() is False and not gc.isenabled()      # left off when it was off
    finally:
        gc.enable()
