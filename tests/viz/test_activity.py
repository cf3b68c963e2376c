"""mpnet.viz.activity: traces of chosen neurons (a labelled line each, the values of a float64 reference loop) and
a heatmap (neurons x time) ordered by cell class; unknown ids, feed-forward networks and diverged runs named."""
import matplotlib
import pytest
import torch

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

import mpnet  # noqa: E402
from mpnet.errors import ArgumentError, DataError, UnknownNodeError  # noqa: E402
from mpnet.graph.topology import Edge, Node, Topology  # noqa: E402
from mpnet.testing import reference_ctrnn, reference_recurrent  # noqa: E402
from mpnet.viz import activity_heatmap, activity_traces, read_activity  # noqa: E402

f64 = torch.float64
CLASSES = {"AVAL": "AVA", "AVAR": "AVA", "DA1": "DA", "ASHL": "ASH", "AVBL": "AVB"}


def worm(kind=True):
    """A tiny worm-like recurrent topology: neurons carry meta cell_class, declared out of class order."""
    nodes = [Node("stim", "input")] + [Node(n, "output" if n == "DA1" else "hidden", "tanh", bias=0.1 * i,
                                            time_constant=0.5 + 0.25 * i, meta={"cell_class": c})
                                       for i, (n, c) in enumerate(CLASSES.items())]
    edges = [Edge("stim", "ASHL", 1.2), Edge("ASHL", "AVAL", 0.9), Edge("ASHL", "AVAR", -0.7),
             Edge("AVAL", "DA1", 1.1), Edge("AVAR", "DA1", 0.4), Edge("DA1", "AVBL", -0.8), Edge("AVBL", "AVAL", 0.5),
             Edge("AVAL", "AVAL", 0.3), Edge("AVAR", "AVAL", -0.6)]
    return Topology(nodes, edges, recurrent=kind)


def inputs(steps=7, batch=3):
    return torch.sin(torch.arange(steps * batch, dtype=f64).view(steps, batch, 1) * 0.7)   # [steps, batch, 1]


def test_traces_are_the_reference_activity_of_the_chosen_neurons():
    topo, x = worm(), inputs()
    net = mpnet.Network(topo, dtype=f64)
    fig = activity_traces(net, x, ["DA1", "AVAL", "ASHL"], sample=2, title="stimulus on ASHL")
    lines = {l.get_gid(): l for l in fig.axes[0].get_lines()}
    assert list(lines) == ["trace:DA1", "trace:AVAL", "trace:ASHL"]
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["DA1", "AVAL", "ASHL"]
    seq = x[:, 2].tolist()
    for name in ("DA1", "AVAL", "ASHL"):
        want = [reference_recurrent(topo, seq[:k + 1])[1][name] for k in range(len(seq))]
        assert lines[f"trace:{name}"].get_ydata().tolist() == pytest.approx(want, abs=1e-12)
        assert lines[f"trace:{name}"].get_xdata().tolist() == list(range(1, 8))
    assert fig.axes[0].get_xlabel() == "step" and fig.axes[0].get_title() == "stimulus on ASHL"
    plt.close(fig)
    fig = activity_traces(net, x[:, 0])                               # one sequence; the outputs by default
    assert [l.get_gid() for l in fig.axes[0].get_lines()] == ["trace:DA1"]
    plt.close(fig)


def test_heatmap_rows_are_ordered_by_cell_class_and_hold_the_activity():
    topo, x = worm(), inputs()
    net = mpnet.Network(topo, dtype=f64)
    fig = activity_heatmap(net, x, sample=1)
    assert fig.mpnet_rows == ["ASHL", "AVAL", "AVAR", "AVBL", "DA1"]     # ASH, AVA (L, R), AVB, DA
    (mesh,) = [c for c in fig.axes[0].collections if c.get_gid() == "activity"]
    values, ids, times = read_activity(net, x, fig.mpnet_rows, sample=1)
    assert mesh.get_array().reshape(5, 7).tolist() == values.tolist()
    seq = x[:, 1].tolist()
    assert values[:, -1].tolist() == pytest.approx([reference_recurrent(topo, seq)[1][n] for n in ids], abs=1e-12)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == fig.mpnet_rows
    assert fig.axes[0].get_ylabel() == "neuron (by cell class)"
    plt.close(fig)
    fig = activity_heatmap(net, x, ["DA1", "ASHL"], order=None, value="z")
    assert fig.mpnet_rows == ["DA1", "ASHL"] and fig.axes[0].get_ylabel() == "neuron"
    plt.close(fig)
    fig = activity_heatmap(net, x, order=lambda n, node: -node.bias)  # a key of one's own
    assert fig.mpnet_rows == ["AVBL", "ASHL", "DA1", "AVAR", "AVAL"]     # biases 0.4, 0.3, 0.2, 0.1, 0
    plt.close(fig)


def test_a_ctrnn_is_drawn_at_every_integration_step_against_its_clock():
    topo, x = worm("ctrnn"), inputs(steps=3, batch=1)
    net = mpnet.Network(topo, dtype=f64, advance_time=0.25, time_step=0.1)
    values, ids, times = read_activity(net, x, ["DA1", "AVAL"])
    assert times.tolist() == pytest.approx([0.1, 0.2, 0.25, 0.35, 0.45, 0.5, 0.6, 0.7, 0.75])
    _, state = reference_ctrnn(topo, x[:, 0].tolist(), 0.25, 0.1)
    assert values[:, -1].tolist() == pytest.approx([state.value["DA1"], state.value["AVAL"]], abs=1e-12)
    fig = activity_traces(net, x, ["DA1"])
    assert fig.axes[0].get_xlabel() == "time"
    plt.close(fig)


def test_unknown_ids_and_bad_arguments_are_named():
    net, x = mpnet.Network(worm(), dtype=f64), inputs()
    with pytest.raises(UnknownNodeError, match=r"Neuron 'AVAX' is not in topology 0 \(nearest: AVAR, AVAL"
                                               r".*1 of the 2 ids chosen are unknown: \['AVAX'\]"):
        activity_traces(net, x, ["DA1", "AVAX"])
    with pytest.raises(UnknownNodeError, match=r"Neuron 42 is not in topology 0 \(it has stim, AVAL"):
        activity_heatmap(net, x, [42])
    with pytest.raises(ArgumentError, match=r"Expected neurons to be a list of neuron ids .* one neuron\? pass "
                                            r"\['DA1'\]"):
        activity_traces(net, x, "DA1")
    with pytest.raises(ArgumentError, match=r"neurons=\[\] chooses no neuron"):
        activity_traces(net, x, [])
    with pytest.raises(ArgumentError, match=r"sample=3 is out of range: there are 3 sequences in x \(valid: 0 .. 2\)"):
        activity_traces(net, x, ["DA1"], sample=3)
    with pytest.raises(ArgumentError, match=r"topology=1 is out of range: there are 1 topologies"):
        activity_heatmap(net, x, topology=1)
    with pytest.raises(ArgumentError, match=r'Invalid value "v". Must be one of \["h", "z"\]'):
        activity_traces(net, x, ["DA1"], value="v")
    with pytest.raises(ArgumentError, match=r'Invalid order "type". Must be "cell_class", None, or a callable'):
        activity_heatmap(net, x, order="type")
    ff = mpnet.Network(Topology.from_edges([("a", "y", 1.0)], inputs=["a"], outputs=["y"]))
    with pytest.raises(ArgumentError, match=r"needs a recurrent or ctrnn network; this one is feed-forward"):
        activity_heatmap(ff, inputs())


def test_a_diverged_run_is_named_not_drawn():
    big = Topology([Node("x", "input"), Node("h", "hidden", "relu"), Node("y", "output")],
                   [Edge("x", "h", 1.0), Edge("h", "h", 1e200), Edge("h", "y", 1.0)], recurrent=True)
    net = mpnet.Network(big, dtype=f64)
    with pytest.raises(DataError, match=r"The activity of neuron 'h' is inf at step 3 \(sample 0\): the run "
                                        r"diverged or x holds NaN/inf"):
        activity_traces(net, torch.ones(4, 1, 1, dtype=f64), ["h"])
