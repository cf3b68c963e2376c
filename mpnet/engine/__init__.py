"""Stage 2, the computation: compile a declaration to tensors and propagate activations through it.

:mod:`~mpnet.engine.compile` (to a torch_geometric ``Data`` with per-level edge ranges),
:mod:`~mpnet.engine.propagate` (the layered ``MessagePassing`` pass, feed-forward),
:mod:`~mpnet.engine.recurrent` and :mod:`~mpnet.engine.steps` (recurrent and CTRNN steps),
:mod:`~mpnet.engine.state` (prebuilt pass state), :mod:`~mpnet.engine.functional` (activations and
aggregations), :mod:`~mpnet.engine.tiemap` (tied weights as one parameter table).

May import: :mod:`mpnet.graph` and the top-level helpers (errors, checks, threads).
"""
