"""Build-time cases for scripts/bench.py: what it costs to get from a declaration to a ready Network.

* a big random DAG given as edge arrays (``ArrayTopology.from_arrays`` -> ``Network``);
* a generation of small genomes as flat columns (``ArrayTopology.from_batch`` -> ``Network``), the compact
  form a search or a worker builds from, and the same genomes as ``Topology`` objects;
* a NEAT generation (150 genomes after 30 generations of XOR), whose build is compared with its evaluation.
"""
import statistics
import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Tuple

import torch

import mpnet
from mpnet import ArrayTopology, search


def big_dag(num_nodes: int, num_edges: int, depth: int, n_in: int, n_out: int, seed: int = 0) -> Dict:
    """Columns of a random DAG: inputs on layer 0, outputs on ``depth``, hidden neurons on a random layer
    between; every edge rises from a uniformly drawn lower-layer node. Weights ``N(0, 1/avg fan-in)``."""
    g = torch.Generator().manual_seed(seed)
    layer = torch.randint(1, depth, (num_nodes,), generator=g)
    layer[:n_in], layer[num_nodes - n_out:] = 0, depth
    order = torch.argsort(layer, stable=True)
    below = torch.searchsorted(layer[order], torch.arange(depth + 1))        # nodes on layers < k
    dst = torch.randint(n_in, num_nodes, (int(num_edges * 1.05),), generator=g)
    src = order[(torch.rand(dst.numel(), generator=g) * below[layer[dst]]).long()]
    key = torch.unique(src * num_nodes + dst)                                 # distinct pairs
    key = key[torch.randperm(key.numel(), generator=g)[:num_edges]]
    weight = torch.randn(key.numel(), generator=g, dtype=torch.float64) * (num_nodes / num_edges) ** 0.5
    return dict(src=key // num_nodes, dst=key % num_nodes, weight=weight, inputs=torch.arange(n_in),
                outputs=torch.arange(num_nodes - n_out, num_nodes), num_nodes=num_nodes)


def genome_columns(topologies: List[mpnet.Topology]) -> Dict:
    """The topologies as flat columns with local indices (what ``from_batch`` takes)."""
    return ArrayTopology.from_topologies(topologies).columns()


@dataclass
class Build:
    label: str
    run: Callable[[], object]        # builds (and returns) a ready Network
    size: str


def build_cases(genomes: List[mpnet.Topology], big: Dict) -> List[Build]:
    cols = genome_columns(genomes)
    cols.pop("node_ids", None)       # a worker gets numbers, not the driver's ids
    edges = big["src"].numel()
    return [
        Build(f"{edges / 1e6:.1f}M-edge DAG: from_arrays -> Network", lambda: mpnet.Network(
            ArrayTopology.from_arrays(**big)), f"{big['num_nodes']:,} neurons, {edges:,} edges"),
        Build(f"{len(genomes):,} genomes: from_batch (flat columns) -> Network",
              lambda: mpnet.Network(ArrayTopology.from_batch(**cols, warn=False)),
              f"{int(cols['num_nodes'].sum()):,} neurons, {int(cols['num_edges'].sum()):,} edges"),
        Build(f"{len(genomes):,} genomes: Topology objects -> Network", lambda: mpnet.Network(genomes),
              "the same genomes")]


def neat_generation(generations: int = 30, population: int = 150) -> Tuple[List[mpnet.Topology], Dict[str, Callable]]:
    """A real NEAT generation (XOR, after ``generations`` generations) and the runners to time on it:
    build (Topology list -> Network), evaluate (the task's batched forward) and finetune (20 Adam steps)."""
    algo = search.NEAT(n_inputs=2, n_outputs=1, population=population, seed=0)
    task = search.tasks.XOR()
    search.run(algo, task, generations=generations)
    topologies = algo.ask()
    net = mpnet.Network(topologies)
    X, Y = task.data()

    def evaluate() -> None:
        with torch.no_grad():
            task.evaluate(net, 0)

    def finetune() -> None:
        mpnet.fit(net, X, Y, loss=task.loss, epochs=20, lr=0.05, progress=False)
    return topologies, {"build": lambda: mpnet.Network(topologies), "evaluate": evaluate, "finetune": finetune}


def seconds(run: Callable[[], object], repeats: int) -> Tuple[float, float]:
    """Median seconds of ``repeats`` calls after one warm-up: by the clock and in the calling thread's CPU time."""
    run()
    wall, cpu = [], []
    for _ in range(repeats):
        c0, t0 = time.thread_time(), time.perf_counter()
        run()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.thread_time() - c0)
    return statistics.median(wall), statistics.median(cpu)
