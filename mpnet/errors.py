"""Errors and warnings raised while declaring a topology (first stage of the flow; no torch).

Every error is a :class:`TopologyError` (itself a :class:`ValueError`) whose message names the
culprit, says what was expected and what came, and how to fix it.
"""

__all__ = [
    "TopologyError", "CycleError", "UnknownNodeError", "UnknownEdgeError", "DuplicateNodeError", "DuplicateEdgeError",
    "SelfLoopError", "InputEdgeError", "UnknownActivationError", "UnknownAggregationError",
    "NonFiniteError", "SignConflictError", "DaleConflictError", "RoleError", "FormatError", "UnsupportedError",
    "MismatchError", "TimeConstantError", "TieError", "TopologyWarning",
]


class TopologyError(ValueError):
    """Base class of every error about a network's declaration."""


class CycleError(TopologyError):
    """The edges contain a directed cycle; ``.cycle`` holds its node path (first node repeated last)."""

    def __init__(self, message: str, cycle: list):
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
    """A weight or bias is NaN or infinite."""


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
    """A shared parameter (:class:`~mpnet.ties.Tie`) declared or used wrongly: an unknown or unused group, a
    tied edge that also sets its own sign or weight, a malformed list of terms."""


class TopologyWarning(UserWarning):
    """A legal but suspicious topology: outputs no input reaches, neurons that reach no output."""
