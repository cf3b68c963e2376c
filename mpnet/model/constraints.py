"""The sign map ``raw -> w`` (model stage): fixed signs and frozen values held by construction.

Why ``|raw|`` and not ``softplus`` or a clamp: see :mod:`mpnet.model`.
"""
import torch
from torch import Tensor, nn

__all__ = ["SignConstraint"]


class SignConstraint(nn.Module):
    """The map ``raw -> w`` enforcing fixed signs and frozen values (see :mod:`mpnet.model`).

    Args:
        sign: ``[E]`` +1, -1, or 0 for a free edge.
        frozen: ``[E]`` bool, edges whose value is ``value``.
        value: ``[E]`` the frozen values (other entries ignored).
    """

    # the buffers (declared for the type checker: nn.Module hands buffers out through __getattr__)
    pos: Tensor
    neg: Tensor
    frozen: Tensor
    sign: Tensor
    value: Tensor

    def __init__(self, sign: Tensor, frozen: Tensor, value: Tensor):
        super().__init__()
        # w = raw * m + c with a multiplier m that depends only on the side of zero raw is on:
        #   free: m = 1;  fixed s: m = s for raw >= 0, -s for raw < 0 (so w = s * |raw|);  frozen: m = 0, c = value
        free = (sign == 0) & ~frozen
        fixed = (sign != 0) & ~frozen
        # derived from the topology, so not part of the state_dict (which holds raw_weight and bias only)
        self.register_buffer("pos", torch.where(free, 1.0, torch.where(fixed, sign, 0.0)).to(value.dtype),
                             persistent=False)
        self.register_buffer("neg", torch.where(free, 1.0, torch.where(fixed, -sign, 0.0)).to(value.dtype),
                             persistent=False)
        self.register_buffer("frozen", frozen, persistent=False)
        self.register_buffer("sign", sign.to(value.dtype), persistent=False)
        # c: the frozen values, 0 elsewhere
        self.register_buffer("value", torch.where(frozen, value, 0.0), persistent=False)
        self.trivial = bool(free.all())   # nothing to enforce: w = raw

    def set_values(self, value: Tensor) -> None:
        """Set the frozen edges' values (entries of other edges are ignored)."""
        self.value.copy_(torch.where(self.frozen, value, 0.0))

    def forward(self, raw: Tensor) -> Tensor:
        if self.trivial:
            return raw
        with torch.no_grad():   # m is piecewise constant in raw: its derivative is m itself
            m = torch.where(raw >= 0, self.pos, self.neg)
        return torch.addcmul(self.value, raw, m)

    def right_inverse(self, w: Tensor) -> Tensor:
        """A raw vector giving ``w`` (``w`` itself: it lies on the allowed side of every fixed sign)."""
        return w
