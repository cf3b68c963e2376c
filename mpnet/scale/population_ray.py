"""The Ray side of :func:`~mpnet.scale.population.train_population`: the actor that trains packed chunks, and the
pools kept between calls (train stage, on :mod:`mpnet.scale.ray_pool`).

Starting Ray takes ~10 s here and each worker another few seconds (a process that imports torch and mpnet), for
chunks that train in a fraction of a second. So ``train_population(..., workers=k)`` starts its ``k`` workers
once and keeps them, with the Ray it joined or started, for the next call with the same settings;
:func:`release_workers` stops them (and Ray, if they started it). A :class:`~mpnet.scale.ray_pool.RayPool` whose
actors have a ``train`` method (:class:`Trainer` or a subclass, such as the search's Ray evaluator's workers) can
be handed in instead: ``train_population(..., workers=pool)``.
"""
import os
from typing import Any, Dict, List, Optional, Tuple

import torch
from torch import Tensor

from .chunks import Chunk, train_chunk
from .packed import Packed, unpack
from .ray_pool import RayPool

__all__ = ["Trainer", "trainer_pool", "release_workers", "kept_pools"]

#: the pools train_population started, by their settings: (workers, device, threads, sorted options), each with
#: the Ray node it was started on (a Ray stopped and started again since holds none of its workers)
_KEPT: Dict[Tuple[Any, ...], Tuple[RayPool, str]] = {}


class Trainer:
    """A Ray actor: trains packed chunks of a population on its device (``train``).

    Args:
        dtype_name: the default dtype of its networks (``"float32"``; each call may name another).
        device: where its networks live (``"cpu"``, ``"cuda"``).
        threads: torch threads in the actor (``None``: torch's default).
    """

    def __init__(self, dtype_name: str, device: str, threads: Optional[int]) -> None:
        if threads:
            torch.set_num_threads(threads)
        self.dtype, self.device = getattr(torch, dtype_name), torch.device(device)

    def train(self, fit_kwargs: Dict[str, Any], seed: int, outputs: bool, call: Dict[str, Any], X: Tensor,
              Y: Tensor, start: int, packed: Packed) -> Chunk:
        """Train the chunk ``packed`` (topologies ``start ..`` of the population); its numbers back.

        ``call`` holds this call's ``dtype`` name and the Network keywords (a ctrnn's ``advance_time`` and
        ``time_step``); ``X``, ``Y`` the chunk's data (the population's, or its slice of one data set per
        topology)."""
        chunk = train_chunk(unpack(packed), X, Y, fit_kwargs, seed=seed, start=start,
                            dtype=getattr(torch, call.get("dtype", str(self.dtype).replace("torch.", ""))),
                            device=self.device, outputs=outputs, network=call.get("network", {}))
        chunk.worker = os.getpid()
        return chunk


def trainer_pool(workers: int, dtype: torch.dtype, device: str, options: Dict[str, Any]) -> RayPool:
    """The kept pool of ``workers`` :class:`Trainer` actors for these settings, started when there is none (or
    when Ray stopped, or every worker of the kept one died since).

    Args:
        workers: actors.
        dtype: their default dtype (each call names its own).
        device: their device.
        options: :class:`~mpnet.scale.ray_pool.RayPool` keywords, ``threads_per_worker`` among them (default 1).

    Returns:
        The pool (kept until :func:`release_workers`).
    """
    import ray
    options = dict(options)
    threads = options.pop("threads_per_worker", 1)
    key = (workers, device, threads, tuple(sorted((k, repr(v)) for k, v in options.items())))
    kept = _KEPT.get(key)
    if kept is not None and ray.is_initialized() and kept[1] == ray.get_runtime_context().get_node_id():
        pool = kept[0]
        if pool.workers and len(pool.dead) < pool.num_workers:
            return pool
    pool = RayPool(Trainer, workers, args=(str(dtype).replace("torch.", ""), device, threads), **options)
    _KEPT[key] = (pool, ray.get_runtime_context().get_node_id())
    return pool


def kept_pools() -> List[RayPool]:
    """The pools ``train_population(..., workers=k)`` keeps running (for inspection)."""
    return [pool for pool, _ in _KEPT.values()]


def release_workers() -> int:
    """Stop the workers that ``train_population(..., workers=k)`` kept (and Ray, if they started it).

    Returns:
        The number of pools stopped.
    """
    if not _KEPT:
        return 0
    import ray
    pools = [pool for pool, node in _KEPT.values()
             if ray.is_initialized() and node == ray.get_runtime_context().get_node_id()]   # else gone with Ray
    _KEPT.clear()
    for pool in pools:
        pool.close()
    return len(pools)


def check_trainer_pool(pool: RayPool) -> None:
    """Raise an ArgumentError unless ``pool``'s actors can train chunks (have a ``train`` method) and it has a
    worker left."""
    from ..errors import ArgumentError
    if not pool.workers or len(pool.dead) >= pool.num_workers:
        raise ArgumentError(f"workers={pool!r} has no live worker left (closed, or every worker died); start "
                            f"another pool.")
    try:
        getattr(pool.workers[0], "train")
    except AttributeError:
        raise ArgumentError(f"workers={pool!r}: its actors have no 'train' method, so they cannot train a "
                            f"population; build the pool with mpnet.scale.population_ray.Trainer (or a subclass), "
                            f"or give workers=N to let train_population start (and keep) its own.") from None
