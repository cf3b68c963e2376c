"""Every code block of README.md and docs/*.md works as pasted.

Each fenced block says what it is: ``python`` (a program: it runs alone in a fresh interpreter, its own imports
and its own data, nothing defined only in the prose around it), ``bash`` (commands that exist and whose options
parse), ``text`` (printed output, a formula or a drawing: never run) or a MyST directive (``{toctree}``).

The default run checks what costs no interpreter: every block is marked, every Python block compiles and uses
no name it does not define, every ``mpnet`` command line parses, every script and module named exists. The slow
set runs each Python block in a fresh interpreter (``import mpnet`` alone takes seconds of CPU) and each script
with ``--help``; ``.ci/run`` runs it. A comment ``<!-- docs-test: needs ray -->`` before a block names an
optional package the block needs; without it the block is skipped, saying so.
"""
import argparse
import builtins
import importlib.util
import os
import re
import shlex
import subprocess
import symtable
import sys
from pathlib import Path
from typing import List, NamedTuple, Set

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))
KINDS = {"python", "bash", "text"}
FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
NOTE = re.compile(r"<!--\s*docs-test:\s*(?P<what>.*?)\s*-->")
# seconds: the README's sign-inference block takes about a minute on a quiet 2-core machine, and had not
# finished after 15 minutes at a load average of 13 on those 2 cores
RUN_TIMEOUT = 1800


class Block(NamedTuple):
    page: Path
    line: int           # of the opening fence, 1-based
    info: str           # the fence's info string: the language, or a MyST directive
    code: str
    needs: List[str]    # optional packages named by a docs-test comment before the block

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(page: Path) -> List[Block]:
    """The fenced blocks of a Markdown page, with the docs-test note just above each."""
    out: List[Block] = []
    lines = page.read_text().splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, indent = m["fence"], len(m["indent"])
        end = i + 1
        while end < len(lines) and lines[end].strip() != fence:
            end += 1
        if end == len(lines):
            raise AssertionError(f"{page.relative_to(ROOT)}:{i + 1}: the block opened here is never closed")
        body = [line[indent:] if line[:indent].strip() == "" else line for line in lines[i + 1:end]]
        above = next((lines[k] for k in range(i - 1, -1, -1) if lines[k].strip()), "")
        note = NOTE.search(above)
        needs = [w[len("needs "):].strip() for w in (note["what"].split(",") if note else ())
                 if w.strip().startswith("needs ")]
        out.append(Block(page, i + 1, m["info"].strip(), "\n".join(body) + "\n", needs))
        i = end + 1
    return out


ALL = [b for page in PAGES for b in blocks(page)]
PYTHON = [b for b in ALL if b.info == "python"]
BASH = [b for b in ALL if b.info == "bash"]


def by_place(items: List[Block]) -> List[object]:
    return [pytest.param(b, id=b.where) for b in items]


def test_the_pages_have_blocks_of_each_kind():
    # the extraction itself: a regression that finds no blocks would make every test below pass vacuously
    assert len(PYTHON) >= 10 and len(BASH) >= 3, [b.where for b in ALL]
    assert any(b.page.name == "README.md" for b in PYTHON)


def toctree_entries(page: Path) -> List[str]:
    """The page names listed in the ``{toctree}`` blocks of a page (their ``:option:`` lines left out)."""
    return [line.strip() for b in blocks(page) if b.info == "{toctree}"
            for line in b.code.splitlines() if line.strip() and not line.strip().startswith(":")]


# the pages Sphinx's html builder writes itself: a guide of that name is overwritten (docs/search.md was, the
# "Search at scale" guide lost behind Sphinx's search box)
SPHINX_PAGES = {"search", "genindex", "py-modindex"}


@pytest.mark.parametrize("page", [p for p in PAGES if p.parent.name == "docs"], ids=lambda p: p.name)
def test_every_guide_is_in_the_table_of_contents_under_a_name_of_its_own(page):
    assert page.stem not in SPHINX_PAGES, f"docs/{page.name}: Sphinx writes its own {page.stem}.html; rename the page"
    listed = [name for p in PAGES if p.parent.name == "docs" for name in toctree_entries(p)]
    assert page.stem == "index" or page.stem in listed, f"docs/{page.name} is in no toctree (they list {listed})"


EXTRA = re.compile(r"(?:\.|mpnet)\[(?P<names>[\w, -]+)\]|the `(?P<one>[\w-]+)` extra")


def test_every_extra_the_pages_name_is_one_the_package_has():
    # the README once told users to install a [scatter] extra that pyproject.toml no longer had
    import tomllib
    extras = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"])
    named = {(page.relative_to(ROOT).as_posix(), name.strip()) for page in PAGES
             for m in EXTRA.finditer(page.read_text()) for name in (m["names"] or m["one"]).split(",")}
    assert len(named) >= 5, named   # the pattern itself: one that matched nothing would pass vacuously
    assert not {(page, name) for page, name in named if name not in extras}, f"pyproject.toml's extras: {extras}"


@pytest.mark.parametrize("block", by_place(ALL))
def test_every_block_says_what_it_is(block):
    assert block.info in KINDS or block.info.startswith("{"), (
        f"{block.where}: a block marked {block.info!r}; mark it python (runs as pasted), bash (commands), "
        f"or text (output, a formula, a drawing: not run)")


def undefined_names(code: str) -> Set[str]:
    """Names the program reads but never binds (nor Python's builtins): the ones it expects from the prose."""
    top = symtable.symtable(code, "<block>", "exec")
    bound = {s.get_name() for s in top.get_symbols() if s.is_assigned() or s.is_imported() or s.is_namespace()}
    read: Set[str] = set()
    tables = [top]
    while tables:
        table = tables.pop()
        tables.extend(table.get_children())
        for s in table.get_symbols():
            if s.is_referenced() and (table is top or s.is_global()):
                read.add(s.get_name())
    return read - bound - set(dir(builtins))


@pytest.mark.parametrize("block", by_place(PYTHON))
def test_python_block_defines_every_name_it_uses(block):
    compile(block.code, block.where, "exec")
    missing = undefined_names(block.code)
    assert not missing, f"{block.where} uses {sorted(missing)} without defining or importing them"


def commands(code: str) -> List[List[str]]:
    """The simple commands of a shell block: lines joined at a trailing backslash, split at && ; and |, comments
    and ``VAR=value`` prefixes dropped."""
    out: List[List[str]] = []
    for line in code.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        current: List[str] = []
        for token in list(lexer) + [";"]:
            if token and set(token) <= set(";&|"):
                while current and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", current[0]):
                    current.pop(0)
                if current:
                    out.append(current)
                current = []
            else:
                current.append(token)
    return out


def _mpnet_parser() -> argparse.ArgumentParser:
    from mpnet.cli import build_parser
    return build_parser()


def check_command(argv: List[str]) -> None:
    """What can be checked without starting a program: the program exists, and an mpnet command line parses."""
    program = argv[0]
    if program == ".":                    # `. .venv/bin/activate`: a shell builtin reading a file it makes
        return
    if program == "mpnet":
        try:
            _mpnet_parser().parse_args(argv[1:])
        except SystemExit as exit:
            assert exit.code == 0, f"`{shlex.join(argv)}` does not parse (exit {exit.code})"
        return
    if program == "pip":
        assert importlib.util.find_spec("pip") is not None
        return
    if program == "bash":
        assert (ROOT / argv[1]).is_file(), f"`{shlex.join(argv)}`: no file {argv[1]}"
        return
    assert program in ("python", "python3"), f"`{shlex.join(argv)}`: unknown program {program!r}"
    if argv[1] == "-m":
        assert importlib.util.find_spec(argv[2]) is not None, f"`{shlex.join(argv)}`: no module {argv[2]}"
    else:
        assert (ROOT / argv[1]).is_file(), f"`{shlex.join(argv)}`: no script {argv[1]}"


@pytest.mark.parametrize("block", by_place(BASH))
def test_shell_block_names_commands_that_exist(block, capsys):
    argv_list = commands(block.code)
    assert argv_list, f"{block.where}: a bash block with no command"
    for argv in argv_list:
        check_command(argv)
    capsys.readouterr()   # --help printed by a parsed command line


def _env() -> dict:
    env = dict(os.environ, MPLBACKEND="Agg")
    # the interpreter's own bin first: `pip`, `python` and `mpnet` are this environment's
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    return env


@pytest.mark.slow
@pytest.mark.parametrize("block", by_place(PYTHON))
def test_python_block_runs_as_pasted(block, tmp_path):
    for package in block.needs:
        if importlib.util.find_spec(package) is None:
            pytest.skip(f"{block.where} needs {package}, which is not installed")
    script = tmp_path / "block.py"
    script.write_text(block.code)
    # a fresh interpreter in an empty folder: nothing from the checkout but the installed package
    run = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=_env(), capture_output=True,
                         text=True, timeout=RUN_TIMEOUT)
    assert run.returncode == 0, f"{block.where} failed:\n{run.stdout[-3000:]}\n{run.stderr[-5000:]}"


def _help_command(argv: List[str]) -> List[str]:
    """The command cut before its first option, asking for --help (scripts and the mpnet command)."""
    if argv[0] in ("python", "python3") and argv[1] != "-m":
        head = argv[:2] + [a for a in argv[2:3] if not a.startswith("-") and not os.path.splitext(a)[1]]
        return [sys.executable] + head[1:] + ["--help"]
    if argv[0] == "mpnet":
        return [sys.executable, "-m", "mpnet"] + [a for a in argv[1:2] if not a.startswith("-")] + ["--help"]
    return []


@pytest.mark.slow
@pytest.mark.parametrize("block", by_place(BASH))
def test_shell_block_commands_answer_help(block, tmp_path):
    for argv in commands(block.code):
        help_argv = _help_command(argv)
        if not help_argv:
            continue
        run = subprocess.run(help_argv, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=300)
        assert run.returncode == 0 and "usage" in run.stdout.lower(), (
            f"{block.where}: `{shlex.join(help_argv[1:])}` exits {run.returncode}:\n{run.stderr[-2000:]}")
