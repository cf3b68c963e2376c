"""A generation evaluated across Ray workers: fixed chunks handed out as workers free up, the task shipped by
value once, genomes as flat arrays, a dead worker's chunk retried (search stage, on :mod:`mpnet.scale.ray_pool`).

Per generation the driver packs the topologies into flat arrays (:func:`mpnet.scale.packed.pack`, about 300 bytes
for a NEAT genome), cuts them into the chunks of :func:`~mpnet.search.evaluate.chunk_bounds` and hands the
chunks to the workers; each worker reads its chunk straight into one batched network
(:func:`mpnet.scale.packed.to_arrays`: no Python object per genome or edge), runs
:func:`~mpnet.search.evaluate.score_chunk` and sends back flat arrays (the trained numbers in declaration order,
which the driver writes back into the genomes). The task is pickled by value
(:func:`mpnet.scale.ray_pool.by_value`), so a :class:`~mpnet.search.tasks.Task` subclass defined in the user's own
script works, and stored once in the object store; each worker unpickles it once and keeps it (its data
stays on the worker's device) until the driver passes another task. Chunks, not workers, fix the numbers,
so any number of workers gives the same result (see :mod:`mpnet.search.evaluate`).
"""
import os
import time
from typing import Any, List, Optional, Sequence

import torch

from ..model import Network
from ..scale.packed import Packed, pack, to_arrays
from ..scale.population_ray import Trainer
from ..scale.ray_pool import ObjectRef, RayPool, by_value
from ..graph.topology import Topology
from .evaluate import DEFAULT_CHUNK, ChunkResult, Device, Evaluation, Evaluator, Finetune, assemble, chunk_bounds, \
    score_chunk
from .tasks import Task

__all__ = ["RayEvaluator"]


class _Worker(Trainer):
    """A Ray actor: evaluates packed chunks with the task it was last sent, on its device (and, as a
    :class:`~mpnet.scale.population_ray.Trainer`, trains a population's chunks: ``train_population(...,
    workers=evaluator.pool)``)."""

    def __init__(self, dtype_name: str, device: str, threads: Optional[int]) -> None:
        super().__init__(dtype_name, device, threads)
        self.task_key: Optional[int] = None
        self.task: Optional[Task] = None

    def evaluate(self, task_key: int, task_ref: List[ObjectRef], finetune: Optional[Finetune], generation: int,
                 packed: Packed) -> ChunkResult:
        task = self.task
        if task_key != self.task_key or task is None:   # a new task (or a restarted worker): unpickle it once
            import ray
            from ray import cloudpickle
            loaded: Task = cloudpickle.loads(ray.get(task_ref[0]))
            task = self.task = loaded
            self.task_key = task_key
        result = evaluate_packed(task, packed, finetune, generation, self.dtype, self.device)
        result.worker = os.getpid()
        return result


def evaluate_packed(task: Task, packed: Packed, finetune: Optional[Finetune] = None, generation: int = 0,
                    dtype: torch.dtype = torch.float32, device: Device = None) -> ChunkResult:
    """What a worker does with a chunk: :func:`~mpnet.search.evaluate.evaluate_chunk` of ``unpack(packed)``,
    with the batched network built straight from the arrays (same numbers, bit for bit; ``compile`` times
    reading the arrays and building the network)."""
    t0 = time.perf_counter()
    net = Network(to_arrays(packed), dtype=dtype, device=device)
    return score_chunk(task, net, finetune, generation, time.perf_counter() - t0)


class RayEvaluator(Evaluator):
    """Each generation cut into chunks of ``chunk_size`` topologies, handed to ``num_workers`` Ray actors as
    they free up (more chunks than workers balances uneven chunks, e.g. pole balancing).

    Needs the optional extra ``ray`` (``pip install "mpnet[ray]"``).

    Args:
        num_workers: actors.
        address: of a running Ray cluster (``None``: the one already initialised, else a new local one).
        dtype: of the networks.
        device: of each worker's networks (``None``: ``"cuda"`` when ``gpus_per_worker > 0``, else the CPU).
        chunk_size: topologies per chunk; the result depends on it, never on ``num_workers``
            (:class:`~mpnet.search.LocalEvaluator` with the same ``chunk_size`` gives the same numbers).
        threads_per_worker: torch threads in each actor.
        cpus_per_worker, gpus_per_worker: what Ray reserves for each actor.
        max_restarts: times a dead worker is restarted and its chunk retried; after that its chunks go to the
            other workers.
        **init_kwargs: passed to ``ray.init`` when this evaluator starts Ray (e.g. ``num_cpus=2``).

    Attributes:
        last_workers: the pid of the process that computed each chunk of the last generation.
    """

    def __init__(self, num_workers: int = 2, *, address: Optional[str] = None, dtype: torch.dtype = torch.float32,
                 device: Device = None, chunk_size: int = DEFAULT_CHUNK, threads_per_worker: Optional[int] = 1,
                 cpus_per_worker: float = 1, gpus_per_worker: float = 0, max_restarts: int = 3,
                 **init_kwargs: Any) -> None:
        if chunk_size is None:
            raise ValueError("RayEvaluator needs a chunk_size (an int >= 1): chunks are what the workers share.")
        chunk_bounds(1, chunk_size)   # checks it
        where = str(device) if device is not None else ("cuda" if gpus_per_worker > 0 else "cpu")
        self.pool = RayPool(_Worker, num_workers, args=(str(dtype).replace("torch.", ""), where, threads_per_worker),
                            address=address, cpus_per_worker=cpus_per_worker, gpus_per_worker=gpus_per_worker,
                            max_restarts=max_restarts, **init_kwargs)
        self.num_workers, self.dtype, self.device, self.chunk_size = num_workers, dtype, where, chunk_size
        self._task: Optional[Task] = None
        self._task_ref: Optional[ObjectRef] = None
        self._task_key = 0
        self.last_workers: List[Optional[int]] = []   # every chunk a worker computed carries its pid

    def evaluate(self, task: Task, topologies: Sequence[Topology], finetune: Optional[Finetune] = None,
                 generation: int = 0) -> Evaluation:
        """The generation in chunks across the workers (see the class docstring).

        Args:
            task: scores the networks; shipped to the workers once, until another task comes.
            topologies: the generation.
            finetune: the Lamarckian step (None: score the networks as they are).
            generation: passed to ``task.evaluate``.

        Returns:
            The generation's evaluation, in the order of ``topologies``; its timings add ``ship``, ``wait``
            and ``collect``.

        Raises:
            RuntimeError: every worker died for good.
        """
        t0 = time.perf_counter()
        batch = list(topologies)
        if task is not self._task:            # stored once; the workers keep it until another task comes
            self._task_ref, self._task, self._task_key = self.pool.put(by_value(task)), task, self._task_key + 1
        packed = pack(batch)
        chunks = [(packed.take(a, b),) for a, b in chunk_bounds(len(batch), self.chunk_size)]
        t1 = time.perf_counter()
        parts: List[ChunkResult] = self.pool.map("evaluate", chunks,
                                                 shared=(self._task_key, [self._task_ref], finetune, generation))
        t2 = time.perf_counter()
        out = assemble(batch, parts, finetune is not None, task)
        out.timings.update(ship=t1 - t0, wait=t2 - t1, collect=time.perf_counter() - t2)
        self.last_workers = [p.worker for p in parts]
        return out

    def close(self) -> None:
        """Stop the workers (and Ray, if this evaluator started it)."""
        self.pool.close()

    def __repr__(self) -> str:
        return (f"RayEvaluator(num_workers={self.num_workers}, dtype={self.dtype}, device={self.device}, "
                f"chunk_size={self.chunk_size})")
