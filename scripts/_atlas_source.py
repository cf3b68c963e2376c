"""The functional atlas of Randi et al. 2023 read from its source and written as mpnet package data (not a script:
``scripts/make_connectome.py`` calls :func:`make_atlas`).

Source: the ``wormneuroatlas`` package (F. Randi; a dependency of cect, so the 'connectome' extra installs it),
whose wheel carries ``data/funatlas.h5``: the signal-propagation atlas of Randi et al. 2023 (Neural signal
propagation atlas of Caenorhabditis elegans, Nature 623:406-414), the data cect's WormNeuroAtlasFuncReader
reads. For the wild type (group ``wt``) it holds 300 x 300 matrices indexed ``[responding, stimulated]``
(wormneuroatlas' own reader: ``dFF[apost, apre]``; its kernels are "for pair i<-j"): ``dFF`` (the mean
post-stimulus dF/F over trials), ``q`` (q-value of a nonzero response), ``q_eq`` (q-value of the equivalence
test, |response| < ``q_eq_th``), ``occ1`` (trials in which the pair was observed), ``dFF_all`` (each trial).

What a missing entry means there, and here:

* ``occ1 == 0``: the pair was never observed (either neuron not identified, or the first never stimulated);
  ``dFF`` and ``q`` are NaN. Not measured.
* ``occ1 > 0`` but ``dFF`` NaN (and ``dFF_all`` empty): observed, no usable response. Not measured here.
* a finite ``dFF`` with ``q >= 0.05``: measured, not significant (not "no connection": ``q_eq`` says that).
* cect's cached reader keeps only the pairs with q < 0.05 (its test ``abs(num) > -10`` always holds), clamps
  the response to [-10, 10], writes 0 for the diagonal and for a NaN response: in cect a missing pair is
  "not significant or not measured", which cannot be told apart, and a 0 is not a measured zero.

The orientation is checked on the data: the columns with any observation are exactly the neurons observed on
the diagonal (a stimulated neuron is recorded at its own stimulation), while more neurons have an observed
row (neurons recorded but never stimulated). Read the other way round, neurons never stimulated would have
responses to their own stimulation.
"""
import math
import os
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from mpnet.connectome.funatlas import atlas, write_atlas

def _require(ok: Any, what: str) -> None:
    """Stop with ``what`` unless ``ok``: the source is not what this script was written against (not -O's assert)."""
    if not ok:
        raise RuntimeError(f"make_connectome.py: the source data is not as expected: {what}; nothing written")


#: The atlas names the AWC pair by its functional asymmetry (chosen at random left or right per animal), not
#: by side; the wiring has AWCL and AWCR. These rows and columns are left out.
NOT_IN_WIRING = ("AWCON", "AWCOF")


def read_funatlas(strain: str = "wt") -> Tuple[List[str], Dict[str, Any], Dict[str, Any]]:
    """The source's neuron ids, its matrices (``[responding, stimulated]``) and facts about the file."""
    import h5py
    import wormneuroatlas
    from importlib.metadata import version
    path = os.path.join(os.path.dirname(wormneuroatlas.__file__), "data", "funatlas.h5")
    with h5py.File(path, "r") as f:
        ids = [n.decode("utf-8") for n in f["neuron_ids"][:]]
        group = f[strain]
        mats = {k: np.asarray(group[k][:]) for k in ("dFF", "q", "q_eq", "occ1")}
        facts = {"q_eq_th": float(group["q_eq_th"][()]), "compiled": f.attrs["time_compiled"].decode("utf-8"),
                 "wormneuroatlas_version": version("wormneuroatlas"), "file": "wormneuroatlas/data/funatlas.h5"}
    return ids, mats, facts


def check_orientation(ids: List[str], occ: np.ndarray) -> str:
    """Fail unless ``occ`` is ``[responding, stimulated]``; the sentence that says why it is."""
    cols = {j for j in range(len(ids)) if occ[:, j].any()}
    rows = {i for i in range(len(ids)) if occ[i, :].any()}
    diag = {j for j in range(len(ids)) if occ[j, j] > 0}
    _require(cols == diag and diag < rows, "the atlas' orientation is not [responding, stimulated]")
    only = sorted(ids[i] for i in rows - cols)
    return (f"columns of the source with any observation = the {len(cols)} neurons observed at their own "
            f"stimulation (the diagonal); {len(rows)} neurons have an observed row, {len(only)} of them never a "
            f"column (recorded, never stimulated, e.g. {', '.join(only[:4])}): so rows respond, columns are "
            f"stimulated, as wormneuroatlas' reader (dFF[apost, apre]) and cect's read them")


def _digits(x: float) -> float:
    """``x`` to 7 significant digits (the file's precision: far below the trial-to-trial spread)."""
    return float(f"{float(x):.7g}")


def make_atlas(out: str) -> None:
    """Write the wild-type atlas to ``out`` with its provenance; print what went in."""
    try:
        ids, mats, facts = read_funatlas()
    except ImportError as err:
        raise SystemExit(f"make_connectome.py: error: the atlas needs wormneuroatlas and h5py ({err}); "
                         f"pip install -e '.[connectome]'") from None
    dff, q, q_eq, occ = mats["dFF"], mats["q"], mats["q_eq"], mats["occ1"]
    orientation = check_orientation(ids, occ)
    observed = occ > 0
    _require(not (~observed & ~np.isnan(dff)).any(), "a response without an observation")
    measured = observed & ~np.isnan(dff)
    _require(not (measured & np.isnan(q)).any(), "a measured response without a q-value")
    no_value = observed & np.isnan(dff)
    q_no_value = [(ids[j], ids[i], float(q[i, j])) for i, j in zip(*np.nonzero(no_value & ~np.isnan(q)))]
    drop = [ids.index(n) for n in NOT_IN_WIRING]
    off = ~np.eye(len(ids), dtype=bool)
    dropped = measured.copy()
    keep_ix = [k for k in range(len(ids)) if k not in drop]
    dropped[np.ix_(keep_ix, keep_ix)] = False
    kept = measured & ~dropped
    used = sorted({k for i, j in zip(*np.nonzero(kept)) for k in (i, j)})
    neurons = [ids[k] for k in used]
    pos = {k: n for n, k in enumerate(used)}
    entries: List[Tuple[int, int, float, float, Optional[float], int]] = []
    for i, j in zip(*np.nonzero(kept)):          # source [responding i, stimulated j] -> (stimulated, responding)
        eq = float(q_eq[i, j])
        entries.append((pos[j], pos[i], _digits(dff[i, j]), _digits(q[i, j]), None if math.isnan(eq) else _digits(eq),
                        int(occ[i, j])))
    sig = kept & off & (q < 0.05)
    prov: Dict[str, Any] = {
        "name": os.path.basename(out)[:-len(".atlas.json")],
        "kind": "signal-propagation atlas, wild type: row = stimulated neuron, column = responding neuron",
        "source": f"wormneuroatlas {facts['wormneuroatlas_version']} ({facts['file']}, group 'wt', compiled "
                  f"{facts['compiled']}; licence GPL-3.0-or-later for the package), a dependency of cect",
        "paper": "Randi, Sharma, Dvali, Leifer 2023, Neural signal propagation atlas of Caenorhabditis elegans, "
                 "Nature 623:406-414",
        "response": "mean post-stimulus dF/F of the responding neuron over trials (the source's dFF), unclamped, "
                    "to 7 significant digits as q and q_eq "
                    f"(range {np.nanmin(dff[kept]):.3g} .. {np.nanmax(dff[kept]):.3g})",
        "q": "q-value (false discovery rate) of a nonzero response, the source's q",
        "q_eq": "q-value of the equivalence test (|response| < q_eq_th: evidence of no propagation), the "
                "source's q_eq; null where the source has none",
        "q_eq_th": facts["q_eq_th"],
        "trials": "trials in which the pair was observed (the source's occ1)",
        "missing": "a pair absent from the file was not measured: never observed (occ1 = 0), or observed with no "
                   f"usable response (occ1 > 0, dFF NaN: {int(no_value.sum())} pairs); a measured pair with a "
                   "large q is 'not significant', not 'no connection'",
        "q_without_response": [list(x) for x in q_no_value],
        "orientation": orientation,
        "left_out": f"{', '.join(NOT_IN_WIRING)} (the atlas names the AWC pair by function, ON/OFF, the wiring by "
                    f"side, L/R; {int(dropped.sum())} measured pairs, {int((dropped & off & (q < 0.05)).sum())} "
                    f"of them significant); the source has no CANL/CANR",
        "kept": f"{len(neurons)} neurons with a measured pair; {int(kept.sum())} measured pairs "
                f"({int((kept & ~off).sum())} on the diagonal: a stimulated neuron's own response); "
                f"{int(sig.sum())} significant off-diagonal pairs at q < 0.05 ({int((sig & (dff > 0)).sum())} "
                f"positive, {int((sig & (dff < 0)).sum())} negative); "
                f"{len({j for i, j in zip(*np.nonzero(kept))})} neurons stimulated",
        "remake": "python scripts/make_connectome.py --only atlas --atlas-out "
                  + os.path.relpath(os.path.abspath(out), os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
    }
    write_atlas(out, neurons, entries, prov)
    back = atlas(out)
    _require(int(back.significant().sum()) == int(sig.sum()), "the written atlas does not read back")
    print(f"wrote {os.path.relpath(out)}: {back!r}, {os.path.getsize(out) / 1e6:.2f} MB (wormneuroatlas "
          f"{facts['wormneuroatlas_version']})")
    print(prov["kept"])
    print("left out:", prov["left_out"])
