"""Stage 1, the declaration: what a network is, in pure Python and numpy columns (no torch graph yet).

:mod:`~mpnet.graph.topology` (``Topology``, built from :mod:`~mpnet.graph.elements`, checked by
:mod:`~mpnet.graph.validate`, tied by :mod:`~mpnet.graph.ties`), :mod:`~mpnet.graph.arrays` (``ArrayTopology``,
the same as columns; :mod:`~mpnet.graph.columns`, :mod:`~mpnet.graph.depth`), :mod:`~mpnet.graph.sample`
(random wirings) and :mod:`~mpnet.graph.vocabulary` (activation and aggregation names).

May import: :mod:`mpnet.errors`, :mod:`mpnet.checks`, :mod:`mpnet.threads`. Later stages lend it conversions
through :mod:`~mpnet.graph.adapters`.
"""
