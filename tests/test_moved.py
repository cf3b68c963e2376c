"""mpnet/_moved.py: every module path of 0.1 still imports and gives the same objects, with a warning naming the
new path; the top-level names that share an old module's name stay what they were."""
import importlib
import subprocess
import sys

import pytest

import mpnet
from mpnet._moved import MOVED


@pytest.mark.parametrize("old, new", sorted(MOVED.items()))
def test_old_path_imports_with_a_warning_naming_the_new_one(old, new):
    alias = importlib.import_module(old)
    target = importlib.import_module(new)
    names = getattr(target, "__all__", [n for n in vars(target) if not n.startswith("_")])
    with pytest.warns(DeprecationWarning, match=f"{old} moved to {new}"):
        assert names and all(getattr(alias, n) is getattr(target, n) for n in names)


@pytest.mark.slow   # ~5 CPU s of imports in a fresh interpreter; CI runs it (.ci/run)
def test_from_import_of_an_old_path_works_in_a_fresh_interpreter():
    code = ("import warnings; import mpnet; warnings.simplefilter('error')\n"
            "try:\n    from mpnet.topology import Topology\nexcept DeprecationWarning as w:\n    print(w)\n"
            "warnings.simplefilter('ignore')\n"
            "from mpnet.topology import Topology\nimport mpnet\nprint(Topology is mpnet.Topology)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["mpnet.topology moved to mpnet.graph.topology: import it from there (the old path "
                                "goes in 0.3).", "True"]


def test_new_paths_and_top_level_names_do_not_warn(recwarn):
    import mpnet.graph.topology  # noqa: F401
    assert mpnet.sample.random_dag and mpnet.export.to_onnx and callable(mpnet.draw)
    assert not [w for w in recwarn if "moved to" in str(w.message)]
