"""Checks at mpnet's boundaries: arguments, data and dtypes, each failure naming the culprit (beside errors;
pure Python at import, torch only inside the tensor checks).

Every check raises an :class:`~mpnet.errors.ArgumentError` (arguments) or :class:`~mpnet.errors.DataError`
(data) whose message names the argument, says what came and what is expected::

    >>> check_int(0, "epochs", min=1)
    Traceback (most recent call last):
    mpnet.errors.ArgumentError: Expected epochs to be an int >= 1 (got 0).

and returns the value normalised (an ``int``, a ``float``, a tensor), so a caller writes
``epochs = check_int(epochs, "epochs", min=1)`` once, at its top.
"""
import math
import numbers
from typing import TYPE_CHECKING, Any, Iterable, Literal, Optional, Sequence, Tuple, Union, overload

from .errors import ArgumentError, DataError

if TYPE_CHECKING:   # torch is imported inside the tensor checks only (see the module docstring)
    import torch
    from torch import Tensor

__all__ = ["check_int", "check_float", "check_fraction", "check_bool", "check_choice", "check_dtype",
           "as_tensor", "check_finite", "check_rows", "check_targets", "describe", "SUPPORTED_DTYPES"]

#: Names of the floating dtypes every mpnet kernel supports (``torch.<name>``); half precision is not among
#: them: the CPU's sparse products have no float16 / bfloat16 kernel.
SUPPORTED_DTYPES = ("float32", "float64")


def describe(value: Any) -> str:
    """``value`` as a message shows it: its repr, with the type named when the repr alone would hide it.

    Args:
        value: anything.

    Returns:
        The repr (cut to 60 characters), followed by ``(a <type>)`` unless ``value`` is a number, a bool or None.
    """
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    if isinstance(value, (bool, numbers.Number)) or value is None:
        return text
    return f"{text} (a {type(value).__name__})"


def _bounds(kind: str, min: Optional[float], max: Optional[float], min_open: bool, max_open: bool) -> str:
    if min is not None and max is not None:
        return f"{kind} in {'(' if min_open else '['}{min}, {max}{')' if max_open else ']'}"
    if min is not None:
        return f"{kind} {'>' if min_open else '>='} {min}"
    if max is not None:
        return f"{kind} {'<' if max_open else '<='} {max}"
    return kind


def _optional(text: str, allow_none: bool) -> str:
    return f"{text} or None" if allow_none else text


@overload
def check_int(value: Any, name: str, *, min: Optional[int] = ..., max: Optional[int] = ...,
              allow_none: Literal[False] = ...) -> int: ...
@overload
def check_int(value: Any, name: str, *, min: Optional[int] = ..., max: Optional[int] = ...,
              allow_none: bool = ...) -> Optional[int]: ...
def check_int(value: Any, name: str, *, min: Optional[int] = None, max: Optional[int] = None,
              allow_none: bool = False) -> Optional[int]:
    """``value`` as an ``int`` in ``[min, max]``; bools and floats (``2.0`` too) are refused.

    Args:
        value: the argument as given.
        name: the argument's name, for the message.
        min: the smallest value allowed (None: no bound).
        max: the largest value allowed (None: no bound).
        allow_none: let ``None`` through (returned as is).

    Returns:
        ``value`` as an ``int`` (None only with ``allow_none``).

    Raises:
        ArgumentError: not an int, or out of range; the message names ``name``.
    """
    if value is None and allow_none:
        return None
    expected = _optional(_bounds("an int", min, max, False, False), allow_none)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ArgumentError(f"Expected {name} to be {expected} (got {describe(value)}).")
    number = int(value)
    if (min is not None and number < min) or (max is not None and number > max):
        raise ArgumentError(f"Expected {name} to be {expected} (got {number}).")
    return number


@overload
def check_float(value: Any, name: str, *, min: Optional[float] = ..., max: Optional[float] = ...,
                min_open: bool = ..., max_open: bool = ..., allow_none: Literal[False] = ...) -> float: ...
@overload
def check_float(value: Any, name: str, *, min: Optional[float] = ..., max: Optional[float] = ...,
                min_open: bool = ..., max_open: bool = ..., allow_none: bool = ...) -> Optional[float]: ...
def check_float(value: Any, name: str, *, min: Optional[float] = None, max: Optional[float] = None,
                min_open: bool = False, max_open: bool = False, allow_none: bool = False) -> Optional[float]:
    """``value`` as a finite ``float`` in the interval ``min .. max`` (closed unless ``min_open`` /
    ``max_open``); ints are accepted, bools, strings, NaN and infinities are not.

    Args:
        value: the argument as given.
        name: the argument's name, for the message.
        min: the lower bound (None: none).
        max: the upper bound (None: none).
        min_open: exclude ``min`` itself.
        max_open: exclude ``max`` itself.
        allow_none: let ``None`` through (returned as is).

    Returns:
        ``value`` as a ``float`` (None only with ``allow_none``).

    Raises:
        ArgumentError: not a real number, not finite, or out of range; the message names ``name``.
    """
    if value is None and allow_none:
        return None
    expected = _optional(_bounds("a finite number", min, max, min_open, max_open), allow_none)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ArgumentError(f"Expected {name} to be {expected} (got {describe(value)}).")
    try:
        number = float(value)
    except OverflowError:   # an int beyond the float range
        raise ArgumentError(f"Expected {name} to be {expected} (got an int of {len(str(value))} digits).") from None
    if (not math.isfinite(number) or (min is not None and (number <= min if min_open else number < min))
            or (max is not None and (number >= max if max_open else number > max))):
        raise ArgumentError(f"Expected {name} to be {expected} (got {value!r}).")
    return number


@overload
def check_fraction(value: Any, name: str, *, allow_none: Literal[False] = ...) -> float: ...
@overload
def check_fraction(value: Any, name: str, *, allow_none: bool = ...) -> Optional[float]: ...
def check_fraction(value: Any, name: str, *, allow_none: bool = False) -> Optional[float]:
    """``value`` as a float in ``[0, 1]`` (a probability, a threshold, a share).

    Args:
        value: the argument as given.
        name: the argument's name, for the message.
        allow_none: let ``None`` through (returned as is).

    Returns:
        ``value`` as a ``float`` (None only with ``allow_none``).

    Raises:
        ArgumentError: see :func:`check_float`.
    """
    return check_float(value, name, min=0, max=1, allow_none=allow_none)


@overload
def check_bool(value: Any, name: str, *, allow_none: Literal[False] = ...) -> bool: ...
@overload
def check_bool(value: Any, name: str, *, allow_none: bool = ...) -> Optional[bool]: ...
def check_bool(value: Any, name: str, *, allow_none: bool = False) -> Optional[bool]:
    """``value`` if it is ``True`` or ``False`` (``"false"``, ``0`` and ``1`` are refused: they are not booleans).

    Args:
        value: the argument as given.
        name: the argument's name, for the message.
        allow_none: let ``None`` through (returned as is).

    Returns:
        ``value`` (None only with ``allow_none``).

    Raises:
        ArgumentError: anything else; the message names ``name``.
    """
    if value is None and allow_none:
        return None
    if isinstance(value, bool):
        return value
    raise ArgumentError(f"Expected {name} to be {_optional('True or False', allow_none)} (got {describe(value)}).")


def check_choice(value: Any, name: str, choices: Iterable[Any]) -> Any:
    """``value`` if it is one of ``choices``.

    Args:
        value: the argument as given.
        name: the argument's name, for the message.
        choices: the values allowed.

    Returns:
        ``value`` unchanged.

    Raises:
        ArgumentError: ``Invalid name "x". Must be one of [...]``.
    """
    allowed = list(choices)
    try:
        ok = value in allowed
    except TypeError:   # unhashable against a dict's keys, or an odd __eq__
        ok = False
    if not ok:
        shown = f'"{value}"' if isinstance(value, str) else describe(value)
        raise ArgumentError(f"Invalid {name} {shown}. Must be one of {allowed}.")
    return value


@overload
def check_dtype(dtype: Any, name: str = ..., *, allow_none: Literal[False] = ...) -> "torch.dtype": ...
@overload
def check_dtype(dtype: Any, name: str = ..., *, allow_none: bool = ...) -> "Optional[torch.dtype]": ...
def check_dtype(dtype: Any, name: str = "dtype", *, allow_none: bool = False) -> "Optional[torch.dtype]":
    """``dtype`` if it is one of the floating dtypes mpnet's kernels support (:data:`SUPPORTED_DTYPES`).

    Args:
        dtype: the argument as given.
        name: the argument's name, for the message.
        allow_none: let ``None`` through (returned as is).

    Returns:
        ``dtype`` (None only with ``allow_none``).

    Raises:
        ArgumentError: not a ``torch.dtype`` (e.g. the string ``"float32"``), or a dtype mpnet cannot compute in
            (``torch.float16``: no sparse kernel; integer dtypes: no gradients).
    """
    import torch
    if dtype is None and allow_none:
        return None
    supported = [getattr(torch, n) for n in SUPPORTED_DTYPES]
    if not isinstance(dtype, torch.dtype):
        hint = f"; use torch.{dtype}" if isinstance(dtype, str) and dtype in SUPPORTED_DTYPES else ""
        raise ArgumentError(f"Expected {name} to be one of {supported} (got {describe(dtype)}){hint}.")
    if dtype not in supported:
        why = ("the sparse products have no half-precision kernel" if dtype in (torch.float16, torch.bfloat16)
               else "weights must be real floating point numbers to be trained")
        raise ArgumentError(f"Expected {name} to be one of {supported} (got {dtype}): {why}. Convert the data "
                            f"and the network to torch.float32 or torch.float64.")
    return dtype


def as_tensor(value: Any, name: str, *, dtype: "Optional[torch.dtype]" = None,
              device: "Union[torch.device, str, None]" = None) -> "Tensor":
    """``value`` (a tensor, an array, nested lists of numbers) as a tensor, on ``device`` and in ``dtype`` if
    given (a floating ``dtype`` only: integer targets keep theirs when ``dtype`` is None).

    Args:
        value: the data as given.
        name: what it is (``"X"``, ``"Y"``), for the message.
        dtype: the dtype of the result (None: ``value``'s own).
        device: the device of the result (None: ``value``'s own).

    Returns:
        The tensor (``value`` itself when it already is one of that dtype and device).

    Raises:
        DataError: ``value`` is not numeric (strings, ragged lists, None), or a half-precision tensor.
    """
    import torch
    if isinstance(value, torch.Tensor):
        t = value
    else:
        try:
            t = torch.as_tensor(value)
        except (TypeError, ValueError, RuntimeError, OverflowError) as err:
            raise DataError(f"Expected {name} to be a tensor or an array of numbers (got {describe(value)}: "
                            f"{str(err).splitlines()[0]}).") from None
    if t.dtype in (torch.float16, torch.bfloat16):
        raise DataError(f"{name} is {t.dtype}, which mpnet does not compute in (the sparse products have no "
                        f"half-precision kernel); convert it with .float() or .double().")
    if not (t.is_floating_point() or t.dtype in (torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8,
                                                 torch.bool)):
        raise DataError(f"Expected {name} to hold real numbers (got dtype {t.dtype}).")
    if dtype is not None or device is not None:
        t = t.to(dtype=dtype if dtype is not None else t.dtype, device=device)
    return t


def check_finite(t: "Tensor", name: str, *, file: Optional[str] = None, columns: Optional[Sequence[str]] = None,
                 rows: Optional[Sequence[int]] = None, row_word: str = "row") -> "Tensor":
    """``t`` unchanged if every value is finite; otherwise an error naming the first non-finite value.

    Args:
        t: ``[n]``, ``[n, k]`` or ``[T, n, k]`` (then the topology is named too).
        name: what ``t`` is (``"X"``, ``"Y"``).
        file: the file the values came from, named in the message.
        columns: column names, named in the message beside the index.
        rows: the line number (in ``file``) of each row, named in the message instead of the row index.
        row_word: how a row is called (``"row"``, ``"line"``).

    Returns:
        ``t`` itself.

    Raises:
        DataError: e.g. ``X holds nan at row 3, column 1 ('x2') (5 non-finite values in all)``.
    """
    import torch
    if not t.is_floating_point():
        return t
    bad = ~torch.isfinite(t)
    if not bool(bad.any()):
        return t
    first = [int(i) for i in torch.nonzero(bad)[0]]
    value = t[tuple(first)].item()
    where = []
    if t.dim() == 3:
        where.append(f"topology {first[0]}")
        first = first[1:]
    if t.dim() >= 1:
        i = first[0]
        where.append(f"{'line' if rows is not None else row_word} {rows[i] if rows is not None else i}")
    if t.dim() >= 2:
        j = first[1]
        where.append(f"column {j}" + (f" ({columns[j]!r})" if columns is not None else ""))
    count = int(bad.sum())
    more = f" ({count} non-finite values in all)" if count > 1 else ""
    source = f"{file}: " if file else ""
    raise DataError(f"{source}{name} holds {value} at {', '.join(where)}{more}; every value must be finite. "
                    f"Fix or drop that row (NaN often marks a missing value).")


def check_rows(X: "Tensor", Y: "Tensor", *, n_in: int, n_out: int, num_graphs: int = 1,
               class_ids: bool = False) -> "Tuple[int, Tensor]":
    """Check the shapes of a data set for a network with ``n_in`` inputs and ``n_out`` outputs and bring ``Y``
    to the shape the losses take.

    Accepted: ``X`` ``[n, n_in]`` (or ``[T, n, n_in]`` with ``T = num_graphs > 1``, one data set per topology);
    ``Y`` ``[n, n_out]``, ``[n]`` when ``n_out == 1``, or ``[T, n, n_out]`` / ``[T, n]`` for a batch; with
    ``class_ids`` (cross-entropy) ``Y`` is ``[n]`` or ``[T, n]``. ``n >= 1``.

    Args:
        X: the inputs.
        Y: the targets.
        n_in: the network's inputs.
        n_out: the network's outputs.
        num_graphs: ``T``, the topologies of the batch the data is for.
        class_ids: ``Y`` holds class ids (for ``cross_entropy``), not target values.

    Returns:
        ``(n, Y)``: the number of samples and ``Y`` as ``[..., n, n_out]`` (``[..., n]`` for class ids).

    Raises:
        DataError: names the argument, the shape got and the shape expected.
    """
    T = num_graphs
    if X.dim() not in ((2, 3) if T > 1 else (2,)) or (X.dim() == 3 and X.shape[0] != T):
        want = f"[n, {n_in}]" + (f" or [{T}, n, {n_in}] (one data set per topology)" if T > 1 else "")
        raise DataError(f"Expected X of shape {want} (got shape {list(X.shape)}).")
    if X.shape[-1] != n_in:
        raise DataError(f"Expected X with {n_in} column(s), one per network input (got shape {list(X.shape)}).")
    n = X.shape[-2]
    if n == 0:
        raise DataError(f"X has no rows (shape {list(X.shape)}); give at least one sample.")
    shape = list(Y.shape)
    if class_ids:
        if shape == [n] or (T > 1 and shape == [T, n]):
            return n, Y
        want = f"[{n}]" + (f" or [{T}, {n}]" if T > 1 else "") + " (one class id per sample)"
    else:
        if shape == [n, n_out] or (T > 1 and shape == [T, n, n_out]):
            return n, Y
        if n_out == 1 and (shape == [n] or (T > 1 and shape == [T, n])):
            return n, Y.unsqueeze(-1)
        want = f"[{n}, {n_out}]" + (f" or [{T}, {n}, {n_out}]" if T > 1 else "")
        if Y.dim() >= 2 and shape[-2] == n and shape[-1] != n_out and Y.dim() <= (3 if T > 1 else 2):
            raise DataError(f"Expected Y with {n_out} column(s), one per network output (got shape {shape}).")
    if Y.dim() == 0 or n not in shape:
        raise DataError(f"X has {n} samples but Y has shape {shape}; they must match (expected Y of shape {want}).")
    raise DataError(f"Expected Y of shape {want} (got shape {shape}).")


def check_targets(Y: "Tensor", loss: str, n_out: int) -> "Tensor":
    """Check that targets suit a built-in loss: ``bce`` takes targets in ``[0, 1]``; ``cross_entropy`` takes
    integer class ids in ``[0, n_out)`` and needs ``n_out >= 2`` outputs (one logit per class).

    Args:
        Y: the targets, shaped as :func:`check_rows` returns them.
        loss: the loss's name (other losses than ``bce`` and ``cross_entropy`` take any finite target).
        n_out: the network's outputs.

    Returns:
        ``Y`` itself.

    Raises:
        DataError: names the loss, the first offending row and its value.
    """
    import torch
    if loss == "bce":
        bad = (Y < 0) | (Y > 1)
        if bool(bad.any()):
            i = [int(k) for k in torch.nonzero(bad)[0]]
            raise DataError(f"The bce loss takes targets in [0, 1] (probabilities or 0/1 labels), but Y holds "
                            f"{Y[tuple(i)].item()} at row {i[-2] if Y.dim() >= 2 else i[-1]}; use mse for other "
                            f"targets.")
    elif loss == "cross_entropy":
        if n_out < 2:
            raise DataError(f"The cross_entropy loss needs one output per class, at least 2, but the network has "
                            f"{n_out} output; for two classes with one output use loss='bce'.")
        if Y.is_floating_point():
            frac = Y != Y.round()
            if bool(frac.any()):
                i = [int(k) for k in torch.nonzero(frac)[0]]
                raise DataError(f"The cross_entropy loss takes integer class ids, but Y holds {Y[tuple(i)].item()} "
                                f"at row {i[-1]}; give class ids 0 .. {n_out - 1} (a long tensor).")
        bad = (Y < 0) | (Y >= n_out)
        if bool(bad.any()):
            i = [int(k) for k in torch.nonzero(bad)[0]]
            raise DataError(f"The cross_entropy loss takes class ids in [0, {n_out - 1}] (one per network output), "
                            f"but Y holds {Y[tuple(i)].item():g} at row {i[-1]}.")
    return Y
