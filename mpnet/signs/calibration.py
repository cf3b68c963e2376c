"""From the refit test's statistic to a calibrated confidence (sign inference, step 2b).

A loss ratio is not a probability: the noise in ``Y`` alone would make any ratio above a few percent
significant, yet most wrong calls come from optimisation failure (an opposite-sign solution that the search
missed), which no noise model describes. So the confidence is *measured*: ``scripts/sign_recovery.py
--calibrate`` runs the whole test on simulated teachers of known signs, bins the tested edges by ratio (and by
how close the best fit came to the noise floor), and stores per bin the fraction whose verdict was right,
as a Laplace-smoothed estimate made monotone in the ratio. ``calibration.json`` beside this module holds the
table with the command, date and counts that produced it.
"""
import json
import math
import os
from typing import Dict, List, Sequence, Tuple

__all__ = ["confidence", "fit_table", "load_table", "TABLE_PATH"]

TABLE_PATH = os.path.join(os.path.dirname(__file__), "calibration.json")

#: ratio bin edges shared by every table: [edges[i], edges[i + 1])
EDGES = [-math.inf, 0.01, 0.03, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, math.inf]
#: fit-quality classes: best loss over the estimated noise floor
QUALITY = [("floor", 0.0, 1.5), ("above", 1.5, math.inf)]

_cache: Dict[str, Dict] = {}


def load_table(path: str = TABLE_PATH) -> Dict:
    if path not in _cache:
        with open(path) as f:
            _cache[path] = json.load(f)
    return _cache[path]


def _bin(ratio: float) -> int:
    for i in range(len(EDGES) - 1):
        if EDGES[i] <= ratio < EDGES[i + 1]:
            return i
    return len(EDGES) - 2


def _quality(floor_ratio: float) -> str:
    for name, lo, hi in QUALITY:
        if lo <= floor_ratio < hi:
            return name
    return QUALITY[-1][0]


def confidence(ratio: float, floor_ratio: float, table: Dict = None) -> float:
    """The calibrated probability that the best fit's sign is right, given the test's ``ratio`` and the
    fit's ``floor_ratio`` (loss over noise floor). ``nan`` ratio (no test) gives 0."""
    if ratio != ratio:
        return 0.0
    table = table or load_table()
    q = _quality(floor_ratio if floor_ratio == floor_ratio else math.inf)
    return float(table["confidence"][q][_bin(ratio)])


def _monotone(values: List[float], weights: List[float]) -> List[float]:
    """Pool-adjacent-violators: the non-decreasing sequence closest to ``values`` (weighted least squares)."""
    blocks: List[Tuple[float, float, int]] = []     # (mean, weight, length)
    for v, w in zip(values, weights):
        blocks.append((v, w, 1))
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            (v1, w1, n1), (v2, w2, n2) = blocks[-2], blocks[-1]
            w12 = w1 + w2
            blocks[-2:] = [((v1 * w1 + v2 * w2) / w12 if w12 else (v1 + v2) / 2, w12, n1 + n2)]
    out: List[float] = []
    for v, _, n in blocks:
        out += [v] * n
    return out


def fit_table(samples: Sequence[Tuple[float, float, bool]], **provenance) -> Dict:
    """A table from ``(ratio, floor_ratio, correct)`` samples: per quality class and ratio bin, the
    Laplace-smoothed fraction correct ``(k + 1) / (n + 2)``, made non-decreasing in the ratio (bins without
    samples take the value of the nearest populated bin below)."""
    counts = {q: [[0, 0] for _ in range(len(EDGES) - 1)] for q, _, _ in QUALITY}
    for ratio, floor_ratio, correct in samples:
        if ratio != ratio:
            continue
        c = counts[_quality(floor_ratio)][_bin(ratio)]
        c[0] += 1
        c[1] += int(correct)
    conf = {}
    for q, bins in counts.items():
        seen = [i for i, (n, _) in enumerate(bins) if n]
        fitted = dict(zip(seen, _monotone([(bins[i][1] + 1) / (bins[i][0] + 2) for i in seen],
                                          [bins[i][0] + 2 for i in seen])))
        # a bin without samples says nothing: it takes the value of the nearest bin below that has some
        # (the statistic only grows more telling with the ratio), a coin below the first
        values, last = [], min(0.5, fitted[seen[0]]) if seen else 0.5
        for i in range(len(bins)):
            last = fitted.get(i, last)
            values.append(round(last, 4))
        conf[q] = values
    return {"edges": [str(e) for e in EDGES], "quality": [list(map(str, q)) for q in QUALITY],
            "counts": counts, "confidence": conf, **provenance}
