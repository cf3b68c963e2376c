"""What an export checks before it writes and what an exported model checks when it runs (io stage, beside
:mod:`mpnet.io.export`): every weight and bias finite in the model's dtype, a recurrent model unrolled over a bounded
number of steps, and inputs of the shape the model was made for, kept in a TorchScript trace by a scripted check.
"""
import warnings
from typing import Any, Dict, List, Optional

import torch
from torch import Tensor

from ..errors import ArgumentError, NonFiniteError
from ..model import Network

__all__ = ["MAX_UNROLL", "check_numbers", "check_inputs"]

#: The most steps an exported recurrent model unrolls (inputs times a ctrnn's integration steps per input):
#: every step is written into the traced graph, whose size and tracing time grow with it.
MAX_UNROLL = 100_000


def check_numbers(net: Network, dtype: Optional[torch.dtype] = None) -> None:
    """Refuse to export a network whose weights or biases (cast to ``dtype`` when given) are not all finite: the
    exported model would compute NaN or inf without a word, far from where the number went wrong."""
    if not isinstance(net, Network):
        raise ArgumentError(f"Expected an mpnet.Network to export (got a {type(net).__name__}); build one with "
                            f"mpnet.Network(topology).")
    with torch.no_grad():
        for what, t in (("weight", net.weight.detach()), ("bias", net.bias.detach())):
            t = t if dtype is None else t.to(dtype)
            bad = ~torch.isfinite(t)
            if bool(bad.any()):
                i = int(torch.nonzero(bad)[0])
                if what == "weight":
                    g, src, dst = net.edge_keys[i]
                    name = f"edge {src!r} -> {dst!r}"
                else:
                    g, node = net.rows[net.plan.num_inputs + i]
                    name = f"node {node!r}"
                cast = f" in {dtype} (the model's dtype)" if dtype is not None else ""
                where = f" of topology {g}" if net.batched else ""
                raise NonFiniteError(f"Cannot export: the {what} of {name}{where} is {t[i].item()}{cast}; the exported "
                                     f"model would compute NaN or inf. Set it to a finite value (net.set_weights, or "
                                     f"reload the last good network){', or export in torch.float64' if cast else ''}.")


_SCRIPTED: Dict[str, object] = {}


def _input_check() -> Any:
    """A TorchScript function checking an exported model's inputs, so a traced model keeps the check (a Python
    ``if`` on shapes is evaluated once, while tracing). Made on first use: torch warns that scripting is
    deprecated."""
    if "inputs" not in _SCRIPTED:
        def check_inputs(x: Tensor, dims: List[int], h: Optional[Tensor], h_dims: List[int]) -> Tensor:
            bad = x.dim() != len(dims)
            for k in range(len(dims)):
                if not bad and dims[k] >= 0 and x.size(k) != dims[k]:
                    bad = True
            if bad:
                raise ValueError("Expected x of shape " + str(dims) + " (-1: any batch size) (got " + str(x.shape)
                                 + "); the model was exported for these input columns and steps")
            if h is not None and (h.dim() != 2 or h.size(0) != h_dims[0] or h.size(1) != x.size(1)):
                raise ValueError("Expected the state of shape [" + str(h_dims[0]) + ", batch] with the batch of x "
                                 + "(got " + str(h.shape) + ")")
            return x
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            _SCRIPTED["inputs"] = torch.jit.script(check_inputs)
    return _SCRIPTED["inputs"]


def check_inputs(x: Tensor, dims: List[int], h: Optional[Tensor] = None, h_dims: Optional[List[int]] = None
                 ) -> Tensor:
    """``x`` (and a recurrent model's state ``h``) checked against the shapes the model was made for: in the trace
    of :func:`to_torchscript` by a scripted check it keeps, else in Python (torch.export guards shapes itself)."""
    if torch.jit.is_tracing():   # type: ignore[attr-defined,no-untyped-call]   # torch leaves it unexported, untyped
        checked: Tensor = _input_check()(x, dims, h, h_dims or [0])
        return checked
    if x.dim() != len(dims) or any(d >= 0 and n != d for n, d in zip(x.shape, dims)):
        raise ArgumentError(f"Expected x of shape {dims} (-1: any batch size) (got {list(x.shape)}); the model was "
                            f"exported for these input columns and steps.")
    if h is not None and h_dims is not None and (h.dim() != 2 or h.shape[0] != h_dims[0]
                                                 or h.shape[1] != x.shape[1]):
        raise ArgumentError(f"Expected the state of shape [{h_dims[0]}, batch] with the batch of x (got "
                            f"{list(h.shape)}).")
    return x
