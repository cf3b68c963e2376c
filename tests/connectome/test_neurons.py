"""mpnet.connectome's helpers for the scientist: transmitter classes, select by name / class / type, left/right
mirror and ties, initial weights from synapse and junction counts; each on a small literal table and on the
shipped wiring, with the errors that name the culprit."""
import math

import pytest
import torch

from mpnet import Network, connectome
from mpnet.errors import ArgumentError, UnknownNodeError

NEURONS = [(n, {"cell_class": c, "type": t, "transmitter_class": k}) for n, c, t, k in [
    ("ASHL", "ASH", "sensory", "classical"), ("ASHR", "ASH", "sensory", "classical"),
    ("AVAL", "AVA", "interneuron", "classical"), ("AVAR", "AVA", "interneuron", "classical"),
    ("AVL", "AVL", "interneuron", "classical"), ("DA1", "DA", "motor", "classical"),
    ("CEPDL", "CEP", "sensory", "monoamine")]]
CHEMICAL = [("ASHL", "AVAL", 9, "Glutamate"), ("ASHR", "AVAR", 4, "Glutamate"), ("AVAL", "DA1", 7, "Acetylcholine"),
            ("AVAR", "DA1", 3, "Acetylcholine"), ("ASHL", "AVL", 2, "Glutamate"), ("AVL", "DA1", 1, "GABA"),
            ("CEPDL", "AVAL", 1, "Dopamine")]
GAP = [("AVAL", "AVAR", 6), ("ASHL", "AVAL", 2), ("ASHR", "AVAR", 3)]


def tiny():
    return connectome.build(NEURONS, CHEMICAL, GAP, stimulate=["ASHL", "ASHR", "CEPDL"], read_out=["DA1"])


@pytest.mark.parametrize("made, cls, label", [
    (["Glutamate", "Tyramine", "Betaine"], "classical", "Betaine+Glutamate"),
    (["Acetylcholine", "GABA"], "classical", "Acetylcholine+GABA"),
    (["Serotonin", "Betaine"], "monoamine", "Betaine"),
    (["Dopamine"], "monoamine", "Dopamine"),
    (["Betaine"], "betaine", "Betaine"),
    (["Unknown_Orphan_Neurotransmitter"], "orphan", "orphan"),
    (["GABA_Uptake"], "orphan", "orphan"),
    ([], "orphan", "orphan"),
])
def test_transmitter_class_and_synapse_label(made, cls, label):
    assert connectome.transmitter_class(made) == cls and connectome.synapse_transmitter(made) == label
    assert connectome.TRANSMITTER_SIGNS.get(label) is None or label in ("Acetylcholine", "GABA")


def test_select_meets_every_criterion_in_topology_order():
    topo = tiny()
    assert connectome.select(topo, classes=["AVA"]) == ["AVAL", "AVAR"]
    assert connectome.select(topo, types=["sensory"], transmitter_classes=["classical"]) == ["ASHL", "ASHR"]
    assert connectome.select(topo, names=["DA1", "AVAR"]) == ["AVAR", "DA1"]          # the topology's order
    assert connectome.select(topo, names=iter(["AVAL"]), classes=("ASH",)) == []
    with pytest.raises(UnknownNodeError, match=r"select: classes \['AVX'\] match no neuron .*known: \['ASH', 'AVA'"):
        connectome.select(topo, classes=["AVX"])
    with pytest.raises(UnknownNodeError, match=r"names \['stim:ASHL'\] match no neuron"):
        connectome.select(topo, names=["stim:ASHL"])                                   # an input is no neuron
    with pytest.raises(ArgumentError, match=r"expected types to be a list \(got the string 'motor'"):
        connectome.select(topo, types="motor")
    with pytest.raises(ArgumentError, match="give names=, classes=, types= or transmitter_classes="):
        connectome.select(topo)
    with pytest.raises(ArgumentError, match="expected topology to be a Topology"):
        connectome.select("cook2019_herm", classes=["AVA"])
    with pytest.raises(ArgumentError, match=r"expected names to be a list of names \(got 5\)"):
        connectome.select(topo, names=5)


def test_select_on_the_shipped_wiring():
    topo = connectome.load()
    assert connectome.select(topo, classes=["DA"], types=["motor"]) == [n for n in topo.nodes if n[:2] == "DA"]
    assert len(connectome.select(topo, types=["motor"])) == 126
    mono = connectome.select(topo, transmitter_classes=["monoamine"])
    assert set(mono) == {"CEPDL", "CEPDR", "CEPVL", "CEPVR", "ADEL", "ADER", "NSML", "NSMR", "PVWL", "PVWR"}
    assert "PDEL" not in mono and topo.nodes["PDEL"].meta["transmitters"] == ["Dopamine", "Glutamate"]


def test_mirror_pairs_left_and_right_of_one_class():
    topo = tiny()
    assert connectome.mirror(topo) == {"ASHL": "ASHR", "ASHR": "ASHL", "AVAL": "AVAR", "AVAR": "AVAL"}
    side = connectome.mirror(connectome.load())
    assert side["RMDDL"] == "RMDDR" and side["I1L"] == "I1R" and side["MCL"] == "MCR"
    assert side["CEPDL"] == "CEPDR" and not {"AVL", "PQR", "RIR", "DA1", "RMED", "AS10"} & set(side)  # unpaired
    assert all(side[side[n]] == n for n in side)


def test_tie_left_right_shares_mirrored_weights_and_junctions():
    topo = connectome.tie_left_right(tiny())
    assert topo.edges[("ASHL", "AVAL")].tie == topo.edges[("ASHR", "AVAR")].tie
    assert topo.edges[("AVAL", "DA1")].tie == topo.edges[("AVAR", "DA1")].tie
    assert topo.edges[("AVL", "DA1")].tie is None and topo.edges[("CEPDL", "AVAL")].tie is None   # no mirror
    # the junctions ASHL~AVAL and ASHR~AVAR are one conductance; AVAL~AVAR is its own mirror image
    assert topo.edges[("ASHR", "AVAR")].tie == (("lr:ASHL>AVAL", 1.0), ("gap:ASHL|AVAL", 1.0))
    assert topo.edges[("AVAR", "AVAR")].tie == (("gap:AVAL|AVAR", -1.0), ("gap:ASHL|AVAL", -1.0))
    assert "gap:ASHR|AVAR" not in topo.ties and "gap:AVAL|AVAR" in topo.ties
    net = Network(topo, seed=0)
    x = torch.randn(6, 3, len(topo.inputs))
    y = net(x)
    assert torch.isfinite(y).all()
    w = dict(zip([(s, d) for _, s, d in net.edge_keys], net.weight.detach().tolist()))
    assert w[("ASHL", "AVAL")] == w[("ASHR", "AVAR")] and w[("AVAL", "DA1")] == w[("AVAR", "DA1")]
    untied_gap = connectome.tie_left_right(tiny(), gap=False)
    assert "gap:ASHR|AVAR" in untied_gap.ties


def test_tie_left_right_on_the_shipped_wiring_keeps_signs():
    signed = connectome.transmitter_signs(connectome.load())
    tied = connectome.tie_left_right(signed)
    lr = {n: t for n, t in tied.ties.items() if n.startswith("lr:")}
    assert len(lr) > 800 and lr["lr:AVAL>DA1"].sign == "+"
    assert tied.edges[("AVAR", "DA1")].tie == tied.edges[("AVAL", "DA1")].tie
    assert len([n for n in tied.ties if n.startswith("gap:")]) < len(signed.ties)


def test_count_weights_from_synapses_and_junctions():
    topo = connectome.transmitter_signs(tiny())
    w = connectome.count_weights(topo, chemical=1.0, gap=0.1, transform="linear", fan_in=False)
    assert w.edges[("AVAL", "DA1")].weight == 7.0 and w.edges[("AVL", "DA1")].weight == -1.0     # ACh +, GABA -
    assert abs(w.edges[("ASHL", "AVAL")].weight) == 9.0                                          # glutamate: free
    assert w.ties["gap:AVAL|AVAR"].weight == pytest.approx(0.6)
    logw = connectome.count_weights(topo)          # 0.5 log(1 + n) / sqrt(chemical in-edges of the target)
    assert logw.edges[("AVAL", "DA1")].weight == pytest.approx(0.5 * math.log1p(7) / math.sqrt(3))
    signs = {connectome.count_weights(topo, seed=s).edges[("ASHL", "AVAL")].weight > 0 for s in range(8)}
    assert signs == {True, False}                  # a free sign is drawn, not always positive
    for kwargs, match in [({"chemical": 0}, "chemical to be a finite number > 0"), ({"gap": float("nan")}, "gap"),
                          ({"transform": "exp"}, "unknown transform 'exp'"), ({"seed": 1.5}, "seed to be an int")]:
        with pytest.raises(ArgumentError, match=match):
            connectome.count_weights(topo, **kwargs)
