"""scripts/readme_outputs.py: quoted outputs rewritten from their commands, drift caught and named, durations
not compared."""
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "readme_outputs.py"
DOC = """# a readme

<!-- output: printf 'rows 3\\ntook 12 s\\n' -->
```text
$ printf 'rows 3\\ntook 12 s\\n'
rows 3
took 51 s
```
"""


def call(root, *args):
    return subprocess.run([sys.executable, str(SCRIPT), "--root", str(root), *args], capture_output=True, text=True)


def test_a_quoted_output_that_matches_up_to_durations_passes(tmp_path):
    (tmp_path / "README.md").write_text(DOC)
    done = call(tmp_path, "--check")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "every quoted output is what its command prints" in done.stdout


def test_drift_is_named_and_a_rewrite_fixes_it(tmp_path):
    (tmp_path / "README.md").write_text(DOC.replace("rows 3\n", "rows 4\n"))
    done = call(tmp_path, "--check")
    assert done.returncode == 1
    assert "README.md:3:" in done.stdout and "quoted: rows 4" in done.stdout and "now:    rows 3" in done.stdout
    assert call(tmp_path).returncode == 0
    assert "took 12 s" in (tmp_path / "README.md").read_text()
    assert call(tmp_path, "--check").returncode == 0


def test_a_marker_without_a_text_block_and_a_failing_command_are_errors(tmp_path):
    (tmp_path / "README.md").write_text("<!-- output: true -->\nno block\n")
    done = call(tmp_path, "--check")
    assert done.returncode == 1 and "must be followed by a ```text block" in done.stderr
    (tmp_path / "README.md").write_text("<!-- output: exit 3 -->\n```text\n```\n")
    done = call(tmp_path, "--check")
    assert done.returncode == 1 and "exited 3" in done.stderr


def test_docs_guides_are_read_too(tmp_path):
    (tmp_path / "README.md").write_text("# nothing quoted\n")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "guide.md").write_text(DOC.replace("rows 3\n", "rows 9\n"))
    done = call(tmp_path, "--check")
    assert done.returncode == 1 and "docs/guide.md:3:" in done.stdout
