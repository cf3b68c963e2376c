"""Counting the host-device synchronisations and host transfers of a block of code: a testing tool beside the
flow, for the promise "nothing inside a pass or a training step waits for the device".

On a GPU the host stalls until the device has caught up whenever it reads a device value (``.item()``,
``bool(t)``, ``float(t)``, ``.tolist()``, ``.numpy()``, ``.cpu()``) or runs an op whose output size depends on
device data (``nonzero``, boolean-mask indexing, ``bincount``, ``unique``, ``masked_select``,
``repeat_interleave`` without ``output_size``). On the CPU the same calls cost nothing, so a CPU run hides
them. :func:`count_syncs` records every such call wherever it runs, the CPU included, so a test on a machine
without a GPU catches what would stall one::

    with count_syncs() as log:
        net(x)
    assert log.syncs == [], log

It also records ``transfers``: tensors made from host data (``torch.tensor``, ``torch.as_tensor``) and
explicit device moves (``.to(device)``, ``.cuda()``), each a host-to-device copy on a GPU.

Not counted: host reads made by ``torch.optim`` (its non-capturable optimizers keep their step counters on the
host by design, so their ``.item()`` never touches the device). On a GPU, ``torch.cuda.set_sync_debug_mode``
is the authoritative check; ``scripts/gpu_check.sh`` runs the device tests under it.
"""
import os
import sys
from dataclasses import dataclass, field
from types import FrameType
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import torch
from torch.utils._python_dispatch import TorchDispatchMode

__all__ = ["count_syncs", "SyncLog"]

_aten = torch.ops.aten
#: ops that make the host wait for the device (their result, or its size, is read on the host)
SYNC_OPS = {_aten._local_scalar_dense, _aten.nonzero, _aten.bincount, _aten.masked_select, _aten.equal,
            _aten._unique, _aten._unique2, _aten.unique_dim, _aten.unique_consecutive, _aten.unique_dim_consecutive}
_TORCH_DIR = os.path.dirname(torch.__file__) + os.sep
_OPTIM_DIR = os.path.join(_TORCH_DIR, "optim") + os.sep
_HERE = os.path.abspath(__file__)


@dataclass
class SyncLog:
    """What :func:`count_syncs` saw: ``(what, where)`` pairs, ``where`` the innermost caller outside torch."""
    syncs: List[Tuple[str, str]] = field(default_factory=list)
    transfers: List[Tuple[str, str]] = field(default_factory=list)

    def __repr__(self) -> str:
        def lines(items: List[Tuple[str, str]]) -> str:
            return "".join(f"\n    {what} at {where}" for what, where in items)
        return f"SyncLog({len(self.syncs)} syncs{lines(self.syncs)}; {len(self.transfers)} transfers" \
               f"{lines(self.transfers)})"


def _caller() -> Tuple[str, bool]:
    """The innermost frame outside torch and this module, and whether torch.optim made the call."""
    frame: Optional[FrameType] = sys._getframe(2)
    by_optim = False
    while frame is not None:
        name = frame.f_code.co_filename
        if name == _HERE:
            frame = frame.f_back
            continue
        if name.startswith(_OPTIM_DIR) and not by_optim:
            by_optim = True
        if not name.startswith(_TORCH_DIR):
            return f"{name}:{frame.f_lineno}", by_optim
        frame = frame.f_back
    return "?", by_optim


# torch's TorchDispatchMode has no annotations (a stub gap): the four calls into it below carry an ignore
class _Mode(TorchDispatchMode):  # type: ignore[no-untyped-call]
    def __init__(self, log: SyncLog) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.log = log

    def __torch_dispatch__(self, func: Any, types: Sequence[type], args: Sequence[Any] = (),
                           kwargs: Optional[Dict[str, Any]] = None) -> Any:
        kwargs = kwargs or {}
        if func.overloadpacket in SYNC_OPS or _data_sized(func.overloadpacket, args, kwargs):
            where, by_optim = _caller()
            if not by_optim:
                self.log.syncs.append((str(func.overloadpacket).split(".")[-1], where))
        return func(*args, **kwargs)


class count_syncs:
    """Context manager: a :class:`SyncLog` of every host-device synchronisation and host transfer made inside
    the block (see the module docstring). Not thread-safe: it patches a few ``torch.Tensor`` methods."""

    def __init__(self) -> None:
        self.log = SyncLog()
        self._saved: List[Tuple[object, str, Any]] = []

    def _patch(self, owner: object, name: str, kind: str, when: Optional[Callable[..., bool]] = None) -> None:
        original = getattr(owner, name)
        log = self.log

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if when is None or when(*args, **kwargs):
                where, by_optim = _caller()
                if not by_optim:
                    getattr(log, kind).append((name, where))
            return original(*args, **kwargs)
        self._saved.append((owner, name, original))
        setattr(owner, name, wrapper)

    def __enter__(self) -> SyncLog:
        for name in ("tolist", "numpy", "cpu"):
            self._patch(torch.Tensor, name, "syncs")
        self._patch(torch.Tensor, "cuda", "transfers")
        self._patch(torch.Tensor, "to", "transfers", when=_moves)
        self._patch(torch, "tensor", "transfers")
        self._patch(torch, "as_tensor", "transfers", when=lambda data, *a, **k: not isinstance(data, torch.Tensor))
        self._mode = _Mode(self.log)
        self._mode.__enter__()  # type: ignore[no-untyped-call]
        return self.log

    def __exit__(self, *exc: Any) -> None:
        self._mode.__exit__(*exc)  # type: ignore[no-untyped-call]
        for owner, name, original in reversed(self._saved):
            setattr(owner, name, original)
        self._saved = []


def _data_sized(op: Any, args: Sequence[Any], kwargs: Mapping[str, Any]) -> bool:
    """Ops whose output size depends on device data: boolean-mask indexing (a ``nonzero`` inside the kernel,
    below this mode) and ``repeat_interleave`` without ``output_size``."""
    if op in (_aten.index, _aten.index_put, _aten.index_put_, _aten._index_put_impl_):
        return any(i is not None and i.dtype in (torch.bool, torch.uint8) for i in args[1])
    return op is _aten.repeat_interleave and kwargs.get("output_size") is None


def _moves(self: torch.Tensor, *args: Any, **kwargs: Any) -> bool:
    """Whether ``self.to(*args, **kwargs)`` names a device (a copy between host and device on a GPU)."""
    device = torch._C._nn._parse_to(*args, **kwargs)[0]
    return device is not None
