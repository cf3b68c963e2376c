"""mpnet.connectome: the shipped C. elegans connectome loads, builds a Network and trains a step; build,
subcircuit, transmitter signs and class ties on small literal tables; clear errors for bad files and names."""
import json

import pytest
import torch

from mpnet import Network, connectome, fit
from mpnet.errors import ArgumentError, FormatError, UnknownNodeError

NEURONS = [("ASHL", {"cell_class": "ASH", "type": "sensory"}), ("AVAL", {"cell_class": "AVA", "type": "interneuron"}),
           ("AVAR", {"cell_class": "AVA", "type": "interneuron"}), ("DA1", {"cell_class": "DA", "type": "motor"}),
           ("DD1", {"cell_class": "DD", "type": "motor"})]
CHEMICAL = [("ASHL", "AVAL", 5, "Glutamate"), ("ASHL", "AVAR", 3, "Glutamate"), ("AVAL", "DA1", 7, "Acetylcholine"),
            ("AVAR", "DA1", 2, "Acetylcholine"), ("DA1", "DD1", 4, "Acetylcholine"), ("DD1", "DA1", 1, "GABA"),
            ("DD1", "DA1", 1, "Acetylcholine"), ("AVAL", "DD1", 2, "Glutamate+Acetylcholine")]
GAP = [("AVAL", "AVAR", 6), ("AVAR", "AVAL", 4), ("AVAL", "DA1", 2)]


def tiny():
    return connectome.build(NEURONS, CHEMICAL, GAP, stimulate=["ASHL"], read_out=["DA1", "DD1"])


def test_build_declares_neurons_stimuli_chemical_edges_and_tied_gap_junctions():
    topo = tiny()
    assert topo.inputs == ("stim:ASHL",) and topo.outputs == ("DA1", "DD1")
    assert topo.network_type == "recurrent"
    assert topo.edges[("stim:ASHL", "ASHL")].trainable is False
    assert topo.edges[("AVAL", "DA1")].meta == {"synapses": 7, "transmitter": "Acetylcholine", "gap_junctions": 2}
    assert topo.edges[("AVAL", "DA1")].tie == ((None, 1.0), ("gap:AVAL|DA1", 1.0))
    assert topo.edges[("DA1", "AVAL")].tie == "gap:AVAL|DA1"              # gap only: no own parameter
    assert topo.edges[("DD1", "DA1")].meta["transmitter"] == "Acetylcholine+GABA"
    assert topo.edges[("DD1", "DA1")].meta["synapses"] == 2
    # a contact listed once with two transmitters keeps its count, and its label is each name once, sorted
    assert topo.edges[("AVAL", "DD1")].meta == {"synapses": 2, "transmitter": "Acetylcholine+Glutamate"}
    assert topo.edges[("AVAL", "AVAR")].meta == {"gap_junctions": 6}      # both directions: one junction, max
    assert topo.edges[("AVAL", "AVAL")].tie == (("gap:AVAL|AVAR", -1.0), ("gap:AVAL|DA1", -1.0))
    assert set(topo.ties) == {"gap:AVAL|AVAR", "gap:AVAL|DA1"} and topo.ties["gap:AVAL|AVAR"].sign == "+"
    assert topo.nodes["AVAL"].meta == {"cell_class": "AVA", "type": "interneuron"}


def test_build_errors_name_the_row():
    with pytest.raises(UnknownNodeError, match=r"Chemical connection 1 \(ASHL -> AIBL\) names 'AIBL'"):
        connectome.build(NEURONS, [CHEMICAL[0], ("ASHL", "AIBL", 1, "Glutamate")], [], stimulate=["ASHL"],
                         read_out=["DA1"])
    with pytest.raises(UnknownNodeError, match=r"Gap junction 0 \(AVAL ~ XYZ\) names 'XYZ'"):
        connectome.build(NEURONS, CHEMICAL, [("AVAL", "XYZ", 1)], stimulate=["ASHL"], read_out=["DA1"])
    with pytest.raises(UnknownNodeError, match="read_out names \\['VB1'\\]"):
        connectome.build(NEURONS, CHEMICAL, GAP, stimulate=["ASHL"], read_out=["VB1"])


def test_transmitter_signs_fix_ach_and_gaba_and_leave_the_rest_free():
    topo = connectome.transmitter_signs(tiny(), free=[("AVAR", "DA1")])
    assert topo.edges[("AVAL", "DA1")].sign == "+"
    assert topo.edges[("ASHL", "AVAL")].sign is None                      # glutamate: free
    assert topo.edges[("DD1", "DA1")].sign is None                        # ACh + GABA disagree: free
    assert topo.edges[("AVAR", "DA1")].sign is None                       # asked to stay free
    assert topo.edges[("DA1", "AVAL")].sign is None                       # a gap edge has no own sign
    with pytest.raises(UnknownNodeError, match="free edges"):
        connectome.transmitter_signs(tiny(), free=[("DA1", "ASHL")])


def test_tie_chemical_shares_weights_per_class_pair():
    topo = connectome.tie_chemical(connectome.transmitter_signs(tiny()),
                                   lambda e, pre, post: (pre.meta["cell_class"], post.meta["cell_class"]))
    assert topo.edges[("ASHL", "AVAL")].tie == topo.edges[("ASHL", "AVAR")].tie == "chem:('ASH', 'AVA')"
    assert topo.edges[("AVAL", "DA1")].tie == (("chem:('AVA', 'DA')", 1.0), ("gap:AVAL|DA1", 1.0))
    assert topo.ties["chem:('AVA', 'DA')"].sign == "+"
    net = Network(topo, seed=0)
    w = dict(zip([k[1:] for k in net.edge_keys], net.weight.tolist()))
    assert w[("ASHL", "AVAL")] == w[("ASHL", "AVAR")]


def test_cell_classes():
    table = {"AVAL": "AVA", "DA3": "DA", "VB11": "VB", "RMDDL": "RMD", "IL2VR": "IL2", "I2L": "I2", "MCR": "MC",
             "M1": "M1", "AVL": "AVL", "PQR": "PQR", "MI": "MI", "AS10": "AS"}
    assert {n: connectome.cell_class(n) for n in table} == table


def test_shipped_connectome_loads_with_its_provenance():
    assert "cook2019_herm" in connectome.available()
    topo = connectome.load("cook2019_herm")
    prov = connectome.provenance("cook2019_herm")
    assert prov["cect_version"] == "0.3.5" and prov["cect_licence"] == "MIT"
    neurons = [n for n in topo.nodes.values() if n.role != "input"]
    chemical = [e for e in topo.edges.values() if (e.meta or {}).get("transmitter")]
    assert len(neurons) == 302 and len(topo.inputs) == 85 and len(topo.outputs) == 126
    assert len(chemical) == 3709 and len(topo.ties) == 1091
    assert {n.meta["type"] for n in neurons} == {"sensory", "interneuron", "motor", "other"}
    assert topo.edges[("AVAL", "AVAR")].meta["gap_junctions"] > 0


def test_shipped_connectome_builds_a_network_and_trains_a_step():
    topo = connectome.transmitter_signs(connectome.load())
    net = Network(topo, seed=0)
    x = torch.randn(5, 2, len(topo.inputs))
    y = torch.zeros(5, 2, len(topo.outputs))
    before = net.weight.detach().clone()
    history = fit(net, x, y, epochs=1, lr=0.01, progress=False)
    assert len(history) == 1 and torch.isfinite(history).all()
    after = net.weight.detach()
    assert not torch.equal(before, after)
    # the sign binds the edge's own parameter; an edge made of its own weight alone keeps it
    signed = [i for i, (_, s, d) in enumerate(net.edge_keys) if topo.edges[(s, d)].sign == "+"
              and topo.edges[(s, d)].tie is None]
    assert len(signed) > 1000 and (after[signed] >= 0).all()
    trained = net.to_topology()
    assert all(e.weight >= 0 for e in trained.edges.values() if e.sign == "+")
    assert all(t.weight >= 0 for t in trained.ties.values())


def test_subcircuit_keeps_connections_and_junctions_among_the_kept_neurons():
    topo = connectome.load()
    sub = connectome.subcircuit(topo, ["AVAL", "AVAR", "DA1", "DA2", "VA1"], inputs=["AVAL", "AVAR"])
    assert sub.inputs == ("stim:AVAL", "stim:AVAR") and sub.outputs == ("DA1", "DA2", "VA1")
    kept = {"AVAL", "AVAR", "DA1", "DA2", "VA1"}
    for (s, d), e in sub.edges.items():
        assert s.startswith("stim:") or {s, d} <= kept
        for g, _ in ((e.tie, 1.0),) if isinstance(e.tie, str) else (e.tie or ()):
            assert g is None or set(g[4:].split("|")) <= kept
    assert sub.edges[("AVAL", "DA1")].meta == topo.edges[("AVAL", "DA1")].meta
    with pytest.raises(UnknownNodeError, match="not neurons of the topology"):
        connectome.subcircuit(topo, ["AVAL", "NOPE"])
    with pytest.raises(ValueError, match="no inputs among the kept neurons"):
        connectome.subcircuit(topo, ["AVAL", "DA1"])


def test_subcircuit_refuses_a_string_for_a_list_and_a_column_named_twice():
    from mpnet.errors import ArgumentError
    topo, kept = connectome.load(), ["AVAL", "AVAR", "DA1"]
    with pytest.raises(ArgumentError, match=r"expected neurons to be a list of neuron names \(got the string 'AVAL', "
                                            r"which would be read letter by letter\); write neurons=\['AVAL'\]"):
        connectome.subcircuit(topo, "AVAL")
    with pytest.raises(ArgumentError, match=r"expected inputs to be a list .* \(got the string 'AVAL'"):
        connectome.subcircuit(topo, kept, inputs="AVAL")
    with pytest.raises(ArgumentError, match=r"expected outputs to be a list of neuron names \(got 5\)"):
        connectome.subcircuit(topo, kept, outputs=5)
    with pytest.raises(ArgumentError, match=r"outputs names \['DA1'\] more than once"):
        connectome.subcircuit(topo, kept, inputs=["AVAL"], outputs=["DA1", "DA1"])
    with pytest.raises(ArgumentError, match=r"expected topology to be a Topology \(got 'cook2019_herm' \(a str\)\)"):
        connectome.subcircuit("cook2019_herm", kept)
    sub = connectome.subcircuit(topo, iter(kept), inputs=iter(["AVAL"]), outputs=(n for n in ["DA1"]))
    assert sub.inputs == ("stim:AVAL",) and sub.outputs == ("DA1",)


def test_bad_files_get_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="Shipped names: \\['cook2019_herm'\\]"):
        connectome.load("nope")
    for bad in (5, None, ["cook2019_herm"]):
        with pytest.raises(ArgumentError, match=r"expected name to be a connectome name \['cook2019_herm'\]"):
            connectome.load(bad)
        with pytest.raises(ArgumentError, match="expected name to be a connectome name"):
            connectome.provenance(bad)
    (tmp_path / "a.json").write_text("{not json")
    with pytest.raises(FormatError, match="a.json is not valid JSON"):
        connectome.load(str(tmp_path / "a.json"))
    (tmp_path / "b.json").write_text(json.dumps({"format": "mpnet.topology", "version": 1}))
    with pytest.raises(FormatError, match="expected an mpnet topology with a 'provenance' object"):
        connectome.load(str(tmp_path / "b.json"))
    data = json.loads(open(connectome.DATA_DIR + "/cook2019_herm.json").read())
    data["edges"][5]["colour"] = "red"
    (tmp_path / "c.json").write_text(json.dumps(data))
    with pytest.raises(FormatError, match=r"c.json: edges\[5\]: needs 'src' and 'dst'.*unknown keys \['colour'\]"):
        connectome.load(str(tmp_path / "c.json"))
