"""The tables of scripts/sign_recovery.py (not a script): its per-edge rows summarised per condition and effort,
the designed-versus-random ratio, and the targets, each marked met or NOT MET.

A row is one free edge of one teacher under one (method, effort, condition): ``called`` (a sign, or for a
flip-symmetric neuron's edge its relative sign), ``correct``, ``ambiguous`` (not called, and a float64
recomputation confirmed that the opposite sign fits as well), ``decided`` (called here, left open by the passive
run at the same effort), ``measurements``, ``floor_ratio`` (the best fit's loss over the noise estimate: the
table shows the median over teachers) and ``seconds`` (CPU seconds of that teacher's run, one thread).
"""
import math
import statistics
from typing import Dict, List, Tuple

CONDITION_ORDER = ("passive", "designed", "random", "probes")
EFFORT_ORDER = ("quick", "default", "-")
LABELS = {"passive": "passive", "designed": "designed rec.", "random": "random rec.", "probes": "designed probes"}

#: the targets of issue 19
PRECISION, UNDECIDED, RATIO, SECONDS = 0.97, 0.10, 1.5, 60.0

Cell = Tuple[str, float, str, str, str]        # activation, noise, effort, method, condition


def wilson(k: int, n: int, z: float = 1.96) -> Tuple[float, float]:
    """The Wilson score interval of a proportion ``k / n`` (95 % for z = 1.96); ``(nan, nan)`` when n = 0."""
    if n == 0:
        return math.nan, math.nan
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return max(c - h, 0.0), min(c + h, 1.0)


def _teachers(rows: List[dict]) -> Dict[tuple, dict]:
    """One row per teacher (its seconds and edges are the same on all its rows)."""
    return {(r["teacher"], r["activation"], r["noise"]): r for r in rows}


def summarise(rows: List[dict]) -> dict:
    called = [r for r in rows if r["called"]]
    right = sum(bool(r["correct"]) for r in called)
    ambiguous = sum(bool(r.get("ambiguous", False)) for r in rows)
    decided = [r for r in rows if r.get("decided", False)]
    teachers = _teachers(rows)
    n = max(len(rows), 1)
    return dict(teachers=len(teachers), edges=len(rows), called=len(called), right=right, wrong=len(called) - right,
                precision=right / len(called) if called else math.nan, interval=wilson(right, len(called)),
                called_frac=len(called) / n, ambiguous_frac=ambiguous / n,
                undecided_frac=(len(rows) - len(called) - ambiguous) / n,
                decided=len(decided), decided_right=sum(bool(r["correct"]) for r in decided),
                measurements=statistics.mean(float(t.get("measurements", 0)) for t in teachers.values()) if rows else 0,
                seconds=statistics.median(float(t["seconds"]) for t in teachers.values()) if rows else math.nan,
                floor=statistics.median(float(t.get("floor_ratio", math.nan)) for t in teachers.values())
                if rows else math.nan)


def cells(rows: List[dict]) -> Dict[Cell, List[dict]]:
    """Rows grouped by (activation, noise, effort, method, condition), in the table's order."""
    out: Dict[Cell, List[dict]] = {}
    for r in rows:
        out.setdefault((r["activation"], r["noise"], r.get("effort", "-"), r["method"], r.get("condition", "passive")),
                       []).append(r)
    def order(c: Cell) -> tuple:
        act, noise, effort, method, condition = c
        return (act, noise, EFFORT_ORDER.index(effort) if effort in EFFORT_ORDER else 9, method != "refit",
                CONDITION_ORDER.index(condition) if condition in CONDITION_ORDER else 9)
    return {c: out[c] for c in sorted(out, key=order)}


def _pct(x: float) -> str:
    return "-" if x != x else f"{x:.1%}"


def table(rows: List[dict]) -> str:
    head = (f"{'activation':10s} {'noise':>5s} {'effort':7s} {'condition':18s} {'teach.':>6s} {'free':>5s} "
            f"{'meas.':>5s} {'called':>6s} {'precision [95% CI]':>22s} {'called%':>7s} {'ambig.%':>7s} "
            f"{'undec.%':>7s} {'decided':>9s} {'floor':>6s} {'CPU s':>6s}")
    lines = [head, "-" * len(head)]
    for (act, noise, effort, method, condition), cell in cells(rows).items():
        s = summarise(cell)
        label = LABELS.get(condition, condition) + (" (ensemble)" if method != "refit" else "")
        lo, hi = s["interval"]
        prec = "-" if not s["called"] else f"{s['precision']:.1%} [{lo:.2f}, {hi:.2f}]"
        decided = "-" if condition == "passive" else f"{s['decided']} ({s['decided_right']} ok)"
        lines.append(f"{act:10s} {noise:5.2f} {effort:7s} {label:18s} {s['teachers']:6d} {s['edges']:5d} "
                     f"{s['measurements']:5.1f} {s['called']:6d} {prec:>22s} {_pct(s['called_frac']):>7s} "
                     f"{_pct(s['ambiguous_frac']):>7s} {_pct(s['undecided_frac']):>7s} {decided:>9s} "
                     f"{s['floor']:6.2f} {s['seconds']:6.0f}")
    return "\n".join(lines)


def ratios(rows: List[dict]) -> List[Tuple[str, int, int, float]]:
    """Per (activation, noise, effort): edges decided by the designed recordings, by the random ones, and their
    ratio (inf when random decided none and designed some; nan when neither decided any)."""
    found: Dict[str, Dict[str, int]] = {}
    for (act, noise, effort, method, condition), cell in cells(rows).items():
        if method == "refit" and condition in ("designed", "random"):
            found.setdefault(f"{act} noise {noise:.2f} {effort}", {})[condition] = summarise(cell)["decided"]
    out = []
    for where, d in found.items():
        if "designed" in d and "random" in d:
            a, b = d["designed"], d["random"]
            out.append((where, a, b, a / b if b else (math.inf if a else math.nan)))
    return out


def _verdict(failures: List[str], measured: bool, what: str, unmeasured: str = "no such run") -> str:
    if not measured:
        return f"not measured ({unmeasured})"
    return "met" + (f" ({what})" if what else "") if not failures else "NOT MET: " + "; ".join(failures)


def targets(rows: List[dict]) -> List[str]:
    """The targets of issue 19, each marked met or NOT MET from these rows (refit rows only)."""
    refit = {c: cell for c, cell in cells(rows).items() if c[3] == "refit"}
    name = {c: f"{c[0]} {c[2]} {LABELS.get(c[4], c[4])}" for c in refit}
    stats = {c: summarise(cell) for c, cell in refit.items()}
    prec = [c for c in refit if stats[c]["called"]]
    low = [f"{name[c]} {stats[c]['precision']:.1%} ({stats[c]['wrong']} wrong of {stats[c]['called']})"
           for c in prec if stats[c]["precision"] < PRECISION]
    bounds = [stats[c]["interval"][0] for c in prec]
    lines = [f"precision >= {PRECISION} in every cell: " + _verdict(low, bool(prec), (
        f"lowest {min(stats[c]['precision'] for c in prec):.1%}; 95 % lower bounds {min(bounds):.2f}-"
        f"{max(bounds):.2f}") if prec else "", "no sign called" if refit else "no such run")]
    undec = [f"{name[c]} {stats[c]['undecided_frac']:.1%}" for c in refit if stats[c]["undecided_frac"] > UNDECIDED]
    lines.append(f"undecided <= {UNDECIDED:.0%} of free edges in every cell: " + _verdict(undec, bool(refit), ""))
    rat = ratios(rows)
    weak = [f"{w} {a} vs {b}" for w, a, b, q in rat if not q >= RATIO]
    lines.append(f"designed recordings decide >= {RATIO}x the edges of random ones: " + _verdict(
        weak, bool(rat), ", ".join(f"{w} {a} vs {b}" for w, a, b, _ in rat)))
    slow, speeds = [], []
    for c, cell in refit.items():
        sized = [r for r in cell if 15 <= int(r["edges"]) <= 30]
        if c[0] == "relu" and c[2] == "default" and sized:
            med = summarise(sized)["seconds"]
            speeds.append(f"{LABELS.get(c[4], c[4])} {med:.0f} s")
            if not med <= SECONDS:
                slow.append(f"{name[c]} median {med:.0f} s")
    lines.append(f"median <= {SECONDS:.0f} CPU s per 15-30-edge ReLU teacher at default effort: " + _verdict(
        slow, bool(speeds), ", ".join(speeds)))
    return lines


def report(rows: List[dict]) -> str:
    """The whole printout: the table, the ratio lines, the targets."""
    out = [table(rows), ""]
    for where, a, b, q in ratios(rows):
        out.append(f"{where}: designed recordings decided {a} edges, random ones {b}: ratio "
                   f"{'-' if q != q else 'inf' if q == math.inf else f'{q:.2f}'}")
    out += ["", "targets (refit):"] + [f"  {line}" for line in targets(rows)]
    return "\n".join(out)

