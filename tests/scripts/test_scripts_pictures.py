"""scripts/pictures.py: one command regenerates every picture the docs show, and --check finds drift."""
import importlib.util
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pictures():
    spec = importlib.util.spec_from_file_location("pictures_script", ROOT / "scripts" / "pictures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _shown():
    """Every picture docs/ and the README show from docs/pictures."""
    shown = set()
    for doc in list((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]:
        shown |= set(re.findall(r"\]\((?:docs/)?pictures/([\w.]+\.png)\)", doc.read_text()))
    return shown


def test_the_script_makes_every_picture_the_docs_show_and_each_is_committed(pictures):
    assert _shown() and _shown() <= set(pictures.NAMES)
    for name in pictures.NAMES[:-1]:
        assert (pictures.PICTURES / name).read_bytes()[:4] == b"\x89PNG", name
    for name in ("question_signs.csv", "connectome_signs.csv"):
        assert (pictures.PICTURES / "data" / name).stat().st_size > 100, name
    # the reliability picture comes with the benchmark's rows (half an hour to make), or not at all
    assert ((pictures.PICTURES / "sign_reliability.png").exists()
            == (pictures.PICTURES / "data" / "sign_recovery_edges.csv").exists())


def _png(path, array):
    Image.fromarray(array.astype(np.uint8)).save(path)


def test_compare_tolerates_faint_noise_but_not_one_changed_digit(pictures, tmp_path):
    rng = np.random.default_rng(0)
    base = rng.integers(40, 216, (60, 80, 3))
    _png(tmp_path / "a.png", base)
    _png(tmp_path / "noise.png", base + rng.integers(-20, 21, base.shape))             # antialiasing-like
    digit = base.copy()
    digit[20:27, 30:35] = 255 - digit[20:27, 30:35]                                    # a digit's worth of ink
    _png(tmp_path / "digit.png", digit)
    _png(tmp_path / "wide.png", np.zeros((60, 81, 3)))
    assert pictures.compare(tmp_path / "a.png", tmp_path / "a.png", 0) is None
    assert pictures.compare(tmp_path / "a.png", tmp_path / "noise.png", 0) is None
    changed = int((np.abs(255 - 2 * base[20:27, 30:35]).max(axis=2) > 32).sum())
    assert pictures.compare(tmp_path / "a.png", tmp_path / "digit.png", 0) == \
        f"{changed} pixels differ visibly (tolerance 0)"
    assert pictures.compare(tmp_path / "a.png", tmp_path / "digit.png", changed) is None
    assert pictures.compare(tmp_path / "a.png", tmp_path / "wide.png", 0) == "size 80x60 committed, 81x60 drawn"
    assert pictures.compare(tmp_path / "none.png", tmp_path / "a.png", 0) == "not committed"
    assert pictures.compare(tmp_path / "a.png", tmp_path / "none.png", 0) == "not drawn"


def test_check_exits_1_naming_the_pictures_that_differ(pictures, tmp_path, monkeypatch, capsys):
    committed = tmp_path / "committed"
    committed.mkdir()
    names = [name for name in pictures.NAMES if (pictures.PICTURES / name).exists()]
    for name in names:
        shutil.copy(pictures.PICTURES / name, committed / name)

    def redraw(out, data, from_data, dpi, benchmark):       # the drawing itself is tested elsewhere: copy them
        assert from_data and data == committed / "data"     # --from-data reads the committed data
        for name in names:
            shutil.copy(committed / name, out / name)
        flipped = np.asarray(Image.open(out / "random_dag.png").convert("RGB"))[::-1]
        Image.fromarray(np.ascontiguousarray(flipped)).save(out / "random_dag.png")
        return names
    monkeypatch.setattr(pictures, "regenerate", redraw)
    assert pictures.main(["--check", "--from-data", "--out-dir", str(committed)]) == 1
    out, err = capsys.readouterr()
    assert "random_dag.png" in err and f"1 of {len(names)} pictures differ" in err
    assert re.search(r"question_signs.png\s+same", out)
    assert re.search(r"random_dag.png\s+\d+ pixels differ visibly", out)


def test_bad_arguments_exit_with_one_line(pictures, tmp_path, capsys):
    for argv, wanted in ((["--check", "--tolerance", "-1"], "argument --tolerance: expected an int >= 0 (got -1)"),
                         (["--check", "--tolerance", "2.5"], "argument --tolerance: expected an int >= 0 (got '2.5')"),
                         (["--benchmark", str(tmp_path)], f"--benchmark {tmp_path}: no edges.csv there")):
        with pytest.raises(SystemExit) as exc:
            pictures.main(argv)
        assert exc.value.code == 2 and wanted in capsys.readouterr().err


@pytest.mark.slow
def test_the_committed_pictures_match_a_fresh_drawing_from_the_committed_data(pictures, capsys):
    # what CI runs (python scripts/pictures.py --check --from-data): the XOR search is rerun, the rest drawn
    assert pictures.main(["--check", "--from-data"]) == 0, capsys.readouterr()


def test_check_says_which_pictures_it_could_not_check(pictures, tmp_path, monkeypatch, capsys):
    committed = tmp_path / "committed"
    committed.mkdir()

    def redraw(out, data, from_data, dpi, benchmark):        # as if the benchmark's rows were missing
        for name in pictures.NAMES[:-1]:
            shutil.copy(pictures.PICTURES / name, out / name)
            shutil.copy(pictures.PICTURES / name, committed / name)
        return list(pictures.NAMES[:-1])
    monkeypatch.setattr(pictures, "regenerate", redraw)
    assert pictures.main(["--check", "--from-data", "--out-dir", str(committed)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"sign_reliability.png\s+not checked: no data", out)
    assert f"{len(pictures.NAMES) - 1} pictures in" in out and "not checked: sign_reliability.png" in out
