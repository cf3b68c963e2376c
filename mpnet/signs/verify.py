"""Check a sign report's claims from its own evidence: :func:`verify` (sign inference, step 4).

A refit report (:class:`~mpnet.signs.SignReport`) keeps its best fit and, per tested edge, a *witness*: the
best fit found with that edge's sign reversed. Each claim rests on two losses, the best fit's and the
witness's, so each can be checked without trusting the search: :func:`verify` recomputes both with a float64
forward pass written for reading — one neuron at a time in topological order, every edge's message
``w * h_src`` summed (or aggregated) by its target — that shares nothing with the batched network the search
fitted with but the activation functions, and confirms, per edge,

* a called sign: the best fit has that sign and the witness (if any) has the other and is worse by the stated
  ratio;
* "the opposite sign fits as well" / "somewhat worse" / "undecided": the witness has the other sign and fits
  within the stated ratio;

each with the witness's loss equal to the stated one (a witness whose weights were changed is rejected).

A report on a recurrent wiring (``extra["sequences"]``: :class:`~mpnet.signs.inputs.Sequences`) is recomputed the
same way over its sequences ``X [n, steps, n_inputs]``: every neuron with incoming edges updated at each step
from the values of the step before (the inputs' of this step), a ctrnn's integration steps blended into the
older of its two value buffers as neat-python's ``CTRNN.advance`` does (the loops of
:func:`mpnet.testing.reference_recurrent` and :func:`~mpnet.testing.reference_ctrnn`, over all sequences at once).
"""
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Mapping, Optional, Tuple

import torch
from torch import Tensor

from ..checks import as_tensor, check_finite, check_float
from ..engine.functional import ACTIVATION_FNS
from ..errors import ArgumentError, DataError
from ..graph.elements import EdgeKey, NodeId
from ..graph.topology import Topology
from .report import EdgeSign, SignReport

if TYPE_CHECKING:   # pragma: no cover
    from numpy.typing import ArrayLike

__all__ = ["verify", "Verification", "Check", "forward64"]


def _maxabs(m: Tensor) -> Tensor:
    hi, lo = m.max(0).values, m.min(0).values
    return torch.where(hi >= -lo, hi, lo)          # largest magnitude; +a wins a tie against -a


_AGGREGATE: Dict[str, Callable[[Tensor], Tensor]] = {
    "sum": lambda m: m.sum(0), "mean": lambda m: m.mean(0), "max": lambda m: m.max(0).values,
    "min": lambda m: m.min(0).values, "product": lambda m: m.prod(0), "maxabs": _maxabs,
    "median": lambda m: m.quantile(0.5, dim=0),    # the mean of the two middle values for an even count
}


def forward64(topology: Topology, X: Tensor) -> Tensor:
    """Outputs ``[n, n_outputs]`` of ``topology`` (its weights and biases) on ``X [n, n_inputs]``, in float64,
    one neuron at a time."""
    value = _values(topology, X)
    return torch.stack([value[o] for o in topology.outputs], 1)


def _weight(topology: Topology, key: EdgeKey) -> float:
    """An edge's weight: its own, or the sum of its tie terms (:mod:`mpnet.graph.ties`)."""
    e = topology.edges[key]
    terms = [(None, 1.0)] if e.tie is None else [(e.tie, 1.0)] if isinstance(e.tie, str) else list(e.tie)
    total = 0.0
    for group, coef in terms:
        w = e.weight if group is None else topology.ties[group].weight
        if w is None:
            what = "has no weight" if group is None else f"has tie {group!r} without a value"
            raise ArgumentError(f"verify: edge {key[0]!r} -> {key[1]!r} {what}; a report's fits set every weight.")
        total += coef * w
    return total


def _parameter(topology: Topology, key: EdgeKey) -> Optional[float]:
    """The parameter a report's row on ``key`` is about: the edge's own weight, else its (first) tie group's."""
    e = topology.edges[key]
    if e.tie is None or not isinstance(e.tie, str) and any(g is None for g, _ in e.tie):
        return e.weight
    group = e.tie if isinstance(e.tie, str) else next(g for g, _ in e.tie if g is not None)
    return topology.ties[group].weight


def _neuron(topology: Topology, node_id: NodeId, value: Mapping[NodeId, Tensor]) -> Tensor:
    """``activation(response * aggregate(w * value[src]) + bias)`` of one neuron with incoming edges."""
    node = topology.nodes[node_id]
    msgs = [_weight(topology, (src, node_id)) * value[src] for src in topology.predecessors(node_id)]
    return ACTIVATION_FNS[node.activation].fn(node.response * _AGGREGATE[node.aggregation](torch.stack(msgs))
                                              + node.bias)


def run_sequences(topology: Topology, X: Tensor, sequences: Mapping[str, Any]) -> Dict[NodeId, Tensor]:
    """Every node's value ``[n, steps]`` after each input step of the sequences ``X [n, steps, n_inputs]``
    (every node starting at 0; a ctrnn's values as ``CTRNN.advance`` returns them), in float64."""
    X = X.to(torch.float64)
    n, steps = X.shape[0], X.shape[1]
    zero = X.new_zeros(n)
    value: Dict[NodeId, Tensor] = {v: zero for v in topology.nodes}
    updated = [v for v, node in topology.nodes.items() if node.role != "input" and topology.predecessors(v)]
    trace: Dict[NodeId, List[Tensor]] = {v: [] for v in topology.nodes}
    ctrnn = sequences.get("network_type") == "ctrnn"
    older, clock = dict(value), 0.0
    for t in range(steps):
        inputs = {v: X[:, t, i] for i, v in enumerate(topology.inputs)}
        if not ctrnn:
            value.update(inputs)
            value.update({v: _neuron(topology, v, value) for v in updated})
            read = value
        else:
            advance, step = float(sequences["advance_time"]), float(sequences["time_step"])
            end = clock + advance
            while clock < end:
                dt = min(step, end - clock)
                value.update(inputs)
                older.update(inputs)
                new = dict(older)
                for v in updated:
                    new[v] = older[v] + dt / topology.nodes[v].time_constant * (-older[v] + _neuron(topology, v, value))
                older, value = value, new
                clock += dt
            read = older                      # neat returns the older buffer
        for v in topology.nodes:
            trace[v].append(read[v])
    return {v: torch.stack(trace[v], 1) for v in topology.nodes}


def _values(topology: Topology, X: Tensor) -> Dict[NodeId, Tensor]:
    """Every neuron's activation ``[n]`` on ``X``, one neuron at a time in topological order."""
    X = X.to(torch.float64)
    value: Dict[NodeId, Tensor] = {node: X[:, i] for i, node in enumerate(topology.inputs)}
    for node_id in topology.topological_order():
        node = topology.nodes[node_id]
        if node.role == "input":
            continue
        msgs = [_weight(topology, (src, node_id)) * value[src] for src in topology.predecessors(node_id)]
        agg = _AGGREGATE[node.aggregation](torch.stack(msgs)) if msgs else torch.zeros_like(X[:, 0])
        value[node_id] = ACTIVATION_FNS[node.activation].fn(node.response * agg + node.bias)
    return value


#: recordings as the loss uses them: the neurons, their values ``[n, k]`` (NaN: not recorded), their weights
Recordings = Tuple[List[NodeId], Tensor, List[float]]


def _loss(topology: Topology, X: Tensor, Y: Tensor, recorded: Optional[Recordings] = None,
          sequences: Optional[Mapping[str, Any]] = None) -> float:
    """The report's loss: the mean squared error of the outputs; with recordings, the mean over every target
    and every recorded value of its squared error, a recording's times its weight. With ``sequences``, ``X`` is
    ``[n, steps, n_inputs]`` and ``Y`` the targets per step ``[n, steps, n_outputs]`` or of the last step."""
    if sequences is not None:
        trace = run_sequences(topology, X, sequences)
        out = torch.stack([trace[o] for o in topology.outputs], 2)            # [n, steps, n_out]
        pred = out[:, -1] if sequences.get("last") else out
        return float((pred - Y).pow(2).mean())
    value = _values(topology, X)
    pred = torch.stack([value[o] for o in topology.outputs], 1)
    if recorded is None:
        return float((pred - Y).pow(2).mean())
    neurons, R, weight = recorded
    pred = torch.cat([pred, torch.stack([value[v] for v in neurons], 1)], 1)
    target = torch.cat([Y, R], 1)
    w = torch.tensor([1.0] * Y.shape[1] + weight, dtype=torch.float64)
    seen = ~torch.isnan(target)
    return float(((pred - target.nan_to_num(0.0)).pow(2) * seen * w).sum() / seen.sum())


@dataclass(frozen=True)
class Check:
    """One claim of a report, re-checked."""
    edge: str                 # "src->dst", or "best fit"
    claim: str                # what the report says
    stated_loss: float        # the loss the report states (the witness's, or the best fit's)
    loss: float               # the same loss recomputed
    stated_ratio: float
    ratio: float              # (witness loss - best loss) / scale, recomputed
    confirmed: bool
    detail: str               # why not, or what was checked


@dataclass
class Verification:
    """What :func:`verify` found: one :class:`Check` per claim; ``str()`` is a table."""
    checks: List[Check]
    best_loss: float          # the best fit's loss, recomputed
    stated_loss: float

    @property
    def all_confirmed(self) -> bool:
        return all(c.confirmed for c in self.checks)

    @property
    def rejected(self) -> List[Check]:
        return [c for c in self.checks if not c.confirmed]

    def __str__(self) -> str:
        head = ["edge", "claim", "stated loss", "recomputed", "ratio", "recomputed", "ok", "detail"]
        def num(v: float, spec: str) -> str:
            return "" if v != v else format(v, spec)
        rows = [[c.edge, c.claim, num(c.stated_loss, ".6g"), num(c.loss, ".6g"), num(c.stated_ratio, ".4f"),
                 num(c.ratio, ".4f"), "yes" if c.confirmed else "NO", c.detail] for c in self.checks]
        widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head) - 1)]
        def line(r: List[str]) -> str:
            return "  ".join(c.ljust(w) for c, w in zip(r, widths + [0])).rstrip()
        n_bad = len(self.rejected)
        top = (f"verify: {len(self.checks) - n_bad} of {len(self.checks)} claims confirmed by a float64 "
               f"recomputation" + ("" if not n_bad else f"; {n_bad} REJECTED"))
        return "\n".join([top, line(head), line(["-" * w for w in widths] + ["------"])] + [line(r) for r in rows])


def _claim(row: EdgeSign) -> str:
    if row.sign in ("+", "-"):
        return f"sign {row.sign}"
    if row.relative in ("+", "-"):
        return f"sign {row.relative} relative to {row.reference}"
    if row.reason.startswith("undecided") or "undecided:" in row.reason:
        return "undecided"
    return "fits as well" if "fits as well" in row.reason else "opposite sign fits within the ratio"


def verify(report: SignReport, X: "ArrayLike", Y: "ArrayLike", *, observed: Optional[Mapping[NodeId, Any]] = None,
           rtol: float = 1e-6) -> Verification:
    """Recompute the best fit's loss and every witness's loss of a refit ``report`` on its data ``X``, ``Y``
    with a float64 forward pass (module docstring) and confirm each claim.

    Args:
        report: from :func:`mpnet.infer_signs` (``method="refit"``), or read back by
            :meth:`SignReport.read_json` (a CSV has no fits to check).
        X, Y: the data the report was made from, ``[n, n_inputs]`` and ``[n, n_outputs]`` (or ``[n]``); for a
            recurrent wiring its sequences, ``[n, steps, n_inputs]`` and ``[n, steps, n_outputs]`` or
            ``[n, n_outputs]`` as it was given them.
        observed: the recordings the report was fitted to, ``{neuron: [n] values}`` (NaN: not recorded), when
            it was (its losses count them, with the weights it keeps in ``extra["observed"]``).
        rtol: how far a recomputed loss may differ from the stated one, relative (float64 sums in another
            order differ by about 1e-12; a float32 search by about 1e-6).

    Returns:
        a :class:`Verification`: ``print`` it for the table, ``.all_confirmed`` for the verdict.

    Raises:
        ArgumentError: not a refit report, or one without its best fit; recordings missing, or not the
            report's.
        DataError: data of the wrong shape or not finite.
    """
    if not isinstance(report, SignReport):
        raise ArgumentError(f"Expected report to be a SignReport (got {type(report).__name__}).")
    if report.method != "refit" or report.best is None:
        without = "" if report.best is not None else ", no best fit; a CSV keeps no fits: save with to_json"
        raise ArgumentError(f"verify checks a refit report with its best fit (got method={report.method!r}"
                            f"{without}).")
    rtol = check_float(rtol, "rtol", min=0)
    best = report.best
    sequences: Optional[Dict[str, Any]] = report.extra.get("sequences")
    Xt, Yt = _data(best, X, Y, sequences)
    recorded = _recordings(report, observed, Xt.shape[0])
    scale = float(report.extra.get("scale", report.loss))
    L0 = _loss(best, Xt, Yt, recorded, sequences)
    tol = rtol * max(abs(report.loss), 1e-300)
    ok0 = abs(L0 - report.loss) <= tol
    checks = [Check("best fit", "loss", report.loss, L0, math.nan, math.nan, ok0,
                    "" if ok0 else "the best fit's loss on these data differs from the report's: other data, or "
                                   "a changed fit")]
    for row in report.edges:
        if row.constraint != "free" or row.ratio != row.ratio:
            continue
        checks.append(_check_row(report, row, best, Xt, Yt, recorded, L0, scale, rtol, sequences))
    return Verification(checks, L0, report.loss)


def _data(best: Topology, X: Any, Y: Any, sequences: Optional[Mapping[str, Any]]) -> Tuple[Tensor, Tensor]:
    """``X`` and ``Y`` as float64 tensors of the report's shapes, checked finite (``DataError`` otherwise)."""
    Xt, Yt = as_tensor(X, "X").to(torch.float64), as_tensor(Y, "Y").to(torch.float64)
    n_in, n_out = len(best.inputs), len(best.outputs)
    if sequences is not None:
        steps, last = int(sequences["steps"]), bool(sequences["last"])
        if Yt.dim() == 1 and n_out == 1 and last:
            Yt = Yt[:, None]
        want_y = [Xt.shape[0], n_out] if last else [Xt.shape[0], steps, n_out]
        if Xt.dim() != 3 or list(Xt.shape[1:]) != [steps, n_in] or list(Yt.shape) != want_y:
            raise DataError(f"Expected the report's sequences: X [n, {steps}, {n_in}] and Y {want_y} (the report's "
                            f"inputs {list(best.inputs)} and outputs {list(best.outputs)}, "
                            f"{'the last step' if last else 'a target per step'}), got {list(Xt.shape)} and "
                            f"{list(Yt.shape)}.")
        check_finite(Xt.reshape(Xt.shape[0], -1), "X", row_word="sequence")
        check_finite(Yt.reshape(Yt.shape[0], -1), "Y", row_word="sequence")
        return Xt, Yt
    if Yt.dim() == 1:
        Yt = Yt[:, None]
    if Xt.dim() != 2 or Xt.shape[1] != n_in or Yt.shape != (Xt.shape[0], n_out):
        raise DataError(f"Expected X [n, {n_in}] and Y [n, {n_out}] (the report's inputs "
                        f"{list(best.inputs)} and outputs {list(best.outputs)}), got {list(Xt.shape)} and "
                        f"{list(Yt.shape)}.")
    check_finite(Xt, "X", columns=[str(n) for n in best.inputs])
    check_finite(Yt, "Y", columns=[str(n) for n in best.outputs])
    return Xt, Yt


def _recordings(report: SignReport, observed: Optional[Mapping[NodeId, Any]], n: int) -> Optional[Recordings]:
    weights: Dict[NodeId, float] = dict(report.extra.get("observed") or {})
    if observed is None:
        if weights:
            raise ArgumentError(f"verify: this report was fitted to recordings of {list(weights)}; pass them as "
                                f"observed={{neuron: values}}.")
        return None
    if not isinstance(observed, Mapping) or set(observed) != set(weights):
        got = sorted(map(str, observed)) if isinstance(observed, Mapping) else type(observed).__name__
        raise ArgumentError(f"verify: expected observed to record the report's neurons {sorted(map(str, weights))} "
                            f"(got {got}).")
    neurons = list(weights)
    columns = []
    for v in neurons:
        col = as_tensor(observed[v], f"observed[{v!r}]").to(torch.float64).reshape(-1)
        if col.numel() != n:
            raise DataError(f"Expected observed[{v!r}] to hold {n} values, one per row of X (got {col.numel()}).")
        columns.append(col)
    return neurons, torch.stack(columns, 1), [float(weights[v]) for v in neurons]


def _check_row(report: SignReport, row: EdgeSign, best: Topology, X: Tensor, Y: Tensor,
               recorded: Optional[Recordings], L0: float, scale: float, rtol: float,
               sequences: Optional[Mapping[str, Any]] = None) -> Check:
    name, claim = f"{row.src}->{row.dst}", _claim(row)
    w_best = _parameter(best, row.key)
    assert w_best is not None   # a fit sets every weight
    problems: List[str] = []
    if abs(w_best - row.weight) > 1e-9 * max(1.0, abs(row.weight)):
        problems.append(f"the best fit's weight is {w_best:.6g}, the row says {row.weight:.6g}")
    said = row.sign if row.sign in ("+", "-") else row.relative
    if said in ("+", "-") and not (w_best > 0 if said == "+" else w_best < 0):
        problems.append(f"the best fit's weight {w_best:+.4g} does not have the called sign {said}")
    witness = report.witness(row.key)
    if witness is None:
        if said in ("+", "-"):
            return Check(name, claim, row.alt_loss, math.nan, row.ratio, math.nan, not problems,
                         "; ".join(problems) or "no witness stored: the claim rests on the search")
        return Check(name, claim, row.alt_loss, math.nan, row.ratio, math.nan, False,
                     "no witness stored for a claim that needs one")
    w = _parameter(witness, row.key)
    assert w is not None
    if not (w * w_best <= 0 and (w != 0 or w_best != 0)):
        problems.append(f"the witness's weight {w:+.4g} has the best fit's sign")
    loss = _loss(witness, X, Y, recorded, sequences)
    ratio = (loss - L0) / scale
    tol = rtol * max(abs(row.alt_loss), abs(loss), 1e-300)
    if not abs(loss - row.alt_loss) <= tol:
        problems.append(f"the witness's loss is {loss:.6g}, the report says {row.alt_loss:.6g}")
    rtol_ratio = rtol * max(abs(loss), abs(L0)) / scale + 1e-12
    if said in ("+", "-") and not ratio >= row.ratio - rtol_ratio:
        problems.append(f"the witness is worse by ratio {ratio:.4f}, not the stated {row.ratio:.4f}")
    if said not in ("+", "-") and not ratio <= row.ratio + rtol_ratio:
        problems.append(f"the witness fits with ratio {ratio:.4f}, beyond the stated {row.ratio:.4f}")
    detail = "; ".join(problems) or ("the witness, with the opposite sign, is worse by the stated ratio"
                                     if said in ("+", "-") else
                                     "the witness has the opposite sign and the stated loss")
    return Check(name, claim, row.alt_loss, loss, row.ratio, ratio, not problems, detail)
