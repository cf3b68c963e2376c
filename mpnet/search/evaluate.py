"""Evaluating a generation: one batched :class:`~mpnet.Network` per generation (or per shard), optional
Lamarckian fine-tuning with :func:`mpnet.fit`, then the task's score (search stage; the compile step is the
only way search reaches tensors).

An :class:`Evaluator` takes ``(task, topologies, finetune, generation)`` and returns an :class:`Evaluation`.
:class:`LocalEvaluator` runs in this process; :class:`RayEvaluator` splits the generation into one shard per
Ray worker, each shard one batched pass.
"""
import os
import time
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence

import torch

from ..model import Network
from ..topology import Topology
from ..train import fit
from .genome import Weights
from .tasks import Task, from_dict as task_from_dict

__all__ = ["Finetune", "Evaluation", "Evaluator", "LocalEvaluator", "RayEvaluator", "evaluate_batch",
           "read_back"]


@dataclass(frozen=True)
class Finetune:
    """Lamarckian fine-tuning: every generation, ``steps`` full-batch optimizer steps on the whole batched
    population (each topology gets exactly the gradient of its own loss), before it is scored; the trained
    weights go back into the genomes. Fixed signs hold through training (mpnet's sign parametrization)."""
    steps: int = 20               # optimizer steps per generation
    lr: float = 0.05              # learning rate
    optimizer: str = "adam"       # "adam", "sgd" or "adamw"

    def __post_init__(self):
        if not isinstance(self.steps, int) or self.steps < 1:
            raise ValueError(f"Expected Finetune.steps to be an int >= 1 (got {self.steps!r}).")
        if not self.lr > 0:
            raise ValueError(f"Expected Finetune.lr > 0 (got {self.lr!r}).")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Evaluation:
    """What an evaluator returns for one generation, in the order of the topologies it was given."""
    fitness: List[float]
    solved: List[bool]
    trained: Optional[List[Weights]] = None           # the fine-tuned numbers (None without fine-tuning)
    timings: Dict[str, float] = field(default_factory=dict)   # seconds: compile, finetune, forward


def read_back(net: Network) -> List[Weights]:
    """The current weights and biases of every topology of a batched ``net``, keyed by topology ids, in one
    pass over the parameters (``net.topology(i)`` for every ``i`` scans all edges ``T`` times and validates
    ``T`` new topologies). ``weights.apply(net.topologies[i])`` equals ``net.topology(i)``."""
    T, num_inputs = net.num_graphs, net.plan.num_inputs
    weight = net.weight.detach().double().cpu()                 # [E] compiled order
    union_w = torch.empty_like(weight)
    union_w[net.data.edge_perm] = weight                        # declaration order, topology after topology
    bias = net.bias.detach().double().cpu()                     # [N - num_inputs] compiled rows
    union_b = torch.zeros(net.plan.num_nodes, dtype=torch.float64)
    union_b[net.data.node_perm[num_inputs:]] = bias
    w_list, b_list = union_w.tolist(), union_b.tolist()
    out, e0, n0 = [], 0, 0
    for topo in net.topologies[:T]:
        edges, nodes = topo.edges, topo.nodes
        weights = {key: (w_list[e0 + i] if e.trainable else e.weight) for i, (key, e) in enumerate(edges.items())}
        biases = {n: b_list[n0 + i] for i, (n, node) in enumerate(nodes.items()) if node.role != "input"}
        out.append(Weights(weights, biases))
        e0 += len(edges)
        n0 += len(nodes)
    return out


def evaluate_batch(task: Task, topologies: Sequence[Topology], finetune: Optional[Finetune] = None,
                   generation: int = 0, dtype: torch.dtype = torch.float32) -> Evaluation:
    """Build one batched network of ``topologies``, fine-tune it if asked, and score it with ``task``."""
    t0 = time.perf_counter()
    net = Network(list(topologies), dtype=dtype)
    t1 = time.perf_counter()
    trained = None
    if finetune is not None:
        X, Y = task.data()
        fit(net, X, Y, loss=task.loss, epochs=finetune.steps, lr=finetune.lr, optimizer=finetune.optimizer,
            progress=False)
        trained = read_back(net)
    t2 = time.perf_counter()
    with torch.no_grad():
        fitness, solved = task.evaluate(net, generation)
    t3 = time.perf_counter()
    return Evaluation([float(f) for f in fitness.tolist()], [bool(s) for s in solved.tolist()], trained,
                      {"compile": t1 - t0, "finetune": t2 - t1, "forward": t3 - t2})


class Evaluator(ABC):
    """Scores generations; :meth:`close` frees what it holds (workers)."""

    @abstractmethod
    def evaluate(self, task: Task, topologies: Sequence[Topology], finetune: Optional[Finetune] = None,
                 generation: int = 0) -> Evaluation:
        """One fitness per topology (and, with ``finetune``, their trained weights)."""

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class LocalEvaluator(Evaluator):
    """The whole generation in one batched pass in this process.

    Args:
        dtype: of the networks (float32 by default; float64 for exact hand-set numbers).
    """

    def __init__(self, dtype: torch.dtype = torch.float32):
        self.dtype = dtype

    def evaluate(self, task, topologies, finetune=None, generation=0) -> Evaluation:
        return evaluate_batch(task, topologies, finetune, generation, self.dtype)

    def __repr__(self) -> str:
        return f"LocalEvaluator(dtype={self.dtype})"


class _Worker:
    """A Ray actor: evaluates a shard given as JSON-ready dicts (no pickled mpnet objects cross the wire)."""

    def __init__(self, dtype_name: str, threads: Optional[int]):
        if threads:
            torch.set_num_threads(threads)
        self.dtype = getattr(torch, dtype_name)

    def evaluate(self, task: Mapping, topologies: List[Mapping], finetune: Optional[Mapping],
                 generation: int) -> dict:
        result = evaluate_batch(task_from_dict(task), [Topology.from_dict(t, warn=False) for t in topologies],
                                None if finetune is None else Finetune(**finetune), generation, self.dtype)
        return {"fitness": result.fitness, "solved": result.solved, "timings": result.timings, "pid": os.getpid(),
                "trained": None if result.trained is None else [w.to_dict() for w in result.trained]}


class RayEvaluator(Evaluator):
    """Each generation split into ``num_workers`` contiguous shards, one batched pass per Ray actor.

    Needs the optional extra ``ray`` (``pip install ray``). Topologies and tasks travel as JSON-ready dicts.

    Args:
        num_workers: actors (and shards).
        address: of a running Ray cluster (``None``: the one already initialised, else a new local one).
        dtype: of the networks.
        threads_per_worker: torch threads in each actor.
        cpus_per_worker: CPUs Ray reserves for each actor.
        **init_kwargs: passed to ``ray.init`` when this evaluator starts Ray (e.g. ``num_cpus=2``).
    """

    def __init__(self, num_workers: int = 2, *, address: Optional[str] = None, dtype: torch.dtype = torch.float32,
                 threads_per_worker: Optional[int] = 1, cpus_per_worker: float = 1, **init_kwargs):
        try:
            import ray
        except ImportError as err:
            raise ImportError("RayEvaluator needs Ray: pip install 'ray' (or mpnet's optional extra "
                              "'mpnet[ray]').") from err
        if num_workers < 1:
            raise ValueError(f"Expected num_workers >= 1 (got {num_workers}).")
        self._ray = ray
        self._owns = not ray.is_initialized()
        if self._owns:
            ray.init(address=address, **init_kwargs)
        actor = ray.remote(num_cpus=cpus_per_worker)(_Worker)
        self.num_workers = num_workers
        self.workers = [actor.remote(str(dtype).replace("torch.", ""), threads_per_worker)
                        for _ in range(num_workers)]
        self.last_pids: List[int] = []

    def evaluate(self, task, topologies, finetune=None, generation=0) -> Evaluation:
        topologies = list(topologies)
        bounds = [round(i * len(topologies) / self.num_workers) for i in range(self.num_workers + 1)]
        shards = [(a, b) for a, b in zip(bounds, bounds[1:]) if b > a]
        task_d = task.to_dict()
        ft = None if finetune is None else finetune.to_dict()
        futures = [w.evaluate.remote(task_d, [t.to_dict() for t in topologies[a:b]], ft, generation)
                   for w, (a, b) in zip(self.workers, shards)]
        parts = self._ray.get(futures)
        out = Evaluation([], [], [] if finetune is not None else None, {})
        for part in parts:
            out.fitness += part["fitness"]
            out.solved += part["solved"]
            if out.trained is not None:
                out.trained += [Weights.from_dict(w) for w in part["trained"]]
            for k, v in part["timings"].items():    # shards run in parallel: the slowest one counts
                out.timings[k] = max(out.timings.get(k, 0.0), v)
        self.last_pids = [p["pid"] for p in parts]
        return out

    def close(self) -> None:
        for w in self.workers:
            self._ray.kill(w)
        self.workers = []
        if self._owns and self._ray.is_initialized():
            self._ray.shutdown()

    def __repr__(self) -> str:
        return f"RayEvaluator(num_workers={self.num_workers})"
