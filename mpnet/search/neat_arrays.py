"""NEAT bred on arrays: :class:`ArrayNEAT` runs the algorithm of :class:`~mpnet.search.NEAT` (speciation,
fitness sharing, stagnation, elitism, survival threshold, crossover, mutation, every default) on a
:class:`~mpnet.search.breed.Pool` of columns, so that breeding 10,000 to 1,000,000 genomes is a few tensor
passes instead of a Python object per gene (search stage). ``NEAT(..., breeding="arrays")`` makes one.

Species are the object path's :class:`~mpnet.search.neat.Species` (a representative :class:`Genome`, member
keys), so reporters and checkpoints read them alike. Random draws come from a ``torch.Generator`` seeded with
``config.seed``: a run is reproducible per seed, but draws differ from the object path's, so the two paths
agree in distribution (generations and evaluations to solve), not genome by genome.
"""
import math
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

import torch
from torch import Tensor

from ..graph.topology import Topology
from .batch import GenomeBatch, from_genomes, to_genome
from .breed import ACT_INDEX, Lineup, Pool, crossover, distance_to
from .mutation import mutate
from .config import NEATConfig
from .genome import Genome, Innovations, Weights
from .neat import NEAT, Individual, Species, _applied, _apportion

__all__ = ["ArrayNEAT"]

_L, _F = torch.long, torch.float64


class ArrayNEAT(NEAT):
    """NEAT on columns (see the module docstring); made by ``NEAT(..., breeding="arrays")``, with the arguments
    of :class:`~mpnet.search.NEAT`. A start topology with fixed signs or Dale neurons needs the objects path."""
    name = "NEAT-arrays"

    def __init__(self, n_inputs: int, n_outputs: int, config: Optional[NEATConfig] = None, *,
                 start: Optional[Topology] = None, **overrides: Any) -> None:
        config = self._settings(n_inputs, n_outputs, config, start, overrides)
        if start is not None and (any(n.dale for n in start.nodes.values())
                                  or any(e.sign for e in start.edges.values())):
            raise ValueError("breeding='arrays' breeds free signs; the start topology has fixed signs or Dale "
                             "neurons. Use breeding='objects' for it.")
        self.n_inputs, self.n_outputs, self.config = n_inputs, n_outputs, config
        self.input_names = list(start.inputs) if start is not None else None
        self.output_names = list(start.outputs) if start is not None else None
        self.gen = torch.Generator().manual_seed(config.seed)
        self.innovations = Innovations(n_inputs, n_outputs)
        self.generation = 0
        self.threshold = config.compatibility_threshold
        P = config.population
        if start is None:
            self.pool = self._minimal(P)
        else:
            import random
            rng = random.Random(config.seed)
            self.pool = from_genomes([Genome.from_topology(i, start, config, self.innovations, rng) for i in range(P)])
        self.next_key = P
        self.species: Dict[int, Species] = {}
        self._rows: Dict[int, Tensor] = {}
        self.next_species = 0
        self.best: Optional[Individual] = None
        self.last_improved = 0
        self._batch: Optional[GenomeBatch] = None
        self._speciate()

    def _minimal(self, P: int) -> Pool:
        """NEAT's start (:meth:`Genome.minimal`): every input to every output, weights and biases ~ N(0, std)."""
        n_in, n_out, std = self.n_inputs, self.n_outputs, self.config.weight_init_std
        n_io = n_in + n_out
        keys = torch.arange(n_io).repeat(P)
        act = torch.where(keys < n_in, ACT_INDEX["identity"], ACT_INDEX[self.config.output_activation])
        bias = torch.where(keys < n_in, 0.0, torch.randn(P * n_io, generator=self.gen, dtype=_F) * std)
        pairs = [(i, o) for o in range(n_in, n_io) for i in range(n_in)]
        numbers = torch.tensor([self.innovations.connection(i, o) for i, o in pairs], dtype=_L).repeat(P)
        src = torch.tensor([i for i, _ in pairs], dtype=_L).repeat(P)
        dst = torch.tensor([o for _, o in pairs], dtype=_L).repeat(P)
        weight = torch.randn(P * len(pairs), generator=self.gen, dtype=_F) * std
        return Pool.build(n_in, n_out, torch.arange(P), torch.arange(P).repeat_interleave(n_io), keys, bias, act,
                          torch.arange(P).repeat_interleave(len(pairs)), src, dst, numbers, weight,
                          torch.ones(P * len(pairs), dtype=torch.bool))

    # ------------------------------------------------------------------------------------- ask / tell
    def ask(self) -> List[Topology]:
        """The current generation as a :class:`~mpnet.search.batch.GenomeBatch` (a sequence of topologies,
        each made when read; the evaluator builds the batch from the columns)."""
        if self._batch is None:
            self._batch = GenomeBatch(self.pool, self.config, self.input_names, self.output_names)
        return self._batch      # type: ignore[return-value]   # a Sequence[Topology], made lazily

    def tell(self, fitness: Sequence[float], trained: Optional[Sequence[Union[Topology, Weights]]] = None) -> None:
        """As :meth:`mpnet.search.NEAT.tell`."""
        batch = self.ask()
        values = torch.as_tensor(fitness, dtype=_F).reshape(-1)
        P = len(self.pool)
        if len(values) != P:
            raise ValueError(f"tell expected {P} fitness values, one per asked topology (got {len(values)}).")
        bad = torch.nonzero(~torch.isfinite(values)).view(-1).tolist()
        if bad:
            raise ValueError(f"Fitness of genomes {bad[:5]} is {float(values[bad[0]])}; expected finite numbers.")
        if trained is not None:
            trained = list(trained)
            if len(trained) != P:
                raise ValueError(f"tell expected {P} trained topologies (got {len(trained)}).")
            self._write_back(trained)
        top = int(torch.argmax(values))
        if self.best is None or float(values[top]) > self.best.fitness:
            topology = batch[top] if trained is None else _applied(trained[top], batch[top])
            self.best = Individual(topology, float(values[top]), self.generation, to_genome(self.pool, top))
            self.last_improved = self.generation
        self._reproduce(values)
        self.generation += 1
        self._speciate()
        self._batch = None

    def _write_back(self, trained: Sequence[Union[Topology, Weights]]) -> None:
        """The Lamarckian step, genome by genome (:meth:`Genome.set_weights`), into the columns."""
        weight, bias = self.pool.weight.clone(), self.pool.bias.clone()
        for i, t in enumerate(trained):
            g = to_genome(self.pool, i)
            g.set_weights(t, self.config, self.input_names, self.output_names)
            c0, n0 = int(self.pool.conn_ptr[i]), int(self.pool.node_ptr[i])
            weight[c0:c0 + len(g.conns)] = torch.tensor([c.weight for c in g.conns.values()], dtype=_F)
            bias[n0:n0 + len(g.nodes)] = torch.tensor([n.bias for n in g.nodes.values()], dtype=_F)
        self.pool.weight, self.pool.bias = weight, bias

    # ------------------------------------------------------------------------------------- breeding
    def _reproduce(self, fit: Tensor) -> None:     # type: ignore[override]
        cfg, gen, g = self.config, self.generation, self.gen
        keys = self.pool.key
        champion = int(torch.argmax(fit))
        ranked: List[Species] = []
        record: Dict[int, float] = {}
        for sid in sorted(self.species):
            s, rows = self.species[sid], self._rows[sid]
            best = float(fit[rows].max())
            if s.best_fitness is None or best > s.best_fitness:
                s.best_fitness, s.last_improved = best, gen
            record[s.key] = s.best_fitness
            if gen - s.last_improved < cfg.stagnation or bool((rows == champion).any()):
                ranked.append(s)
        if gen - self.last_improved >= cfg.population_stagnation and len(ranked) > 2:
            ranked = sorted(ranked, key=lambda s: -record[s.key])[:2]
            for s in ranked:
                s.last_improved = gen
            self.last_improved = gen
        low = float(torch.cat([fit[self._rows[s.key]] for s in ranked]).min())
        shares = [float((fit[self._rows[s.key]] - low).sum()) / len(self._rows[s.key]) for s in ranked]
        spawn = _apportion(shares if sum(shares) > 0 else [len(self._rows[s.key]) for s in ranked], cfg.population)
        survivors: Dict[int, Tensor] = {}
        for s in ranked:
            rows = self._rows[s.key]
            rows = rows[torch.argsort(keys[rows])]
            rows = rows[torch.argsort(-fit[rows], stable=True)]           # best first, ties by genome key
            survivors[s.key] = rows[:max(1, math.ceil(cfg.survival_threshold * len(rows)))]
        moms: List[Tensor] = []
        dads: List[Tensor] = []
        mutated: List[Tensor] = []
        kept: Dict[int, Species] = {}
        for s, n in zip(ranked, spawn):
            if n == 0:
                continue
            rows = self._rows[s.key]
            s.representative = to_genome(self.pool, int(rows[torch.randint(len(rows), (1,), generator=g)]))
            kept[s.key] = s
            surv = survivors[s.key]
            if len(rows) > cfg.elitism_min_size:
                moms.append(surv[:1])                      # the champion, unchanged
                dads.append(torch.full((1,), -1))
                mutated.append(torch.zeros(1, dtype=torch.bool))
                n -= 1
            u = torch.rand(3, n, generator=g, dtype=_F)
            mom = surv[torch.randint(len(surv), (n,), generator=g)]
            dad = surv[torch.randint(len(surv), (n,), generator=g)]
            cross = (u[0] < cfg.crossover_rate) & (len(surv) > 1)
            others = [k for k in survivors if k != s.key]
            if others:
                pool_of = torch.cat([survivors[k] for k in others])
                sizes = torch.tensor([len(survivors[k]) for k in others])
                start = torch.cumsum(sizes, 0) - sizes
                pick = torch.randint(len(others), (n,), generator=g)
                away = pool_of[start[pick] + (torch.rand(n, generator=g, dtype=_F) * sizes[pick]).long()]
                dad = torch.where(cross & (u[1] < cfg.interspecies_rate), away, dad)
            coin = torch.rand(n, generator=g, dtype=_F) < 0.5
            swap = (fit[dad] > fit[mom]) | ((fit[dad] == fit[mom]) & coin)
            mom, dad = torch.where(swap, dad, mom), torch.where(swap, mom, dad)
            moms.append(mom)
            dads.append(torch.where(cross, dad, -1))
            mutated.append(~cross | (u[2] >= cfg.mate_only_rate))
        mom_t, dad_t, mut_t = torch.cat(moms), torch.cat(dads), torch.cat(mutated)
        new_keys = torch.arange(self.next_key, self.next_key + len(mom_t))
        self.next_key += len(mom_t)
        cross = dad_t >= 0
        mated = crossover(self.pool, mom_t[cross], dad_t[cross], new_keys[cross], cfg, g)
        copied = self.pool.take(mom_t[~cross], new_keys[~cross])
        order = torch.argsort(torch.cat([torch.nonzero(cross).view(-1), torch.nonzero(~cross).view(-1)]))
        both = _stack(mated, copied)
        children = both.take(order, both.key[order])
        self.pool = mutate(children, mut_t, cfg, self.innovations, g)
        self.species = kept

    def _speciate(self) -> None:
        """As :meth:`NEAT._speciate`: each genome joins the first species (by key) whose representative is within
        the threshold; the first genome left founds a species, which those left within the threshold join, and
        so on; then the threshold steps towards ``target_species``."""
        cfg, pool = self.config, self.pool
        P = len(pool)
        assigned = torch.full((P,), -1, dtype=_L)
        # species in key order, then founders in turn; a genome placed is compared with no later representative,
        # so the pool compared shrinks (taken again whenever a quarter of it is placed)
        reps = [(sid, self.species[sid].representative) for sid in sorted(self.species)]
        rows = torch.arange(P)
        part, lineup = pool, Lineup.of(pool)
        i = 0
        while len(rows):
            if i < len(reps):
                sid, rep = reps[i]
            else:
                left = rows[assigned[rows] < 0]
                if not len(left):
                    break
                sid = self.next_species
                self.next_species += 1
                rep = to_genome(pool, int(left[0]))
                self.species[sid] = Species(sid, self.generation, rep, [], None, self.generation)
                assigned[left[0]] = sid
            i += 1
            near = distance_to(part, from_genomes([rep]), cfg, lineup) < self.threshold
            near &= assigned[rows] < 0
            assigned[rows[near]] = sid
            open_ = assigned[rows] < 0
            if int(open_.sum()) * 4 < len(rows) * 3:
                rows = rows[open_]
                part = pool.take(rows, pool.key[rows])
                lineup = Lineup.of(part)
        self._rows = {}
        for sid in list(self.species):
            rows = torch.nonzero(assigned == sid).view(-1)
            if len(rows):
                self._rows[sid] = rows
                self.species[sid].members = pool.key[rows].tolist()
            else:
                del self.species[sid]
        if cfg.target_species is not None:
            if len(self.species) < cfg.target_species:
                self.threshold = max(cfg.threshold_min, self.threshold - cfg.threshold_step)
            elif len(self.species) > cfg.target_species:
                self.threshold += cfg.threshold_step

    # ------------------------------------------------------------------------------ introspection
    def genomes(self) -> List[Genome]:
        """The population as :class:`Genome` objects (one per genome: slow for a large population)."""
        return [to_genome(self.pool, i) for i in range(len(self.pool))]

    def __repr__(self) -> str:
        best = "None" if self.best is None else f"{self.best.fitness:.4g}"
        return (f"ArrayNEAT(inputs={self.n_inputs}, outputs={self.n_outputs}, population={len(self.pool)}, "
                f"generation={self.generation}, species={len(self.species)}, best={best})")

    # ------------------------------------------------------------------------------ checkpointing
    def state_dict(self) -> Dict[str, Any]:
        """The whole state as JSON-ready data (:meth:`from_state_dict` restores it exactly)."""
        p = self.pool
        columns = {name: getattr(p, name).tolist() for name in _COLUMNS}
        return {"algorithm": self.name, "n_inputs": self.n_inputs, "n_outputs": self.n_outputs,
                "config": self.config.to_dict(), "input_names": self.input_names, "output_names": self.output_names,
                "generation": self.generation, "threshold": self.threshold, "rng": self.gen.get_state().tolist(),
                "innovations": self.innovations.to_dict(), "pool": columns, "next_key": self.next_key,
                "species": [s.to_dict() for s in self.species.values()], "next_species": self.next_species,
                "best": None if self.best is None else self.best.to_dict(), "last_improved": self.last_improved}

    @classmethod
    def from_state_dict(cls, state: Mapping[str, Any]) -> "ArrayNEAT":
        """The algorithm :meth:`state_dict` saved, continuing exactly where it was.

        Raises:
            ValueError: ``state`` is not a NEAT-arrays state.
            KeyError: a field is missing.
        """
        if state.get("algorithm") != cls.name:
            raise ValueError(f"Expected a {cls.name} state (got algorithm={state.get('algorithm')!r}).")
        self = object.__new__(cls)
        self.n_inputs, self.n_outputs = int(state["n_inputs"]), int(state["n_outputs"])
        self.config = NEATConfig.from_dict(state["config"])
        self.input_names, self.output_names = state["input_names"], state["output_names"]
        self.generation, self.threshold = int(state["generation"]), float(state["threshold"])
        self.gen = torch.Generator()
        self.gen.set_state(torch.tensor(state["rng"], dtype=torch.uint8))
        self.innovations = Innovations.from_dict(state["innovations"])
        c = state["pool"]
        self.pool = Pool(self.n_inputs, self.n_outputs, **{name: torch.tensor(c[name], dtype=_DTYPES[name])
                                                         for name in _COLUMNS})
        self.next_key = int(state["next_key"])
        self.species = {int(s["key"]): Species.from_dict(s) for s in state["species"]}
        position = {k: i for i, k in enumerate(self.pool.key.tolist())}
        self._rows = {sid: torch.tensor([position[k] for k in s.members], dtype=_L) for sid, s in self.species.items()}
        self.next_species = int(state["next_species"])
        self.best = None if state["best"] is None else Individual.from_dict(state["best"])
        self.last_improved = int(state["last_improved"])
        self._batch = None
        return self


_DTYPES = {"key": _L, "node_ptr": _L, "node_key": _L, "bias": _F, "act": _L, "conn_ptr": _L, "src": _L, "dst": _L,
           "innov": _L, "weight": _F, "enabled": torch.bool}
_COLUMNS = tuple(_DTYPES)


def _stack(a: Pool, b: Pool) -> Pool:
    """The genomes of ``a`` then those of ``b``."""
    return Pool(a.n_inputs, a.n_outputs, torch.cat([a.key, b.key]),
                torch.cat([a.node_ptr, b.node_ptr[1:] + a.node_ptr[-1]]), torch.cat([a.node_key, b.node_key]),
                torch.cat([a.bias, b.bias]), torch.cat([a.act, b.act]),
                torch.cat([a.conn_ptr, b.conn_ptr[1:] + a.conn_ptr[-1]]), torch.cat([a.src, b.src]),
                torch.cat([a.dst, b.dst]), torch.cat([a.innov, b.innov]), torch.cat([a.weight, b.weight]),
                torch.cat([a.enabled, b.enabled]))


NEAT.breeders["arrays"] = ArrayNEAT


def check_pool(algorithm: ArrayNEAT) -> None:
    """Raise ``ValueError`` naming the first disagreement in a state read back (before a generation runs on
    it): pointers that do not rise over the columns, a population of another size than the config's, a genome
    without its inputs and outputs, a connection naming a neuron its genome lacks or ending in an input, an
    innovation number other than the run's table gives, a weight or bias that is not finite, species members
    that are not the population's keys each once."""
    pool, cfg = algorithm.pool, algorithm.config
    P, n_io = len(pool), pool.n_inputs + pool.n_outputs
    for name, ptr, total in (("node_ptr", pool.node_ptr, len(pool.node_key)),
                             ("conn_ptr", pool.conn_ptr, len(pool.src))):
        if len(ptr) != P + 1 or int(ptr[0]) != 0 or int(ptr[-1]) != total or bool((ptr.diff() < 0).any()):
            raise ValueError(f"pool.{name} must rise from 0 to {total} in {P + 1} entries, one per genome.")
    for name, per in (("bias", "node_key"), ("act", "node_key"), ("dst", "src"), ("innov", "src"),
                      ("weight", "src"), ("enabled", "src")):
        if len(getattr(pool, name)) != len(getattr(pool, per)):
            raise ValueError(f"pool.{name} has {len(getattr(pool, name))} entries; expected "
                             f"{len(getattr(pool, per))}.")
    if P != cfg.population:
        raise ValueError(f"the config's population is {cfg.population} but the pool holds {P} genomes.")
    first = (pool.node_ptr[:-1].unsqueeze(1) + torch.arange(n_io)).clamp(max=max(len(pool.node_key) - 1, 0))
    if bool((pool.node_ptr.diff() < n_io).any()) or not torch.equal(pool.node_key[first],
                                                                     torch.arange(n_io).expand(P, n_io)):
        raise ValueError(f"a genome lacks one of its {pool.n_inputs} inputs and {pool.n_outputs} outputs (keys 0 .. "
                         f"{n_io - 1}).")
    g_conn = torch.repeat_interleave(torch.arange(P), pool.conn_ptr.diff())
    for end in ("src", "dst"):
        hit, _ = pool.node_rows(g_conn, getattr(pool, end))
        if not bool(hit.all()):
            e = int(torch.nonzero(~hit)[0])
            raise ValueError(f"genome {int(pool.key[g_conn[e]])}: connection {int(pool.src[e])} -> "
                             f"{int(pool.dst[e])} names a neuron the genome lacks.")
    if bool((pool.dst < pool.n_inputs).any()):
        raise ValueError("a connection ends in an input neuron.")
    table = algorithm.innovations.connections
    wrong = [i for i, (s, d, n) in enumerate(zip(pool.src.tolist(), pool.dst.tolist(), pool.innov.tolist()))
             if table.get((s, d)) != n]
    if wrong:
        s, d, n = (int(v[wrong[0]]) for v in (pool.src, pool.dst, pool.innov))
        raise ValueError(f"connection {s} -> {d} has innovation number {n} but the run's table gives "
                         f"{table.get((s, d))}.")
    if not bool(torch.isfinite(pool.weight).all() and torch.isfinite(pool.bias).all()):
        raise ValueError("a weight or bias in the pool is not finite.")
    members = sorted(k for s in algorithm.species.values() for k in s.members)
    if members != sorted(pool.key.tolist()):
        raise ValueError("the species' members are not the population's genome keys, each once.")
