"""Checks of recordings of hidden neurons at mpnet's boundaries (stage 1, under :mod:`mpnet.checks`; torch imported
inside each check): ``observed={neuron: values}``, each neuron's values aligned with the rows of ``X`` (NaN where a
sample was not recorded), and ``observed_noise={neuron: std}``. Used by :func:`mpnet.fit` and
:func:`mpnet.infer_signs`; every failure names the neuron, what came and what is expected.
"""
from typing import TYPE_CHECKING, Any, Dict, Hashable, List, Mapping, Optional, Sequence, Tuple, TypeVar

from ..errors import ArgumentError, DataError
from .arguments import check_float, describe
from .tensors import as_tensor

if TYPE_CHECKING:
    from torch import Tensor

__all__ = ["check_recordings", "check_recording_noise"]

K = TypeVar("K", bound=Hashable)   # a neuron id


def _listed(ids: Sequence[Hashable], most: int = 20) -> str:
    shown = ", ".join(repr(n) for n in ids[:most])
    return f"[{shown}{f', ... ({len(ids)} in all)' if len(ids) > most else ''}]"


def check_recordings(observed: Any, *, hidden: Sequence[K], inputs: Sequence[Hashable], outputs: Sequence[Hashable],
                     n: int, num_graphs: int = 1, name: str = "observed") -> Tuple[List[K], "Optional[Tensor]"]:
    """``observed`` as ``(neurons, values)``: the recorded neurons in the order given, and their values as one
    float64 tensor, ``[n, k]`` (``[num_graphs, n, k]`` when any neuron's values are ``[num_graphs, n]``, one
    recording per topology of a batch; the others are repeated).

    Args:
        observed: ``{hidden neuron id: values}``, values ``[n]`` (NaN where that sample was not recorded);
            None or an empty mapping: no recordings.
        hidden, inputs, outputs: the wiring's neuron ids by role (hidden ones may be recorded).
        n: the number of samples (rows of ``X``).
        num_graphs: topologies of a batch (values may then be ``[num_graphs, n]``).
        name: the argument's name, for the messages.

    Returns:
        ``([], None)`` without recordings.

    Raises:
        ArgumentError: ``observed`` not a mapping; a key that is an input, an output or not a neuron of the
            wiring (the hidden neurons are listed).
        DataError: values of the wrong shape, not numbers, holding an infinity, or NaN on every row.
    """
    import torch
    if observed is None:
        return [], None
    if not isinstance(observed, Mapping):
        raise ArgumentError(f"Expected {name} to be a dict {{hidden neuron id: [n] values}} (got "
                            f"{describe(observed)}).")
    if not observed:
        return [], None
    inside = {v: v for v in hidden}
    neurons: List[K] = []
    columns: List["Tensor"] = []
    for neuron, values in observed.items():
        if neuron not in inside:
            role = ("an input: its values are a column of X" if neuron in inputs else
                    "an output: its values are a column of Y" if neuron in outputs else
                    "not a neuron of the wiring")
            raise ArgumentError(f"{name} names {neuron!r}, which is {role}; record hidden neurons only (the "
                                f"hidden ones: {_listed(list(hidden))}).")
        what = f"{name}[{neuron!r}]"
        t = as_tensor(values, what, dtype=torch.float64)
        batched = num_graphs > 1 and t.dim() == 2 and t.shape[0] == num_graphs and t.shape[1] == n
        if t.dim() == 2 and t.shape[1] == 1 and t.shape[0] == n:
            t = t[:, 0]                      # a column [n, 1]
        if not (t.dim() == 1 and t.shape[0] == n) and not batched:
            want = f"[{n}]" + (f" or [{num_graphs}, {n}]" if num_graphs > 1 else "")
            raise DataError(f"Expected {what} of shape {want}, one value per row of X (NaN where that sample was "
                            f"not recorded), got {list(t.shape)}.")
        inf = torch.isinf(t)
        if bool(inf.any()):
            first = [int(i) for i in torch.nonzero(inf)[0]]
            where = ", ".join(f"{k} {i}" for k, i in zip(["topology", "row"][2 - t.dim():], first))
            raise DataError(f"{what} holds {t[tuple(first)].item()} at {where}; a recorded value must be finite (NaN "
                            f"marks a sample that was not recorded).")
        if bool(torch.isnan(t).all(-1).any()):
            raise DataError(f"{what} is NaN on every row{' of a topology' if t.dim() == 2 else ''}: nothing of "
                            f"{neuron!r} was recorded; drop it from {name}.")
        neurons.append(inside[neuron])
        columns.append(t)
    if all(c.dim() == 1 for c in columns):
        return neurons, torch.stack(columns, 1)                                     # [n, k]
    return neurons, torch.stack([c.expand(num_graphs, n) for c in columns], 2)     # [T, n, k]


def check_recording_noise(observed_noise: Any, neurons: Sequence[K], name: str = "observed_noise") -> Dict[K, float]:
    """``observed_noise`` as ``{neuron: std}``, each a finite number > 0, every key a recorded neuron.

    Raises:
        ArgumentError: not a mapping, a key that ``observed`` does not record, a std that is not a finite
            positive number.
    """
    if observed_noise is None:
        return {}
    if not isinstance(observed_noise, Mapping):
        raise ArgumentError(f"Expected {name} to be a dict {{recorded neuron id: noise std}} (got "
                            f"{describe(observed_noise)}).")
    recorded = {v: v for v in neurons}
    out: Dict[K, float] = {}
    for neuron, std in observed_noise.items():
        if neuron not in recorded:
            raise ArgumentError(f"{name} names {neuron!r}, which observed does not record (recorded: "
                                f"{_listed(list(neurons))}).")
        out[recorded[neuron]] = check_float(std, f"{name}[{neuron!r}]", min=0, min_open=True)
    return out
