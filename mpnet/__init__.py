"""mpnet: neuron-level networks with custom sparse connections, computed by layered message passing.

The flow: :mod:`~mpnet.graph.topology` (declare; :mod:`~mpnet.graph.arrays` as columns) -> :mod:`~mpnet.engine.compile` ->
:mod:`~mpnet.engine.propagate` (or :mod:`~mpnet.engine.recurrent` for recurrent topologies) ->
:mod:`~mpnet.model` (``Network``) -> :mod:`~mpnet.train` (``fit``) -> :mod:`~mpnet.signs`
(``infer_signs``) and :mod:`~mpnet.viz.draw`.
"""
from .graph.arrays import ArrayTopology
from .errors import MpnetError, TopologyError, TopologyWarning
from .model import Network
from .engine.steps import RecurrentState
from . import io        # lends Topology its conversions (JSON, networkx, neat-python)
from .graph.topology import Edge, Node, Tie, Topology
from .train import fit
from .signs import SignReport, infer_signs, multistart
from .viz.draw import draw
from . import _moved, connectome
from .graph import sample
from .io import export

__version__ = "0.1.0"

_moved.install()   # the module paths of 0.1 (mpnet.topology, mpnet.arrays, ...) keep importing, with a warning

__all__ = ["Topology", "Node", "Edge", "Tie", "ArrayTopology", "Network", "RecurrentState", "fit", "multistart",
           "infer_signs", "SignReport", "draw", "sample", "export", "connectome", "MpnetError", "TopologyError",
           "TopologyWarning"]
