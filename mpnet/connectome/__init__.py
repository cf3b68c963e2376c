"""Real nervous systems: a connectome as a recurrent :class:`~mpnet.Topology`, and what was measured on it.

* :mod:`~mpnet.connectome.wiring` -- the shipped reconstructions (package data), built into a topology with
  synapse counts, transmitters and gap junctions; signs from transmitters, tied weights, subcircuits.
* :mod:`~mpnet.connectome.neurons` -- neurons by name, class, type or transmitter (``select``), transmitter
  identity, the wiring's counts, left/right ties, initial weights from synapse and junction counts.
* :mod:`~mpnet.connectome.funatlas` -- what was measured on it: Randi et al. 2023's signal-propagation atlas
  (stimulate one neuron, record the others) as an :class:`Atlas`: ``mpnet.connectome.atlas()``.
* :mod:`~mpnet.connectome.propagation`, :mod:`~mpnet.connectome.heldout` -- that experiment on the wiring: drive,
  read out, fit, folds, baselines; held-out signs scored.
* :mod:`~mpnet.connectome.synapses` -- that model as data for the sign test (:func:`mpnet.infer_signs`): a fully
  measured block, strengths tied per class pair, an integrator read-out, the mirror noise.

Everything public is re-exported here: ``mpnet.connectome.load()``.
"""
from . import heldout, propagation, synapses
from .funatlas import Atlas, atlas, atlases
from .neurons import (CLASSICAL, MONOAMINES, count_weights, mirror, select, synapse_transmitter, tie_left_right,
                      transmitter_class, wiring_counts)
from .wiring import (DATA_DIR, TRANSMITTER_SIGNS, available, build, cell_class, load, provenance, subcircuit,
                     tie_chemical, transmitter_signs)

__all__ = ["TRANSMITTER_SIGNS", "DATA_DIR", "available", "load", "provenance", "build", "subcircuit",
           "transmitter_signs", "tie_chemical", "cell_class", "Atlas", "atlas",
           "atlases", "CLASSICAL", "MONOAMINES", "transmitter_class", "synapse_transmitter", "wiring_counts",
           "select", "mirror", "tie_left_right", "count_weights", "propagation", "heldout", "synapses"]
