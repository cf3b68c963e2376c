#!/usr/bin/env python
"""Time one whole NEAT generation (ask, evaluate, tell) at large populations, bred on arrays and on objects.

    python scripts/bench.py search                          # 10k and 100k genomes (arrays), 10k (objects)
    python scripts/bench.py search --sizes 1000000 --objects-up-to 0   # a 1M-genome generation, arrays only
    TENSORNEAT_PATH=~/src/tensorneat python scripts/bench.py search     # TensorNEAT's row beside (not built yet)

The problem is XOR (2 inputs, 1 output, NEAT's defaults, seed 0). Each (size, breeding) runs in a fresh process
on one torch thread: two warm-up generations (so genomes have grown hidden neurons and species have formed),
then one timed generation: ``ask`` (the genomes handed out), ``evaluate`` (``LocalEvaluator``: batched Networks
of 1,000 genomes, XOR's four patterns; from the genome columns on arrays, from Topology objects on objects),
``tell`` (speciation, selection, crossover, mutation). Times are CPU seconds of that one thread (steadier than
wall-clock on a shared machine: the load is printed); "peak MB" is the process's peak resident memory
(``ru_maxrss``) over the whole child, the warm-up included.
"""
import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))   # scripts/: the argument types
from _args import Parser, guarded, int_at_least  # noqa: E402

CHILD = r"""
import json, resource, sys, time, warnings
import torch
torch.set_num_threads(1)
warnings.simplefilter("ignore")
from mpnet import search
size, breeding = int(sys.argv[1]), sys.argv[2]
task = search.tasks.XOR()
algo = search.NEAT(2, 1, population=size, seed=0, breeding=breeding)
evaluator = search.LocalEvaluator()
for _ in range(2):
    topologies = algo.ask()
    algo.tell(evaluator.evaluate(task, topologies).fitness)
c0 = time.process_time()
topologies = algo.ask()
c1 = time.process_time()
ev = evaluator.evaluate(task, topologies)
c2 = time.process_time()
algo.tell(ev.fitness)
c3 = time.process_time()
genes = len(algo.pool.src) if breeding == "arrays" else sum(len(g.conns) for g in algo.population)
print(json.dumps({"ask": c1 - c0, "evaluate": c2 - c1, "tell": c3 - c2, "species": len(algo.species),
                  "genes": genes, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def child(size: int, breeding: str, timeout: float) -> dict:
    """One timed generation in a fresh process (see the module docstring)."""
    try:
        out = subprocess.run([sys.executable, "-c", CHILD, str(size), breeding], capture_output=True, text=True,
                             timeout=timeout, cwd=os.path.dirname(os.path.abspath(__file__)))
    except subprocess.TimeoutExpired:
        return {"error": f"over {timeout:.0f} s"}
    if out.returncode != 0:
        return {"error": (out.stderr.strip().splitlines() or ["exit %d" % out.returncode])[-1][:100]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = Parser(prog=sys.argv[0], description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int_at_least(2), nargs="+", default=[10_000, 100_000],
                        help="genomes per generation (default 10000 100000)")
    parser.add_argument("--objects-up-to", type=int_at_least(0), default=10_000,
                        help="time the objects path at sizes up to this (default 10000; 0: never)")
    parser.add_argument("--timeout", type=int_at_least(1), default=1200, help="seconds per child (default 1200)")
    args = parser.parse_args(argv)
    print(f"search bench: one NEAT generation on XOR after two warm-up generations; CPU seconds, one torch thread, a "
          f"fresh process per row; load {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    rows = []
    for size in args.sizes:
        for breeding in ("arrays", "objects"):
            if breeding == "objects" and size > args.objects_up_to:
                continue
            r = child(size, breeding, args.timeout)
            rows.append((size, breeding, r))
            if "error" in r:
                print(f"{size:>9,} {breeding:<8} failed: {r['error']}", flush=True)
            else:
                print(f"{size:>9,} {breeding:<8} ask {r['ask']:7.3f}  evaluate {r['evaluate']:7.3f}  tell "
                      f"{r['tell']:7.3f}  ask+tell {r['ask'] + r['tell']:7.3f}  generation "
                      f"{r['ask'] + r['evaluate'] + r['tell']:7.3f}  species {r['species']:>4}  genes "
                      f"{r['genes']:>9,}  peak {r['peak_mb']:7.0f} MB", flush=True)
    path = os.environ.get("TENSORNEAT_PATH")
    if not path:
        print("TensorNEAT: not given (set TENSORNEAT_PATH to a checkout of EMI-Group/tensorneat with jax installed)")
    else:
        print(f"TensorNEAT: TENSORNEAT_PATH={path} given, but this benchmark has no TensorNEAT generation yet (its "
              f"NEAT step was never run here: no jax on this machine); no row printed")
    print(f"load at end {os.getloadavg()[0]:.1f}")
    return 1 if any("error" in r for _, _, r in rows) else 0


if __name__ == "__main__":
    sys.exit(guarded(main))
