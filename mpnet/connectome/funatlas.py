"""What was measured on the wiring: a signal-propagation atlas (stimulate one neuron, record the others) as data.

The shipped atlas ``mpnet/data/celegans/<name>.atlas.json`` (package data, written by
``scripts/make_connectome.py`` from the ``wormneuroatlas`` package that ``cect`` depends on) holds Randi et
al. 2023's wild-type atlas: for each pair measured, the mean post-stimulus calcium response (dF/F) of the
responding neuron to the optogenetic stimulation of the stimulated one, its q-value (false discovery rate of
"this response is not zero"), the q-value of the equivalence test ("it is within +-q_eq_th of zero") and the
number of trials. :func:`atlas` reads it into an :class:`Atlas`: rows are stimulated neurons, columns are
responding neurons, NaN where the pair was never measured. A pair that is measured but not significant is a
finite response with a large q; only NaN means "not measured".
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

import torch

from ..checks import describe
from ..errors import ArgumentError, FormatError, UnknownNodeError

__all__ = ["Atlas", "atlas", "atlases", "ATLAS_SUFFIX"]

#: Atlas files are ``<name>.atlas.json`` beside the connectomes (``mpnet/data/celegans``).
ATLAS_SUFFIX = ".atlas.json"
_DATA_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "celegans")
_COLUMNS = ("responding", "response", "q", "q_eq", "trials")


@dataclass(frozen=True, eq=False)
class Atlas:
    """A signal-propagation atlas: ``response[i, j]`` is neuron ``neurons[j]``'s mean response to stimulating
    ``neurons[i]`` (row = stimulated, column = responding).

    Its fields: ``neurons``, neuron names as the wiring's node ids (``"AVAL"``); ``response``, float64
    ``[n, n]``, the mean post-stimulus dF/F, NaN where not measured; ``q``, float64 ``[n, n]``, the q-value of a
    nonzero response, NaN where not measured; ``q_eq``, float64 ``[n, n]``, the q-value of the equivalence test
    (response within ``+-provenance["q_eq_th"]`` of zero: evidence of *no* propagation), NaN where not measured
    or not given; ``trials``, int64 ``[n, n]``, the trials behind each entry, 0 where not measured;
    ``provenance``, the source, paper, versions, what was kept and left out, how the orientation was checked;
    ``name`` (``"randi2023"``).

    The diagonal is the stimulated neuron's own response (measured for every stimulated neuron); it is no
    propagation, so :meth:`significant` and :meth:`pairs` leave it out unless asked.
    """

    neurons: Tuple[str, ...]
    response: torch.Tensor
    q: torch.Tensor
    q_eq: torch.Tensor
    trials: torch.Tensor
    provenance: Dict[str, Any] = field(repr=False)
    name: str = ""

    def __repr__(self) -> str:
        return (f"Atlas({self.name!r}, neurons={len(self.neurons)}, measured={int(self.measured().sum())}, "
                f"significant={int(self.significant().sum())} at q < 0.05)")

    def index(self, neuron: str) -> int:
        """The row / column of ``neuron``.

        Args:
            neuron: a name of ``neurons``.

        Raises:
            UnknownNodeError: ``neuron`` is not in the atlas (named, with the count of those that are).
        """
        try:
            return self.neurons.index(neuron)
        except ValueError:
            raise UnknownNodeError(f"{neuron!r} is not a neuron of atlas {self.name!r} ({len(self.neurons)} "
                                   f"neurons; see .neurons)") from None

    def measured(self, *, self_pairs: bool = False) -> torch.Tensor:
        """bool ``[n, n]``: the pairs with a response (the diagonal only if ``self_pairs``).

        Args:
            self_pairs: keep the diagonal (a stimulated neuron's own response).
        """
        mask = ~torch.isnan(self.response)
        return mask if self_pairs else mask & ~torch.eye(len(self.neurons), dtype=torch.bool)

    def significant(self, alpha: float = 0.05, *, self_pairs: bool = False) -> torch.Tensor:
        """bool ``[n, n]``: measured pairs with ``q < alpha`` (the diagonal only if ``self_pairs``).

        Args:
            alpha: the q-value threshold, in (0, 1].
            self_pairs: keep the diagonal.

        Raises:
            ArgumentError: ``alpha`` not a number in (0, 1].
        """
        _check_alpha(alpha)
        return self.measured(self_pairs=self_pairs) & (self.q < alpha)

    def pairs(self, alpha: float = 0.05, *, self_pairs: bool = False) -> List[Tuple[str, str, float, float]]:
        """``(stimulated, responding, response, q)`` for each significant pair, by row then column.

        Args:
            alpha: the q-value threshold, in (0, 1].
            self_pairs: keep the diagonal.
        """
        rows, cols = torch.nonzero(self.significant(alpha, self_pairs=self_pairs), as_tuple=True)
        return [(self.neurons[i], self.neurons[j], float(self.response[i, j]), float(self.q[i, j]))
                for i, j in zip(rows.tolist(), cols.tolist())]


def _check_alpha(alpha: Any) -> None:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha <= 1:
        raise ArgumentError(f"expected alpha to be a number in (0, 1], a q-value threshold (got {describe(alpha)}).")


def atlases(data_dir: Optional[str] = None) -> List[str]:
    """The names of the shipped atlases (files ``<name>.atlas.json``).

    Args:
        data_dir: where to look (default: the package's ``mpnet/data/celegans``).
    """
    folder = data_dir or _DATA_DIR
    if not os.path.isdir(folder):
        return []
    return sorted(f[:-len(ATLAS_SUFFIX)] for f in os.listdir(folder) if f.endswith(ATLAS_SUFFIX))


def atlas(name: str = "randi2023") -> Atlas:
    """A shipped atlas (a name of :func:`atlases`, or a path to a ``.atlas.json`` file).

    Args:
        name: ``"randi2023"`` (the default), or a path.

    Raises:
        ArgumentError: ``name`` not a string.
        FileNotFoundError: no such atlas (the message lists the shipped names).
        FormatError: the file is not an atlas written by ``scripts/make_connectome.py`` (names file and entry).

    Example:
        >>> from mpnet import connectome
        >>> wt = connectome.atlas()
        >>> i, j = wt.index("AVAL"), wt.index("AVAR")
        >>> float(wt.response[i, j]) == float(wt.response[i, j])     # AVAL stimulated, AVAR responding: measured
        True
    """
    if not isinstance(name, str):
        raise ArgumentError(f"atlas: expected name to be an atlas name {atlases()} or a path to a "
                            f"'{ATLAS_SUFFIX}' file (got {describe(name)}).")
    path = name if name.endswith(".json") else os.path.join(_DATA_DIR, f"{name}{ATLAS_SUFFIX}")
    if not os.path.exists(path):
        raise FileNotFoundError(f"No atlas file {path}. Shipped atlases: {atlases()} (in {_DATA_DIR}); regenerate "
                                f"with `python scripts/make_connectome.py` (needs the 'connectome' extra).")
    with open(path) as f:
        try:
            data = json.load(f)
        except json.JSONDecodeError as err:
            raise FormatError(f"{path} is not valid JSON: {err}") from None
    return _parse(data, path)


def _parse(data: Any, path: str) -> Atlas:
    """The atlas of a file's JSON, every entry checked (range, finiteness, shape); errors name file and entry."""
    def bad(what: str) -> FormatError:
        return FormatError(f"{path}: {what} (expected an atlas written by scripts/make_connectome.py).")

    if not isinstance(data, dict) or not isinstance(data.get("provenance"), dict):
        raise bad("no 'provenance' object")
    neurons = data.get("neurons")
    if not isinstance(neurons, list) or not all(isinstance(n, str) for n in neurons) or \
            len(set(neurons)) != len(neurons):
        raise bad("'neurons' is not a list of distinct names")
    n = len(neurons)
    columns = data.get("columns")
    if columns != ["stimulated", *_COLUMNS]:
        raise bad(f"'columns' is {columns!r}, not {['stimulated', *_COLUMNS]!r}")
    rows = data.get("rows")
    if not isinstance(rows, list):
        raise bad("'rows' is not a list")
    nan = float("nan")
    flat: List[int] = []                                  # i * n + j of each entry, in file order
    cols: Tuple[List[float], List[float], List[float], List[int]] = ([], [], [], [])
    seen: Set[int] = set()
    for r, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != 6 or not isinstance(row[0], int) or not 0 <= row[0] < n:
            raise bad(f"rows[{r}] is not [stimulated index < {n}, 5 lists]")
        i, lists = row[0], row[1:]
        if not all(isinstance(x, list) and len(x) == len(lists[0]) for x in lists):
            raise bad(f"rows[{r}] ({neurons[i]} stimulated): its 5 lists differ in length")
        for c, (j, resp, q, q_eq, k) in enumerate(zip(*lists)):
            where = f"rows[{r}] ({neurons[i]} stimulated), entry {c}"
            if not isinstance(j, int) or isinstance(j, bool) or not 0 <= j < n:
                raise bad(f"{where}: responding index {j!r} is not in [0, {n})")
            if not _finite(resp) or not _finite(q) or not 0 <= q <= 1 or (q_eq is not None and not (
                    _finite(q_eq) and 0 <= q_eq <= 1)) or not isinstance(k, int) or isinstance(k, bool) or k < 1:
                raise bad(f"{where} ({neurons[j]} responding): expected a finite response, q and q_eq in [0, 1] "
                          f"(q_eq may be null) and trials >= 1; got {[resp, q, q_eq, k]!r}")
            key = i * n + j
            if key in seen:
                raise bad(f"{where}: the pair {neurons[i]} -> {neurons[j]} is listed twice")
            seen.add(key)
            flat.append(key)
            cols[0].append(resp)
            cols[1].append(q)
            cols[2].append(nan if q_eq is None else q_eq)
            cols[3].append(k)
    index = torch.tensor(flat, dtype=torch.int64)
    mats = {}
    for name, values in zip(("response", "q", "q_eq"), cols[:3]):
        mats[name] = torch.full((n * n,), nan, dtype=torch.float64).index_put_(
            (index,), torch.tensor(values, dtype=torch.float64)).view(n, n)
    trials = torch.zeros(n * n, dtype=torch.int64).index_put_((index,), torch.tensor(cols[3], dtype=torch.int64))
    trials = trials.view(n, n)
    return Atlas(tuple(neurons), mats["response"], mats["q"], mats["q_eq"], trials, dict(data["provenance"]),
                 str(data["provenance"].get("name", os.path.basename(path)[:-len(ATLAS_SUFFIX)])))


def _finite(x: Any) -> bool:
    return not isinstance(x, bool) and isinstance(x, (int, float)) and math.isfinite(x)


def write_atlas(path: str, neurons: Sequence[str], entries: Sequence[Tuple[int, int, float, float, Optional[float],
                                                                            int]], provenance: Dict[str, Any]) -> None:
    """Write an atlas file: ``entries`` are ``(stimulated, responding, response, q, q_eq, trials)`` with neuron
    indices; one line per stimulated neuron (small, diffable). Reads it back and checks it (FormatError)."""
    by_row: Dict[int, List[List[Any]]] = {}
    for i, j, resp, q, q_eq, k in sorted(entries):
        cols = by_row.setdefault(i, [[], [], [], [], []])
        for col, value in zip(cols, (j, resp, q, q_eq, k)):
            col.append(value)
    lines = ["{", f' "provenance": {json.dumps(provenance)},', f' "neurons": {json.dumps(list(neurons))},',
             f' "columns": {json.dumps(["stimulated", *_COLUMNS])},', ' "rows": [']
    rows = [json.dumps([i, *cols], separators=(",", ":"), allow_nan=False) for i, cols in sorted(by_row.items())]
    lines += ["  " + x + ("," if r < len(rows) - 1 else "") for r, x in enumerate(rows)]
    lines += [" ]", "}"]
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(tmp) as f:
        _parse(json.load(f), tmp)
    os.replace(tmp, path)
