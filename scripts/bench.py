#!/usr/bin/env python
"""One entry for every benchmark of mpnet; the benchmarks themselves live in scripts/bench/.

    python scripts/bench.py [options]            # mpnet beside its peers, one table (bench/suite.py; --help)
    python scripts/bench.py threads [options]    # the thread policy against plain torch threading (bench/threads.py)
    python scripts/bench.py core [options]       # the core passes alone (bench/core.py)
    python scripts/bench.py scaling [options]    # the once-quadratic operations at growing sizes (bench/scaling.py)
    python scripts/bench.py gpu [options]        # the CPU against CUDA; needs a CUDA GPU (bench/gpu.py)
    python scripts/bench.py search [options]     # one NEAT generation at 10k-1M genomes (bench/search.py)
"""
import os
import runpy
import sys

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench")
COMMANDS = ("threads", "core", "scaling", "gpu", "search")


def main() -> None:
    name = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] in COMMANDS else "suite"
    args = sys.argv[2:] if name != "suite" else sys.argv[1:]
    sys.path.insert(0, HERE)           # the benchmarks import each other (peers, report, ...)
    # argv[0] as the user typed it, so that usage lines and the commands a benchmark prints name this entry
    sys.argv = ["scripts/bench.py" if name == "suite" else f"scripts/bench.py {name}", *args]
    runpy.run_module(name, run_name="__main__", alter_sys=False)


if __name__ == "__main__":
    main()
