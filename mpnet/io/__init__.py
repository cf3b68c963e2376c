"""Files and formats: mpnet's JSON, neat-python, GraphML, CSV data, and export to ONNX / TorchScript.

:mod:`~mpnet.io.serialize` (a topology as versioned JSON or networkx), :mod:`~mpnet.io.neat_io`
(neat-python's JSON and genomes: :mod:`~mpnet.io.neat_read`, :mod:`~mpnet.io.neat_genome`,
:mod:`~mpnet.io.neat_write`), :mod:`~mpnet.io.formats` (``mpnet convert``), :mod:`~mpnet.io.csvdata`
(data columns), :mod:`~mpnet.io.jsonfile` (strict JSON reading), :mod:`~mpnet.io.export` (a trained
network to ONNX, TorchScript, ``torch.export``).

May import: :mod:`mpnet.graph`, :mod:`mpnet.engine`, :mod:`mpnet.model`. Importing this package lends
``Topology`` its conversions (see :mod:`mpnet.graph.adapters`).
"""
# the modules that lend Topology its conversions (neat_io is the face of neat_read, neat_genome, neat_write)
from . import jsonfile, neat_genome, neat_io, neat_read, neat_write, serialize   # noqa: F401
