"""The wheel a normal install gets: built from this checkout, installed non-editably, it has its package data.

A user who runs ``pip install <checkout>`` (not ``-e``) gets only what the wheel holds; a file that the API
reads but the wheel lacks shows up as a ``FileNotFoundError`` there and never in an editable checkout. So the
wheel is built here, installed into a folder of its own, and a fresh interpreter loads the connectome from it.
"""
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# a fresh interpreter that imports mpnet from the installed folder, never from the checkout
PROBE = """
import os, sys
import mpnet
from mpnet import connectome
from mpnet.signs import calibration
target = os.path.realpath(sys.argv[1])
assert os.path.realpath(mpnet.__file__).startswith(target + os.sep), mpnet.__file__
assert os.path.realpath(connectome.DATA_DIR).startswith(target + os.sep), connectome.DATA_DIR
topo = connectome.load()
assert len(topo.inputs) == 85 and len(topo.outputs) == 126 and len(topo.ties) == 1091, repr(topo)
assert connectome.available() == ["cook2019_herm"], connectome.available()
assert connectome.provenance()["cect_version"] == "0.3.5"
assert os.path.exists(calibration.TABLE_PATH), calibration.TABLE_PATH
print("loaded", repr(topo), "from", os.path.dirname(mpnet.__file__))
"""


def _source_data_files() -> set:
    """Every non-Python file of the package in this checkout (what the API may read at run time)."""
    package = ROOT / "mpnet"
    return {p.relative_to(ROOT).as_posix() for p in package.rglob("*")
            if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts}


@pytest.mark.slow
def test_a_non_editable_install_has_the_connectome(tmp_path):
    # build from a copy, so the checkout gets no build/ or egg-info from this test
    src = tmp_path / "src"
    shutil.copytree(ROOT / "mpnet", src / "mpnet", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src / name)
    wheels = tmp_path / "wheels"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    built = subprocess.run(pip + ["wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels), str(src)],
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = wheels.glob("mpnet-*.whl")

    shipped = set(zipfile.ZipFile(wheel).namelist())
    missing = sorted(_source_data_files() - shipped)
    assert not missing, f"package data left out of the wheel: {missing} (pyproject.toml [tool.setuptools.package-data])"
    assert "mpnet/data/celegans/cook2019_herm.json" in shipped

    target = tmp_path / "site"
    installed = subprocess.run(pip + ["install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                               capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    # dependencies (torch, torch_geometric, ...) from this interpreter's environment; mpnet from the target only.
    # Run from tmp_path, so the checkout (the current directory) is not on the path either.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(target)
    run = subprocess.run([sys.executable, "-c", PROBE, str(target)], capture_output=True, text=True,
                         cwd=tmp_path, env=env, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "loaded Topology(inputs=85, outputs=126" in run.stdout
