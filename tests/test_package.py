"""mpnet/__init__.py: the package's face — its version agrees with pyproject.toml and the CHANGELOG."""
import re
from pathlib import Path

import mpnet

ROOT = Path(__file__).resolve().parents[1]


def test_the_version_is_the_same_in_pyproject_the_package_and_the_changelog():
    pyproject = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M).group(1)
    releases = re.findall(r"^## \[(\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2}$", (ROOT / "CHANGELOG.md").read_text(), re.M)
    assert mpnet.__version__ == pyproject == releases[0], (mpnet.__version__, pyproject, releases[:1])
    assert re.search(r"^## \[Unreleased\]$", (ROOT / "CHANGELOG.md").read_text(), re.M)

