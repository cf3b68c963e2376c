"""The scoring and tables of scripts/connectome_signs.py (not a script): one seed's verdicts per chemical edge,
the per-seed precision and fraction called with their mean and 95 % interval across seeds, the tables pooled
over seeds (per transmitter class, per presynaptic neuron class, per synapse count, per confidence bin) and the
edges called wrong in most seeds.

A verdict's confidence is the vote share ``k / (n + 1)`` of the ensemble (``k`` of the ``n`` members that fit
agree); :func:`reliability` says, bin by bin, whether it is calibrated: whether the bin's mean confidence lies in
the 95 % (Wilson) interval of how often the majority sign was right.
"""
import math
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

CLASSES = ["Acetylcholine", "GABA", "Glutamate", "mixed / other"]
BINS = [(0.0, 0.5), (0.5, 0.75), (0.75, 0.9), (0.9, 1.01)]

# Student's t, 0.975 quantile, degrees of freedom 1 .. 30 (beyond 30 the df-30 value: slightly wide)
_T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
         2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042]


@dataclass
class Verdict:
    key: Tuple[str, str]
    transmitter: str
    true: str
    sign: str          # "+", "-" or "?"
    majority: str      # the majority sign of the members that fit, called or not
    confidence: float
    given: bool        # the sign was given to the students, not inferred
    determinable: bool = True   # False: a flip symmetry leaves the sign undetermined (see flippable)
    synapses: int = 0


def transmitter_class(nt: str) -> str:
    return nt if nt in ("Acetylcholine", "GABA", "Glutamate") else "mixed / other"


def score(verdicts: Sequence[Verdict]) -> Dict[str, float]:
    """One seed's inferred edges: ``inferred``, ``called``, ``right``, ``precision`` (right / called; NaN when
    none is called) and ``fraction`` (called / inferred; NaN when none is inferred)."""
    inferred = [v for v in verdicts if not v.given]
    called = [v for v in inferred if v.sign != "?"]
    right = sum(v.sign == v.true for v in called)
    return {"inferred": len(inferred), "called": len(called), "right": right,
            "precision": right / len(called) if called else math.nan,
            "fraction": len(called) / len(inferred) if inferred else math.nan}


def interval(values: Sequence[float]) -> Tuple[float, float, int]:
    """Mean, half-width of its 95 % t interval and the count, over the finite ``values`` (a seed that called
    nothing has no precision and is left out); half-width NaN for fewer than two."""
    xs = [x for x in values if math.isfinite(x)]
    if not xs:
        return math.nan, math.nan, 0
    mean = sum(xs) / len(xs)
    if len(xs) < 2:
        return mean, math.nan, len(xs)
    sd = math.sqrt(sum((x - mean) ** 2 for x in xs) / (len(xs) - 1))
    return mean, _T975[min(len(xs) - 1, 30) - 1] * sd / math.sqrt(len(xs)), len(xs)


def wilson(k: int, n: int) -> Tuple[float, float]:
    """95 % Wilson interval of a proportion ``k / n`` (``n`` > 0)."""
    z = 1.96
    p = k / n
    mid = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return mid - half, mid + half


def _pct(mean: float, half: float) -> str:
    if not math.isfinite(mean):
        return "-"
    return f"{mean:.0%}" + (f" +- {half:.0%}" if math.isfinite(half) else "")


def seeds_table(runs: Sequence[Tuple[int, Sequence[Verdict], Dict[str, float]]]) -> str:
    """A row per teacher seed (precision, fraction called, fit) and the mean with its 95 % interval."""
    out = [f"{'seed':<6}{'inferred':>9}{'called':>8}{'fraction':>10}{'right':>7}{'precision':>11}"
           f"{'best MSE':>11}{'noise MSE':>11}{'output var':>12}{'CPU s':>8}"]
    scores = []
    for seed, verdicts, stats in runs:
        s = score(verdicts)
        scores.append(s)
        out.append(f"{seed:<6}{s['inferred']:>9}{s['called']:>8}{_pct(s['fraction'], math.nan):>10}{s['right']:>7}"
                   f"{_pct(s['precision'], math.nan):>11}{stats['best_mse']:>11.2e}{stats['noise_mse']:>11.2e}"
                   f"{stats['output_variance']:>12.2e}{stats['cpu_seconds']:>8.0f}")
    p, ph, pn = interval([s["precision"] for s in scores])
    f, fh, fn = interval([s["fraction"] for s in scores])
    out.append(f"mean over {len(scores)} seeds (95 % t interval): fraction called {_pct(f, fh)}, precision "
               f"{_pct(p, ph)}" + (f" ({len(scores) - pn} seed(s) called nothing)" if pn < len(scores) else ""))
    return "\n".join(out)


def table(verdicts: Sequence[Verdict], threshold: float) -> str:
    """Per transmitter class: edges, signs inferred, coverage (called / inferred), precision (right / called),
    and the inferred edges a flip symmetry leaves undetermined with the precision on the determinable rest."""
    lines = [f"{'class':<16}{'edges':>7}{'inferred':>10}{'called':>8}{'coverage':>10}{'right':>7}{'precision':>11}"
             f"{'undeterminable':>16}{'precision, determinable':>25}", "-" * 110]
    for cls in CLASSES + ["all"]:
        vs = [v for v in verdicts if cls == "all" or v.transmitter == cls]
        inferred = [v for v in vs if not v.given]
        called = [v for v in inferred if v.sign != "?"]
        right = [v for v in called if v.sign == v.true]
        cov = f"{len(called) / len(inferred):.0%}" if inferred else "-"
        prec = f"{len(right) / len(called):.0%}" if called else "-"
        blind = [v for v in inferred if not v.determinable]
        det_called = [v for v in called if v.determinable]
        det = (f"{sum(v.sign == v.true for v in det_called) / len(det_called):.0%} of {len(det_called)}"
               if det_called else "-")
        lines.append(f"{cls:<16}{len(vs):>7}{len(inferred):>10}{len(called):>8}{cov:>10}{len(right):>7}{prec:>11}"
                     f"{len(blind):>16}{det:>25}")
    return "\n".join(lines)


def by_neuron_class(verdicts: Sequence[Verdict], cell_class: Dict[str, str], transmitters: Dict[Tuple[str, str], str]
                    ) -> str:
    """Per presynaptic neuron class (with its transmitters): inferred edges, called, right, wrong."""
    rows: Dict[str, List[Verdict]] = {}
    for v in verdicts:
        if not v.given:
            rows.setdefault(cell_class[v.key[0]], []).append(v)
    out = [f"{'class':<7}{'transmitter':<26}{'inferred':>9}{'called':>8}{'right':>7}{'wrong':>7}"]
    for cls in sorted(rows):
        vs = rows[cls]
        nts = "+".join(sorted({t for v in vs for t in transmitters[v.key].split("+")}))
        called = [v for v in vs if v.sign != "?"]
        right = sum(v.sign == v.true for v in called)
        out.append(f"{cls:<7}{nts:<26}{len(vs):>9}{len(called):>8}{right:>7}{len(called) - right:>7}")
    return "\n".join(out)


def by_synapses(verdicts: Sequence[Verdict]) -> str:
    """Coverage and precision by synapse count (the teacher's weight grows with it)."""
    out = [f"{'synapses':<10}{'inferred':>9}{'called':>8}{'coverage':>10}{'precision':>11}"]
    for lo, hi in ((1, 1), (2, 3), (4, 9), (10, 10 ** 6)):
        vs = [v for v in verdicts if not v.given and lo <= v.synapses <= hi]
        called = [v for v in vs if v.sign != "?"]
        label = str(lo) if lo == hi else f"{lo}+" if hi > 1000 else f"{lo}-{hi}"
        cov = f"{len(called) / len(vs):.0%}" if vs else "-"
        prec = f"{sum(v.sign == v.true for v in called) / len(called):.0%}" if called else "-"
        out.append(f"{label:<10}{len(vs):>9}{len(called):>8}{cov:>10}{prec:>11}")
    return "\n".join(out)


def calibration(verdicts: Sequence[Verdict]) -> List[Dict[str, float]]:
    """Per confidence bin (inferred edges): ``edges``, ``confidence`` (the bin's mean), ``right`` (how often the
    majority sign is right), ``low`` / ``high`` (its 95 % Wilson interval) and ``calibrated`` (1.0 when the mean
    confidence lies in that interval); empty bins are left out."""
    rows = []
    for lo, hi in BINS:
        vs = [v for v in verdicts if not v.given and lo <= v.confidence < hi]
        if not vs:
            continue
        k = sum(v.majority == v.true for v in vs)
        a, b = wilson(k, len(vs))
        conf = sum(v.confidence for v in vs) / len(vs)
        rows.append({"lo": lo, "hi": min(hi, 1.0), "edges": len(vs), "confidence": conf, "right": k / len(vs),
                     "low": a, "high": b, "calibrated": float(a <= conf <= b)})
    return rows


def reliability(verdicts: Sequence[Verdict]) -> str:
    """How often the majority sign is right per confidence bin, beside the bin's mean confidence, and whether
    the confidence is calibrated there (its mean inside the 95 % interval of the accuracy)."""
    rows = {(r["lo"], r["hi"]): r for r in calibration(verdicts)}
    out = [f"{'confidence':<14}{'edges':>6}{'mean confidence':>17}{'majority right':>16}{'95 % interval':>16}"
           f"{'calibrated':>12}"]
    for lo, hi in BINS:
        label = f"[{lo:.2f}, {min(hi, 1.0):.2f}" + (")" if hi < 1 else "]")
        r = rows.get((lo, min(hi, 1.0)))
        if r is None:
            out.append(f"{label:<14}{0:>6}{'-':>17}{'-':>16}{'-':>16}{'-':>12}")
            continue
        span = f"{r['low']:.0%} - {r['high']:.0%}"
        out.append(f"{label:<14}{int(r['edges']):>6}{r['confidence']:>17.2f}{r['right']:>16.0%}{span:>16}"
                   f"{'yes' if r['calibrated'] else 'no':>12}")
    return "\n".join(out)


def calibration_verdict(verdicts: Sequence[Verdict]) -> str:
    """One line: is the vote share calibrated, and in which bins not."""
    rows = calibration(verdicts)
    bad = [f"[{r['lo']:.2f}, {r['hi']:.2f}{')' if r['hi'] < 1 else ']'}: mean {r['confidence']:.2f}, "
           f"right {r['right']:.0%}" for r in rows if not r["calibrated"]]
    if not rows:
        return "calibration: no inferred edges"
    if not bad:
        return "calibration: the vote share is consistent with the accuracy in every bin (95 % intervals)"
    return (f"calibration: the vote share is NOT calibrated; its mean lies outside the 95 % interval of the "
            f"accuracy in {len(bad)} of {len(rows)} bins ({'; '.join(bad)})")


def failures(runs: Sequence[Sequence[Verdict]], cell_class: Dict[str, str], limit: Optional[int] = 25) -> str:
    """The edges called wrong in more than half of the seeds (a confident wrong answer that repeats, not
    noise), with their presynaptic neuron class and transmitter, worst first."""
    wrong: Dict[Tuple[str, str], int] = {}
    called: Dict[Tuple[str, str], int] = {}
    info: Dict[Tuple[str, str], Verdict] = {}
    for verdicts in runs:
        for v in verdicts:
            if not v.given and v.sign != "?":
                called[v.key] = called.get(v.key, 0) + 1
                wrong[v.key] = wrong.get(v.key, 0) + (v.sign != v.true)
                info[v.key] = v
    bad = sorted((k for k in wrong if 2 * wrong[k] > len(runs)), key=lambda k: (-wrong[k], cell_class[k[0]], k))
    if not bad:
        return f"no edge is called wrong in more than half of the {len(runs)} seeds"
    per_class: Dict[str, int] = {}
    for k in bad:
        per_class[cell_class[k[0]]] = per_class.get(cell_class[k[0]], 0) + 1
    out = [f"{len(bad)} edges called wrong in more than half of the {len(runs)} seeds; by presynaptic class: "
           + ", ".join(f"{c} {n}" for c, n in sorted(per_class.items(), key=lambda t: (-t[1], t[0]))),
           f"{'edge':<18}{'class':<7}{'transmitter':<16}{'wrong':>6}{'called':>8}{'seeds':>7}"]
    for k in bad[:limit]:
        out.append(f"{k[0] + ' -> ' + k[1]:<18}{cell_class[k[0]]:<7}{info[k].transmitter:<16}{wrong[k]:>6}"
                   f"{called[k]:>8}{len(runs):>7}")
    if limit is not None and len(bad) > limit:
        out.append(f"... and {len(bad) - limit} more")
    return "\n".join(out)
