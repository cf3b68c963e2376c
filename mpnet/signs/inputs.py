"""What sign inference is handed, checked: the wiring (a :class:`~mpnet.Topology`, or a trained single-topology
:class:`~mpnet.Network` whose weights become a start), the data ``X``, ``Y`` and the recordings of hidden neurons
with the weight each gets in the loss (sign inference, step 0).
"""
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, List, Optional, Tuple, Union

import torch
from torch import Tensor

from ..checks import as_tensor, check_finite
from ..checks.recordings import check_recording_noise, check_recordings
from ..errors import ArgumentError, DataError
from ..graph.elements import NodeId
from ..graph.topology import Topology
from ..model import Network
from .noise import NoiseEstimate, estimate_noise

if TYPE_CHECKING:   # pragma: no cover
    from numpy.typing import ArrayLike   # the data: a tensor, an array or nested lists (what as_tensor takes)

__all__ = ["wiring_and_start", "as_data", "Recorded", "as_recordings"]

#: A variance below this fraction of its column's variance counts as this fraction (noise-free data): the
#: weights of the recordings stay finite and the outputs never lose all weight.
_VARIANCE_FLOOR = 1e-6
#: The fewest recorded samples a neuron's noise is estimated from (else its std must be given).
_MIN_SAMPLES = 10


def wiring_and_start(obj: Union[Topology, Network]) -> Tuple[Topology, Optional[Topology]]:
    """``(wiring, start)``: the topology to fit and, when it carries weights, the start they define."""
    kind = obj.network_type if isinstance(obj, Topology) else getattr(obj, "network_type", "feedforward")
    if kind != "feedforward":
        raise ArgumentError(f"Expected a feed-forward wiring (got a {kind} one): the refit test fits input-output "
                            f"pairs of a DAG and does not take sequences yet; fit a recurrent network on sequences "
                            f"with mpnet.fit.")
    if isinstance(obj, Network):
        if obj.batched:
            raise ValueError(f"Expected a Network of one topology (got a batch of {obj.num_graphs}); pass "
                             f"net.topology(i) for the one to analyse.")
        trained = obj.topology(0)
        return trained, trained
    if isinstance(obj, Topology):
        given = all(e.weight is not None for e in obj.edges.values())
        return obj, (obj if given else None)
    raise TypeError(f"Expected a Topology or a Network (got {type(obj).__name__}).")


def as_data(X: "ArrayLike", Y: "ArrayLike", topo: Topology) -> Tuple[Tensor, Tensor]:
    """``X [n, n_in]`` and ``Y [n, n_out]`` as tensors, checked: numbers, shapes, at least 4 rows, finite."""
    X, Y = as_tensor(X, "X"), as_tensor(Y, "Y")
    if Y.dim() == 1:
        Y = Y[:, None]
    if X.dim() != 2 or X.shape[1] != len(topo.inputs):
        raise DataError(f"Expected X of shape [n, {len(topo.inputs)}] (one column per input "
                        f"{list(topo.inputs)}), got {list(X.shape)}.")
    if Y.dim() != 2 or Y.shape != (X.shape[0], len(topo.outputs)):
        raise DataError(f"Expected Y of shape [{X.shape[0]}, {len(topo.outputs)}] (one column per output "
                        f"{list(topo.outputs)}), got {list(Y.shape)}.")
    if X.shape[0] < 4:
        raise DataError(f"Expected at least 4 samples to fit and estimate the noise from (got {X.shape[0]}).")
    check_finite(X, "X", columns=[str(n) for n in topo.inputs])
    check_finite(Y, "Y", columns=[str(n) for n in topo.outputs])
    return X, Y


@dataclass
class Recorded:
    """Recordings of hidden neurons as the fits use them: each neuron's squared errors count ``weight`` times an
    output's, its noise variance over the outputs' (the loss stays in the units of the outputs' noise)."""
    neurons: List[NodeId]
    values: Tensor                 # [n, k] float64, NaN where a sample was not recorded
    noise: List[NoiseEstimate]     # each neuron's noise
    weight: List[float]            # the outputs' noise variance over each neuron's

    def describe(self) -> str:
        return "; ".join(f"{v!r}: {int((~torch.isnan(self.values[:, j])).sum())} samples, {self.noise[j]}, weight "
                         f"{self.weight[j]:.3g}" for j, v in enumerate(self.neurons))


def _floored(variance: float, values: Tensor) -> float:
    return max(variance, _VARIANCE_FLOOR * float(values.var(0, unbiased=False).mean()), 1e-300)


def as_recordings(observed: Any, observed_noise: Any, topo: Topology, X: Tensor, Y: Tensor,
                  noise_std: Optional[float]) -> Optional[Recorded]:
    """``observed={hidden neuron: [n] values}`` checked (:func:`~mpnet.checks.recordings.check_recordings`),
    each neuron's noise given (``observed_noise={neuron: std}``) or estimated from its recorded samples like the
    outputs' (:func:`~mpnet.signs.noise.estimate_noise`); None without recordings."""
    hidden = [v for v, node in topo.nodes.items() if node.role == "hidden"]
    neurons, values = check_recordings(observed, hidden=hidden, inputs=topo.inputs, outputs=topo.outputs,
                                       n=X.shape[0])
    if values is None:
        if observed_noise is not None:
            raise ArgumentError("observed_noise gives the noise of recordings, but observed= records no neuron; "
                                "drop it or pass the recordings.")
        return None
    given = check_recording_noise(observed_noise, neurons)
    X = X.double()
    out_variance = _floored(estimate_noise(X, Y.double(), noise_std=noise_std).variance, Y.double())
    noise, weight = [], []
    for j, v in enumerate(neurons):
        seen = ~torch.isnan(values[:, j])
        if v not in given and int(seen.sum()) < _MIN_SAMPLES:
            raise DataError(f"observed[{v!r}] has {int(seen.sum())} recorded samples, too few to estimate its noise "
                            f"from (at least {_MIN_SAMPLES}); give observed_noise={{{v!r}: std}}.")
        r = values[seen, j:j + 1]
        noise.append(estimate_noise(X[seen], r, noise_std=given.get(v)))
        weight.append(out_variance / _floored(noise[-1].variance, r))
    return Recorded(neurons, values, noise, weight)
