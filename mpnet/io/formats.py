"""Networks in files, one format per name or extension, for ``mpnet convert`` (last stage, beside the CLI).

================  ================  =========================================================================
format            extension         what
================  ================  =========================================================================
``mpnet``         ``.json``         :meth:`Topology.save` / :meth:`Topology.load` (exact)
``neat``          ``.neat.json``    neat-python's network JSON, :mod:`mpnet.io.neat_io` (exact)
``graphml``       ``.graphml``      networkx GraphML of :meth:`Topology.to_networkx` (exact)
``torchscript``   ``.pt``           write only: a traced :class:`~mpnet.io.export.StaticNetwork`
``pt2``           ``.pt2``          write only: a ``torch.export`` program
``onnx``          ``.onnx``         write only: ONNX, float32 (needs the ``onnx`` extra)
================  ================  =========================================================================

GraphML has no null and only string node ids: attributes that are None (a free sign, an unset weight, no
Dale sign) are left out, which :meth:`Topology.from_networkx` reads back as None; int ids are written as
their digits with node attribute ``id_type="int"``. GML is not offered: it has no booleans, so a frozen
edge's ``trainable`` would come back as an int.
"""
import os
import sys
import uuid
from typing import TYPE_CHECKING, Callable, Dict, Optional, Tuple, Union

from ..errors import ArgumentError, FormatError, TopologyError, located
from ..graph.elements import NodeId
from ..graph.topology import Topology

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["FORMATS", "READABLE", "detect", "read", "write", "convert", "check_destination"]

#: Format name -> file extension; ``neat`` is checked before ``mpnet`` (".neat.json" ends in ".json").
FORMATS = {"neat": ".neat.json", "mpnet": ".json", "graphml": ".graphml", "torchscript": ".pt", "pt2": ".pt2",
           "onnx": ".onnx"}
#: Formats that hold a topology (the others hold a compiled model and are written only).
READABLE = ("mpnet", "neat", "graphml")

PathLike = Union[str, "os.PathLike[str]"]


def detect(path: PathLike, format: Optional[str] = None) -> str:
    """The format named by ``format``, or else by the extension of ``path``.

    Args:
        path: the file (only its name is read).
        format: a format name (a key of :data:`FORMATS`), or None to go by the extension.

    Returns:
        The format's name.

    Raises:
        FormatError: an unknown format name, or an extension that names none.
    """
    if format is not None:
        if format not in FORMATS:
            raise FormatError(f'Invalid format "{format}". Must be one of {list(FORMATS)}.')
        return format
    name = os.fspath(path).lower()
    for fmt, ext in FORMATS.items():
        if name.endswith(ext):
            return fmt
    raise FormatError(f"Cannot tell the format of {os.fspath(path)!r} from its extension; name it (one of "
                      f"{list(FORMATS)}, extensions {list(FORMATS.values())}).")


def _write_graphml(topology: Topology, path: PathLike) -> None:
    import networkx as nx
    graph = topology.to_networkx()
    names = {node: str(node) for node in graph.nodes}
    if len(set(names.values())) < len(names):
        clash = next(n for n in names if isinstance(n, int) and str(n) in graph)
        raise FormatError(f"Node ids {str(clash)!r} (a str) and {clash} (an int) would both be {str(clash)!r} in "
                          f"GraphML, whose ids are strings; rename one, or write mpnet JSON instead.")
    out: "nx.DiGraph[str]" = nx.DiGraph(**graph.graph)
    for node, attrs in graph.nodes(data=True):
        kept = {k: v for k, v in attrs.items() if v is not None}
        if isinstance(node, int):
            kept["id_type"] = "int"
        out.add_node(names[node], **kept)
    for u, v, attrs in graph.edges(data=True):
        out.add_edge(names[u], names[v], **{k: x for k, x in attrs.items() if x is not None})
    where = os.fspath(path)
    tmp = f"{where}.{os.getpid()}.{uuid.uuid4().hex[:12]}.tmp"   # whole or not at all; never another writer's file
    try:
        nx.write_graphml(out, tmp, infer_numeric_types=True)
        os.replace(tmp, where)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _read_graphml(path: PathLike, warn: bool) -> Topology:
    import networkx as nx
    where = os.fspath(path)
    if os.path.isdir(where):
        raise FormatError(f"{where} is a directory, not a GraphML file.")
    with open(where, "rb") as f:   # FileNotFoundError names the path
        head = f.read(4)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FormatError(f"{where} is UTF-16 text; save the GraphML as UTF-8.")
    try:
        graph = nx.read_graphml(where)
    except Exception as err:   # the XML parser and networkx raise a dozen types for a malformed file
        first = " ".join(str(err).split())[:200] or type(err).__name__
        raise FormatError(f"{where} is not a GraphML file mpnet can read ({type(err).__name__}: {first}).") from None
    ids: Dict[str, NodeId] = {}
    for n, attrs in graph.nodes(data=True):
        kind = attrs.pop("id_type", None)
        if kind not in (None, "int"):
            raise FormatError(f"{where}: node {n!r} has id_type {kind!r}; the only id_type mpnet writes is 'int' "
                              f"(absent: a string id).")
        if kind == "int":
            try:
                ids[n] = int(n)
            except ValueError:
                raise FormatError(f"{where}: node {n!r} has id_type 'int' but its id is not an integer.") from None
        else:
            ids[n] = n
    if len(set(ids.values())) < len(ids):
        seen: Dict[NodeId, str] = {}
        for n, i in ids.items():
            if i in seen:
                raise FormatError(f"{where}: nodes {seen[i]!r} and {n!r} both have id {i!r} once read; rename one.")
            seen[i] = n
    try:
        return Topology.from_networkx(nx.relabel_nodes(graph, ids, copy=True), warn=warn)
    except TopologyError as err:
        raise located(err, where) from None


def read(path: PathLike, format: Optional[str] = None, *, warn: bool = True) -> Topology:
    """Read a topology from an mpnet JSON, neat-python JSON or GraphML file.

    Args:
        path: the file.
        format: ``"mpnet"``, ``"neat"`` or ``"graphml"`` (None: from the extension, see :func:`detect`).
        warn: warn about dangling neurons, as :class:`~mpnet.Topology` does.

    Returns:
        The topology.

    Raises:
        FormatError: the format holds no topology (TorchScript, ONNX: written only), or is unknown.
    """
    fmt = detect(path, format)
    if fmt == "mpnet":
        return Topology.load(path, warn=warn)
    if fmt == "neat":
        return Topology.from_neat_json(path, warn=warn)
    if fmt == "graphml":
        return _read_graphml(path, warn)
    raise FormatError(f"{fmt} files hold a compiled model, not a topology; mpnet reads only {list(READABLE)}.")


def write(topology: Topology, path: PathLike, format: Optional[str] = None, *, seed: int = 0) -> None:
    """Write ``topology`` in the format named or implied by ``path``. For the model formats
    (``torchscript``, ``pt2``, ``onnx``) it becomes a :class:`~mpnet.Network` first: weights it leaves unset
    are drawn with ``seed``.

    Args:
        topology: what to write.
        path: the file (replaced if it exists).
        format: a key of :data:`FORMATS` (None: from the extension, see :func:`detect`).
        seed: draws the weights ``topology`` leaves unset, for the model formats.

    Raises:
        FormatError: an unknown format, or an extension that names none.
    """
    fmt = detect(path, format)
    if fmt == "mpnet":
        topology.save(path)
    elif fmt == "neat":
        topology.to_neat_json(path)
    elif fmt == "graphml":
        _write_graphml(topology, path)
    else:
        from . import export
        from ..model import Network
        net = Network(topology, seed=seed)
        writers: Dict[str, Callable[[Network, PathLike], object]] = {
            "torchscript": export.to_torchscript, "pt2": export.to_torch_export, "onnx": export.to_onnx}
        writers[fmt](net, path)


def convert(src: PathLike, dst: PathLike, *, src_format: Optional[str] = None, dst_format: Optional[str] = None,
            seed: int = 0, overwrite: bool = False) -> Tuple[str, str]:
    """Read ``src`` and write it to ``dst``; returns the two format names. ``dst`` is checked before anything is
    read: never ``src`` itself (by any name: a link, a second path), and not an existing file unless
    ``overwrite``.

    Args:
        src: the file to read (a format of :data:`READABLE`).
        dst: the file to write.
        src_format: ``src``'s format (None: from its extension).
        dst_format: ``dst``'s format (None: from its extension).
        seed: draws the weights ``src`` leaves unset, for the model formats (a note on stderr says so).
        overwrite: replace ``dst`` if it exists (``mpnet convert --force``).

    Returns:
        ``(src format, dst format)``.

    Raises:
        FormatError: an unknown or unreadable format, or a file that is not in its format.
        ArgumentError: ``dst`` is ``src``, or a directory.
        FileExistsError: ``dst`` exists and ``overwrite`` is False.
    """
    fmt_in, fmt_out = detect(src, src_format), detect(dst, dst_format)
    check_destination(src, dst, overwrite)
    topology = read(src, fmt_in, warn=False)
    unset = sum(e.weight is None for e in topology.edges.values())
    if unset and fmt_out not in READABLE:
        print(f"mpnet convert: {unset} edge(s) of {os.fspath(src)} have no weight; drawn with seed {seed}.",
              file=sys.stderr)
    write(topology, dst, fmt_out, seed=seed)
    return fmt_in, fmt_out


def check_destination(src: PathLike, dst: PathLike, overwrite: bool) -> None:
    """Raise unless ``dst`` may be written with what is read from ``src`` (see :func:`convert`)."""
    where, out = os.fspath(src), os.fspath(dst)
    if os.path.isdir(out):
        raise ArgumentError(f"OUT {out!r} is a directory; name the file to write in it.")
    if not (os.path.exists(out) or os.path.islink(out)):
        return
    if os.path.exists(where) and os.path.exists(out) and os.path.samefile(where, out):
        raise ArgumentError(f"OUT {out!r} is the file IN {where!r} itself; writing it would destroy the network "
                            f"being read. Name another OUT.")
    if not overwrite:
        raise FileExistsError(f"OUT {out!r} exists; convert replaces a file only when asked (mpnet convert --force, "
                              f"or overwrite=True).")
