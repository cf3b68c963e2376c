"""The ``mpnet`` command (last stage of the flow): ``mpnet demo`` and friends, over the public API only.

A user's mistake (a bad file, a bad value, a missing optional package) ends the command with exit code 2 and
one line on stderr, ``mpnet <command>: error: ...``; ``--debug`` shows the Python traceback instead.
"""
import argparse
import importlib.util
import math
import sys
from typing import TYPE_CHECKING, Any, Callable, Dict, List, NoReturn, Optional

if TYPE_CHECKING:
    from torch import Tensor

    from .graph.topology import Topology

__all__ = ["main"]


def demo(args: argparse.Namespace) -> int:
    """Passive data, the signs they determine, the measurements that should decide the rest, the teacher's
    answers, a rerun (:mod:`mpnet.demo`)."""
    from .demo import run_demo
    return run_demo(args)


def convert(args: argparse.Namespace) -> int:
    from .io.formats import convert as run
    fmt_in, fmt_out = run(args.src, args.dst, src_format=args.src_format, dst_format=args.dst_format,
                          seed=args.seed, overwrite=args.force)
    print(f"{args.src} ({fmt_in}) -> {args.dst} ({fmt_out})")
    return 0


def _read_columns(path: str, columns: List[str]) -> "Tensor":
    """The named columns of a CSV file with a header row, as a float tensor ``[rows, len(columns)]``
    (:func:`mpnet.io.csvdata.read_columns`: every bad cell is named by line and column)."""
    from .io.csvdata import read_columns
    return read_columns(path, columns)


def _recordings(args: argparse.Namespace, topo: "Topology", taken: List[str]) -> Dict[Any, "Tensor"]:
    """``{hidden neuron: column}``: the data file's columns named after hidden neurons (or those --observed names;
    an empty cell or NaN: not recorded), read in float64."""
    import torch

    from .errors import ArgumentError
    from .io.csvdata import header, read_columns
    hidden = {str(n): n for n, node in topo.nodes.items() if node.role == "hidden"}
    if args.observed is not None:
        names = [c.strip() for c in args.observed.split(",") if c.strip()]
        unknown = [c for c in names if c not in hidden]
        if unknown:
            raise ArgumentError(f"--observed names {unknown}, not hidden neurons of the topology (its hidden neurons: "
                                f"{list(hidden)[:20]}{' ...' if len(hidden) > 20 else ''}).")
    else:
        names = [c for c in header(args.data) if c in hidden and c not in taken]
    if not names:
        return {}
    values = read_columns(args.data, names, dtype=torch.float64, missing=names)
    return {hidden[c]: values[:, j] for j, c in enumerate(names)}


def _int_at_least(low: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an int >= {low} (got {text!r})") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"expected an int >= {low} (got {value})")
        return value
    return parse


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a finite number > 0 (got {text!r})") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a finite number > 0 (got {text!r})")
    return value


def _number(low: float, high: Optional[float]) -> Callable[[str], float]:
    """An argparse type: a finite number in ``[low, high]`` (``high`` None: no upper end)."""
    span = f"in [{low:g}, {high:g}]" if high is not None else f">= {low:g}"
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number {span} (got {text!r})") from None
        if not math.isfinite(value) or value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"expected a number {span} (got {text!r})")
        return value
    return parse


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("mpnet")
    except PackageNotFoundError:   # run from a source tree that is not installed
        from . import __version__
        return __version__


def _check_outputs(args: argparse.Namespace) -> None:
    """Raise, naming the option, unless ``signs`` can write its -o and --plot files: checked before the
    inference (minutes), not after it."""
    import os
    given = [(flag, path) for flag, path in (("-o/--output", args.output), ("--plot", args.plot)) if path]
    inputs = [(what, path) for what, path in (("TOPOLOGY", args.topology), ("DATA", args.data))]
    for flag, path in given:
        folder = os.path.dirname(os.path.abspath(path))
        if os.path.isdir(path):
            raise IsADirectoryError(f"{flag} {path!r} is a directory; name the file to write in it.")
        if not os.path.isdir(folder):
            raise FileNotFoundError(f"{flag} {path!r}: directory {folder!r} does not exist; create it first.")
        if not os.access(folder, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
            raise PermissionError(f"{flag} {path!r} cannot be written here (permission denied).")
        for what, source in inputs:
            if os.path.exists(source) and os.path.exists(path) and os.path.samefile(source, path):
                raise ValueError(f"{flag} {path!r} is the {what} file; writing it would destroy the input. "
                                 f"Name another file.")
    if len(given) == 2 and os.path.abspath(given[0][1]) == os.path.abspath(given[1][1]):
        raise ValueError(f"-o/--output and --plot both name {args.plot!r}; give each its own file.")
    if args.plot:
        from matplotlib.backend_bases import FigureCanvasBase
        kinds = sorted(FigureCanvasBase.get_supported_filetypes())
        ext = os.path.splitext(args.plot)[1].lower().lstrip(".")
        if ext not in kinds:
            what = f"'.{ext}' is not a picture format" if ext else "the name has no extension"
            raise ValueError(f"--plot {args.plot!r}: {what}; end it in .png, .svg or .pdf (matplotlib writes "
                             f"{', '.join(kinds)}).")


def signs(args: argparse.Namespace) -> int:
    from . import Topology, draw, infer_signs
    _check_outputs(args)
    topo = Topology.load(args.topology)
    inputs = args.inputs.split(",") if args.inputs else [str(n) for n in topo.inputs]
    outputs = args.outputs.split(",") if args.outputs else [str(n) for n in topo.outputs]
    if len(inputs) != len(topo.inputs) or len(outputs) != len(topo.outputs):
        print(f"mpnet signs: error: the topology has {len(topo.inputs)} inputs and {len(topo.outputs)} outputs, "
              f"but --inputs names {len(inputs)} columns and --outputs {len(outputs)}.", file=sys.stderr)
        return 2
    try:
        X, Y = _read_columns(args.data, inputs), _read_columns(args.data, outputs)
        observed = _recordings(args, topo, inputs + outputs)
    except ValueError as err:
        print(f"mpnet signs: error: {err}", file=sys.stderr)
        return 2
    if observed and args.method == "ensemble":
        print(f"mpnet signs: error: columns {list(map(str, observed))} of {args.data} are recordings of hidden "
              f"neurons, which --method ensemble cannot use; use --method refit, or --observed '' to leave them out.",
              file=sys.stderr)
        return 2
    if args.method == "ensemble":
        options = dict(method="ensemble", ensemble=args.ensemble, epochs=args.epochs, lr=args.lr,
                       batch_size=args.batch_size, loss=args.loss, progress=False if args.no_progress else None)
    else:
        from .signs import Effort
        log = None if args.no_progress else (lambda msg: print(f"  {msg}", file=sys.stderr, flush=True))
        options = dict(effort=Effort.quick() if args.quick else Effort(), noise_std=args.noise_std, log=log,
                       observed=observed or None)
    report = infer_signs(topo, X, Y, threshold=args.threshold, seed=args.seed, **options)
    print(report)
    if args.output:
        report.to_csv(args.output)
        print(f"wrote {args.output}")
    if args.plot:
        draw(report, args.plot)
        print(f"wrote {args.plot}")
    return 0


class _Help(argparse.ArgumentDefaultsHelpFormatter):
    """``(default: ...)`` after an option's help only where it tells something: not for a flag, not for an
    option without a default (its help says what happens then), not where the help names its default."""

    def _get_help_string(self, action: argparse.Action) -> Optional[str]:
        text = action.help or ""
        if (not action.option_strings or any(action.default is v for v in (None, False, argparse.SUPPRESS))
                or "default" in text):   # `is`: a default of 0 is shown (0 == False)
            return text
        return super()._get_help_string(action)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line (the usage itself is one ``--help`` away)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    fmt = _Help
    parser = _Parser(prog="mpnet", description="Neuron-level networks with custom connections.", formatter_class=fmt)
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument("--debug", action="store_true", help="on an error, show the Python traceback")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    common = _Parser(add_help=False)   # --debug also after the command's name
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="on an error, show the Python traceback")
    p = sub.add_parser("demo", help="infer the signs of the question network from its teacher's data, weights "
                                    "unknown", formatter_class=fmt, parents=[common])
    p.add_argument("--topology", help="a topology JSON file instead of the embedded question network (its teacher: "
                                      "random weights with kinks inside the data)")
    p.add_argument("--samples", type=_int_at_least(4), default=2000, help="data points")
    p.add_argument("--noise", type=_number(0, None), default=0.01, help="noise std as a fraction of the target's std")
    p.add_argument("--threshold", type=_number(0, 1), default=0.95, help="confidence a sign needs")
    p.add_argument("--quick", action="store_true",
                   help="a smaller search (about half the time on the question network; fewer signs called)")
    p.add_argument("--seed", type=int, default=0, help="seeds the data, the teacher and the search")
    p.add_argument("--budget", type=_int_at_least(0), default=2,
                   help="measurements the design may suggest before the rerun (0: passive data only)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress lines")
    p.set_defaults(func=demo)

    from .io.formats import FORMATS, READABLE
    p = sub.add_parser("convert", help="convert a network between file formats (by extension, or --from/--to)",
                       formatter_class=fmt, parents=[common],
                       description="Formats: " + ", ".join(f"{k} ({v})" for k, v in FORMATS.items())
                       + f". Readable: {', '.join(READABLE)}; the others are written only.")
    p.add_argument("src", metavar="IN", help="the network to read")
    p.add_argument("dst", metavar="OUT", help="the file to write")
    p.add_argument("--from", dest="src_format", choices=READABLE, help="format of IN (default: by extension)")
    p.add_argument("--to", dest="dst_format", choices=list(FORMATS), help="format of OUT (default: by extension)")
    p.add_argument("--seed", type=int, default=0, help="draws the weights IN leaves unset (model formats only)")
    p.add_argument("--force", action="store_true", help="replace OUT if it exists (never IN itself)")
    p.set_defaults(func=convert)

    p = sub.add_parser("signs", help="infer each edge's sign from data, with a confidence per edge",
                       formatter_class=fmt, parents=[common])
    p.add_argument("topology", help="a topology JSON file")
    p.add_argument("data", help="a CSV file with a header row")
    p.add_argument("--inputs", help="comma-separated input columns (default: the topology's input ids)")
    p.add_argument("--outputs", help="comma-separated target columns (default: the topology's output ids)")
    p.add_argument("-o", "--output", help="write the per-edge report as CSV")
    p.add_argument("--plot", help="draw the report (.png or .svg)")
    p.add_argument("--method", choices=["refit", "ensemble"], default="refit",
                   help="refit: the per-edge opposite-sign refit test; ensemble: the fast vote")
    p.add_argument("--threshold", type=_number(0, 1), default=0.95, help="confidence a sign needs")
    p.add_argument("--quick", action="store_true", help="refit: a smaller search (faster, fewer signs called)")
    p.add_argument("--noise-std", type=_positive_float, help="refit: the noise std of the targets, if known")
    p.add_argument("--observed", metavar="COLUMNS",
                   help="refit: comma-separated columns holding recordings of hidden neurons, each named after its "
                        "neuron (default: every column named after a hidden neuron; '' for none). A recording is the "
                        "neuron's activation per sample, an empty cell or NaN where it was not recorded; every fit "
                        "fits it too, weighed by its noise (estimated from its samples), which can decide signs the "
                        "inputs and outputs alone leave open")
    p.add_argument("--ensemble", type=_int_at_least(1), default=32, help="ensemble: networks trained together")
    p.add_argument("--epochs", type=_int_at_least(1), default=500, help="ensemble: passes over the data")
    p.add_argument("--lr", type=_positive_float, default=0.02, help="ensemble: Adam's learning rate")
    p.add_argument("--batch-size", type=_int_at_least(1), default=None,
                   help="ensemble: samples per step (default: the whole data set)")
    p.add_argument("--loss", default="mse", choices=["mse", "bce", "cross_entropy"], help="ensemble: the loss")
    p.add_argument("--seed", type=int, default=0, help="seeds every random draw")
    p.add_argument("--no-progress", action="store_true", help="hide the progress lines")
    p.set_defaults(func=signs)
    return parser


def _missing_extras(args: argparse.Namespace) -> Optional[str]:
    """What an optional package the command will need lacks, checked before any work starts."""
    if getattr(args, "plot", None) and not _importable("matplotlib"):
        return "--plot needs matplotlib, which is not installed: pip install matplotlib (or the viz extra)."
    return None


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ValueError, ImportError):   # a module set to None in sys.modules, a broken parent package
        return False


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__


def main(argv: Optional[List[str]] = None) -> int:
    """Run the command; return its exit code (0 on success, 2 on a user's mistake, 1 on an internal error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:   # bare `mpnet`: a mistake, and the way on
        commands = ", ".join(c for a in parser._actions if isinstance(a, argparse._SubParsersAction)
                             for c in a.choices)
        print(f"mpnet: error: a command is needed, one of: {commands} (see mpnet --help or mpnet COMMAND --help)",
              file=sys.stderr)
        return 2
    name = f"mpnet {args.command}"
    missing = _missing_extras(args)
    if missing:
        print(f"{name}: error: {missing}", file=sys.stderr)
        return 2
    from .errors import MpnetError
    try:
        code: int = args.func(args)
        return code
    except KeyboardInterrupt:
        print(f"{name}: interrupted", file=sys.stderr)
        return 130
    except (MpnetError, OSError, ImportError, ValueError) as err:
        if args.debug:
            raise
        print(f"{name}: error: {_one_line(err)}", file=sys.stderr)
        return 2
    except Exception as err:   # a bug of ours: still one line, and the way to the traceback
        if args.debug:
            raise
        print(f"{name}: internal error: {type(err).__name__}: {_one_line(err)} (run with --debug for the "
              f"traceback, and please report it)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
