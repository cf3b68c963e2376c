"""mpnet.connectome.atlas: the shipped signal-propagation atlas (Randi et al. 2023) reads with its orientation,
its counts equal to what its provenance says, its masks and pairs; bad files and names give clear errors; and,
where cect's dependency wormneuroatlas is installed, every entry equals its source and cect's cached reader."""
import importlib.util
import json
import math
import os
import re

import pytest
import torch

from mpnet import connectome
from mpnet.connectome.funatlas import write_atlas
from mpnet.errors import ArgumentError, FormatError, UnknownNodeError


@pytest.fixture(scope="module")
def wt():
    return connectome.atlas()


def test_shipped_atlas_holds_what_its_provenance_says(wt):
    prov = wt.provenance
    kept = prov["kept"]
    n, measured, diag, sig, pos, neg = map(int, re.findall(
        r"(\d+) neurons with a measured pair; (\d+) measured pairs \((\d+) on the diagonal.*?(\d+) significant "
        r"off-diagonal pairs at q < 0.05 \((\d+) positive, (\d+) negative\)", kept)[0])
    assert len(wt.neurons) == n and wt.name == "randi2023"
    assert int(wt.measured(self_pairs=True).sum()) == measured and int(wt.measured().sum()) == measured - diag
    assert int(torch.diagonal(wt.measured(self_pairs=True)).sum()) == diag
    s = wt.significant()
    assert int(s.sum()) == sig
    assert int((s & (wt.response > 0)).sum()) == pos and int((s & (wt.response < 0)).sum()) == neg
    assert repr(wt) == f"Atlas('randi2023', neurons={n}, measured={measured - diag}, significant={sig} at q < 0.05)"


def test_tensors_agree_on_what_is_measured(wt):
    n = len(wt.neurons)
    for t in (wt.response, wt.q, wt.q_eq):
        assert t.dtype == torch.float64 and t.shape == (n, n)
    measured = ~torch.isnan(wt.response)
    assert torch.equal(measured, ~torch.isnan(wt.q)) and torch.equal(measured, wt.trials > 0)
    assert bool(((wt.q[measured] >= 0) & (wt.q[measured] <= 1)).all())
    assert "AWCON" not in wt.neurons and len(set(wt.neurons)) == n


def test_orientation_rows_are_stimulated(wt):
    # a neuron recorded but never stimulated has a column and no row: ADFR is one, per the provenance
    assert "never a column" in wt.provenance["orientation"]
    i = wt.index("ADFR")
    assert not bool(wt.measured(self_pairs=True)[i].any()) and bool(wt.measured()[:, i].any())
    # ASHL stimulated, AVAL responding: 0.111 dF/F over 8 trials, q 0.019 (AVAL stimulated, ASHL: 2 trials)
    a, b = wt.index("ASHL"), wt.index("AVAL")
    assert int(wt.trials[a, b]) == 8 and int(wt.trials[b, a]) == 2
    assert wt.response[a, b].item() == pytest.approx(0.1111, abs=5e-4) and float(wt.q[a, b]) < 0.05


def test_pairs_and_alpha(wt):
    pairs = wt.pairs()
    assert len(pairs) == int(wt.significant().sum())
    s, r, resp, q = pairs[0]
    assert q < 0.05 and s != r and resp == float(wt.response[wt.index(s), wt.index(r)])
    strict = wt.pairs(alpha=0.01)
    assert set(strict) <= set(pairs) and all(p[3] < 0.01 for p in strict)
    assert len(wt.pairs(self_pairs=True)) > len(pairs)
    for bad in (0, 1.5, "0.05", True, float("nan")):
        with pytest.raises(ArgumentError, match="alpha"):
            wt.significant(bad)


def test_unknown_neuron_and_name_errors(wt, tmp_path):
    with pytest.raises(UnknownNodeError, match="'CANL' is not a neuron of atlas 'randi2023'"):
        wt.index("CANL")
    with pytest.raises(ArgumentError, match="expected name to be an atlas name"):
        connectome.atlas(5)
    with pytest.raises(FileNotFoundError, match="Shipped atlases: \\['randi2023'\\]"):
        connectome.atlas("nope")
    assert "randi2023" not in connectome.available()       # an atlas is not a connectome


def good():
    return {"neurons": ["A", "B"], "entries": [(0, 1, 0.5, 0.01, 0.9, 3), (1, 0, -0.2, 0.5, None, 1),
                                                (0, 0, 1.0, 0.001, 0.8, 3)]}


def test_write_and_read_back_a_small_atlas(tmp_path):
    path = str(tmp_path / "tiny.atlas.json")
    write_atlas(path, good()["neurons"], good()["entries"], {"name": "tiny"})
    small = connectome.atlas(path)
    assert small.pairs() == [("A", "B", 0.5, 0.01)]
    assert small.pairs(self_pairs=True) == [("A", "A", 1.0, 0.001), ("A", "B", 0.5, 0.01)]
    assert math.isnan(float(small.q_eq[1, 0])) and int(small.trials[1, 1]) == 0
    assert small.response[1, 0].item() == -0.2 and math.isnan(float(small.response[1, 1]))


@pytest.mark.parametrize("edit, match", [
    (lambda d: d.pop("provenance"), "no 'provenance'"),
    (lambda d: d.__setitem__("neurons", ["A", "A"]), "distinct names"),
    (lambda d: d["rows"][0].__setitem__(0, 7), r"rows\[0\] is not"),
    (lambda d: d["rows"][0][1].__setitem__(0, 9), r"rows\[0\] \(A stimulated\), entry 0: responding index 9"),
    (lambda d: d["rows"][0][2].__setitem__(0, None), r"entry 0 \(A responding\): expected a finite response"),
    (lambda d: d["rows"][0][3].__setitem__(0, 1.5), r"expected a finite response, q and q_eq in \[0, 1\]"),
    (lambda d: d["rows"][0][5].__setitem__(0, 0), "trials >= 1"),
    (lambda d: d["rows"][0][1].__setitem__(1, 0), "listed twice"),
    (lambda d: d["rows"][0][2].pop(), "differ in length"),
])
def test_a_damaged_file_names_its_entry(tmp_path, edit, match):
    path = tmp_path / "bad.atlas.json"
    write_atlas(str(path), good()["neurons"], good()["entries"], {"name": "bad"})
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))
    with pytest.raises(FormatError, match=match):
        connectome.atlas(str(path))
    path.write_text("{not json")
    with pytest.raises(FormatError, match="not valid JSON"):
        connectome.atlas(str(path))


def test_every_entry_equals_the_source_and_cect(wt):
    """Against wormneuroatlas' funatlas.h5 (source [responding, stimulated]) and cect's cached reader of it."""
    pytest.importorskip("h5py", reason="needs the 'connectome' extra (wormneuroatlas, h5py)")
    source = importlib.util.find_spec("wormneuroatlas")          # found, not imported (seconds of scipy)
    if source is None or not source.submodule_search_locations:
        pytest.skip("needs the 'connectome' extra (wormneuroatlas)")
    import h5py
    import numpy as np
    with h5py.File(os.path.join(list(source.submodule_search_locations)[0], "data", "funatlas.h5"), "r") as f:
        ids = [x.decode() for x in f["neuron_ids"][:]]
        dff, q, occ = (np.asarray(f["wt"][k][:]) for k in ("dFF", "q", "occ1"))
    src = [ids.index(n) for n in wt.neurons]
    resp_src = torch.from_numpy(dff[np.ix_(src, src)].T.copy())      # to [stimulated, responding]
    q_src = torch.from_numpy(q[np.ix_(src, src)].T.copy())
    measured = ~torch.isnan(resp_src) & torch.from_numpy(occ[np.ix_(src, src)].T > 0)
    assert torch.equal(measured, wt.measured(self_pairs=True))
    assert torch.allclose(wt.response[measured], resp_src[measured], rtol=1e-6, atol=0)
    assert torch.allclose(wt.q[measured], q_src[measured], rtol=1e-6, atol=1e-300)
    spec = importlib.util.find_spec("cect")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("needs the 'connectome' extra (cect)")
    # what cect's get_instance(from_cache=True) reads, without importing cect (seconds of plotting packages)
    with open(os.path.join(list(spec.submodule_search_locations)[0], "cache", "WormNeuroAtlasFuncReader.json")) as f:
        cached = json.load(f)
    names = [str(x) for x in cached["nodes"]]
    m = np.asarray(cached["connections"]["Functional"])                  # [pre = stimulated, post = responding]
    sig = wt.significant()
    ours = {(a, b) for a, b, *_ in wt.pairs()}
    theirs = {(names[i], names[j]) for i, j in zip(*np.nonzero(m)) if i != j}
    # cect keeps q < 0.05 and writes 0 for a NaN response (the one pair with a q and no response): same pairs
    assert ours == {p for p in theirs if p[0] in wt.neurons and p[1] in wt.neurons}
    for a, b, resp, _ in wt.pairs():
        assert m[names.index(a), names.index(b)] == pytest.approx(max(-10.0, min(10.0, resp)), rel=1e-6)
    assert int(sig.sum()) == len(ours)
