#!/usr/bin/env python
"""Time one whole NEAT generation (ask, evaluate, tell) at large populations, bred on arrays and on objects.

    python scripts/bench.py search                          # 10k and 100k genomes (arrays), 10k (objects)
    python scripts/bench.py search --sizes 1000000 --objects-up-to 0   # a 1M-genome generation, arrays only
    python scripts/bench.py search --tensorneat ~/src/tensorneat        # TensorNEAT's jitted NEAT beside

The problem is XOR (2 inputs, 1 output, NEAT's defaults, seed 0). Each (size, breeding) runs in a fresh process
on one torch thread: two warm-up generations (so genomes have grown hidden neurons and species have formed),
then one timed generation: ``ask`` (the genomes handed out), ``evaluate`` (``LocalEvaluator``: batched Networks
of 1,000 genomes, XOR's four patterns; from the genome columns on arrays, from Topology objects on objects),
``tell`` (speciation, selection, crossover, mutation). Times are CPU seconds of that one thread (steadier than
wall-clock on a shared machine: the load is printed); "peak MB" is the process's peak resident memory
(``ru_maxrss``) over the whole child, the warm-up included.

With ``--tensorneat PATH`` or ``TENSORNEAT_PATH`` (a checkout of EMI-Group/tensorneat; jax and sympy
installed), each size also runs TensorNEAT's NEAT on the same XOR in a fresh process, timed the same way
(``bench/tensorneat.py``, ``neat_generation``: its settings are ``NEAT_SETTINGS`` there). XLA is asked for one
thread; its CPU seconds count every thread of the process. Its two warm-up generations include the jit
compilation, printed apart (CPU seconds).
"""
import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))   # scripts/: the argument types
from _args import Parser, existing, fail, guarded, int_at_least  # noqa: E402

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


TENSORNEAT_CHILD = r"""
import json, sys, warnings
warnings.simplefilter("ignore")
import tensorneat as bench_tensorneat        # scripts/bench/tensorneat.py (the cwd), before load() takes the name
print(json.dumps(bench_tensorneat.neat_generation(sys.argv[3], int(sys.argv[1]))))
"""

#: XLA on one thread, as torch is (the child's CPU seconds count all its threads anyway)
ONE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


def child(size: int, breeding: str, timeout: float, tensorneat: str = "") -> dict:
    """One timed generation in a fresh process (see the module docstring); ``breeding`` "tensorneat" runs
    TensorNEAT's from the checkout ``tensorneat``."""
    code, extra = (TENSORNEAT_CHILD, [tensorneat]) if breeding == "tensorneat" else (CHILD, [])
    env = dict(os.environ, XLA_FLAGS=ONE_THREAD, JAX_PLATFORMS="cpu")
    try:
        out = subprocess.run([sys.executable, "-c", code, str(size), breeding] + extra, capture_output=True,
                             text=True, timeout=timeout, cwd=os.path.dirname(os.path.abspath(__file__)), env=env)
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
    parser.add_argument("--tensorneat", type=existing("dir"), default=os.environ.get("TENSORNEAT_PATH") or None,
                        help="a checkout of EMI-Group/tensorneat: its NEAT's row beside (default: TENSORNEAT_PATH)")
    args = parser.parse_args(argv)
    path = args.tensorneat or ""
    if path:
        import importlib.util
        if not any(os.path.isfile(os.path.join(path, *sub, "genome", "default.py"))
                   for sub in (("src", "tensorneat"), ("tensorneat",), ())):
            fail(f"--tensorneat {path}: no tensorneat/genome/default.py under it (expected a checkout of "
                 f"EMI-Group/tensorneat)")
        missing = [m for m in ("jax", "sympy") if importlib.util.find_spec(m) is None]
        if missing:
            fail(f"--tensorneat: TensorNEAT needs {' and '.join(missing)}, not installed (pip install jax sympy)")
    print(f"search bench: one NEAT generation on XOR after two warm-up generations; CPU seconds, one torch thread, a "
          f"fresh process per row; load {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    rows = []
    for size in args.sizes:
        for breeding in ("arrays", "objects", "tensorneat"):
            if (breeding == "objects" and size > args.objects_up_to) or (breeding == "tensorneat" and not path):
                continue
            r = child(size, breeding, args.timeout, path)
            rows.append((size, breeding, r))
            if "error" in r:
                print(f"{size:>9,} {breeding:<10} failed: {r['error']}", flush=True)
            else:
                print(f"{size:>9,} {breeding:<10} ask {r['ask']:7.3f}  evaluate {r['evaluate']:7.3f}  tell "
                      f"{r['tell']:7.3f}  ask+tell {r['ask'] + r['tell']:7.3f}  generation "
                      f"{r['ask'] + r['evaluate'] + r['tell']:7.3f}  species {r['species']:>4}  genes "
                      f"{r['genes']:>9,}  peak {r['peak_mb']:7.0f} MB" + (f"  (warm-up with jit compilation "
                      f"{r['warmup']:.1f} s)" if "warmup" in r else ""), flush=True)
    if not path:
        print("TensorNEAT: not given (--tensorneat PATH or TENSORNEAT_PATH: a checkout of EMI-Group/tensorneat, with "
              "jax and sympy installed)")
    else:
        done = [r for _, b, r in rows if b == "tensorneat" and "jax" in r]
        print(f"TensorNEAT from {path}" + (f" (jax {done[0]['jax']}), settings {done[0]['settings']}" if done else ""))
    print(f"load at end {os.getloadavg()[0]:.1f}")
    return 1 if any("error" in r for _, _, r in rows) else 0


if __name__ == "__main__":
    sys.exit(guarded(main))
