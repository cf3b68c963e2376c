"""Fitting to the noise floor: many starts, basin hopping on the best, a float64 polish (sign inference, step 1).

A small network fitted once from a random start usually stops in a local minimum well above the noise
floor, and a sign read off such a fit means little. :func:`multistart` searches harder, in three phases,
every fit of a phase a row of one batched network:

1. **explore** — ``starts`` random starts with kinks inside the data (:func:`~mpnet.signs.moves.random_starts`),
   fitted by batched L-BFGS (:mod:`mpnet.signs.lbfgs`) on a subsample; the best ``keep`` go on to the full data.
2. **hop** — from each of the ``pool`` best distinct fits, every hidden neuron is redrawn twice
   (:func:`~mpnet.signs.moves.redraw_neurons`) and refitted; the pool keeps the best. Rounds continue until
   two in a row improve the best loss by less than 0.1 % (or ``rounds`` is reached).
3. **polish** — the pool is fitted to convergence on all the data.

The result holds the best fits and the noise floor (:mod:`mpnet.signs.noise`); it says when the loss is far above.

Recorded hidden neurons (``observed``, :class:`~mpnet.signs.inputs.Recorded`) enter every fit's loss: the mean over
every target and recorded value of its squared error, a recording's weighed by the outputs' noise variance over its
own, so that the loss at the noise floor is still the outputs' noise variance.
"""
import math
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Mapping, Optional, Tuple, Union

import torch
from torch import Tensor
from torch.types import Device

from ..checks import check_int
from ..errors import ArgumentError, DataError
from ..model import Network
from ..graph.elements import EdgeKey, NodeId
from ..graph.topology import Topology
from .lbfgs import minimize
from .moves import mirror_edges, random_starts, redraw_neurons
from .inputs import Recorded, Sequences, as_recordings, as_sequences, wiring_and_start
from .noise import NoiseEstimate, estimate_noise
from .population import Population, distinct as distinct   # distinct: also for the edge test

if TYPE_CHECKING:   # pragma: no cover
    from numpy.typing import ArrayLike   # the data: a tensor, an array or nested lists (what as_tensor takes)

__all__ = ["multistart", "MultistartResult", "Workspace", "Effort"]


@dataclass
class Effort:
    """How hard :func:`multistart` searches (defaults: a 30-edge network in tens of seconds on one core)."""
    starts: int = 128          # random starts explored
    subsample: int = 512       # samples the exploration fits on
    explore_iters: int = 150   # L-BFGS iterations per exploration fit (and per smoothing stage)
    keep: int = 32             # explored fits continued on all the data
    islands: int = 4           # independent pools the explored fits are dealt to
    pool: int = 2              # distinct best fits each island keeps between hop rounds
    redraws: int = 2           # redraws of each hidden neuron per pool member and round
    rounds: int = 10           # most hop rounds
    hop_iters: int = 150       # L-BFGS iterations per hop fit
    polish_iters: int = 1000   # L-BFGS iterations of the final polish
    smooth: Tuple[float, ...] = (2.0, 6.0, 20.0)   # ReLU -> softplus(beta z) / beta stages of the exploration

    def __post_init__(self) -> None:
        for name in ("starts", "subsample", "keep", "islands", "pool", "redraws"):
            check_int(getattr(self, name), f"Effort.{name}", min=1)
        for name in ("explore_iters", "rounds", "hop_iters", "polish_iters"):
            check_int(getattr(self, name), f"Effort.{name}", min=0)
        self.smooth = tuple(self.smooth)
        if any(not isinstance(b, (int, float)) or isinstance(b, bool) or not b > 0 for b in self.smooth):
            raise ArgumentError(f"Expected Effort.smooth to be positive numbers (got {self.smooth!r}).")

    @classmethod
    def quick(cls) -> "Effort":
        """About a quarter of the default work (tests, ``--quick`` benchmarks)."""
        return cls(starts=48, keep=12, islands=3, pool=2, redraws=1, rounds=4, hop_iters=100, polish_iters=400)


class Workspace:
    """One topology, its data, and the batched populations of each size built for it (compiling a batched
    network costs tens of milliseconds, so each size is built once)."""

    def __init__(self, topology: Topology, X: Tensor, Y: Tensor, *, dtype: torch.dtype = torch.float64,
                 device: Device = None, seed: int = 0, log: Optional[Callable[[str], None]] = None,
                 observed: Optional[Recorded] = None, sequences: Optional[Sequences] = None) -> None:
        self.topology, self.dtype, self.device = topology, dtype, device
        self.sequences = sequences      # a recurrent wiring's rows: flattened sequences (mpnet.signs.inputs)
        self.log = log or (lambda msg: None)
        self.X = torch.as_tensor(X).to(dtype=dtype, device=device)
        self.Y = torch.as_tensor(Y).to(dtype=dtype, device=device)     # the outputs' targets
        # what every fit is fitted to: the targets, then the recordings (NaN: not recorded), each column weighed
        # (weight) and the prediction divided by scale (the smoothed twin's recorded neurons are carried scaled)
        self.recorded = observed
        self.observed: List[NodeId] = observed.neurons if observed is not None else []
        self.targets = self.Y if observed is None else torch.cat([self.Y, observed.values.to(self.Y)], 1)
        self.weight = None if observed is None else torch.tensor([1.0] * self.Y.shape[1] + observed.weight).to(self.Y)
        self.scale = None if self.weight is None else torch.ones_like(self.weight)
        self.soft_cols = torch.zeros(0, dtype=torch.bool)   # the smoothed twin's: recorded neurons made softplus
        if observed is not None:
            self.log(f"recordings: {observed.describe()}")
        self.gen = torch.Generator().manual_seed(seed)
        self._pops: Dict[int, Population] = {}
        self.evaluations = 0     # member-fits run (rows times L-BFGS calls), for the report
        self._smooth: Optional[Tuple["Workspace", Tensor]] = None     # made by smoothed(), once
        self._smooth_made = False
        self._archive: List[Tuple[Tensor, Tensor]] = []    # (theta, loss on all the data) of every full fit

    def pop(self, size: int) -> Population:
        if size not in self._pops:
            self._pops[size] = Population(self.topology, size, dtype=self.dtype, device=self.device,
                                          observed=self.observed, sequences=self.sequences)
        return self._pops[size]

    def bounds(self, size: int) -> Tuple[Tensor, Tensor]:
        return self.pop(1).bounds(size)

    def subsample(self, n: int) -> Tuple[Tensor, Tensor]:
        if n >= self.X.shape[0]:
            return self.X, self.targets
        idx = torch.randperm(self.X.shape[0], generator=self.gen)[:n].to(self.X.device)
        return self.X[idx], self.targets[idx]

    def fit(self, theta: Tensor, lower: Optional[Tensor] = None, upper: Optional[Tensor] = None, *,
            iters: int = 200, data: Optional[Tuple[Tensor, Tensor]] = None, tol: float = 1e-10
            ) -> Tuple[Tensor, Tensor]:
        """Fit every row of ``theta`` (within its bounds; default the topology's) by batched L-BFGS;
        returns ``(theta, loss)`` with the loss on ``data`` (default: all the data)."""
        M = theta.shape[0]
        pop = self.pop(M)
        if lower is None:
            lower, upper = self.bounds(M)
        X, Y = data if data is not None else (self.X, self.targets)
        w, s = self.weight, self.scale
        self.evaluations += M
        theta, loss = minimize(lambda t: pop.loss_and_grad(t, X, Y, w, s), lambda t: pop.loss(t, X, Y, w, s), theta,
                               lower=lower, upper=upper, iters=iters, tol=tol)
        if data is None:
            self.remember(theta, loss)
        return theta, loss

    def remember(self, theta: Tensor, loss: Tensor) -> None:
        """Keep fits (on all the data) in the archive: every fit of the wiring, constrained or not, is a
        candidate witness for the sign test (a fit whose ``w_e`` already has the other sign)."""
        self._archive.append((theta.detach().clone(), loss.detach().clone()))

    def witnesses(self, col: int, weight: float, k: int) -> Tensor:
        """The ``k`` best archived fits whose entry ``col`` lies on the other side of zero from ``weight``
        (``[<= k, P]``)."""
        if not self._archive:
            return torch.empty(0, self.pop(1).P, dtype=self.dtype, device=self.X.device)
        theta = torch.cat([t for t, _ in self._archive])
        loss = torch.cat([l for _, l in self._archive])
        other = theta[:, col] * (1.0 if weight > 0 else -1.0) <= 0
        theta, loss = theta[other], loss[other]
        return theta[torch.argsort(loss)[:k]]

    def loss(self, theta: Tensor) -> Tensor:
        return self.pop(theta.shape[0]).loss(theta, self.X, self.targets, self.weight, self.scale)

    def smoothed(self) -> Optional[Tuple["Workspace", Tensor]]:
        """The twin workspace whose ReLU neurons are softplus, and the per-entry exponent ``k`` of the
        reparametrisation (``theta_twin = theta * beta ** k``) under which the twin computes
        ``softplus(beta z) / beta`` in place of ``relu(z)``; ``None`` when no hidden neuron is a ReLU.

        A smoothed neuron's output is carried scaled by ``beta``: an edge ``a -> b`` is multiplied by
        ``beta_b / beta_a`` and a smoothed neuron's bias by ``beta`` (``beta_n = beta`` for smoothed neurons,
        1 for the others), so the twin's pre-activations are ``beta`` times the original's."""
        if not self._smooth_made:
            topo = self.topology
            soft = {n for n, node in topo.nodes.items() if node.role == "hidden" and node.activation == "relu"}
            if soft:
                twin = Topology([replace(n, activation="softplus") if n.id in soft else n
                                 for n in topo.nodes.values()], list(topo.edges.values()), warn=False,
                                recurrent=topo.network_type, ties=list(topo.ties.values()))
                ws = Workspace(twin, self.X, self.Y, dtype=self.dtype, device=self.device, observed=self.recorded,
                               sequences=self.sequences)
                ws.gen, ws.log = self.gen, self.log
                ws.soft_cols = torch.tensor([False] * self.Y.shape[1] + [v in soft for v in self.observed],
                                            device=self.X.device)
                p = self.pop(1)
                k = torch.zeros(p.P, dtype=self.dtype, device=self.X.device)
                for i, (a, b) in enumerate(p.keys):
                    k[i] = float(b in soft) - float(a in soft)
                for n in soft:
                    k[p.col[n]] = 1.0
                self._smooth = (ws, k)
            self._smooth_made = True
        return self._smooth


def _moves(ws: Workspace, theta: Tensor, lower: Tensor, upper: Tensor, redraws: int) -> Tensor:
    """Hop candidates from pool rows ``theta [R, P]`` (bounds ``[R, P]``): per row, each hidden neuron redrawn
    ``redraws`` times and each trainable edge mirrored once; ``[R * per, P]`` grouped by row."""
    topo, p = ws.topology, ws.pop(1)
    hidden = [n for n, node in topo.nodes.items() if node.role == "hidden"]
    edges = [p.edge_col[k] for k, e in topo.edges.items() if e.trainable]
    n_redraw, per = len(hidden) * redraws, len(hidden) * redraws + len(edges)
    R, P = theta.shape
    starts = theta.repeat_interleave(per, 0).view(R, per, P)
    lo, hi = lower.repeat_interleave(per, 0).view(R, per, P), upper.repeat_interleave(per, 0).view(R, per, P)
    if n_redraw:
        nodes = [n for _ in range(R) for n in hidden for _ in range(redraws)]
        s0, l0, h0 = (x[:, :n_redraw].reshape(-1, P) for x in (starts, lo, hi))
        starts[:, :n_redraw] = redraw_neurons(ws.pop(R * n_redraw), s0, ws.X, nodes, ws.gen, l0, h0).view(R, -1, P)
    if edges:
        part = [x[:, n_redraw:].reshape(-1, P) for x in (starts, lo, hi)]
        starts[:, n_redraw:] = mirror_edges(part[0], edges * R, part[1], part[2]).view(R, -1, P)
    return starts.reshape(-1, P)


def hop(ws: Workspace, theta: Tensor, loss: Tensor, effort: Effort, lower: Tensor, upper: Tensor,
        rounds: Optional[int] = None, redraws: Optional[int] = None, stop: Optional[Tensor] = None
        ) -> Tuple[Tensor, Tensor]:
    """Basin hopping for ``G`` problems at once, each a pool of fits ``theta [G, K, P]`` with losses
    ``[G, K]`` and its own bounds ``lower``/``upper`` ``[G, P]``. From every pool member, every hidden neuron
    is redrawn ``redraws`` times (default ``effort.redraws``) and every trainable edge mirrored; the
    candidates are refitted on a subsample, the best ``2 K`` per problem on all the data, and each pool keeps
    its best distinct ``K``. A problem stops after two rounds that improve its best loss by less than 0.1 %,
    or once its best loss is at most ``stop[g]`` (``[G]``, if given); all stop after ``rounds`` (default
    ``effort.rounds``)."""
    G, K, P = theta.shape
    redraws = effort.redraws if redraws is None else redraws
    theta, loss = theta.clone(), loss.clone()
    stale = torch.zeros(G, dtype=torch.long)

    def done() -> Tensor:      # ``stop [G]``: a problem whose best loss reaches it is done
        return loss[:, 0].cpu() <= stop if stop is not None else torch.zeros(G, dtype=torch.bool)
    stale = torch.where(done(), 2, stale)
    for r in range(effort.rounds if rounds is None else rounds):
        live = torch.nonzero(stale < 2).view(-1)
        if live.numel() == 0:
            break
        g = live.numel()
        lo_rows = lower[live].repeat_interleave(K, 0)
        hi_rows = upper[live].repeat_interleave(K, 0)
        starts = _moves(ws, theta[live].reshape(-1, P), lo_rows, hi_rows, redraws)
        per = starts.shape[0] // (g * K)
        if per == 0:
            break
        lo, hi = lower[live].repeat_interleave(K * per, 0), upper[live].repeat_interleave(K * per, 0)
        cand, cand_loss = ws.fit(starts, lo, hi, iters=effort.hop_iters // 2, data=ws.subsample(effort.subsample))
        take = min(2 * K, K * per)
        best = torch.argsort(cand_loss.view(g, -1), dim=1)[:, :take]                    # [g, take]
        cand = cand.view(g, K * per, P).gather(1, best[:, :, None].expand(-1, -1, P)).reshape(-1, P)
        lo, hi = lower[live].repeat_interleave(take, 0), upper[live].repeat_interleave(take, 0)
        cand, cand_loss = ws.fit(cand, lo, hi, iters=2 * effort.hop_iters)
        before = loss[live, 0].clone()
        new_theta, new_loss = distinct(torch.cat([theta[live], cand.view(g, take, P)], 1),
                                       torch.cat([loss[live], cand_loss.view(g, take)], 1), K)
        theta[live], loss[live] = new_theta, new_loss
        gained = new_loss[:, 0] < before * (1 - 1e-3)
        stale[live] = torch.where(gained, 0, stale[live] + 1)
        stale = torch.where(done(), 2, stale)
        ws.log(f"hop round {r}: {g} problem(s), best loss {float(new_loss[:, 0].min()):.4g}")
    return theta, loss


@dataclass
class MultistartResult:
    """The outcome of :func:`multistart`: the best fits, their losses, and the noise floor."""
    topology: Topology                 # the wiring that was fitted
    theta: Tensor                      # [K, P] the best distinct fits, best first (see Population)
    loss: Tensor                       # [K] their mean squared errors on all the data
    noise: NoiseEstimate
    seconds: float
    fits: int                          # member-fits run
    keys: List[EdgeKey] = field(default_factory=list)
    node_ids: List[NodeId] = field(default_factory=list)
    sequences: Optional[Sequences] = None     # a recurrent wiring's data layout (and a ctrnn's times)

    @property
    def best_loss(self) -> float:
        return float(self.loss[0])

    @property
    def floor_ratio(self) -> float:
        """Best loss over the estimated noise variance: about 1 at the noise floor."""
        return self.best_loss / max(self.noise.variance, 1e-300)

    @property
    def quality(self) -> str:
        """``"at the noise floor"`` (ratio <= 1.5), ``"near the noise floor"`` (<= 3) or ``"poor"``."""
        r = self.floor_ratio
        return "at the noise floor" if r <= 1.5 else "near the noise floor" if r <= 3 else "poor"

    def weights(self, index: int = 0) -> Dict[EdgeKey, float]:
        """``{key: value}`` of fit ``index``'s weight columns: an edge's own weight, or a tie group's value under
        the key of the edge that reports it (:class:`~mpnet.signs.population.Population`)."""
        row = self.theta[index].tolist()
        return {k: row[i] for i, k in enumerate(self.keys)}

    def biases(self, index: int = 0) -> Dict[NodeId, float]:
        row = self.theta[index].tolist()
        return {n: row[len(self.keys) + i] for i, n in enumerate(self.node_ids)}

    def best_topology(self, index: int = 0) -> Topology:
        """The wiring with fit ``index``'s weights, tie values and biases (frozen ones keep their declared value)."""
        return Population(self.topology, 1, sequences=self.sequences).topology_of(self.theta[index])

    def network(self, index: int = 0, **kw: Any) -> Network:
        """A :class:`~mpnet.Network` holding fit ``index`` (``kw``: the Network's own keyword arguments; a ctrnn's
        ``advance_time`` and ``time_step`` default to those it was fitted with)."""
        seq = self.sequences
        if seq is not None and seq.network_type == "ctrnn":
            kw = {"advance_time": seq.advance_time, "time_step": seq.time_step, **kw}
        return Network(self.best_topology(index), **kw)

    def summary(self) -> str:
        msg = (f"best loss {self.best_loss:.4g} = {self.floor_ratio:.2f} x the noise floor ({self.noise}): "
               f"{self.quality}")
        if self.quality == "poor":
            msg += ("; the fit is far from the noise floor, so conclusions drawn from it are weak (more starts or "
                    "rounds, or a wiring that can express the data)")
        return msg


def search(ws: Workspace, effort: Effort, extra: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
    """Explore, hop and polish (the module docstring's phases); ``extra`` ``[k, P]`` rows are added to the
    random starts. Returns the polished pool ``(theta, loss)``, best first."""
    n = effort.starts
    lo, hi = ws.bounds(n)
    starts = random_starts(ws.pop(n), ws.X, ws.gen, lo, hi)
    if extra is not None and extra.numel():
        starts[:extra.shape[0]] = extra[:n]
    data = ws.subsample(effort.subsample)
    twin = ws.smoothed() if effort.smooth else None
    if twin is not None:   # continuation: softplus(beta z) / beta with growing beta, then the ReLU itself
        soft_ws, k = twin
        for beta in effort.smooth:
            if soft_ws.scale is not None:   # a smoothed recorded neuron computes beta times its value
                soft_ws.scale = torch.where(soft_ws.soft_cols, beta, 1.0).to(soft_ws.scale)
            scale = beta ** k
            lo, hi = (b * scale for b in ws.bounds(n))      # scales are positive: bounds keep their sides
            theta, _ = soft_ws.fit(starts * scale, lo, hi, iters=effort.explore_iters, data=data)
            ws.evaluations += n
            starts = theta / scale
    theta, loss = ws.fit(starts, iters=effort.explore_iters, data=data)
    ws.remember(theta, ws.loss(theta))
    # islands: the explored fits are dealt round-robin (by rank) to independent pools, so one sticky local
    # minimum cannot take over the whole search (a single pool collapsed into copies of one on the question
    # network in 2 of 3 seeds)
    G = max(1, min(effort.islands, effort.keep))
    best = torch.argsort(loss)[:effort.keep // G * G]
    theta, loss = ws.fit(theta[best], iters=2 * effort.hop_iters)
    rank = torch.argsort(loss)
    islands = rank.view(-1, G).t()                                 # [G, keep / G], island g: ranks g, g + G, ...
    theta, loss = distinct(theta[islands], loss[islands], effort.pool)
    ws.log(f"explored {n} starts: best loss {float(loss.min()):.4g}")
    lo, hi = ws.bounds(G)
    theta, loss = hop(ws, theta, loss, effort, lo, hi)
    theta, loss = distinct(theta.reshape(1, -1, theta.shape[2]), loss.reshape(1, -1), G * effort.pool)
    theta, loss = ws.fit(theta[0], iters=effort.polish_iters, tol=1e-13)
    order = torch.argsort(loss)
    if not math.isfinite(float(loss[order[0]])):
        rec = "" if ws.weight is None else f" or the recordings (weighed {ws.weight.tolist()}: give observed_noise)"
        raise DataError(f"Every fit's loss is {float(loss[order[0]])}: the data{rec} overflow float64; scale them to "
                        f"units near 1.")
    return theta[order], loss[order]


def multistart(topology: Union[Topology, Network], X: "ArrayLike", Y: "ArrayLike", *,
               effort: Optional[Effort] = None, seed: int = 0, noise_std: Optional[float] = None,
               observed: Optional[Mapping[NodeId, Any]] = None, observed_noise: Optional[Mapping[NodeId, float]] = None,
               dtype: torch.dtype = torch.float64, device: Device = None,
               log: Optional[Callable[[str], None]] = None, advance_time: Optional[float] = None,
               time_step: Optional[float] = None) -> MultistartResult:
    """Fit ``topology`` to ``(X, Y)`` (mean squared error) from many starts, hard enough to reach the noise
    floor on small networks, and say how close it came.

    Args:
        topology: the wiring, or a single-topology :class:`~mpnet.Network` whose current weights become one
            of the starts (as do a topology's declared weights when it sets them all).
        X, Y: ``[n, n_inputs]`` and ``[n, n_outputs]`` (or ``[n]`` for one output); for a recurrent wiring,
            sequences as :func:`mpnet.fit` takes them: ``[n, steps, n_inputs]`` and ``[n, steps, n_outputs]`` or
            ``[n, n_outputs]`` (the last step).
        effort: the search's sizes (:class:`Effort`; ``Effort.quick()`` for a fast rough answer).
        seed: seeds every random draw; the same seed gives the same result.
        noise_std: the noise level of ``Y`` if known; otherwise estimated (:mod:`mpnet.signs.noise`).
        observed: recordings of hidden neurons, ``{neuron: [n] values}`` aligned with the rows of ``X`` (NaN
            where a sample was not recorded): the neuron's activation is fitted to them too (module docstring).
        observed_noise: ``{recorded neuron: noise std}``; a neuron not named has its noise estimated from its
            recorded samples like the outputs'.
        dtype, device: of the fits (float64 by default).
        log: called with a line per phase (e.g. ``print``).
        advance_time, time_step: a ctrnn wiring's (see :class:`~mpnet.Network`; a Network's own by default).

    Returns:
        a :class:`MultistartResult`; ``result.network()`` is the best fit as a Network, ``result.summary()``
        its loss beside the noise floor.
    """
    t0 = time.time()
    topo, start = wiring_and_start(topology, sequences=True)
    X, Y, sequences = as_sequences(X, Y, topo, topology, advance_time=advance_time, time_step=time_step)
    recorded = as_recordings(observed, observed_noise, topo, X, Y, noise_std, sequences)
    ws = Workspace(topo, X, Y, dtype=dtype, device=device, seed=seed, log=log, observed=recorded,
                   sequences=sequences)
    extra = ws.pop(1).theta_of(start)[None] if start is not None else None
    extra = None if extra is None or bool(torch.isnan(extra).any()) else extra
    theta, loss = search(ws, effort or Effort(), extra)
    noise = estimate_noise(ws.X, ws.Y, noise_std=noise_std)
    p = ws.pop(1)
    return MultistartResult(topo, theta, loss, noise, time.time() - t0, ws.evaluations, p.keys, p.node_ids,
                            sequences)
