"""Setting a network's weights (model stage): ``net.weight = values``, :meth:`~mpnet.Network.set_weights`, and
in-place edits of the tensor ``net.weight`` handed out, each checked against the edges' signs, frozen values
and finiteness and written into ``raw_weight``.

An edit made in place is found by comparing each handed-out tensor that is still alive with its values when it
was handed out; ``net._write_back_edits()`` does that before the network next computes or reads its weights.
"""
import numbers
import weakref
from typing import TYPE_CHECKING, Any, List, Mapping, Tuple, Union

import torch
from torch import Tensor

from ..checks import describe
from ..errors import ArgumentError, NonFiniteError, SignConflictError, UnknownEdgeError

if TYPE_CHECKING:
    from .network import Network

__all__ = ["hand_out", "set_weights", "write_back", "forget_handed_out"]

#: what :attr:`~mpnet.Network.weight` gave out: each tensor (weakly) and its values then
HandedOut = List[Tuple["weakref.ref[Tensor]", Tensor]]


def hand_out(net: "Network") -> Tensor:
    """The tensor :attr:`~mpnet.Network.weight` returns, watched for edits."""
    w = net._compute_weight()
    if w is net.raw_weight:
        w = w.clone()   # never the parameter itself: edits go through the same checks either way
    net._handed_out.append((weakref.ref(w), w.detach().clone()))
    net._last_handed = w   # keeps `net.weight[i] = v`'s temporary alive until it is written back
    return w


def set_weights(net: "Network", values: Union[Tensor, Mapping[Any, Any]]) -> None:
    """:meth:`~mpnet.Network.set_weights`: ``values`` as a tensor ``[E]`` or a mapping of edge keys."""
    net._write_back_edits()
    refuse_tied(net)
    E = net.raw_weight.numel()
    if isinstance(values, Mapping):
        index = {(k if net.batched else k[1:]): i for i, k in enumerate(net.edge_keys)}
        unknown = [k for k in values if k not in index]
        if unknown:
            form = "(t, src, dst)" if net.batched else "(src, dst)"
            raise UnknownEdgeError(f"set_weights names edges the network does not have: {unknown[:5]}; keys "
                                   f"are {form} tuples (net.edge_keys lists them).")
        idx = torch.tensor([index[k] for k in values], dtype=torch.long)
        new = net.raw_weight.detach().clone()
        vals = torch.tensor([_number(k, v) for k, v in values.items()], dtype=torch.float64)
        new[idx.to(new.device)] = vals.to(new.dtype).to(new.device)
        mask = torch.zeros(E, dtype=torch.bool, device=new.device)
        mask[idx.to(new.device)] = True
    else:
        if not isinstance(values, (Tensor, list, tuple)) and type(values).__module__ != "numpy":
            raise ArgumentError(f"Expected the weights as a tensor [{E}] (one per edge, in the order of "
                                f"net.edge_keys) or a mapping {{(src, dst): weight}} (got {describe(values)}).")
        try:
            new = torch.as_tensor(values).detach()
        except (TypeError, ValueError, RuntimeError, OverflowError) as err:
            raise ArgumentError(f"Expected the weights as numbers, one per edge (got {describe(values)}: "
                                f"{str(err).splitlines()[0]}).") from None
        if not (new.is_floating_point() or new.dtype in (torch.int8, torch.int16, torch.int32, torch.int64,
                                                         torch.uint8)):
            raise ArgumentError(f"Expected the weights as real numbers (got dtype {new.dtype}); booleans are not "
                                f"weights.")
        if new.shape != (E,):
            raise ArgumentError(f"Expected weights of shape [{E}] (one per edge, in the order of "
                                f"net.edge_keys) (got shape {list(new.shape)}).")
        new = new.to(dtype=net.raw_weight.dtype, device=net.raw_weight.device)
        mask = torch.ones(E, dtype=torch.bool, device=new.device)
    assign(net, new, mask)


def _number(key: Any, value: Any) -> float:
    """A weight given in a mapping as a float (a 0-d tensor too).

    Raises:
        ArgumentError: a bool, a string, a list, or an int beyond the float range, naming the edge.
    """
    if isinstance(value, Tensor) and value.numel() == 1 and value.dtype != torch.bool and not value.is_complex():
        return float(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ArgumentError(f"set_weights: the weight of edge {key!r:.60} is {describe(value)}; expected a number.")
    try:
        return float(value)
    except OverflowError:
        raise NonFiniteError(f"set_weights: the weight of edge {key!r:.60} is an int of {len(str(value))} digits, "
                             f"beyond the float range; weights must be finite.") from None


def assign(net: "Network", new: Tensor, mask: Tensor) -> None:
    """``raw_weight[mask] = new[mask]``, after checking signs, frozen values and finiteness."""
    refuse_tied(net)
    c = net.constraint
    bad = mask & ~torch.isfinite(new)
    if bool(bad.any()):
        i = int(torch.nonzero(bad)[0])
        raise NonFiniteError(f"Cannot set the weight of {edge_name(net, i)} to {new[i].item()}; weights must "
                             f"be finite.")
    wrong = mask & ~c.frozen & (new * c.sign < 0)
    if bool(wrong.any()):
        i = int(torch.nonzero(wrong)[0])
        raise SignConflictError(f"Cannot set the weight of {edge_name(net, i)} to {new[i].item()}: the edge has "
                                f"fixed sign {'+' if c.sign[i] > 0 else '-'}. Give a value of that sign (or 0), "
                                f"or declare the edge free.")
    moved = mask & c.frozen & (new != c.value)
    if bool(moved.any()):
        i = int(torch.nonzero(moved)[0])
        raise SignConflictError(f"Cannot set the weight of {edge_name(net, i)} to {new[i].item()}: the edge is "
                                f"frozen at {c.value[i].item()} (trainable=False). Declare it trainable, or give "
                                f"the topology another value.")
    with torch.no_grad():
        net.raw_weight.copy_(torch.where(mask & ~c.frozen, new, net.raw_weight))


def refuse_tied(net: "Network") -> None:
    """Raise if the network ties weights (its edges cannot be set one by one)."""
    if net._table is not None:
        raise ArgumentError(f"This network ties weights ({len(net._table.groups)} shared groups): an edge's "
                            f"weight is a sum of shared parameters, so it cannot be set edge by edge. Set the "
                            f"values on the topology (topology.with_weights(weights, ties={{name: value}})) and "
                            f"build the network again.")


def edge_name(net: "Network", i: int) -> str:
    """Entry ``i`` of :attr:`~mpnet.Network.weight` named for a message."""
    t, e = net._edges[i]
    return f"edge {e.src!r} -> {e.dst!r}{net._where(t)}"


def write_back(net: "Network", handed: HandedOut) -> None:
    """Write edits made in place to the tensors ``handed`` (those :attr:`~mpnet.Network.weight` handed out)
    into ``raw_weight``."""
    keep: HandedOut = []
    for ref, before in handed:
        w = ref()
        if w is None:
            continue
        now = w.detach()
        if now.shape == before.shape and now.dtype == before.dtype and now.device == before.device:
            changed = (now != before) & ~(torch.isnan(now) & torch.isnan(before))
            if bool(changed.any()):
                net._handed_out = []   # a refused edit is not retried at every later call
                net._last_handed = None
                assign(net, now.to(net.raw_weight.dtype), changed)
                before = now.clone()
        keep.append((ref, before))
    net._handed_out = keep
    net._last_handed = None   # written back: the tensor lives on only if its holder keeps it


def forget_handed_out(net: "Network") -> None:
    """Stop watching the tensors handed out (their edits are no longer written back)."""
    if "_handed_out" in net.__dict__:
        net._handed_out = []
        net._last_handed = None
