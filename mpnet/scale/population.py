"""Training a population of topologies in chunks, in this process or across Ray workers (train stage).

Topologies share no parameters, so a population splits into chunks of ``chunk_size`` topologies, each one
batched :class:`~mpnet.Network` trained by :func:`~mpnet.fit` where it lands (:mod:`mpnet.scale.chunks`); the
trained numbers come back as flat arrays. Feed-forward topologies train on ``X [n, n_inputs]``; recurrent and
ctrnn ones (tied ones too) on sequences ``X [n, steps, n_inputs]``, with a target per step or for the last step,
as :func:`~mpnet.fit` takes them. Two things make a topology's result independent of who trains it and of how
many workers there are:

* its unset initial weights are drawn from its own index and ``seed`` (:func:`init_weights`), not from one
  stream over a batch;
* the chunks are cut by position alone, and a chunk is computed the same way in any process (a topology's
  last bits may depend on the rest of its batch, see :mod:`mpnet.search.evaluate`).

So ``train_population(..., workers=4)`` and ``train_population(...)`` (this process) give the same numbers,
bit for bit, for the same ``chunk_size`` (and torch threads per process); the workers stay up for the next
call (:mod:`mpnet.scale.population_ray`)::

    result = train_population(topologies, X, Y, epochs=200, lr=0.02, workers=4)
    result.history            # [epochs, T] loss per epoch, as fit returns it
    result.topology(17)       # topology 17 with its trained weights and biases
"""
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch import Tensor

from ..checks import as_tensor, check_bool, check_device, check_epochs, check_int, check_seed, describe
from ..engine.steps import check_times
from ..errors import ArgumentError, DataError
from ..graph.ties import own_parameter
from ..graph.topology import Topology
from .chunks import Chunk, LossFn, TiedValues, init_weights, train_chunk, trained_arrays
from .packed import pack
from .ray_pool import RayPool

__all__ = ["train_population", "Trained", "init_weights", "trained_arrays", "DEFAULT_CHUNK"]

#: topologies per chunk unless told otherwise
DEFAULT_CHUNK = 1000


@dataclass
class Trained:
    """A trained population: the topologies as given, their trained numbers as flat arrays (declaration order,
    topology after topology), the loss history and the final loss of each.

    Shapes:
        history: ``[epochs, T]`` (as :func:`~mpnet.fit` returns for a batch); loss: ``[T]``, float64, each
        topology's loss on all of ``(X, Y)`` after training; outputs (when asked): ``[T, n, n_outputs]``, or
        for sequences every step's, ``[T, n, steps, n_outputs]``; weights ``[E]`` (a tied edge's: the sum of its
        terms) and biases ``[N]``.
    """
    topologies: List[Topology]
    weights: np.ndarray
    biases: np.ndarray
    history: Tensor
    loss: Tensor
    outputs: Optional[Tensor] = None
    timings: Dict[str, float] = field(default_factory=dict)   # seconds: train (summed over chunks), wall
    workers: List[int] = field(default_factory=list)         # the process that trained each chunk
    tied: Dict[int, TiedValues] = field(default_factory=dict)   # a tied topology's own parameters and groups

    def __len__(self) -> int:
        return len(self.topologies)

    def topology(self, index: int) -> Topology:
        """Topology ``index`` with its trained weights and biases (frozen edges keep their numbers; a tied
        topology keeps its ties, with their trained values).

        Args:
            index: the topology's position in the population (negative counts from the end).

        Returns:
            A new topology with the trained numbers.

        Raises:
            IndexError: ``index`` out of range.
        """
        index = check_int(index, "index")
        if not -len(self) <= index < len(self):
            raise IndexError(f"Topology index {index} out of range: the population has {len(self)} topologies "
                             f"(valid: 0 .. {len(self) - 1}).")
        index %= len(self)
        e0, n0 = self._offsets()
        topo = self.topologies[index]
        w, b = self.weights[e0[index]:], self.biases[n0[index]:]
        biases = {n: float(b[i]) for i, (n, node) in enumerate(topo.nodes.items()) if node.role != "input"}
        if index in self.tied:
            own, groups = self.tied[index]
            edges = {key: float(value) for (key, e), value in zip(topo.edges.items(), own)
                     if e.trainable and value is not None and own_parameter(e.tie)}
            return topo.with_weights(edges, biases, {g: v for g, v in groups.items() if topo.ties[g].trainable})
        edges = {key: float(w[i]) for i, (key, e) in enumerate(topo.edges.items()) if e.trainable}
        return topo.with_weights(edges, biases)

    def _offsets(self) -> Tuple[List[int], List[int]]:
        if getattr(self, "_offs", None) is None:
            e = np.concatenate([[0], np.cumsum([t.num_edges for t in self.topologies])]).tolist()
            n = np.concatenate([[0], np.cumsum([t.num_nodes for t in self.topologies])]).tolist()
            self._offs = (e, n)
        return self._offs


def train_population(topologies: Sequence[Topology], X: Tensor, Y: Tensor, *, loss: Union[str, LossFn] = "mse",
                     epochs: int = 100, lr: Optional[float] = None,
                     optimizer: Union[str, torch.optim.Optimizer, Callable[..., torch.optim.Optimizer]] = "adam",
                     batch_size: Optional[int] = None, seed: int = 0, dtype: torch.dtype = torch.float32,
                     device: Union[torch.device, str, None] = None, chunk_size: int = DEFAULT_CHUNK,
                     workers: Union[int, RayPool, None] = None, outputs: bool = False,
                     ray: Optional[Dict[str, Any]] = None, advance_time: Optional[float] = None,
                     time_step: Optional[float] = None) -> Trained:
    """Train every topology on ``(X, Y)``, chunk by chunk, here or on Ray workers.

    Args:
        topologies: the population: feed-forward, recurrent or ctrnn topologies (tied ones too), all of one
            network type, sharing their numbers of inputs and outputs.
        X, Y, loss, epochs, lr, optimizer, batch_size: as for :func:`~mpnet.fit` (a callable ``loss`` or
            ``optimizer`` must be importable on the workers, or defined in the script). Recurrent topologies
            train on sequences: ``X [n, steps, n_inputs]``, ``Y [n, steps, n_outputs]`` (a target per step) or
            ``[n, n_outputs]`` (the last step's). ``X`` and ``Y`` with a leading ``T`` (one data set per
            topology, as :func:`~mpnet.fit` takes them) give each topology its own.
        seed: draws the unset initial weights (:func:`init_weights`) and the mini-batch shuffles.
        dtype, device: of each chunk's network (``device`` is the workers' when ``workers`` is an int; ``None``:
            ``"cuda"`` when ``ray`` asks for ``gpus_per_worker``, else the CPU).
        chunk_size: topologies per batched network; the numbers depend on it, never on ``workers``.
        workers: ``None``: train in this process; an int: that many Ray workers (optional extra ``ray``), started
            on the first call (joining the Ray this process runs, or starting one) and kept for the next call
            with the same settings (:func:`mpnet.scale.population_ray.release_workers` stops them); or a
            :class:`~mpnet.scale.ray_pool.RayPool` whose actors train chunks
            (:class:`~mpnet.scale.population_ray.Trainer`), used as it is and left running.
        outputs: also return each trained topology's outputs on ``X`` (every step's, for sequences).
        ray: options for the :class:`~mpnet.scale.ray_pool.RayPool` of ``workers=N`` (``address``,
            ``cpus_per_worker``, ``gpus_per_worker``, ``max_restarts``, ``threads_per_worker`` (default 1),
            ``ray.init`` keywords).
        advance_time, time_step: a ctrnn population's integration (as :class:`~mpnet.Network` takes them).

    Raises:
        ValueError: an empty population or a bad ``chunk_size``.
        DataError: one data set per topology, but not as many as topologies.
        ArgumentError: topologies of several network types, ``advance_time`` or ``time_step`` missing for
            ctrnn topologies or given for others, ``workers`` neither None, an int >= 1 nor a pool of trainers.

    Example:
        >>> import torch, mpnet
        >>> from mpnet.scale.population import train_population
        >>> topos = [mpnet.sample.random_dag(n_inputs=2, n_outputs=1, n_hidden=5, seed=s) for s in range(4)]
        >>> X = torch.rand(64, 2, generator=torch.Generator().manual_seed(0))
        >>> trained = train_population(topos, X, X.sum(1, keepdim=True), epochs=20)   # workers=8: on Ray
        >>> trained.history.shape                                   # [epochs, topologies]
        torch.Size([20, 4])
        >>> trained.topology(3).num_edges == topos[3].num_edges     # topology 3 with its trained weights
        True
    """
    topologies = _population(topologies)
    chunk_size = check_int(chunk_size, "chunk_size", min=1)
    pool = workers if isinstance(workers, RayPool) else None
    if pool is None:
        workers = _check_workers(workers)
    if ray is not None and not isinstance(workers, int):
        raise ArgumentError("ray= configures the Ray workers that workers=N starts; "
                            + ("a pool handed in is configured already: drop ray=." if pool is not None else
                               "workers=None trains in this process; give workers=N, or drop ray=."))
    check_epochs(epochs, len(topologies))          # the history [epochs, T] of the whole population
    seed, outputs, device = check_seed(seed), check_bool(outputs, "outputs"), check_device(device)
    if pool is not None and device is not None:
        raise ArgumentError(f"device='{device}': a pool's workers train on their own device; drop device= (or "
                            f"give workers=N to start workers on that device).")
    network = _network_kwargs(topologies[0].network_type, advance_time, time_step)
    t0 = time.perf_counter()
    fit_kwargs = dict(loss=loss, epochs=epochs, lr=lr, optimizer=optimizer, batch_size=batch_size, seed=seed,
                      progress=False)
    bounds = [(a, min(a + chunk_size, len(topologies))) for a in range(0, len(topologies), chunk_size)]
    X, Y = as_tensor(X, "X").detach().cpu(), as_tensor(Y, "Y").detach().cpu()
    own = _own_data(X, Y, len(topologies), topologies[0].recurrent)       # one data set per topology: sliced

    def data(a: int, b: int) -> Tuple[Tensor, Tensor]:
        return (X[a:b], Y[a:b]) if own else (X, Y)
    parts: List[Chunk]
    if workers is None:
        parts = [train_chunk(topologies[a:b], *data(a, b), fit_kwargs, seed=seed, start=a, dtype=dtype,
                             device=device, outputs=outputs, network=network) for a, b in bounds]
    else:
        from .population_ray import check_trainer_pool, trainer_pool
        if pool is None:
            assert isinstance(workers, int)
            options = dict(ray or {})
            where = str(device) if device is not None else ("cuda" if options.get("gpus_per_worker", 0) > 0
                                                            else "cpu")
            pool = trainer_pool(workers, dtype, where, options)
        check_trainer_pool(pool)
        call = {"dtype": str(dtype).replace("torch.", ""), "network": network}
        packed = pack(topologies)
        refs = None if own else (pool.put(X), pool.put(Y))                   # shared data: stored once
        chunks = [(*(refs or data(a, b)), a, packed.take(a, b)) for a, b in bounds]
        parts = pool.map("train", chunks, shared=(fit_kwargs, seed, outputs, call))
    tied: Dict[int, TiedValues] = {}
    for p in parts:
        tied.update(p.tied)
    return Trained(topologies, np.concatenate([p.weights for p in parts]), np.concatenate([p.biases for p in parts]),
                   torch.cat([p.history for p in parts], 1), torch.cat([p.loss for p in parts]),
                   torch.cat([p.outputs for p in parts if p.outputs is not None]) if outputs else None,
                   {"train": sum(p.seconds for p in parts), "wall": time.perf_counter() - t0},
                   [p.worker for p in parts], tied)


def _own_data(X: Tensor, Y: Tensor, T: int, recurrent: bool) -> bool:
    """Whether ``X`` holds one data set per topology (a leading ``T``, as :func:`~mpnet.fit` takes it), checked
    against the population's size."""
    if X.dim() != (4 if recurrent else 3):
        return False
    if X.shape[0] != T or Y.dim() == 0 or Y.shape[0] != T:
        raise DataError(f"X of shape {list(X.shape)} holds one data set per topology (its first dimension), so X and "
                        f"Y need one per topology of the population: {T} (got X {list(X.shape)}, Y "
                        f"{list(Y.shape)}).")
    return True


def _check_workers(workers: Any) -> Optional[int]:
    """``workers`` as None or an int >= 1, or an error saying what each choice means."""
    if workers is None or (isinstance(workers, int) and not isinstance(workers, bool) and workers >= 1):
        return workers
    raise ArgumentError(f"Expected workers to be None (train in this process), an int >= 1 (that many Ray "
                        f"workers) or a RayPool of trainers (got {describe(workers)}).")


def _network_kwargs(kind: str, advance_time: Optional[float], time_step: Optional[float]) -> Dict[str, Any]:
    """The Network keywords of a population of ``kind`` (a ctrnn's integration), checked here, before any chunk."""
    if kind != "ctrnn":
        if advance_time is not None or time_step is not None:
            raise ArgumentError(f"advance_time and time_step are for ctrnn topologies; these are {kind}.")
        return {}
    advance_time, time_step = check_times(advance_time, time_step)
    if advance_time is None or time_step is None:
        raise ArgumentError("ctrnn topologies need advance_time= and time_step= (how long each input is held, and "
                            "the integration step), as mpnet.Network takes them.")
    return {"advance_time": advance_time, "time_step": time_step}


def _population(topologies: Any) -> List[Topology]:
    """``topologies`` as a non-empty list of topologies of one network type, or an error naming what is wrong."""
    if isinstance(topologies, (Topology, str, bytes)) or not isinstance(topologies, Iterable):
        hint = " (one topology? pass [topology])" if isinstance(topologies, Topology) else ""
        raise ArgumentError(f"Expected topologies to be a list of Topology objects (got {describe(topologies)})"
                            f"{hint}.")
    topos = list(topologies)
    if not topos:
        raise ValueError("Expected at least one topology to train (got an empty population).")
    for i, t in enumerate(topos):
        if not isinstance(t, Topology):
            raise ArgumentError(f"Expected topologies to be Topology objects, but item {i} is {describe(t)}.")
        if t.network_type != topos[0].network_type:
            raise ArgumentError(f"A population trains on one kind of data, so its topologies share one network "
                                f"type: topology 0 is {topos[0].network_type}, topology {i} is {t.network_type} "
                                f"(train them as two populations).")
    return topos
