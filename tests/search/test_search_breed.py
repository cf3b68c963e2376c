"""mpnet.search.breed and ArrayNEAT: the arrays path's operators against the object path's on small cases (the
same distances; crossover keeps the fitter parent's structure and takes matching genes from either parent;
mutation keeps feed-forward genomes acyclic), the batch it evaluates, determinism per seed, and checkpoints."""
import random

import pytest
import torch

from mpnet import Network
from mpnet.search import NEAT, resume, run, tasks
from mpnet.search.batch import GenomeBatch, from_genomes, to_genome
from mpnet.search.breed import crossover, distance_to
from mpnet.search.mutation import mutate
from mpnet.search.genome import check_genome
from mpnet.search.neat_arrays import ArrayNEAT
from mpnet.search.operators import distance


@pytest.fixture(scope="module")
def evolved():
    """An object-path population with hidden neurons, disabled genes and varied weights."""
    algo = NEAT(2, 1, population=60, seed=3, add_node_rate=0.4, add_connection_rate=0.6)
    rng = random.Random(0)
    for _ in range(8):
        algo.tell([rng.random() for _ in algo.ask()])
    assert any(g.hidden() for g in algo.population) and any(not c.enabled for g in algo.population
                                                             for c in g.conns.values())
    return algo


def test_genomes_go_to_columns_and_back_unchanged(evolved):
    pool = from_genomes(evolved.population)
    for i, g in enumerate(evolved.population):
        back = to_genome(pool, i)
        assert back.key == g.key and back.nodes == g.nodes
        assert sorted((c.innovation, c.src, c.dst, c.weight, c.enabled) for c in back.conns.values()) == \
            sorted((c.innovation, c.src, c.dst, c.weight, c.enabled) for c in g.conns.values())


@pytest.mark.parametrize("normalize", [None, 3])
def test_distances_equal_the_object_path(evolved, normalize):
    config = evolved.config if normalize is None else type(evolved.config)(normalize_min_genes=normalize)
    genomes = evolved.population
    pool = from_genomes(genomes)
    for r in (0, 7, 31, 59):
        got = distance_to(pool, from_genomes([genomes[r]]), config)
        want = torch.tensor([distance(g, genomes[r], config) for g in genomes], dtype=torch.float64)
        torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
        assert got[r] == 0.0


def test_crossover_keeps_the_fitter_structure_and_takes_matching_genes_from_either_parent(evolved):
    genomes = evolved.population
    pool = from_genomes(genomes)
    gen = torch.Generator().manual_seed(0)
    moms = torch.tensor([i % 60 for i in range(200)])
    dads = torch.tensor([(7 * i + 3) % 60 for i in range(200)])
    children = crossover(pool, moms, dads, torch.arange(1000, 1200), evolved.config, gen)
    from_dad = flipped = 0
    for j in range(200):
        child, mom, dad = to_genome(children, j), genomes[int(moms[j])], genomes[int(dads[j])]
        assert child.key == 1000 + j
        assert set(child.conns) == set(mom.conns) and set(child.nodes) == set(mom.nodes)
        dad_by = {c.innovation: c for c in dad.conns.values()}
        for key, c in child.conns.items():
            m, d = mom.conns[key], dad_by.get(mom.conns[key].innovation)
            if d is None:                                   # disjoint or excess: the fitter parent's gene
                assert (c.weight, c.enabled) == (m.weight, m.enabled)
                continue
            assert c.weight in (m.weight, d.weight)
            from_dad += c.weight == d.weight != m.weight
            if m.enabled and d.enabled:
                assert c.enabled
            flipped += c.enabled != m.enabled
        for k, n in child.nodes.items():
            twin = dad.nodes.get(k)
            assert (n.bias, n.activation) in {(mom.nodes[k].bias, mom.nodes[k].activation)} | (
                {(twin.bias, twin.activation)} if twin else set())
        check_genome(child)
    assert from_dad > 50 and flipped > 0      # both parents and both outcomes of a disabled gene occur


@pytest.mark.parametrize("feed_forward", [True, False])
def test_mutation_keeps_the_invariants_and_feed_forward_genomes_acyclic(evolved, feed_forward):
    config = type(evolved.config)(add_node_rate=0.5, add_connection_rate=0.9, remove_connection_rate=0.05,
                                  remove_node_rate=0.05, activation_mutate_rate=0.2,
                                  activation_options=("sigmoid", "tanh"), feed_forward=feed_forward)
    pool = from_genomes(evolved.population)
    innov = evolved.innovations.__class__.from_dict(evolved.innovations.to_dict())
    gen = torch.Generator().manual_seed(1)
    grown = 0
    for _ in range(10):
        before = len(pool.src)
        pool = mutate(pool, torch.ones(len(pool), dtype=torch.bool), config, innov, gen)
        grown += len(pool.src) > before
        for i in range(len(pool)):
            g = to_genome(pool, i)
            check_genome(g, acyclic=feed_forward)
            for c in g.conns.values():
                assert innov.connections[c.key] == c.innovation and abs(c.weight) <= config.weight_max
    assert grown >= 5
    if not feed_forward:   # cycles do arise when allowed
        assert any(g.to_topology(config).recurrent for g in (to_genome(pool, i) for i in range(len(pool))))


def test_the_batch_computes_what_its_topologies_compute(evolved):
    pool = from_genomes(evolved.population)
    batch = GenomeBatch(pool, evolved.config)
    x = torch.rand(5, 2, dtype=torch.float64)
    fast = Network(batch.arrays(), dtype=torch.float64)
    slow = Network([batch[i] for i in range(len(batch))], dtype=torch.float64)
    torch.testing.assert_close(fast(x), slow(x), rtol=1e-12, atol=1e-12)
    assert batch.sizes() == ([t.num_nodes - 3 for t in slow.topologies], [t.num_edges for t in slow.topologies])
    assert len(batch[10:20]) == 10 and batch[10:20][0].to_dict() == batch[10].to_dict()


def test_breeding_arrays_makes_the_arrays_class_and_is_reproducible_per_seed():
    assert type(NEAT(2, 1, population=10)) is NEAT
    algo = NEAT(2, 1, population=30, seed=5, breeding="arrays", add_node_rate=0.3)
    assert type(algo) is ArrayNEAT and algo.name == "NEAT-arrays"

    def states(seed):
        a = NEAT(2, 1, population=30, seed=seed, breeding="arrays", add_node_rate=0.3, add_connection_rate=0.5)
        for _ in range(5):
            a.tell([float(t.num_edges) + 0.01 * i for i, t in enumerate(a.ask())])
        return a.state_dict()
    assert states(5) == states(5)
    assert states(5)["pool"] != states(6)["pool"]


@pytest.mark.slow
def test_an_arrays_run_solves_xor_and_resumes_as_if_never_stopped(tmp_path):
    whole = run(NEAT(2, 1, population=60, seed=2, breeding="arrays"), tasks.Parity(bits=2), 6, progress=False,
                stop_when_solved=False)
    run(NEAT(2, 1, population=60, seed=2, breeding="arrays"), tasks.Parity(bits=2), 3, checkpoint_dir=tmp_path,
        progress=False, stop_when_solved=False)
    resumed = resume(tmp_path, 6, progress=False)
    assert resumed.algorithm.state_dict() == whole.algorithm.state_dict()
    assert [r.best_fitness for r in resumed.history] == [r.best_fitness for r in whole.history]


def test_a_start_topology_with_fixed_signs_needs_the_objects_path():
    from mpnet import Topology
    start = Topology.from_edges([("a", "y", 0.5)], inputs=["a"], outputs=["y"], signs={("a", "y"): "+"})
    with pytest.raises(ValueError, match="breeding='arrays' breeds free signs.*Use breeding='objects'"):
        NEAT(1, 1, population=4, breeding="arrays", start=start)


@pytest.mark.parametrize("edit, match", [
    (lambda a: a["pool"]["innov"].__setitem__(0, 99), r"has innovation number 99 but the run's table gives 0"),
    (lambda a: a["pool"]["dst"].__setitem__(0, 0), r"ends in an input neuron"),
    (lambda a: a["pool"]["conn_ptr"].__setitem__(1, 10**6), r"pool.conn_ptr must rise from 0"),
    (lambda a: a["pool"]["src"].__setitem__(0, 77), r"connection 77 -> 2 names a neuron the genome lacks"),
])
def test_an_edited_arrays_checkpoint_is_refused_before_a_generation_runs(tmp_path, edit, match):
    from mpnet.errors import CheckpointError
    from mpnet.search.checkpoint import load_checkpoint, save_checkpoint
    run(NEAT(2, 1, population=12, seed=0, breeding="arrays"), tasks.XOR(), 2, checkpoint_dir=tmp_path,
        progress=False, stop_when_solved=False)
    state = {k: v for k, v in load_checkpoint(tmp_path).items() if k not in ("format", "version", "checksum")}
    edit(state["algorithm"])
    save_checkpoint(tmp_path, state)
    with pytest.raises(CheckpointError, match=r"the saved genome columns disagree: .*" + match):
        resume(tmp_path, 3, progress=False)


def test_breeding_is_a_config_field_checked_by_name():
    from mpnet.errors import ArgumentError
    from mpnet.search import NEATConfig
    assert NEATConfig.parse_override("breeding=arrays") == ("breeding", "arrays")
    with pytest.raises(ArgumentError, match=r'Invalid breeding "gpu". Must be one of \[\'objects\', \'arrays\'\]'):
        NEATConfig(breeding="gpu")
    with pytest.raises(ArgumentError, match="Invalid breeding"):
        NEAT(2, 1, breeding="gpu")


def test_fine_tuned_weights_are_written_back_into_the_columns():
    from mpnet.search import Finetune, LocalEvaluator
    algo = NEAT(2, 1, population=20, seed=1, breeding="arrays", add_node_rate=0.5)
    for _ in range(2):
        algo.tell([i - 100.0 for i in range(20)])      # below any XOR fitness: the told generation sets the best
    task = tasks.XOR()
    asked = algo.ask()
    ev = LocalEvaluator(torch.float64).evaluate(task, asked, Finetune(steps=3, lr=0.1))
    top = max(range(20), key=ev.fitness.__getitem__)
    assert any(g.hidden() for g in (asked.genome(i) for i in range(20)))
    algo.tell(ev.fitness, ev.trained)
    best, trained = algo.best.genome, ev.trained[top]
    names = best.names()
    for c in best.conns.values():
        if c.enabled:
            assert c.weight * 4.9 == pytest.approx(trained.edges[(names[c.src], names[c.dst])], rel=1e-12)
    for k, n in best.nodes.items():
        if k >= 2:
            assert n.bias * 4.9 == pytest.approx(trained.biases[names[k]], rel=1e-12)
    assert algo.best.topology.to_dict() == trained.apply(asked[top]).to_dict()


@pytest.mark.parametrize("threshold", [0.6, 1.5, 3.0])
def test_speciation_places_every_genome_as_the_object_path_does(evolved, threshold):
    """The same genomes, species and threshold: the arrays path's speciation gives every genome the species the
    object path gives it, founds the same new species from the same genomes, and moves the threshold alike."""
    import copy
    objects = copy.deepcopy(evolved)
    objects.threshold = threshold
    arrays = NEAT(2, 1, config=evolved.config, breeding="arrays")
    arrays.pool = from_genomes(objects.population)
    arrays.species = copy.deepcopy(objects.species)
    arrays.threshold, arrays.next_species, arrays.generation = threshold, objects.next_species, objects.generation
    objects._speciate()
    arrays._speciate()
    assert {sid: s.members for sid, s in arrays.species.items()} == \
        {sid: s.members for sid, s in objects.species.items()}
    assert len(objects.species) > 1 and arrays.next_species == objects.next_species
    founded = {sid: s for sid, s in objects.species.items() if sid >= evolved.next_species}
    for sid, s in founded.items():                  # a new species' representative is its founder
        assert arrays.species[sid].representative.key == s.representative.key == s.members[0]
    assert arrays.threshold == objects.threshold


def test_reproduction_gives_each_species_the_offspring_the_object_path_gives_it(evolved):
    """The same population, species and fitness, bred without crossover or mutation (each child a copy of its
    parent): both paths give every species the same number of children (stagnation, fitness sharing, the
    apportioning), copy the same champions, and draw parents only from each species' survivors."""
    import copy
    from collections import Counter
    from dataclasses import replace
    config = replace(evolved.config, crossover_rate=0.0, add_node_rate=0.0, add_connection_rate=0.0,
                     weight_mutate_rate=0.0, bias_mutate_rate=0.0, elitism_min_size=3)
    objects = copy.deepcopy(evolved)
    objects.config = config
    arrays = NEAT(2, 1, config=config, breeding="arrays")
    arrays.pool = from_genomes(objects.population)
    arrays.species = copy.deepcopy(objects.species)
    arrays.threshold, arrays.next_species, arrays.next_key = objects.threshold, objects.next_species, objects.next_key
    arrays.generation = objects.generation = 30          # old species stagnate unless they improve now
    objects.last_improved = arrays.last_improved = 25
    for s in list(objects.species.values()) + list(arrays.species.values()):
        s.best_fitness, s.last_improved = 0.5, 10
    objects._speciate()
    arrays._speciate()
    fitness = [random.Random(i).random() for i in range(len(objects.population))]
    for g, f in zip(objects.population, fitness):
        g.fitness = f
    parent_species = {g.key: sid for sid, s in objects.species.items() for g in
                      (next(p for p in objects.population if p.key == k) for k in s.members)}
    by_weights = {tuple(sorted((c.innovation, c.weight) for c in g.conns.values())): g.key
                  for g in objects.population}
    assert len(by_weights) == len(objects.population)          # each parent known by its weights
    fit_of = {g.key: f for g, f in zip(objects.population, fitness)}
    survivors = set()
    for s in objects.species.values():
        ranked = sorted(s.members, key=lambda k: (-fit_of[k], k))
        survivors |= set(ranked[:max(1, -(-len(ranked) // 5))])
    objects._reproduce()
    arrays._reproduce(torch.tensor(fitness, dtype=torch.float64))

    def parents(genomes):
        return [by_weights[tuple(sorted((c.innovation, c.weight) for c in g.conns.values()))] for g in genomes]
    from_objects, from_arrays = parents(objects.population), parents(arrays.genomes())
    assert len(from_arrays) == len(from_objects) == config.population
    assert Counter(parent_species[k] for k in from_arrays) == Counter(parent_species[k] for k in from_objects)
    assert set(from_arrays) <= survivors and set(from_objects) <= survivors
    kept = Counter(parent_species[k] for k in from_objects)
    assert sorted(arrays.species) == sorted(objects.species) == sorted(kept) and len(kept) > 1
    assert len(kept) < len(set(parent_species.values()))      # some species stagnated away
