"""mpnet.viz.draw_connectome: an adjacency matrix ordered by neuron type and class, each chemical synapse a
square coloured by its verdict (open grey when not called), gap junctions dots, a legend of what is drawn."""
import matplotlib
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import to_rgb  # noqa: E402

from mpnet import connectome  # noqa: E402
from mpnet.viz.edge_style import NEGATIVE, POSITIVE, UNKNOWN, fade  # noqa: E402
from mpnet.viz.draw_connectome import connectome_figure, draw_connectome, neuron_order  # noqa: E402

NEURONS = [("DA1", {"cell_class": "DA", "type": "motor"}), ("AVAR", {"cell_class": "AVA", "type": "interneuron"}),
           ("ASHL", {"cell_class": "ASH", "type": "sensory"}), ("AVAL", {"cell_class": "AVA", "type": "interneuron"})]
CHEMICAL = [("ASHL", "AVAL", 5, "Glutamate"), ("AVAL", "DA1", 7, "Acetylcholine"), ("AVAR", "DA1", 2, "GABA"),
            ("AVAL", "AVAR", 1, "Acetylcholine")]


@pytest.fixture
def topo():
    return connectome.build(NEURONS, CHEMICAL, [("AVAL", "AVAR", 3)], stimulate=["ASHL"], read_out=["DA1"])


def _squares(fig):
    return {p.get_gid()[5:]: p for p in fig.axes[0].patches if (p.get_gid() or "").startswith("edge:")}


def _rgb(c):
    return tuple(round(v, 4) for v in to_rgb(c))


def test_neurons_are_ordered_by_type_then_class_then_name(topo):
    assert [n for n, _, _ in neuron_order(topo)] == ["ASHL", "AVAL", "AVAR", "DA1"]


def test_each_synapse_is_a_square_in_its_cell_coloured_by_its_verdict(topo):
    signs = {("ASHL", "AVAL"): ("+", 0.8), ("AVAL", "DA1"): ("+", 1.0), ("AVAR", "DA1"): ("-", 1.0),
             ("AVAL", "AVAR"): ("?", 0.6)}
    fig = connectome_figure(topo, signs, title="t")
    try:
        squares = _squares(fig)
        assert set(squares) == {"ASHL->AVAL", "AVAL->DA1", "AVAR->DA1", "AVAL->AVAR"}
        order = {n: i for i, (n, _, _) in enumerate(neuron_order(topo))}
        for name, p in squares.items():
            src, dst = name.split("->")
            x, y = p.get_xy()
            assert int(x) == order[dst] and int(y) == order[src], name      # row: from, column: to
        assert _rgb(squares["ASHL->AVAL"].get_facecolor()) == _rgb(fade(POSITIVE, 0.8))   # paler: less sure
        assert _rgb(squares["AVAL->DA1"].get_facecolor()) == _rgb(POSITIVE)
        assert _rgb(squares["AVAR->DA1"].get_facecolor()) == _rgb(NEGATIVE)
        open_ = squares["AVAL->AVAR"]                      # not called: an open grey square, not a pale colour
        assert _rgb(open_.get_facecolor()) == (1.0, 1.0, 1.0) and _rgb(open_.get_edgecolor()) == _rgb(UNKNOWN)
        gaps = [line for line in fig.axes[0].lines if line.get_gid() == "gaps"]
        assert len(gaps) == 1 and len(gaps[0].get_xdata()) == 2             # one junction, in both of its cells
        texts = [t.get_text() for t in fig.legends[0].get_texts()]
        assert texts == ["+ excitatory (called)", "\u2212 inhibitory (called)",
                         "paler: lower confidence (0.75 shown)", "? not called", "gap junction (both cells)"]
        names = [t.get_text() for t in fig.axes[0].texts]
        assert names.count("AVA") == 2 and {"sensory", "interneuron", "motor"} <= set(names)   # a class named once
    finally:                                                                                       # per axis
        plt.close(fig)


def test_the_legend_lists_only_what_is_drawn(topo, tmp_path):
    fig = connectome_figure(topo, {k: ("+", 1.0) for k in [("ASHL", "AVAL"), ("AVAL", "DA1"), ("AVAR", "DA1"),
                                                            ("AVAL", "AVAR")]})
    try:
        assert [t.get_text() for t in fig.legends[0].get_texts()] == ["+ excitatory (called)",
                                                                      "gap junction (both cells)"]
    finally:
        plt.close(fig)
    path = tmp_path / "c.png"
    draw_connectome(topo, None, path)
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_a_bad_sign_names_the_edge(topo):
    with pytest.raises(ValueError, match="edge 'AVAL' -> 'DA1' has sign 'x'; expected"):
        connectome_figure(topo, {("AVAL", "DA1"): ("x", 1.0)})
