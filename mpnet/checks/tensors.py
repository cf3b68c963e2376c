"""Checks of tensors, data and dtypes at mpnet's boundaries (stage 1, under :mod:`mpnet.checks`; torch is imported
inside each check, so importing this module needs none): a dtype mpnet computes in, data as a tensor, every
value finite, data shapes that fit the network, targets that fit the loss. A bad argument is an
:class:`~mpnet.errors.ArgumentError`, bad data a :class:`~mpnet.errors.DataError`, each naming the culprit.
"""
from typing import TYPE_CHECKING, Any, Literal, Optional, Sequence, Tuple, Union, overload

from ..errors import ArgumentError, DataError
from .arguments import describe

if TYPE_CHECKING:   # torch is imported inside the checks only (see the module docstring)
    import torch
    from torch import Tensor

__all__ = ["check_dtype", "check_device", "as_tensor", "check_finite", "check_rows", "check_targets",
           "check_optimizer", "check_loss_value", "SUPPORTED_DTYPES"]

#: Names of the floating dtypes every mpnet kernel supports (``torch.<name>``); half precision is not among
#: them: the CPU's sparse products have no float16 / bfloat16 kernel.
SUPPORTED_DTYPES = ("float32", "float64")


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


def check_device(device: Any, name: str = "device") -> "Optional[torch.device]":
    """``device`` as a ``torch.device`` (None stays None) if this torch can put tensors there.

    Args:
        device: ``None``, a ``torch.device``, a string (``"cpu"``, ``"cuda:1"``) or a CUDA index.
        name: the argument's name, for the message.

    Raises:
        ArgumentError: not a device spelling (``"gpu"``), or a CUDA or MPS device this torch or machine does
            not have.
    """
    import torch
    if device is None:
        return None
    if isinstance(device, bool) or not isinstance(device, (str, int, torch.device)):
        raise ArgumentError(f"Expected {name} to be a torch.device, a string such as 'cpu' or 'cuda:0', or None "
                            f"(got {describe(device)}).")
    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError, TypeError) as err:
        raise ArgumentError(f"Invalid {name} {device!r}: {str(err).splitlines()[0]}") from None
    if dev.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ArgumentError(f"{name}={device!r} asks for CUDA, but this torch sees no CUDA device "
                                f"(torch.cuda.is_available() is False); use device='cpu'.")
        if dev.index is not None and dev.index >= count:
            raise ArgumentError(f"{name}={device!r} asks for CUDA device {dev.index}, but this machine has {count} "
                                f"(cuda:0 .. cuda:{count - 1}).")
    elif dev.type == "mps" and not torch.backends.mps.is_available():
        raise ArgumentError(f"{name}={device!r} asks for Apple's MPS, which this torch or machine does not have; "
                            f"use device='cpu'.")
    return dev


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


def check_optimizer(optimizer: Any, params: "Sequence[torch.nn.Parameter]", made: bool) -> "torch.optim.Optimizer":
    """An optimizer given to (``made=False``) or built by a callable of (``made=True``) a training call, checked to
    be one and to hold at least one of the parameters it should move.

    Raises:
        ArgumentError: not a ``torch.optim.Optimizer``, or one over another model's parameters (it would step
            those and leave the network as it is).
    """
    import torch
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise ArgumentError(f"Expected the optimizer callable to return a torch.optim.Optimizer over the parameters "
                            f"it is given (it returned {describe(optimizer)}).")
    held = {id(p) for group in optimizer.param_groups for p in group["params"]}
    if params and not any(id(p) in held for p in params):
        raise ArgumentError(f"The optimizer {'the callable built ' if made else ''}holds none of this network's "
                            f"parameters (raw_weight, bias): it would step another model's and leave this one as it "
                            f"is. Build it over net.parameters(), or pass optimizer=lambda params: "
                            f"torch.optim.SGD(params, lr=0.1).")
    return optimizer


def check_loss_value(value: Any, T: int, loss: Any) -> "Tensor":
    """What a loss returned, as ``[T]`` with gradient (a scalar for one topology expanded), or an error saying what
    it returned (a check of kind and shape: nothing is read from the device).

    Raises:
        ArgumentError: not a tensor, another shape, or no gradient (computed outside torch, detached, or under
            ``torch.no_grad()``).
    """
    import torch
    if isinstance(value, torch.Tensor) and value.requires_grad:
        if value.shape == (T,):
            return value
        if value.dim() == 0 and T == 1:
            return value.expand(T)
    if not torch.is_grad_enabled():
        raise ArgumentError("Training runs under torch.no_grad() here, so no gradient reaches the weights; call it "
                            "outside the no_grad block.")
    got = ("a tensor without gradient (computed outside torch, or detached)"
           if isinstance(value, torch.Tensor) and value.shape in ((T,), ()) else
           f"shape {list(value.shape)}" if isinstance(value, torch.Tensor) else describe(value))
    raise ArgumentError(f"The loss {getattr(loss, '__name__', loss)!r:.60} returned {got}; a loss takes pred [T, "
                        f"batch, n_outputs] and returns one value per topology, a tensor [{T}] with gradient"
                        f"{' (or a scalar)' if T == 1 else ''}.")
