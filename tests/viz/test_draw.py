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
from mpnet.viz.draw import NEGATIVE, POSITIVE, UNKNOWN, figure  # noqa: E402


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


def test_the_legend_explains_what_the_report_uses(fig_of, report):
    texts = [t.get_text() for t in fig_of(report).legends[0].get_texts()]
    for wanted in ("verdict (inferred or fixed)", "\u2212  negative", "label on each edge",
                   "verdict, confidence,\nw = best-fit weight", "constraint", "fixed sign (+ or \u2212)",
                   "free (no mark)", "width ~ |w| (best fit)", "neurons", "input", "output"):
        assert wanted in texts, wanted
    rows = report.edges
    assert any(t.startswith("?  not determined") for t in texts) == any(r.sign == "?" and r.identifiable
                                                                          for r in rows)
    assert any(t.startswith("?  no data can determine") for t in texts) == any(not r.identifiable for r in rows)
    assert "frozen value" not in texts                              # no frozen edge: no entry for one
    plain = [t.get_text() for t in fig_of(examples.question_network()).legends[0].get_texts()]
    assert not any(t.startswith("confidence") or t.startswith("label") for t in plain)
    assert not fig_of(report, legend=False).legends


def _rgb(line):
    return np.array(matplotlib.colors.to_rgb(line.get_color()))


def test_colour_is_the_verdict_and_the_pattern_says_why_a_sign_is_open(fig_of, report):
    lines = _by_gid(fig_of(report), "edge:")
    rows = {f"{r.src}->{r.dst}": r for r in report.edges}
    for name, line in lines.items():
        row, rgb = rows[name], _rgb(line)
        if row.sign == "?":
            assert np.allclose(rgb, matplotlib.colors.to_rgb(UNKNOWN)), name      # grey, never faded
        elif row.sign == "+":
            assert rgb[0] > rgb[2], name
        else:
            assert rgb[2] > rgb[0], name
        dashes = line.get_linestyle()
        assert (dashes == "--") == (not row.identifiable), name                  # a symmetry: dashed
        assert (dashes == ":") == (row.sign == "?" and row.identifiable), name   # open on these data: dotted
    # the two fixed "-" cross-layer edges are blue and marked as fixed, their sign written in the disc
    fig = fig_of(report)
    marks, labels = _by_gid(fig, "mark:"), _by_gid(fig, "edge-label:")
    assert {"a1->c1", "a2->c2"} <= set(marks)
    for name in ("a1->c1", "a2->c2"):
        assert np.allclose(_rgb(lines[name]), matplotlib.colors.to_rgb(NEGATIVE), atol=0.02)
        assert labels[name].get_text() == "\u2212"


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


def _synthetic_report(rows, topo=None, threshold=0.95):
    """A SignReport with the given ``(src, dst, sign, confidence, weight, identifiable, relative)`` rows on the
    question's wiring (or ``topo``): every kind of verdict, without fitting anything."""
    from mpnet.signs import EdgeSign, SignReport
    topo = topo or examples.unknown_weights(examples.question_network())
    edges = []
    for src, dst, sign, conf, weight, ident, rel in rows:
        e = topo.edges[(src, dst)]
        constraint = "frozen" if not e.trainable else f"fixed {e.sign}" if e.sign else "free"
        edges.append(EdgeSign(src, dst, sign, conf, weight, ident, "test", constraint, rel, "a2->b2" if rel else ""))
    weights = {(r[0], r[1]): r[4] for r in rows if topo.edges[(r[0], r[1])].trainable}
    return SignReport(edges, "refit", 1e-5, 1e-5, "test", threshold, topology=topo.with_weights(weights))


QUESTION_ROWS = [("x1", "a1", "+", 0.97, 2.0, True, ""),      # called, a little unsure
                 ("x2", "a2", "-", 1.0, -1.5, True, ""),      # called, sure
                 ("a1", "b1", "?", 0.6, 0.8, True, ""),       # these data leave it open
                 ("a2", "b2", "?", 0.0, 0.9, False, "+"),     # a symmetry: no data can determine it
                 ("b1", "c1", "?", 0.52, -0.3, True, ""),
                 ("b2", "c2", "?", 0.9, -0.7, False, "-"),
                 ("a1", "c1", "-", 1.0, -0.6, True, ""),      # fixed by declaration
                 ("a2", "c2", "-", 1.0, -1.2, True, ""),
                 ("c1", "y", "+", 0.99, 1.1, True, ""),
                 ("c2", "y", "?", 0.3, 0.4, True, "")]
VERDICT = {"+": "+", "-": "\u2212", "?": "?"}


def test_each_edge_is_labelled_with_its_verdict_confidence_and_weight(fig_of):
    report = _synthetic_report(QUESTION_ROWS)
    fig = fig_of(report)
    labels = _by_gid(fig, "edge-label:")
    assert set(labels) == {f"{r.src}->{r.dst}" for r in report.edges}
    for row in report.edges:
        text = labels[f"{row.src}->{row.dst}"].get_text()
        assert text.startswith(VERDICT[row.sign]), (row.key, text)
        if row.constraint == "free":
            assert f"{row.confidence:.2f}" in text and f"w={row.weight:+.3g}".replace("-", "\u2212") in text, text
        if row.relative:
            assert f"(rel. {VERDICT[row.relative]})" in text, text


def test_edge_labels_sit_on_their_edge_clear_of_neurons_and_each_other(fig_of):
    fig = fig_of(_synthetic_report(QUESTION_ROWS))
    renderer = fig.canvas.get_renderer()
    edges, nodes = _edge_pixels(fig), _node_ellipses(fig)
    boxes = {}
    for name, text in _by_gid(fig, "edge-label:").items():
        patch = text.get_bbox_patch()
        box = (patch if patch is not None else text).get_window_extent(renderer)
        boxes[name] = box
        centre = np.array([(box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2])
        assert np.linalg.norm(edges[name][0] - centre, axis=1).min() < 3.0, name    # on its own edge
        if patch is None:
            continue                                                               # a fixed sign's disc
        for node, (c, r) in nodes.items():                                         # box clear of every ellipse
            nearest = np.clip(c, [box.x0, box.y0], [box.x1, box.y1])
            assert (((nearest - c) / r) ** 2).sum() >= 1.0, (name, node)
    for (a, ba), (b, bb) in itertools.combinations(boxes.items(), 2):
        assert not _boxes_overlap(ba, bb), (a, b)
    assert _text_overlaps(fig) == []


def test_not_determined_is_drawn_apart_from_low_confidence(fig_of):
    lines = _by_gid(fig_of(_synthetic_report(QUESTION_ROWS)), "edge:")
    unsure, sure, open_, blind = lines["x1->a1"], lines["c1->y"], lines["a1->b1"], lines["a2->b2"]
    assert unsure.get_linestyle() == sure.get_linestyle() == "-"            # a called sign is a solid line
    assert _rgb(unsure)[0] > _rgb(unsure)[2] and _rgb(unsure).mean() > _rgb(sure).mean()   # red, paler when unsure
    assert open_.get_linestyle() == ":" and np.allclose(_rgb(open_), matplotlib.colors.to_rgb(UNKNOWN))
    assert blind.get_linestyle() == "--" and np.allclose(_rgb(blind), matplotlib.colors.to_rgb(UNKNOWN))


def test_the_legend_has_an_entry_only_for_what_is_drawn(fig_of):
    every = [t.get_text() for t in fig_of(_synthetic_report(QUESTION_ROWS)).legends[0].get_texts()]
    for wanted in ("+  positive", "\u2212  negative", "confidence of a called sign", "0.97", "paler: less sure"):
        assert wanted in every, wanted
    assert any(t.startswith("?  not determined") for t in every)
    assert any(t.startswith("?  no data can determine") for t in every)
    determinable = [(s, d, sign, c, w, True, "") for s, d, sign, c, w, _, _ in QUESTION_ROWS]
    some = [t.get_text() for t in fig_of(_synthetic_report(determinable)).legends[0].get_texts()]
    assert not any(t.startswith("?  no data can determine") for t in some)
    called = [(s, d, "+" if w > 0 else "-", 1.0, w, True, "") for s, d, _, _, w, _, _ in QUESTION_ROWS]
    none_open = [t.get_text() for t in fig_of(_synthetic_report(called)).legends[0].get_texts()]
    assert not any(t.startswith("?") for t in none_open)
    assert "paler: less sure" not in none_open                      # every called sign is sure


def test_a_big_network_is_drawn_thin(fig_of):
    dag = mpnet.sample.random_dag(n_inputs=4, n_outputs=2, n_hidden=40, avg_in_degree=3, seed=1, weights=True)
    widest = lambda fig: max(line.get_linewidth() for line in _by_gid(fig, "edge:").values())
    assert widest(fig_of(dag)) < 0.6 * widest(fig_of(examples.question_network()))


@pytest.mark.slow
def test_a_report_of_over_60_edges_is_labelled_only_when_asked(fig_of):
    dag = mpnet.sample.random_dag(n_inputs=3, n_outputs=2, n_hidden=20, avg_in_degree=3, seed=2, weights=True)
    assert dag.num_edges > 60
    rows = [(s, d, "+" if e.weight > 0 else "-", 1.0, e.weight, True, "") for (s, d), e in dag.edges.items()]
    report = _synthetic_report(rows, examples.unknown_weights(dag))
    assert _by_gid(fig_of(report), "edge-label:") == {}
    fig = fig_of(report, edge_labels=True)
    assert len(_by_gid(fig, "edge-label:")) == dag.num_edges and _text_overlaps(fig) == []
