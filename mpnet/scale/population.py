"""Training a population of topologies in chunks, in this process or across Ray workers (train stage).

Topologies share no parameters, so a population splits into chunks of ``chunk_size`` topologies, each one
batched :class:`~mpnet.Network` trained by :func:`~mpnet.fit` where it lands; the trained numbers come back as
flat arrays. Two things make a topology's result independent of who trains it and of how many workers
there are:

* its unset initial weights are drawn from its own index and ``seed`` (:func:`init_weights`), not from one
  stream over a batch;
* the chunks are cut by position alone, and a chunk is computed the same way in any process (a topology's
  last bits may depend on the rest of its batch, see :mod:`mpnet.search.evaluate`).

So ``train_population(..., workers=4)`` and ``train_population(...)`` (this process) give the same numbers,
bit for bit, for the same ``chunk_size`` (and torch threads per process)::

    result = train_population(topologies, X, Y, epochs=200, lr=0.02, workers=4)
    result.history            # [epochs, T] loss per epoch, as fit returns it
    result.topology(17)       # topology 17 with its trained weights and biases
"""
import math
import os
import random
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch import Tensor

from ..checks import as_tensor, check_bool, check_device, check_epochs, check_int, check_seed, describe
from ..errors import ArgumentError
from ..model import Network
from .packed import Packed, pack, unpack
from ..graph.topology import EdgeKey, NodeId, Topology
from ..train import LOSSES, fit

__all__ = ["train_population", "Trained", "init_weights", "trained_arrays", "DEFAULT_CHUNK"]

#: topologies per chunk unless told otherwise
DEFAULT_CHUNK = 1000

LossFn = Callable[[Tensor, Tensor], Tensor]   # (pred, target) -> [T] or a scalar, as fit takes it


def init_weights(topologies: Sequence[Topology], seed: int = 0, start: int = 0) -> List[Topology]:
    """The topologies with every unset weight drawn as :class:`~mpnet.Network` draws it,
    ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` (a fixed sign keeps the magnitude), from a stream of its own:
    topology ``i`` of the list uses ``random.Random(f"{seed}/{start + i}")``, whatever else is around it.

    Args:
        topologies: the population, or a chunk of it.
        seed: the population's seed.
        start: the index of ``topologies[0]`` in the population.

    Returns:
        The topologies, each with every weight set (one without unset weights is returned as is).
    """
    out = []
    for i, topo in enumerate(topologies):
        edges = topo.edges
        unset = [key for key, e in edges.items() if e.weight is None]
        if not unset:
            out.append(topo)
            continue
        fan_in: Dict[NodeId, int] = {}
        for _, dst in edges:
            fan_in[dst] = fan_in.get(dst, 0) + 1
        rng = random.Random(f"{seed}/{start + i}")
        drawn: Dict[EdgeKey, float] = {}
        for key in unset:
            w = (rng.random() * 2 - 1) / math.sqrt(fan_in[key[1]])
            sign = edges[key].sign
            drawn[key] = abs(w) if sign == "+" else -abs(w) if sign == "-" else w
        out.append(topo.with_weights(drawn))
    return out


def trained_arrays(net: Network) -> Tuple[np.ndarray, np.ndarray]:
    """The weights ``[E]`` and biases ``[N]`` (0 for inputs) of ``net`` in declaration order, topology after
    topology, as float64 numpy arrays (one device read each).

    Args:
        net: a (batched) network.

    Returns:
        ``(weights, biases)``: ``[E]`` and ``[N]``, float64.
    """
    num_inputs = net.plan.num_inputs
    weight = net.weight.detach().double().cpu()                 # [E] compiled order
    union_w = torch.empty_like(weight)
    union_w[net.data.edge_perm] = weight                        # declaration order, topology after topology
    bias = net.bias.detach().double().cpu()                     # [N - num_inputs] compiled rows
    union_b = torch.zeros(net.plan.num_nodes, dtype=torch.float64)
    union_b[net.data.node_perm[num_inputs:]] = bias
    return union_w.numpy(), union_b.numpy()


@dataclass
class _Chunk:
    """One trained chunk, as flat arrays (what a worker sends back)."""
    weights: np.ndarray              # [E] float64, declaration order
    biases: np.ndarray               # [N] float64
    history: Tensor                  # [epochs, T]
    loss: Tensor                     # [T]
    outputs: Optional[Tensor]        # [T, n, n_out]
    seconds: float
    worker: int = 0


def train_chunk(topologies: Sequence[Topology], X: Tensor, Y: Tensor, fit_kwargs: Dict[str, Any], *, seed: int,
                start: int, dtype: torch.dtype, device: Union[torch.device, str, None] = None,
                outputs: bool = False) -> _Chunk:
    """Train one chunk (topologies ``start ..`` of the population) as one batched network on ``device``."""
    t0 = time.perf_counter()
    net = Network(init_weights(topologies, seed, start), dtype=dtype, device=device)
    history = fit(net, X, Y, **fit_kwargs)
    with torch.no_grad():
        final, pred = _final_loss(net, X, Y, fit_kwargs.get("loss", "mse"))
    w, b = trained_arrays(net)
    return _Chunk(w, b, history.reshape(history.shape[0], -1), final.reshape(-1), pred.cpu() if outputs else None,
                  time.perf_counter() - t0,
                  os.getpid())


def _final_loss(net: Network, X: Tensor, Y: Tensor,
                loss: Union[str, LossFn]) -> Tuple[Tensor, Tensor]:
    """Each topology's loss ``[T]`` (float64, on the host) on all of ``(X, Y)``, with the targets shaped as
    :func:`~mpnet.fit` shapes them, and the outputs ``[T, n, n_out]``."""
    loss_fn = LOSSES[loss] if isinstance(loss, str) else loss
    x = X.to(dtype=net.bias.dtype, device=net.bias.device)
    y = Y.to(device=net.bias.device)
    if loss_fn is not LOSSES["cross_entropy"]:
        y = y.to(net.bias.dtype)
        if y.dim() == x.dim() - 1 and net.plan.n_out == 1:
            y = y.unsqueeze(-1)
    pred = net(x)                                              # [T, n, n_out] (a list of topologies: batched)
    per = loss_fn(pred, y)
    return per.expand(net.num_graphs).double().cpu(), pred


class _Trainer:
    """A Ray actor: trains packed chunks on its device."""

    def __init__(self, dtype_name: str, device: str, threads: Optional[int]) -> None:
        if threads:
            torch.set_num_threads(threads)
        self.dtype, self.device = getattr(torch, dtype_name), torch.device(device)

    def train(self, X: Tensor, Y: Tensor, fit_kwargs: Dict[str, Any], seed: int, outputs: bool, start: int,
              packed: Packed) -> _Chunk:
        return train_chunk(unpack(packed), X, Y, fit_kwargs, seed=seed, start=start, dtype=self.dtype,
                           device=self.device, outputs=outputs)


@dataclass
class Trained:
    """A trained population: the topologies as given, their trained numbers as flat arrays (declaration order,
    topology after topology), the loss history and the final loss of each.

    Shapes:
        history: ``[epochs, T]`` (as :func:`~mpnet.fit` returns for a batch); loss: ``[T]``, float64, each
        topology's loss on all of ``(X, Y)`` after training; outputs: ``[T, n, n_outputs]`` (when asked).
    """
    topologies: List[Topology]
    weights: np.ndarray
    biases: np.ndarray
    history: Tensor
    loss: Tensor
    outputs: Optional[Tensor] = None
    timings: Dict[str, float] = field(default_factory=dict)   # seconds: train (summed over chunks), wall
    workers: List[int] = field(default_factory=list)         # the process that trained each chunk

    def __len__(self) -> int:
        return len(self.topologies)

    def topology(self, index: int) -> Topology:
        """Topology ``index`` with its trained weights and biases (frozen edges keep their numbers).

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
        edges = {key: float(w[i]) for i, (key, e) in enumerate(topo.edges.items()) if e.trainable}
        biases = {n: float(b[i]) for i, (n, node) in enumerate(topo.nodes.items()) if node.role != "input"}
        return topo.with_weights(edges, biases)

    def _offsets(self) -> Tuple[List[int], List[int]]:
        if getattr(self, "_offs", None) is None:
            e = np.concatenate([[0], np.cumsum([t.num_edges for t in self.topologies])]).tolist()
            n = np.concatenate([[0], np.cumsum([t.num_nodes for t in self.topologies])]).tolist()
            self._offs = (e, n)
        return self._offs


def train_population(topologies: Sequence[Topology], X: Tensor, Y: Tensor, *, loss: Union[str, LossFn] = "mse",
                     epochs: int = 100, lr: float = 0.01,
                     optimizer: Union[str, torch.optim.Optimizer, Callable[..., torch.optim.Optimizer]] = "adam",
                     batch_size: Optional[int] = None, seed: int = 0, dtype: torch.dtype = torch.float32,
                     device: Union[torch.device, str, None] = None,
                     chunk_size: int = DEFAULT_CHUNK, workers: Optional[int] = None, outputs: bool = False,
                     ray: Optional[Dict[str, Any]] = None) -> Trained:
    """Train every topology on ``(X, Y)``, chunk by chunk, here or on ``workers`` Ray workers.

    Args:
        topologies: the population (they must share their numbers of inputs and outputs).
        X, Y, loss, epochs, lr, optimizer, batch_size: as for :func:`~mpnet.fit` (a callable ``loss`` or
            ``optimizer`` must be importable on the workers, or defined in the script).
        seed: draws the unset initial weights (:func:`init_weights`) and the mini-batch shuffles.
        dtype, device: of each chunk's network (``device`` is the workers' when ``workers`` is given; ``None``:
            ``"cuda"`` when ``ray`` asks for ``gpus_per_worker``, else the CPU).
        chunk_size: topologies per batched network; the numbers depend on it, never on ``workers``.
        workers: ``None``: train in this process; an int: that many Ray actors (optional extra ``ray``).
        outputs: also return each trained topology's outputs on ``X``.
        ray: options for :class:`~mpnet.scale.ray_pool.RayPool` (``address``, ``cpus_per_worker``,
            ``gpus_per_worker``, ``max_restarts``, ``threads_per_worker`` (default 1), ``ray.init`` keywords).

    Raises:
        ValueError: an empty population or a bad ``chunk_size``.

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
    workers = check_int(workers, "workers", min=1, allow_none=True)
    if ray is not None and workers is None:
        raise ArgumentError("ray= configures the Ray workers, but workers=None trains in this process; give "
                            "workers=N, or drop ray=.")
    check_epochs(epochs, len(topologies))          # the history [epochs, T] of the whole population
    seed, outputs, device = check_seed(seed), check_bool(outputs, "outputs"), check_device(device)
    t0 = time.perf_counter()
    fit_kwargs = dict(loss=loss, epochs=epochs, lr=lr, optimizer=optimizer, batch_size=batch_size, seed=seed,
                      progress=False)
    bounds = [(a, min(a + chunk_size, len(topologies))) for a in range(0, len(topologies), chunk_size)]
    X, Y = as_tensor(X, "X").detach().cpu(), as_tensor(Y, "Y").detach().cpu()
    if workers is None:
        parts = [train_chunk(topologies[a:b], X, Y, fit_kwargs, seed=seed, start=a, dtype=dtype, device=device,
                             outputs=outputs) for a, b in bounds]
    else:
        parts = _on_ray(topologies, bounds, X, Y, fit_kwargs, seed, dtype, device, workers, outputs, dict(ray or {}))
    return Trained(topologies, np.concatenate([p.weights for p in parts]), np.concatenate([p.biases for p in parts]),
                   torch.cat([p.history for p in parts], 1), torch.cat([p.loss for p in parts]),
                   torch.cat([p.outputs for p in parts if p.outputs is not None]) if outputs else None,
                   {"train": sum(p.seconds for p in parts), "wall": time.perf_counter() - t0},
                   [p.worker for p in parts])


def _population(topologies: Any) -> List[Topology]:
    """``topologies`` as a non-empty list of feed-forward topologies, or an error naming what is wrong."""
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
        if t.recurrent:
            raise ArgumentError(f"train_population trains feed-forward topologies; topology {i} is {t.network_type} "
                                f"(train its sequences with mpnet.fit(mpnet.Network(topologies), X, Y), X [n, steps, "
                                f"n_inputs]).")
    return topos


def _on_ray(topologies: List[Topology], bounds: List[Tuple[int, int]], X: Tensor, Y: Tensor,
            fit_kwargs: Dict[str, Any], seed: int, dtype: torch.dtype, device: Union[torch.device, str, None],
            workers: int, outputs: bool, options: Dict[str, Any]) -> List[_Chunk]:
    from .ray_pool import RayPool
    threads = options.pop("threads_per_worker", 1)
    device = str(device) if device is not None else ("cuda" if options.get("gpus_per_worker", 0) > 0 else "cpu")
    packed = pack(topologies)
    with RayPool(_Trainer, workers, args=(str(dtype).replace("torch.", ""), device, threads), **options) as pool:
        shared = (pool.put(X), pool.put(Y), fit_kwargs, seed, outputs)        # stored once for every chunk
        return pool.map("train", [(a, packed.take(a, b)) for a, b in bounds], shared=shared)
