"""Evaluating a generation: batched :class:`~mpnet.Network` passes over fixed chunks of it, optional Lamarckian
fine-tuning with :func:`mpnet.fit`, then the task's score (search stage; the compile step is the only way
search reaches tensors).

An :class:`Evaluator` takes ``(task, topologies, finetune, generation)`` and returns an :class:`Evaluation`.
:class:`LocalEvaluator` runs in this process; :class:`~mpnet.search.RayEvaluator` hands the chunks to Ray
workers.

**Chunks fix the numbers.** A generation is cut into chunks of ``chunk_size`` topologies by position alone
(:func:`chunk_bounds`), and each chunk is one batched network. A topology's numbers may depend, to the last
bit, on what else is in its batch: a level's activations run as one vectorised loop whose scalar tail rounds
differently (``torch.sigmoid`` on the CPU: 73 of 2,000 float32 values differ by an ulp between the two paths),
and where a topology's rows fall in it depends on its neighbours. So the chunks, not the workers, are the
unit: any number of workers, and the local evaluator with the same ``chunk_size``, compute every chunk
identically (given the same torch threads per process) and so give the same search, bit for bit, in float32
as in float64.
"""
import time
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Dict, List, Optional, Protocol, Sequence, Tuple, TypeVar, Union, runtime_checkable

import numpy as np
import torch
from torch import Tensor

from ..model import Network
from ..scale.population import trained_arrays
from ..graph.elements import EdgeKey, NodeId
from ..graph.topology import Topology
from ..train import fit
from .batch import GenomeBatch
from .genome import Weights
from .tasks import Task

__all__ = ["Finetune", "Evaluation", "Evaluator", "LocalEvaluator", "ChunkResult", "evaluate_batch",
           "evaluate_chunk", "score_chunk", "chunk_bounds", "assemble", "read_back", "DEFAULT_CHUNK"]

#: topologies per chunk unless told otherwise (a 150-genome generation is one chunk)
DEFAULT_CHUNK = 1000

Device = Union[torch.device, str, None]
_E = TypeVar("_E", bound="Evaluator")


@runtime_checkable
class _SupervisedTask(Protocol):
    """What fine-tuning needs of a task: its data and the loss :func:`mpnet.fit` minimises."""

    @property
    def loss(self) -> Union[str, Callable[[Tensor, Tensor], Tensor]]: ...

    def data(self) -> Tuple[Tensor, Tensor]: ...


@dataclass(frozen=True)
class Finetune:
    """Lamarckian fine-tuning: every generation, ``steps`` full-batch optimizer steps on the whole batched
    population (each topology gets exactly the gradient of its own loss), before it is scored; the trained
    weights go back into the genomes. Fixed signs hold through training (mpnet's sign parametrization)."""
    steps: int = 20               # optimizer steps per generation
    lr: float = 0.05              # learning rate
    optimizer: str = "adam"       # "adam", "sgd" or "adamw"

    def __post_init__(self) -> None:
        if isinstance(self.steps, bool) or not isinstance(self.steps, int) or self.steps < 1:
            got = repr(self.steps) + (", a bool, not a step count" if isinstance(self.steps, bool) else "")
            raise ValueError(f"Expected Finetune.steps to be an int >= 1 (got {got}).")
        if not self.lr > 0:
            raise ValueError(f"Expected Finetune.lr > 0 (got {self.lr!r}).")

    def to_dict(self) -> Dict[str, Any]:
        """The settings as a dict (``Finetune(**d)`` makes them again).

        Returns:
            ``{"steps", "lr", "optimizer"}``.
        """
        return asdict(self)


@dataclass
class Evaluation:
    """What an evaluator returns for one generation, in the order of the topologies it was given. ``timings``
    (seconds) sum over chunks: ``compile`` (building the networks), ``finetune``, ``forward`` (scoring); a
    Ray evaluator adds the driver's own ``ship`` (packing and sending) and ``collect`` (reading results)."""
    fitness: List[float]
    solved: List[bool]
    trained: Optional[List[Weights]] = None           # the fine-tuned numbers (None without fine-tuning)
    timings: Dict[str, float] = field(default_factory=dict)


@dataclass
class ChunkResult:
    """One chunk's evaluation as flat arrays (what a Ray worker sends back): ``fitness [T]`` float64,
    ``solved [T]`` bool and, after fine-tuning, ``weights [E]`` / ``biases [N]`` float64 in declaration order,
    topology after topology (an input's entry is unused)."""
    fitness: np.ndarray
    solved: np.ndarray
    weights: Optional[np.ndarray] = None
    biases: Optional[np.ndarray] = None
    timings: Dict[str, float] = field(default_factory=dict)
    worker: Optional[int] = None                      # the process that computed it (Ray: its pid)


def _weights(topologies: Sequence[Topology], w: np.ndarray, b: np.ndarray) -> List[Weights]:
    """:class:`Weights` keyed by topology ids from the flat arrays of :func:`mpnet.scale.population.trained_arrays`;
    frozen edges keep their declared numbers."""
    w_list, b_list = w.tolist(), b.tolist()
    out, e0, n0 = [], 0, 0
    for topo in topologies:
        edges, nodes = topo.edges, topo.nodes
        weights: Dict[EdgeKey, float] = {
            # a frozen edge always has a number (Topology refuses one without); the guard tells mypy so
            key: (e.weight if not e.trainable and e.weight is not None else w_list[e0 + i])
            for i, (key, e) in enumerate(edges.items())}
        biases: Dict[NodeId, float] = {n: b_list[n0 + i] for i, (n, node) in enumerate(nodes.items())
                                       if node.role != "input"}
        out.append(Weights(weights, biases))
        e0 += len(edges)
        n0 += len(nodes)
    return out


def read_back(net: Network) -> List[Weights]:
    """The current weights and biases of every topology of a batched ``net``, keyed by topology ids, in one
    pass over the parameters (``net.topology(i)`` for every ``i`` scans all edges ``T`` times and validates
    ``T`` new topologies). ``weights.apply(net.topologies[i])`` equals ``net.topology(i)``.

    Args:
        net: a batched network.

    Returns:
        One :class:`~mpnet.search.genome.Weights` per topology of ``net``.
    """
    return _weights(net.topologies[:net.num_graphs], *trained_arrays(net))


def evaluate_chunk(task: Task, topologies: Sequence[Topology], finetune: Optional[Finetune] = None,
                   generation: int = 0, dtype: torch.dtype = torch.float32, device: Device = None) -> ChunkResult:
    """Build one batched network of ``topologies`` on ``device``, fine-tune it if asked, score it with ``task``;
    the device is read once, at the end.

    Args:
        task: scores the networks.
        topologies: the chunk.
        finetune: the Lamarckian step (None: score the networks as they are).
        generation: passed to ``task.evaluate``.
        dtype: of the network.
        device: of the network (None: the CPU).

    Returns:
        The chunk's fitness and solved flags (and, with ``finetune``, its trained numbers) as arrays.

    Raises:
        TypeError: ``finetune`` with a task that has no ``data()`` and ``loss`` (not supervised).
    """
    t0 = time.perf_counter()
    columns = topologies.arrays() if isinstance(topologies, GenomeBatch) else None   # bred on arrays: no objects
    net = Network(columns if columns is not None else list(topologies), dtype=dtype, device=device)
    return score_chunk(task, net, finetune, generation, time.perf_counter() - t0)


def score_chunk(task: Task, net: Network, finetune: Optional[Finetune] = None, generation: int = 0,
                compile_s: float = 0.0) -> ChunkResult:
    """The rest of :func:`evaluate_chunk` once its batched network ``net`` is built (a Ray worker builds it
    from the packed columns): fine-tune it if asked, score it with ``task``.

    Args:
        compile_s: the seconds building ``net`` took (the result's ``compile`` timing).

    Returns:
        As :func:`evaluate_chunk`; the trained numbers in the declaration order of ``net``'s columns.
    """
    t1 = time.perf_counter()
    weights: Optional[np.ndarray] = None
    biases: Optional[np.ndarray] = None
    if finetune is not None:
        if not isinstance(task, _SupervisedTask):
            raise TypeError(f"Fine-tuning needs a supervised task (with data() and loss); {task.name!r} is not one. "
                            f"Evaluate without finetune.")
        X, Y = task.data()
        fit(net, X, Y, loss=task.loss, epochs=finetune.steps, lr=finetune.lr, optimizer=finetune.optimizer,
            progress=False)
        weights, biases = trained_arrays(net)
    t2 = time.perf_counter()
    with torch.no_grad():
        scores, flags = task.evaluate(net, generation)
        fitness, solved = scores.double().cpu().numpy(), flags.cpu().numpy()
    t3 = time.perf_counter()
    return ChunkResult(fitness, solved, weights, biases, {"compile": compile_s, "finetune": t2 - t1,
                                                          "forward": t3 - t2})


def evaluate_batch(task: Task, topologies: Sequence[Topology], finetune: Optional[Finetune] = None,
                   generation: int = 0, dtype: torch.dtype = torch.float32, device: Device = None) -> Evaluation:
    """Build one batched network of ``topologies``, fine-tune it if asked, and score it with ``task``.

    Args:
        task: scores the networks.
        topologies: the generation, as one batch.
        finetune: the Lamarckian step (None: score the networks as they are).
        generation: passed to ``task.evaluate``.
        dtype: of the network.
        device: of the network (None: the CPU).

    Returns:
        One fitness per topology (and, with ``finetune``, their trained weights).
    """
    batch = list(topologies)
    return assemble(batch, [evaluate_chunk(task, batch, finetune, generation, dtype, device)],
                    finetune is not None, task)


def chunk_bounds(count: int, chunk_size: Optional[int]) -> List[Tuple[int, int]]:
    """``[(start, stop)]`` cutting ``count`` topologies into chunks of ``chunk_size`` (the last one shorter;
    ``None``: one chunk). It depends on nothing else, which is what makes results independent of workers.

    Args:
        count: topologies in the generation.
        chunk_size: topologies per chunk (None: one chunk).

    Returns:
        The chunks' ``(start, stop)``, in order.

    Raises:
        ValueError: ``chunk_size`` is not an int >= 1 or None.
    """
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size < 1):
        raise ValueError(f"Expected chunk_size to be an int >= 1 or None (got {chunk_size!r}).")
    size = count if chunk_size is None else chunk_size
    return [(a, min(a + size, count)) for a in range(0, count, max(size, 1))]


def assemble(topologies: Sequence[Topology], parts: Sequence[ChunkResult], trained: bool,
             task: Optional[Task] = None) -> Evaluation:
    """One :class:`Evaluation` from the results of consecutive chunks of ``topologies``.

    Args:
        topologies: the generation.
        parts: the results of its chunks, in order.
        trained: the chunks were fine-tuned (their weights go into ``Evaluation.trained``).
        task: the driver's task, whose :meth:`~mpnet.search.tasks.Task.settle` decides the solved flags.

    Returns:
        The generation's evaluation.
    """
    fitness = np.concatenate([p.fitness for p in parts]) if parts else np.zeros(0)
    solved = np.concatenate([p.solved for p in parts]) if parts else np.zeros(0, bool)
    timings: Dict[str, float] = {}
    for p in parts:
        for k, v in p.timings.items():
            timings[k] = timings.get(k, 0.0) + v
    weights = None
    if trained:
        weights = _weights(topologies, np.concatenate([p.weights for p in parts if p.weights is not None]),
                           np.concatenate([p.biases for p in parts if p.biases is not None]))
    scores, flags = fitness.tolist(), solved.astype(bool).tolist()
    if task is not None:
        flags = task.settle(topologies, scores, flags)
    return Evaluation(scores, flags, weights, timings)


class Evaluator(ABC):
    """Scores generations; :meth:`close` frees what it holds (workers)."""

    @abstractmethod
    def evaluate(self, task: Task, topologies: Sequence[Topology], finetune: Optional[Finetune] = None,
                 generation: int = 0) -> Evaluation:
        """One fitness per topology (and, with ``finetune``, their trained weights).

        Args:
            task: scores the networks.
            topologies: the generation.
            finetune: the Lamarckian step (None: score the networks as they are).
            generation: passed to ``task.evaluate``.

        Returns:
            The generation's evaluation, in the order of ``topologies``.
        """

    def close(self) -> None:
        """Free what the evaluator holds (workers); nothing here."""

    def __enter__(self: _E) -> _E:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LocalEvaluator(Evaluator):
    """The generation in this process, one batched pass per chunk.

    Args:
        dtype: of the networks (float32 by default; float64 for exact hand-set numbers).
        device: of the networks and the task's tensors (``None``: the CPU), e.g. ``"cuda"``.
        chunk_size: topologies per batched network (``None``: the whole generation in one). The same
            ``chunk_size`` gives the same numbers as a :class:`~mpnet.search.RayEvaluator` (see the module
            docstring); one big chunk pays the per-level cost of a pass once instead of once per chunk.
    """

    def __init__(self, dtype: torch.dtype = torch.float32, device: Device = None,
                 chunk_size: Optional[int] = DEFAULT_CHUNK) -> None:
        chunk_bounds(1, chunk_size)   # checks it
        self.dtype, self.device, self.chunk_size = dtype, device, chunk_size

    def evaluate(self, task: Task, topologies: Sequence[Topology], finetune: Optional[Finetune] = None,
                 generation: int = 0) -> Evaluation:
        """One batched pass per chunk, in this process (see :meth:`Evaluator.evaluate`).

        Args:
            task: scores the networks.
            topologies: the generation.
            finetune: the Lamarckian step (None: score the networks as they are).
            generation: passed to ``task.evaluate``.

        Returns:
            The generation's evaluation, in the order of ``topologies``.
        """
        batch = topologies if isinstance(topologies, GenomeBatch) else list(topologies)
        parts = [evaluate_chunk(task, batch[a:b], finetune, generation, self.dtype, self.device)
                 for a, b in chunk_bounds(len(batch), self.chunk_size)]
        return assemble(batch, parts, finetune is not None, task)

    def __repr__(self) -> str:
        return f"LocalEvaluator(dtype={self.dtype}, device={self.device}, chunk_size={self.chunk_size})"
