"""neat_io: neat-python networks in (JSON and genomes) equal to neat's own activate, out (neat's validator),
and exact round trips. Random genomes are made by neat-python's own genome code."""
import dataclasses
import json
import math
import random
import warnings

import pytest
import torch

import mpnet
from mpnet import Network, Topology
from mpnet.errors import CycleError, FormatError, UnsupportedError
from mpnet.io.neat_io import from_neat_genome, from_neat_json, to_neat_json
from mpnet.testing import random_topology
from mpnet.graph.topology import NEAT_ACTIVATIONS, AGGREGATIONS, Edge, Node

neat = pytest.importorskip("neat")
from neat.export import export_network_json, validate_json   # noqa: E402

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
feed_forward = True
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
weight_init_mean = 0.0
weight_init_stdev = 1.0
weight_max_value = 30
weight_min_value = -30
weight_mutate_power = 0.5
weight_mutate_rate = 0.8
weight_replace_rate = 0.1
enabled_default = True
enabled_mutate_rate = 0.05
compatibility_disjoint_coefficient = 1.0
compatibility_weight_coefficient = 0.5
conn_add_prob = 0.6
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


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    path = tmp_path_factory.mktemp("neat") / "config.ini"
    path.write_text(CONFIG)
    cfg = neat.Config(neat.DefaultGenome, neat.DefaultReproduction, neat.DefaultSpeciesSet,
                      neat.DefaultStagnation, str(path))
    from neat.innovation import InnovationTracker
    cfg.genome_config.innovation_tracker = InnovationTracker()
    return cfg


def random_genomes(config, n, seed, max_mutations=20):
    """``n`` genomes from neat-python's own code: a new genome, then 0..max_mutations rounds of mutate()."""
    state = random.getstate()
    random.seed(seed)   # neat-python draws from the global random module
    try:
        genomes = []
        for key in range(n):
            genome = neat.DefaultGenome(key)
            genome.configure_new(config.genome_config)
            for _ in range(random.randint(0, max_mutations)):
                genome.mutate(config.genome_config)
            genomes.append(genome)
        return genomes
    finally:
        random.setstate(state)


def neat_json(genome, config):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)   # neat's exporter calls datetime.utcnow
        return json.loads(export_network_json(neat.nn.FeedForwardNetwork.create(genome, config)))


def assert_activate_equal(networks, net, X, tol=1e-6):
    """``net`` (a batched Network of len(networks) topologies) equals each neat network on every row of X."""
    with torch.no_grad():
        ours = net(torch.tensor(X, dtype=torch.float64))   # [T, batch, n_out]
    compared = 0
    for t, neat_net in enumerate(networks):
        for x, got in zip(X, ours[t].tolist()):
            try:
                want = neat_net.activate(x)
            except OverflowError:   # neat's z ** 3 raises where a float overflows; nothing to compare
                continue
            compared += 1
            for a, b in zip(want, got):
                assert math.isclose(a, b, rel_tol=tol, abs_tol=tol) or (math.isnan(a) and math.isnan(b)), \
                    f"network {t}, input {x}: neat {want}, mpnet {got}"
    return compared


def check_genomes(config, genomes, n_inputs=8, seed=0):
    networks = [neat.nn.FeedForwardNetwork.create(g, config) for g in genomes]
    topos = [Topology.from_neat_json(neat_json(g, config), warn=False) for g in genomes]
    rng = random.Random(seed)
    X = [[rng.uniform(-2.0, 2.0) for _ in range(N_IN)] for _ in range(n_inputs)]
    compared = assert_activate_equal(networks, Network(topos, dtype=torch.float64), X)
    assert compared >= 0.95 * len(genomes) * n_inputs
    return topos


def test_hundreds_of_random_genomes_match_neat_activate(config):
    genomes = random_genomes(config, 300, seed=1)
    topos = check_genomes(config, genomes)
    # the sweep covered every neat activation and aggregation, responses and edge-less neurons
    nodes = [n for t in topos for n in t.nodes.values() if n.role != "input"]
    assert {n.activation for n in nodes} == set(NEAT_ACTIVATIONS)
    assert {n.aggregation for n in nodes} == set(AGGREGATIONS)
    assert sum(n.response != 1.0 for n in nodes) > 100
    assert any(not t.predecessors(n.id) and n.aggregation == "product" for t in topos for n in t.nodes.values()
               if n.role != "input")


@pytest.mark.slow
def test_thousands_of_random_genomes_match_neat_activate(config):
    for seed in range(2, 12):
        check_genomes(config, random_genomes(config, 400, seed=seed, max_mutations=40), seed=seed)


def test_float32_network_matches_neat_to_float32_round_off(config):
    genomes = random_genomes(config, 40, seed=3, max_mutations=5)
    networks = [neat.nn.FeedForwardNetwork.create(g, config) for g in genomes]
    topos = [Topology.from_neat_json(neat_json(g, config), warn=False) for g in genomes]
    net = Network(topos)
    X = [[0.5, -1.0, 0.25], [1.5, 0.0, -0.75]]
    with torch.no_grad():
        ours = net(torch.tensor(X)).double()
    want = torch.tensor([[n.activate(x) for x in X] for n in networks], dtype=torch.float64)
    finite = torch.isfinite(want) & (want.abs() < 1e3)
    torch.testing.assert_close(ours[finite], want[finite], rtol=1e-4, atol=1e-4)


def test_genome_and_its_json_give_the_same_topology(config):
    for genome in random_genomes(config, 60, seed=4):
        from_json = Topology.from_neat_json(neat_json(genome, config), warn=False)
        direct = Topology.from_neat_genome(genome, config, warn=False)
        assert direct.nodes == from_json.nodes and direct.edges == from_json.edges
        assert direct.inputs == from_json.inputs == (-1, -2, -3) and direct.outputs == (0, 1)


def test_genome_config_alone_is_enough(config):
    genome = random_genomes(config, 1, seed=5)[0]
    assert from_neat_genome(genome, config.genome_config, warn=False) == from_neat_genome(genome, config, warn=False)


def test_json_text_path_and_dict_are_the_same(config, tmp_path):
    genome = random_genomes(config, 1, seed=6, max_mutations=10)[0]
    data = neat_json(genome, config)
    path = tmp_path / "winner.json"
    path.write_text(json.dumps(data))
    a = from_neat_json(data, warn=False)
    assert from_neat_json(str(path), warn=False) == a == from_neat_json(json.dumps(data), warn=False)
    assert from_neat_json(path, warn=False) == a


# ------------------------------------------------------------------------------------- round trips
def test_neat_born_topologies_round_trip_without_extras(config):
    for genome in random_genomes(config, 100, seed=7):
        topo = Topology.from_neat_json(neat_json(genome, config), warn=False)
        data = topo.to_neat_json()
        assert validate_json(data)
        # nothing neat's format cannot hold, but for a product of no input (neat's is 1, ours 0)
        edgeless_products = [[n.id, {"aggregation": "product"}] for n in topo.nodes.values()
                             if n.aggregation == "product" and not topo.predecessors(n.id)]
        assert data["metadata"].get("mpnet", {}).get("nodes", []) == edgeless_products
        assert set(data["metadata"].get("mpnet", {"version": 1})) <= {"version", "nodes"}
        assert Topology.from_neat_json(data, warn=False) == topo
        assert Topology.from_neat_json(json.loads(json.dumps(data)), warn=False) == topo


EXPORTABLE = list(NEAT_ACTIVATIONS) + ["identity", "relu", "elu", "selu", "abs", "square", "clamped", "sigmoid",
                                       "tanh"]


@pytest.mark.parametrize("ids", ["str", "int"])
@pytest.mark.parametrize("seed", range(12))
def test_ours_to_neat_json_and_back_is_exact(seed, ids):
    topo = random_topology(seed, n_hidden=seed % 7 + 2, p_edge=0.4, activations=EXPORTABLE, p_response=0.4,
                           ids=ids)
    data = topo.to_neat_json()
    assert validate_json(data)
    again = Topology.from_neat_json(json.loads(json.dumps(data)), warn=False)
    assert again == topo
    assert list(again.nodes) == list(topo.nodes) and again.inputs == topo.inputs


def test_dale_signs_frozen_and_edgeless_product_round_trip(tmp_path):
    topo = Topology([Node("x", "input"), Node("c", "hidden", "neat.tanh", "product", bias=0.25, dale="-",
                                               response=2.0),
                     Node("h", "hidden", "relu", "median", dale="+"), Node("y", "output", "identity", "max")],
                    [Edge("x", "h", 0.5, trainable=False), Edge("c", "y", -1.5), Edge("h", "y", 2.0, "+")],
                    warn=False)
    path = tmp_path / "net.neat.json"
    data = topo.to_neat_json(path, metadata={"fitness": 3.5})
    assert data["metadata"]["fitness"] == 3.5 and json.loads(path.read_text()) == data
    c = next(n for n in data["nodes"] if n["id"] == 1)   # y is 0, then the hidden c, h are 1, 2
    assert c["aggregation"]["name"] == "sum"   # neat's product of nothing is 1, ours 0: written as a sum
    assert Topology.from_neat_json(path, warn=False) == topo


def neat_network(data):
    """neat-python's FeedForwardNetwork built from a neat JSON dict with neat's own function tables."""
    acts, aggs = neat.activations.ActivationFunctionSet(), neat.aggregations.AggregationFunctionSet()
    links = {}
    for c in data["connections"]:
        if c["enabled"]:
            links.setdefault(c["to"], []).append((c["from"], c["weight"]))
    evals = [(n["id"], acts.get(n["activation"]["name"]), aggs.get(n["aggregation"]["name"]), n["bias"],
              n["response"], links.get(n["id"], [])) for n in data["nodes"] if n["type"] != "input"]
    return neat.nn.FeedForwardNetwork(data["topology"]["input_keys"], data["topology"]["output_keys"], evals)


@pytest.mark.parametrize("seed", range(6))
def test_written_json_computes_the_same_in_neat(seed):
    # ours -> neat JSON -> neat-python's own FeedForwardNetwork: the same outputs as our Network
    topo = random_topology(seed, n_hidden=8, p_edge=0.45, activations=EXPORTABLE, p_response=0.4)
    X = torch.randn(6, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    net = neat_network(topo.to_neat_json())
    assert_activate_equal([net], Network([topo], dtype=torch.float64), X.tolist(), tol=1e-9)


def test_trained_network_goes_back_to_neat(config):
    genome = random_genomes(config, 1, seed=8, max_mutations=6)[0]
    topo = Topology.from_neat_genome(genome, config, warn=False)
    net = Network(topo, dtype=torch.float64)
    X = torch.rand(64, N_IN, dtype=torch.float64)
    mpnet.fit(net, X, X[:, :N_OUT].sin(), epochs=5, lr=0.01)
    trained = net.to_topology()
    assert trained != topo or topo.num_edges == 0
    assert_activate_equal([neat_network(trained.to_neat_json())], Network([trained], dtype=torch.float64),
                          X[:8].tolist(), tol=1e-9)


def test_hand_built_neat_network_with_every_edge_case():
    # an edge-less product neuron (neat: bias + response * 1), an output neat never reaches (neat: 0),
    # a disabled connection, a maxabs and a median of two
    A, G = neat.activations, neat.aggregations
    evals = [(5, A.sigmoid_activation, G.product_aggregation, 0.3, 2.0, []),
             (0, A.tanh_activation, G.maxabs_aggregation, -0.1, 0.7, [(-1, 1.5), (-2, -0.5), (5, 0.25)]),
             (1, A.hat_activation, G.median_aggregation, 0.0, 1.3, [(-1, 0.3), (-2, 0.9)])]
    net = neat.nn.FeedForwardNetwork([-1, -2], [0, 1, 2], evals)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        data = json.loads(export_network_json(net))
    data["connections"].append({"from": -1, "to": 5, "weight": 9.0, "enabled": False})
    topo = Topology.from_neat_json(data, warn=False)
    assert topo.nodes[5].bias == 0.3 + 2.0 and not topo.predecessors(5)
    assert topo.nodes[2] == Node(2, "output", "neat.identity", "sum")
    X = [[0.5, -0.25], [-1.0, 2.0], [0.0, 0.0]]
    assert_activate_equal([net], Network([topo], dtype=torch.float64), X, tol=1e-12)


def test_from_edges_quickstart_style_network_goes_to_neat():
    topo = Topology.from_edges([("x1", "h", 0.5), ("x2", "h", -0.5), ("h", "y", 2.0)], inputs=["x1", "x2"],
                               outputs=["y"], activation="relu", output_activation="neat.sigmoid")
    data = topo.to_neat_json()
    assert data["topology"]["input_keys"] == [-1, -2] and data["topology"]["output_keys"] == [0]
    assert [n["activation"]["name"] for n in data["nodes"]] == ["relu", "sigmoid", "identity", "identity"]
    assert Topology.from_neat_json(data) == topo


def test_sigmoid_and_tanh_go_to_neat_with_their_argument_scaled(tmp_path):
    # a NEAT search's winner has plain sigmoid neurons; neat's sigmoid is sigmoid(5z), its tanh tanh(2.5z):
    # written with bias and response / 5 (/ 2.5), neat computes our outputs, far into both tails too
    topo = Topology.from_edges([("x1", "h", 4.9), ("x2", "h", -4.9), ("x1", "t", 1.5), ("h", "y", 3.0),
                                ("t", "y", -2.0)], inputs=["x1", "x2"], outputs=["y"], activation="sigmoid",
                               output_activation="sigmoid", activations={"t": "tanh"}, biases={"h": -2.45, "t": 0.3, "y": 0.7},
                               responses={"h": 1.5, "t": -0.8})
    data = topo.to_neat_json(tmp_path / "winner.neat.json")
    assert validate_json(data)
    fields = {n["id"]: (n["activation"]["name"], n["bias"], n["response"]) for n in data["nodes"]}
    assert fields[1] == ("sigmoid", -2.45 / 5, 1.5 / 5) and fields[2] == ("tanh", 0.3 / 2.5, -0.8 / 2.5)
    X = [[0.0, 0.0], [1.0, 0.0], [0.3, -0.7], [-40.0, 40.0], [40.0, -40.0], [-100.0, 3.0]]
    assert assert_activate_equal([neat_network(data)], Network([topo], dtype=torch.float64), X, tol=1e-12) == 6
    assert Topology.from_neat_json(tmp_path / "winner.neat.json") == topo   # bias and response back unscaled
    y = next(n for n in data["nodes"] if n["id"] == 0)
    y["bias"] += 0.1   # edited since: read as neat's own function of neat's fields
    edited = Topology.from_neat_json(data)
    assert edited.nodes["y"].activation == "neat.sigmoid" and edited.nodes["y"].bias == y["bias"]
    assert edited.nodes["h"].activation == "sigmoid" and edited.nodes["h"].bias == -2.45


# ------------------------------------------------------------------------------------------- errors
def test_spiking_network_is_refused(config):
    data = neat_json(random_genomes(config, 1, seed=9)[0], config)
    data["network_type"] = "iznn"
    with pytest.raises(UnsupportedError, match="network_type 'iznn' is not supported"):
        Topology.from_neat_json(data)


def my_swish(z):
    return z / (1.0 + math.exp(-z))


def test_custom_activation_is_refused_by_name(config, tmp_path):
    path = tmp_path / "config.ini"
    path.write_text(CONFIG)
    cfg = neat.Config(neat.DefaultGenome, neat.DefaultReproduction, neat.DefaultSpeciesSet,
                      neat.DefaultStagnation, str(path))
    cfg.genome_config.add_activation("my_swish", my_swish)
    genome = random_genomes(config, 1, seed=10)[0]
    genome.nodes[0].activation = "my_swish"
    with pytest.raises(UnsupportedError, match="neat node 0 uses the custom activation 'my_swish'"):
        Topology.from_neat_genome(genome, cfg)
    with pytest.raises(UnsupportedError, match="custom activation 'my_swish'"):
        Topology.from_neat_json(neat_json(genome, cfg))


def test_unknown_builtin_name_and_custom_aggregation_are_refused(config):
    data = neat_json(random_genomes(config, 1, seed=11)[0], config)
    node = next(n for n in data["nodes"] if n["type"] == "output")
    node["activation"] = {"name": "swish", "custom": False}
    with pytest.raises(UnsupportedError, match="activation 'swish', which is not one of neat-python's built-ins"):
        from_neat_json(data)
    node["activation"] = {"name": "tanh", "custom": False}
    node["aggregation"] = {"name": "softmax", "custom": True}
    with pytest.raises(UnsupportedError, match="custom aggregation 'softmax'"):
        from_neat_json(data)
    node["aggregation"] = "logsumexp"
    with pytest.raises(UnsupportedError, match="aggregation 'logsumexp', which is not one of"):
        from_neat_json(data)


def test_recurrent_genome_names_its_cycle(config):
    genome = random_genomes(config, 1, seed=12, max_mutations=0)[0]
    genome.add_connection(config.genome_config, 0, 1, 0.5, True)
    genome.add_connection(config.genome_config, 1, 0, 0.5, True)
    with pytest.raises(CycleError, match=r"genome 0 is recurrent.*contain a cycle: (0 -> 1 -> 0|1 -> 0 -> 1)"):
        Topology.from_neat_genome(genome, config)


@pytest.mark.parametrize("change, error, match", [
    (lambda d: d.update(format_version="2.0"), UnsupportedError, "format_version '2.0' is not supported"),
    (lambda d: d.pop("nodes"), FormatError, "The JSON has no 'nodes' field"),
    (lambda d: d["topology"].pop("input_keys"), FormatError, "topology has no 'input_keys' field"),
    (lambda d: d["connections"][0].pop("weight"), FormatError, r"connections\[0\] \(.*\) has no 'weight' field"),
    (lambda d: d["nodes"][0].update(bias="0.5"), FormatError, r"bias is '0.5' \(a string\); expected a number"),
    (lambda d: d["nodes"].append({"id": 99, "type": "input"}), FormatError, "node 99 has type 'input' but is not"),
    (lambda d: d["metadata"].update(mpnet={"version": 7}), UnsupportedError, r"metadata\['mpnet'\] version 7"),
    (lambda d: d["nodes"].append(dict(d["nodes"][0])), FormatError, "appears twice in 'nodes'"),
    (lambda d: d.update(connections=["not an object"]), FormatError, r"connections\[0\] is a string; expected an object"),
])
def test_malformed_json_errors(change, error, match):
    data = random_topology(0, n_hidden=3, p_edge=0.6, activations=["neat.tanh"]).to_neat_json()
    data = json.loads(json.dumps(data))
    change(data)
    with pytest.raises(error, match=match):
        from_neat_json(data, warn=False)


def test_not_json_and_not_an_object(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(FormatError, match="bad.json is not valid JSON"):
        from_neat_json(bad)
    listed = tmp_path / "list.json"
    listed.write_text("[1, 2]")
    with pytest.raises(FormatError, match="list.json holds a JSON list"):
        from_neat_json(listed)


def test_activation_neat_lacks_is_refused_on_write():
    topo = random_topology(1, n_hidden=4, activations=["gelu", "neat.sin"])
    with pytest.raises(UnsupportedError, match=r"has activation 'gelu', which neat-python does not have .*give "
                                                r"them one .*sigmoid, tanh .*neat\.softplus"):
        to_neat_json(topo)


def test_unset_weight_is_refused_on_write():
    topo = Topology.from_edges([("x", "y")], inputs=["x"], outputs=["y"])
    with pytest.raises(UnsupportedError, match=r"Edges \[\('x', 'y'\)\] have no weight"):
        topo.to_neat_json()


# ------------------------------------------------------------------------------- recurrent and ctrnn
from recurrent_genomes import close, exported, make_config   # noqa: E402
from recurrent_genomes import random_genomes as recurrent_genomes   # noqa: E402
from mpnet.testing import reference_ctrnn, reference_recurrent   # noqa: E402


@pytest.fixture(scope="module")
def rconfig(tmp_path_factory):
    return make_config(tmp_path_factory.mktemp("rneat"))


@pytest.mark.parametrize("kind", ["recurrent", "ctrnn"])
def test_recurrent_genome_and_neats_own_export_give_the_same_topology(rconfig, kind):
    build = neat.nn.RecurrentNetwork.create if kind == "recurrent" else neat.ctrnn.CTRNN.create
    for genome in recurrent_genomes(rconfig, 80, seed=20):
        direct = Topology.from_neat_genome(genome, rconfig, warn=False, network_type=kind)
        from_json = Topology.from_neat_json(exported(build(genome, rconfig)), warn=False)
        assert direct == from_json and direct.network_type == kind
    # a feed_forward = False config makes recurrent topologies by default
    assert Topology.from_neat_genome(genome, rconfig, warn=False).network_type == "recurrent"


def test_unknown_network_type_for_a_genome(rconfig):
    genome = recurrent_genomes(rconfig, 1, seed=21)[0]
    with pytest.raises(UnsupportedError, match="network_type 'iznn' is not supported"):
        Topology.from_neat_genome(genome, rconfig, network_type="iznn")


def test_recurrent_json_keeps_neats_semantics_for_edgeless_neurons(rconfig):
    """neat leaves nodes without incoming connections out of a recurrent network's nodes: they stay 0,
    even an edge-less product (no ``bias + response`` translation as for a feed-forward network)."""
    A, G = neat.activations, neat.aggregations
    evals = [(0, A.tanh_activation, G.sum_aggregation, 0.1, 1.0, [(-1, 1.5), (0, 0.5), (7, 2.0)])]
    net = neat.nn.RecurrentNetwork([-1], [0, 1], evals)
    topo = Topology.from_neat_json(exported(net), warn=False)
    assert topo.network_type == "recurrent" and set(topo.nodes) == {-1, 0, 1, 7}
    assert not topo.predecessors(7) and not topo.predecessors(1)
    seq = [[0.5], [-1.0], [2.0]]
    ours, _ = reference_recurrent(topo, seq)
    assert [net.activate(x) for x in seq] == ours
    data = topo.to_neat_json()
    assert {n["id"] for n in data["nodes"]} == {-1, 0}   # written neat's way: no entry for 1 and 7
    assert Topology.from_neat_json(data, warn=False) == topo


RECURRENT_EXPORTABLE = EXPORTABLE


@pytest.mark.parametrize("kind", [True, "ctrnn"])
@pytest.mark.parametrize("seed", range(10))
def test_recurrent_topologies_to_neat_json_and_back_are_exact(seed, kind):
    topo = random_topology(seed, n_hidden=seed % 5 + 2, p_edge=0.3, activations=RECURRENT_EXPORTABLE, p_response=0.4,
                           ids="int" if seed % 2 else "str", recurrent=kind)
    data = topo.to_neat_json()
    assert validate_json(data) and data["network_type"] == topo.network_type
    if kind == "ctrnn":
        taus = {n["id"]: n["time_constant"] for n in data["nodes"] if n["type"] != "input"}
        assert len(set(taus.values())) > 1
    again = Topology.from_neat_json(json.loads(json.dumps(data)), warn=False)
    assert again == topo and list(again.nodes) == list(topo.nodes)


def test_time_constants_outside_a_ctrnn_round_trip():
    # from_edges refuses time_constants outside a ctrnn; a Node may still carry one, and neat JSON keeps it
    plain = Topology.from_edges([("x", "h", 1.0), ("h", "h", 0.5), ("h", "y", 1.0)], inputs=["x"], outputs=["y"],
                                recurrent=True, activation="neat.tanh")
    topo = Topology([n if n.id != "h" else dataclasses.replace(n, time_constant=0.25) for n in plain.nodes.values()],
                    plain.edges.values(), recurrent=True)
    data = topo.to_neat_json()
    assert all("time_constant" not in n for n in data["nodes"])
    assert Topology.from_neat_json(data) == topo


def neat_recurrent_network(data):
    """neat-python's RecurrentNetwork or CTRNN built from a neat JSON dict with neat's own function tables."""
    acts, aggs = neat.activations.ActivationFunctionSet(), neat.aggregations.AggregationFunctionSet()
    links = {}
    for c in data["connections"]:
        if c["enabled"]:
            links.setdefault(c["to"], []).append((c["from"], c["weight"]))
    ins, outs = data["topology"]["input_keys"], data["topology"]["output_keys"]
    nodes = [n for n in data["nodes"] if n["type"] != "input"]
    if data["network_type"] == "ctrnn":
        evals = {n["id"]: neat.ctrnn.CTRNNNodeEval(n["time_constant"], acts.get(n["activation"]["name"]),
                                                   aggs.get(n["aggregation"]["name"]), n["bias"], n["response"],
                                                   links[n["id"]]) for n in nodes}
        return neat.ctrnn.CTRNN(ins, outs, evals)
    evals = [(n["id"], acts.get(n["activation"]["name"]), aggs.get(n["aggregation"]["name"]), n["bias"],
              n["response"], links[n["id"]]) for n in nodes]
    return neat.nn.RecurrentNetwork(ins, outs, evals)


@pytest.mark.parametrize("kind", [True, "ctrnn"])
@pytest.mark.parametrize("seed", range(6))
def test_written_recurrent_json_computes_the_same_in_neat(seed, kind):
    topo = random_topology(seed, n_hidden=6, p_edge=0.3, activations=RECURRENT_EXPORTABLE, p_response=0.4,
                           recurrent=kind)
    net = neat_recurrent_network(topo.to_neat_json())
    rng = random.Random(seed)
    seq = [[rng.uniform(-1, 1) for _ in range(3)] for _ in range(3)]
    if kind is True:
        want, (ours, _) = [net.activate(x) for x in seq], reference_recurrent(topo, seq)
    else:
        want, (ours, _) = [net.advance(x, 0.1, 0.03) for x in seq], reference_ctrnn(topo, seq, 0.1, 0.03)
    assert all(close(a, b, 1e-9) for w, o in zip(want, ours) for a, b in zip(w, o)), (want, ours)


def test_recurrent_neat_json_errors_name_the_file_and_field(tmp_path):
    from mpnet.errors import NonFiniteError, TimeConstantError
    topo = Topology.from_edges([("x", "h", 1.0), ("h", "h", 0.5), ("h", "y", 1.0)], inputs=["x"], outputs=["y"],
                               recurrent="ctrnn", time_constants={"h": 0.25}, activation="neat.tanh")
    data = to_neat_json(topo)
    h = next(i for i, n in enumerate(data["nodes"]) if n.get("time_constant") == 0.25)
    for value, error, match in [("0.25", FormatError, r"time_constant is '0.25' \(a string\); expected a number"),
                                (None, FormatError, r"time_constant is None \(null\); expected a number"),
                                (0.0, TimeConstantError, r"time constant of node .* is 0.0; expected a finite number > 0"),
                                (-2, TimeConstantError, r"time constant of node .* is -2.0; expected a finite number > 0")]:
        bad = json.loads(json.dumps(data))
        bad["nodes"][h]["time_constant"] = value
        (tmp_path / "bad.json").write_text(json.dumps(bad))
        with pytest.raises(error, match=r"bad\.json: .*" + match):
            from_neat_json(tmp_path / "bad.json")
    bad = json.loads(json.dumps(data))
    bad["nodes"][h]["time_constant"] = float("inf")
    with pytest.raises(NonFiniteError, match=r"time_constant is inf; expected a finite number"):
        from_neat_json(bad)


def test_recurrent_neat_json_metadata_is_checked():
    # an output without incoming edges: neat's format has no entry for it, metadata keeps its fields ("idle")
    topo = Topology.from_edges([("x", "h", 1.0), ("h", "h", 0.5)], inputs=["x"], outputs=["y"], hidden=["h"],
                               recurrent=True, biases={"y": 0.5}, warn=False)
    data = to_neat_json(topo)
    assert from_neat_json(data, warn=False) == topo
    entries = data["metadata"]["mpnet"]["nodes"]
    i = next(i for i, (_, info) in enumerate(entries) if "idle" in info)
    bad = json.loads(json.dumps(data))
    bad["metadata"]["mpnet"]["nodes"][i][1]["idle"]["bias"] = "0.5"
    with pytest.raises(FormatError, match=rf"metadata\.mpnet\.nodes\[{i}\]\[1\]\.idle\.bias is '0.5' \(a string\); "
                                          r"expected a number"):
        from_neat_json(bad, warn=False)
    bad["metadata"]["mpnet"]["nodes"][i][1]["idle"] = {"colour": 1}
    with pytest.raises(FormatError, match=rf"metadata\.mpnet\.nodes\[{i}\]\[1\]\.idle has unknown keys \['colour'\]"):
        from_neat_json(bad, warn=False)


def test_a_cycle_in_a_feedforward_neat_json_says_to_use_recurrent():
    topo = Topology.from_edges([("x", "h", 1.0), ("h", "h", 0.5), ("h", "y", 1.0)], inputs=["x"], outputs=["y"],
                               recurrent=True, activation="neat.tanh")
    data = to_neat_json(topo)
    data["network_type"] = "feedforward"
    with pytest.raises(mpnet.errors.TopologyError, match=r"self-loop.*recurrent=True"):
        from_neat_json(data)
