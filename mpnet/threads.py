"""How many intra-op threads a pass of mpnet uses (propagate stage): by default chosen per pass from its size.

A pass is a chain of small steps, one sparse product and one activation per depth level, and each step that
runs on several threads is a parallel region whose threads must all wake and meet. For a small level that
costs more than its arithmetic, and far more when another process holds a core: the region then waits for
the scheduler to run its last thread. So the policy, per forward or backward pass:

* ``"auto"`` (default): one thread unless the pass's levels are big, at least :data:`GRAIN` edge-samples
  (edges x batch) per level and thread; then ``min(torch.get_num_threads(), work per level // GRAIN)``.
* ``"torch"``: whatever ``torch.get_num_threads()`` says (the behaviour of a plain torch module).
* an int ``n``: every pass on ``n`` threads.

The user's torch setting is restored after each pass. Set the policy with :func:`set_threads` or the
environment variable ``MPNET_THREADS`` (``auto``, ``torch`` or a number).
"""
import os
from typing import Union

import torch

__all__ = ["GRAIN", "set_threads", "get_threads", "threads_for", "PassThreads"]

#: Edge-samples per level and per thread below which an extra thread costs more than it saves. Measured
#: with scripts/bench.py (docs/benchmarks.md, "threads"): below ~4M edge-samples a level takes under a
#: millisecond on one thread, about what a parallel region can wait for a descheduled thread.
GRAIN = 4_000_000

Policy = Union[str, int]


def _checked(policy: Policy) -> Policy:
    if isinstance(policy, str) and policy.strip().isdigit():
        policy = int(policy)
    if policy in ("auto", "torch") or (isinstance(policy, int) and not isinstance(policy, bool) and policy >= 1):
        return policy
    raise ValueError(f"Expected a thread policy 'auto', 'torch' or an int >= 1 (got {policy!r}).")


_policy: Policy = _checked(os.environ.get("MPNET_THREADS", "auto"))


def set_threads(policy: Policy) -> Policy:
    """Set how many threads mpnet's passes use (see the module docstring); returns the previous policy.

    Raises:
        ValueError: not ``"auto"``, ``"torch"`` or an int >= 1.

    Example:
        >>> previous = set_threads(1)     # every pass on one thread
        >>> set_threads(previous)
        1
    """
    global _policy
    previous, _policy = _policy, _checked(policy)
    return previous


def get_threads() -> Policy:
    """The current policy: ``"auto"``, ``"torch"`` or an int."""
    return _policy


def threads_for(work_per_level: float, available: int) -> int:
    """The threads a pass with ``work_per_level`` edge-samples per level gets when torch has ``available``."""
    if _policy == "torch":
        return available
    if _policy != "auto":
        return int(_policy)
    return max(1, min(available, int(work_per_level // GRAIN)))


class PassThreads:
    """Context manager around one pass: sets the thread count :func:`threads_for` picks, then restores the
    user's setting (two calls of ``torch.set_num_threads``, ~0.2 us each, only when they differ)."""
    __slots__ = ("want", "user")

    def __init__(self, work_per_level: float):
        self.user = torch.get_num_threads()
        self.want = threads_for(work_per_level, self.user)

    def __enter__(self) -> "PassThreads":
        if self.want != self.user:
            torch.set_num_threads(self.want)
        return self

    def __exit__(self, *exc) -> None:
        if self.want != self.user:
            torch.set_num_threads(self.user)
