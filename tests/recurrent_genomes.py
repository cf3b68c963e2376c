"""Random recurrent genomes from neat-python's own code, shared by the recurrent tests (not a test module)."""
import json
import random
import warnings

import pytest

from mpnet.graph.topology import AGGREGATIONS, NEAT_ACTIVATIONS

neat = pytest.importorskip("neat")

NEAT_ACTS = [a[len("neat."):] for a in NEAT_ACTIVATIONS]
N_IN, N_OUT = 3, 2

CONFIG = f"""
[NEAT]
fitness_criterion = max
fitness_threshold = 1e9
pop_size = 10
reset_on_extinction = False
no_fitness_termination = True

[DefaultGenome]
num_inputs = {N_IN}
num_outputs = {N_OUT}
num_hidden = 2
feed_forward = False
initial_connection = partial_direct 0.6
activation_default = random
activation_mutate_rate = 0.5
activation_options = {" ".join(NEAT_ACTS)}
aggregation_default = random
aggregation_mutate_rate = 0.5
aggregation_options = {" ".join(AGGREGATIONS)}
bias_init_mean = 0.0
bias_init_stdev = 1.0
bias_max_value = 30.0
bias_min_value = -30.0
bias_mutate_power = 0.5
bias_mutate_rate = 0.7
bias_replace_rate = 0.1
response_init_mean = 1.0
response_init_stdev = 0.5
response_max_value = 30.0
response_min_value = -30.0
response_mutate_power = 0.5
response_mutate_rate = 0.7
response_replace_rate = 0.1
time_constant_init_mean = 1.0
time_constant_init_stdev = 0.5
time_constant_max_value = 5.0
time_constant_min_value = 0.05
time_constant_mutate_power = 0.3
time_constant_mutate_rate = 0.5
time_constant_replace_rate = 0.1
weight_init_mean = 0.0
weight_init_stdev = 1.0
weight_max_value = 30
weight_min_value = -30
weight_mutate_power = 0.5
weight_mutate_rate = 0.8
weight_replace_rate = 0.1
enabled_default = True
enabled_mutate_rate = 0.1
compatibility_disjoint_coefficient = 1.0
compatibility_weight_coefficient = 0.5
conn_add_prob = 0.8
conn_delete_prob = 0.2
node_add_prob = 0.5
node_delete_prob = 0.1

[DefaultSpeciesSet]
compatibility_threshold = 3.0

[DefaultStagnation]
species_fitness_func = max
max_stagnation = 20
species_elitism = 2

[DefaultReproduction]
elitism = 2
survival_threshold = 0.2
"""


def make_config(tmp_dir):
    path = tmp_dir / "recurrent.ini"
    path.write_text(CONFIG)
    cfg = neat.Config(neat.DefaultGenome, neat.DefaultReproduction, neat.DefaultSpeciesSet,
                      neat.DefaultStagnation, str(path))
    from neat.innovation import InnovationTracker
    cfg.genome_config.innovation_tracker = InnovationTracker()
    return cfg


def random_genomes(config, n, seed, max_mutations=20):
    """``n`` recurrent genomes: a new genome, then 0..max_mutations rounds of neat's own mutate(); every
    fifth also gets self-loops on its outputs (neat's add-connection mutation draws them only rarely)."""
    state = random.getstate()
    random.seed(seed)   # neat-python draws from the global random module
    try:
        genomes = []
        for key in range(n):
            genome = neat.DefaultGenome(key)
            genome.configure_new(config.genome_config)
            for _ in range(random.randint(0, max_mutations)):
                genome.mutate(config.genome_config)
            if key % 5 == 0:
                for out in config.genome_config.output_keys:
                    if (out, out) not in genome.connections:
                        genome.add_connection(config.genome_config, out, out, random.uniform(-1, 1), True)
            genomes.append(genome)
        return genomes
    finally:
        random.setstate(state)


def exported(network):
    """neat's own JSON export of a network (RecurrentNetwork or CTRNN) as a dict."""
    from neat.export import export_network_json
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)   # neat's exporter calls datetime.utcnow
        return json.loads(export_network_json(network))


def random_sequence(rng, steps, n_in=N_IN, scale=2.0):
    return [[rng.uniform(-scale, scale) for _ in range(n_in)] for _ in range(steps)]


def neat_run(net, sequence):
    """neat's outputs step by step; stops at the first OverflowError (neat's ``z ** 3`` raising)."""
    out = []
    for x in sequence:
        try:
            out.append(net.activate(x))
        except OverflowError:
            break
    return out


def neat_advance(net, sequence, advance_time, time_step):
    out = []
    for x in sequence:
        try:
            out.append(net.advance(x, advance_time, time_step))
        except OverflowError:
            break
    return out


def close(a, b, tol):
    import math
    return (math.isclose(a, b, rel_tol=tol, abs_tol=tol) or (math.isnan(a) and math.isnan(b))
            or (math.isinf(a) and a == b))
