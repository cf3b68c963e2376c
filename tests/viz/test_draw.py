"""mpnet.viz.draw: checked on the drawn geometry itself (the artists of the matplotlib figure), not by eye only."""
import itertools

import numpy as np
import pytest
import torch

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import mpnet  # noqa: E402
from mpnet import examples  # noqa: E402
from mpnet.viz.draw import NEGATIVE, POSITIVE, figure  # noqa: E402


@pytest.fixture(scope="module")
def report():
    torch.manual_seed(0)
    X, Y = examples.question_task(256)
    return mpnet.infer_signs(examples.question_network(), X, Y, method="ensemble", ensemble=8, epochs=150, seed=0,
                             threshold=0.9)


@pytest.fixture
def fig_of():
    made = []

    def make(obj, **kw):
        fig = figure(obj, **kw)
        fig.canvas.draw()
        made.append(fig)
        return fig
    yield make
    for fig in made:
        plt.close(fig)


def _by_gid(fig, prefix):
    ax = fig.axes[0]
    out = {}
    for artist in list(ax.lines) + list(ax.patches) + list(ax.texts):
        gid = artist.get_gid() or ""
        if gid.startswith(prefix):
            out[gid[len(prefix):]] = artist
    return out


def _px_per_unit(fig):
    ax = fig.axes[0]
    (x0, _), (x1, _) = ax.transData.transform([(0, 0), (1, 0)])
    return x1 - x0


def _dense(xy, step):
    """The polyline ``xy`` [n, 2] resampled so consecutive points are at most ``step`` apart."""
    out = [xy[:1]]
    for p, q in zip(xy[:-1], xy[1:]):
        n = max(1, int(np.ceil(np.linalg.norm(q - p) / step)))
        t = np.linspace(0, 1, n + 1)[1:, None]
        out.append(p + t * (q - p))
    return np.concatenate(out)


def _edge_pixels(fig):
    """{"src->dst": (points [n, 2] in pixels, half line width in pixels)} for every drawn edge."""
    ax = fig.axes[0]
    px_per_pt = fig.dpi / 72
    return {name: (_dense(ax.transData.transform(line.get_xydata()), 1.0), line.get_linewidth() * px_per_pt / 2)
            for name, line in _by_gid(fig, "edge:").items()}


def _node_ellipses(fig):
    """{node: (centre [2], half axes [2]) in pixels}."""
    ax = fig.axes[0]
    k = _px_per_unit(fig)
    return {name: (ax.transData.transform([p.center])[0], np.array([p.width, p.height]) * k / 2)
            for name, p in _by_gid(fig, "node:").items()}


def _edges_through_nodes(fig):
    """The (edge, node) pairs where an edge's stroke or arrowhead enters a node other than its endpoints."""
    nodes = _node_ellipses(fig)
    heads = {name: fig.axes[0].transData.transform(p.get_xy()) for name, p in _by_gid(fig, "head:").items()}
    bad = []
    for name, (pts, half) in _edge_pixels(fig).items():
        src, dst = name.split("->")
        for node, (c, r) in nodes.items():
            if node in (src, dst):
                continue
            for xy, grow in ((pts, half), (heads.get(name, np.zeros((0, 2))), 0.0)):
                if len(xy) and (((xy - c) / (r + grow)) ** 2).sum(1).min() < 1.0:
                    bad.append((name, node))
    return sorted(set(bad))


def _boxes_overlap(a, b):
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def _text_overlaps(fig):
    renderer = fig.canvas.get_renderer()
    texts = [t for t in fig.axes[0].texts + fig.texts if t.get_text()]
    boxes = [(t.get_gid() or t.get_text(), t.get_window_extent(renderer)) for t in texts]
    return [(a, b) for (a, ba), (b, bb) in itertools.combinations(boxes, 2) if _boxes_overlap(ba, bb)]


def test_the_question_edges_do_not_pass_through_neurons(fig_of, report):
    # the old drawing ran a1 -> c1 straight through b1, on top of a1 -> b1 -> c1
    for obj in (examples.question_network(), report):
        assert _edges_through_nodes(fig_of(obj)) == []


def test_the_skipping_edge_stays_apart_from_the_chain_it_skips(fig_of):
    fig = fig_of(examples.question_network())
    edges, nodes = _edge_pixels(fig), _node_ellipses(fig)
    radius = max(r.max() for _, r in nodes.values())
    for skip, chain in ((("a1", "c1"), [("a1", "b1"), ("b1", "c1")]), (("a2", "c2"), [("a2", "b2"), ("b2", "c2")])):
        pts, half = edges["->".join(skip)]
        far = np.ones(len(pts), bool)
        for end in skip:                       # away from the shared end neurons, where they must meet
            far &= np.linalg.norm(pts - nodes[end][0], axis=1) > 2.5 * radius
        for link in chain:
            other, other_half = edges["->".join(link)]
            gap = np.linalg.norm(pts[far][:, None, :] - other[None, :, :], axis=2).min() - half - other_half
            assert gap > 5 * fig.dpi / 72, (skip, link, gap)   # at least 5 points of white between the strokes


@pytest.mark.parametrize("make", [
    lambda: examples.question_network(),
    lambda: mpnet.sample.random_dag(n_inputs=4, n_outputs=2, n_hidden=40, avg_in_degree=3, seed=1, weights=True),
    lambda: mpnet.sample.random_dag(n_inputs=3, n_outputs=3, n_hidden=55, avg_in_degree=2.5, seed=7),
    lambda: mpnet.sample.layered([5, 8, 8, 6, 2], density=0.5, skip=0.4, seed=3),
], ids=["question", "dag40", "dag55", "layered-skip"])
def test_no_edge_enters_a_neuron_and_no_labels_overlap(fig_of, make):
    fig = fig_of(make())
    assert _edges_through_nodes(fig) == []
    assert _text_overlaps(fig) == []
    renderer = fig.canvas.get_renderer()
    nodes = _node_ellipses(fig)
    for name, text in _by_gid(fig, "label:").items():
        box, (c, r) = text.get_window_extent(renderer), nodes[name]
        assert box.width < 2 * r[0] and abs((box.x0 + box.x1) / 2 - c[0]) < 1.0     # the label sits in its disc


def test_a_neat_genome_draws_cleanly_with_a_legend(fig_of):
    from mpnet import search
    algo = search.NEAT(n_inputs=2, n_outputs=1, population=30, seed=0)
    for _ in range(15):                       # reward size, so the genomes grow hidden neurons
        algo.tell([t.num_edges + 0.1 * t.num_nodes + float(torch.rand(())) for t in algo.ask()])
    topo = max(algo.ask(), key=lambda t: t.num_edges)
    assert topo.num_nodes > 6
    fig = fig_of(topo)
    assert _edges_through_nodes(fig) == [] and _text_overlaps(fig) == []
    assert fig.legends and fig.legends[0].get_gid() == "legend"


def test_the_legend_explains_sign_confidence_constraint_and_width(fig_of, report):
    texts = [t.get_text() for t in fig_of(report).legends[0].get_texts()]
    for wanted in ("sign (inferred or fixed)", "+  positive", "\u2212  negative", "?  not determined",
                   "confidence (any colour)", "1.0 (sure)", "0.5", "0.0", "constraint", "fixed sign (+ or \u2212)", "frozen value",
                   "free (no mark)", "width ~ |w| (best fit)", "neurons", "input", "output"):
        assert wanted in texts, wanted
    assert any(t.startswith("dashed: no data can") for t in texts)
    plain = [t.get_text() for t in fig_of(examples.question_network()).legends[0].get_texts()]
    assert not any(t.startswith("confidence") for t in plain)      # a plain topology has no confidence
    assert not fig_of(report, legend=False).legends


def _rgb(line):
    return np.array(matplotlib.colors.to_rgb(line.get_color()))


def test_colour_is_the_sign_grey_for_unknown_and_paler_when_unsure(fig_of, report):
    lines = _by_gid(fig_of(report), "edge:")
    rows = {f"{r.src}->{r.dst}": r for r in report.edges}
    for name, line in lines.items():
        row, rgb = rows[name], _rgb(line)
        if row.sign == "?":
            assert np.ptp(rgb) < 1e-9, name                     # grey
        elif row.sign == "+":
            assert rgb[0] > rgb[2], name
        else:
            assert rgb[2] > rgb[0], name
        assert (line.get_linestyle() != "-") == (not row.identifiable), name
    unknown = sorted((rows[n].confidence, _rgb(l).mean()) for n, l in lines.items() if rows[n].sign == "?")
    if unknown[0][0] < unknown[-1][0]:
        assert unknown[0][1] > unknown[-1][1]                   # less sure -> lighter
    # the two fixed "-" cross-layer edges are blue and marked as fixed
    marks = _by_gid(fig_of(report), "mark:")
    assert {"a1->c1", "a2->c2"} <= set(marks)
    for name in ("a1->c1", "a2->c2"):
        assert np.allclose(_rgb(lines[name]), matplotlib.colors.to_rgb(NEGATIVE), atol=0.02)


def test_width_grows_with_the_weight_and_frozen_edges_are_marked(fig_of):
    topo = mpnet.Topology.from_edges([("x", "h", 2.0), ("x", "y", -0.5), ("h", "y", 1.0)], inputs=["x"],
                                     outputs=["y"], frozen=[("x", "y")])
    fig = fig_of(topo)
    lines = _by_gid(fig, "edge:")
    widths = {k: v.get_linewidth() for k, v in lines.items()}
    assert widths["x->h"] > widths["h->y"] > widths["x->y"]
    assert np.allclose(_rgb(lines["x->h"]), matplotlib.colors.to_rgb(POSITIVE), atol=0.02)
    assert set(_by_gid(fig, "mark:")) == {"x->y"}


def test_draw_writes_each_format_and_rejects_what_it_cannot_draw(tmp_path):
    topo = examples.question_network()
    for ext in ("png", "svg", "pdf"):
        mpnet.draw(topo, tmp_path / f"q.{ext}")
        assert (tmp_path / f"q.{ext}").stat().st_size > 1000
    with pytest.raises(TypeError, match="Expected a Topology, a single-topology Network or a SignReport"):
        mpnet.draw(mpnet.Network([topo, topo]), tmp_path / "x.png")
    fig = figure(topo, figsize=(4, 3))
    w, h = fig.get_size_inches()
    plt.close(fig)
    assert w <= 4 + 1e-6 and h <= 3 + 1e-6 and (abs(w - 4) < 1e-6 or abs(h - 3) < 1e-6)
