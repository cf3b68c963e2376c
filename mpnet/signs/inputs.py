"""What sign inference is handed, checked: the wiring (a :class:`~mpnet.Topology`, or a trained single-topology
:class:`~mpnet.Network` whose weights become a start), the data ``X``, ``Y`` and the recordings of hidden neurons
with the weight each gets in the loss (sign inference, step 0).

A recurrent wiring (discrete-time or ctrnn) is fitted on sequences laid out as :func:`mpnet.fit` takes them:
``X [n, steps, n_inputs]``, ``Y [n, steps, n_outputs]`` (a target per step) or ``[n, n_outputs]`` (the last step
only). The search sees each sequence as one row: :func:`as_sequences` flattens ``X`` to ``[n, steps * n_inputs]``
and ``Y`` to ``[n, steps * n_outputs]`` (step-major), and :class:`Sequences` tells the batched population
(:mod:`mpnet.signs.population`) how to run them, so the noise estimate, the subsamples and the losses work on
rows as for a feed-forward wiring.
"""
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple, Union

import torch
from torch import Tensor

from ..checks import as_tensor, check_finite, check_float
from ..checks.recordings import check_recording_noise, check_recordings
from ..errors import ArgumentError, DataError
from ..graph.elements import NodeId
from ..graph.topology import Topology
from ..model import Network
from .noise import NoiseEstimate, estimate_noise

if TYPE_CHECKING:   # pragma: no cover
    from numpy.typing import ArrayLike   # the data: a tensor, an array or nested lists (what as_tensor takes)

__all__ = ["wiring_and_start", "as_data", "Sequences", "as_sequences", "Recorded", "as_recordings"]

#: A variance below this fraction of its column's variance counts as this fraction (noise-free data): the
#: weights of the recordings stay finite and the outputs never lose all weight.
_VARIANCE_FLOOR = 1e-6
#: The fewest recorded samples a neuron's noise is estimated from (else its std must be given).
_MIN_SAMPLES = 10


def wiring_and_start(obj: Union[Topology, Network], sequences: bool = False
                     ) -> Tuple[Topology, Optional[Topology]]:
    """``(wiring, start)``: the topology to fit and, when it carries weights, the start they define. A recurrent
    wiring, or one with tied weights, is refused unless ``sequences`` (the refit test fits sequences and ties; the
    ensemble vote reads one weight per edge of a DAG)."""
    kind = obj.network_type if isinstance(obj, (Topology, Network)) else "feedforward"
    if kind != "feedforward" and not sequences:
        raise ArgumentError(f"Expected a feed-forward wiring (got a {kind} one): this method fits input-output "
                            f"pairs of a DAG; infer_signs(method='refit') fits a recurrent wiring on sequences "
                            f"X [n, steps, n_inputs].")
    ties = obj.ties if isinstance(obj, Topology) else {}
    if ties and not sequences:
        raise ArgumentError(f"Expected a wiring without tied weights (got ties {sorted(ties)[:3]}): this method "
                            f"reads one weight per edge; infer_signs(method='refit') tests a tie group's sign.")
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


@dataclass(frozen=True)
class Sequences:
    """How the rows of a recurrent wiring's flattened data are run: ``steps`` inputs per sequence, targets per
    step or (``last``) for the last step only, and a ctrnn's ``advance_time`` and ``time_step``."""
    steps: int
    last: bool
    network_type: str                       # "recurrent" or "ctrnn"
    advance_time: Optional[float] = None
    time_step: Optional[float] = None

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)

    def unflatten(self, X: Tensor) -> Tensor:
        """Rows ``[n, steps * n_in]`` -> the network's input ``[steps, n, n_in]``."""
        return X.reshape(X.shape[0], self.steps, -1).transpose(0, 1)


def _network_times(obj: Union[Topology, Network], advance_time: Optional[float], time_step: Optional[float]
                   ) -> Tuple[Optional[float], Optional[float]]:
    if isinstance(obj, Network):
        advance_time = obj.advance_time if advance_time is None else advance_time
        time_step = obj.time_step if time_step is None else time_step
    return advance_time, time_step


def as_sequences(X: "ArrayLike", Y: "ArrayLike", topo: Topology, obj: Union[Topology, Network, None] = None, *,
                 advance_time: Optional[float] = None, time_step: Optional[float] = None
                 ) -> Tuple[Tensor, Tensor, Optional[Sequences]]:
    """The data as rows the search fits (module docstring): for a feed-forward wiring :func:`as_data` and
    ``None``; for a recurrent one ``X [n, steps, n_in]`` and ``Y [n, steps, n_out]`` or ``[n, n_out]`` (``[n]``
    for one output, last step), checked as :func:`mpnet.fit` checks them, flattened, with their
    :class:`Sequences`. A ctrnn needs ``advance_time`` and ``time_step`` (given, or the Network's ``obj``)."""
    kind = topo.network_type
    if kind == "feedforward":
        if advance_time is not None or time_step is not None:
            raise ArgumentError("advance_time and time_step are for ctrnn wirings (recurrent='ctrnn'); this one is "
                                "feed-forward.")
        X2, Y2 = as_data(X, Y, topo)
        return X2, Y2, None
    advance_time, time_step = _network_times(obj if obj is not None else topo, advance_time, time_step)
    if kind == "ctrnn":
        if advance_time is None or time_step is None:
            raise ArgumentError("A ctrnn wiring needs advance_time and time_step (how long each input of a sequence "
                                "is held, and the integration step), as a Network takes them: infer_signs(..., "
                                "advance_time=..., time_step=...), or pass a Network made with them.")
        advance_time = check_float(advance_time, "advance_time", min=0, min_open=True)
        time_step = check_float(time_step, "time_step", min=0, min_open=True)
    elif advance_time is not None or time_step is not None:
        raise ArgumentError("advance_time and time_step are for ctrnn wirings; this one is a discrete-time "
                            "recurrent wiring (one step per input).")
    X, Y = as_tensor(X, "X"), as_tensor(Y, "Y")
    n_in, n_out = len(topo.inputs), len(topo.outputs)
    if X.dim() != 3 or X.shape[2] != n_in:
        raise DataError(f"Expected X of shape [n, steps, {n_in}] for a {kind} wiring: a batch of input sequences, "
                        f"one column per input {list(topo.inputs)} (got {list(X.shape)}); one sequence of one step "
                        f"per row is X[:, None].")
    n, steps = X.shape[0], X.shape[1]
    if n_out == 1 and Y.dim() == 1:
        Y = Y[:, None]
    per_step = Y.dim() == 3 and tuple(Y.shape) == (n, steps, n_out)
    if not per_step and not (Y.dim() == 2 and tuple(Y.shape) == (n, n_out)):
        raise DataError(f"Expected Y of shape [{n}, {steps}, {n_out}] (a target per step) or [{n}, {n_out}] (the "
                        f"last step only) for X of shape {list(X.shape)}, one column per output "
                        f"{list(topo.outputs)} (got {list(Y.shape)}).")
    if n < 4 or steps < 1:
        raise DataError(f"Expected at least 4 sequences of at least one step to fit and estimate the noise from "
                        f"(got X of shape {list(X.shape)}).")
    X2, Y2 = X.reshape(n, steps * n_in), Y.reshape(n, -1)
    check_finite(X2, "X", columns=[f"step {t}, input {v}" for t in range(steps) for v in topo.inputs],
                 row_word="sequence")
    out_steps = range(steps) if per_step else [steps - 1]
    check_finite(Y2, "Y", columns=[f"step {t}, output {v}" for t in out_steps for v in topo.outputs],
                 row_word="sequence")
    return X2, Y2, Sequences(steps, not per_step, kind, advance_time, time_step)


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
                  noise_std: Optional[float], sequences: Optional[Sequences] = None) -> Optional[Recorded]:
    """``observed={hidden neuron: [n] values}`` checked (:func:`~mpnet.checks.recordings.check_recordings`),
    each neuron's noise given (``observed_noise={neuron: std}``) or estimated from its recorded samples like the
    outputs' (:func:`~mpnet.signs.noise.estimate_noise`); None without recordings."""
    if sequences is not None and (observed is not None or observed_noise is not None):
        raise ArgumentError(f"observed= (recordings of hidden neurons) is not taken for a {sequences.network_type} "
                            f"wiring yet: the recordings are fitted per sample of a feed-forward wiring; fit the "
                            f"sequences without them, or declare the recorded neuron an output.")
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
        if float(r.var(unbiased=False)) > 0 or v in given:
            weight.append(out_variance / _floored(noise[-1].variance, r))
        else:
            # a constant recording (a silent neuron, noise-free) has no scale to floor its noise by: a weight of
            # 1 / 1e-300 made every fit's loss inf (a benchmark teacher's dead neuron, recorded). Weighed as an
            # output: its values count like the outputs' in their units
            noise[-1] = replace(noise[-1], method=f"{noise[-1].method}; constant recording, weighed as an output")
            weight.append(1.0)
    return Recorded(neurons, values, noise, weight)
