#!/usr/bin/env python
"""Regenerate the command outputs that README.md and docs/*.md quote, or check that they have not drifted.

A quoted output is a ```text block right after a marker line naming the command that prints it:

    <!-- output: mpnet demo -->
    ```text
    $ mpnet demo
    ...what it printed...
    ```

    python scripts/readme_outputs.py            # run every marked command, rewrite its block
    python scripts/readme_outputs.py --check    # run them, exit 1 naming each block that differs
    python scripts/readme_outputs.py --list     # the marked commands, where they are

Commands run from the repository root with ``MPNET_THREADS=1`` (one thread per pass: the same numbers on every
run; the thread policy otherwise picks by timing). Durations (``51 s``, ``0.3 ms``) are left out of the
comparison, since they are the one thing a rerun never repeats; every other character must match.
"""
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import List, NamedTuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _args import Parser, guarded, number  # noqa: E402  (the scripts' shared argument handling)

ROOT = Path(__file__).resolve().parents[1]
MARKER = re.compile(r"^<!-- output: (?P<command>.+?) -->\s*$")
DURATION = re.compile(r"\b\d+(?:[.,]\d+)?\s?(?:s|ms|min|seconds)\b")


class Block(NamedTuple):
    path: str
    line: int          # 1-based line of the marker
    command: str
    start: int         # index of the first line inside the fence
    stop: int          # index of the closing fence


def files(root: Path) -> List[str]:
    """README.md and the guides under docs/, relative to ``root``."""
    return ["README.md", *sorted(str(p.relative_to(root)) for p in (root / "docs").glob("*.md"))]


def find_blocks(root: Path, path: str) -> List[Block]:
    lines = (root / path).read_text().splitlines()
    blocks = []
    for i, line in enumerate(lines):
        m = MARKER.match(line)
        if not m:
            continue
        if i + 1 >= len(lines) or lines[i + 1].strip() != "```text":
            raise SystemExit(f"{path}:{i + 1}: a marker must be followed by a ```text block.")
        stop = next((j for j in range(i + 2, len(lines)) if lines[j].strip() == "```"), None)
        if stop is None:
            raise SystemExit(f"{path}:{i + 1}: the ```text block after the marker is not closed.")
        blocks.append(Block(path, i + 1, m.group("command"), i + 2, stop))
    return blocks


def run(root: Path, command: str, timeout: float) -> List[str]:
    env = {**os.environ, "MPNET_THREADS": "1", "COLUMNS": "200"}
    done = subprocess.run(command, shell=True, cwd=root, env=env, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise SystemExit(f"`{command}` exited {done.returncode}:\n{done.stderr[-2000:]}")
    return [f"$ {command}"] + done.stdout.rstrip("\n").splitlines()


def masked(lines: List[str]) -> List[str]:
    return [DURATION.sub("<time>", line.rstrip()) for line in lines]


def main(argv: List[str]) -> int:
    parser = Parser(prog="readme_outputs.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare instead of rewriting; exit 1 on drift")
    parser.add_argument("--list", action="store_true", help="only list the marked commands")
    parser.add_argument("--timeout", type=number(0, open_low=True), default=600.0,
                        help="seconds per command (default: 600)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout (default: this script's)")
    args = parser.parse_args(argv)
    if not (args.root / "README.md").is_file():
        parser.error(f"argument --root: no README.md in {args.root}")
    if args.check and args.list:
        parser.error("--check and --list: choose one (--list runs nothing, so there is nothing to check)")
    drifted = 0
    for path in files(args.root):
        blocks = find_blocks(args.root, path)
        if args.list:
            for b in blocks:
                print(f"{path}:{b.line}: {b.command}")
            continue
        lines = (args.root / path).read_text().splitlines()
        for b in reversed(blocks):          # from the end, so earlier indices stay valid
            new = run(args.root, b.command, args.timeout)
            old = lines[b.start:b.stop]
            if args.check:
                if masked(old) != masked(new):
                    drifted += 1
                    diff = next((i for i, (x, y) in enumerate(zip(masked(old), masked(new))) if x != y),
                                min(len(old), len(new)))
                    print(f"{path}:{b.line}: `{b.command}` prints something else now; first difference at line "
                          f"{diff + 1} of its block:\n  quoted: {old[diff] if diff < len(old) else '(nothing)'}\n"
                          f"  now:    {new[diff] if diff < len(new) else '(nothing)'}")
            else:
                lines[b.start:b.stop] = new
                print(f"{path}:{b.line}: `{b.command}` ({len(new)} lines)")
        if not args.check and blocks:
            (args.root / path).write_text("\n".join(lines) + "\n")
    if args.check:
        print(f"{drifted} quoted output(s) drifted" if drifted else "every quoted output is what its command prints")
    return 1 if drifted else 0


if __name__ == "__main__":
    sys.exit(guarded(main, sys.argv[1:], prog="readme_outputs.py"))
