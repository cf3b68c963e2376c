"""mpnet: neuron-level networks with custom sparse connections, computed by layered message passing.

The flow: :mod:`~mpnet.topology` (declare; :mod:`~mpnet.arrays` as columns) -> :mod:`~mpnet.compile` ->
:mod:`~mpnet.propagate` (or :mod:`~mpnet.recurrent` for recurrent topologies) ->
:mod:`~mpnet.model` (``Network``) -> :mod:`~mpnet.train` (``fit``) -> :mod:`~mpnet.signs`
(``infer_signs``) and :mod:`~mpnet.draw`.
"""
from .arrays import ArrayTopology
from .errors import MpnetError, TopologyError, TopologyWarning
from .model import Network
from .steps import RecurrentState
from . import persist   # registers Network's pickling with torch.load(weights_only=True)
from .topology import Edge, Node, Tie, Topology
from .train import fit
from .signs import SignReport, infer_signs, multistart
from .draw import draw
from . import connectome, export, sample

__version__ = "0.1.0"

__all__ = ["Topology", "Node", "Edge", "Tie", "ArrayTopology", "Network", "RecurrentState", "fit", "multistart",
           "infer_signs", "SignReport", "draw", "sample", "export", "connectome", "MpnetError", "TopologyError",
           "TopologyWarning"]
