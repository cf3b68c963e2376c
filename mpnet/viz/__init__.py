"""Pictures: where each neuron goes (:mod:`~mpnet.viz.layout`), how each edge is painted and labelled
(:mod:`~mpnet.viz.edge_style`, :mod:`~mpnet.viz.edge_labels`, :mod:`~mpnet.viz.legend`), the drawings of
topologies, networks and sign reports (:mod:`~mpnet.viz.draw`), a connectome as an adjacency matrix
(:mod:`~mpnet.viz.draw_connectome`) and a reliability diagram (:mod:`~mpnet.viz.reliability`). Needs
matplotlib (extra ``viz``).

May import: :mod:`mpnet.graph`, :mod:`mpnet.signs` (to read a report). Nothing below imports it.
"""
