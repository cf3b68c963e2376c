"""mpnet.connectome.propagation: a stimulation drives its neuron and reads the chosen ones (against a float64
loop over the pair lists of a hand-made wiring), unmeasured pairs are masked out of the fit, folds hold each
stimulated neuron out once (partners together), and the baselines compute what they say on toy cases."""
import math
from collections import Counter
from types import SimpleNamespace

import pytest
import torch

from mpnet import Network, connectome
from mpnet.connectome import propagation as P
from mpnet.errors import ArgumentError, DataError, NonFiniteError

NEURONS = [(n, {"cell_class": c}) for n, c in
           (("AL", "A"), ("AR", "A"), ("B", "B"), ("C", "C"), ("D", "D"), ("E", "E"))]
CHEMICAL = [("AL", "B", 5, "Acetylcholine"), ("AR", "B", 2, "Acetylcholine"), ("B", "C", 2, "GABA"),
            ("C", "AL", 1, "Glutamate"), ("D", "B", 3, "Acetylcholine"), ("E", "D", 4, "Acetylcholine"),
            ("C", "C", 1, "Glutamate")]
GAP = [("B", "D", 2), ("AL", "AR", 1)]


def wiring():
    return connectome.build(NEURONS, CHEMICAL, GAP, stimulate=["AL"], read_out=["B"])


def loop(stimulated, read_out, chem, gaps, steps, amplitude=1.0):
    """float64, neuron by neuron: h_i(t) = tanh(sum_j w_ji h_j(t-1) + sum_gap g (h_j - h_i)(t-1) + drive_i),
    every neuron at 0 before; a response is the mean of h over the steps."""
    names = [n for n, _ in NEURONS]
    out = []
    for s in stimulated:
        h = {n: 0.0 for n in names}
        total = {n: 0.0 for n in names}
        for _ in range(steps):
            z = {n: (amplitude if n == s else 0.0) for n in names}
            for (pre, post), w in chem.items():
                z[post] += w * h[pre]
            for (a, b), g in gaps.items():
                z[a] += g * (h[b] - h[a])
                z[b] += g * (h[a] - h[b])
            h = {n: math.tanh(z[n]) for n in names}
            for n in names:
                total[n] += h[n]
        out.append([total[r] / steps for r in read_out])
    return torch.tensor(out, dtype=torch.float64)


@pytest.mark.parametrize("share", ["synapse", "class"])
def test_a_stimulation_drives_its_neuron_and_reads_the_chosen_ones(share):
    stimulated, read_out = ["C", "AL", "E"], ["E", "B", "AR", "C"]   # read-out order differs from the wiring's
    topo = P.model_topology(wiring(), stimulated, read_out, share=share)
    assert topo.inputs == ("stim:C", "stim:AL", "stim:E") and set(topo.outputs) == set(read_out)
    gen = torch.Generator().manual_seed(1)
    gaps = {(a, b): float(torch.rand(1, generator=gen)) for a, b, _ in GAP}
    ties = {f"gap:{a}|{b}": g for (a, b), g in gaps.items()}
    if share == "synapse":
        chem = {(a, b): float(torch.randn(1, generator=gen)) for a, b, _, _ in CHEMICAL}
        topo = topo.with_weights(chem, ties=ties)
    else:
        cls = dict(NEURONS)
        strength = {}
        for a, b, _, _ in CHEMICAL:
            strength.setdefault(f"chem:{cls[a]['cell_class']}>{cls[b]['cell_class']}",
                                float(torch.randn(1, generator=gen)))
        assert set(strength) <= set(topo.ties) and len(strength) == 6      # AL->B and AR->B share A>B
        chem = {(a, b): math.log1p(n) * strength[f"chem:{cls[a]['cell_class']}>{cls[b]['cell_class']}"]
                for a, b, n, _ in CHEMICAL}
        topo = topo.with_weights({}, ties={**ties, **strength})
    net = Network(topo, dtype=torch.float64)
    got = P.simulate(net, stimulated, read_out, steps=7, amplitude=0.8)
    want = loop(stimulated, read_out, chem, gaps, steps=7, amplitude=0.8)
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
    # the drive reaches what the wiring connects: E is upstream of everything, nothing reaches E but E
    assert got[0, 0] == 0 and got[1, 0] == 0 and got[2, 0] != 0 and bool((got[:, 1] != 0).all())


def test_simulate_names_a_neuron_it_cannot_drive_or_read():
    net = Network(P.model_topology(wiring(), ["AL"], ["B"]), seed=0)
    with pytest.raises(ArgumentError, match=r"\['C'\] are not stimulated inputs or outputs"):
        P.simulate(net, ["C"], ["B"])
    with pytest.raises(ArgumentError, match="invalid share 'pair'. Must be one of"):
        P.model_topology(wiring(), ["AL"], ["B"], share="pair")


def atlas(response, q=None, neurons=("AL", "B", "C", "X")):
    response = torch.tensor(response, dtype=torch.float64)
    return SimpleNamespace(neurons=neurons, response=response,
                           q=torch.full_like(response, 0.01) if q is None else torch.tensor(q, dtype=torch.float64))


NAN = float("nan")


def test_align_keeps_the_wiring_s_neurons_and_marks_what_was_measured():
    r = [[0.5, 0.2, NAN, 0.1],      # AL: the diagonal is its own response, not propagation
         [NAN, NAN, NAN, NAN],      # B: never stimulated
         [-0.3, NAN, 0.9, 0.4],
         [0.2, 0.2, 0.2, 0.2]]      # X is not a neuron of the wiring
    q = [[0.0, 0.01, NAN, 0.0], [NAN] * 4, [0.2, NAN, 0.0, 0.0], [0.0] * 4]
    got = P.align(atlas(r, q), wiring())
    assert got.stimulated == ("AL", "C") and got.read_out == ("AL", "B") and got.dropped == ("X",)
    assert got.measured.tolist() == [[False, True], [True, False]]
    assert got.significant.tolist() == [[False, True], [False, False]]           # q 0.2 is not significant
    with pytest.raises(NonFiniteError, match=r"atlas.response\[1, 2\] is inf"):
        P.align(atlas([[0, 0, 0, 0], [0, 0, float("inf"), 0], [0] * 4, [0] * 4]), wiring())
    with pytest.raises(DataError, match=r"atlas.response of shape \[4, 4\].*got \[3, 4\]"):
        P.align(atlas([[0.0] * 4] * 3), wiring())


def test_the_fit_ignores_unmeasured_pairs():
    topo = P.model_topology(wiring(), ["AL", "C", "E"], ["AL", "B", "C", "D"])
    full = torch.tensor([[NAN, 0.3, -0.2, 0.1], [0.4, -0.5, NAN, 0.2], [0.1, 0.1, 0.1, 2.5]], dtype=torch.float64)
    holed = full.clone()
    holed[0, 1] = holed[2, 3] = NAN
    for response in (full, holed):
        resp = P.Responses(("AL", "C", "E"), ("AL", "B", "C", "D"), response, ~torch.isnan(response))
        fitted = P.fit(topo, resp, [0, 2], epochs=1, seed=3, dtype=torch.float64)
        with torch.no_grad():
            pred = P.simulate(Network(topo, seed=3, dtype=torch.float64), ["AL", "E"], resp.read_out)
        target = response[[0, 2]]
        m = ~torch.isnan(target)
        want = ((pred[m] - target[m].clamp(-1, 1)) ** 2).mean()     # 2.5 is clipped to 1
        assert fitted.losses[0] == pytest.approx(float(want), rel=1e-12)
    with pytest.raises(ArgumentError, match=r"row indices in \[0, 3\); got \[3\]"):
        P.fit(topo, resp, [3], epochs=1)


def test_folds_hold_each_stimulated_neuron_out_once_with_its_partner():
    names = ["AVAL", "AVAR", "AVBL", "AVBR", "ASHL", "ASHR", "DA1", "DA2", "DA3", "RIML", "RIMR", "AIYL", "URXL"]
    held = P.folds(names, 3, seed=7)
    flat = [i for f in held for i in f]
    assert sorted(flat) == list(range(len(names)))                    # each once
    for f in held:
        classes = {connectome.cell_class(names[i]) for i in f}
        train = {connectome.cell_class(n) for i, n in enumerate(names) if i not in f}
        assert not classes & train                                    # a partner never trains its held-out twin
    assert held == P.folds(names, 3, seed=7) and held != P.folds(names, 3, seed=8)
    assert max(map(len, held)) - min(map(len, held)) <= 3              # DA1-3 is the largest group
    with pytest.raises(ArgumentError, match=r"k between 2 and the number of groups \(7\); got 8"):
        P.folds(names, 8)


def test_direct_rule_reads_the_transmitter_of_a_direct_synapse():
    w = connectome.build(NEURONS, CHEMICAL + [("AR", "C", 1, "Acetylcholine"), ("AR", "C", 1, "GABA")], GAP,
                         stimulate=["AL"], read_out=["B"])
    resp = P.Responses(("AL", "B", "C", "AR"), ("B", "C", "AL", "D"), torch.zeros(4, 4), torch.ones(4, 4).bool())
    got = P.direct_rule(w, resp)
    assert got.tolist() == [[1, 0, 0, 0],      # AL -> B acetylcholine; AL ~ AR gap is no chemical synapse
                            [0, -1, 0, 0],     # B -> C GABA; B ~ D gap only
                            [0, 0, 0, 0],      # C -> AL glutamate: undecided
                            [1, 0, 0, 0]]      # AR -> C ACh and GABA: undecided


def test_rewiring_keeps_every_degree_and_moves_edges():
    gen = torch.Generator().manual_seed(0)
    names = [f"N{i}" for i in range(40)]
    neurons = [(n, {}) for n in names]
    pairs = {(names[int(a)], names[int(b)]) for a, b in torch.randint(40, (300, 2), generator=gen).tolist() if a != b}
    chemical = [(a, b, 1 + i % 5, "GABA" if i % 3 else "Acetylcholine") for i, (a, b) in enumerate(sorted(pairs))]
    undirected = sorted({tuple(sorted(p)) for p in list(pairs)[:80]})
    gap = [(a, b, 1 + i % 2) for i, (a, b) in enumerate(undirected)]
    w = connectome.build(neurons, chemical + [("N0", "N0", 2, "GABA")], gap, stimulate=["N1"], read_out=["N2"])
    r = P.rewire(w, seed=3)
    _, chem0, gap0 = P.wiring_parts(w)
    _, chem1, gap1 = P.wiring_parts(r)
    assert r.inputs == w.inputs and r.outputs == w.outputs
    for part in (0, 1):
        assert Counter(c[part] for c in chem0) == Counter(c[part] for c in chem1)             # out- and in-degree
    assert Counter((a, n, nt) for a, _, n, nt in chem0) == Counter((a, n, nt) for a, _, n, nt in chem1)
    assert Counter(x for a, b, _ in gap0 for x in (a, b)) == Counter(x for a, b, _ in gap1 for x in (a, b))
    assert len({(a, b) for a, b, _, _ in chem1}) == len(chem1) and ("N0", "N0", 2.0, "GABA") in chem1
    moved = len({(a, b) for a, b, _, _ in chem0} - {(a, b) for a, b, _, _ in chem1})
    assert moved > len(chem0) // 2                                                             # really shuffled
    assert P.rewire(w, seed=3).edges.keys() == r.edges.keys()
