"""Which synapse signs does the worm's signal-propagation atlas fix? (Randi et al. 2023, refit test)

scripts/connectome_atlas.py asks whether the wiring predicts held-out responses. This asks the converse: fitted to
the measured responses, which signs of the worm's chemical synapses does the refit test (mpnet.infer_signs) call,
and do they agree with the presynaptic transmitter (acetylcholine +, GABA -)?

The model is scripts/connectome_atlas.py's (mpnet.connectome.propagation, --share class): a recurrent tanh
network on the wiring, each stimulation a drive of 1 into one neuron for --steps steps from rest, a responder's
response its activity summed over those steps times a positive gain; chemical strengths tied per (presynaptic
class, postsynaptic class), so each class pair's sign is one free parameter; gap junctions tied per pair, g >= 0.
The refit test fits every target, so the data are a block of the atlas whose every pair was measured
(mpnet.connectome.synapses.dense_block), restricted to the --classes cell classes with the most significant
pairs in it; the model is the subcircuit of those neurons. The noise floor is the variance of one measured mean
response estimated from left/right mirror pairs over the whole atlas (an upper estimate: true left/right
differences count as noise).

    python scripts/connectome_synapse_signs.py                        # 8 classes, Effort.quick()
    python scripts/connectome_synapse_signs.py --picture synapse_signs.png
    python scripts/connectome_synapse_signs.py --quick                # 3 classes, a small search (CI)
    python scripts/connectome_synapse_signs.py --from-csv docs/pictures/data/atlas_synapse_signs.csv \
        --picture docs/pictures/atlas_synapse_signs.png    # from the committed rows: best-fit signs, the picture
"""
import argparse
import csv
import os
import sys
import time
from typing import Dict, List, Optional, Sequence, Tuple

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import mpnet  # noqa: E402
from mpnet import connectome  # noqa: E402
from mpnet.connectome import propagation, synapses  # noqa: E402
from mpnet.signs import Effort, SignReport  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _args import Parser, guarded, int_at_least, number, one_of  # noqa: E402

#: --quick's search: small enough for CI, the same code path
QUICK = Effort(starts=8, keep=2, islands=1, pool=1, redraws=1, rounds=1, hop_iters=40, polish_iters=150,
               explore_iters=40, smooth=())
EXPECTED = {"ACh": "+", "GABA": "-"}


def parser() -> Parser:
    ap = Parser(prog="connectome_synapse_signs.py", description=__doc__,
                formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--classes", type=int_at_least(1, 100), default=None,
                    help="cell classes kept, most significant pairs first (8; --quick 3)")
    ap.add_argument("--steps", type=int_at_least(1, 1000), default=10, help="steps of each stimulation (10)")
    ap.add_argument("--effort", type=one_of(("quick", "default")), default="quick",
                    help="the sign test's search: Effort.quick() (default) or Effort()")
    ap.add_argument("--alpha", type=number(0, 1, open_low=True), default=0.05, help="q-value threshold (0.05)")
    ap.add_argument("--threshold", type=number(0, 1), default=0.95, help="confidence a call needs (0.95)")
    ap.add_argument("--seed", type=int_at_least(0), default=0, help="the sign test's seed (0)")
    ap.add_argument("--quick", action="store_true", help="3 classes and a small search (CI; same code path)")
    ap.add_argument("--picture", default=None, help="draw the class-pair heatmap to this PNG/SVG/PDF")
    ap.add_argument("--csv", default=None, help="write one row per class pair to this CSV")
    ap.add_argument("--from-csv", default=None, metavar="CSV",
                    help="read a run's rows (written by --csv) instead of running the test: print the best fit's "
                         "signs against the transmitter rule and draw --picture (seconds)")
    return ap


def group_rows(report: SignReport, groups: Dict[str, synapses.ClassGroup]) -> Dict[str, object]:
    """Each class group's row of the report (the test reports a tie group once, on one of its edges)."""
    out: Dict[str, object] = {}
    for row in report.edges:
        for name, g in groups.items():
            if row.key in g.edges and row.reason.startswith(f"tie group {name!r}"):
                out[name] = row
    missing = sorted(set(groups) - set(out))
    if missing:
        raise RuntimeError(f"the report has no row for the class groups {missing[:5]}")
    return out


def agreement_table(groups: Dict[str, synapses.ClassGroup], rows: Dict[str, object]) -> List[str]:
    lines = [f"{'presynaptic transmitter':24s}{'class pairs':>12s}{'called +':>10s}{'called -':>10s}{'?':>6s}"
             f"{'expected':>10s}{'agree':>7s}{'contradict':>12s}"]
    for t in synapses.GROUPS:
        mine = [rows[n] for n, g in groups.items() if synapses.transmitter_group(g.transmitters) == t]
        plus = sum(r.sign == "+" for r in mine)         # type: ignore[attr-defined]
        minus = sum(r.sign == "-" for r in mine)        # type: ignore[attr-defined]
        want = EXPECTED.get(t)
        agree = "-" if want is None else str(plus if want == "+" else minus)
        against = "-" if want is None else str(minus if want == "+" else plus)
        lines.append(f"{t:24s}{len(mine):>12d}{plus:>10d}{minus:>10d}{len(mine) - plus - minus:>6d}"
                     f"{want or 'free':>10s}{agree:>7s}{against:>12s}")
    return lines


def contradictions(groups: Dict[str, synapses.ClassGroup], rows: Dict[str, object]) -> List[Tuple[str, object]]:
    out = []
    for n, g in groups.items():
        want = EXPECTED.get(synapses.transmitter_group(g.transmitters))
        row = rows[n]
        if want and row.sign in ("+", "-") and row.sign != want:      # type: ignore[attr-defined]
            out.append((n, row))
    return out


def fit_line(report: SignReport, values: int, parameters: int) -> str:
    ratio = report.floor_ratio
    if ratio > 3:
        verdict = "a poor fit: far above the noise, so no sign can be called against it"
    elif ratio > 1.5:
        verdict = "not at the floor (1.5x), so no sign can be called against it"
    else:
        verdict = "at or below the floor (1.5x)"
        if 2 * parameters > values:
            verdict += (f", but the model has {parameters} parameters for {values} values: it fits noise too, "
                        f"which leaves room for opposite-sign fits")
    return (f"fit: best loss {report.loss:.3e}, noise floor {report.noise_variance:.3e} ({report.noise_method}): "
            f"ratio {ratio:.2f}, {verdict}; best fit {'stable' if report.stable else 'still improving'}")


def class_info(wiring: mpnet.Topology) -> Tuple[Dict[str, str], Dict[str, str]]:
    """Per cell class of the wiring: its type (sensory, interneuron, motor, other) and its transmitter group."""
    kind: Dict[str, str] = {}
    labels: Dict[str, set] = {}
    for n, node in wiring.nodes.items():
        if node.role == "input":
            continue
        meta = node.meta or {}
        c = str(meta.get("cell_class", n))
        kind[c] = str(meta.get("type", "other"))
        labels.setdefault(c, set()).add(connectome.synapse_transmitter(list(meta.get("transmitters") or [])))
    return kind, {c: synapses.transmitter_group(sorted(v)) for c, v in labels.items()}


def contradicts(cell: Dict[str, str]) -> bool:
    """Whether a CSV row's call is against its transmitter's expected sign (ACh +, GABA -)."""
    want = EXPECTED.get(synapses.transmitter_group(cell["transmitter"].split("|")))
    return want is not None and cell["sign"] in ("+", "-") and cell["sign"] != want


def draw(path: str, cells: List[Dict[str, str]], wiring: mpnet.Topology) -> None:
    """The class-pair heatmap from ``cells``, the CSV's rows (``--csv``; ``--from-csv`` reads them back)."""
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch, Rectangle
    from mpnet.viz.edge_style import NEGATIVE, POSITIVE, UNKNOWN, fade

    kind, pre_nt = class_info(wiring)
    rank = {"sensory": 0, "interneuron": 1, "motor": 2}
    present = {c["pre"] for c in cells} | {c["post"] for c in cells}
    classes = sorted(present, key=lambda c: (rank.get(kind.get(c, "other"), 3), c))
    index = {c: i for i, c in enumerate(classes)}
    size, cell = len(classes), 0.55
    fig = plt.figure(figsize=(max(size * cell + 3.0, 7.5), size * cell + 2.6))
    w, h = fig.get_size_inches()
    ax = fig.add_axes((((w - size * cell) / 2 + 0.5) / w, 1.0 / h, size * cell / w, size * cell / h))
    ax.set_xlim(0, size)
    ax.set_ylim(size, 0)
    for c in cells:
        sign, conf, weight = c["sign"], float(c["confidence"]), float(c["weight"])
        best = "+" if weight > 0 else "\u2212" if weight < 0 else "0"
        x, y = index[c["post"]] + 0.06, index[c["pre"]] + 0.06
        against = contradicts(c)
        if sign == "?":
            patch = Rectangle((x, y), 0.88, 0.88, facecolor="white", edgecolor=UNKNOWN, linewidth=0.7)
        else:
            patch = Rectangle((x, y), 0.88, 0.88, facecolor=fade(POSITIVE if sign == "+" else NEGATIVE, conf),
                              edgecolor="black" if against else "none", linewidth=2.0 if against else 0)
        ax.add_patch(patch)
        text = f"?\n({best} {conf:.2f})" if sign == "?" else f"{sign.replace('-', chr(0x2212))}\n{conf:.2f}"
        ax.text(x + 0.44, y + 0.44, text, ha="center", va="center", fontsize=6.5,
                color="#333333" if sign == "?" else "white")
    ax.set_xticks([i + 0.5 for i in range(size)])
    ax.set_xticklabels(classes, rotation=90, fontsize=7)
    ax.set_yticks([i + 0.5 for i in range(size)])
    ax.set_yticklabels([f"{c} ({pre_nt.get(c, '-')})" for c in classes], fontsize=7)
    ax.xaxis.tick_top()
    for i in range(1, size):
        ax.axhline(i, color="#d0d0d0", linewidth=0.5, zorder=0)
        ax.axvline(i, color="#d0d0d0", linewidth=0.5, zorder=0)
    ax.set_xlabel("to (postsynaptic class)", fontsize=9)
    ax.set_ylabel("from (presynaptic class)", fontsize=9)
    entries = [(Patch(facecolor=POSITIVE), "+ called"), (Patch(facecolor=NEGATIVE), "\u2212 called"),
               (Patch(facecolor="white", edgecolor=UNKNOWN),
                "? not called (in brackets: the best fit's sign, its confidence)"),
               (Patch(facecolor="white", edgecolor="black", linewidth=2.0), "contradicts ACh + / GABA \u2212")]
    shown = {c["sign"] for c in cells} | ({"x"} if any(contradicts(c) for c in cells) else set())
    entries = [e for e, key in zip(entries, ("+", "-", "?", "x")) if key in shown]     # only what is drawn
    fig.legend([e for e, _ in entries], [n for _, n in entries], loc="lower center", ncol=2, fontsize=7,
               frameon=False, bbox_to_anchor=(0.5, 0.0))
    called = sum(c["sign"] != "?" for c in cells)
    fig.text(0.5, 1 - 0.25 / h, f"Synapse signs from the signal-propagation atlas (Randi et al. 2023): {called} of "
             f"{len(cells)} class pairs called", ha="center", va="center", fontsize=9)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def csv_rows(groups: Dict[str, synapses.ClassGroup], rows: Dict[str, object]) -> List[Dict[str, str]]:
    out = []
    for n, g in groups.items():
        r = rows[n]
        out.append({"pre": g.pre, "post": g.post, "transmitter": "|".join(g.transmitters),
                    "synapses": str(g.synapses), "edges": str(len(g.edges)), "sign": r.sign,  # type: ignore
                    "confidence": f"{r.confidence:.4f}", "weight": f"{r.weight:.6g}",   # type: ignore
                    "ratio": f"{r.ratio:.6g}", "reason": r.reason})   # type: ignore[attr-defined]
    return out


COLUMNS = ["pre", "post", "transmitter", "synapses", "edges", "sign", "confidence", "weight", "ratio", "reason"]


def best_fit_table(cells: List[Dict[str, str]]) -> List[str]:
    """The best fit's sign of every class pair, called or not, against the transmitter rule."""
    lines = [f"the best fit's signs, called or not ({len(cells)} class pairs):",
             f"{'presynaptic transmitter':24s}{'class pairs':>12s}{'best +':>8s}{'best -':>8s}{'expected':>10s}"
             f"{'agree':>7s}"]
    for t in synapses.GROUPS:
        mine = [c for c in cells if synapses.transmitter_group(c["transmitter"].split("|")) == t]
        plus = sum(float(c["weight"]) > 0 for c in mine)
        minus = sum(float(c["weight"]) < 0 for c in mine)
        want = EXPECTED.get(t)
        agree = "-" if want is None else str(plus if want == "+" else minus)
        lines.append(f"{t:24s}{len(mine):>12d}{plus:>8d}{minus:>8d}{want or 'free':>10s}{agree:>7s}")
    return lines


def read_csv(path: str) -> List[Dict[str, str]]:
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames != COLUMNS:
            raise ValueError(f"{path}: expected the columns {COLUMNS} (a file written by --csv); got "
                             f"{reader.fieldnames}")
        return list(reader)


def write_csv(path: str, cells: List[Dict[str, str]]) -> None:
    with open(path, "w", newline="") as f:
        out = csv.DictWriter(f, COLUMNS)
        out.writeheader()
        out.writerows(cells)


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parser().parse_args(argv)
    if args.from_csv:
        cells = read_csv(args.from_csv)
        print("\n".join(best_fit_table(cells)))
        if args.picture:
            draw(args.picture, cells, connectome.load())
            print(f"wrote {args.picture} from {args.from_csv}")
        return
    k = args.classes or (3 if args.quick else 8)
    effort = QUICK if args.quick else Effort.quick() if args.effort == "quick" else Effort()
    torch.set_num_threads(1)
    start = time.process_time()
    wiring, atlas = connectome.load(), connectome.atlas()
    responses = propagation.align(atlas, wiring, alpha=args.alpha)
    block_rows, block_cols = synapses.dense_block(responses)
    classes = synapses.choose_classes(responses, block_rows, block_cols, k)
    rows = [i for i in block_rows if connectome.cell_class(responses.stimulated[i]) in classes]
    cols = [j for j in block_cols if connectome.cell_class(responses.read_out[j]) in classes]
    problem = synapses.sign_problem(wiring, responses, rows, cols, steps=args.steps)
    groups = synapses.class_groups(problem.topology)
    variance, pairs = synapses.mirror_noise(responses, wiring)
    sig = responses.significant[rows][:, cols]
    values = problem.Y.numel()
    n_gap = sum(1 for t in problem.topology.ties if t.startswith("gap:"))
    n_bias = sum(1 for n in problem.topology.nodes.values() if n.role != "input")
    parameters = len(groups) + n_gap + len(problem.read_out) + n_bias
    print("command: python scripts/connectome_synapse_signs.py " + " ".join(sys.argv[1:] if argv is None else argv))
    print(f"wiring: {wiring}; atlas: {atlas}")
    print(f"fully measured block: {len(block_rows)} stimulated x {len(block_cols)} responding neurons "
          f"(dense_block); the {k} classes with most significant pairs in it: {', '.join(classes)}")
    print(f"data: {len(rows)} stimulated x {len(cols)} responding = {values} responses, {int(sig.sum())} significant "
          f"at q < {args.alpha:g} ({int((problem.Y[sig] > 0).sum())} positive, {int((problem.Y[sig] < 0).sum())} "
          f"negative)")
    print(f"  stimulated: {' '.join(problem.stimulated)}\n  read out:   {' '.join(problem.read_out)}")
    print(f"model: {problem.topology}; subcircuit of {len(problem.neurons)} neurons; {len(groups)} free signs (one "
          f"per class pair), {n_gap} gap conductances, {len(problem.read_out)} gains, {n_bias} biases: {parameters} "
          f"parameters for {values} values")
    print(f"noise: variance {variance:.3e} of one mean response (std {variance ** 0.5:.3f}), from {pairs} left/right "
          f"mirror pairs of the atlas; the responses' mean square here {float((problem.Y ** 2).mean()):.3e}")
    print(f"sign test: mpnet.infer_signs, {'--quick search' if args.quick else f'Effort.{args.effort}()'}, "
          f"seed {args.seed}, threshold {args.threshold:g}; torch threads 1", flush=True)
    report = mpnet.infer_signs(problem.topology, problem.X, problem.Y, effort=effort, seed=args.seed,
                               noise_std=variance ** 0.5, threshold=args.threshold, progress=False,
                               log=lambda line: print("  " + line, file=sys.stderr, flush=True))
    rows_of = group_rows(report, groups)
    print("\n" + fit_line(report, values, parameters))
    if report.note:
        print(f"report's note: {report.note}")
    print(f"\n(a) calls against the presynaptic transmitter ({len(groups)} class pairs; ACh +, GABA - expected, "
          f"glutamate and the rest free):")
    print("\n".join(agreement_table(groups, rows_of)))
    against = contradictions(groups, rows_of)
    print(f"\n(b) calls that contradict the transmitter rule: {len(against) or 'none'}")
    for n, r in against:
        g = groups[n]
        print(f"  {g.pre} > {g.post} ({'|'.join(g.transmitters)}, {g.synapses:g} synapses): "
              f"{r.sign} at {r.confidence:.2f}; {r.reason}")   # type: ignore[attr-defined]
    called = [(n, r) for n, r in rows_of.items() if r.sign != "?"]     # type: ignore[attr-defined]
    print(f"\nevery call ({len(called)} of {len(groups)}):" + ("" if called else " none"))
    for n, r in called:
        g = groups[n]
        print(f"  {g.pre} > {g.post} ({'|'.join(g.transmitters)}, {g.synapses:g} synapses): "
              f"{r.sign} at {r.confidence:.2f}, ratio {r.ratio:.2f}")   # type: ignore[attr-defined]
    ratios = sorted(((r.ratio, n) for n, r in rows_of.items() if r.ratio == r.ratio), reverse=True)  # type: ignore
    print("largest test ratios (opposite sign's extra loss over the best loss): " +
          ", ".join(f"{groups[n].pre}>{groups[n].post} {x:.2f}" for x, n in ratios[:6]))
    seconds = time.process_time() - start
    print(f"\n(c) {fit_line(report, values, parameters)}")
    print(f"total {seconds:.0f} CPU s (one thread)")
    cells = csv_rows(groups, rows_of)
    if args.csv:
        write_csv(args.csv, cells)
        print(f"wrote {args.csv}")
    if args.picture:
        draw(args.picture, cells, wiring)
        print(f"wrote {args.picture}")


if __name__ == "__main__":
    sys.exit(guarded(main, prog="connectome_synapse_signs.py"))
