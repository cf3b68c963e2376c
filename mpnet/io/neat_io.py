"""neat-python networks in and out, exactly (pure Python, beside topology: no torch, and no neat-python needed
to read or write its JSON).

neat-python's network JSON (``neat.export.export_network_json``, ``format_version`` "1.0", feed-forward)
maps onto a :class:`~mpnet.Topology` node for node::

    neat-python                                mpnet
    node id (int: inputs < 0, outputs 0..)     the same int
    activation "sigmoid" (a built-in)          "neat.sigmoid": neat's formula, clamp included
    aggregation (the 7 built-ins)              the same name
    bias, response                             bias, response:  z = response * aggregate + bias
    connection from -> to, weight, enabled     Edge(from, to, weight); disabled ones are skipped

so ``Network(Topology.from_neat_json(path))`` computes ``neat.nn.FeedForwardNetwork.activate``. One
convention differs and is translated: neat's product over no input is 1, mpnet's empty aggregation is 0,
so an edge-less product neuron comes in with ``bias + response`` as its bias (and goes out as a sum).

``network_type`` "recurrent" and "ctrnn" come in as recurrent topologies (``Topology(..., recurrent=True)``
or ``recurrent="ctrnn"``, node ``time_constant`` read and written for ctrnn) computing what
``neat.nn.RecurrentNetwork.activate`` and ``neat.ctrnn.CTRNN.advance`` compute. A neuron neat never
evaluates (no incoming connection) is absent from neat's ``nodes`` and keeps the value 0; it comes in as a
hidden neuron without incoming edges, which a recurrent Network never updates either (see
:mod:`mpnet.engine.recurrent`); writing leaves such neurons out of neat's ``nodes`` too (their fields go into
``metadata["mpnet"]``).

Writing (:func:`to_neat_json`) keeps neat's semantics in neat's fields; what neat's format cannot hold
(string ids, plain activations such as ``relu`` that equal a neat built-in, signs, frozen edges, Dale
neurons, declaration order) goes into ``metadata["mpnet"]``, which :func:`from_neat_json` reads back, so
``from_neat_json(to_neat_json(topo)) == topo``. Activations neat-python lacks (``gelu``, torch's ``tanh``,
...) cannot be written: :class:`~mpnet.errors.UnsupportedError` names them.

The work is done by :mod:`mpnet.io.neat_read` (neat's JSON in), :mod:`mpnet.io.neat_genome` (a neat genome in,
through its JSON) and :mod:`mpnet.io.neat_write` (neat's JSON out), with the names they share in
:mod:`mpnet.io.neat_format`; this module is their common face, and each of their public names is importable from
here.
"""
from .neat_format import NEAT_FORMAT_VERSION
from .neat_genome import from_neat_genome
from .neat_read import PathOrData as PathOrData   # the type of from_neat_json's source, importable from here
from .neat_read import from_neat_json
from .neat_write import to_neat_json

__all__ = ["from_neat_json", "from_neat_genome", "to_neat_json", "NEAT_FORMAT_VERSION"]
