"""How many intra-op threads a pass of mpnet uses (propagate stage): by default chosen per pass from its size.

A pass is a chain of small steps, one sparse product and one activation per depth level, and each step that
runs on several threads is a parallel region whose threads must all wake and meet. For a small level that
costs more than its arithmetic, and far more when another process holds a core: the region then waits for
the scheduler to run its last thread. So the policy, per forward or backward pass:

* ``"auto"`` (default): one thread unless the pass's levels are big, at least :data:`GRAIN` edge-samples
  (edges x batch) per level and thread. For such a pass the size rule's count,
  ``min(torch.get_num_threads(), work per level // GRAIN)``, is only a candidate: a :class:`Tuner` times
  the passes of that network and batch size at one thread and at the candidate count, runs the faster
  and retries the other every :attr:`Tuner.explore` passes, so a machine whose cores are busy with other
  work gets one thread where threads would be slower.
* ``"torch"``: whatever ``torch.get_num_threads()`` says (the behaviour of a plain torch module).
* an int ``n``: every pass on ``n`` threads.

The user's torch setting is restored after each pass. Set the policy with :func:`set_threads` or the
environment variable ``MPNET_THREADS`` (``auto``, ``torch`` or a number).
"""
import os
import statistics
import time
from collections import deque
from typing import Deque, Dict, Optional, Type, Union

import torch

__all__ = ["GRAIN", "set_threads", "get_threads", "threads_for", "Tuner", "PassThreads"]

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


class Tuner:
    """Picks one thread or ``n`` for one kind of pass (a network's forward or backward at one batch size)
    by timing both: after a first (warm-up) pass, two passes try one thread, two try ``n``, then the faster
    of the two by the median of their last :attr:`keep` times runs, the other one every :attr:`explore`
    passes."""
    __slots__ = ("samples", "count")
    explore = 16
    keep = 5

    def __init__(self) -> None:
        self.samples: Dict[int, Deque[float]] = {}
        self.count = 0

    def choose(self, n: int) -> int:
        self.count += 1
        one, many = self.samples.get(1, ()), self.samples.get(n, ())
        if len(one) < 2:
            return 1
        if len(many) < 2:
            return n
        best, other = (1, n) if statistics.median(one) <= statistics.median(many) else (n, 1)
        return other if self.count % self.explore == 0 else best

    def record(self, threads: int, seconds: float) -> None:
        if self.count > 1:                   # the first pass also allocates and builds: not a sample
            self.samples.setdefault(threads, deque(maxlen=self.keep)).append(seconds)


class PassThreads:
    """Context manager around one pass: sets the thread count :func:`threads_for` picks (or, with a
    ``tuner`` and a pass big enough for threads, the count the tuner picks, timing the pass for it), then
    restores the user's setting (two calls of ``torch.set_num_threads``, ~0.2 us each, only when they
    differ)."""
    __slots__ = ("want", "user", "tuner", "start")

    def __init__(self, work_per_level: float, tuner: Optional[Tuner] = None):
        self.user = torch.get_num_threads()
        n = threads_for(work_per_level, self.user)
        self.tuner = tuner if tuner is not None and n > 1 and _policy == "auto" else None
        self.want = self.tuner.choose(n) if self.tuner is not None else n

    def __enter__(self) -> "PassThreads":
        if self.want != self.user:
            torch.set_num_threads(self.want)
        if self.tuner is not None:
            self.start = time.perf_counter()
        return self

    def __exit__(self, exc_type: Optional[Type[BaseException]], *exc: object) -> None:
        if self.tuner is not None and exc_type is None:
            self.tuner.record(self.want, time.perf_counter() - self.start)
        if self.want != self.user:
            torch.set_num_threads(self.user)
