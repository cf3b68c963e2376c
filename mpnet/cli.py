"""The ``mpnet`` command (last stage of the flow): ``mpnet demo`` and friends, over the public API only.

A user's mistake (a bad file, a bad value, a missing optional package) ends the command with exit code 2 and
one line on stderr, ``mpnet <command>: error: ...``; ``--debug`` shows the Python traceback instead.
"""
import argparse
import importlib.util
import math
import sys
from typing import List, Optional

__all__ = ["main"]


def _sign(w: float) -> str:
    return "+" if w > 0 else "-" if w < 0 else "0"


def demo(args: argparse.Namespace) -> int:
    import torch

    from . import Network, Topology, fit
    from .examples import question_network, question_task, question_teacher

    topo = Topology.load(args.topology) if args.topology else question_network()
    if args.topology is None:
        X, Y = question_task(n=args.samples, seed=args.seed)
        teacher = question_teacher().edges
        source = "embedded question network, task y = teacher(x1, x2) + noise"
    else:
        gen = torch.Generator().manual_seed(args.seed)
        X = torch.rand(args.samples, len(topo.inputs), generator=gen) * 4 - 2
        Y = torch.sin(X.sum(1, keepdim=True)).expand(-1, len(topo.outputs)).contiguous()
        teacher = {}
        source = f"{args.topology}, task y = sin(sum of inputs)"
    net = Network(topo, seed=args.seed)
    print(f"mpnet demo: {source}")
    print(f"{net}; {X.shape[0]} samples, {args.epochs} epochs of Adam (lr {args.lr}, batch {args.batch_size})")
    history = fit(net, X, Y, loss="mse", epochs=args.epochs, lr=args.lr, batch_size=args.batch_size,
                  seed=args.seed, progress=False if args.no_progress else None)
    print(f"loss (mse): first epoch {history[0]:.4g}, last epoch {history[-1]:.4g}, "
          f"target variance {Y.var().item():.4g}")
    trained = net.to_topology()
    rows = []
    for key, edge in topo.edges.items():
        w1 = trained.edges[key].weight
        constraint = {"+": "fixed +", "-": "fixed -", None: "free"}[edge.sign] + ("" if edge.trainable else ", frozen")
        init = "drawn" if edge.weight is None else f"{edge.weight:+.3f}"
        row = [f"{key[0]} -> {key[1]}", init, f"{w1:+.3f}", _sign(w1), constraint]
        if teacher:
            row.append(_sign(teacher[key].weight))
        rows.append(row)
    head = ["edge", "initial", "trained", "sign", "constraint"] + (["teacher sign"] if teacher else [])
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip()
    print(line(head))
    print(line(["-" * w for w in widths]))
    for r in rows:
        print(line(r))
    if teacher:
        agree = sum(r[3] == r[-1] for r in rows)
        print(f"{agree} of {len(rows)} trained signs agree with the teacher's")
    return 0


def convert(args: argparse.Namespace) -> int:
    from .formats import convert as run
    fmt_in, fmt_out = run(args.src, args.dst, src_format=args.src_format, dst_format=args.dst_format,
                          seed=args.seed)
    print(f"{args.src} ({fmt_in}) -> {args.dst} ({fmt_out})")
    return 0


def _read_columns(path: str, columns: List[str]):
    """The named columns of a CSV file with a header row, as a float tensor ``[rows, len(columns)]``
    (:func:`mpnet.csvdata.read_columns`: every bad cell is named by line and column)."""
    from .csvdata import read_columns
    return read_columns(path, columns)


def _int_at_least(low: int):
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


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("mpnet")
    except PackageNotFoundError:   # run from a source tree that is not installed
        from . import __version__
        return __version__


def signs(args: argparse.Namespace) -> int:
    from . import Topology, draw, infer_signs
    topo = Topology.load(args.topology)
    inputs = args.inputs.split(",") if args.inputs else [str(n) for n in topo.inputs]
    outputs = args.outputs.split(",") if args.outputs else [str(n) for n in topo.outputs]
    if len(inputs) != len(topo.inputs) or len(outputs) != len(topo.outputs):
        print(f"mpnet signs: error: the topology has {len(topo.inputs)} inputs and {len(topo.outputs)} outputs, "
              f"but --inputs names {len(inputs)} columns and --outputs {len(outputs)}.", file=sys.stderr)
        return 2
    try:
        X, Y = _read_columns(args.data, inputs), _read_columns(args.data, outputs)
    except ValueError as err:
        print(f"mpnet signs: error: {err}", file=sys.stderr)
        return 2
    report = infer_signs(topo, X, Y, ensemble=args.ensemble, epochs=args.epochs, lr=args.lr, loss=args.loss,
                         batch_size=args.batch_size, seed=args.seed, progress=False if args.no_progress else None)
    print(report)
    if args.output:
        report.to_csv(args.output)
        print(f"wrote {args.output}")
    if args.plot:
        draw(report, args.plot)
        print(f"wrote {args.plot}")
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line (the usage itself is one ``--help`` away)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    fmt = argparse.ArgumentDefaultsHelpFormatter
    parser = _Parser(prog="mpnet", description="Neuron-level networks with custom connections.",
                                     formatter_class=fmt)
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument("--debug", action="store_true", help="on an error, show the Python traceback")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    common = argparse.ArgumentParser(add_help=False)   # --debug also after the command's name
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="on an error, show the Python traceback")
    p = sub.add_parser("demo", help="train the question network on its embedded task and print per-edge signs",
                       formatter_class=fmt, parents=[common])
    p.add_argument("--topology", help="a topology JSON file instead of the embedded question network")
    p.add_argument("--epochs", type=_int_at_least(1), default=300, help="passes over the data")
    p.add_argument("--lr", type=_positive_float, default=0.02, help="Adam's learning rate")
    p.add_argument("--batch-size", type=_int_at_least(1), default=64, help="samples per step")
    p.add_argument("--samples", type=_int_at_least(1), default=512, help="size of the generated data set")
    p.add_argument("--seed", type=int, default=0, help="seeds the data, the initial weights and the batches")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=demo)

    from .formats import FORMATS, READABLE
    p = sub.add_parser("convert", help="convert a network between file formats (by extension, or --from/--to)",
                       formatter_class=fmt, parents=[common],
                       description="Formats: " + ", ".join(f"{k} ({v})" for k, v in FORMATS.items())
                       + f". Readable: {', '.join(READABLE)}; the others are written only.")
    p.add_argument("src", metavar="IN", help="the network to read")
    p.add_argument("dst", metavar="OUT", help="the file to write")
    p.add_argument("--from", dest="src_format", choices=READABLE, help="format of IN (default: by extension)")
    p.add_argument("--to", dest="dst_format", choices=list(FORMATS), help="format of OUT (default: by extension)")
    p.add_argument("--seed", type=int, default=0, help="draws the weights IN leaves unset (model formats only)")
    p.set_defaults(func=convert)

    p = sub.add_parser("signs", help="infer each edge's sign from data, with a confidence per edge",
                       formatter_class=fmt, parents=[common])
    p.add_argument("topology", help="a topology JSON file")
    p.add_argument("data", help="a CSV file with a header row")
    p.add_argument("--inputs", help="comma-separated input columns (default: the topology's input ids)")
    p.add_argument("--outputs", help="comma-separated target columns (default: the topology's output ids)")
    p.add_argument("-o", "--output", help="write the per-edge report as CSV")
    p.add_argument("--plot", help="draw the report (.png or .svg)")
    p.add_argument("--ensemble", type=_int_at_least(1), default=32, help="networks trained together")
    p.add_argument("--epochs", type=_int_at_least(1), default=500, help="passes over the data")
    p.add_argument("--lr", type=_positive_float, default=0.02, help="Adam's learning rate")
    p.add_argument("--batch-size", type=_int_at_least(1), default=None,
                   help="samples per step (%(default)s: the whole data set)")
    p.add_argument("--loss", default="mse", choices=["mse", "bce", "cross_entropy"], help="the loss to fit")
    p.add_argument("--seed", type=int, default=0, help="seeds the members' weights and the batches")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
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
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 0
    name = f"mpnet {args.command}"
    missing = _missing_extras(args)
    if missing:
        print(f"{name}: error: {missing}", file=sys.stderr)
        return 2
    from .errors import MpnetError
    try:
        return args.func(args)
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
