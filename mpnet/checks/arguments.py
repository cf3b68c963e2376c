"""Checks of plain arguments at mpnet's boundaries (stage 1, under :mod:`mpnet.checks`; pure Python): ints,
floats, fractions, booleans and choices, each failure an :class:`~mpnet.errors.ArgumentError` naming the
argument, what came and what is expected; and :func:`describe`, how every message shows a value.
"""
import math
import numbers
from typing import Any, Iterable, Literal, Optional, overload

from ..errors import ArgumentError

__all__ = ["check_int", "check_float", "check_fraction", "check_bool", "check_choice", "check_seed", "check_memory",
           "check_epochs", "physical_memory", "describe", "SEED_RANGE", "MAX_HISTORY"]

#: The seeds every mpnet call takes: what ``torch.Generator.manual_seed`` takes, an int in ``[-2**63, 2**63 - 1]``
#: (a seed ``s`` may be offset, ``s + index``, so the top of torch's unsigned range is left out).
SEED_RANGE = (-(2 ** 63), 2 ** 63 - 1)
#: The most values a loss history holds (``epochs`` times the topologies trained): 400 MB of float32, allocated
#: before the first epoch so that no training step waits on the device.
MAX_HISTORY = 10 ** 8


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
        shown = str(number) if len(str(number)) <= 30 else f"an int of {len(str(abs(number)))} digits"
        raise ArgumentError(f"Expected {name} to be {expected} (got {shown}).")
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
def check_seed(value: Any, name: str = ..., *, allow_none: Literal[False] = ...) -> int: ...
@overload
def check_seed(value: Any, name: str = ..., *, allow_none: bool = ...) -> Optional[int]: ...
def check_seed(value: Any, name: str = "seed", *, allow_none: bool = False) -> Optional[int]:
    """``value`` as a seed: an int in :data:`SEED_RANGE` (what torch's generators take).

    Raises:
        ArgumentError: not an int (a bool, a float, a string), or beyond 64 bits.
    """
    return check_int(value, name, min=SEED_RANGE[0], max=SEED_RANGE[1], allow_none=allow_none)


def physical_memory() -> Optional[int]:
    """This machine's physical memory in bytes, or None where the OS does not say (``os.sysconf``)."""
    import os
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):   # Windows has no sysconf
        return None
    return pages * size if pages > 0 and size > 0 else None


def _gb(nbytes: float) -> str:
    return f"{nbytes / 1e9:.3g} GB"


def check_memory(nbytes: float, what: str, fix: str) -> None:
    """Refuse, before allocating it, a size no machine of this one's memory can hold.

    Args:
        nbytes: the bytes the call would allocate (an estimate from the sizes given).
        what: what asks for it, naming the argument (``"num_nodes=10000000000"``).
        fix: what to do instead.

    Raises:
        ArgumentError: ``nbytes`` exceeds the physical memory (unknown memory: never).
    """
    total = physical_memory()
    if total is not None and nbytes > total:
        raise ArgumentError(f"{what} needs about {_gb(nbytes)} of memory, more than this machine's {_gb(total)}; "
                            f"{fix}")


def check_epochs(value: Any, num_graphs: int = 1) -> int:
    """``epochs`` as an int >= 1 whose loss history (one value per epoch and topology) fits :data:`MAX_HISTORY`.

    Raises:
        ArgumentError: not an int >= 1, or ``epochs * num_graphs`` past the bound (``epochs=10**12`` would
            allocate a 4 TB history before the first step).
    """
    epochs = check_int(value, "epochs", min=1)
    if epochs * num_graphs > MAX_HISTORY:
        raise ArgumentError(f"epochs={epochs} for {num_graphs} topolog{'y' if num_graphs == 1 else 'ies'} asks for "
                            f"{epochs * num_graphs:.3g} loss values; training keeps at most {MAX_HISTORY:.0e} (epochs "
                            f"x topologies, a 400 MB history allocated up front). Train in several calls: fit goes "
                            f"on from the weights the last call left.")
    return epochs
