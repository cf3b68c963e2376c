#!/usr/bin/env python
"""The thread policy on a few passes: mpnet's default ('auto') against plain torch threading and one thread,
on a quiet machine and while busy-loop processes hold cores.

    python scripts/bench.py threads               # busy 0 and 1
    python scripts/bench.py threads --busy 0 1 2 --repeats 15

'auto' and 'torch' run with torch's default thread count: 'auto' is what mpnet does by default (one thread
per pass unless the pass's levels are big, mpnet/threads.py); 'torch' is what a plain torch module does
(every op on all threads); '1 thread' is torch.set_num_threads(1). Times are medians of calls taken
round-robin across the settings; 'auto / best' is auto's time over the best of the three.
"""
import os
import shlex
import statistics
import subprocess
import sys
import time
from typing import Callable, Dict, List, Tuple

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))   # scripts/: the argument types
from _args import Parser, guarded, int_at_least, writable_file  # noqa: E402

import torch

import mpnet
import mpnet.threads

from build import neat_generation
from peers import GRAPHS, genomes, with_biases

DEFAULT_THREADS = torch.get_num_threads()
MARKDOWN_INTRO = """What `python scripts/bench.py threads` printed. *auto* is mpnet's default (one thread per pass
unless the pass's levels are big, then the faster of one thread and the size rule's count, timed; `mpnet/threads.py`),
*torch* is plain torch threading (`mpnet.threads.set_threads("torch")`: every op on all of torch's
threads), *1 thread* is `torch.set_num_threads(1)`. Every setting of a pass runs round-robin with the
others; the busy-loop processes each hold a core for the whole table.
"""
SETTINGS = {"auto": (DEFAULT_THREADS, "auto"), "torch": (DEFAULT_THREADS, "torch"), "1 thread": (1, "auto")}


def passes(population: int) -> List[Tuple[str, Callable[[], None]]]:
    out = []
    for name in ("question", "dag-6k", "dag-50k"):
        build, batch = GRAPHS[name]
        topo = with_biases(build(), 1)
        net, x = mpnet.Network(topo), torch.randn(batch, len(topo.inputs))
        out += [(f"{name} fwd", _no_grad(net, x)), (f"{name} fwd+bwd", _fwd_bwd(net, x))]
    net, x = mpnet.Network(genomes(population)), torch.randn(256, 2)
    out += [(f"population x{population} fwd", _no_grad(net, x)),
            (f"population x{population} fwd+bwd", _fwd_bwd(net, x))]
    _, runs = neat_generation(10)
    out += [("NEAT generation: build", runs["build"]), ("NEAT generation: 20 fine-tuning steps", runs["finetune"])]
    return out


def _no_grad(net, x) -> Callable[[], None]:
    def run() -> None:
        with torch.no_grad():
            net(x)
    return run


def _fwd_bwd(net, x) -> Callable[[], None]:
    def run() -> None:
        net.zero_grad(set_to_none=True)
        net(x).sum().backward()
    return run


def measure(run: Callable[[], None], repeats: int) -> Dict[str, float]:
    times: Dict[str, List[float]] = {k: [] for k in SETTINGS}
    for _ in range(repeats):
        for name, (threads, policy) in SETTINGS.items():
            torch.set_num_threads(threads)
            mpnet.threads.set_threads(policy)
            if not times[name]:
                run()                                            # warm-up under this setting
            t0 = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - t0)
    torch.set_num_threads(DEFAULT_THREADS)
    mpnet.threads.set_threads("auto")
    return {k: statistics.median(v) * 1e3 for k, v in times.items()}


def main() -> None:
    parser = Parser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--busy", type=int_at_least(0, 256), nargs="+", default=[0, 1],
                        help="busy-loop processes, per table")
    parser.add_argument("--repeats", type=int_at_least(1), default=9)
    parser.add_argument("--population", type=int_at_least(1, 10_000_000), default=10_000)
    parser.add_argument("--markdown", metavar="PATH", type=writable_file((".md",)),
                        help="also write the tables as markdown")
    args = parser.parse_args()
    lines = [f"command: {shlex.join(['python', 'scripts/bench.py', 'threads'] + sys.argv[1:])}",
             f"torch {torch.__version__}, {DEFAULT_THREADS} default threads, {os.cpu_count()} CPUs, OMP_WAIT_POLICY="
             f"{os.environ.get('OMP_WAIT_POLICY', 'unset')}, load average at start {os.getloadavg()[0]:.2f}; "
             f"ms: median of {args.repeats}"]
    print("\n".join(lines), flush=True)
    cases = passes(args.population)
    for busy in args.busy:
        procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(busy)]
        try:
            rows = [(name, measure(run, args.repeats)) for name, run in cases]
        finally:
            for p in procs:
                p.kill()
                p.wait()
        width = max(len(name) for name, _ in rows)
        table = [f"\n{busy} busy-loop process(es):",
                 f"{'pass':{width}s}  {'auto':>10s}  {'torch':>10s}  {'1 thread':>10s}  {'auto / best':>11s}"]
        table += [f"{name:{width}s}  {ms['auto']:10.2f}  {ms['torch']:10.2f}  {ms['1 thread']:10.2f}  "
                  f"{ms['auto'] / min(ms.values()):11.2f}" for name, ms in rows]
        print("\n".join(table), flush=True)
        lines += table
    lines.append(f"\nload average at end {os.getloadavg()[0]:.2f}")
    print(lines[-1])
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write("# The thread policy, measured\n\n" + MARKDOWN_INTRO + "\n```text\n" + "\n".join(lines)
                    + "\n```\n")


if __name__ == "__main__":
    sys.exit(guarded(main))
