"""What sign inference is handed, checked: the wiring (a :class:`~mpnet.Topology`, or a trained single-topology
:class:`~mpnet.Network` whose weights become a start) and the data ``X``, ``Y`` (sign inference, step 0).
"""
from typing import TYPE_CHECKING, Optional, Tuple, Union

from torch import Tensor

from ..checks import as_tensor, check_finite
from ..errors import ArgumentError, DataError
from ..graph.topology import Topology
from ..model import Network

if TYPE_CHECKING:   # pragma: no cover
    from numpy.typing import ArrayLike   # the data: a tensor, an array or nested lists (what as_tensor takes)

__all__ = ["wiring_and_start", "as_data"]


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
