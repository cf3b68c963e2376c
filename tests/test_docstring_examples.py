"""The Example sections of mpnet's docstrings run and print what they show (doctest), in every module.

The API reference renders them (docs/api.rst); this is what keeps them true. The entry points a new user meets
first must each have one.
"""
import doctest
import importlib
import importlib.util
import pkgutil
from typing import List

import pytest

import mpnet
from mpnet import connectome, search
from mpnet.graph.arrays import ArrayTopology
from mpnet.scale.population import train_population


def _modules_with_examples() -> List[str]:
    """The modules whose source holds a ``>>>`` (read without importing: some import optional extras)."""
    names = []
    for info in pkgutil.walk_packages(mpnet.__path__, "mpnet."):
        spec = importlib.util.find_spec(info.name)
        if spec is not None and spec.origin and spec.origin.endswith(".py"):
            with open(spec.origin) as f:
                if ">>>" in f.read():
                    names.append(info.name)
    return sorted(names)


MODULES = _modules_with_examples()
ENTRY_POINTS = [mpnet.Topology.from_edges, mpnet.Network, mpnet.fit, mpnet.infer_signs, search.run, connectome.load,
                ArrayTopology.from_arrays, ArrayTopology.from_batch, train_population]


def test_modules_with_examples_are_found():
    # a finder that found nothing would let every example rot unnoticed
    assert {"mpnet.train", "mpnet.connectome.wiring", "mpnet.graph.arrays", "mpnet.search.runner"} <= set(MODULES)


@pytest.mark.parametrize("entry", ENTRY_POINTS, ids=lambda f: f.__qualname__)
def test_entry_point_has_a_runnable_example(entry):
    text = entry.__doc__ or ""
    assert "Example:" in text and ">>>" in text, f"{entry.__module__}.{entry.__qualname__} has no Example section"


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    report: List[str] = []
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    tests = doctest.DocTestFinder(exclude_empty=True).find(module, name)
    assert tests, f"{name} holds '>>>' but doctest finds no example in it"
    for test in tests:
        runner.run(test, out=report.append)
    assert runner.failures == 0, "\n".join(report)
