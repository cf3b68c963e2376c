"""mpnet.signs.design: measurements scored from where the best fit and a witness disagree.

The wiring x -> h -> y with h a ReLU that is active on all the data (x in [0.5, 2]): y = x is fitted as well by
h = x, y = h (the best fit) as by h = 3 - x, y = 3 - h (the witness: both signs reversed, h mirrored). Only a
measurement of h, a drive into h, or inputs where h = 3 - x switches off (x > 3) tell them apart.
"""
import math
from dataclasses import dataclass
from typing import Dict, List, Optional

import pytest
import torch

from mpnet.errors import ArgumentError
from mpnet.graph.topology import Topology
from mpnet.signs.design import design
from mpnet.signs.report import EdgeSign

WIRING = Topology.from_edges([("x", "h"), ("h", "y")], inputs=["x"], outputs=["y"], activation="relu",
                             output_activation="identity")
BEST = WIRING.with_weights({("x", "h"): 1.0, ("h", "y"): 1.0})
WITNESS = WIRING.with_weights({("x", "h"): -1.0, ("h", "y"): -1.0}, {"h": 3.0, "y": 3.0})
X = torch.linspace(0.5, 2.0, 200, dtype=torch.float64)[:, None]


@dataclass
class Report:            # what design() reads of a SignReport
    edges: List[EdgeSign]
    best: Optional[Topology]
    witnesses: Dict
    noise_variance: float = 1e-4

    def witness(self, key):
        return self.witnesses.get(key)


def _row(key, sign="?"):
    return EdgeSign(*key, sign, 0.0, 1.0, True, "the opposite sign fits as well", "free")


def _report(witness=WITNESS, signs=("?", "?")):
    keys = [("x", "h"), ("h", "y")]
    return Report([_row(k, s) for k, s in zip(keys, signs)], BEST, {k: witness for k in keys})


def test_the_witness_really_fits_as_well():
    from mpnet.testing import reference_forward
    xs = X.tolist()
    a, b = reference_forward(BEST, xs), reference_forward(WITNESS, xs)
    assert max(abs(u[0] - v[0]) for u, v in zip(a, b)) < 1e-12


@pytest.mark.parametrize("kind", ["record", "probe", "stimulate"])
def test_each_kind_decides_the_mirrored_pair(kind):
    # the witness's h switches off at x = 3: a probe box three times the data's (centre 1.25) reaches past it
    (s,) = design(_report(), X, budget=1, kinds=[kind], outside=3.0)
    assert s.kind == kind and set(s.decides) == {("x", "h"), ("h", "y")}
    assert all(v >= 1.0 for v in s.separation.values())
    if kind == "probe":
        # where one of the two ReLUs is silent: x < 0 (the best fit's h) or x > 3 (the witness's)
        assert s.target.shape == (64, 1) and bool(((s.target < 0) | (s.target > 3)).all())
    else:
        assert s.target == "h"


def test_probes_inside_the_data_box_decide_nothing():
    # inside the box (and just around it) the two fits are the same function: no suggestion at all
    assert design(_report(), X, budget=1, kinds=["probe"], outside=1.0) == []
    assert design(_report(), X, budget=1, kinds=["probe"], outside=1.5) == []


def test_a_rescaled_witness_is_not_a_difference():
    # h scaled by 2 and its outgoing weight by 1/2: the same function and, after rescaling, the same trace
    scaled = WIRING.with_weights({("x", "h"): 2.0, ("h", "y"): 0.5})
    assert design(_report(witness=scaled), X, kinds=["record"]) == []


def test_called_edges_and_edges_without_witness_are_not_targets():
    assert design(_report(signs=("+", "+")), X) == []
    report = _report()
    report.witnesses = {}
    assert design(report, X) == []


def test_greedy_stops_when_nothing_new_is_decided():
    out = design(_report(), X, budget=3)
    assert len(out) == 1 and str(out[0]).split(": should decide ")[1] in ("x->h, h->y", "h->y, x->h")


@pytest.mark.parametrize("kwargs, match", [
    (dict(budget=0), "budget"), (dict(kinds=["look"]), "kinds"), (dict(kinds="record"), "kinds"),
    (dict(margin=-1.0), "margin"), (dict(outside=0.5), "outside"),
])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ArgumentError, match=match):
        design(_report(), X, **kwargs)


def test_bad_data_and_missing_best_fit_are_named():
    with pytest.raises(ArgumentError, match=r"X .*\[n, 1\]"):
        design(_report(), torch.ones(5, 2))
    with pytest.raises(ArgumentError, match="X"):
        design(_report(), torch.tensor([[math.nan]]))
    report = _report()
    report.best = None
    with pytest.raises(ArgumentError, match="best fit"):
        design(report, X)


def test_a_neuron_is_scored_only_for_the_edges_it_is_wired_to():
    # two independent chains; the witness of p's edge also differs in the other chain (an arbitrary choice there):
    # recording q must not claim to decide p's edge
    wiring = Topology.from_edges([("x", "p"), ("p", "y"), ("z", "q"), ("q", "w")], inputs=["x", "z"],
                                 outputs=["y", "w"], activation="relu", output_activation="identity")
    best = wiring.with_weights({("x", "p"): 1.0, ("p", "y"): 1.0, ("z", "q"): 1.0, ("q", "w"): 1.0})
    witness = wiring.with_weights({("x", "p"): -1.0, ("p", "y"): -1.0, ("z", "q"): -1.0, ("q", "w"): -1.0},
                                  {"p": 3.0, "y": 3.0, "q": 3.0, "w": 3.0})
    XX = torch.rand(200, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 1.5 + 0.5
    report = Report([_row(("x", "p"))], best, {("x", "p"): witness})
    (s,) = design(report, XX, kinds=["record"], budget=3)     # q is never a suggestion: it decides nothing
    assert s.target == "p" and s.decides == (("x", "p"),)
