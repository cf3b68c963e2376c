"""The answer of sign inference: one row per edge, a table to print, a CSV to keep (sign inference, step 3)."""
import csv
import json
import math
import os
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Union

from ..graph.elements import EdgeKey, NodeId
from ..graph.topology import Topology

if TYPE_CHECKING:   # pragma: no cover
    import pandas   # type: ignore[import-untyped]  # optional, and pandas ships no type hints

__all__ = ["EdgeSign", "SignReport"]

PathLike = Union[str, "os.PathLike[str]"]


@dataclass(frozen=True)
class EdgeSign:
    """One edge's verdict.

    ``sign`` is ``+``/``-`` only when the data determine it with ``confidence >= threshold``. For an edge of a
    flip-symmetric neuron (``identifiable`` false) ``sign`` is ``?`` and the verdict is on ``relative``: its
    sign relative to the ``reference`` edge (which the gauge makes positive); ``confidence`` then belongs to
    ``relative``.
    """
    src: NodeId
    dst: NodeId
    sign: str                # "+", "-" or "?"
    confidence: float        # calibrated probability that the verdict (sign, or relative) is right
    weight: float            # the best fit's weight (in the gauge, for flip-symmetric edges)
    identifiable: bool       # could data determine the absolute sign at all?
    reason: str
    constraint: str          # "free", "fixed +", "fixed -", "frozen"
    relative: str = ""       # flip-symmetric edges: "+", "-" or "?" relative to the reference edge
    reference: str = ""      # flip-symmetric edges: the reference edge, "src->dst"
    alt_loss: float = math.nan      # refit test: best loss with the sign forced opposite
    delta_loss: float = math.nan    # alt_loss minus the best fit's loss
    ratio: float = math.nan         # delta_loss / max(loss, resolution * Var(Y)): the test statistic
    agreement: float = math.nan     # ensemble: fraction of good members on the majority side (in the gauge)
    mean_gauged: float = math.nan   # ensemble: mean weight of the good members after gauge fixing

    @property
    def key(self) -> EdgeKey:
        return (self.src, self.dst)


_REPORT_FIELDS = ("method", "loss", "noise_variance", "noise_method", "threshold", "seconds", "fits", "stable",
                  "note")


@dataclass
class SignReport:
    """The per-edge answer of :func:`mpnet.infer_signs`: ``str(report)`` is a table, ``report[(src, dst)]`` a
    row, :attr:`called` the rows with a verdict, :meth:`to_csv` / :meth:`read_csv` round-trip it."""
    edges: List[EdgeSign]
    method: str                            # "refit" or "ensemble"
    loss: float                            # the best fit's mean squared error
    noise_variance: float                  # estimated noise floor (nan if unknown)
    noise_method: str
    threshold: float
    seconds: float = math.nan
    fits: int = 0                          # member-fits run
    stable: bool = True                    # the best fit stopped improving during the test
    note: str = ""                         # anything the reader must know (e.g. a poor fit)
    topology: Optional[Topology] = None    # the wiring with the best fit's weights (for drawing)
    extra: Dict[str, Any] = field(default_factory=dict)   # method-specific details (not written to CSV)

    @property
    def floor_ratio(self) -> float:
        """Best loss over the estimated noise variance (about 1 at the noise floor)."""
        return self.loss / self.noise_variance if self.noise_variance > 0 else math.nan

    @property
    def called(self) -> List[EdgeSign]:
        """Rows with a verdict: a sign, or (flip-symmetric edges) a relative sign."""
        return [r for r in self.edges if r.sign != "?" or r.relative in ("+", "-")]

    @property
    def confident(self) -> List[EdgeSign]:
        """Rows whose absolute sign is called (``+`` or ``-``)."""
        return [r for r in self.edges if r.sign != "?"]

    def __getitem__(self, key: EdgeKey) -> EdgeSign:
        for row in self.edges:
            if row.key == tuple(key):
                return row
        raise KeyError(f"Edge {key[0]!r} -> {key[1]!r} is not in this report.")

    def header(self) -> str:
        free = [r for r in self.edges if r.constraint == "free"]
        called = [r for r in free if r in self.called]
        fit = f"best fit loss {self.loss:.4g}"
        if self.noise_variance == self.noise_variance:   # not nan
            fit += f" = {self.floor_ratio:.2f} x the noise floor ({self.noise_variance:.4g}, {self.noise_method})"
        lines = [f"SignReport ({self.method}): {len(called)} of {len(free)} free edges called at confidence >= "
                 f"{self.threshold}; {fit}"]
        if self.note:
            lines.append(f"note: {self.note}")
        return "\n".join(lines)

    def __str__(self) -> str:
        head = ["src", "dst", "sign", "rel.", "confidence", "weight", "alt loss", "ratio", "reason"]
        def num(v: float, spec: str) -> str:
            return "" if v != v else format(v, spec)
        rows = [[str(r.src), str(r.dst), r.sign, r.relative, f"{r.confidence:.2f}", f"{r.weight:+.3f}",
                 num(r.alt_loss, ".3g"), num(r.ratio, ".2f"), r.reason] for r in self.edges]
        widths = [max(len(row[i]) for row in rows + [head]) for i in range(len(head) - 1)]
        def line(row: List[str]) -> str:
            return "  ".join(c.ljust(w) for c, w in zip(row, widths + [0])).rstrip()
        return "\n".join([self.header(), line(head), line(["-" * w for w in widths] + ["------"])]
                         + [line(r) for r in rows])

    def to_csv(self, path: PathLike) -> None:
        """One row per edge with every field of :class:`EdgeSign`, after a first line ``# {json}`` holding the
        report's own fields (``pandas.read_csv(path, comment="#")`` skips it)."""
        meta = {name: getattr(self, name) for name in _REPORT_FIELDS}
        with open(path, "w", newline="") as f:
            f.write("# " + json.dumps(meta) + "\n")
            writer = csv.DictWriter(f, fieldnames=[fl.name for fl in fields(EdgeSign)])
            writer.writeheader()
            for row in self.edges:
                writer.writerow(asdict(row))

    @classmethod
    def read_csv(cls, path: PathLike) -> "SignReport":
        """The report written by :meth:`to_csv` (node ids come back as strings; no topology)."""
        types = {fl.name: fl.type for fl in fields(EdgeSign)}
        with open(path, newline="") as f:
            first = f.readline()
            if not first.startswith("# "):
                raise ValueError(f"{path}: expected a first line '# {{...}}' written by SignReport.to_csv "
                                 f"(got {first[:40]!r}).")
            meta = json.loads(first[2:])
            rows = []
            for rec in csv.DictReader(f):
                vals: Dict[str, Any] = {}
                for k, v in rec.items():
                    t = types[k]
                    vals[k] = float(v) if t in (float, "float") else (v == "True") if t in (bool, "bool") else v
                rows.append(EdgeSign(**vals))
        return cls(rows, **meta)

    def to_dataframe(self) -> "pandas.DataFrame":
        """A pandas DataFrame (pandas is optional)."""
        import pandas as pd
        return pd.DataFrame([asdict(r) for r in self.edges])
