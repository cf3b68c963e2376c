"""Many networks at once and beyond one process: :mod:`~mpnet.scale.population` (``train_population``, a chunk's
training in :mod:`~mpnet.scale.chunks`, its Ray workers in :mod:`~mpnet.scale.population_ray`),
:mod:`~mpnet.scale.packed` (a generation as a few numpy columns), :mod:`~mpnet.scale.ray_pool` (Ray workers,
optional extra ``ray``) and :mod:`~mpnet.scale.syncs` (counting device-to-host synchronisations).

May import: :mod:`mpnet.graph`, :mod:`mpnet.engine`, :mod:`mpnet.model`, :mod:`mpnet.train`.
"""
