"""The answer of sign inference: one row per edge, a table to print, a CSV to keep, and the evidence behind it
(the best fit and, per tested edge, the best fit found with that edge's sign reversed) in a JSON file that
:func:`mpnet.signs.verify` re-checks (sign inference, step 3)."""
import csv
import json
import math
import os
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Union

import torch

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
    topology: Optional[Topology] = None    # the wiring with the best fit's weights (also :attr:`best`)
    extra: Dict[str, Any] = field(default_factory=dict)   # method-specific details (not written to CSV)
    #: refit: per tested edge, the best fit found anywhere in the search with that edge's sign reversed
    witnesses: Dict[EdgeKey, Topology] = field(default_factory=dict)

    @property
    def best(self) -> Optional[Topology]:
        """The best fit: the wiring with its weights and biases (the same object as :attr:`topology`; for
        flip-symmetric neurons in the gauge, where each reference edge is positive)."""
        return self.topology

    def witness(self, edge: EdgeKey) -> Optional[Topology]:
        """The best fit found with ``edge``'s sign reversed (relative to its reference edge for a
        flip-symmetric neuron), with its weights and biases; ``None`` when the search found none (an edge
        not tested: fixed, frozen, a reference edge, or the ensemble method)."""
        row = self[edge]
        return self.witnesses.get(row.key)

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

    def to_json(self, path: PathLike) -> None:
        """The whole report as JSON: its fields, every row, :attr:`best` and every witness (mpnet topology
        dicts with weights and biases) and :attr:`extra`; :meth:`read_json` reads it back. Strict JSON: NaN
        is written ``{"__float__": "nan"}``."""
        data = {"format": "mpnet.signreport", "version": 1,
                **{name: _encode(getattr(self, name)) for name in _REPORT_FIELDS},
                "edges": [_encode(asdict(r)) for r in self.edges],
                "best": None if self.topology is None else self.topology.to_dict(),
                "witnesses": [{"edge": list(k), "topology": t.to_dict()} for k, t in self.witnesses.items()],
                "extra": _encode(self.extra)}
        with open(path, "w") as f:
            json.dump(data, f, allow_nan=False)
            f.write("\n")

    @classmethod
    def read_json(cls, path: PathLike) -> "SignReport":
        """The report written by :meth:`to_json`, with its best fit, witnesses and extra."""
        with open(path) as f:
            try:
                data = json.load(f)
            except json.JSONDecodeError as err:
                raise ValueError(f"{path}: not a JSON file written by SignReport.to_json ({err}).") from None
        if not isinstance(data, dict) or data.get("format") != "mpnet.signreport":
            got = data.get("format") if isinstance(data, dict) else type(data).__name__
            raise ValueError(f"{path}: expected a SignReport written by SignReport.to_json "
                             f"(format 'mpnet.signreport'), got format {got!r}.")
        names = {fl.name for fl in fields(EdgeSign)}
        rows = []
        for i, rec in enumerate(data["edges"]):
            vals = _decode(rec)
            if set(vals) != names:
                raise ValueError(f"{path}: edge row {i} has fields {sorted(vals)}; expected {sorted(names)}.")
            fixed: Dict[str, Any] = {k: (math.nan if v is None and k in _FLOAT_FIELDS else v) for k, v in vals.items()}
            rows.append(EdgeSign(**fixed))
        meta = {name: _decode(data[name]) for name in _REPORT_FIELDS}
        for name in ("loss", "noise_variance", "seconds"):
            meta[name] = math.nan if meta[name] is None else meta[name]
        best = None if data["best"] is None else Topology.from_dict(data["best"], warn=False)
        witnesses = {_edge_key(w["edge"]): Topology.from_dict(w["topology"], warn=False) for w in data["witnesses"]}
        return cls(rows, **meta, topology=best, extra=_decode(data["extra"]), witnesses=witnesses)

    def to_dataframe(self) -> "pandas.DataFrame":
        """A pandas DataFrame (pandas is optional)."""
        import pandas as pd
        return pd.DataFrame([asdict(r) for r in self.edges])


_FLOAT_FIELDS = {fl.name for fl in fields(EdgeSign) if fl.type in (float, "float")}


def _edge_key(pair: List[NodeId]) -> EdgeKey:
    return (pair[0], pair[1])


def _encode(value: Any) -> Any:
    """``value`` as strict JSON: NaN and infinities, tuples, non-string-keyed dicts and tensors tagged so that
    :func:`_decode` gives them back."""
    if isinstance(value, float):
        return value if math.isfinite(value) else {"__float__": str(value)}      # "nan", "inf", "-inf"
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            return {k: _encode(v) for k, v in value.items()}
        return {"__dict__": [[_encode(k), _encode(v)] for k, v in value.items()]}
    if isinstance(value, torch.Tensor):
        return {"__tensor__": _encode(value.detach().cpu().tolist()), "dtype": str(value.dtype).split(".")[-1]}
    raise TypeError(f"SignReport.to_json cannot write a {type(value).__name__} ({value!r:.60}).")


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__float__" in value:
        return float(value["__float__"])
    if "__tuple__" in value:
        return tuple(_decode(v) for v in value["__tuple__"])
    if "__dict__" in value:
        return {_decode(k): _decode(v) for k, v in value["__dict__"]}
    if "__tensor__" in value:
        data = _decode(value["__tensor__"])
        return torch.tensor(_nan_for_none(data), dtype=getattr(torch, value["dtype"]))
    return {k: _decode(v) for k, v in value.items()}


def _nan_for_none(data: Any) -> Any:
    if isinstance(data, list):
        return [_nan_for_none(v) for v in data]
    return math.nan if data is None else data
