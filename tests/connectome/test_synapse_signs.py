"""mpnet.connectome.synapses: the atlas as data for the sign test (a fully measured block, the integrator read-out
equal to propagation.simulate's mean response, the mirror noise, the transmitter groups); tied wirings whose
class groups share edges with gap junctions get a column each (signs.population); the script's quick run (slow)."""
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import mpnet
from mpnet import connectome
from mpnet.connectome import propagation as P
from mpnet.connectome import synapses as S
from mpnet.errors import ArgumentError
from mpnet.signs import Effort
from mpnet.signs.population import Population

ROOT = Path(__file__).resolve().parents[2]
NAN = float("nan")


def responses(values, stimulated=("AVAL", "AVAR", "RIH"), read_out=("AIAL", "RIS", "AVBL")):
    r = torch.tensor(values, dtype=torch.float64)
    return P.Responses(tuple(stimulated), tuple(read_out), r, ~torch.isnan(r) & (r.abs() > 0.5))


def test_dense_block_drops_the_sparsest_row_or_column_until_every_pair_is_measured():
    r = responses([[1.0, NAN, 0.2],
                   [0.1, NAN, NAN],
                   [0.3, 0.4, 0.9]])
    # column RIS misses 2 of 3, row AVAR 2 of 3: the row goes first (a tie), then RIS's one gap: it goes
    assert S.dense_block(r) == ([0, 2], [0, 2])
    assert S.dense_block(r, rows=[2]) == ([2], [0, 1, 2])
    with pytest.raises(ArgumentError, match=r"indices \[7\] are outside the responses \(3 rows x 3 columns\)"):
        S.dense_block(r, cols=[7])


def test_choose_classes_counts_significant_pairs_per_class():
    r = responses([[1.0, 0.9, 0.0],
                   [0.8, 0.0, 0.0],
                   [0.0, 0.0, -0.7]])
    # AVA: 3 significant pairs (AVAL twice, AVAR once); AIA 2; RIH, RIS, AVB 1 each (ties by name)
    assert S.choose_classes(r, [0, 1, 2], [0, 1, 2], 3) == ["AVA", "AIA", "AVB"]
    with pytest.raises(ArgumentError, match="expected k, the number of classes, to be an int >= 1; got 0"):
        S.choose_classes(r, [0], [0], 0)


@pytest.fixture(scope="module")
def real():
    wiring = connectome.load()
    return wiring, P.align(connectome.atlas(), wiring)


def test_the_integrator_read_out_is_simulates_mean_response_times_the_steps(real):
    wiring, r = real
    rows, cols = S.dense_block(r)
    classes = S.choose_classes(r, rows, cols, 4)
    rows = [i for i in rows if connectome.cell_class(r.stimulated[i]) in classes]
    cols = [j for j in cols if connectome.cell_class(r.read_out[j]) in classes]
    problem = S.sign_problem(wiring, r, rows, cols, steps=7)
    assert problem.X.shape == (len(rows), 8, len(rows)) and problem.Y.shape == (len(rows), len(cols))
    assert torch.equal(problem.Y, r.response[rows][:, cols].clamp(-1, 1))
    assert problem.topology.outputs == tuple(f"read:{n}" for n in problem.read_out)
    # the same weights in propagation's model (responders as outputs, no integrator): sum / steps == mean
    sub = connectome.subcircuit(wiring, list(problem.neurons), inputs=list(problem.stimulated),
                                outputs=list(problem.read_out))
    net = Network = mpnet.Network(P.model_topology(sub, problem.stimulated, problem.read_out, share="class"),
                                  dtype=torch.float64, seed=3)
    with torch.no_grad():
        mean = P.simulate(net, problem.stimulated, problem.read_out, steps=7)
    gains = {(n, f"read:{n}"): 1.0 for n in problem.read_out}
    mine = S._with_readout(Network.topology(), problem.read_out).with_weights(gains)
    with torch.no_grad():
        summed = mpnet.Network(mine, dtype=torch.float64)(problem.X.transpose(0, 1))[-1]
    assert float(mean.abs().max()) > 0.05
    assert torch.allclose(summed / 7, mean, rtol=0, atol=1e-12)
    groups = S.class_groups(problem.topology)
    assert len(groups) == sum(1 for t in problem.topology.ties if t.startswith("chem:"))
    assert all(g.synapses >= len(g.edges) for g in groups.values())


def test_sign_problem_refuses_what_the_test_cannot_fit_by_name(real):
    wiring, r = real
    rows, cols = S.dense_block(r)
    missing = next((i, j) for i in range(len(r.stimulated)) for j in range(len(r.read_out))
                   if not bool(r.measured[i, j]) and r.stimulated[i] != r.read_out[j])
    with pytest.raises(ArgumentError, match=rf"the response of {r.read_out[missing[1]]} to "
                                            rf"{r.stimulated[missing[0]]} was not measured"):
        S.sign_problem(wiring, r, [missing[0]], [missing[1]])
    both = r.read_out.index(r.stimulated[0])
    with pytest.raises(ArgumentError, match=rf"\['{r.stimulated[0]}'\] are both stimulated and read out"):
        S.sign_problem(wiring, r, [0], [both])
    with pytest.raises(ArgumentError, match="expected steps to be an int >= 1; got 0"):
        S.sign_problem(wiring, r, rows[:1], cols[:1], steps=0)
    with pytest.raises(ArgumentError, match="expected clip to be a finite number > 0; got nan"):
        S.sign_problem(wiring, r, rows[:1], cols[:1], clip=NAN)


def test_mirror_noise_is_half_the_mean_square_left_right_difference():
    neurons = [(n, {"cell_class": n[:-1]}) for n in ("AL", "AR", "BL", "BR")]
    wiring = connectome.build(neurons, [], [], stimulate=["AL"], read_out=["BL"])
    r = P.Responses(("AL", "AR"), ("BL", "BR"), torch.tensor([[0.5, 0.1], [NAN, 2.0]], dtype=torch.float64),
                    torch.zeros(2, 2, dtype=torch.bool))
    # AL->BL vs AR->BR: 0.5 - 1.0 (clipped); AL->BR vs AR->BL: not measured
    assert S.mirror_noise(r, wiring) == (pytest.approx(0.25 / 2), 1)
    with pytest.raises(ArgumentError, match="no measured pair has a measured left/right mirror"):
        S.mirror_noise(P.Responses(("AL",), ("BL",), r.response[:1, :1], r.significant[:1, :1]), wiring)


def test_transmitter_groups():
    assert [S.transmitter_group(x) for x in (["Acetylcholine"], ["GABA"], ["Glutamate"],
                                              ["Acetylcholine+Glutamate"], ["Acetylcholine", "GABA"],
                                              ["Acetylcholine+Betaine"], ["Dopamine"], ["orphan"], ["Betaine"])] \
        == ["ACh", "GABA", "glutamate", "several", "several", "several", "other/none", "other/none", "other/none"]


def test_class_groups_on_the_edges_of_a_gap_junction_each_get_their_own_column():
    # A -> B and B -> A are each the only edge of their class pair, and both carry the A|B junction: the
    # junction's group must report on a self-term edge (a first-come choice took B -> A and left chem:B>A none)
    neurons = [("A", {"cell_class": "A"}), ("B", {"cell_class": "B"})]
    wiring = connectome.build(neurons, [("A", "B", 3, "Acetylcholine"), ("B", "A", 2, "GABA")], [("A", "B", 1)],
                              stimulate=["A"], read_out=["B"])
    topo = P.model_topology(wiring, ["A"], ["B"], share="class")
    pop = Population(topo, 1)
    assert sorted(pop.groups.values()) == ["chem:A>B", "chem:B>A", "gap:A|B"]
    assert len(set(pop.groups)) == 3
    theta = torch.tensor([[1.0] * pop.E + [0.0] * pop.V], dtype=torch.float64)
    for i, (key, group) in enumerate((k, g) for k, g in pop.groups.items()):
        assert pop.groups[pop.keys[pop.edge_col[key]]] == group          # a report edge is its group's column
        theta[0, pop.edge_col[key]] = -(i + 1.0) if group.startswith("chem") else 0.5
    back = pop.topology_of(theta[0])
    assert back.ties["gap:A|B"].weight == 0.5 and back.ties["chem:A>B"].weight < 0
    X = torch.zeros(6, 4, 1, dtype=torch.float64)
    X[:, :, 0] = torch.linspace(0.2, 1.2, 6)[:, None]
    Y = torch.tanh(X[:, -1]) * 0.5
    small = Effort(starts=4, keep=1, islands=1, pool=1, redraws=1, rounds=0, hop_iters=10, polish_iters=20,
                   explore_iters=10, smooth=())
    report = mpnet.infer_signs(topo, X, Y, effort=small, noise_std=0.01, seed=0)
    reasons = [row.reason for row in report.edges]
    for group in ("chem:A>B", "chem:B>A", "gap:A|B"):
        assert sum(x.startswith(f"tie group {group!r}") for x in reasons) == 1


@pytest.fixture(scope="module")
def script_ns():
    return runpy.run_path(str(ROOT / "scripts" / "connectome_synapse_signs.py"))


@pytest.mark.parametrize("argv, message", [
    (["--classes", "0"], "argument --classes: expected an int in 1 .. 100 (got 0)"),
    (["--effort", "hard"], "argument --effort: invalid choice 'hard'; expected one of ['quick', 'default']")])
def test_script_argument_mistakes_are_one_line(script_ns, capsys, argv, message):
    with pytest.raises(SystemExit) as done:
        script_ns["guarded"](script_ns["main"], argv, prog="connectome_synapse_signs.py")
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_script_reads_its_csv_back_and_refuses_a_foreign_one(script_ns, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    rows = tmp_path / "rows.csv"
    rows.write_text("pre,post,transmitter,synapses,edges,sign,confidence,weight,ratio,reason\n"
                    "RMD,OLQ,Acetylcholine,12.0,3,-,0.9500,-0.4,1.3,x\n"
                    "OLQ,RMD,Glutamate,54.0,5,?,0.6552,0.85,0.15,y\n")
    picture = tmp_path / "p.png"
    assert script_ns["guarded"](script_ns["main"], ["--from-csv", str(rows), "--picture", str(picture)]) == 0
    assert picture.stat().st_size > 10_000
    out = capsys.readouterr().out.splitlines()
    assert out[2] == "ACh                                1       0       1         +      0"
    assert out[4] == "glutamate                          1       1       0      free      -"
    bad = tmp_path / "bad.csv"
    bad.write_text("src,dst\nA,B\n")
    assert script_ns["guarded"](script_ns["main"], ["--from-csv", str(bad), "--picture", str(picture)],
                                prog="s.py") == 2
    err = capsys.readouterr().err
    assert "bad.csv: expected the columns ['pre', 'post'" in err and "got ['src', 'dst']" in err


@pytest.mark.slow
def test_script_quick_prints_the_tables_and_draws_the_picture(tmp_path):
    picture, table = tmp_path / "signs.png", tmp_path / "signs.csv"
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "connectome_synapse_signs.py"), "--quick",
                           "--picture", str(picture), "--csv", str(table)], capture_output=True, text=True,
                          cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "presynaptic transmitter  class pairs  called +  called -     ?" in out
    assert "(b) calls that contradict the transmitter rule:" in out
    assert "(c) fit: best loss" in out and "noise floor 6.046e-03 (given)" in out
    rows = table.read_text().splitlines()
    assert rows[0].startswith("pre,post,transmitter,synapses,edges,sign,confidence")
    free = int(out.split(" free signs (one per class pair)")[0].rsplit(" ", 1)[1])
    assert len(rows) == 1 + free and picture.stat().st_size > 10_000
    again = tmp_path / "again.png"
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "connectome_synapse_signs.py"), "--from-csv",
                           str(table), "--picture", str(again)], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0 and again.read_bytes() == picture.read_bytes()
