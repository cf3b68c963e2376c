"""mpnet.scale.packed.to_arrays / ArrayTopology.from_packed: a worker's chunk read straight from the packed arrays
builds the network the unpacked topologies build, bit for bit (outputs, drawn weights, training, read-back), and
bad arrays are named."""
import random
from dataclasses import replace

import numpy as np
import pytest
import torch

import mpnet
from mpnet import ArrayTopology
from mpnet.errors import ArgumentError, CycleError, FormatError, MismatchError, NonFiniteError, SelfLoopError
from mpnet.graph.topology import Edge, Topology
from mpnet.scale.chunks import trained_arrays
from mpnet.scale.packed import pack, to_arrays, unpack
from mpnet.search import Finetune, tasks
from mpnet.search.evaluate import evaluate_chunk
from mpnet.search.ray_evaluator import evaluate_packed
from mpnet.testing import random_topology

KINDS = (False, True, "ctrnn")
CTRNN = dict(advance_time=0.5, time_step=0.1)


def population(seed, kind, count=12):
    """Random topologies of one kind; a third of them with some trainable weights unset (the network draws them)."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        topo = random_topology(rng.randrange(10**6), n_hidden=rng.randrange(1, 9), recurrent=kind,
                               p_response=0.0 if kind == "ctrnn" else 0.2, ids=rng.choice(["str", "int"]),
                               **({"activations": ("tanh", "sigmoid", "relu")} if kind else {}))   # no blow-up
        if i % 3 == 0:
            edges = [replace(e, weight=None) if e.trainable and rng.random() < 0.5 else e
                     for e in topo.edges.values()]
            topo = Topology(topo.nodes.values(), edges, warn=False, recurrent=topo.network_type)
        out.append(topo)
    return out


def inputs(kind, dtype, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*((4, 6, 3) if kind else (6, 3)), generator=g, dtype=dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("kind", KINDS)
def test_a_network_from_the_columns_equals_one_from_the_topologies(kind, dtype):
    kw = CTRNN if kind == "ctrnn" else {}
    for seed in range(6):
        topos = population(seed, kind)
        packed = pack(topos)
        arrays = to_arrays(packed)
        assert arrays.topologies is None and arrays.network_type == topos[0].network_type   # no objects made
        ref = mpnet.Network(topos, seed=seed, dtype=dtype, **kw)
        net = mpnet.Network(arrays, seed=seed, dtype=dtype, **kw)
        assert torch.equal(net.weight, ref.weight) and torch.equal(net.bias, ref.bias)   # drawn ones too
        x = inputs(kind, dtype, seed)
        out, want = net(x), ref(x)
        assert torch.isfinite(want).all() and torch.equal(out, want)


@pytest.mark.parametrize("kind", KINDS)
def test_training_and_the_read_back_equal_the_topologies_path(kind):
    kw = CTRNN if kind == "ctrnn" else {}
    topos = population(7, kind, count=8)
    x = inputs(kind, torch.float64, 1)
    X, Y = (x.transpose(0, 1), torch.tanh(x.transpose(0, 1)[..., :2])) if kind else (x, torch.tanh(x[:, :2]))
    nets = [mpnet.Network(t, seed=1, dtype=torch.float64, **kw) for t in (topos, to_arrays(pack(topos)))]
    for net in nets:
        mpnet.fit(net, X, Y, epochs=4, lr=0.05, progress=False)
    (w_ref, b_ref), (w, b) = (trained_arrays(net) for net in nets)
    assert np.array_equal(w, w_ref) and np.array_equal(b, b_ref)
    back = nets[1].topology(2)                  # a topology back from the columns keeps kind and time constants
    assert back.network_type == topos[2].network_type
    taus = [n.time_constant for n in topos[2].nodes.values()]
    assert sorted(n.time_constant for n in back.nodes.values()) == sorted(taus)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_a_worker_chunk_scores_and_fine_tunes_as_the_topologies_do(dtype):
    algo = mpnet.search.NEAT(2, 1, population=60, seed=3, add_node_rate=0.5, add_connection_rate=0.5)
    for _ in range(3):
        algo.tell([float(t.num_edges) for t in algo.ask()])
    topos, task = algo.ask(), tasks.XOR()
    for finetune in (None, Finetune(steps=3)):
        want = evaluate_chunk(task, topos, finetune, 2, dtype)
        got = evaluate_packed(task, pack(topos), finetune, 2, dtype)
        assert np.array_equal(got.fitness, want.fitness) and np.array_equal(got.solved, want.solved)
        if finetune is not None:     # the trained numbers the driver writes back into the genomes
            assert np.array_equal(got.weights, want.weights) and np.array_equal(got.biases, want.biases)


def test_a_tied_chunk_is_refused_by_the_columns_and_unpacked_by_to_arrays():
    topo = Topology.from_edges([("x", "a"), {"src": "a", "dst": "y", "tie": "g"}, {"src": "x", "dst": "y", "tie": "g"}],
                               inputs=["x"], outputs=["y"], ties=[mpnet.Tie("g", weight=0.5)], warn=False)
    packed = pack([random_topology(1, n_inputs=1, n_outputs=1), topo])
    with pytest.raises(ArgumentError, match=r"Packed topology 1 is tied; ties have no column"):
        ArrayTopology.from_packed(packed)
    arrays = to_arrays(packed)
    assert arrays.topologies is not None and arrays.topologies[1].ties
    x = torch.randn(5, 1, dtype=torch.float64)
    want = mpnet.Network(unpack(packed), seed=0, dtype=torch.float64)(x)
    assert torch.equal(mpnet.Network(arrays, seed=0, dtype=torch.float64)(x), want)


def test_mixed_kinds_and_ports_are_named():
    with pytest.raises(MismatchError, match=r"mix network types: topology 0 is feedforward, topology 1 recurrent"):
        to_arrays(pack([random_topology(1), random_topology(2, recurrent=True)]))
    with pytest.raises(MismatchError, match=r"Packed topology 1 has 2 inputs but topology 0 has 3"):
        to_arrays(pack([random_topology(1), random_topology(2, n_inputs=2)]))


def test_a_recurrent_chunk_keeps_self_loops_and_cycles_a_feed_forward_one_refuses_them():
    loop = Topology([mpnet.Node("x", "input"), mpnet.Node("h", "hidden", "tanh"), mpnet.Node("y", "output")],
                    [Edge("x", "h", 1.0), Edge("h", "h", 0.5), Edge("h", "y", 1.0)], recurrent=True)
    arrays = to_arrays(pack([loop, loop]))
    assert arrays.network_type == "recurrent" and arrays.depth.tolist() == [0, 1, 1] * 2
    packed = pack([loop])
    packed.network_type = None                      # the same arrays declared feed-forward
    with pytest.raises(SelfLoopError, match=r"self-loop"):
        to_arrays(packed)
    cycle = Topology.from_edges([("x", "a", 1.0), ("a", "b", 1.0), ("b", "a", 1.0), ("b", "y", 1.0)], inputs=["x"],
                                outputs=["y"], recurrent=True, warn=False)
    packed = pack([cycle])
    packed.network_type = None
    with pytest.raises(CycleError, match=r"cycle: 1 -> 2 -> 1"):
        to_arrays(packed)


def test_bad_time_constants_and_arrays_are_named():
    packed = pack([random_topology(3, recurrent="ctrnn")])
    packed.time_constant[4] = 0.0
    with pytest.raises(NonFiniteError, match=r"node 4 of packed topology 0 has 0.0"):
        to_arrays(packed)
    packed = pack([random_topology(3)])
    packed.src[0] = 99
    with pytest.raises(FormatError, match=r"Packed.src\[0\] = 99 is no node"):
        to_arrays(packed)
