"""The errors and warnings mpnet raises on purpose (first stage of the flow; no torch).

Every error is an :class:`MpnetError` whose message names the culprit (the node, edge, argument, file,
row or column), says what was expected and what came, and how to fix it. A mistake in a network's
declaration or in a file holding one is a :class:`TopologyError` (itself a :class:`ValueError`); a bad
argument is an :class:`ArgumentError` (both a :class:`ValueError` and a :class:`TypeError`, so code that
catches either keeps working); bad data is a :class:`DataError`; a training run whose loss or weights turn
non-finite stops with a :class:`DivergenceError`; a damaged search checkpoint is a :class:`CheckpointError`,
a run directory in use a :class:`RunLockedError`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional, Union

if TYPE_CHECKING:   # the type of a diverged run's loss history only
    from torch import Tensor

__all__ = [
    "MpnetError", "ArgumentError", "DataError", "DivergenceError", "CheckpointError", "RunLockedError",
    "TopologyError", "CycleError", "UnknownNodeError", "UnknownEdgeError", "DuplicateNodeError", "DuplicateEdgeError",
    "SelfLoopError", "InputEdgeError", "UnknownActivationError", "UnknownAggregationError",
    "NonFiniteError", "SignConflictError", "DaleConflictError", "RoleError", "FormatError", "UnsupportedError",
    "MismatchError", "TimeConstantError", "TieError", "TopologyWarning", "located",
]


class MpnetError(Exception):
    """Base class of every error mpnet raises on purpose (the command line prints these as one line)."""


class ArgumentError(MpnetError, ValueError, TypeError):
    """An argument has the wrong type or lies outside its range; the message names the argument, the
    value it got and the range expected."""


class DataError(MpnetError, ValueError):
    """Data is unusable: a NaN or infinite value, an empty set, a shape the network cannot take, targets the
    loss cannot take, a malformed CSV file; the message names the row and column (and the file)."""


class DivergenceError(MpnetError, ArithmeticError):
    """Training produced a non-finite loss or weight; the message names the epoch and what to try. The
    network is left with the last weights known to give a finite loss; ``.history`` holds the losses of the
    epochs before, ``.epoch`` the epoch that diverged."""

    def __init__(self, message: str, history: Optional[Tensor] = None, epoch: int = -1):
        super().__init__(message)
        self.history = history
        self.epoch = epoch


class CheckpointError(MpnetError, ValueError):
    """A search checkpoint is not readable as written: not JSON, another format, a failed checksum (edited
    or damaged since), counters that disagree with the history."""


class RunLockedError(MpnetError, RuntimeError):
    """Another live process holds the run directory (its lock file names the process)."""


class TopologyError(MpnetError, ValueError):
    """Base class of every error about a network's declaration (and about a file holding one)."""


class CycleError(TopologyError):
    """The edges contain a directed cycle; ``.cycle`` holds its node path (first node repeated last)."""

    def __init__(self, message: str, cycle: List[Union[str, int]]):
        super().__init__(message)
        self.cycle = cycle


class UnknownNodeError(TopologyError):
    """An edge (or a per-node setting) names a node that was not declared."""


class UnknownEdgeError(TopologyError, KeyError):
    """An operation names an edge that the topology does not have."""

    __str__ = ValueError.__str__   # KeyError would quote the message


class DuplicateNodeError(TopologyError):
    """The same node id was declared twice."""


class DuplicateEdgeError(TopologyError):
    """The same (src, dst) pair was declared twice."""


class SelfLoopError(TopologyError):
    """An edge goes from a node to itself."""


class InputEdgeError(TopologyError):
    """An edge ends in an input node; inputs take their value from the data only."""


class UnknownActivationError(TopologyError):
    """An activation name is not in the registry."""


class UnknownAggregationError(TopologyError):
    """An aggregation name is not in the registry."""


class NonFiniteError(TopologyError):
    """A weight, bias or response is not a finite number: NaN, infinite, beyond the network's dtype, or not a
    number at all (a string, a bool)."""


class SignConflictError(TopologyError):
    """A fixed sign is contradicted by the edge's own initial weight, or a sign is not '+', '-' or None."""


class DaleConflictError(TopologyError):
    """A Dale neuron has an outgoing edge whose fixed sign or weight disagrees with the neuron's sign."""


class TimeConstantError(TopologyError):
    """A neuron's time constant is not a finite number > 0."""


class RoleError(TopologyError):
    """Inputs/outputs are missing, overlap, or a role name is unknown."""


class FormatError(TopologyError):
    """A serialized topology (JSON dict) has the wrong format or version."""


class UnsupportedError(FormatError):
    """A file holds something mpnet cannot compute exactly (a spiking neat-python network, a custom
    activation), or a topology holds something the target format cannot (an activation neat-python lacks)."""


class MismatchError(TopologyError):
    """Topologies batched together disagree on their number of inputs or outputs."""


class TieError(TopologyError):
    """A shared parameter (:class:`~mpnet.graph.ties.Tie`) declared or used wrongly: an unknown or unused group, a
    tied edge that also sets its own sign or weight, a malformed list of terms."""


class TopologyWarning(UserWarning):
    """A legal but suspicious topology: outputs no input reaches, neurons that reach no output."""


def located(err: MpnetError, where: str) -> MpnetError:
    """The same error, its message prefixed with ``where`` (a file, a field): how a loader names the file
    around an error its parser raised. Same class and attributes (e.g. a :class:`CycleError`'s cycle)."""
    new = err.__class__.__new__(err.__class__)
    new.args = (f"{where}: {err}",)
    new.__dict__.update(err.__dict__)
    return new
