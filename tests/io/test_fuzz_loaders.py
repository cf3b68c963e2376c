"""Fuzzing every loader: a mutated file either loads into a valid object or raises an mpnet error naming the
file (and, for a field given the wrong type, the field) -- never another exception, never garbage.

Loaders: topology JSON (``Topology.load``), neat-python JSON (``Topology.from_neat_json``), GraphML
(``formats.read``), data CSV (``csvdata.read_columns``), search checkpoints (``load_checkpoint`` +
``check_state``). The default suite runs 60 examples per loader; ``pytest -m slow`` runs 2,000 per loader
(10,000 in all).
"""
import json
import math
import os
import random
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mpnet import Topology, search
from mpnet.graph import sample
from mpnet.io import formats
from mpnet.io.csvdata import read_columns
from mpnet.errors import MpnetError
from mpnet.search.checkpoint import check_state, load_checkpoint
from mpnet.testing import random_topology

FAST = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
SLOW = settings(max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck))

json_leaf = st.one_of(st.none(), st.booleans(), st.integers(min_value=-10 ** 400, max_value=10 ** 400),
                      st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8))
json_value = st.recursive(json_leaf, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                             st.dictionaries(st.text(max_size=6), inner, max_size=3)),
                          max_leaves=6)

# what each field of a file must be; a value of another kind must be refused, naming the field
NUMBER = lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(float(v)) \
    if not (isinstance(v, int) and abs(v) > 1e300) else False
KINDS = {
    "bias": NUMBER, "response": NUMBER, "weight": lambda v: v is None or NUMBER(v),
    "trainable": lambda v: isinstance(v, bool), "enabled": lambda v: isinstance(v, bool),
    "id": lambda v: isinstance(v, (str, int)) and not isinstance(v, bool),
    "src": lambda v: isinstance(v, (str, int)) and not isinstance(v, bool),
    "dst": lambda v: isinstance(v, (str, int)) and not isinstance(v, bool),
    "from": lambda v: isinstance(v, (str, int)) and not isinstance(v, bool),
    "to": lambda v: isinstance(v, (str, int)) and not isinstance(v, bool),
    "role": lambda v: isinstance(v, str), "activation": lambda v: isinstance(v, (str, dict)),
    "aggregation": lambda v: isinstance(v, (str, dict)),
}


def _paths(obj, prefix=()):
    """Every (path, value) in a JSON tree."""
    yield prefix, obj
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, prefix + (i,))


def _mutate(data, rnd: random.Random, value):
    """Replace, delete or add one entry somewhere in ``data`` (a copy); return (data, the key changed)."""
    data = json.loads(json.dumps(data))
    paths = [p for p, _ in _paths(data) if p]
    path = rnd.choice(paths)
    parent = data
    for k in path[:-1]:
        parent = parent[k]
    key = path[-1]
    action = rnd.random()
    if action < 0.7:
        parent[key] = value
    elif action < 0.85 and isinstance(parent, dict):
        del parent[key]
    elif isinstance(parent, dict):
        parent[str(value)[:6] if not isinstance(value, str) else value] = value
    else:
        parent.insert(key, value)
    return data, key


def _dump(data) -> str:
    return json.dumps(data, allow_nan=True)   # NaN and Infinity literals: Python's json writes and reads them


def _assert_named(err: Exception, path: str):
    assert isinstance(err, MpnetError), f"{type(err).__name__}: {err}"
    assert os.path.basename(path) in str(err), str(err)


def _assert_valid_topology(topo: Topology):
    """A loaded topology is a real one: it survives its own round trip and every number is finite."""
    assert isinstance(topo, Topology)
    assert Topology.from_dict(topo.to_dict(), warn=False) == topo
    for n in topo.nodes.values():
        assert isinstance(n.id, (str, int)) and not isinstance(n.id, bool)
        assert math.isfinite(n.bias) and math.isfinite(n.response) and not isinstance(n.bias, bool)
    for e in topo.edges.values():
        assert e.weight is None or (isinstance(e.weight, float) and math.isfinite(e.weight))
        assert isinstance(e.trainable, bool)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


# ----------------------------------------------------------------------------------------- topology JSON
BASE_TOPOLOGY = random_topology(3, n_hidden=4, p_sign=0.3, p_frozen=0.2, p_response=0.3).to_dict()


def check_topology_json(folder, seed, value, raw):
    path = str(folder / "fuzzed.json")
    rnd = random.Random(seed)
    if raw is not None:
        text = raw
    else:
        data, _ = _mutate(BASE_TOPOLOGY, rnd, value)
        text = _dump(data).encode()
        if rnd.random() < 0.1:   # and sometimes damage the bytes too
            i = rnd.randrange(len(text))
            text = text[:i] + bytes([rnd.randrange(256)]) + text[i + 1:]
    with open(path, "wb") as f:
        f.write(text)
    try:
        topo = Topology.load(path, warn=False)
    except Exception as err:   # noqa: BLE001  (the property: only mpnet errors, naming the file)
        _assert_named(err, path)
        return
    _assert_valid_topology(topo)


raw_bytes = st.one_of(st.none(), st.none(), st.none(), st.binary(max_size=200),
                      st.text(max_size=200).map(lambda t: t.encode("utf-16")))


@FAST
@given(seed=st.integers(0, 2 ** 32), value=json_value, raw=raw_bytes)
def test_topology_json_fuzz(folder, seed, value, raw):
    check_topology_json(folder, seed, value, raw)


@pytest.mark.slow
@SLOW
@given(seed=st.integers(0, 2 ** 32), value=json_value, raw=raw_bytes)
def test_topology_json_fuzz_long(folder, seed, value, raw):
    check_topology_json(folder, seed, value, raw)


@FAST
@given(index=st.integers(0, 100), key=st.sampled_from(["bias", "response", "role", "activation", "aggregation"]),
       value=json_value)
def test_a_node_field_of_the_wrong_kind_is_named(folder, index, key, value):
    if KINDS[key](value) and key not in ("role", "activation", "aggregation"):
        return
    data = json.loads(json.dumps(BASE_TOPOLOGY))
    node = data["nodes"][index % len(data["nodes"])]
    node[key] = value
    path = str(folder / "field.json")
    with open(path, "w") as f:
        f.write(_dump(data))
    try:
        Topology.load(path, warn=False)
    except MpnetError as err:
        _assert_named(err, path)
        if not KINDS[key](value) or key in ("role", "activation", "aggregation"):
            assert key in str(err) or "Dale" in str(err) or "cycle" in str(err), str(err)
        return
    assert KINDS[key](value), f"{key}={value!r} was accepted"


@FAST
@given(index=st.integers(0, 100), key=st.sampled_from(["weight", "trainable", "src", "dst"]), value=json_value)
def test_an_edge_field_of_the_wrong_kind_is_named(folder, index, key, value):
    data = json.loads(json.dumps(BASE_TOPOLOGY))
    edge = data["edges"][index % len(data["edges"])]
    edge[key] = value
    path = str(folder / "edge_field.json")
    with open(path, "w") as f:
        f.write(_dump(data))
    try:
        Topology.load(path, warn=False)
    except MpnetError as err:
        _assert_named(err, path)
        if not KINDS[key](value):
            assert key in str(err) or (key in ("src", "dst") and "Edge" in str(err)), str(err)
        return
    assert KINDS[key](value), f"{key}={value!r} was accepted"


# ----------------------------------------------------------------------------------------- neat-python JSON
BASE_NEAT = random_topology(5, n_hidden=3, activations=["neat.tanh", "neat.sigmoid"]).to_neat_json()


def check_neat_json(folder, seed, value):
    path = str(folder / "fuzzed.neat.json")
    data, key = _mutate(BASE_NEAT, random.Random(seed), value)
    with open(path, "w") as f:
        f.write(_dump(data))
    try:
        topo = Topology.from_neat_json(path, warn=False)
    except Exception as err:   # noqa: BLE001
        _assert_named(err, path)
        return
    _assert_valid_topology(topo)


@FAST
@given(seed=st.integers(0, 2 ** 32), value=json_value)
def test_neat_json_fuzz(folder, seed, value):
    check_neat_json(folder, seed, value)


@pytest.mark.slow
@SLOW
@given(seed=st.integers(0, 2 ** 32), value=json_value)
def test_neat_json_fuzz_long(folder, seed, value):
    check_neat_json(folder, seed, value)


@FAST
@given(index=st.integers(0, 100), key=st.sampled_from(["weight", "enabled", "from", "to"]), value=json_value)
def test_a_neat_connection_field_of_the_wrong_kind_is_named(folder, index, key, value):
    data = json.loads(json.dumps(BASE_NEAT))
    conn = data["connections"][index % len(data["connections"])]
    conn[key] = value
    path = str(folder / "conn.neat.json")
    with open(path, "w") as f:
        f.write(_dump(data))
    try:
        Topology.from_neat_json(path, warn=False)
    except MpnetError as err:
        _assert_named(err, path)
        if not KINDS[key](value) or (key == "weight" and value is None):
            assert key in str(err), str(err)
        return
    assert KINDS[key](value) and not (key == "weight" and value is None), f"{key}={value!r} was accepted"


# ------------------------------------------------------------------------------------------------ GraphML
BASE_GRAPHML = None


def _graphml_text(folder) -> str:
    global BASE_GRAPHML
    if BASE_GRAPHML is None:
        path = str(folder / "base.graphml")
        formats.write(random_topology(7, n_hidden=3, p_sign=0.3, p_frozen=0.3), path)
        with open(path) as f:
            BASE_GRAPHML = f.read()
    return BASE_GRAPHML


def check_graphml(folder, seed, text_value):
    rnd = random.Random(seed)
    text = _graphml_text(folder)
    kind = rnd.random()
    if kind < 0.4:      # a value of some <data> element replaced
        starts = [i for i in range(len(text)) if text.startswith("<data key=", i)]
        i = text.index(">", rnd.choice(starts)) + 1
        j = text.index("<", i)
        text = text[:i] + text_value + text[j:]
    elif kind < 0.6:    # a declared attribute type changed
        types = ["boolean", "int", "long", "float", "double", "string"]
        starts = [i for i in range(len(text)) if text.startswith('attr.type="', i)]
        i = rnd.choice(starts) + len('attr.type="')
        j = text.index('"', i)
        text = text[:i] + rnd.choice(types) + text[j:]
    elif kind < 0.8:    # bytes damaged or cut
        i = rnd.randrange(len(text))
        text = text[:i] + text_value + text[i + rnd.randrange(3):]
    else:
        text = text[:rnd.randrange(len(text))]
    path = str(folder / "fuzzed.graphml")
    with open(path, "w", encoding="utf-8", errors="surrogatepass") as f:
        f.write(text)
    try:
        topo = formats.read(path, warn=False)
    except Exception as err:   # noqa: BLE001
        _assert_named(err, path)
        return
    _assert_valid_topology(topo)


xml_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=10)


@FAST
@given(seed=st.integers(0, 2 ** 32), text_value=xml_text)
def test_graphml_fuzz(folder, seed, text_value):
    check_graphml(folder, seed, text_value)


@pytest.mark.slow
@SLOW
@given(seed=st.integers(0, 2 ** 32), text_value=xml_text)
def test_graphml_fuzz_long(folder, seed, text_value):
    check_graphml(folder, seed, text_value)


# ---------------------------------------------------------------------------------------------------- CSV
cell = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr), st.integers().map(str),
                 st.sampled_from(["", " ", "nan", "inf", "-inf", "1e400", "abc", "1,5", '"2"', "1_0", "0x10"]),
                 st.text(max_size=5))
row = st.lists(cell, min_size=1, max_size=4)


def check_csv(folder, header, rows, raw):
    path = str(folder / "fuzzed.csv")
    if raw is not None:
        content = raw
    else:
        lines = [",".join(header)] + [",".join(r) for r in rows]
        content = "\n".join(lines).encode("utf-8", errors="surrogatepass")
    with open(path, "wb") as f:
        f.write(content)
    columns = ["a", "b"]
    try:
        X = read_columns(path, columns)
    except Exception as err:   # noqa: BLE001
        _assert_named(err, path)
        return
    assert X.shape[1] == 2 and X.shape[0] >= 1
    assert bool(X.isfinite().all())


@FAST
@given(header=st.lists(st.sampled_from(["a", "b", "c", "a", ""]), min_size=1, max_size=4),
       rows=st.lists(row, max_size=5), raw=st.one_of(st.none(), st.none(), st.binary(max_size=60)))
def test_csv_fuzz(folder, header, rows, raw):
    check_csv(folder, header, rows, raw)


@pytest.mark.slow
@SLOW
@given(header=st.lists(st.sampled_from(["a", "b", "c", "a", ""]), min_size=1, max_size=4),
       rows=st.lists(row, max_size=5), raw=st.one_of(st.none(), st.none(), st.binary(max_size=60)))
def test_csv_fuzz_long(folder, header, rows, raw):
    check_csv(folder, header, rows, raw)


@FAST
@given(values=st.lists(st.tuples(st.floats(-1e30, 1e30), st.floats(-1e30, 1e30)), min_size=1, max_size=6),
       extra=st.text(alphabet="xyz ", max_size=4))
def test_csv_of_good_numbers_reads_them_exactly(folder, values, extra):
    path = str(folder / "good.csv")
    with open(path, "w") as f:
        f.write("b,a,note\n" + "".join(f"{b!r},{a!r},{extra}\n" for a, b in values))
    X = read_columns(path, ["a", "b"], dtype=__import__("torch").float64)
    assert X.tolist() == [[a, b] for a, b in values]


# ------------------------------------------------------------------------------------------- checkpoints
@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    d = tmp_path_factory.mktemp("run")
    search.run(search.NEAT(2, 1, population=8, seed=0), search.tasks.XOR(), generations=2, checkpoint_dir=d,
               progress=False, stop_when_solved=False)
    return d


def check_checkpoint(checkpoint, folder, seed, insert):
    rnd = random.Random(seed)
    with open(os.path.join(checkpoint, "checkpoint.json"), "rb") as f:
        raw = f.read()
    original = json.loads(raw)
    kind = rnd.random()
    i = rnd.randrange(len(raw))
    if kind < 0.5:      # one bit flipped
        raw = raw[:i] + bytes([raw[i] ^ (1 << rnd.randrange(8))]) + raw[i + 1:]
    elif kind < 0.7:    # cut
        raw = raw[:i]
    else:               # bytes inserted
        raw = raw[:i] + insert + raw[i:]
    d = folder / "ckpt"
    d.mkdir(exist_ok=True)
    path = str(d / "checkpoint.json")
    with open(path, "wb") as f:
        f.write(raw)
    try:
        state = load_checkpoint(d)
        check_state({k: v for k, v in state.items() if k not in ("format", "version", "checksum")}, path)
    except Exception as err:   # noqa: BLE001
        _assert_named(err, path)
        assert "checkpoint" in str(err)
        return
    assert state == original   # accepted only when nothing that matters changed (e.g. whitespace)


@FAST
@given(seed=st.integers(0, 2 ** 32), insert=st.binary(min_size=1, max_size=4))
def test_checkpoint_fuzz(checkpoint, folder, seed, insert):
    check_checkpoint(checkpoint, folder, seed, insert)


@pytest.mark.slow
@SLOW
@given(seed=st.integers(0, 2 ** 32), insert=st.binary(min_size=1, max_size=4))
def test_checkpoint_fuzz_long(checkpoint, folder, seed, insert):
    check_checkpoint(checkpoint, folder, seed, insert)
