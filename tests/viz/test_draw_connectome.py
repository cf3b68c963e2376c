"""mpnet.viz.draw_connectome: columns by neuron type, classes named once, edges coloured by sign and faded by
confidence, gap junctions dashed."""
import matplotlib
import pytest

matplotlib.use("Agg")

from matplotlib.colors import to_rgb  # noqa: E402
from matplotlib.patches import FancyArrowPatch  # noqa: E402

from mpnet import connectome  # noqa: E402
from mpnet.viz.draw import NEGATIVE, POSITIVE, _fade  # noqa: E402
from mpnet.viz.draw_connectome import connectome_figure, draw_connectome  # noqa: E402

NEURONS = [("ASHL", {"cell_class": "ASH", "type": "sensory"}), ("AVAL", {"cell_class": "AVA", "type": "interneuron"}),
           ("AVAR", {"cell_class": "AVA", "type": "interneuron"}), ("DA1", {"cell_class": "DA", "type": "motor"})]
CHEMICAL = [("ASHL", "AVAL", 5, "Glutamate"), ("AVAL", "DA1", 7, "Acetylcholine"), ("AVAR", "DA1", 2, "GABA")]


def test_figure_colours_edges_by_sign_and_fades_by_confidence(tmp_path):
    topo = connectome.build(NEURONS, CHEMICAL, [("AVAL", "AVAR", 3)], stimulate=["ASHL"], read_out=["DA1"])
    signs = {("ASHL", "AVAL"): ("+", 0.5), ("AVAL", "DA1"): ("+", 1.0), ("AVAR", "DA1"): ("-", 1.0)}
    fig = connectome_figure(topo, signs, title="t")
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert texts[:2] == ["sensory", "ASH"] and texts.count("AVA") == 1 and "motor" in texts
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    colours = sorted(tuple(round(c, 4) for c in to_rgb(a.get_edgecolor())) for a in arrows)
    want = sorted(tuple(round(c, 4) for c in rgb) for rgb in
                  (_fade(POSITIVE, 0.5), _fade(POSITIVE, 1.0), _fade(NEGATIVE, 1.0)))
    assert colours == want
    assert [line.get_linestyle() for line in ax.lines] == ["--"]            # one gap junction, dashed
    path = tmp_path / "c.png"
    draw_connectome(topo, signs, path)
    assert path.stat().st_size > 1000

