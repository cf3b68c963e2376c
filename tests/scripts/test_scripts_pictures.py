"""scripts/pictures.py: regenerates every picture docs/pictures.md and the README show."""
import re
import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_pictures_script_writes_every_picture_the_docs_show(tmp_path, capsys):
    runpy.run_path(str(ROOT / "scripts" / "pictures.py"))["main"](["--out-dir", str(tmp_path), "--dpi", "60"])
    shown = set(re.findall(r"\(pictures/([\w.]+\.png)\)", (ROOT / "docs" / "pictures.md").read_text()))
    shown |= set(re.findall(r"\(docs/pictures/([\w.]+\.png)\)", (ROOT / "README.md").read_text()))
    assert shown and shown == {p.name for p in tmp_path.glob("*.png")}
    assert all((tmp_path / name).read_bytes()[:4] == b"\x89PNG" for name in shown)
