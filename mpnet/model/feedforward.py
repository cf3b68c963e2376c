"""A feed-forward network's pass (model stage): the input checked and laid out as rows, then propagated level
by level (:mod:`mpnet.engine.propagate`), for :meth:`~mpnet.Network.forward` and
:meth:`~mpnet.Network.states`."""
from typing import TYPE_CHECKING, Optional, Tuple

import torch
from torch import Tensor

from ..engine.propagate import run_levels
from ..errors import ArgumentError, DataError
from ..threads import PassThreads, Tuner

if TYPE_CHECKING:
    from .network import Network

__all__ = ["as_input", "input_rows", "forward", "states"]


def as_input(net: "Network", x: Tensor, shape: str) -> Tensor:
    """``x`` as a tensor of the network's dtype (integers converted), or a clear error; ``shape`` names
    the expected shape in the message."""
    if not isinstance(x, Tensor):
        raise ArgumentError(f"Expected the input x to be a torch.Tensor of shape {shape} (got a "
                            f"{type(x).__name__}); convert it with torch.as_tensor(x, dtype={net.bias.dtype}).")
    if not torch.is_floating_point(x):
        x = x.to(net.bias.dtype)
    if x.dtype != net.bias.dtype:
        raise ArgumentError(f"Expected input of dtype {net.bias.dtype} (got {x.dtype}); convert the input or "
                            f"the network (e.g. net.double()).")
    return x


def input_rows(net: "Network", x: Tensor, shared: bool = False) -> Tensor:
    """``x: [batch, n_in]`` or ``[T, batch, n_in]`` -> input rows ``[T * n_in, batch]`` (``[n_in, batch]``
    for a ``[batch, n_in]`` input with ``shared=True``: the propagation broadcasts it to every graph)."""
    plan, T = net.plan, net.plan.num_graphs
    x = as_input(net, x, f"[batch, {plan.n_in}]")
    if x.dim() == 2 and x.shape[1] == plan.n_in:
        rows = x.t()
        return rows.repeat(T, 1) if T > 1 and not shared else rows
    if net.batched and x.dim() == 3 and x.shape[0] == T and x.shape[2] == plan.n_in:
        return x.transpose(1, 2).reshape(T * plan.n_in, x.shape[1])
    want = f"[batch, {plan.n_in}]" + (f" or [{T}, batch, {plan.n_in}]" if net.batched else "")
    raise DataError(f"Expected input of shape {want} (got {list(x.shape)}).")


def check_overrides(net: "Network", weight: Optional[Tensor], bias: Optional[Tensor]) -> None:
    """The ``weight`` and ``bias`` overrides of :meth:`~mpnet.Network.forward` checked for kind, shape, dtype and
    device (one comparison each per call; their values are the caller's, as the module's own would be).

    Raises:
        ArgumentError: names the override, what came and what is expected.
    """
    for name, t in (("weight", weight), ("bias", bias)):
        if t is None:
            continue
        size = net.data.edge_perm.numel() if name == "weight" else net.bias.numel()
        if (not isinstance(t, Tensor) or t.shape != (size,) or t.dtype != net.bias.dtype
                or t.device != net.bias.device):
            got = f"{list(t.shape)} {t.dtype} on {t.device}" if isinstance(t, Tensor) else f"a {type(t).__name__}"
            what = ("one effective weight per edge, in net.edge_keys order" if name == "weight"
                    else "one per non-input neuron, in net.rows order")
            raise ArgumentError(f"Expected {name}= as a tensor [{size}] ({what}), {net.bias.dtype} on "
                                f"{net.bias.device} (got {got}).")


def forward(net: "Network", x: Tensor, weight: Optional[Tensor], bias: Optional[Tensor]) -> Tensor:
    """The outputs of a feed-forward network on ``x`` (``weight``, ``bias``: overrides, as in
    :meth:`~mpnet.Network.forward`)."""
    if weight is not None or bias is not None:
        check_overrides(net, weight, bias)
    plan, T = net.plan, net.plan.num_graphs
    batch = x.shape[-2] if isinstance(x, Tensor) and x.dim() > 1 else 1
    tuner = net._tuners.get(batch) or net._tuners.setdefault(batch, Tuner())
    with PassThreads(net.plan.work_per_sample * batch, tuner):   # input rows and outputs included
        weight = net._compute_weight() if weight is None else weight
        bias = net.bias if bias is None else bias
        # conv.forward, not conv(...): an internal layer, no hooks to run
        rows = input_rows(net, x, shared=True).contiguous()      # [T * n_in, B], or [n_in, B] for all graphs
        out = net.conv.forward(rows, plan, weight, bias)         # [T * n_out, B]
    # one view each way (every view is an autograd node of the backward)
    return out.view(T, plan.n_out, -1).transpose(1, 2) if net.batched else out.t()   # [T, B, n_out] / [B, n_out]


def states(net: "Network", x: Tensor, weight: Optional[Tensor], bias: Optional[Tensor]) -> Tuple[Tensor, Tensor]:
    """A feed-forward network's ``(z, h)`` on ``x``, each ``[num_nodes, batch]`` (see
    :meth:`~mpnet.Network.states`; the caller holds ``torch.no_grad``)."""
    if weight is not None or bias is not None:
        check_overrides(net, weight, bias)
    rows = input_rows(net, x)
    weight = net._compute_weight() if weight is None else weight
    bias = net.bias if bias is None else bias
    H, Z = run_levels(net.conv, net.plan, rows.contiguous(), weight, bias)
    Z[:net.plan.num_inputs] = H[:net.plan.num_inputs]   # an input's "pre-activation" is its value
    return Z, H
