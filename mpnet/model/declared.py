"""The numbers a network's topologies declare (model stage): each parameter's given value, and the check that
every declared weight, bias and response fits the network's dtype."""
from typing import TYPE_CHECKING

import torch
from torch import Tensor
from torch.types import Device

from ..errors import NonFiniteError

if TYPE_CHECKING:
    from .network import Network

__all__ = ["given_values", "check_declared_finite"]


def given_values(net: "Network", dtype: torch.dtype, device: Device) -> Tensor:
    """``[P]`` the declared value of each parameter (0 where unset; without ties the declared weights in
    compiled order)."""
    if net._table is None:
        return torch.nan_to_num(net._declared, nan=0.0).to(dtype=dtype, device=device)
    return torch.tensor([0.0 if v is None else v for v in net._table.given], dtype=dtype, device=device)


def check_declared_finite(net: "Network") -> None:
    """Refuse declared numbers that overflow the network's dtype (a weight of 1e300 in float32 is inf)."""
    dtype = net.raw_weight.dtype
    given = given_values(net, dtype, "cpu")
    bad = ~torch.isfinite(given)
    if bool(bad.any()):
        p = int(torch.nonzero(bad)[0])
        if net._table is None:
            t, e = net._edges[p]
            raise NonFiniteError(f"The weight of edge {e.src!r} -> {e.dst!r}{net._where(t)} is {e.weight!r}, "
                                 f"which is {given[p].item()} in {dtype}; every output it reaches would be inf "
                                 f"or NaN. Scale it down, or use dtype=torch.float64.")
        if p not in net._table.own:   # a tie group's value
            t, name = net._table.groups[p - (len(net._table.sign) - len(net._table.groups))]
            raise NonFiniteError(f"The value of tie {name!r}{net._where(t)} is {given[p].item()} in {dtype}; "
                                 f"scale it down, or use dtype=torch.float64.")
        t, e = net._edges[net._table.own.index(p)]
        raise NonFiniteError(f"The weight of edge {e.src!r} -> {e.dst!r}{net._where(t)} is {e.weight!r}, which "
                             f"is {given[bad][0].item()} in {dtype}; every output it reaches would be inf or NaN. "
                             f"Scale it down, or use dtype=torch.float64.")
    rows = net.data.node_perm                      # row -> node in union order
    for what, column in (("bias", net.arrays.bias), ("response", net.arrays.response)):
        declared = column.index_select(0, rows)         # float64, compiled row order
        cast = declared.to(dtype)
        bad = ~torch.isfinite(cast)
        if bool(bad.any()):
            r = int(torch.nonzero(bad)[0])
            t, node = net.rows[r]
            raise NonFiniteError(f"The {what} of node {node!r}{net._where(t)} is {declared[r].item()!r}, "
                                 f"which is {cast[r].item()} in {dtype}; its output would be inf or NaN. Scale "
                                 f"it down, or use dtype=torch.float64.")
