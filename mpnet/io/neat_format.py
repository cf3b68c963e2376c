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
_EXTRAS_VERSION = 1


def _activation_out(name: str) -> Optional[str]:
    """neat-python's name for an mpnet activation, or None if neat has no such function."""
    if name in NEAT_ACTIVATIONS:
        return name[len("neat."):]
    return name if name in _SAME_AS_NEAT else None
