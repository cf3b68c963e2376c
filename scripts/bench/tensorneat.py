"""TensorNEAT beside mpnet on the same genomes (used by scripts/bench.py --tensorneat PATH).

TensorNEAT (EMI-Group/tensorneat, JAX) is not a dependency and none of its code is in this repository: the
benchmark loads it from a source checkout given on the command line (``--tensorneat PATH``) or in the
environment variable ``TENSORNEAT_PATH``, and needs ``jax``, ``numpy`` and ``sympy``. Only its genome
package is imported (through a stand-in parent package), so its RL dependencies (brax, gymnax, mujoco)
are not needed.

Each mpnet topology is exported once into TensorNEAT's padded genome arrays: ``nodes [P, max_nodes, 5]``
(key, bias, response, aggregation index, activation index) and ``conns [P, max_conns, 3]`` (in key, out
key, weight); inputs take keys 0 .. n_in - 1 and outputs the next, as TensorNEAT's DefaultGenome expects.
Its output neurons apply no activation, which is what the benchmark's genomes do (identity outputs,
relu hidden neurons, sum aggregation, response 1).
"""
import importlib
import os
import sys
import time
import types
from typing import Any, Callable, List, Optional, Tuple

import numpy as np
import torch

import mpnet

__all__ = ["load", "TensorNEAT"]


def load(path: Optional[str]) -> Tuple[Optional[types.ModuleType], str]:
    """``(tensorneat.genome module, "")`` or ``(None, why it is skipped)``."""
    path = path or os.environ.get("TENSORNEAT_PATH")
    if not path:
        return None, ("TensorNEAT rows skipped: pass --tensorneat PATH (a checkout of EMI-Group/tensorneat) or set "
                      "TENSORNEAT_PATH")
    package = next((p for p in (os.path.join(path, "src", "tensorneat"), os.path.join(path, "tensorneat"), path)
                    if os.path.isfile(os.path.join(p, "genome", "default.py"))), None)
    if package is None:
        return None, f"TensorNEAT rows skipped: no tensorneat/genome/default.py under {path}"
    try:
        for needed in ("jax", "sympy"):          # a clear message when one is missing
            importlib.import_module(needed)
    except ImportError as err:
        return None, f"TensorNEAT rows skipped: {err.name} is not installed (pip install jax sympy)"
    stand_in = types.ModuleType("tensorneat")   # skips tensorneat/__init__.py, which imports the RL problems
    stand_in.__path__ = [package]
    sys.modules["tensorneat"] = stand_in
    try:
        genome = importlib.import_module("tensorneat.genome")
        importlib.import_module("tensorneat.common")
    except ImportError as err:
        return None, f"TensorNEAT rows skipped: importing its genome package failed ({err})"
    return genome, ""


class TensorNEAT:
    """TensorNEAT's population forward and gradient for the given topologies, jit-compiled once."""

    def __init__(self, genome_module, topologies: List[mpnet.Topology], x: torch.Tensor):
        import jax
        import jax.numpy as jnp
        from tensorneat.common import ACT, AGG, State
        self.jax = jax
        n_in, n_out = len(topologies[0].inputs), len(topologies[0].outputs)
        max_nodes = max(t.num_nodes for t in topologies)
        max_conns = max(t.num_edges for t in topologies)
        for t in topologies:
            acts = {n.activation for n in t.nodes.values() if n.role == "hidden"}
            outs = {n.activation for n in t.nodes.values() if n.role == "output"}
            if not acts <= {"relu"} or outs != {"identity"} or {n.aggregation for n in t.nodes.values()} != {"sum"}:
                raise ValueError("the TensorNEAT export handles relu hidden neurons, identity outputs and sums")
        self.genome = genome_module.DefaultGenome(
            num_inputs=n_in, num_outputs=n_out, max_nodes=max_nodes, max_conns=max_conns,
            node_gene=genome_module.DefaultNode(activation_options=[ACT.relu], aggregation_options=[AGG.sum]),
            conn_gene=genome_module.DefaultConn())
        self.state = self.genome.setup(State())
        nodes, conns = export(topologies, max_nodes, max_conns)
        self.nodes, self.conns = jnp.asarray(nodes), jnp.asarray(conns)
        self.x = jnp.asarray(x.numpy())
        genome, state, xj = self.genome, self.state, self.x
        self._transform = jax.jit(jax.vmap(genome.transform, in_axes=(None, 0, 0)))
        self._forward = jax.jit(jax.vmap(jax.vmap(genome.forward, in_axes=(None, None, 0)), in_axes=(None, 0, None)))
        self._grad = jax.jit(jax.vmap(lambda n, c: genome.grad(state, n, c, xj, jnp.sum), in_axes=(0, 0)))
        t0 = time.perf_counter()
        self.transformed = jax.block_until_ready(self._transform(state, self.nodes, self.conns))
        jax.block_until_ready(self._forward(state, self.transformed, xj))
        jax.block_until_ready(self._grad(self.nodes, self.conns))
        self.compile_s = time.perf_counter() - t0

    def outputs(self) -> torch.Tensor:
        """``[P, batch, n_out]``, to compare with mpnet's."""
        return torch.from_numpy(np.asarray(self._forward(self.state, self.transformed, self.x)).copy())

    def weight_grads(self) -> np.ndarray:
        """``[P, max_conns]`` d(sum of outputs)/d(weight), NaN-free padding 0."""
        _, (_, g_conns) = self._grad(self.nodes, self.conns)
        return np.array(g_conns)[:, :, 2]            # a writable copy

    def runners(self) -> Tuple[Callable[[], None], Callable[[], None], Callable[[], None]]:
        """``(transform, forward, forward+gradient)``, each waiting for its result."""
        jax, state, xj = self.jax, self.state, self.x
        return (lambda: jax.block_until_ready(self._transform(state, self.nodes, self.conns)),
                lambda: jax.block_until_ready(self._forward(state, self.transformed, xj)),
                lambda: jax.block_until_ready(self._grad(self.nodes, self.conns)))


def export(topologies: List[mpnet.Topology], max_nodes: int, max_conns: int) -> Tuple[np.ndarray, np.ndarray]:
    """TensorNEAT's padded arrays (NaN padding) for the topologies: node keys are positions, inputs first,
    then outputs, then hidden neurons."""
    P = len(topologies)
    nodes = np.full((P, max_nodes, 5), np.nan, np.float32)
    conns = np.full((P, max_conns, 3), np.nan, np.float32)
    for g, t in enumerate(topologies):
        order = list(t.inputs) + list(t.outputs) + [n for n in t.nodes if n not in t.inputs and n not in t.outputs]
        key = {n: i for i, n in enumerate(order)}
        for n in order:
            node = t.nodes[n]
            nodes[g, key[n]] = [key[n], 0.0 if node.role == "input" else node.bias, node.response, 0, 0]
        for j, e in enumerate(t.edges.values()):
            conns[g, j] = [key[e.src], key[e.dst], e.weight]
    return nodes, conns


def away_from_kinks(net: mpnet.Network, x: torch.Tensor, margin: float = 1e-5) -> torch.Tensor:
    """``[T]`` bool: the genomes none of whose relu neurons gets a pre-activation within ``margin`` of 0 on
    ``x``. At a kink two float32 implementations may round to opposite sides and so disagree on the whole
    gradient behind it; only these genomes' gradients are compared."""
    z, _ = net.states(x)                                                  # [N, B], compiled rows
    relu = net.arrays.activation[net.data.node_perm] == mpnet.graph.topology.ACTIVATIONS.index("relu")
    near = ((z.abs() < margin) & relu.view(-1, 1)).any(1)                 # [N]
    bad = torch.zeros(net.num_graphs, dtype=torch.bool)
    bad[net.data.batch[near]] = True
    return ~bad


def mpnet_weight_grads(net: mpnet.Network, topologies: List[mpnet.Topology], x: torch.Tensor) -> np.ndarray:
    """mpnet's d(sum of outputs)/d(weight) laid out as TensorNEAT's ``[P, max_conns]`` (declaration order)."""
    net.zero_grad(set_to_none=True)
    net(x).sum().backward()
    grad = net.raw_weight.grad.double()
    union = torch.empty_like(grad)
    union[net.data.edge_perm] = grad                        # declaration order, topology after topology
    out = np.zeros((len(topologies), max(t.num_edges for t in topologies)))
    e0 = 0
    for g, t in enumerate(topologies):
        out[g, :t.num_edges] = union[e0:e0 + t.num_edges].numpy()
        e0 += t.num_edges
    return out


#: TensorNEAT's NEAT on XOR for ``scripts/bench.py search``: its defaults, except where mpnet's NEAT has the
#: same knob with another default (mpnet's value taken). Genomes are padded to these sizes (TensorNEAT's arrays
#: are fixed-size; mpnet's XOR genomes hold 3-5 neurons and 2-8 genes after three generations).
NEAT_SETTINGS = {"max_nodes": 10, "max_conns": 20, "species_size": 10, "compatibility_threshold": 3.0,
                 "survival_threshold": 0.2, "conn_add": 0.05, "node_add": 0.03, "weight_mutate_rate": 0.8,
                 "weight_mutate_power": 2.5, "weight_replace_rate": 0.1, "weight_bound": 8.0}


def neat_generation(path: Optional[str], size: int) -> dict:
    """One whole TensorNEAT generation on XOR (fitness ``4 - sum(err^2)``, as mpnet's task), timed as
    ``scripts/bench/search.py`` times mpnet's: two warm-up generations (they also jit-compile ``transform``,
    ``forward`` and ``tell``: ``warmup`` is their CPU seconds), then ``ask`` (the padded arrays), ``evaluate``
    (transform, forward, fitness, jitted and vmapped over the population) and ``tell`` (speciation, selection,
    crossover and mutation, jitted). CPU seconds of the process (every XLA thread counted).

    Raises:
        RuntimeError: TensorNEAT or jax cannot be loaded (the reason :func:`load` gives).
    """
    import resource
    genome_module, why = load(path)
    if genome_module is None:
        raise RuntimeError(why)
    import jax
    import jax.numpy as jnp
    from tensorneat.algorithm.neat import NEAT
    from tensorneat.common import ACT, AGG, State
    s = NEAT_SETTINGS
    bound = {"weight_lower_bound": -s["weight_bound"], "weight_upper_bound": s["weight_bound"]}
    node = genome_module.DefaultNode(
        activation_options=ACT.sigmoid, aggregation_options=AGG.sum, response_mutate_rate=0.0,
        bias_mutate_rate=s["weight_mutate_rate"], bias_mutate_power=s["weight_mutate_power"],
        bias_replace_rate=s["weight_replace_rate"], bias_lower_bound=-s["weight_bound"],
        bias_upper_bound=s["weight_bound"])
    conn = genome_module.DefaultConn(weight_mutate_rate=s["weight_mutate_rate"],
                                     weight_mutate_power=s["weight_mutate_power"],
                                     weight_replace_rate=s["weight_replace_rate"], **bound)
    mutation = genome_module.DefaultMutation(conn_add=s["conn_add"], conn_delete=0.0, node_add=s["node_add"],
                                             node_delete=0.0)
    genome = genome_module.DefaultGenome(num_inputs=2, num_outputs=1, max_nodes=s["max_nodes"],
                                         max_conns=s["max_conns"], node_gene=node, conn_gene=conn,
                                         mutation=mutation, output_transform=ACT.sigmoid)
    algo = NEAT(genome=genome, pop_size=size, species_size=s["species_size"],
                compatibility_threshold=s["compatibility_threshold"], survival_threshold=s["survival_threshold"])
    x = jnp.array([[0, 0], [0, 1], [1, 0], [1, 1]], jnp.float32)
    y = jnp.array([[0], [1], [1], [0]], jnp.float32)

    def fitness_of(state: Any, transformed: Any) -> Any:
        out = jax.vmap(algo.forward, in_axes=(None, None, 0))(state, transformed, x)
        return 4.0 - jnp.sum((out - y) ** 2)

    transform = jax.jit(jax.vmap(algo.transform, in_axes=(None, 0)))
    fitness = jax.jit(jax.vmap(fitness_of, in_axes=(None, 0)))
    tell = jax.jit(algo.tell)
    c0 = time.process_time()
    state = algo.setup(State(randkey=jax.random.key(0)))
    times = []
    for _ in range(3):
        t0 = time.process_time()
        population = algo.ask(state)
        t1 = time.process_time()
        f = jax.block_until_ready(fitness(state, transform(state, population)))
        f = jnp.where(jnp.isnan(f), -jnp.inf, f)          # as TensorNEAT's pipeline does
        t2 = time.process_time()
        state = jax.block_until_ready(tell(state, f))
        times.append((t0, t1, t2, time.process_time()))
    t0, t1, t2, t3 = times[-1]
    genes = int((~jnp.isnan(state.pop_conns[:, :, 0])).sum())
    species = int((state.species.member_count > 0).sum())
    return {"ask": t1 - t0, "evaluate": t2 - t1, "tell": t3 - t2, "warmup": t0 - c0, "species": species,
            "genes": genes, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "jax": jax.__version__, "settings": s}
