"""From the refit test's statistic to a calibrated confidence (sign inference, step 2b).

A loss ratio is not a probability: the noise in ``Y`` alone would make any ratio above a few percent
significant, yet most wrong calls come from optimisation failure (an opposite-sign solution that the search
missed), which no noise model describes. So the confidence is *measured*: ``scripts/sign_recovery.py
--calibrate`` runs the whole test on simulated teachers of known signs, bins the tested edges by ratio (and by
how close the best fit came to the noise floor), and stores per bin the fraction whose verdict was right,
as a Laplace-smoothed lower bound that pools the bins below (:func:`fit_table`). ``calibration.json`` beside this module holds the
table with the command, date and counts that produced it.
"""
import json
import math
import os
from typing import Any, Dict, List, Optional, Sequence, Tuple

__all__ = ["confidence", "fit_table", "load_table", "TABLE_PATH"]

TABLE_PATH = os.path.join(os.path.dirname(__file__), "calibration.json")

#: ratio bin edges shared by every table: [edges[i], edges[i + 1])
EDGES = [-math.inf, 0.01, 0.03, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, math.inf]
#: fit-quality classes: best loss over the estimated noise floor
QUALITY = [("floor", 0.0, 1.5), ("above", 1.5, math.inf)]

#: a calibration table as JSON reads it: ``edges``, ``quality``, ``counts``, ``confidence`` and its provenance
Table = Dict[str, Any]

_cache: Dict[str, Table] = {}


def load_table(path: str = TABLE_PATH) -> Table:
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


def confidence(ratio: float, floor_ratio: float, table: Optional[Table] = None) -> float:
    """The calibrated probability that the best fit's sign is right, given the test's ``ratio`` and the
    fit's ``floor_ratio`` (loss over noise floor). ``nan`` ratio (no test) gives 0."""
    if ratio != ratio:
        return 0.0
    table = table or load_table()
    q = _quality(floor_ratio if floor_ratio == floor_ratio else math.inf)
    return float(table["confidence"][q][_bin(ratio)])


def fit_table(tested: Sequence[Tuple[float, float, bool]], **provenance: object) -> Table:
    """A table from ``tested``, ``(ratio, floor_ratio, correct)`` per tested edge: per fit-quality class and
    ratio bin ``i``, the confidence is ``max over j <= i of (k + 1) / (n + 2)``, where ``n`` edges had a ratio
    in bins ``j`` to ``i`` and ``k`` of them a right best-fit sign (then a running maximum over ``i``).

    Why this form: a larger ratio never makes a sign less likely to be right (the opposite sign fits worse), so
    the fraction right in bins ``j..i`` is a lower bound for bin ``i``'s own; pooling the bins below lets the
    sparse top bins borrow strength without claiming more than the data below them show. Laplace's ``+1 / +2``
    keeps a bin with few samples near a coin. ``counts`` keeps each bin's own ``[n, k]``."""
    counts = {q: [[0, 0] for _ in range(len(EDGES) - 1)] for q, _, _ in QUALITY}
    for ratio, floor_ratio, correct in tested:
        if ratio != ratio:
            continue
        c = counts[_quality(floor_ratio)][_bin(ratio)]
        c[0] += 1
        c[1] += int(correct)
    conf = {}
    for q, bins in counts.items():
        values: List[float] = []
        best: Optional[float] = None          # no tested edge at or below this bin yet: a coin
        for i in range(len(bins)):
            for j in range(i + 1):
                n = sum(b[0] for b in bins[j:i + 1])
                k = sum(b[1] for b in bins[j:i + 1])
                if n:
                    best = max(best if best is not None else 0.0, (k + 1) / (n + 2))
            values.append(round(best if best is not None else 0.5, 4))
        conf[q] = values
    return {"edges": [str(e) for e in EDGES], "quality": [list(map(str, q)) for q in QUALITY],
            "counts": counts, "confidence": conf, **provenance}
