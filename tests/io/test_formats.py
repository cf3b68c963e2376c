"""formats: detection by extension or name, GraphML exact round trips, convert between every readable pair."""
import pytest
import torch

from mpnet import Network, Topology
from mpnet.errors import FormatError
from mpnet.io.formats import FORMATS, READABLE, convert, detect, read, write
from mpnet.testing import random_topology
from mpnet.graph.topology import Edge, Node

NEAT_OK = ["neat.sigmoid", "neat.tanh", "neat.gauss", "relu", "identity", "neat.hat", "neat.cube"]


@pytest.mark.parametrize("path, fmt", [("a.json", "mpnet"), ("dir.v2/A.NEAT.JSON", "neat"), ("a.graphml", "graphml"),
                                       ("m.pt", "torchscript"), ("m.pt2", "pt2"), ("m.onnx", "onnx")])
def test_detect_by_extension(path, fmt):
    assert detect(path) == fmt
    assert FORMATS[fmt] == path.lower()[-len(FORMATS[fmt]):]


def test_detect_by_name_wins_over_extension():
    assert detect("winner.json", "neat") == "neat"


def test_unknown_extension_and_name():
    with pytest.raises(FormatError, match=r"Cannot tell the format of 'net.gml' from its extension"):
        detect("net.gml")
    with pytest.raises(FormatError, match=r'Invalid format "gml". Must be one of \[\'neat\', \'mpnet\''):
        detect("net.json", "gml")


def test_model_formats_are_written_only(tmp_path):
    with pytest.raises(FormatError, match=r"torchscript files hold a compiled model, not a topology"):
        read(tmp_path / "m.pt")


def graphml_round_trip(topo, tmp_path):
    write(topo, tmp_path / "net.graphml")
    return read(tmp_path / "net.graphml", warn=False)


@pytest.mark.parametrize("ids", ["str", "int"])
@pytest.mark.parametrize("seed", range(8))
def test_graphml_round_trip_is_exact(tmp_path, seed, ids):
    topo = random_topology(seed, n_hidden=seed + 1, p_response=0.4, ids=ids)
    again = graphml_round_trip(topo, tmp_path)
    assert again == topo and list(again.nodes) == list(topo.nodes)
    assert [type(n) for n in again.nodes] == [type(n) for n in topo.nodes]


def test_graphml_keeps_none_dale_mixed_ids_and_unset_weights(tmp_path):
    topo = Topology([Node("x", "input"), Node(7, "hidden", "neat.sin", "median", 0.5, dale="-", response=-2.0),
                     Node("y", "output", "identity", bias=1)],
                    [Edge("x", 7), Edge(7, "y", -0.25, trainable=False), Edge("x", "y", None, "+")])
    again = graphml_round_trip(topo, tmp_path)
    assert again == topo
    assert again.edges[("x", 7)].weight is None and again.edges[("x", "y")].sign == "+"
    assert again.nodes[7].dale == "-" and again.nodes["x"].dale is None


def test_graphml_refuses_ids_it_would_merge(tmp_path):
    topo = Topology([Node("3", "input"), Node(3, "output")], [Edge("3", 3, 1.0)])
    with pytest.raises(FormatError, match=r"Node ids '3' \(a str\) and 3 \(an int\) would both be '3' in GraphML"):
        write(topo, tmp_path / "net.graphml")


@pytest.mark.parametrize("a", READABLE)
@pytest.mark.parametrize("b", READABLE)
def test_convert_between_readable_formats_is_exact(tmp_path, a, b):
    topo = random_topology(5, n_hidden=6, activations=NEAT_OK, p_response=0.3)
    src, dst = tmp_path / f"in{FORMATS[a]}", tmp_path / f"out{FORMATS[b]}"
    write(topo, src)
    assert convert(src, dst) == (a, b)
    assert read(dst, warn=False) == topo


def test_convert_to_a_model_draws_unset_weights_with_the_seed(tmp_path, capsys):
    topo = Topology.from_edges([("x", "h"), ("h", "y", 2.0)], inputs=["x"], outputs=["y"], activation="tanh")
    topo.save(tmp_path / "net.json")
    convert(tmp_path / "net.json", tmp_path / "net.pt", seed=3)
    assert "1 edge(s) of" in capsys.readouterr().err
    x = torch.randn(5, 1)
    with torch.no_grad():
        torch.testing.assert_close(torch.jit.load(str(tmp_path / "net.pt"))(x), Network(topo, seed=3)(x))


@pytest.mark.parametrize("kind", [True, "ctrnn"])
def test_recurrent_topologies_convert_between_readable_formats_exactly(tmp_path, kind):
    topo = random_topology(3, n_hidden=5, p_edge=0.35, activations=NEAT_OK, p_response=0.3, recurrent=kind)
    for fmt in READABLE:
        path = tmp_path / f"net{FORMATS[fmt]}"
        write(topo, path)
        assert read(path, warn=False) == topo, fmt


# ------------------------------------------------------------------------- convert: what it may write over
def test_convert_refuses_to_write_over_its_own_source_by_any_name(tmp_path):
    import os
    from mpnet.errors import ArgumentError
    topo = random_topology(1, n_hidden=2)
    topo.save(tmp_path / "a.json")
    before = (tmp_path / "a.json").read_bytes()
    os.symlink(tmp_path / "a.json", tmp_path / "link.json")
    os.link(tmp_path / "a.json", tmp_path / "hard.json")
    for dst, fmt in [(tmp_path / "a.json", "graphml"), (tmp_path / "link.json", None), (tmp_path / "hard.json", None),
                     (tmp_path / "sub" / ".." / "a.json", None)]:
        (tmp_path / "sub").mkdir(exist_ok=True)
        with pytest.raises(ArgumentError, match=r"OUT .* is the file IN .*a\.json' itself"):
            convert(tmp_path / "a.json", dst, dst_format=fmt, overwrite=True)
    assert (tmp_path / "a.json").read_bytes() == before


def test_convert_replaces_an_existing_output_only_when_asked(tmp_path):
    from mpnet.errors import ArgumentError
    topo = random_topology(2, n_hidden=3)
    topo.save(tmp_path / "a.json")
    (tmp_path / "out.graphml").write_text("keep me")
    with pytest.raises(FileExistsError, match=r"OUT '.*out\.graphml' exists; .*--force, or overwrite=True"):
        convert(tmp_path / "a.json", tmp_path / "out.graphml")
    assert (tmp_path / "out.graphml").read_text() == "keep me"
    assert convert(tmp_path / "a.json", tmp_path / "out.graphml", overwrite=True) == ("mpnet", "graphml")
    assert read(tmp_path / "out.graphml", warn=False) == topo
    with pytest.raises(ArgumentError, match=r"OUT '.*sub' is a directory"):
        (tmp_path / "sub").mkdir()
        convert(tmp_path / "a.json", tmp_path / "sub", dst_format="mpnet", overwrite=True)


@pytest.mark.parametrize("name", ["net.json", "net.neat.json", "net.graphml"])
def test_each_format_is_written_whole_through_a_temporary_file_of_its_own(tmp_path, monkeypatch, name):
    """A temporary file beside the target, named by the process and the call, renamed over it: two processes
    writing one path never write into the same temporary file (it was ``path + '.tmp'`` for all)."""
    import os
    seen = []
    real = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: (seen.append(os.fspath(a)), real(a, b)))
    write(random_topology(3, n_hidden=2, activations=NEAT_OK), tmp_path / name)
    write(random_topology(4, n_hidden=2, activations=NEAT_OK), tmp_path / name)   # write() replaces, as save does
    assert len(seen) == 2 and seen[0] != seen[1]
    assert all(os.path.basename(s).startswith(f"{name}.{os.getpid()}.") and s.endswith(".tmp") for s in seen)
    assert sorted(os.listdir(tmp_path)) == [name]
