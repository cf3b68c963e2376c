"""Real nervous systems: a connectome as a recurrent :class:`~mpnet.Topology`, and what was measured on it.

* :mod:`~mpnet.connectome.wiring` -- the shipped reconstructions (package data), built into a topology with
  synapse counts, transmitters and gap junctions; signs from transmitters, tied weights, subcircuits.

Everything public is re-exported here: ``mpnet.connectome.load()``.
"""
from .wiring import (DATA_DIR, TRANSMITTER_SIGNS, available, build, cell_class, load, provenance, subcircuit,
                     tie_chemical, transmitter_signs)

__all__ = ["TRANSMITTER_SIGNS", "DATA_DIR", "available", "load", "provenance", "build", "subcircuit",
           "transmitter_signs", "tie_chemical", "cell_class"]
