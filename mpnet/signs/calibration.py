"""From the refit test's statistic to a calibrated confidence (sign inference, step 2b).

A loss ratio is not a probability: the noise in ``Y`` alone would make any ratio above a few percent
significant, yet most wrong calls come from optimisation failure (an opposite-sign solution that the search
missed), which no noise model describes. So the confidence is *measured*: ``scripts/calibrate_signs.py`` runs
the whole test on simulated teachers of known signs (seeds apart from the benchmark's; passive data and random
recordings), per effort level, bins the tested edges by ratio (and by how close the best fit came to the noise
floor), and stores per bin the fraction whose verdict was right, as a Laplace-smoothed lower bound that pools the
bins below (:func:`fit_table`); a bin with too few edges says so and borrows the nearest supported bin's below.
``calibration.json`` beside this module holds the tables with the command, date and counts that produced them: a
table per effort level once ``scripts/calibrate_signs.py`` has written it (until then, the one table that
``scripts/sign_recovery.py --calibrate`` measured at quick effort, read at every effort). A search at ``quick``
effort misses more opposite-sign fits than one at the default, so its table is its own.
"""
import json
import math
import os
from typing import Any, Dict, List, Optional, Sequence, Tuple

__all__ = ["confidence", "fit_table", "load_table", "wilson", "TABLE_PATH", "MIN_EDGES"]

TABLE_PATH = os.path.join(os.path.dirname(__file__), "calibration.json")

#: ratio bin edges shared by every table: [edges[i], edges[i + 1])
EDGES = [-math.inf, 0.01, 0.03, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, math.inf]
#: fit-quality classes: best loss over the estimated noise floor
QUALITY = [("floor", 0.0, 1.5), ("above", 1.5, math.inf)]
#: a bin with fewer tested edges than this asserts no confidence of its own (:func:`fit_table`)
MIN_EDGES = 10

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


def _effort_table(table: Table, effort: Optional[str]) -> Table:
    """The table of ``effort`` in a file of tables per effort level (``{"efforts": {name: table}}``); an effort
    the file does not hold (a custom :class:`~mpnet.signs.Effort`) gets, per bin, the lowest confidence of any
    level measured. A file of one table (older format) is that table whatever the effort."""
    if "efforts" not in table:
        return table
    levels: Dict[str, Table] = table["efforts"]
    if effort in levels:
        return levels[effort]
    low = {q: [min(t["confidence"][q][i] for t in levels.values()) for i in range(len(EDGES) - 1)]
           for q, _, _ in QUALITY}
    return {"confidence": low}


def confidence(ratio: float, floor_ratio: float, table: Optional[Table] = None,
               effort: Optional[str] = "default") -> float:
    """The calibrated probability that the best fit's sign is right, given the test's ``ratio``, the fit's
    ``floor_ratio`` (loss over noise floor) and the effort level the search ran at (``"quick"``, ``"default"``;
    ``None`` or another name: the lowest of the levels measured). ``nan`` ratio (no test) gives 0."""
    if ratio != ratio:
        return 0.0
    chosen = _effort_table(table or load_table(), effort)
    q = _quality(floor_ratio if floor_ratio == floor_ratio else math.inf)
    return float(chosen["confidence"][q][_bin(ratio)])


def wilson(k: int, n: int, z: float = 1.96) -> Tuple[float, float]:
    """The 95 % Wilson interval of ``k`` right of ``n`` (``(0, 1)`` when ``n`` is 0)."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    mid, half = p + z * z / (2 * n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (mid - half) / (1 + z * z / n), (mid + half) / (1 + z * z / n)


def fit_table(tested: Sequence[Tuple[float, float, bool]], **provenance: object) -> Table:
    """A table from ``tested``, ``(ratio, floor_ratio, correct)`` per tested edge.

    Per fit-quality class and ratio bin ``i`` holding at least :data:`MIN_EDGES` edges (a *supported* bin), the
    confidence is ``max over j <= i of (k + 1) / (n + 2)``, where ``n`` edges had a ratio in bins ``j`` to ``i``
    and ``k`` of them a right best-fit sign, then a running maximum over the supported bins. A bin with fewer
    edges asserts nothing of its own: it takes the confidence of the nearest supported bin below it in its class,
    or 0.5 (a coin) when there is none, lowered to the first supported bin's confidence when that is below a
    coin (a best fit that is right less than half the time at a larger ratio is no more right at a smaller one).

    Why this form: a larger ratio never makes a sign less likely to be right (the opposite sign fits worse), so
    the fraction right in bins ``j..i`` is a lower bound for bin ``i``'s own; pooling the bins below lets a bin
    borrow strength without claiming more than the data below it show. Laplace's ``+1 / +2`` keeps a bin with
    few samples near a coin. ``counts`` keeps each bin's own ``[n, k]``, ``interval`` its 95 % Wilson interval,
    ``supported`` whether it holds enough edges to speak."""
    counts = {q: [[0, 0] for _ in range(len(EDGES) - 1)] for q, _, _ in QUALITY}
    for ratio, floor_ratio, correct in tested:
        if ratio != ratio:
            continue
        c = counts[_quality(floor_ratio)][_bin(ratio)]
        c[0] += 1
        c[1] += int(correct)
    conf, supported, interval = {}, {}, {}
    for q, bins in counts.items():
        values: List[float] = []
        best: Optional[float] = None          # no supported bin at or below this one yet: a coin
        for i in range(len(bins)):
            if bins[i][0] >= MIN_EDGES:
                for j in range(i + 1):
                    n = sum(b[0] for b in bins[j:i + 1])
                    k = sum(b[1] for b in bins[j:i + 1])
                    best = max(best if best is not None else 0.0, (k + 1) / (n + 2))
            values.append(round(best if best is not None else 0.5, 4))
        first = next((i for i, b in enumerate(bins) if b[0] >= MIN_EDGES), None)
        if first is not None:   # the coin below the first supported bin: no more than that bin's own rate
            values[:first] = [min(v, values[first]) for v in values[:first]]
        conf[q] = values
        supported[q] = [b[0] >= MIN_EDGES for b in bins]
        interval[q] = [[round(x, 4) for x in wilson(b[1], b[0])] for b in bins]
    return {"edges": [str(e) for e in EDGES], "quality": [list(map(str, q)) for q in QUALITY],
            "min_edges": MIN_EDGES, "counts": counts, "supported": supported, "interval": interval,
            "confidence": conf, **provenance}
