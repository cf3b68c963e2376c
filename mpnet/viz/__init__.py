"""Pictures: where each neuron goes (:mod:`~mpnet.viz.layout`), how each edge is painted and labelled
(:mod:`~mpnet.viz.edge_style`, :mod:`~mpnet.viz.edge_labels`, :mod:`~mpnet.viz.legend`), the drawings of
topologies, networks and sign reports (:mod:`~mpnet.viz.draw`), a connectome as an adjacency matrix
(:mod:`~mpnet.viz.draw_connectome`), a reliability diagram (:mod:`~mpnet.viz.reliability`) and a recurrent
network's activity over a run, traces and heatmaps (:mod:`~mpnet.viz.activity`). Needs matplotlib (extra ``viz``).

May import: :mod:`mpnet.graph`, :mod:`mpnet.model`, :mod:`mpnet.signs` (to read a report). Nothing below imports it.
"""
from .activity import activity_heatmap, activity_traces, read_activity

__all__ = ["activity_heatmap", "activity_traces", "read_activity"]
