"""Chunks of work handed to Ray actors as they free up, retried when a worker dies (the distribution layer beside
the flow, shared by :mod:`mpnet.scale.population` and :class:`mpnet.search.RayEvaluator`; it imports nothing of mpnet).

:class:`RayPool` starts ``num_workers`` actors of one class; :meth:`RayPool.map` calls one of their methods on
a list of chunks and returns the results in chunk order. A chunk goes to the first worker that is free, so a
slow chunk holds up one worker only, not the rest. A worker that dies mid-chunk is restarted by Ray and its
call retried, up to ``max_restarts`` times; a worker whose restarts are spent is dropped and its chunk handed
to another. A worker gets chunks only once it has started, so one that is slow to start (or that the cluster
has no room for) holds none. Needs the optional extra ``ray`` (``pip install "mpnet[ray]"``).
"""
import importlib
import sys
from collections import deque
from contextlib import contextmanager
from types import ModuleType
from typing import Any, Deque, Dict, Iterator, List, Optional, Sequence, Set, Tuple

__all__ = ["RayPool", "by_value"]

#: a ``ray.ObjectRef`` (Ray is an optional extra and is not type-checked, see pyproject.toml)
ObjectRef = Any


def _ray() -> ModuleType:
    try:
        return importlib.import_module("ray")
    except ImportError as err:
        raise ImportError("Ray is not installed: pip install ray (or mpnet's optional extra: pip install "
                          "'mpnet[ray]').") from err


class RayPool:
    """``num_workers`` Ray actors of ``actor_class``, fed chunk by chunk.

    Args:
        actor_class: a plain class; each worker is ``actor_class(*args)`` in its own process (a class from a
            module the workers cannot import travels by value, as :func:`by_value` ships an object).
        num_workers: actors to start.
        args: their constructor's arguments.
        address: of a running Ray cluster (``None``: the one this process already joined, else a new local one).
        cpus_per_worker, gpus_per_worker: what Ray reserves for each actor (a GPU worker sees only its own
            GPUs, as ``cuda:0`` ...).
        max_restarts: times Ray restarts a dead worker and retries the call it was running.
        start_timeout: seconds :meth:`map` waits for the first worker to start before it gives up (the cluster
            may lack the CPUs or GPUs asked for).
        **init_kwargs: passed to ``ray.init`` when this pool starts Ray (e.g. ``num_cpus=2``).

    Raises:
        ImportError: Ray is not installed.
        ValueError: ``num_workers < 1`` or ``max_restarts < 0``.
    """

    def __init__(self, actor_class: type, num_workers: int = 2, *, args: Sequence[Any] = (),
                 address: Optional[str] = None, cpus_per_worker: float = 1, gpus_per_worker: float = 0,
                 max_restarts: int = 3, start_timeout: float = 600.0, **init_kwargs: Any) -> None:
        ray = _ray()
        if not isinstance(num_workers, int) or num_workers < 1:
            raise ValueError(f"Expected num_workers to be an int >= 1 (got {num_workers!r}).")
        if not isinstance(max_restarts, int) or max_restarts < 0:
            raise ValueError(f"Expected max_restarts to be an int >= 0 (got {max_restarts!r}).")
        self._ray = ray
        self._owns = not ray.is_initialized()
        if self._owns:
            ray.init(address=address, **init_kwargs)
        remote = ray.remote(num_cpus=cpus_per_worker, num_gpus=gpus_per_worker, max_restarts=max_restarts,
                            max_task_retries=max_restarts)(actor_class)
        self.num_workers = num_workers
        with _classes_by_value(actor_class):          # Ray exports the class with the first actor
            self.workers = [remote.remote(*args) for _ in range(num_workers)]
        self.resources = dict(CPU=cpus_per_worker, GPU=gpus_per_worker)
        self.start_timeout = start_timeout
        # a worker gets chunks once it is up: one still starting, or that the cluster has no room for, holds none
        self._starting = {w.__ray_ready__.remote(): i for i, w in enumerate(self.workers)}
        self._ready: Set[int] = set()
        self.dead: Set[int] = set()                   # workers whose restarts are spent
        self.last_assignments: List[Tuple[int, int]] = []   # (chunk, worker) in the order they were handed out

    def wait_started(self, timeout: Optional[float] = None) -> int:
        """Wait until every worker has started (or ``timeout`` seconds); the number of workers up.

        Args:
            timeout: seconds to wait at most (None: until every worker has started or died).

        Returns:
            The number of workers up (started, not dead).
        """
        ray = self._ray
        if self._starting:
            done, _ = ray.wait(list(self._starting), num_returns=len(self._starting), timeout=timeout)
            for ref in done:
                worker = self._starting.pop(ref)
                try:
                    ray.get(ref)
                except ray.exceptions.RayActorError:
                    self.dead.add(worker)
                    continue
                self._ready.add(worker)
        return len(self._ready - self.dead)

    def put(self, value: Any) -> ObjectRef:
        """``ray.put``: store ``value`` once in the object store; pass the reference to every chunk.

        Args:
            value: anything Ray can pickle.

        Returns:
            The object reference.
        """
        return self._ray.put(value)

    def map(self, method: str, chunks: Sequence[Tuple[Any, ...]], shared: Tuple[Any, ...] = ()) -> List[Any]:
        """``worker.<method>(*shared, *chunk)`` for every chunk, each on the next free worker; the results in
        chunk order. Object references in ``shared`` or a chunk are resolved by Ray before the call (wrap one in
        a list to pass the reference itself).

        Args:
            method: the name of the actor class's method to call.
            chunks: each chunk's arguments (after ``shared``).
            shared: the arguments every call starts with (e.g. references from :meth:`put`).

        Returns:
            One result per chunk, in chunk order.

        Raises:
            RuntimeError: every worker died for good (the last death is chained).
            ray.exceptions.RayTaskError: a call raised (the worker's traceback is in it).
        """
        ray = self._ray
        queue: Deque[int] = deque(range(len(chunks)))
        idle: Deque[int] = deque(w for w in sorted(self._ready) if w not in self.dead)
        pending: Dict[ObjectRef, Tuple[int, int]] = {}
        results: List[Any] = [None] * len(chunks)
        self.last_assignments = []
        last_death: Optional[BaseException] = None
        while queue or pending:
            while queue and idle:
                worker, chunk = idle.popleft(), queue.popleft()
                ref = getattr(self.workers[worker], method).remote(*shared, *chunks[chunk])
                pending[ref] = (chunk, worker)
                self.last_assignments.append((chunk, worker))
            waiting = list(pending) + list(self._starting)
            if not waiting:
                raise RuntimeError(f"All {self.num_workers} Ray workers died and their restarts are spent; "
                                   f"{len(queue)} chunks were left. Raise max_restarts or look at the workers' "
                                   f"logs (why they died).") from last_death
            timeout = None if pending or self._ready else self.start_timeout
            done, _ = ray.wait(waiting, num_returns=1, timeout=timeout)
            if not done:
                raise RuntimeError(f"No Ray worker started within {timeout:g} s. Each asks for "
                                   f"{self.resources['CPU']:g} CPU and {self.resources['GPU']:g} GPU; the cluster "
                                   f"has {ray.cluster_resources()}. Ask for less per worker or add nodes.")
            ref = done[0]
            if ref in self._starting:                     # a worker is up: it takes chunks from now on
                worker = self._starting.pop(ref)
                try:
                    ray.get(ref)
                except ray.exceptions.RayActorError as err:
                    self.dead.add(worker)
                    last_death = err
                    continue
                self._ready.add(worker)
                idle.append(worker)
                continue
            chunk, worker = pending.pop(ref)
            try:
                results[chunk] = ray.get(ref)
            except ray.exceptions.RayActorError as err:   # the worker died for good: its chunk goes to another
                self.dead.add(worker)
                queue.appendleft(chunk)
                last_death = err
                continue
            idle.append(worker)
        return results

    def close(self) -> None:
        """Stop the workers (and Ray, if this pool started it)."""
        for w in self.workers:
            self._ray.kill(w)
        self.workers = []
        if self._owns and self._ray.is_initialized():
            self._ray.shutdown()

    def __enter__(self) -> "RayPool":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RayPool(workers={self.num_workers}, dead={len(self.dead)})"


def by_value(obj: Any) -> bytes:
    """``obj`` pickled with its class (and the classes it derives from) by value, unless they are mpnet's own,
    the standard library's or ``__main__``'s (which Ray's cloudpickle already keeps by value): a class defined
    in a module the workers cannot import still arrives whole.

    Args:
        obj: the object to ship.

    Returns:
        The pickle (``ray.cloudpickle.loads`` reads it back, in any process).

    Raises:
        ImportError: Ray is not installed.
    """
    from ray import cloudpickle
    with _classes_by_value(type(obj)):
        data: bytes = cloudpickle.dumps(obj)
    return data


@contextmanager
def _classes_by_value(cls: type) -> Iterator[None]:
    """Within the block, cloudpickle pickles the modules of ``cls`` and its bases by value (see :func:`by_value`)."""
    from ray import cloudpickle
    skip = set(getattr(sys, "stdlib_module_names", ())) | {"mpnet", "__main__"}
    names = {c.__module__ for c in cls.__mro__}
    modules = [m for m in names if m in sys.modules and m.split(".")[0] not in skip]
    added = [m for m in modules if m not in cloudpickle.list_registry_pickle_by_value()]
    for m in added:
        cloudpickle.register_pickle_by_value(sys.modules[m])
    try:
        yield
    finally:
        for m in added:
            cloudpickle.unregister_pickle_by_value(sys.modules[m])
