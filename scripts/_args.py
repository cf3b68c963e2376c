"""Command-line handling shared by the scripts (not a script): a mistake is one line naming the argument, exit
code 2, no traceback, as with the ``mpnet`` command.

    from _args import Parser, int_at_least, number, guarded      # a script puts its own folder on sys.path
    parser = Parser(description=...)
    parser.add_argument("--epochs", type=int_at_least(1), default=100)
    ...
    if __name__ == "__main__":
        sys.exit(guarded(main))

:class:`Parser` turns argparse's usage error into ``script.py: error: argument --epochs: expected an int >= 1
(got '0') (see script.py --help)``; the types below say what they expect and what came. :func:`guarded` runs
``main`` and turns a user's mistake that surfaces later (an mpnet error, a file that cannot be read or written,
a value mpnet refuses, a missing optional package) into the same one line; ``--debug`` (or ``MPNET_DEBUG=1``)
shows the traceback instead.
"""
import argparse
import math
import os
import sys
from typing import Callable, List, NoReturn, Optional, Sequence, TypeVar

T = TypeVar("T")

__all__ = ["Parser", "int_at_least", "int_in", "number", "one_of", "comma_list", "writable_file", "existing",
           "guarded", "fail"]


class Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line (the usage itself is one ``--help`` away)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def int_at_least(low: int, high: Optional[int] = None) -> Callable[[str], int]:
    """An argparse type: an int ``>= low`` (and ``<= high`` if given)."""
    span = f">= {low}" if high is None else f"in {low} .. {high}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an int {span} (got {text!r})") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"expected an int {span} (got {value})")
        return value
    parse.__name__ = "int"   # argparse names the type in its own messages
    return parse


def int_in(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: an int in ``low .. high``."""
    return int_at_least(low, high)


def number(low: float, high: Optional[float] = None, *, open_low: bool = False) -> Callable[[str], float]:
    """An argparse type: a finite number ``>= low`` (``> low`` if ``open_low``), ``<= high`` if given."""
    span = (f"> {low:g}" if open_low else f">= {low:g}") + ("" if high is None else f" and <= {high:g}")

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a finite number {span} (got {text!r})") from None
        if (not math.isfinite(value) or value < low or (open_low and value == low)
                or (high is not None and value > high)):
            raise argparse.ArgumentTypeError(f"expected a finite number {span} (got {text!r})")
        return value
    parse.__name__ = "number"
    return parse


def one_of(choices: Sequence[str]) -> Callable[[str], str]:
    """An argparse type for one name of ``choices`` (for lists: :func:`comma_list`)."""
    def parse(text: str) -> str:
        if text not in choices:
            raise argparse.ArgumentTypeError(f"invalid choice {text!r}; expected one of {list(choices)}")
        return text
    return parse


def comma_list(item: Callable[[str], T]) -> Callable[[str], List[T]]:
    """An argparse type: comma-separated items, each parsed by ``item`` (an error names the item); not empty."""
    def parse(text: str) -> List[T]:
        parts = [p.strip() for p in text.split(",")]
        if not text.strip() or any(not p for p in parts):
            raise argparse.ArgumentTypeError(f"expected a comma-separated list without empty items (got {text!r})")
        out = []
        for p in parts:
            try:
                out.append(item(p))
            except argparse.ArgumentTypeError as err:
                raise argparse.ArgumentTypeError(f"item {p!r}: {err}") from None
        return out
    parse.__name__ = "list"
    return parse


def writable_file(extensions: Sequence[str] = ()) -> Callable[[str], str]:
    """An argparse type: a file the script will write (checked before any work): not a directory, in an existing
    writable folder, ending in one of ``extensions`` if given."""
    def parse(text: str) -> str:
        if not text:
            raise argparse.ArgumentTypeError("expected a file name (got '')")
        if os.path.isdir(text):
            raise argparse.ArgumentTypeError(f"{text!r} is a directory; name the file to write")
        folder = os.path.dirname(os.path.abspath(text))
        if not os.path.isdir(folder):
            raise argparse.ArgumentTypeError(f"{text!r}: directory {folder!r} does not exist")
        if not os.access(folder, os.W_OK):
            raise argparse.ArgumentTypeError(f"{text!r}: directory {folder!r} is not writable")
        if extensions and not text.lower().endswith(tuple(extensions)):
            raise argparse.ArgumentTypeError(f"{text!r} should end in one of {list(extensions)}")
        return text
    parse.__name__ = "file"
    return parse


def existing(kind: str = "file") -> Callable[[str], str]:
    """An argparse type: an existing ``"file"`` or ``"dir"``."""
    def parse(text: str) -> str:
        ok = os.path.isdir(text) if kind == "dir" else os.path.isfile(text)
        if not ok:
            what = "directory" if kind == "dir" else "file"
            there = " (it is a directory)" if kind == "file" and os.path.isdir(text) else ""
            raise argparse.ArgumentTypeError(f"no such {what}: {text!r}{there}")
        return text
    parse.__name__ = kind
    return parse


def fail(message: str, prog: Optional[str] = None) -> NoReturn:
    """End the script as a usage mistake found after parsing: one line, exit code 2."""
    prog = prog or os.path.basename(sys.argv[0])
    print(f"{prog}: error: {' '.join(message.split())}", file=sys.stderr)
    raise SystemExit(2)


def guarded(main: Callable[..., object], argv: Optional[Sequence[str]] = None, prog: Optional[str] = None) -> int:
    """Run ``main(argv)`` (``main()`` when ``argv`` is None) and return the exit code: 0 (or what ``main``
    returns), 2 with one line on stderr for a user's mistake (an mpnet error, an OSError, a ValueError, a
    missing package), 1 with one line for anything else (a bug: the line says how to see the traceback), 130 on
    Ctrl-C. ``--debug`` among the arguments or ``MPNET_DEBUG=1`` re-raises instead, for the traceback."""
    prog = prog or os.path.basename(sys.argv[0])
    debug = os.environ.get("MPNET_DEBUG") == "1"
    if argv is None and "--debug" in sys.argv[1:]:
        sys.argv.remove("--debug")
        debug = True
    elif argv is not None and "--debug" in argv:
        argv, debug = [a for a in argv if a != "--debug"], True
    try:
        code = main() if argv is None else main(argv)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:
        if debug:
            raise
        errors = sys.modules.get("mpnet.errors")   # imported by now if mpnet could have raised one of its errors
        ours = errors is not None and isinstance(err, errors.MpnetError)
        text = " ".join(str(err).split())
        if ours or isinstance(err, (OSError, ValueError, ImportError)):
            print(f"{prog}: error: {text or type(err).__name__}", file=sys.stderr)
            return 2
        # a bug of the script or of mpnet: still one line, and the way to the traceback
        print(f"{prog}: internal error: {type(err).__name__}: {text} (run with --debug for the traceback)",
              file=sys.stderr)
        return 1
    return code if isinstance(code, int) else 0
