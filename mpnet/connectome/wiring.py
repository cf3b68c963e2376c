"""The wiring: a nervous system's connectome as a recurrent :class:`~mpnet.Topology` (pure Python, beside topology).

The shipped files (``mpnet/data/celegans/<name>.json``, package data installed with mpnet, made by
``scripts/make_connectome.py`` from the ``cect`` package) are mpnet topology files with a ``"provenance"``
entry: which reconstruction, which paper, which cect version, what was kept. :func:`load` reads them
(``Topology.load`` refuses the extra entry). Their network, as :func:`build` declares it:

* every neuron is a hidden ``tanh`` node (a graded potential) with metadata ``cell_class`` (``"AVA"`` for
  ``AVAL``), ``type`` (sensory, interneuron, motor, other), ``transmitters`` (what it makes, per Wang et al.
  2024) and ``transmitter_class`` (:func:`~mpnet.connectome.neurons.transmitter_class`); motor neurons are
  the outputs;
* each driven neuron gets an input node ``stim:<neuron>`` with a frozen edge of weight 1 into it;
* each chemical connection ``pre -> post`` is an edge with its own weight and metadata ``synapses`` (the count)
  and ``transmitter`` (the label :func:`~mpnet.connectome.neurons.synapse_transmitter` gives the presynaptic
  neuron's transmitters; every chemical edge has one, ``"orphan"`` where none is known);
* each gap junction ``a ~ b`` is a tied symmetric coupling ``g * (h_b - h_a)`` into ``a`` and back into ``b``,
  one conductance ``g >= 0`` per pair (group ``gap:a|b``, see :mod:`mpnet.graph.ties`), metadata ``gap_junctions``.

Signs are not written in: :func:`transmitter_signs` fixes them from :data:`TRANSMITTER_SIGNS`;
:func:`tie_chemical` shares chemical weights per group (e.g. per pair of cell classes); :func:`subcircuit`
keeps a few neurons.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import replace
from typing import (Any, Callable, Dict, FrozenSet, Hashable, Iterable, List, Mapping, Optional, Sequence, Set, Tuple,
                    cast)

from ..checks import describe
from ..errors import ArgumentError, FormatError, TieError, TopologyError, UnknownNodeError, located
from ..graph.ties import Tie, TieSpec, gap_junction_ties
from ..graph.topology import Edge, Node, Topology

__all__ = ["TRANSMITTER_SIGNS", "DATA_DIR", "available", "load", "provenance", "build", "subcircuit",
           "transmitter_signs", "tie_chemical", "cell_class"]

#: The sign a chemical synapse takes from its presynaptic transmitter. Acetylcholine excites (nicotinic
#: receptors; muscarinic and the ACh-gated chloride channels of C. elegans are the known exceptions), GABA
#: inhibits (UNC-49; the excitatory EXP-1 receptor is the exception). Glutamate excites through AMPA/NMDA-type
#: receptors and inhibits through the glutamate-gated chloride channels (AVR-14, GLC-...), so it is left free;
#: so are betaine, monoamines and anything unknown (``None`` = free).
TRANSMITTER_SIGNS: Dict[str, Optional[str]] = {"Acetylcholine": "+", "GABA": "-", "Glutamate": None,
                                               "Betaine": None}

#: Where the shipped connectomes live: ``mpnet/data/celegans``, package data, so a non-editable install has them.
DATA_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "celegans")

STIM = "stim:"


def available(data_dir: Optional[str] = None) -> List[str]:
    """The names of the shipped connectomes (files ``<name>.json`` in ``data_dir``, default :data:`DATA_DIR`)."""
    folder = data_dir or DATA_DIR
    return sorted(f[:-5] for f in os.listdir(folder) if f.endswith(".json") and not f.endswith(".atlas.json")) \
        if os.path.isdir(folder) else []


def _read(name_or_path: str) -> Tuple[str, Dict[str, Any]]:
    if not isinstance(name_or_path, str):
        raise ArgumentError(f"expected name to be a connectome name {available()} or a path to a .json file "
                            f"written by scripts/make_connectome.py (got {describe(name_or_path)}).")
    path = name_or_path if name_or_path.endswith(".json") else os.path.join(DATA_DIR, f"{name_or_path}.json")
    if not os.path.exists(path):
        raise FileNotFoundError(f"No connectome file {path}. Shipped names: {available()} (in {DATA_DIR}); "
                                f"regenerate from a checkout of mpnet with `python scripts/make_connectome.py` "
                                f"(needs the 'connectome' extra).")
    with open(path) as f:
        try:
            data = json.load(f)
        except json.JSONDecodeError as err:
            raise FormatError(f"{path} is not valid JSON: {err}") from None
    if not isinstance(data, dict) or not isinstance(data.get("provenance"), dict):
        raise FormatError(f"{path}: expected an mpnet topology with a 'provenance' object (a file written by "
                          f"scripts/make_connectome.py); got {'no provenance' if isinstance(data, dict) else type(data).__name__}.")
    return path, data


def load(name: str = "cook2019_herm", *, warn: bool = False) -> Topology:
    """A shipped connectome (a name of :func:`available`, or a path to such a file) as a recurrent Topology.

    Raises:
        ArgumentError: ``name`` not a string.
        FileNotFoundError: no such file (the message lists the shipped names).
        FormatError: the file is not a connectome written by ``scripts/make_connectome.py``, or an entry of it
            is malformed (the error names the entry).

    Example:
        >>> from mpnet import connectome
        >>> topo = connectome.load()                        # the worm's wiring, installed with mpnet
        >>> topo
        Topology(inputs=85, outputs=126, hidden=176, edges=5482, recurrent, ties=1091)
        >>> topo.edges[("AVAL", "AVAR")].meta["gap_junctions"] > 0
        True
    """
    path, data = _read(name)
    try:
        return Topology.from_dict({k: v for k, v in data.items() if k != "provenance"}, warn=warn)
    except TopologyError as err:
        raise located(err, path) from None


def provenance(name: str = "cook2019_herm") -> Dict[str, Any]:
    """The provenance header of a shipped connectome (source, paper, cect version, what was kept)."""
    header: Dict[str, Any] = _read(name)[1]["provenance"]
    return header


def cell_class(neuron: str) -> str:
    """A C. elegans neuron's class: ventral cord series lose their number (``DA3 -> DA``, ``VB11 -> VB``),
    pharyngeal neurons their side (``I2L -> I2``, ``MCR -> MC``); every other neuron's class is its first three
    characters, which drops the left/right and dorsal/ventral suffixes (``AVAL -> AVA``, ``RMDDL -> RMD``,
    ``IL2VR -> IL2``) and keeps unpaired neurons whole (``AVL``, ``PQR``, ``DVA``)."""
    m = re.fullmatch(r"(AS|DA|DB|DD|VA|VB|VC|VD)\d+", neuron) or re.fullmatch(r"(I\d|M\d|MC)(L|R)?", neuron)
    return m.group(1) if m else neuron[:3]


def build(neurons: Sequence[Tuple[str, Mapping[str, Any]]],
          chemical: Iterable[Tuple[str, str, float, str]],
          gap: Iterable[Tuple[str, str, float]], *, stimulate: Sequence[str], read_out: Sequence[str],
          activation: str = "tanh") -> Topology:
    """Declare a connectome (see the module docstring for what each part becomes).

    Args:
        neurons: ``(name, metadata)`` in order.
        chemical: ``(pre, post, synapse count, transmitter)``, the transmitter a name or names joined by ``+``
            (``"Acetylcholine+Glutamate"``). A pair listed twice becomes one edge with the counts **summed** and
            the transmitters joined: list each contact once (a table that repeats a contact per transmitter of
            its neuron would double its count).
        gap: ``(a, b, junction count)``; ``(a, b)`` and ``(b, a)`` are one junction.
        stimulate: neurons that get an input node ``stim:<name>``; read_out: the output neurons.
        activation: of every neuron.

    Raises:
        UnknownNodeError: a connection, stimulus or read-out names a neuron not in ``neurons`` (named).
        TieError: a gap junction of a neuron with itself.
    """
    names = [n for n, _ in neurons]
    known = set(names)
    for what, ids in (("stimulate", stimulate), ("read_out", read_out)):
        bad = [n for n in ids if n not in known]
        if bad:
            raise UnknownNodeError(f"{what} names {bad[:5]}, which are not neurons of this connectome.")
    chem: Dict[Tuple[str, str], Dict[str, Any]] = {}
    for row, (pre, post, count, nt) in enumerate(chemical):
        for end in (pre, post):
            if end not in known:
                raise UnknownNodeError(f"Chemical connection {row} ({pre} -> {post}) names {end!r}, which is not "
                                       f"a neuron of this connectome.")
        entry = chem.setdefault((pre, post), {"synapses": 0, "transmitter": ""})
        entry["synapses"] += int(count) if float(count).is_integer() else float(count)
        entry["transmitter"] = "+".join(sorted(set(entry["transmitter"].split("+") + nt.split("+")) - {""}))
    pairs: Dict[FrozenSet[str], Tuple[str, str, float]] = {}
    for row, (a, b, count) in enumerate(gap):
        for end in (a, b):
            if end not in known:
                raise UnknownNodeError(f"Gap junction {row} ({a} ~ {b}) names {end!r}, which is not a neuron of "
                                       f"this connectome.")
        junction = frozenset((a, b))
        first = pairs.get(junction, (a, b, count))   # both directions listed: one junction, the larger count
        pairs[junction] = (first[0], first[1], max(count, first[2]))
    junction_terms, ties = gap_junction_ties([(a, b) for a, b, _ in pairs.values()])
    # keyed by the neuron names given (gap_junction_ties types its keys as any Hashable)
    terms = cast(Dict[Tuple[str, str], List[Tuple[str, float]]], junction_terms)
    gap_count: Dict[Tuple[str, str], float] = {}
    for a, b, count in pairs.values():
        gap_count[(a, b)] = gap_count[(b, a)] = int(count) if float(count).is_integer() else float(count)
    out = set(read_out)
    nodes = [Node(f"{STIM}{n}", "input", "identity") for n in stimulate]
    nodes += [Node(n, "hidden", activation, meta=dict(meta)) for n, meta in neurons if n not in out]
    nodes += [Node(n, "output", activation, meta=dict(meta)) for n, meta in neurons if n in out]
    edges = [Edge(f"{STIM}{n}", n, 1.0, trainable=False) for n in stimulate]
    for key in list(dict.fromkeys(list(chem) + list(terms))):
        meta: Dict[str, Any] = dict(chem.get(key, {}))
        if key in gap_count:
            meta["gap_junctions"] = gap_count[key]
        shared = terms.get(key, [])
        if key in chem:
            edges.append(Edge(*key, tie=((None, 1.0), *shared) if shared else None, meta=meta))
        else:
            edges.append(Edge(*key, tie=tuple(shared), meta=meta or None))
    return Topology(nodes, edges, recurrent=True, ties=ties, warn=False)


def _rebuild(topo: Topology, nodes: Iterable[Node], edges: Iterable[Edge], ties: Iterable[Tie]) -> Topology:
    return Topology(list(nodes), list(edges), recurrent=topo.network_type, ties=list(ties), warn=False)


def subcircuit(topology: Topology, neurons: Iterable[str], *, inputs: Optional[Sequence[str]] = None,
               outputs: Optional[Sequence[str]] = None) -> Topology:
    """The connectome restricted to ``neurons``: the connections among them, their gap junctions (a junction
    to a neuron left out is dropped with its self-term), stimulus inputs for ``inputs`` and ``outputs`` as the
    read-out (default: the stimulated and read-out neurons of ``topology`` that are kept).

    Raises:
        UnknownNodeError: a neuron, input or output not in the topology.
        ArgumentError: ``topology`` not a Topology; ``neurons``, ``inputs`` or ``outputs`` a string (it would be read
            letter by letter) or not a list; an output named twice.
        ValueError: nothing to stimulate or to read out among the kept neurons.
    """
    if not isinstance(topology, Topology):
        raise ArgumentError(f"subcircuit: expected topology to be a Topology (got {describe(topology)}); load one "
                            f"with mpnet.connectome.load().")
    keep = list(dict.fromkeys(_names(neurons, "neurons")))
    inputs, outputs = (None if v is None else _names(v, k) for k, v in (("inputs", inputs), ("outputs", outputs)))
    for name, listed in (("inputs", inputs or []), ("outputs", outputs or [])):
        twice = sorted({n for n in listed if list(listed).count(n) > 1})
        if twice:
            raise ArgumentError(f"subcircuit: {name} names {twice[:5]} more than once; each is one column.")
    nodes = topology.nodes
    missing = [n for n in keep if n not in nodes or nodes[n].role == "input"]
    if missing:
        raise UnknownNodeError(f"subcircuit: {missing[:5]} are not neurons of the topology.")
    kept = set(keep)
    stimulated = [e.dst for e in topology.edges.values() if nodes[e.src].role == "input"]
    inputs = [n for n in stimulated if n in kept] if inputs is None else list(inputs)
    outputs = [n for n in keep if nodes[n].role == "output"] if outputs is None else list(outputs)
    for what, ids in (("inputs", inputs), ("outputs", outputs)):
        bad = [n for n in ids if n not in kept]
        if bad:
            raise UnknownNodeError(f"subcircuit: {what} {bad[:5]} are not among the kept neurons.")
        if not ids:
            raise ValueError(f"subcircuit: no {what} among the kept neurons; pass {what}=[...].")
    gap_kept = {name for name in topology.ties if name.startswith("gap:")
                and set(name[4:].split("|")) <= kept}
    out = set(outputs)
    new_nodes = [Node(f"{STIM}{n}", "input", "identity") for n in inputs]
    new_nodes += [replace(nodes[n], role="hidden") for n in keep if n not in out]
    new_nodes += [replace(nodes[n], role="output") for n in keep if n in out]
    new_edges = [Edge(f"{STIM}{n}", n, 1.0, trainable=False) for n in inputs]
    used: Set[str] = set()
    for e in topology.edges.values():
        if e.src not in kept or e.dst not in kept:
            continue
        terms = [(g, c) for g, c in _terms(e.tie) if g is None or not g.startswith("gap:") or g in gap_kept]
        if not terms:
            continue
        used.update(g for g, _ in terms if g is not None)
        new_edges.append(replace(e, tie=_as_tie(terms)))
    return _rebuild(topology, new_nodes, new_edges, [t for n, t in topology.ties.items() if n in used])


def _names(value: Any, name: str) -> List[str]:
    """``value`` (a list of neuron names) as a list, or an ArgumentError: ``"AVAL"`` is one neuron, not four."""
    if isinstance(value, (str, bytes)):
        raise ArgumentError(f"subcircuit: expected {name} to be a list of neuron names (got the string "
                            f"{value!r:.40}, which would be read letter by letter); write {name}=[{value!r:.40}].")
    if isinstance(value, Mapping) or not isinstance(value, Iterable):
        raise ArgumentError(f"subcircuit: expected {name} to be a list of neuron names (got {describe(value)}).")
    return list(value)


def _as_tie(terms: Sequence[Tuple[Optional[str], float]]) -> TieSpec:
    """The simplest tie spelling of ``terms``: None (own only), a group name (one group, +1) or the terms."""
    if terms == [(None, 1.0)]:
        return None
    if len(terms) == 1 and terms[0][0] is not None and terms[0][1] == 1.0:
        return terms[0][0]
    return tuple(terms)


def _terms(tie: TieSpec) -> List[Tuple[Optional[str], float]]:
    if tie is None:
        return [(None, 1.0)]
    if isinstance(tie, str):
        return [(tie, 1.0)]
    return list(tie)


def transmitter_signs(topology: Topology, mapping: Mapping[str, Optional[str]] = TRANSMITTER_SIGNS, *,
                      free: Iterable[Tuple[str, str]] = ()) -> Topology:
    """Fix the sign of each chemical edge's own weight from its ``transmitter`` metadata (a transmitter not in
    ``mapping``, or a mix of transmitters that disagree, stays free); the edges in ``free`` stay free too.

    Raises:
        UnknownNodeError: an edge of ``free`` is not in the topology.
    """
    free_edges: Set[Tuple[str, ...]] = {tuple(k) for k in free}
    bad = [k for k in free_edges if k not in topology.edges]
    if bad:
        raise UnknownNodeError(f"transmitter_signs: free edges {bad[:5]} are not in the topology.")
    edges = []
    for key, e in topology.edges.items():
        nt = (e.meta or {}).get("transmitter")
        own = any(g is None for g, _ in _terms(e.tie))
        if nt is None or not own or key in free_edges:
            edges.append(e)
            continue
        signs = {mapping.get(t) for t in nt.split("+")}
        sign = signs.pop() if len(signs) == 1 else None
        w = e.weight
        if sign is not None and w is not None and w * (1 if sign == "+" else -1) < 0:
            w = -w   # a hand-set weight of the wrong sign keeps its magnitude
        edges.append(replace(e, sign=sign, weight=w))
    return _rebuild(topology, topology.nodes.values(), edges, topology.ties.values())


def tie_chemical(topology: Topology, key: Callable[[Edge, Node, Node], Optional[Hashable]], *,
                 prefix: str = "chem:") -> Topology:
    """Share chemical weights: every chemical edge (one with a ``transmitter``) for which ``key(edge, pre, post)``
    is not ``None`` loses its own parameter to the group ``f"{prefix}{key}"`` (the group takes the edges'
    common fixed sign, or stays free when they disagree). E.g. flyvis' sharing per pair of cell types:
    ``tie_chemical(topo, lambda e, pre, post: (pre.meta["cell_class"], post.meta["cell_class"]))``.

    Raises:
        TieError: a tied edge was frozen (a frozen weight cannot be shared).
    """
    nodes = topology.nodes
    group_signs: Dict[str, Set[Optional[str]]] = {}
    edges = []
    for e in topology.edges.values():
        k = key(e, nodes[e.src], nodes[e.dst]) if (e.meta or {}).get("transmitter") else None
        terms = _terms(e.tie)
        if k is None or not any(g is None for g, _ in terms):
            edges.append(e)
            continue
        if not e.trainable:
            raise TieError(f"tie_chemical: edge {e.src!r} -> {e.dst!r} is frozen; a frozen weight cannot be shared.")
        name = f"{prefix}{k}"
        group_signs.setdefault(name, set()).add(e.sign)
        new = [(name, c) if g is None else (g, c) for g, c in terms]
        edges.append(replace(e, sign=None, weight=None, tie=_as_tie(new)))
    ties = list(topology.ties.values()) + [Tie(n, s.pop() if len(s) == 1 else None) for n, s in group_signs.items()]
    return _rebuild(topology, nodes.values(), edges, ties)
