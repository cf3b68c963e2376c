"""The trainable network: an ``nn.Module`` owning one weight per edge and one bias per neuron (fourth stage).

Sign constraints are an explicit map from the raw weight vector (the parameter ``raw_weight``, what the
optimizer moves) to the weights the network computes with (``net.weight``)::

    free edge:            w = raw
    fixed sign s (+1/-1): w = s * |raw|   (d|raw|/draw taken as +1 at raw = 0, so zero is not a trap)
    frozen edge:          w = its declared value (a buffer; no gradient reaches it)

so they hold by construction through any optimizer. We chose ``|raw|`` over ``softplus(raw)`` or a clamp:
it has no dead zone (a clamp stops all gradient once the weight hits zero; softplus can never reach zero
and vanishes slowly), and a hand-set value is represented exactly. The trade-off: the gradient with
respect to ``raw`` flips sign with ``raw``, so a weight that an optimizer pushes through zero bounces back
to the allowed side instead of sticking at zero.

Tied edges (:mod:`mpnet.graph.ties`) share parameters: ``raw_weight`` then holds one entry per edge's own
parameter and one per group, the sign map applies to those, and a :class:`~mpnet.engine.tiemap.TieMap`
(``net.tie_map``) sums the terms of each edge into ``net.weight [E]``. Such a network's weights are set on its
topology (``with_weights(..., ties=...)``), not edge by edge.

Weights left unset in the topology are drawn like ``nn.Linear``: ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``
with ``fan_in`` the in-degree of the edge's target (for a fixed sign, the magnitude of such a draw).

The map is a plain module call, not ``torch.nn.utils.parametrize``, so that a Network pickles
(``torch.save(net)``, ``copy.deepcopy``) and so that editing ``net.weight`` in place works the same with and
without fixed-sign edges: the tensor ``net.weight`` hands out is watched, and an edit is written back into
``raw_weight`` (checked against the edge's sign and frozen value) before the network next computes or reads
its weights. :meth:`Network.set_weights` and ``net.weight = values`` do the same at once.

The package, one concern a module: :mod:`~mpnet.model.network` (the class: construction, parameters, the public
methods), :mod:`~mpnet.model.constraints` (the sign map), :mod:`~mpnet.model.declared` (the declared numbers),
:mod:`~mpnet.model.feedforward` and :mod:`~mpnet.model.sequence` (the two kinds of pass),
:mod:`~mpnet.model.editing` (setting weights), :mod:`~mpnet.model.readback` (names, numbers, topologies back),
:mod:`~mpnet.model.payload` (the saved format) and :mod:`~mpnet.model.persist` (save and load by function).
"""
from .constraints import SignConstraint
from .network import Network

__all__ = ["Network", "SignConstraint"]
