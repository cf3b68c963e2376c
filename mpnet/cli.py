"""The ``mpnet`` command (last stage of the flow): ``mpnet demo`` and friends, over the public API only."""
import argparse
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
    try:
        fmt_in, fmt_out = run(args.src, args.dst, src_format=args.src_format, dst_format=args.dst_format,
                              seed=args.seed)
    except ImportError as err:   # e.g. ONNX without the onnx extra
        print(f"mpnet convert: error: {err}", file=sys.stderr)
        return 2
    print(f"{args.src} ({fmt_in}) -> {args.dst} ({fmt_out})")
    return 0


def _read_columns(path: str, columns: List[str]):
    """The named columns of a CSV file with a header row, as a float tensor ``[rows, len(columns)]``."""
    import csv

    import torch
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path} has no column {missing} (its columns: {reader.fieldnames}); name the "
                             f"columns with --inputs / --outputs.")
        rows = [[float(rec[c]) for c in columns] for rec in reader]
    return torch.tensor(rows, dtype=torch.float32).view(-1, len(columns))


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mpnet", description="Neuron-level networks with custom connections.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("demo", help="train the question network on its embedded task and print per-edge signs")
    p.add_argument("--topology", help="a topology JSON file instead of the embedded question network")
    p.add_argument("--epochs", type=int, default=300)
    p.add_argument("--lr", type=float, default=0.02)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--samples", type=int, default=512)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=demo)

    from .formats import FORMATS, READABLE
    p = sub.add_parser("convert", help="convert a network between file formats (by extension, or --from/--to)",
                       description="Formats: " + ", ".join(f"{k} ({v})" for k, v in FORMATS.items())
                       + f". Readable: {', '.join(READABLE)}; the others are written only.")
    p.add_argument("src", metavar="IN", help="the network to read")
    p.add_argument("dst", metavar="OUT", help="the file to write")
    p.add_argument("--from", dest="src_format", choices=READABLE, help="format of IN (default: by extension)")
    p.add_argument("--to", dest="dst_format", choices=list(FORMATS), help="format of OUT (default: by extension)")
    p.add_argument("--seed", type=int, default=0, help="draws the weights IN leaves unset (model formats only)")
    p.set_defaults(func=convert)

    p = sub.add_parser("signs", help="infer each edge's sign from data, with a confidence per edge")
    p.add_argument("topology", help="a topology JSON file")
    p.add_argument("data", help="a CSV file with a header row")
    p.add_argument("--inputs", help="comma-separated input columns (default: the topology's input ids)")
    p.add_argument("--outputs", help="comma-separated target columns (default: the topology's output ids)")
    p.add_argument("-o", "--output", help="write the per-edge report as CSV")
    p.add_argument("--plot", help="draw the report (.png or .svg)")
    p.add_argument("--ensemble", type=int, default=32)
    p.add_argument("--epochs", type=int, default=500)
    p.add_argument("--lr", type=float, default=0.02)
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--loss", default="mse", choices=["mse", "bce", "cross_entropy"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=signs)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 0
    from .errors import TopologyError
    try:
        return args.func(args)
    except (TopologyError, FileNotFoundError) as err:
        print(f"mpnet {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
