"""ArrayTopology.from_packed on tiny literal tables: the columns, depths, network type and time constants it reads,
the topologies it gives back, and the mistakes it names (mpnet.scale.packed's own tests compare whole networks)."""
from types import SimpleNamespace

import numpy as np
import pytest

from mpnet import ArrayTopology
from mpnet.errors import ArgumentError, DuplicateEdgeError, InputEdgeError, MismatchError, NonFiniteError
from mpnet.graph.vocabulary import ACTIVATIONS


def table(**change):
    """Two genomes x -> h -> y: the second adds h -> h and y -> h (cycles), weights unset on its x -> h.
    Roles 0 input, 1 hidden, 2 output; activations identity, tanh, sigmoid."""
    act = [ACTIVATIONS.index(a) for a in ("identity", "tanh", "sigmoid")]
    cols = dict(node_ptr=np.array([0, 3, 6]), edge_ptr=np.array([0, 2, 6]), role=np.array([0, 1, 2, 0, 1, 2]),
                activation=np.array(act * 2), bias=np.array([0.0, 0.5, -0.5, 0.0, 0.25, 0.0]),
                src=np.array([0, 1, 0, 1, 1, 2]), dst=np.array([1, 2, 1, 2, 1, 1]),
                weight=np.array([1.0, 2.0, np.nan, 0.5, -0.5, 0.25]), aggregation=None, response=None, dale=None,
                sign=None, trainable=None, time_constant=np.array([1.0, 0.5, 2.0, 1.0, 0.25, 4.0]),
                network_type=np.array([2, 2]), ties=None)
    return SimpleNamespace(**{**cols, **change})


def test_a_ctrnn_table_becomes_columns_with_its_time_constants():
    arrays = ArrayTopology.from_packed(table())
    assert repr(arrays) == "ArrayTopology(graphs=2, inputs=1, outputs=1, nodes=6, edges=6, ctrnn)"
    assert arrays.src.tolist() == [0, 1, 3, 4, 4, 5] and arrays.dst.tolist() == [1, 2, 4, 5, 4, 4]
    assert arrays.inputs.tolist() == [[0], [3]] and arrays.outputs.tolist() == [[2], [5]]
    assert arrays.depth.tolist() == [0, 1, 1, 0, 1, 1]          # one synchronous step: every non-input at 1
    assert arrays.time_constant.tolist() == [1.0, 0.5, 2.0, 1.0, 0.25, 4.0]
    assert np.isnan(arrays.weight[2].item()) and arrays.topologies is None
    back = arrays.topology(1)
    assert back.network_type == "ctrnn" and back.nodes[1].time_constant == 0.25 and back.edges[(1, 1)].weight == -0.5
    assert back.edges[(0, 1)].weight is None and back.nodes[1].activation == "tanh"


def test_a_feed_forward_table_gets_its_depths():
    arrays = ArrayTopology.from_packed(table(edge_ptr=np.array([0, 2, 4]), src=np.array([0, 1, 0, 1]),
                                             dst=np.array([1, 2, 1, 2]), weight=np.array([1.0, 2.0, 3.0, 4.0]),
                                             network_type=None, time_constant=None))
    assert arrays.network_type == "feedforward" and arrays.depth.tolist() == [0, 1, 2, 0, 1, 2]
    assert arrays.time_constant is None and arrays.topology(0).network_type == "feedforward"


@pytest.mark.parametrize("change, error, match", [
    (dict(network_type=np.array([1, 2])), MismatchError, r"mix network types: topology 0 is recurrent, topology 1 "
                                                         r"ctrnn"),
    (dict(ties=[None, "{}"]), ArgumentError, r"Packed topology 1 is tied; ties have no column"),
    (dict(role=np.array([0, 1, 2, 0, 0, 2])), MismatchError, r"Packed topology 1 has 2 inputs but topology 0 has 1"),
    (dict(time_constant=np.array([1.0, 0.5, 2.0, 1.0, np.nan, 4.0])), NonFiniteError,
     r"node 1 of packed topology 1 has nan"),
    (dict(dst=np.array([1, 2, 1, 2, 1, 0])), InputEdgeError, r"ends in an input node"),
    (dict(src=np.array([0, 1, 0, 1, 1, 1]), dst=np.array([1, 2, 1, 2, 1, 1])), DuplicateEdgeError,
     r"declared twice"),
    (dict(node_ptr=np.array([0, 3])), MismatchError, r"node_ptr and edge_ptr of one length"),
])
def test_mistakes_are_named(change, error, match):
    with pytest.raises(error, match=match):
        ArrayTopology.from_packed(table(**change))
