"""NEAT, the algorithm: speciation, fitness sharing, stagnation, elitism and reproduction behind
``ask()`` / ``tell(fitness)`` (search stage; pure Python, no torch).

The algorithm never evaluates anything: :meth:`NEAT.ask` hands out the generation as
:class:`~mpnet.Topology` objects, :meth:`NEAT.tell` takes one fitness per topology (higher is better) and,
in Lamarckian mode, the trained topologies, whose weights it writes back into the genomes. Its whole
state is JSON (:meth:`NEAT.state_dict`), so a checkpoint resumes exactly.
"""
import math
import random
from dataclasses import dataclass, fields, replace
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from ..graph.topology import Topology
from .config import NEATConfig
from .genome import Genome, Innovations, Weights
from .operators import crossover, distance_of, genes, mutate

__all__ = ["NEAT", "Species", "Individual"]


@dataclass
class Individual:
    """A network found by the search: ``topology`` computes exactly what earned ``fitness`` in ``generation``
    (after fine-tuning, in Lamarckian mode); ``genome`` is its NEAT genome where the algorithm kept it."""
    topology: Topology
    fitness: float
    generation: int
    genome: Optional[Genome] = None

    def to_dict(self) -> Dict[str, Any]:
        """The individual as JSON-ready data (:meth:`from_dict` reads it back).

        Returns:
            ``{"topology", "fitness", "generation", "genome"}`` (``genome`` None where not kept).
        """
        return {"topology": self.topology.to_dict(), "fitness": self.fitness, "generation": self.generation,
                "genome": None if self.genome is None else self.genome.to_dict()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Individual":
        """The individual :meth:`to_dict` wrote.

        Args:
            data: the dict :meth:`to_dict` returned (or read back from JSON).

        Returns:
            A new individual.

        Raises:
            KeyError: a field is missing.
            TopologyError: the topology is not valid.
        """
        return cls(Topology.from_dict(data["topology"], warn=False), float(data["fitness"]),
                   int(data["generation"]), None if data["genome"] is None else Genome.from_dict(data["genome"]))


@dataclass
class Species:
    """Genomes within the compatibility threshold of ``representative``; ``members`` are genome keys of the
    current population."""
    key: int
    created: int
    representative: Genome
    members: List[int]
    best_fitness: Optional[float] = None   # the best fitness any member ever had
    last_improved: int = 0                 # the generation it was reached

    def to_dict(self) -> Dict[str, Any]:
        """The species as JSON-ready data (:meth:`from_dict` reads it back).

        Returns:
            Its fields, the representative as ``Genome.to_dict`` writes it.
        """
        return {"key": self.key, "created": self.created, "representative": self.representative.to_dict(),
                "members": self.members, "best_fitness": self.best_fitness, "last_improved": self.last_improved}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Species":
        """The species :meth:`to_dict` wrote.

        Args:
            data: the dict :meth:`to_dict` returned (or read back from JSON).

        Returns:
            A new species.

        Raises:
            KeyError: a field is missing.
        """
        return cls(int(data["key"]), int(data["created"]), Genome.from_dict(data["representative"]),
                   [int(k) for k in data["members"]], data["best_fitness"], int(data["last_improved"]))


class NEAT:
    """NeuroEvolution of Augmenting Topologies over mpnet topologies.

    Args:
        n_inputs, n_outputs: of every network (the task's must match; :func:`mpnet.search.run` checks).
        config: every knob, documented in :class:`~mpnet.search.NEATConfig`; keyword arguments override its
            fields, e.g. ``NEAT(2, 1, population=150, seed=0)``.
        start: a topology to start from instead of NEAT's minimal one (its signs and Dale neurons are kept
            through mutation and training; unset weights are drawn per genome).

    Example:
        >>> algo = NEAT(n_inputs=2, n_outputs=1, population=20, seed=0)
        >>> topologies = algo.ask()                    # 20 mpnet.Topology
        >>> algo.tell([t.num_edges for t in topologies])
        >>> algo.generation
        1
    """
    name = "NEAT"

    #: the classes that breed otherwise, by ``NEATConfig.breeding`` (:mod:`.neat_arrays` adds "arrays")
    breeders: Dict[str, type] = {}

    def __new__(cls, *args: Any, **kwargs: Any) -> "NEAT":
        """``NEAT(...)`` with ``breeding="arrays"`` (in ``config`` or as a keyword) makes the arrays path's
        class, :class:`~mpnet.search.neat_arrays.ArrayNEAT`: the same algorithm on columns."""
        config = kwargs.get("config", args[2] if len(args) > 2 else None)
        breeding = kwargs.get("breeding", config.breeding if isinstance(config, NEATConfig) else "objects")
        chosen = cls.breeders.get(breeding, cls) if cls is NEAT else cls
        return super().__new__(chosen)

    def __init__(self, n_inputs: int, n_outputs: int, config: Optional[NEATConfig] = None, *,
                 start: Optional[Topology] = None, **overrides: Any) -> None:
        config = self._settings(n_inputs, n_outputs, config, start, overrides)
        self.n_inputs, self.n_outputs, self.config = n_inputs, n_outputs, config
        self.input_names = list(start.inputs) if start is not None else None
        self.output_names = list(start.outputs) if start is not None else None
        self.rng = random.Random(config.seed)
        self.innovations = Innovations(n_inputs, n_outputs)
        self.generation = 0
        self.threshold = config.compatibility_threshold
        if start is None:
            self.population = [Genome.minimal(i, n_inputs, n_outputs, config, self.innovations, self.rng)
                               for i in range(config.population)]
        else:
            self.population = [Genome.from_topology(i, start, config, self.innovations, self.rng)
                               for i in range(config.population)]
        self.next_key = config.population
        self.species: Dict[int, Species] = {}
        self.next_species = 0
        self.best: Optional[Individual] = None
        self.last_improved = 0                   # generation of the last rise of the best fitness ever
        self._topologies: Optional[List[Topology]] = None
        self._speciate()

    @staticmethod
    def _settings(n_inputs: int, n_outputs: int, config: Optional[NEATConfig], start: Optional[Topology],
                  overrides: Mapping[str, Any]) -> NEATConfig:
        """The config the arguments give, checked against each other."""
        for what, value in (("n_inputs", n_inputs), ("n_outputs", n_outputs)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"Expected {what} to be an int >= 1 (got {value!r}).")
        config = config or NEATConfig()
        if overrides:
            known = {f.name for f in fields(NEATConfig)}
            unknown = sorted(set(overrides) - known)
            if unknown:
                raise TypeError(f"NEAT got unknown settings {unknown}; valid settings are the fields of "
                                f"NEATConfig: {sorted(known)}.")
            config = replace(config, **overrides)
        if start is not None and (len(start.inputs), len(start.outputs)) != (n_inputs, n_outputs):
            raise ValueError(f"The start topology has {len(start.inputs)} inputs and {len(start.outputs)} outputs "
                             f"but NEAT was asked for {n_inputs} and {n_outputs}.")
        return config

    # ------------------------------------------------------------------------------- ask / tell
    def ask(self) -> List[Topology]:
        """The current generation, one topology per genome (the same list until :meth:`tell`)."""
        if self._topologies is None:
            self._topologies = [g.to_topology(self.config, self.input_names, self.output_names)
                                for g in self.population]
        return list(self._topologies)

    def tell(self, fitness: Sequence[float], trained: Optional[Sequence[Union[Topology, Weights]]] = None) -> None:
        """Take one fitness per topology of :meth:`ask` (higher is better) and breed the next generation.

        Args:
            fitness: ``[population]`` numbers, in the order of :meth:`ask`.
            trained: the Lamarckian step: the asked topologies after training (or their
                :class:`~mpnet.search.genome.Weights`), whose weights and biases are written back into the
                genomes (by connection key) before they breed.

        Raises:
            ValueError: a count that does not match the population, or a fitness that is NaN or infinite.
        """
        asked = self.ask()
        fitness = [float(f) for f in fitness]
        if len(fitness) != len(self.population):
            raise ValueError(f"tell expected {len(self.population)} fitness values, one per asked topology "
                             f"(got {len(fitness)}).")
        bad = [i for i, f in enumerate(fitness) if not math.isfinite(f)]
        if bad:
            raise ValueError(f"Fitness of genomes {bad[:5]} is {fitness[bad[0]]}; expected finite numbers.")
        if trained is not None:
            trained = list(trained)
            if len(trained) != len(self.population):
                raise ValueError(f"tell expected {len(self.population)} trained topologies (got {len(trained)}).")
            for g, topo in zip(self.population, trained):
                g.set_weights(topo, self.config, self.input_names, self.output_names)
        for g, f in zip(self.population, fitness):
            g.fitness = f
        top = max(range(len(fitness)), key=fitness.__getitem__)
        if self.best is None or fitness[top] > self.best.fitness:
            topology = asked[top] if trained is None else _applied(trained[top], asked[top])
            self.best = Individual(topology, fitness[top], self.generation, self.population[top].copy())
            self.last_improved = self.generation
        self._reproduce()
        self.generation += 1
        self._speciate()
        self._topologies = None

    # ------------------------------------------------------------------------------- internals
    def _reproduce(self) -> None:
        cfg, rng, gen = self.config, self.rng, self.generation
        by_key = {g.key: g for g in self.population}
        fit = {g.key: _told(g) for g in self.population}
        champion = max(self.population, key=lambda g: fit[g.key])
        ranked: List[Species] = []
        record: Dict[int, float] = {}                # species key -> its best fitness ever
        for sid in sorted(self.species):
            s = self.species[sid]
            best = max(fit[k] for k in s.members)
            if s.best_fitness is None or best > s.best_fitness:
                s.best_fitness, s.last_improved = best, gen
            record[s.key] = s.best_fitness
            if gen - s.last_improved < cfg.stagnation or champion.key in s.members:
                ranked.append(s)
        if gen - self.last_improved >= cfg.population_stagnation and len(ranked) > 2:
            ranked = sorted(ranked, key=lambda s: -record[s.key])[:2]      # the paper's "delta coding"
            for s in ranked:
                s.last_improved = gen
            self.last_improved = gen
        fits = [fit[k] for s in ranked for k in s.members]
        low = min(fits)
        shares = [sum(fit[k] - low for k in s.members) / len(s.members) for s in ranked]
        spawn = _apportion(shares if sum(shares) > 0 else [len(s.members) for s in ranked], cfg.population)

        population: List[Genome] = []
        survivors_of: Dict[int, List[Genome]] = {}
        for s in ranked:
            members = sorted((by_key[k] for k in s.members), key=lambda g: (-fit[g.key], g.key))
            survivors_of[s.key] = members[:max(1, math.ceil(cfg.survival_threshold * len(members)))]
        kept: Dict[int, Species] = {}
        for s, n in zip(ranked, spawn):
            if n == 0:
                continue
            members = [by_key[k] for k in s.members]
            s.representative = rng.choice(members).copy()          # paper: a random member of the last generation
            kept[s.key] = s
            survivors = survivors_of[s.key]
            if len(members) > cfg.elitism_min_size:
                population.append(survivors[0].copy(self._new_key()))
                n -= 1
            others = [k for k in survivors_of if k != s.key]
            for _ in range(n):
                if len(survivors) > 1 and rng.random() < cfg.crossover_rate:
                    mom = rng.choice(survivors)
                    if others and rng.random() < cfg.interspecies_rate:
                        dad = rng.choice(survivors_of[rng.choice(others)])
                    else:
                        dad = rng.choice(survivors)
                    if fit[dad.key] > fit[mom.key] or (fit[dad.key] == fit[mom.key] and rng.random() < 0.5):
                        mom, dad = dad, mom
                    child = crossover(mom, dad, self._new_key(), cfg, rng)
                    if rng.random() >= cfg.mate_only_rate:
                        mutate(child, cfg, self.innovations, rng)
                else:
                    child = rng.choice(survivors).copy(self._new_key())
                    mutate(child, cfg, self.innovations, rng)
                population.append(child)
        for g in population:
            g.fitness = None
        self.species = kept
        self.population = population

    def _speciate(self) -> None:
        """Each genome joins the first species whose representative is within the threshold, else founds one
        (paper, section 3.3); then the threshold moves one step towards ``target_species``."""
        cfg = self.config
        order = sorted(self.species)
        views = {sid: genes(s.representative) for sid, s in self.species.items()}
        for s in self.species.values():
            s.members = []
        for g in self.population:
            view = genes(g)
            for sid in order:
                s = self.species[sid]
                if distance_of(view, views[sid], cfg) < self.threshold:
                    s.members.append(g.key)
                    break
            else:
                sid = self.next_species
                self.next_species += 1
                self.species[sid] = Species(sid, self.generation, g.copy(), [g.key], None, self.generation)
                views[sid] = view
                order.append(sid)
        self.species = {sid: s for sid, s in self.species.items() if s.members}
        if cfg.target_species is not None:
            if len(self.species) < cfg.target_species:
                self.threshold = max(cfg.threshold_min, self.threshold - cfg.threshold_step)
            elif len(self.species) > cfg.target_species:
                self.threshold += cfg.threshold_step

    def _new_key(self) -> int:
        self.next_key += 1
        return self.next_key - 1

    # ------------------------------------------------------------------------------ introspection
    def species_of(self) -> Dict[int, int]:
        """``{genome key: species key}`` for the current population."""
        return {k: s.key for s in self.species.values() for k in s.members}

    def __repr__(self) -> str:
        best = "None" if self.best is None else f"{self.best.fitness:.4g}"
        return (f"NEAT(inputs={self.n_inputs}, outputs={self.n_outputs}, population={len(self.population)}, "
                f"generation={self.generation}, species={len(self.species)}, best={best})")

    # ------------------------------------------------------------------------------ checkpointing
    def state_dict(self) -> Dict[str, Any]:
        """The whole state, JSON-ready: config, RNG state, innovations, genomes, species, best."""
        version, internal, gauss_next = self.rng.getstate()
        return {
            "algorithm": self.name, "n_inputs": self.n_inputs, "n_outputs": self.n_outputs,
            "config": self.config.to_dict(), "input_names": self.input_names, "output_names": self.output_names,
            "generation": self.generation, "threshold": self.threshold,
            "rng": [version, list(internal), gauss_next],
            "innovations": self.innovations.to_dict(),
            "population": [g.to_dict() for g in self.population], "next_key": self.next_key,
            "species": [s.to_dict() for s in self.species.values()], "next_species": self.next_species,
            "best": None if self.best is None else self.best.to_dict(), "last_improved": self.last_improved,
        }

    @classmethod
    def from_state_dict(cls, state: Mapping[str, Any]) -> "NEAT":
        """Inverse of :meth:`state_dict`: the algorithm continues exactly where it was saved.

        Args:
            state: what :meth:`state_dict` returned (or read back from JSON).

        Returns:
            A new algorithm in that state.

        Raises:
            ValueError: ``state`` is not a NEAT state.
            KeyError: a field is missing.
        """
        if state.get("algorithm") != cls.name:
            raise ValueError(f"Expected a {cls.name} state (got algorithm={state.get('algorithm')!r}).")
        self = cls.__new__(cls)
        self.n_inputs, self.n_outputs = int(state["n_inputs"]), int(state["n_outputs"])
        self.config = NEATConfig.from_dict(state["config"])
        self.input_names, self.output_names = state["input_names"], state["output_names"]
        self.generation, self.threshold = int(state["generation"]), float(state["threshold"])
        version, internal, gauss_next = state["rng"]
        self.rng = random.Random()
        self.rng.setstate((version, tuple(internal), gauss_next))
        self.innovations = Innovations.from_dict(state["innovations"])
        self.population = [Genome.from_dict(g) for g in state["population"]]
        self.next_key = int(state["next_key"])
        self.species = {int(s["key"]): Species.from_dict(s) for s in state["species"]}
        self.next_species = int(state["next_species"])
        self.best = None if state["best"] is None else Individual.from_dict(state["best"])
        self.last_improved = int(state["last_improved"])
        self._topologies = None
        return self


def _told(genome: Genome) -> float:
    """The fitness :meth:`NEAT.tell` gave ``genome`` (every genome has one when the next generation is bred)."""
    if genome.fitness is None:
        raise RuntimeError(f"Genome {genome.key} has no fitness: breeding must follow NEAT.tell.")
    return genome.fitness


def _applied(trained: Union[Topology, Weights], asked: Topology) -> Topology:
    return trained if isinstance(trained, Topology) else trained.apply(asked)


def _apportion(shares: Sequence[float], total: int) -> List[int]:
    """Integers proportional to ``shares`` summing to ``total`` (largest remainder, ties to the first)."""
    s = sum(shares)
    exact = [total * x / s for x in shares]
    counts = [int(math.floor(e)) for e in exact]
    order = sorted(range(len(shares)), key=lambda i: -(exact[i] - counts[i]))
    for i in order[:total - sum(counts)]:
        counts[i] += 1
    return counts
