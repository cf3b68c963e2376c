"""The shipped wiring is Cook et al. 2019's, whole: its provenance's counts are what the file holds (no cect
needed), and, where cect is installed, every chemical edge and gap junction between neurons equals cect's
Cook2019HermReader (its cached matrices read directly; skipped without the 'connectome' extra)."""
import importlib.util
import json
import os

import pytest

from mpnet import connectome


@pytest.fixture(scope="module")
def topo():
    return connectome.load()


def test_provenance_counts_are_what_the_file_holds(topo):
    prov = connectome.provenance()
    assert prov["counts"] == connectome.wiring_counts(topo)
    c = prov["counts"]
    assert (c["neurons"], c["chemical_edges"], c["autapses"], c["synapses"]) == (302, 3709, 38, 20965)
    assert (c["gap_pairs"], c["gap_junctions"]) == (1091, 5744)
    assert sum(c["edges_by_transmitter"].values()) == c["chemical_edges"]
    assert sum(c["synapses_by_transmitter"].values()) == c["synapses"]
    assert sum(c["neurons_by_transmitter_class"].values()) == 302
    assert f"{c['chemical_edges']} edges, {c['autapses']} of them autapses, {c['synapses']} synapses" in prov["kept"]


def test_counts_not_doubled_and_identities_are_the_neurons(topo):
    # AFD makes glutamate and acetylcholine (Wang 2024): Cook 2019 counts 25 synapses AFDL -> AIYL, once
    assert topo.edges[("AFDL", "AIYL")].meta["synapses"] == 25
    assert topo.edges[("AFDL", "AIYL")].meta["transmitter"] == "Acetylcholine+Glutamate"
    meta = {n: topo.nodes[n].meta for n in ("DD4", "MCL", "SABVR", "CEPDL", "ADEL", "RID", "NSML")}
    assert meta["DD4"]["transmitters"] == ["GABA"] and meta["MCL"]["transmitters"] == ["Acetylcholine"]
    assert meta["SABVR"]["transmitter_class"] == "classical"
    assert [meta[n]["transmitter_class"] for n in ("CEPDL", "ADEL", "RID", "NSML")] == \
        ["monoamine", "monoamine", "orphan", "monoamine"]
    # a dopaminergic or orphan neuron keeps its synapses, labelled so that the sign rule leaves them free
    out = {n: [e for e in topo.edges.values() if e.src == n and (e.meta or {}).get("synapses")]
           for n in ("CEPDL", "RID")}
    assert out["CEPDL"] and {e.meta["transmitter"] for e in out["CEPDL"]} == {"Dopamine"}
    assert out["RID"] and {e.meta["transmitter"] for e in out["RID"]} == {"orphan"}
    signed = connectome.transmitter_signs(topo)
    assert all(signed.edges[(e.src, e.dst)].sign is None for e in out["CEPDL"] + out["RID"])


def _cook_cache():
    spec = importlib.util.find_spec("cect")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("needs the 'connectome' extra (cect)")
    # what cect.readers.Cook2019HermReader.get_instance(from_cache=True) loads, without importing cect
    path = os.path.join(list(spec.submodule_search_locations)[0], "cache", "Cook2019HermReader.json")
    with open(path) as f:
        return json.load(f)


def test_every_chemical_edge_and_gap_junction_equals_cook2019(topo):
    import numpy as np
    cook = _cook_cache()
    cells = [str(n) for n in cook["nodes"]]
    neurons = [n for n in topo.nodes if topo.nodes[n].role != "input"]
    assert set(neurons) <= set(cells)
    ix = [cells.index(n) for n in neurons]
    chem = np.asarray(cook["connections"]["Generic_CS"])[np.ix_(ix, ix)]
    gap = np.asarray(cook["connections"]["Generic_GJ"])[np.ix_(ix, ix)]
    theirs = {(neurons[i], neurons[j]): int(chem[i, j]) for i, j in zip(*np.nonzero(chem))}
    ours = {(e.src, e.dst): e.meta["synapses"] for e in topo.edges.values() if (e.meta or {}).get("synapses")}
    assert ours == theirs
    pairs = {frozenset((neurons[i], neurons[j])): int(gap[i, j]) for i, j in zip(*np.nonzero(np.triu(gap, 1)))}
    ours_gap = {}
    for name in topo.ties:
        a, b = name[4:].split("|")
        ours_gap[frozenset((a, b))] = topo.edges[(a, b)].meta["gap_junctions"]
        assert topo.edges[(b, a)].meta["gap_junctions"] == ours_gap[frozenset((a, b))]
    assert ours_gap == pairs


@pytest.mark.slow
def test_every_neurons_transmitters_equal_wang2024(topo):
    """Against cect's Wang2024Reader's table, read from the paper's spreadsheet (seconds: slow)."""
    pytest.importorskip("cect", reason="needs the 'connectome' extra (cect)")
    import contextlib
    import io
    import warnings
    from cect.readers.Cook2019DataReader import HERMAPHRODITE
    from cect.readers.Wang2024Reader import Wang2024Reader
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = Wang2024Reader(HERMAPHRODITE, normalize_conn_numbers=False, include_monoamine_conns=False
                               ).all_neurotransmitters
    for n, node in topo.nodes.items():
        if node.role == "input":
            continue
        assert node.meta["transmitters"] == [t for t in table[n] if t is not None], n
        assert node.meta["transmitter_class"] == connectome.transmitter_class(node.meta["transmitters"])
        for e in topo.edges.values():
            if e.src == n and (e.meta or {}).get("synapses"):
                assert e.meta["transmitter"] == connectome.synapse_transmitter(node.meta["transmitters"])
