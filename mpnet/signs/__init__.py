"""Sign inference: is each connection positive or negative, and how sure can the data make us? (sixth stage)

Two methods, one report (:class:`SignReport`):

* ``method="refit"`` (default, :mod:`~mpnet.signs.refit`): fit the wiring to the noise floor from many starts
  (:mod:`~mpnet.signs.fitting`), then refit with each edge's sign forced the other way
  (:mod:`~mpnet.signs.edgetest`); a sign is called when forcing it costs loss beyond what optimisation failure
  explains, with a confidence calibrated on simulated teachers (:mod:`~mpnet.signs.calibration`).
* ``method="ensemble"`` (:mod:`~mpnet.signs.ensemble`): the vote of independently trained networks after gauge
  fixing; fast, but on the sign benchmark it calls only ~1 % of free edges (docs/signs.md).

Both honour fixed signs, Dale neurons and frozen edges, and report the signs no data can fix
(:mod:`~mpnet.signs.symmetry`).
"""
from typing import TYPE_CHECKING, Any, Callable, Mapping, Optional, Union

import torch
from torch.types import Device

from ..checks import check_choice, check_dtype, check_float, check_fraction, check_int
from ..errors import ArgumentError
from ..model import Network
from ..graph.elements import NodeId
from ..graph.topology import Topology
from .ensemble import infer_ensemble
from .design import Suggestion, design
from .fitting import Effort, MultistartResult, multistart
from .inputs import as_recordings, as_sequences, wiring_and_start
from .noise import NoiseEstimate, estimate_noise
from .refit import infer_refit
from .report import EdgeSign, SignReport
from .verify import Check, Verification, verify

if TYPE_CHECKING:   # pragma: no cover
    from numpy.typing import ArrayLike   # the data: a tensor, an array or nested lists

__all__ = ["infer_signs", "SignReport", "EdgeSign", "multistart", "MultistartResult", "Effort", "NoiseEstimate",
           "estimate_noise", "verify", "Verification", "Check", "design", "Suggestion"]

METHODS = ("refit", "ensemble")


def infer_signs(topology: Union[Topology, Network], X: "ArrayLike", Y: "ArrayLike", *, method: str = "refit",
                threshold: float = 0.95, seed: int = 0, effort: Optional[Effort] = None,
                noise_std: Optional[float] = None, resolution: float = 1e-4, verify: float = 0.2,
                dtype: torch.dtype = torch.float64, device: Device = None,
                log: Optional[Callable[[str], None]] = None, progress: Optional[bool] = None,
                observed: Optional[Mapping[NodeId, Any]] = None,
                observed_noise: Optional[Mapping[NodeId, float]] = None, advance_time: Optional[float] = None,
                time_step: Optional[float] = None, **ensemble_options: Any) -> SignReport:
    """Infer the sign of every edge from data, with a calibrated confidence per edge.

    Args:
        topology: the wiring (weights may be unset: they are what is inferred), or a trained single-topology
            :class:`~mpnet.Network`; declared or trained weights become one of the starts, never the answer.
        X, Y: ``[n, n_inputs]`` and ``[n, n_outputs]`` (or ``[n]`` for one output); regression data, fitted
            by mean squared error. (refit) A recurrent or ctrnn wiring takes sequences, as :func:`mpnet.fit`:
            ``X [n, steps, n_inputs]``, ``Y [n, steps, n_outputs]`` (a target per step) or ``[n, n_outputs]``
            (the last step); every sequence starts with every neuron at 0.
        method: ``"refit"`` or ``"ensemble"`` (see the module docstring).
        threshold: the confidence a verdict needs; below it the sign is ``?``.
        seed: seeds every random draw (same seed, same report).
        effort: (refit) the fitting search's sizes; :meth:`Effort.quick` is a smaller search (about half the time on the question network), rougher.
        noise_std: (refit) the noise level of ``Y`` if known; else estimated from the data.
        resolution: (refit) loss differences below ``resolution * Var(Y)`` never count (noise-free data).
        verify: (refit) edges whose loss ratio exceeds this are searched again before any call.
        dtype, device: (refit) of the fits.
        log: called with a progress line per phase (e.g. ``print``).
        progress: a tqdm bar with the stage and the edges tested (``None``: only when stderr is a terminal).
        observed: (refit) recordings of hidden neurons, ``{neuron id: [n] values}`` aligned with the rows of
            ``X``, NaN where a sample was not recorded; a value is the neuron's activation (after its ReLU, say).
            Every fit, the sign test's included, fits them too: the loss is the mean over every target and every
            recorded value of its squared error, a recording's weighed by the outputs' noise variance over its
            own. Recording the right neurons decides signs that input-output data leave open (a chain of ReLUs
            and its mirror image fit ``Y`` equally well, but not the recorded activations).
        observed_noise: (refit) ``{recorded neuron: noise std}``; a neuron not named has its noise estimated
            from its recorded samples, like the outputs' (:func:`~mpnet.signs.noise.estimate_noise`).
        advance_time, time_step: (refit) a ctrnn wiring's, as :class:`~mpnet.Network` takes them (a Network's
            own when it is given).
        **ensemble_options: (ensemble) ``ensemble``, ``epochs``, ``lr``, ``loss``, ``batch_size``, ``init``,
            ``fail_fraction``, ``min_effect``, ``hidden_bias``, ``progress``.

    Returns:
        a :class:`SignReport`.

    Raises:
        ValueError: an unknown method, an argument out of range, or data of the wrong shape or not finite;
            ``observed`` naming a neuron that is not hidden (the hidden ones are listed), values of the wrong
            length, with an infinity, or NaN on every row.

    Example:
        >>> import torch, mpnet
        >>> wiring = mpnet.Topology.from_edges([("x1", "y"), ("x2", "y")], inputs=["x1", "x2"], outputs=["y"])
        >>> X = torch.randn(200, 2, generator=torch.Generator().manual_seed(0))
        >>> report = mpnet.infer_signs(wiring, X, 2 * X[:, 0] - 3 * X[:, 1], seed=0)
        >>> [(row.src, row.dst, row.sign) for row in report.edges]     # print(report): the table, with reasons
        [('x1', 'y', '+'), ('x2', 'y', '-')]
    """
    method = check_choice(method, "method", METHODS)
    threshold = check_fraction(threshold, "threshold")
    seed = check_int(seed, "seed")
    if method == "ensemble":
        if observed is not None or observed_noise is not None:
            raise ArgumentError("observed= (recordings of hidden neurons) is used by method='refit' only; the "
                                "ensemble vote fits inputs to outputs.")
        if advance_time is not None or time_step is not None:
            raise ArgumentError("advance_time and time_step are for a ctrnn wiring, which method='refit' takes; the "
                                "ensemble vote fits feed-forward wirings.")
        wiring, _ = wiring_and_start(topology)
        return infer_ensemble(wiring, X, Y, threshold=threshold, seed=seed, progress=progress, **ensemble_options)
    if ensemble_options:
        raise ArgumentError(f"infer_signs(method='refit') got options of the ensemble method: "
                            f"{sorted(ensemble_options)}; drop them or pass method='ensemble'.")
    if effort is not None and not isinstance(effort, Effort):
        raise ArgumentError(f"Expected effort to be an mpnet.signs.Effort (got {type(effort).__name__}).")
    noise_std = check_float(noise_std, "noise_std", min=0, min_open=True, allow_none=True)
    resolution = check_float(resolution, "resolution", min=0)
    verify = check_float(verify, "verify", min=0)
    dtype = check_dtype(dtype)
    wiring, start = wiring_and_start(topology, sequences=True)
    X, Y, sequences = as_sequences(X, Y, wiring, topology, advance_time=advance_time, time_step=time_step)
    recorded = as_recordings(observed, observed_noise, wiring, X, Y, noise_std, sequences)
    return infer_refit(wiring, start, X, Y, effort=effort or Effort(), threshold=threshold, seed=seed,
                       noise_std=noise_std, resolution=resolution, verify=verify, dtype=dtype, device=device,
                       log=log, observed=recorded, progress=progress, sequences=sequences)
