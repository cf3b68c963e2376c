"""mpnet.search.neat: ask / tell, speciation on hand-made genomes, sharing, elitism, stagnation, state."""
import json
import random

import pytest

from mpnet import Topology
from mpnet.search import NEAT, NEATConfig
from mpnet.search.genome import Innovations, Weights, check_genome
import mpnet.search.neat as neat_module
from mpnet.search.neat import Individual, _apportion

from test_search_genome import hand_genome


def fitness_of(topologies, rng=None):
    """A cheap deterministic fitness: favours many edges and hidden neurons, plus noise."""
    rng = rng or random.Random(0)
    return [t.num_edges + 0.5 * t.num_nodes + rng.random() for t in topologies]


def test_ask_hands_out_the_population_as_topologies():
    algo = NEAT(n_inputs=3, n_outputs=2, population=20, seed=0)
    topologies = algo.ask()
    assert len(topologies) == 20 and all(isinstance(t, Topology) for t in topologies)
    assert all(t.inputs == ("x0", "x1", "x2") and t.outputs == ("y0", "y1") for t in topologies)
    assert all(t.num_edges == 6 for t in topologies)                  # minimal start: fully connected
    assert algo.ask() == topologies
    assert repr(algo) == "NEAT(inputs=3, outputs=2, population=20, generation=0, species=1, best=None)"


def test_settings_are_checked():
    with pytest.raises(TypeError, match="unknown settings \\['populaton'\\]"):
        NEAT(2, 1, populaton=10)
    with pytest.raises(ValueError, match="population to be an int >= 2"):
        NEAT(2, 1, population=1)
    with pytest.raises(ValueError, match='Invalid activation "swish" in hidden_activation'):
        NEAT(2, 1, hidden_activation="swish")
    with pytest.raises(ValueError, match="add_node_rate to be a finite number in \\[0, 1\\]"):
        NEAT(2, 1, add_node_rate=1.5)
    with pytest.raises(ValueError, match="n_inputs to be an int >= 1"):
        NEAT(0, 1)


def test_tell_checks_its_input():
    algo = NEAT(2, 1, population=10, seed=0)
    with pytest.raises(ValueError, match="expected 10 fitness values"):
        algo.tell([1.0] * 9)
    with pytest.raises(ValueError, match="Fitness of genomes \\[3\\] is nan"):
        algo.tell([1.0] * 3 + [float("nan")] + [1.0] * 6)
    with pytest.raises(ValueError, match="expected 10 trained topologies"):
        algo.tell([1.0] * 10, trained=algo.ask()[:2])


def test_generations_stay_valid_and_grow():
    algo = NEAT(2, 1, population=30, seed=1, add_node_rate=0.3, add_connection_rate=0.3)
    rng = random.Random(0)
    for _ in range(15):
        algo.tell(fitness_of(algo.ask(), rng))
        assert len(algo.population) == 30
        for g in algo.population:
            check_genome(g)
        assert sum(len(s.members) for s in algo.species.values()) == 30
    assert algo.generation == 15
    assert max(len(g.hidden()) for g in algo.population) > 0


def test_same_seed_same_run_different_seed_different_run():
    def run(seed):
        algo = NEAT(2, 1, population=20, seed=seed, add_node_rate=0.2)
        for _ in range(5):
            algo.tell(fitness_of(algo.ask()))
        return [t.to_dict() for t in algo.ask()]
    assert run(3) == run(3)
    assert run(3) != run(4)


def test_state_dict_round_trip_continues_identically():
    algo = NEAT(2, 1, population=20, seed=0, add_node_rate=0.3, add_connection_rate=0.3)
    for _ in range(4):
        algo.tell(fitness_of(algo.ask()))
    state = json.loads(json.dumps(algo.state_dict(), allow_nan=False))
    twin = NEAT.from_state_dict(state)
    assert twin.state_dict() == algo.state_dict()
    for _ in range(3):
        f = fitness_of(algo.ask(), random.Random(algo.generation))
        assert twin.ask() == algo.ask()
        algo.tell(f)
        twin.tell(f)
    assert twin.state_dict() == algo.state_dict()
    with pytest.raises(ValueError, match="Expected a NEAT state"):
        NEAT.from_state_dict({"algorithm": "CMA-ES"})


# ------------------------------------------------------------------------------------------ speciation
def neat_with(genomes, **settings):
    """A NEAT whose population is replaced by hand-made genomes and speciated afresh."""
    algo = NEAT(2, 1, population=len(genomes), seed=0, **settings)
    algo.population = genomes
    algo.species, algo.next_species = {}, 0
    algo.threshold = algo.config.compatibility_threshold
    algo._speciate()
    algo._topologies = None
    return algo


def two_clusters(innov=None):
    """Five minimal genomes and five with two extra hidden neurons (distance >= 4 apart)."""
    innov = innov or Innovations(2, 1)
    small = [hand_genome([(0, 2, 0.1 * i, True), (1, 2, 0.1, True)], key=i, innov=innov) for i in range(5)]
    big = [hand_genome([(0, 2, 0.1, False), (1, 2, 0.1, True), (0, 3, 1, True), (3, 2, 1, True),
                        (1, 4, 1, True), (4, 2, 1, True)], hidden=[3, 4], key=5 + i, innov=innov) for i in range(5)]
    return small + big


def test_speciation_separates_distant_genomes():
    algo = neat_with(two_clusters(), target_species=None)
    groups = sorted(sorted(s.members) for s in algo.species.values())
    assert groups == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]
    assert algo.species_of()[7] == algo.species_of()[9] != algo.species_of()[0]
    algo = neat_with(two_clusters(), target_species=None, compatibility_threshold=100.0)
    assert len(algo.species) == 1


def test_threshold_moves_towards_the_target_species_count():
    algo = neat_with(two_clusters(), target_species=1, threshold_step=0.5)
    assert len(algo.species) == 2 and algo.threshold == 3.5              # too many species: raise it
    algo = neat_with(two_clusters(), target_species=5, threshold_step=0.5)
    assert algo.threshold == 2.5                                          # too few: lower it
    algo = neat_with(two_clusters(), target_species=2, threshold_step=0.5)
    assert algo.threshold == 3.0
    algo = neat_with(two_clusters(), target_species=5, compatibility_threshold=0.4, threshold_step=0.5)
    assert algo.threshold == algo.config.threshold_min


def test_apportion_is_proportional_and_exact():
    assert _apportion([1, 1, 2], 8) == [2, 2, 4]
    assert sum(_apportion([0.3, 0.3, 0.4], 150)) == 150
    assert _apportion([1, 0], 5) == [5, 0]


def test_fitness_sharing_gives_offspring_by_mean_fitness(monkeypatch):
    # species A (fitness 2, 2, 2, 2, 2) and B (1, 0, 0, 0, 0): shifted by the minimum (0), their shares are
    # the mean fitness 2 and 0.2, so A breeds 20 of 22 offspring and B 2
    algo = neat_with(two_clusters(), target_species=None)
    algo.config = NEATConfig(**{**algo.config.to_dict(), "population": 22})
    counts = []
    monkeypatch.setattr(neat_module, "_apportion", lambda shares, total: counts.append(_apportion(shares, total))
                        or counts[-1])
    algo.tell([2.0] * 5 + [1.0, 0, 0, 0, 0])
    assert counts == [[20, 2]] and len(algo.population) == 22


def test_elitism_keeps_each_big_species_champion_unchanged():
    genomes = two_clusters()
    algo = neat_with(genomes, target_species=None, elitism_min_size=4)
    champions = {3: genomes[3].to_dict(), 8: genomes[8].to_dict()}
    fitness = [1, 1, 1, 5, 1, 1, 1, 1, 6, 1]
    algo.tell(fitness)
    children = [g.to_dict() for g in algo.population]
    for champ in champions.values():
        champ = {k: v for k, v in champ.items() if k not in ("key", "fitness")}
        assert any({k: v for k, v in c.items() if k not in ("key", "fitness")} == champ for c in children)
    assert algo.best.fitness == 6 and algo.best.generation == 0
    assert algo.best.genome.to_dict()["conns"] == genomes[8].to_dict()["conns"]


def test_stagnant_species_get_no_offspring_unless_they_hold_the_champion():
    algo = neat_with(two_clusters(), target_species=None, stagnation=2, population_stagnation=100)
    keys = {tuple(sorted(s.members)): s.key for s in algo.species.values()}
    small, big = keys[(0, 1, 2, 3, 4)], keys[(5, 6, 7, 8, 9)]
    algo.species[small].best_fitness, algo.species[small].last_improved = 100.0, -5   # stagnant, never beaten
    algo.species[big].best_fitness, algo.species[big].last_improved = 100.0, -5
    algo.tell([1.0] * 5 + [2.0] * 5)      # the champion (fitness 2) is in the big species
    assert small not in algo.species and big in algo.species


def test_population_stagnation_keeps_the_best_two_species():
    innov = Innovations(2, 1)
    first = two_clusters(innov)
    third = [hand_genome([(0, 2, 0.1, True), (1, 2, 0.1, False), (1, 3, 1, True), (3, 2, 1, True), (0, 5, 1, True),
                          (5, 3, 1, True), (5, 2, 1, True)], hidden=[3, 5], key=10 + i, innov=innov)
             for i in range(5)]
    algo = neat_with(first + third, target_species=None, population_stagnation=3, stagnation=100)
    assert len(algo.species) == 3
    worst = algo.species_of()[0]
    # the best fitness ever (10) was reached 10 generations ago: the population has stagnated
    algo.best, algo.last_improved = Individual(algo.ask()[0], 10.0, -10), -10
    algo.tell([1.0] * 5 + [3.0] * 5 + [2.0] * 5)
    assert worst not in algo.species and len(algo.population) == 15
    assert algo.last_improved == 0          # the rule rests for another population_stagnation generations


# ------------------------------------------------------------------------------------------ Lamarckian
def test_tell_writes_trained_weights_back():
    algo = NEAT(2, 1, population=10, seed=0, elitism_min_size=1, target_species=None,
                compatibility_threshold=1e9)      # one species: its champion survives unchanged
    topologies = algo.ask()
    trained = [Weights({k: 0.5 * i for k in t.edges}, {"y0": -0.25}) for i, t in enumerate(topologies)]
    fitness = [float(i) for i in range(10)]
    algo.tell(fitness, trained)
    assert algo.best.fitness == 9.0
    best = algo.best.topology
    assert all(e.weight == 4.5 for e in best.edges.values()) and best.nodes["y0"].bias == -0.25
    # the champion's child is the trained genome: weights in NEAT units (divided by the sigmoid's 4.9)
    champ = next(g for g in algo.population if all(abs(c.weight - 4.5 / 4.9) < 1e-12 for c in g.conns.values()))
    assert champ.to_topology(algo.config).edges[("x0", "y0")].weight == pytest.approx(4.5)


def test_start_topology_signs_survive_generations():
    start = Topology.from_edges([("a", "y", 0.5), ("b", "y", -0.5)], inputs=["a", "b"], outputs=["y"],
                                output_activation="sigmoid", signs={("a", "y"): "+", ("b", "y"): "-"})
    algo = NEAT(2, 1, population=20, seed=0, start=start, add_node_rate=0.3, add_connection_rate=0.3)
    rng = random.Random(0)
    for _ in range(10):
        topologies = algo.ask()
        for t in topologies:
            assert t.inputs == ("a", "b") and t.outputs == ("y",)
            for key, sign in ((("a", "y"), "+"), (("b", "y"), "-")):
                if key in t.edges:
                    assert t.edges[key].sign == sign
        algo.tell(fitness_of(topologies, rng))
    with pytest.raises(ValueError, match="start topology has 2 inputs and 1 outputs"):
        NEAT(3, 1, start=start)
