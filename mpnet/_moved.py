"""Module paths that moved in 0.2 (into the stage subpackages) keep working for one release.

``import mpnet.topology`` or ``from mpnet.arrays import ArrayTopology`` still work: each old name is a thin module
whose attributes are the new module's (the same objects), and reading one warns with a ``DeprecationWarning``
that names the new path. The table is the record of what moved; CHANGELOG.md says the same in prose.
"""
import importlib
import sys
import types
import warnings
from typing import Any, Dict, List

__all__ = ["MOVED"]

#: old module -> new module
MOVED: Dict[str, str] = {f"mpnet.{old}": f"mpnet.{new}" for old, new in {
    "vocabulary": "graph.vocabulary", "validate": "graph.validate", "ties": "graph.ties",
    "topology": "graph.topology", "depth": "graph.depth", "columns": "graph.columns", "arrays": "graph.arrays",
    "sample": "graph.sample",
    "functional": "engine.functional", "compile": "engine.compile", "propagate": "engine.propagate",
    "state": "engine.state", "steps": "engine.steps", "recurrent": "engine.recurrent", "tiemap": "engine.tiemap",
    "persist": "model.persist",
    "jsonfile": "io.jsonfile", "serialize": "io.serialize", "neat_io": "io.neat_io", "formats": "io.formats",
    "csvdata": "io.csvdata", "export": "io.export",
    "layout": "viz.layout", "draw": "viz.draw", "draw_connectome": "viz.draw_connectome",
    "population": "scale.population", "ray_pool": "scale.ray_pool", "packed": "scale.packed",
    "syncs": "scale.syncs",
}.items()}


class _Alias(types.ModuleType):
    """An old module path: every attribute read is forwarded to the new module, with the warning."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name != "__all__":
            raise AttributeError(name)
        new = MOVED[self.__name__]
        warnings.warn(f"{self.__name__} moved to {new}: import it from there (the old path goes in 0.3).",
                      DeprecationWarning, stacklevel=2)
        return getattr(importlib.import_module(new), name)

    def __dir__(self) -> List[str]:
        return dir(importlib.import_module(MOVED[self.__name__]))


def install() -> None:
    """Register the old paths in ``sys.modules`` (once). The package's own attributes of the same name
    (``mpnet.draw`` the function, ``mpnet.sample`` and ``mpnet.export`` the modules) are left as they are."""
    package = sys.modules["mpnet"]
    for old, new in MOVED.items():
        if old not in sys.modules:
            sys.modules[old] = _Alias(old, f"Moved to :mod:`{new}` (this alias goes in 0.3).")
        if not hasattr(package, old.rpartition(".")[2]):
            setattr(package, old.rpartition(".")[2], sys.modules[old])
