"""What a Ray worker spends turning packed chunks into batched networks, per generation of genomes: through
Topology objects (``unpack`` then ``Network``: the worker before issue 23) and straight from the columns
(``to_arrays`` then ``Network``). CPU seconds of one torch thread (``time.process_time``), best of ``--repeats``.

    python scripts/bench/packed.py                      # 10,000 NEAT genomes (XOR), chunks of 1,000
    python scripts/bench/packed.py --genomes 2000 --recurrent
"""
import os
import sys
import time
from typing import Callable, List, Optional, Sequence

import torch

import mpnet
from mpnet.scale.packed import Packed, pack, to_arrays, unpack
from mpnet.search import NEAT

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))   # scripts/: the argument types
from _args import Parser, guarded, int_at_least  # noqa: E402


def best(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return min(times)


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = Parser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--genomes", type=int_at_least(2), default=10_000)
    parser.add_argument("--chunk", type=int_at_least(1), default=1_000)
    parser.add_argument("--generations", type=int_at_least(0), default=3, help="NEAT generations bred before timing")
    parser.add_argument("--recurrent", action="store_true", help="a recurrent search's genomes")
    parser.add_argument("--repeats", type=int_at_least(1), default=3)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    algo = NEAT(2, 1, population=args.genomes, seed=0, add_node_rate=0.3, add_connection_rate=0.5,
                feed_forward=not args.recurrent)
    for _ in range(args.generations):
        algo.tell([float(t.num_edges) for t in algo.ask()])
    topologies = list(algo.ask())
    packed = pack(topologies)
    chunks: List[Packed] = [packed.take(a, min(a + args.chunk, len(packed)))
                            for a in range(0, len(packed), args.chunk)]
    nets = [mpnet.Network(unpack(c)) for c in chunks]
    x = torch.randn(*((3, 4, 2) if args.recurrent else (4, 2)))
    same = all(torch.equal(n(x), mpnet.Network(to_arrays(c))(x)) for n, c in zip(nets, chunks))
    rows = [("unpack (arrays -> Topology objects)", lambda: [unpack(c) for c in chunks]),
            ("unpack + Network (before)", lambda: [mpnet.Network(unpack(c)) for c in chunks]),
            ("to_arrays (arrays -> ArrayTopology)", lambda: [to_arrays(c) for c in chunks]),
            ("to_arrays + Network (after)", lambda: [mpnet.Network(to_arrays(c)) for c in chunks])]
    timed = [(name, best(fn, args.repeats)) for name, fn in rows]
    edges = len(packed.src) / len(packed)
    print(f"{len(packed):,} {'recurrent' if args.recurrent else 'feed-forward'} NEAT genomes ({edges:.1f} edges "
          f"each), chunks of {args.chunk:,}; CPU s of one thread, best of {args.repeats}; same outputs: {same}")
    for name, seconds in timed:
        print(f"  {name:<38} {seconds:7.3f} s")
    print(f"  speed-up of unpack + build: {timed[1][1] / timed[3][1]:.1f}x")


if __name__ == "__main__":
    sys.exit(guarded(main))
