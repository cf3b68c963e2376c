"""Held-out stimulations: the signs of measured responses predicted for neurons the fit never saw stimulated.

The cross-validated comparison of :mod:`mpnet.connectome.propagation`: for each fold of stimulated neurons
(:func:`~mpnet.connectome.propagation.folds`), each method fits (or reads) what it needs from the training
stimulations only and scores every (held-out stimulated neuron, responder) pair; the score's sign is the
predicted response sign, checked on the significant pairs. :func:`balanced_accuracy` and :func:`auroc` score
it, per fold and pooled over folds.

Methods (:data:`METHODS`):

* ``connectome``: the wiring, chemical signs fitted (:func:`~mpnet.connectome.propagation.model_topology`);
* ``transmitter signs``: the same model, ACh + and GABA - fixed
  (:func:`~mpnet.connectome.wiring.transmitter_signs`), the rest fitted;
* ``rewired``: the first model on a degree-preserving shuffle of the wiring
  (:func:`~mpnet.connectome.propagation.rewire`): does anatomy help at all?
* ``direct synapse rule``: a pair's sign is the transmitter sign of a direct chemical synapse, undecided
  (score 0, counted positive) otherwise (:func:`~mpnet.connectome.propagation.direct_rule`);
* ``responder mean``: no anatomy at all: a pair's score is the responder's mean measured response (clipped to
  +-1) over the training stimulations (does anything in the held-out signs follow from the responder alone?);
* ``all positive``: every response predicted positive (score 1).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor

from ..errors import ArgumentError
from ..graph.topology import Topology
from .propagation import Responses, direct_rule, fit, model_topology, rewire

__all__ = ["METHODS", "responder_mean", "balanced_accuracy", "auroc", "Score", "Heldout", "interval", "run"]

METHODS = ("connectome", "transmitter signs", "rewired", "direct synapse rule", "responder mean", "all positive")


def responder_mean(responses: Responses, train: Sequence[int], clip: float = 1.0) -> Tensor:
    """``[R]``: each responder's mean measured response over the rows ``train``, each clipped to +-``clip``
    (0 for a responder never measured there)."""
    r = responses.response[torch.tensor(list(train), dtype=torch.long)].clamp(-clip, clip)
    m = ~torch.isnan(r)
    return torch.where(m, r, 0.0).sum(0) / m.sum(0).clamp(min=1)


def balanced_accuracy(positive: Tensor, score: Tensor) -> float:
    """The mean of the true positive and true negative rates, a pair predicted positive where ``score >= 0``
    (NaN when either class is empty)."""
    positive, said = positive.bool(), score >= 0
    if not bool(positive.any()) or bool(positive.all()):
        return float("nan")
    tpr = (said & positive).sum() / positive.sum()
    tnr = (~said & ~positive).sum() / (~positive).sum()
    return float((tpr + tnr) / 2)


def auroc(positive: Tensor, score: Tensor) -> float:
    """The probability that a positive pair scores above a negative one, ties counted half (Mann-Whitney;
    NaN when either class is empty)."""
    positive = positive.bool()
    pos, neg = score[positive].double(), score[~positive].double()
    if not len(pos) or not len(neg):
        return float("nan")
    above = (pos[:, None] > neg[None, :]).double().sum() + 0.5 * (pos[:, None] == neg[None, :]).double().sum()
    return float(above / (len(pos) * len(neg)))


@dataclass(frozen=True)
class Score:
    """One method on one fold (or pooled: ``fold`` None)."""
    method: str
    fold: Optional[int]
    pairs: int
    negative: int
    balanced_accuracy: float
    auroc: float


@dataclass
class Heldout:
    """Every method's held-out score per pair (``[S, R]``, NaN where the pair is not scored) and per fold."""
    responses: Responses
    folds: List[Tuple[int, ...]]
    scores: Dict[str, Tensor]
    fit_loss: Dict[str, List[float]] = field(default_factory=dict)
    seconds: Dict[str, float] = field(default_factory=dict)

    def table(self) -> List[Score]:
        """Per method, a :class:`Score` per fold and one pooled over folds, on the significant pairs."""
        sig, r = self.responses.significant, self.responses.response
        out: List[Score] = []
        for method, s in self.scores.items():
            for k, held in [(k, list(f)) for k, f in enumerate(self.folds)] + [(None, sum(map(list, self.folds), []))]:
                rows = torch.tensor(sorted(held), dtype=torch.long)
                m = sig[rows]
                positive, score = r[rows][m] > 0, s[rows][m]
                out.append(Score(method, k, int(m.sum()), int((~positive).sum()), balanced_accuracy(positive, score),
                                 auroc(positive, score)))
        return out


def interval(heldout: Heldout, method: str, *, resamples: int = 1000, seed: int = 0,
             level: float = 0.95) -> Tuple[float, float, float, float]:
    """A bootstrap interval over held-out stimulated neurons (the pairs of one stimulation are not independent,
    so whole rows are resampled): ``(balanced accuracy low, high, AUROC low, high)`` at ``level``, pooled over
    every fold's rows."""
    sig, r, s = heldout.responses.significant, heldout.responses.response, heldout.scores[method]
    rows = sorted(i for f in heldout.folds for i in f)
    gen = torch.Generator().manual_seed(seed)
    ba: List[float] = []
    au: List[float] = []
    for _ in range(resamples):
        pick = torch.tensor(rows)[torch.randint(len(rows), (len(rows),), generator=gen)]
        m = sig[pick]
        positive, score = r[pick][m] > 0, s[pick][m]
        ba.append(balanced_accuracy(positive, score))
        au.append(auroc(positive, score))
    lo, hi = (1 - level) / 2, (1 + level) / 2

    def q(v: List[float], at: float) -> float:
        t = torch.tensor([x for x in v if x == x], dtype=torch.float64)
        return float(torch.quantile(t, at)) if len(t) else float("nan")
    return q(ba, lo), q(ba, hi), q(au, lo), q(au, hi)


def run(wiring: Topology, responses: Responses, held: Sequence[Tuple[int, ...]], *,
        methods: Sequence[str] = METHODS, epochs: int = 600, steps: int = 10, lr: float = 0.01,
        share: str = "synapse", seed: int = 0,
        progress: Optional[Callable[[str], None]] = None) -> Heldout:
    """Every method on every fold of ``held`` (row indices into ``responses``); fits use only the training rows.

    Args:
        wiring: the connectome; responses: from :func:`~mpnet.connectome.propagation.align`.
        held: the held-out rows per fold (:func:`~mpnet.connectome.propagation.folds`, or some of them).
        methods: among :data:`METHODS`; epochs, steps, lr, seed: of each fit (fold ``k`` starts from
            ``seed + k``; the rewiring uses ``seed``); share: of the fitted models.
        progress: called with a line after each fit.

    Raises:
        ArgumentError: an unknown method, or a row held out twice (a fold leaking into another's training set is
            impossible: a fold's training rows are all rows not in it).
    """
    bad = [m for m in methods if m not in METHODS]
    if bad:
        raise ArgumentError(f"run: invalid methods {bad}. Must be among {list(METHODS)}.")
    flat = [i for f in held for i in f]
    if len(flat) != len(set(flat)):
        raise ArgumentError("run: a stimulated neuron is held out in two folds; each must be held out once.")
    S, R = responses.response.shape
    result = Heldout(responses, [tuple(f) for f in held], {})
    stim, read = responses.stimulated, responses.read_out
    topologies: Dict[str, Callable[[], Topology]] = {
        "connectome": lambda: model_topology(wiring, stim, read, share=share),
        "transmitter signs": lambda: model_topology(wiring, stim, read, share=share, signs="transmitter"),
        "rewired": lambda: model_topology(rewire(wiring, seed=seed), stim, read, share=share)}
    for method in methods:
        start = time.process_time()
        scores = torch.full((S, R), float("nan"), dtype=torch.float64)
        if method == "all positive":
            scores[:] = 1.0
        elif method == "direct synapse rule":
            scores = direct_rule(wiring, responses)
        elif method == "responder mean":
            for fold in held:
                train = [i for i in range(S) if i not in set(fold)]
                scores[torch.tensor(sorted(fold), dtype=torch.long)] = responder_mean(responses, train)
        else:
            topo = topologies[method]()
            result.fit_loss[method] = []
            for k, fold in enumerate(held):
                out = set(fold)
                train = [i for i in range(S) if i not in out]
                fitted = fit(topo, responses, train, epochs=epochs, steps=steps, lr=lr, seed=seed + k)
                scores[torch.tensor(sorted(fold), dtype=torch.long)] = fitted.predict([stim[i] for i in sorted(fold)])
                result.fit_loss[method].append(fitted.losses[-1])
                if progress:
                    progress(f"{method}: fold {k + 1}/{len(held)} fitted, loss {fitted.losses[-1]:.3e} "
                             f"({time.process_time() - start:.0f} CPU s)")
        result.scores[method] = scores
        result.seconds[method] = time.process_time() - start
    return result
