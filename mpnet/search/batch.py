"""A generation bred on arrays, handed out as a sequence of topologies that makes no topology until one is
asked for (search stage): :meth:`GenomeBatch.arrays` gives the evaluator the whole batch as an
:class:`~mpnet.ArrayTopology`, straight from the genome columns; ``batch[i]`` builds topology ``i`` as
:meth:`mpnet.search.genome.Genome.to_topology` does.
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union, overload

import torch

from ..graph.arrays import ArrayTopology
from ..graph.topology import Topology
from ..graph.vocabulary import ACTIVATIONS
from .breed import ACT_INDEX, Pool, owners
from .config import NEATConfig
from .genome import ConnGene, Genome, Names, NodeGene

__all__ = ["GenomeBatch", "to_genome", "from_genomes"]


def to_genome(pool: Pool, i: int) -> Genome:
    """Genome ``i`` of ``pool`` as a :class:`~mpnet.search.genome.Genome` (connections in innovation order)."""
    g = Genome(int(pool.key[i]), pool.n_inputs, pool.n_outputs)
    n0, n1 = int(pool.node_ptr[i]), int(pool.node_ptr[i + 1])
    for k, b, a in zip(pool.node_key[n0:n1].tolist(), pool.bias[n0:n1].tolist(), pool.act[n0:n1].tolist()):
        g.nodes[k] = NodeGene(k, ACTIVATIONS[a], b)
    c0, c1 = int(pool.conn_ptr[i]), int(pool.conn_ptr[i + 1])
    for s, d, n, w, e in zip(pool.src[c0:c1].tolist(), pool.dst[c0:c1].tolist(), pool.innov[c0:c1].tolist(),
                             pool.weight[c0:c1].tolist(), pool.enabled[c0:c1].tolist()):
        g.conns[(s, d)] = ConnGene(s, d, n, w, e)
    return g


def from_genomes(genomes: Sequence[Genome]) -> Pool:
    """Genome objects as a pool (signs and Dale neurons are not carried: the arrays path breeds free signs)."""
    node_g: List[int] = []
    node_key: List[int] = []
    bias: List[float] = []
    act: List[int] = []
    conn_g: List[int] = []
    src: List[int] = []
    dst: List[int] = []
    innov: List[int] = []
    weight: List[float] = []
    enabled: List[bool] = []
    for i, g in enumerate(genomes):
        node_g += [i] * len(g.nodes)
        node_key += list(g.nodes)
        bias += [n.bias for n in g.nodes.values()]
        act += [ACT_INDEX[n.activation] for n in g.nodes.values()]
        conns = list(g.conns.values())
        conn_g += [i] * len(conns)
        src += [c.src for c in conns]
        dst += [c.dst for c in conns]
        innov += [c.innovation for c in conns]
        weight += [c.weight for c in conns]
        enabled += [c.enabled for c in conns]
    L, F = torch.long, torch.float64
    return Pool.build(genomes[0].n_inputs, genomes[0].n_outputs, torch.tensor([g.key for g in genomes], dtype=L),
                      torch.tensor(node_g, dtype=L), torch.tensor(node_key, dtype=L), torch.tensor(bias, dtype=F),
                      torch.tensor(act, dtype=L), torch.tensor(conn_g, dtype=L), torch.tensor(src, dtype=L),
                      torch.tensor(dst, dtype=L), torch.tensor(innov, dtype=L), torch.tensor(weight, dtype=F),
                      torch.tensor(enabled, dtype=torch.bool))


class GenomeBatch(Sequence[Topology]):
    """The topologies of a pool's genomes, made one at a time on demand (see the module docstring).

    Args:
        pool: the genomes.
        config: the search's config (activation gains, feed-forward or recurrent).
        input_names, output_names: topology ids of the inputs and outputs (None: ``x0..``, ``y0..``).
    """

    def __init__(self, pool: Pool, config: NEATConfig, input_names: Names = None, output_names: Names = None):
        self.pool, self.config = pool, config
        self.input_names, self.output_names = input_names, output_names
        self._made: Dict[int, Topology] = {}

    def __len__(self) -> int:
        return len(self.pool)

    @overload
    def __getitem__(self, i: int) -> Topology: ...
    @overload
    def __getitem__(self, i: slice) -> "GenomeBatch": ...

    def __getitem__(self, i: Union[int, slice]) -> Union[Topology, "GenomeBatch"]:
        if isinstance(i, slice):
            rows = torch.arange(len(self))[i]
            return GenomeBatch(self.pool.take(rows, self.pool.key[rows]), self.config, self.input_names,
                               self.output_names)
        if not -len(self) <= i < len(self):
            raise IndexError(f"GenomeBatch index {i} out of range: the batch has {len(self)} genomes.")
        i %= len(self)
        if i not in self._made:
            self._made[i] = self.genome(i).to_topology(self.config, self.input_names, self.output_names)
        return self._made[i]

    def genome(self, i: int) -> Genome:
        """Genome ``i`` as an object."""
        return to_genome(self.pool, i)

    def sizes(self) -> Tuple[List[int], List[int]]:
        """Hidden neurons and enabled connections of every genome (what its topology has)."""
        pool = self.pool
        n_io = pool.n_inputs + pool.n_outputs
        hidden = (pool.node_ptr.diff() - n_io).tolist()
        conns = torch.zeros(len(pool), dtype=torch.long).index_add_(0, owners(pool.conn_ptr), pool.enabled.long())
        return hidden, conns.tolist()

    def arrays(self) -> Optional[ArrayTopology]:
        """The batch as one :class:`~mpnet.ArrayTopology` built from the columns (nodes in the order of
        :meth:`Genome.to_topology`: inputs, hidden by key, outputs; enabled connections in innovation order),
        or None for a recurrent search (arrays build feed-forward graphs only)."""
        if not self.config.feed_forward:
            return None
        pool, n_in, n_out = self.pool, self.pool.n_inputs, self.pool.n_outputs
        count = pool.node_ptr.diff()
        g_node = owners(pool.node_ptr)
        local = torch.arange(len(pool.node_key)) - pool.node_ptr[g_node]
        n = count[g_node]
        # keys sorted: inputs, outputs, hidden -> positions inputs, hidden, outputs
        position = torch.where(local < n_in, local, torch.where(local < n_in + n_out, n - n_out + local - n_in,
                                                                local - n_out))
        gain = torch.tensor([self.config.gain(a) for a in ACTIVATIONS], dtype=torch.float64)
        bias = pool.bias * gain[pool.act]
        act = pool.act.clone()
        node_at = torch.empty(len(position), dtype=torch.long)
        node_at[pool.node_ptr[g_node] + position] = torch.arange(len(position))   # declared position -> row
        g_conn = owners(pool.conn_ptr)
        on = pool.enabled
        _, srow = pool.node_rows(g_conn[on], pool.src[on])
        _, drow = pool.node_rows(g_conn[on], pool.dst[on])
        weight = pool.weight[on] * gain[pool.act[drow]]
        ends = torch.zeros(len(pool), dtype=torch.long).index_add_(0, g_conn[on], torch.ones_like(srow))
        outputs = (count - n_out).view(-1, 1) + torch.arange(n_out)
        return ArrayTopology.from_batch(count, position[srow], position[drow], ends, inputs=torch.arange(n_in),
                                        outputs=outputs, weight=weight, bias=bias[node_at], activation=act[node_at],
                                        warn=False)

    def __repr__(self) -> str:
        return f"GenomeBatch(genomes={len(self)}, nodes={len(self.pool.node_key)}, genes={len(self.pool.src)})"
