"""Conversions that later stages lend to :class:`~mpnet.graph.topology.Topology` (graph stage).

``Topology.to_dict``, ``to_pyg``, ``from_neat_json`` and their kin are the face users expect of a topology, but
their work lives in later stages (:mod:`mpnet.io.serialize`, :mod:`mpnet.io.neat_io`,
:mod:`mpnet.engine.compile`) that import the graph stage. So that the arrow points one way, each of those
modules lends its function here under a name when it is imported (``import mpnet`` imports them all), and the
method borrows it by that name. Nothing here imports anything of mpnet.
"""
from typing import Any, Callable, Dict, TypeVar

__all__ = ["lend", "borrow"]

F = TypeVar("F", bound=Callable[..., Any])

_LENT: Dict[str, Callable[..., Any]] = {}


def lend(name: str) -> Callable[[F], F]:
    """Decorator: register the function as the conversion ``name`` (one lender per name)."""
    def register(fn: F) -> F:
        if _LENT.get(name, fn) is not fn:
            raise RuntimeError(f"Conversion {name!r} is lent twice ({_LENT[name].__module__} and {fn.__module__}).")
        _LENT[name] = fn
        return fn
    return register


def borrow(name: str) -> Callable[..., Any]:
    """The function lent as ``name``.

    Raises:
        RuntimeError: nothing lent it (only if ``mpnet`` itself was never imported, which importing any of its
            modules does).
    """
    try:
        return _LENT[name]
    except KeyError:
        raise RuntimeError(f"Conversion {name!r} is not available: `import mpnet` registers every conversion "
                           f"(available now: {sorted(_LENT)}).") from None
