"""The signal-propagation model as data for the sign test: which synapse signs does the atlas fix?

:mod:`~mpnet.connectome.propagation` fits a connectome to Randi et al. 2023's responses with a masked loss (a
pair never measured is left out). The refit test (:func:`mpnet.infer_signs`) fits every target, so this module
puts the same experiment in the form it takes:

* :func:`dense_block` -- stimulated rows and responding columns of
  :class:`~mpnet.connectome.propagation.Responses` whose every pair was measured (greedy: the row or column with
  the largest share of unmeasured pairs goes first);
* :func:`choose_classes` -- the cell classes taking part in the most significant pairs of such a block;
* :func:`sign_problem` -- the model on a subcircuit: :func:`~mpnet.connectome.propagation.model_topology` with
  chemical strengths tied per (presynaptic class, postsynaptic class) (``w = log(1 + synapses) *
  strength[class pair]``, so a pair's sign is one free parameter), gap junctions tied per pair (``g >= 0``),
  and each responder read out by an integrator ``read:<neuron>`` (identity, a frozen self-loop of 1, an input
  edge of sign ``+`` from the responder): after ``steps + 1`` steps of drive it holds ``gain * sum of the
  responder's activity over the first steps``, :func:`~mpnet.connectome.propagation.simulate`'s mean response
  times a positive gain (``gain * steps``); with ``X`` (the drives, ``[S, steps + 1, S]``) and ``Y`` (the
  clipped responses, ``[S, R]``, last step);
* :func:`mirror_noise` -- the noise of one measured mean response, from left/right homologous pairs;
* :func:`class_groups` -- per tied class pair: its edges, synapses and presynaptic transmitter.

What the refit test adds over :func:`~mpnet.connectome.propagation.fit`: every neuron has a fitted bias (the
sign test fits them; :func:`~mpnet.connectome.propagation.fit` holds them at 0), so a responder's integrator
has a constant offset.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, replace
from typing import Dict, List, Mapping, Optional, Sequence, Set, Tuple

import torch
from torch import Tensor

from ..errors import ArgumentError
from ..graph.ties import groups_of
from ..graph.topology import Edge, Node, Topology
from .neurons import mirror
from .propagation import Responses, model_topology
from .wiring import STIM, cell_class, subcircuit

__all__ = ["READ", "dense_block", "choose_classes", "SignProblem", "sign_problem", "mirror_noise", "ClassGroup",
           "class_groups", "GROUPS", "transmitter_group"]

#: The integrator output of a responder: ``read:<neuron>``.
READ = "read:"


def dense_block(responses: Responses, rows: Optional[Sequence[int]] = None,
                cols: Optional[Sequence[int]] = None) -> Tuple[List[int], List[int]]:
    """Row and column indices of ``responses`` whose every pair was measured: starting from ``rows`` x ``cols``
    (default all), the row or column with the largest share of unmeasured pairs is dropped (a row on a tie)
    until none is left. Deterministic; not the largest such block, one found greedily.

    Raises:
        ArgumentError: an index outside ``responses``.
    """
    S, R = responses.response.shape
    rows = list(range(S)) if rows is None else [int(i) for i in rows]
    cols = list(range(R)) if cols is None else [int(j) for j in cols]
    bad = [i for i in rows if not 0 <= i < S] + [j for j in cols if not 0 <= j < R]
    if bad:
        raise ArgumentError(f"dense_block: indices {bad[:5]} are outside the responses ({S} rows x {R} columns).")
    measured = responses.measured
    while rows and cols:
        missing = ~measured[rows][:, cols]
        if not bool(missing.any()):
            break
        by_row, by_col = missing.double().mean(1), missing.double().mean(0)
        if float(by_row.max()) >= float(by_col.max()):
            rows.pop(int(by_row.argmax()))
        else:
            cols.pop(int(by_col.argmax()))
    return rows, cols


def choose_classes(responses: Responses, rows: Sequence[int], cols: Sequence[int], k: int) -> List[str]:
    """The ``k`` cell classes that take part (stimulated or responding) in the most significant pairs of
    ``rows`` x ``cols``, most first (ties by name).

    Raises:
        ArgumentError: ``k`` < 1.
    """
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise ArgumentError(f"choose_classes: expected k, the number of classes, to be an int >= 1; got {k!r}.")
    count: Counter[str] = Counter()
    sig = responses.significant
    for i in rows:
        for j in cols:
            if bool(sig[i, j]):
                count[cell_class(responses.stimulated[i])] += 1
                count[cell_class(responses.read_out[j])] += 1
    ranked = sorted(count, key=lambda c: (-count[c], c))
    return ranked[:k]


@dataclass(frozen=True)
class SignProblem:
    """What :func:`mpnet.infer_signs` is handed: ``topology`` (outputs ``read:<responder>``), ``X [S, steps + 1,
    n_inputs]`` (the drive into ``stim:<stimulated[i]>`` on row ``i``), ``Y [S, R]`` (the clipped measured
    responses, last step), the neurons of the subcircuit, and the rows and columns of the responses used."""
    topology: Topology
    X: Tensor
    Y: Tensor
    neurons: Tuple[str, ...]
    stimulated: Tuple[str, ...]
    read_out: Tuple[str, ...]
    rows: Tuple[int, ...]
    cols: Tuple[int, ...]
    steps: int


def _with_readout(topo: Topology, read_out: Sequence[str]) -> Topology:
    out = set(read_out)
    nodes = [replace(n, role="hidden") if n.id in out else n for n in topo.nodes.values()]
    nodes += [Node(f"{READ}{n}", "output", "identity") for n in read_out]
    edges = list(topo.edges.values())
    edges += [Edge(n, f"{READ}{n}", sign="+") for n in read_out]
    edges += [Edge(f"{READ}{n}", f"{READ}{n}", 1.0, trainable=False) for n in read_out]
    return Topology(nodes, edges, recurrent=True, ties=list(topo.ties.values()), warn=False)


def sign_problem(wiring: Topology, responses: Responses, rows: Sequence[int], cols: Sequence[int], *,
                 neurons: Optional[Sequence[str]] = None, steps: int = 10, amplitude: float = 1.0,
                 clip: float = 1.0) -> SignProblem:
    """The propagation model on a subcircuit, as data for the sign test (module docstring).

    Args:
        wiring: the connectome; responses: from :func:`~mpnet.connectome.propagation.align`.
        rows, cols: the stimulated rows and responding columns of ``responses`` fitted; every pair must be
            measured (:func:`dense_block`) and no neuron both (its own response is no propagation).
        neurons: the subcircuit (default: the rows' and columns' neurons); must hold them.
        steps: steps of drive whose activity a response sums; amplitude: the drive; clip: targets clipped to
            ``[-clip, clip]``, as :func:`~mpnet.connectome.propagation.fit` does.

    Raises:
        ArgumentError: a pair not measured (named), a neuron both stimulated and read out, an index outside
            ``responses``, a bad ``steps``, ``amplitude`` or ``clip``.
        UnknownNodeError: a neuron not in the wiring.
    """
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
        raise ArgumentError(f"sign_problem: expected steps to be an int >= 1; got {steps!r}.")
    for name, value in (("amplitude", amplitude), ("clip", clip)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
            raise ArgumentError(f"sign_problem: expected {name} to be a finite number > 0; got {value!r}.")
    S, R = responses.response.shape
    bad = [i for i in rows if not 0 <= i < S] + [j for j in cols if not 0 <= j < R]
    if bad or not rows or not cols:
        raise ArgumentError(f"sign_problem: expected rows in [0, {S}) and cols in [0, {R}), neither empty; got "
                            f"{len(rows)} rows, {len(cols)} columns, out of range {bad[:5]}.")
    stim = [responses.stimulated[i] for i in rows]
    read = [responses.read_out[j] for j in cols]
    both = sorted(set(stim) & set(read))
    if both:
        raise ArgumentError(f"sign_problem: {both[:5]} are both stimulated and read out; a neuron's own response "
                            f"is not measured as propagation (align leaves it out).")
    measured = responses.measured[list(rows)][:, list(cols)]
    if not bool(measured.all()):
        i, j = (int(v) for v in torch.nonzero(~measured)[0])
        raise ArgumentError(f"sign_problem: the response of {read[j]} to {stim[i]} was not measured; the sign test "
                            f"fits every pair (choose rows and cols with dense_block).")
    keep = list(dict.fromkeys(list(neurons) if neurons is not None else stim + read))
    missing = sorted(set(stim + read) - set(keep))
    if missing:
        raise ArgumentError(f"sign_problem: neurons must hold every stimulated and read-out neuron; {missing[:5]} "
                            f"are not in it.")
    sub = subcircuit(wiring, keep, inputs=stim, outputs=read)
    topo = _with_readout(model_topology(sub, stim, read, share="class"), read)
    column = {n: c for c, n in enumerate(topo.inputs)}
    X = torch.zeros(len(stim), steps + 1, len(topo.inputs), dtype=torch.float64)
    for i, n in enumerate(stim):
        X[i, :, column[f"{STIM}{n}"]] = float(amplitude)
    Y = responses.response[list(rows)][:, list(cols)].clamp(-clip, clip).to(torch.float64)
    return SignProblem(topo, X, Y, tuple(keep), tuple(stim), tuple(read), tuple(int(i) for i in rows),
                       tuple(int(j) for j in cols), steps)


def mirror_noise(responses: Responses, wiring: Topology, *, clip: float = 1.0) -> Tuple[float, int]:
    """``(variance, pairs)``: the noise variance of one measured mean response, half the mean square difference
    between a pair's response (``a -> b``) and its left/right mirror's (``a' -> b'``,
    :func:`~mpnet.connectome.neurons.mirror`), over every pair whose mirror was measured too, each counted once,
    responses clipped to ``[-clip, clip]``.
    It counts any true left/right difference as noise, so it errs upward (a fit looks nearer its floor).

    Raises:
        ArgumentError: no pair has a measured mirror.
    """
    homologue = mirror(wiring)
    row = {n: i for i, n in enumerate(responses.stimulated)}
    col = {n: j for j, n in enumerate(responses.read_out)}
    r = responses.response.clamp(-clip, clip)
    diffs: List[float] = []
    for a, i in row.items():
        for b, j in col.items():
            ma, mb = homologue.get(a, a), homologue.get(b, b)
            if (ma, mb) == (a, b) or (ma, mb) < (a, b) or ma not in row or mb not in col:
                continue
            x, y = float(r[i, j]), float(r[row[ma], col[mb]])
            if x == x and y == y:
                diffs.append(x - y)
    if not diffs:
        raise ArgumentError("mirror_noise: no measured pair has a measured left/right mirror; give the noise.")
    return sum(d * d for d in diffs) / (2 * len(diffs)), len(diffs)


@dataclass(frozen=True)
class ClassGroup:
    """A tied class pair ``chem:<pre>><post>``: its edges, their synapses, and the labels of their transmitters
    (:func:`~mpnet.connectome.neurons.synapse_transmitter`, from the presynaptic neurons)."""
    name: str
    pre: str
    post: str
    edges: Tuple[Tuple[str, str], ...]
    synapses: float
    transmitters: Tuple[str, ...]


def class_groups(topology: Topology) -> Dict[str, ClassGroup]:
    """Every ``chem:`` tie group of a :func:`sign_problem` topology, by name, in the topology's order."""
    edges: Dict[str, List[Edge]] = {}
    for e in topology.edges.values():
        for g, _ in groups_of(e.tie):
            if g.startswith("chem:"):
                edges.setdefault(g, []).append(e)
    out: Dict[str, ClassGroup] = {}
    for name, es in edges.items():
        pre, post = name[5:].split(">")
        labels: Set[str] = {str((e.meta or {}).get("transmitter") or "orphan") for e in es}
        out[name] = ClassGroup(name, pre, post, tuple((str(e.src), str(e.dst)) for e in es),
                               sum(float((e.meta or {}).get("synapses", 0)) for e in es), tuple(sorted(labels)))
    return out


#: The transmitter groups of :func:`transmitter_group`, in table order.
GROUPS = ("ACh", "GABA", "glutamate", "several", "other/none")
_SHORT: Mapping[str, str] = {"Acetylcholine": "ACh", "GABA": "GABA", "Glutamate": "glutamate"}


def transmitter_group(labels: Sequence[str]) -> str:
    """A class pair's row of the agreement table: ``"ACh"``, ``"GABA"`` or ``"glutamate"`` when every synapse's
    label is that transmitter alone; ``"several"`` when they name a classical transmitter and another
    (``"Acetylcholine+Glutamate"``, ``"Acetylcholine+Betaine"``, or neurons of one class that differ);
    ``"other/none"`` otherwise (monoamines, betaine, orphan: no classical transmitter known)."""
    classical = {t for label in labels for t in label.split("+") if t in _SHORT}
    if len(classical) > 1:
        return "several"
    if len(classical) == 1 and all(label in _SHORT for label in labels):
        return _SHORT[classical.pop()]
    return "several" if classical else "other/none"
