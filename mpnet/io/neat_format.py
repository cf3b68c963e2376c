"""The names of neat-python's network JSON that reading and writing share (io stage, under
:mod:`mpnet.io.neat_read` and :mod:`mpnet.io.neat_write`; pure Python): the format version, neat's
aggregations, the plain mpnet activations that are a neat built-in, and the version of mpnet's
``metadata["mpnet"]`` entry.
"""
from typing import Optional

from ..graph.vocabulary import NEAT_ACTIVATIONS

__all__ = ["NEAT_FORMAT_VERSION"]

NEAT_FORMAT_VERSION = "1.0"
_NEAT_AGGREGATIONS = ("sum", "product", "max", "min", "maxabs", "median", "mean")
#: Plain mpnet activations that are the same function as a neat-python built-in of the same name.
_SAME_AS_NEAT = ("identity", "relu", "elu", "selu", "abs", "square", "clamped")
#: Plain mpnet activations that are a neat-python built-in of the same name with its argument scaled:
#: ``sigmoid(z)`` is neat's ``sigmoid(z / 5)`` (neat: ``1 / (1 + exp(-clamp(5u, -60, 60)))``) and ``tanh(z)``
#: neat's ``tanh(z / 2.5)``. Written with the node's bias and response divided by the scale, so neat computes
#: the same function to round-off: for tanh everywhere (neat's clamp holds only where tanh is already +-1 in
#: float64), for sigmoid everywhere but below z = -60, where neat's clamp keeps the output at 8.8e-27 while
#: mpnet's goes on toward 0 (a difference under 1e-26). The unscaled bias and response go in metadata["mpnet"].
_SCALED_AS_NEAT = {"sigmoid": 5.0, "tanh": 2.5}
_EXTRAS_VERSION = 1


def _activation_out(name: str) -> Optional[str]:
    """neat-python's name for an mpnet activation, or None if neat has no such function (see
    :data:`_SCALED_AS_NEAT` for the two written with a scaled bias and response)."""
    if name in NEAT_ACTIVATIONS:
        return name[len("neat."):]
    return name if name in _SAME_AS_NEAT or name in _SCALED_AS_NEAT else None


def _neat_choices() -> str:
    """The activations neat-python's format can hold, for an error message."""
    return (f"{', '.join(_SAME_AS_NEAT + tuple(_SCALED_AS_NEAT))} (the same functions as neat's) or neat's own "
            f"{', '.join(NEAT_ACTIVATIONS)}")
