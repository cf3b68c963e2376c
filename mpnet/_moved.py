"""Module paths that moved in 0.2 (into the stage subpackages) keep importing for one release.

``import mpnet.topology`` or ``from mpnet.arrays import ArrayTopology`` still work: the old name is a thin module
that re-exports the new one's names (the same objects) after a ``DeprecationWarning`` that names the new path.
The table is the record of what moved; CHANGELOG.md says the same in prose.
"""
import importlib
import importlib.abc
import importlib.machinery
import sys
import types
import warnings
from typing import Dict, Optional, Sequence

__all__ = ["MOVED"]

#: old module -> new module
MOVED: Dict[str, str] = {f"mpnet.{old}": f"mpnet.{new}" for old, new in {
    "vocabulary": "graph.vocabulary", "validate": "graph.validate", "ties": "graph.ties",
    "topology": "graph.topology", "depth": "graph.depth", "columns": "graph.columns", "arrays": "graph.arrays",
    "sample": "graph.sample",
    "functional": "engine.functional", "compile": "engine.compile", "propagate": "engine.propagate",
    "state": "engine.state", "steps": "engine.steps", "recurrent": "engine.recurrent", "tiemap": "engine.tiemap",
    "jsonfile": "io.jsonfile", "serialize": "io.serialize", "neat_io": "io.neat_io", "formats": "io.formats",
    "csvdata": "io.csvdata", "export": "io.export",
    "layout": "viz.layout", "draw": "viz.draw", "draw_connectome": "viz.draw_connectome",
    "population": "scale.population", "ray_pool": "scale.ray_pool", "packed": "scale.packed",
    "syncs": "scale.syncs",
}.items()}


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds the old names of :data:`MOVED` and loads each as a thin module over the new one."""

    def find_spec(self, fullname: str, path: Optional[Sequence[str]] = None,
                  target: Optional[types.ModuleType] = None) -> Optional[importlib.machinery.ModuleSpec]:
        if fullname not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> Optional[types.ModuleType]:
        return None   # the default: a fresh, empty module

    def exec_module(self, module: types.ModuleType) -> None:
        new = MOVED[module.__name__]
        warnings.warn(f"{module.__name__} moved to {new}: import it from there (the old path goes in 0.3).",
                      DeprecationWarning, stacklevel=2)
        target = importlib.import_module(new)
        module.__dict__.update({k: v for k, v in vars(target).items() if not k.startswith("__") or k == "__all__"})
        module.__doc__ = f"Moved to :mod:`{new}` (this alias goes in 0.3)."


def install() -> None:
    """Put the alias finder on ``sys.meta_path`` (once)."""
    if not any(isinstance(f, _Alias) for f in sys.meta_path):
        sys.meta_path.append(_Alias())
