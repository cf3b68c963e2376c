"""The tests .ci/run names one by one (slow-marked ones it runs for the default run's sake) exist: a renamed or
deleted test would otherwise make CI's slow step fail, or, listed under a file's name, run nothing."""
import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NAMED = sorted(set(re.findall(r'"(tests/[\w/]+\.py)::(\w+)(?:\[[^"]*\])?"', (ROOT / ".ci" / "run").read_text())))


def test_the_slow_step_names_tests():
    assert len(NAMED) >= 5, NAMED    # the pattern itself: a regression that finds nothing would pass vacuously


@pytest.mark.parametrize("path,name", NAMED, ids=[f"{p}::{n}" for p, n in NAMED])
def test_each_named_test_exists_and_is_slow(path, name):
    tree = ast.parse((ROOT / path).read_text())
    found = [f for f in tree.body if isinstance(f, ast.FunctionDef) and f.name == name]
    assert found, f".ci/run names {path}::{name}, which {path} does not define"
    marks = [ast.unparse(d) for d in found[0].decorator_list]
    assert any("mark.slow" in m for m in marks), (
        f".ci/run names {path}::{name}, which is not marked slow: the default run has it already ({marks})")
