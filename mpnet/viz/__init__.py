"""Pictures: where each neuron goes (:mod:`~mpnet.viz.layout`) and the drawings of topologies, networks and
sign reports (:mod:`~mpnet.viz.draw`, :mod:`~mpnet.viz.draw_connectome`). Needs matplotlib (extra ``viz``).

May import: :mod:`mpnet.graph`, :mod:`mpnet.signs` (to read a report). Nothing below imports it.
"""
