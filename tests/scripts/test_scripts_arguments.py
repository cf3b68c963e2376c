"""Every script in scripts/ handles a bad argument as the ``mpnet`` command does: exit code 2, one line on stderr
naming the argument, no traceback (scripts/_args.py holds the shared parser, types and guard)."""
import argparse
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import _args  # noqa: E402


# ------------------------------------------------------------------------------------------ the types
def _rejects(parse, text, match):
    with pytest.raises(argparse.ArgumentTypeError, match=match):
        parse(text)


def test_int_and_number_types_say_what_they_expect_and_what_came():
    assert _args.int_at_least(1)("3") == 3 and _args.int_in(0, 5)("5") == 5
    _rejects(_args.int_at_least(1), "0", r"expected an int >= 1 \(got 0\)")
    _rejects(_args.int_at_least(1), "1.5", r"expected an int >= 1 \(got '1.5'\)")
    _rejects(_args.int_in(1, 8), "9", r"expected an int in 1 .. 8 \(got 9\)")
    assert _args.number(0, open_low=True)("0.5") == 0.5
    for bad in ("0", "nan", "inf", "-1", "x"):
        _rejects(_args.number(0, open_low=True), bad, rf"expected a finite number > 0 \(got '{bad}'\)")
    _rejects(_args.number(0, 1), "1.5", r"expected a finite number >= 0 and <= 1")


def test_lists_name_the_bad_item():
    parse = _args.comma_list(_args.one_of(["a", "b"]))
    assert parse("a,b, a") == ["a", "b", "a"]
    _rejects(parse, "a,c", r"item 'c': invalid choice 'c'; expected one of \['a', 'b'\]")
    _rejects(parse, "a,,b", r"without empty items")
    _rejects(parse, "", r"without empty items")


def test_file_types_check_before_any_work(tmp_path):
    write = _args.writable_file((".png",))
    assert write(str(tmp_path / "p.png")) == str(tmp_path / "p.png")
    _rejects(write, str(tmp_path / "no" / "p.png"), r"directory .*no' does not exist")
    _rejects(write, str(tmp_path), r"is a directory; name the file to write")
    _rejects(write, str(tmp_path / "p.txt"), r"should end in one of \['.png'\]")
    assert _args.existing("dir")(str(tmp_path)) == str(tmp_path)
    _rejects(_args.existing("file"), str(tmp_path), r"no such file: .* \(it is a directory\)")
    _rejects(_args.existing("dir"), str(tmp_path / "x"), r"no such directory")


def test_guarded_turns_a_late_mistake_into_one_line_and_a_bug_into_exit_1(capsys):
    from mpnet.errors import ArgumentError

    def mistake(argv):
        raise ArgumentError("Expected epochs to be an int >= 1\n(got 0).")

    def bug(argv):
        raise KeyError("oops")

    assert _args.guarded(mistake, [], prog="x.py") == 2
    assert capsys.readouterr().err == "x.py: error: Expected epochs to be an int >= 1 (got 0).\n"
    assert _args.guarded(bug, [], prog="x.py") == 1
    assert "x.py: internal error: KeyError: 'oops' (run with --debug" in capsys.readouterr().err
    with pytest.raises(KeyError):
        _args.guarded(bug, ["--debug"], prog="x.py")
    assert _args.guarded(lambda argv: {"a": 1}, [], prog="x.py") == 0 and _args.guarded(lambda argv: 3, []) == 3


def test_parser_errors_are_one_line(capsys):
    parser = _args.Parser(prog="x.py")
    parser.add_argument("--n", type=_args.int_at_least(1))
    with pytest.raises(SystemExit) as info:
        parser.parse_args(["--n", "0"])
    assert info.value.code == 2
    assert capsys.readouterr().err == "x.py: error: argument --n: expected an int >= 1 (got 0) (see x.py --help)\n"


# ------------------------------------------------------------------------------- every script, as run
# Each case runs the script as `python scripts/<name> ARGS` would (runpy as __main__, sys.argv set), all in one fresh
# interpreter so that torch is imported once; a case is (script, arguments, what its one line must say).
D = "{tmp}"
CASES = [
    ("search.py", ["xor", "--finetune", "-5"], r"argument --finetune: expected an int >= 0 \(got -5\)"),
    ("search.py", ["xor", "--chunk-size", "0"], r"argument --chunk-size: expected an int >= 1 \(got 0\)"),
    ("search.py", ["bench", "--jobs", "0"], r"argument --jobs: expected an int >= 1 \(got 0\)"),
    ("search.py", ["xor", "--workers", "0"], r"argument --workers: expected an int >= 1"),
    ("search.py", ["xor", "--lr", "nan", "--finetune", "3"], r"argument --lr: expected a finite number > 0"),
    ("search.py", ["xor", "--resume", D, "--population", "20"], r"--population: a resumed run continues with the "
                                                                r"settings saved in"),
    ("search.py", ["xor", "--resume", D, "--seed", "1", "--set", "add_node_rate=0.2"], r"--seed, --set: a resumed run"),
    ("search.py", ["xor", "--resume", D, "--finetune", "5"], r"--finetune: a resumed run"),
    ("search.py", ["xor", "--lr", "0.1"], r"--lr: only read with --finetune"),
    ("search.py", ["xor", "--workers", "2"], r"--workers: only read with --evaluator ray"),
    ("search.py", ["bench", "--population", "30"], r"--population: not read by bench"),
    ("search.py", ["xor", "--seeds", "3"], r"--seeds: only read by bench"),
    ("search.py", ["xor", "--set", "nosuch=1"], r"Unknown NEATConfig field 'nosuch'"),
    ("search.py", ["xor", "--resume", D + "/none"], r"No checkpoint in '.*none'"),
    ("search.py", ["pole", "--finetune", "3", "--generations", "1", "--no-progress"], r"cannot be fine-tuned"),
    ("train_many.py", ["--epochs", "0"], r"argument --epochs: expected an int >= 1 \(got 0\)"),
    ("train_many.py", ["--loss", "hinge"], r"argument --loss: invalid choice: 'hinge'"),
    ("train_many.py", ["--workers", "3"], r"--workers: only read with --ray"),
    ("train_many.py", ["--data", D + "/none.jsonl"], r"argument --data: no such file"),
    ("make_topologies.py", ["--n", "0"], r"argument --n: expected an int in 1 .. 1000000 \(got 0\)"),
    ("make_topologies.py", ["--out", D], r"argument --out: .* is a directory"),
    ("make_connectome.py", ["--out", D], r"argument --out: .* is a directory"),
    ("connectome_signs.py", ["--epochs", "0"], r"argument --epochs: expected an int in 1 \.\. "),
    ("connectome_signs.py", ["--picture", D + "/p.txt"], r"argument --picture: .*p\.txt' should end in one of"),
    ("connectome_signs.py", ["--picture", D + "/no/p.png"], r"argument --picture: .* does not exist"),
    ("sign_recovery.py", ["--activations", "relu,sigmod"], r"argument --activations: item 'sigmod'"),
    ("sign_recovery.py", ["--noises", "0.1,nan"], r"argument --noises: item 'nan'"),
    ("sign_recovery.py", ["--threshold", "0.5"], r"--threshold: only read with --rescore"),
    ("sign_recovery.py", ["--rescore", D], r"argument --rescore: .* holds no edges\.csv"),
    ("docstrings.py", ["--strict", "--nope"], r"unrecognized arguments: --nope"),
    ("readme_outputs.py", ["--timeout", "0"], r"argument --timeout: expected a finite number > 0"),
    ("readme_outputs.py", ["--root", D], r"argument --root: no README\.md in"),
    ("quickstart.py", ["--epochs", "3"], r"unrecognized arguments: --epochs 3"),
    ("recorded_neurons.py", ["--samples", "2"], r"argument --samples: expected an int in 4 \.\. "),
    ("recorded_neurons.py", ["--noise", "-1"], r"argument --noise: expected a finite number >= 0"),
    ("noise_floor.py", ["--jobs", "0"], r"argument --jobs: expected an int in 1 \.\. 1024 \(got 0\)"),
    ("noise_floor.py", ["--teachers", "x"], r"argument --teachers: expected an int in 1 \.\. 10000 \(got 'x'\)"),
    ("pictures.py", ["--dpi", "0"], r"argument --dpi: expected an int in 10 \.\. 1200 \(got 0\)"),
    ("pictures.py", ["--tolerance", "3"], r"--tolerance: only read with --check"),
    ("adversary.py", ["--only", "no such class"], r"argument --only: no input class contains 'no such class'"),
    ("bench.py", ["core", "--threads", "0"], r"^bench\.py core: error: argument --threads: expected an int in 1"),
    ("bench.py", ["core", "--batch", "-1"], r"argument --batch: expected an int in 1"),
    ("bench.py", ["scaling", "--timeout", "nan"], r"argument --timeout: expected a finite number > 0"),
    ("bench.py", ["scaling", "--sizes", "100", "0"], r"argument --sizes: expected an int in 1"),
    ("bench.py", ["threads", "--busy", "-1"], r"argument --busy: expected an int in 0 \.\. 256"),
    ("bench.py", ["threads", "--markdown", D + "/no/t.md"], r"argument --markdown: .* does not exist"),
    ("bench.py", ["gpu", "--threads", "0"], r"argument --threads: expected an int in 1"),
    ("bench.py", ["--busy", "-2"], r"^bench\.py: error: argument --busy: expected an int in 0"),
    ("bench.py", ["--ray", "--recurrent-only"], r"--recurrent-only and --ray: choose one"),
    ("bench.py", ["--ray", "--markdown", D + "/r.md"], r"--markdown: only read by the full suite"),
    ("bench.py", ["--tensorneat", D + "/none"], r"argument --tensorneat: no such directory"),
]

DRIVER = textwrap.dedent("""
    import contextlib, io, json, os, runpy, sys, warnings
    warnings.simplefilter("ignore")
    root, cases = sys.argv[1], json.loads(sys.argv[2])
    results = []
    for script, argv in cases:
        sys.argv = [os.path.join("scripts", script), *argv]
        err = io.StringIO()
        code = 0
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                runpy.run_path(os.path.join(root, "scripts", script), run_name="__main__")
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else 1
            except BaseException as e:   # escaped the script: a traceback on the shell
                code, err = "escaped", io.StringIO(f"Traceback: {type(e).__name__}: {e}")
        results.append([code, err.getvalue()])
    print(json.dumps(results))
""")


@pytest.mark.slow
def test_every_script_refuses_a_bad_argument_in_one_line(tmp_path):
    cases = [(script, [a.replace(D, str(tmp_path)) for a in argv]) for script, argv, _ in CASES]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", DRIVER, str(ROOT), json.dumps(cases)], capture_output=True,
                         text=True, cwd=str(tmp_path), env=env, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    results = json.loads(out.stdout.strip().splitlines()[-1])
    import re
    failures = []
    for (script, argv, match), (code, err) in zip(CASES, results):
        lines = [line for line in err.splitlines() if line.strip()]
        if code != 2 or len(lines) != 1 or "Traceback" in err or not re.search(match, lines[0]):
            failures.append(f"{script} {' '.join(argv)}: exit {code}, stderr {err.strip()[-300:]!r}")
    assert not failures, "\n".join(failures)


def _scripts():
    """The scripts of the checkout (those git tracks, so a script still being written is not judged yet)."""
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "ls-files", "scripts"], capture_output=True, text=True,
                             timeout=60)
        tracked = [ROOT / line for line in out.stdout.splitlines()] if out.returncode == 0 else []
    except OSError:
        tracked = []
    paths = tracked or list((ROOT / "scripts").rglob("*.py"))
    return sorted(p for p in paths if p.suffix == ".py" and p.name != "_args.py" and p.exists())


def test_every_script_uses_the_shared_argument_handling():
    """A script added later joins the rule: one run as a command (it has a ``__main__`` block) parses with
    _args.Parser and runs under _args.guarded, or is the dispatcher scripts/bench.py, which hands its arguments on."""
    lacking = []
    for path in _scripts():
        text = path.read_text()
        if "__main__" in text and path.name != "bench.py" and not ("_args import" in text and "Parser" in text):
            lacking.append(str(path.relative_to(ROOT)))
    assert not lacking, f"scripts without _args' one-line errors: {lacking}"
