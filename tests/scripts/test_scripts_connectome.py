"""scripts/connectome_signs.py on a small slice: the teacher's signs follow the transmitters and its magnitudes
the synapse counts times one gain per class pair, the observation noise has the stated size, the sign report
covers every chemical edge with its class, given signs are not counted as inferred, and the report's numbers
add up; scripts/make_connectome.py's writer reads back. The scoring itself: test_scripts_connectome_report.py."""
import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def script():
    return runpy.run_path(str(ROOT / "scripts" / "connectome_signs.py"))


def small(script, **kw):
    # a motor slice: AVA driven, AVB hidden, DA / DD / VA read out (224 edges)
    return script["Config"](**{"classes": (("AVA",), ("AVB",), ("DA", "DD", "VA")), "sequences": 12, "steps": 15,
                               "ensemble": 4, "epochs": 60, "seeds": 1, **kw})


def test_teacher_signs_follow_the_transmitters(script):
    cfg = small(script)
    topo = script["slice_topology"](cfg)
    truth, signs = script["teacher"](topo, 0)
    assert topo.inputs == ("stim:AVAL", "stim:AVAR")
    for key, sign in signs.items():
        nt = topo.edges[key].meta["transmitter"]
        if nt == "Acetylcholine":
            assert sign == "+" and truth.edges[key].weight > 0
        elif nt == "GABA":
            assert sign == "-" and truth.edges[key].weight < 0
    assert all(t.weight > 0 for t in truth.ties.values())                   # conductances
    # magnitudes: count_weights' times one gain per (presynaptic class, postsynaptic class), not the same for all
    from mpnet import connectome
    counts = connectome.count_weights(topo, seed=0)
    cls = {n: node.meta["cell_class"] for n, node in topo.nodes.items() if node.meta}
    gains = {}
    for key in signs:
        gains.setdefault((cls[key[0]], cls[key[1]]), []).append(abs(truth.edges[key].weight / counts.edges[key].weight))
    for pair, gs in gains.items():
        assert max(gs) == pytest.approx(min(gs), rel=1e-9), pair
    assert len({round(gs[0], 9) for gs in gains.values()}) == len(gains) > 1
    for name in topo.ties:
        assert truth.ties[name].weight == counts.ties[name].weight


def test_observation_noise_has_the_stated_size(script):
    import torch
    Y = torch.randn(200, 30, 3, generator=torch.Generator().manual_seed(1)) * torch.tensor([1.0, 2.0, 0.5])
    same, zero = script["observe"](Y, 0.0, 0)
    assert same is Y and zero == 0.0
    noisy, mse = script["observe"](Y, 0.1, 0)
    eps = noisy - Y
    assert mse == pytest.approx(float((eps ** 2).mean()))
    ratio = eps.std(dim=(0, 1)) / Y.std(dim=(0, 1))                          # per output, 10 % of its sd
    torch.testing.assert_close(ratio, torch.full((3,), 0.1), rtol=0.05, atol=0)
    with pytest.raises(ValueError, match="seed 0 are not finite"):
        script["observe"](Y.clone().index_put_((torch.tensor(0),), torch.tensor(float("inf"))), 0.1, 0)


def test_sign_report_on_a_small_slice(script, capsys):
    cfg = small(script)
    result = script["run"](cfg)
    verdicts, stats = result["verdicts"], result["stats"]
    topo = result["topology"]
    chemical = [k for k, e in topo.edges.items() if (e.meta or {}).get("transmitter")]
    assert sorted(v.key for v in verdicts) == sorted(chemical)
    assert 1 <= stats["good"] <= 4 and stats["best_mse"] < stats["output_variance"]   # the fit learned something
    for v in verdicts:
        assert v.sign in ("+", "-", "?") and 0 <= v.confidence <= 1 and not v.given
        assert v.sign == "?" or v.sign == v.majority
    text = script["table"](verdicts, cfg.threshold)
    rows = {line[:16].strip(): line[16:].split() for line in text.splitlines()[2:]}   # edges inferred called cov right
    assert list(rows) == script["CLASSES"] + ["all"]
    assert int(rows["all"][0]) == len(verdicts) == sum(int(rows[c][0]) for c in script["CLASSES"])
    called = [v for v in verdicts if v.sign != "?"]
    assert int(rows["all"][2]) == len(called) and int(rows["all"][4]) == sum(v.sign == v.true for v in called)
    cell_class = {n: node.meta["cell_class"] for n, node in topo.nodes.items() if node.meta}
    transmitters = {k: topo.edges[k].meta["transmitter"] for k in chemical}
    per_class = script["by_neuron_class"](verdicts, cell_class, transmitters).splitlines()[1:]
    assert sum(int(line.split()[2]) for line in per_class) == len(verdicts)
    rel = script["reliability"](verdicts).splitlines()[1:]
    assert sum(int(line.split()[2]) for line in rel) == len(verdicts)   # every inferred edge in one bin
    assert stats["noise_mse"] > 0 and stats["cpu_seconds"] > 0
    script["report"](cfg, result)
    text = capsys.readouterr().out
    assert "per teacher seed" in text and "calibration:" in text and "repeated failures:" in text


def test_two_seeds_are_two_teachers(script):
    result = script["run"](small(script, seeds=2, epochs=5))
    (s0, v0, _), (s1, v1, _) = result["runs"]
    assert (s0, s1) == (0, 1) and result["verdicts"] is v0
    assert [v.key for v in v0] == [v.key for v in v1]
    assert [v.confidence for v in v0] != [v.confidence for v in v1]


def test_known_signs_are_given_not_inferred(script):
    result = script["run"](small(script, known_signs=True))
    for v in result["verdicts"]:
        assert v.given == (v.transmitter in ("Acetylcholine", "GABA"))
        if v.given:
            assert v.sign == v.true and v.confidence == 1.0
    net_signs = script["student"](result["topology"], {}, small(script))
    assert all(e.sign is None for e in net_signs.edges.values() if e.trainable)   # hidden: every sign free


def test_make_connectome_writer_reads_back(tmp_path):
    from mpnet import connectome
    write = runpy.run_path(str(ROOT / "scripts" / "make_connectome.py"))["write"]
    topo = connectome.load()
    write(topo.to_dict(), {"name": "x"}, str(tmp_path / "x.json"))
    assert connectome.load(str(tmp_path / "x.json")) == topo
    assert connectome.provenance(str(tmp_path / "x.json")) == {"name": "x"}


def test_flip_symmetric_groups_are_found(script):
    from mpnet import connectome
    neurons = [(n, {"cell_class": n, "type": t}) for n, t in
               (("S", "sensory"), ("H1", "interneuron"), ("H2", "interneuron"), ("H3", "interneuron"),
                ("H4", "interneuron"), ("M", "motor"))]
    chemical = [("S", "H1", 1, "Glutamate"), ("H1", "H2", 1, "GABA"), ("H2", "M", 1, "Acetylcholine"),
                ("S", "H3", 1, "Glutamate"), ("H3", "M", 1, "GABA"), ("S", "H4", 1, "Glutamate"),
                ("H4", "M", 1, "GABA"), ("H4", "H4", 1, "GABA")]
    gap = [("H1", "H2", 1), ("H4", "S", 1)]   # H1 ~ H2 flip together; H4 is tied to the stimulated S
    topo = connectome.build(neurons, chemical, gap, stimulate=["S"], read_out=["M"])
    assert script["flippable"](topo) == [["H1", "H2"], ["H3"]]
    blind = script["undeterminable"](topo)
    # inside the H1 ~ H2 group the sign survives a joint flip; the self-loop of H4 and H4's edges are anchored
    assert sorted(blind) == [("H2", "M"), ("H3", "M"), ("S", "H1"), ("S", "H3")]


def test_a_flippable_group_really_leaves_the_outputs_unchanged(script):
    import torch
    from mpnet import Network, connectome
    neurons = [(n, {"cell_class": n, "type": "interneuron"}) for n in ("S", "H1", "H2", "H3", "M")]
    chemical = [("S", "H1", 1, "Glutamate"), ("H1", "H2", 1, "GABA"), ("H2", "M", 1, "Acetylcholine"),
                ("S", "H3", 1, "Glutamate"), ("H3", "M", 1, "GABA"), ("M", "H1", 1, "GABA")]
    topo = connectome.build(neurons, chemical, [("H1", "H2", 1), ("H3", "M", 1)], stimulate=["S"], read_out=["M"])
    assert script["flippable"](topo) == [["H1", "H2"]]
    gen = torch.Generator().manual_seed(0)
    w = {k: float(torch.randn(1, generator=gen)) for k, e in topo.edges.items() if (e.meta or {}).get("transmitter")}
    b = {n: float(torch.randn(1, generator=gen)) for n in ("H1", "H2", "H3", "M")}
    g = {name: 0.3 for name in topo.ties}
    x = torch.rand(12, 3, 1, dtype=torch.float64)
    base = Network(topo.with_weights(w, b, g), dtype=torch.float64)(x)
    group = {"H1", "H2"}
    flipped_w = {k: (-v if (k[0] in group) != (k[1] in group) else v) for k, v in w.items()}
    flipped_b = {n: (-v if n in group else v) for n, v in b.items()}
    torch.testing.assert_close(Network(topo.with_weights(flipped_w, flipped_b, g), dtype=torch.float64)(x), base)
    broken = {**flipped_w, ("H3", "M"): -w[("H3", "M")]}   # H3 is anchored by its junction to M
    assert not torch.allclose(Network(topo.with_weights(broken, flipped_b, g), dtype=torch.float64)(x), base)
