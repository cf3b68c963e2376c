"""Neurons of a connectome by name, class, type or transmitter; their transmitter identity; the wiring's counts;
left/right ties; initial weights from synapse and junction counts (pure Python, beside :mod:`.wiring`).

A neuron's ``transmitters`` (node metadata) are what it makes, per Wang et al. 2024, as cect names them
(``"Acetylcholine"``, ``"Dopamine"``, ``"Unknown_Orphan_Neurotransmitter"``, ...). :func:`transmitter_class`
sorts them into ``"classical"`` (acetylcholine, glutamate or GABA), ``"monoamine"`` (dopamine, serotonin,
octopamine, tyramine and the unnamed monoamine of Wang's table), ``"betaine"`` and ``"orphan"`` (none known made:
Wang's "unknown (orphan)", uptake only, or nothing listed). :func:`synapse_transmitter` is the label a chemical
edge gets from its presynaptic neuron: the classical transmitters and betaine joined by ``+``; for a neuron
with none of those, its monoamines, or ``"orphan"`` (:data:`~mpnet.connectome.wiring.TRANSMITTER_SIGNS` fixes
only acetylcholine and GABA; every other label leaves the sign free).
"""
from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import replace
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from ..checks import describe
from ..errors import ArgumentError, UnknownNodeError
from ..graph.ties import Tie, TieSpec
from ..graph.topology import Edge, Topology
from .wiring import _as_tie, _rebuild, _terms, tie_chemical

__all__ = ["CLASSICAL", "MONOAMINES", "transmitter_class", "synapse_transmitter", "wiring_counts", "select",
           "mirror", "tie_left_right", "count_weights"]

CLASSICAL = ("Acetylcholine", "Glutamate", "GABA")
BETAINE = "Betaine"
MONOAMINES = ("Dopamine", "Serotonin", "Octopamine", "Tyramine", "5-HTP", "5-HTP_synthesis_5-HT_uptake",
              "Unknown_Monoaminergic_Neurotransmitter", "Possible_PEOH")


def transmitter_class(transmitters: Sequence[str]) -> str:
    """``"classical"``, ``"monoamine"``, ``"betaine"`` or ``"orphan"``: the first that a neuron making
    ``transmitters`` fits (``["Glutamate", "Tyramine"]`` is classical; ``["Dopamine"]`` a monoamine).

    Args:
        transmitters: what the neuron makes, as cect names it (a node's ``meta["transmitters"]``).
    """
    if any(t in CLASSICAL for t in transmitters):
        return "classical"
    if any(t in MONOAMINES for t in transmitters):
        return "monoamine"
    return "betaine" if BETAINE in transmitters else "orphan"


def synapse_transmitter(transmitters: Sequence[str]) -> str:
    """The ``transmitter`` label of a chemical synapse made by a neuron making ``transmitters`` (module docs).

    Args:
        transmitters: what the presynaptic neuron makes, as cect names it.
    """
    fast = sorted(t for t in set(transmitters) if t in CLASSICAL or t == BETAINE)
    amines = sorted(t for t in set(transmitters) if t in MONOAMINES)
    return "+".join(fast or amines) or "orphan"


def _neurons(topology: Topology) -> List[str]:
    return [str(n) for n, node in topology.nodes.items() if node.role != "input"]


def wiring_counts(topology: Topology) -> Dict[str, Any]:
    """What a connectome topology holds, counted from its edges and ties (a file's provenance quotes these):
    neurons, chemical edges (those with ``synapses``), autapses, synapses, gap-junction pairs and junctions, and
    edges, synapses and neurons by transmitter label and class.

    Args:
        topology: a connectome topology (:func:`~mpnet.connectome.load`, :func:`~mpnet.connectome.build`).
    """
    edges = topology.edges
    chem = [(e, dict(e.meta or {})) for e in edges.values() if (e.meta or {}).get("synapses") is not None]
    pairs = [name[4:].split("|") for name in topology.ties if name.startswith("gap:")]
    junctions = [(edges[(a, b)].meta or {}).get("gap_junctions", 0) for a, b in pairs]
    by_label: Counter[str] = Counter(str(m.get("transmitter")) for _, m in chem)
    syn_by_label: Counter[str] = Counter()
    for _, m in chem:
        syn_by_label[str(m.get("transmitter"))] += m["synapses"]
    classes = Counter(str((topology.nodes[n].meta or {}).get("transmitter_class")) for n in _neurons(topology))
    return {"neurons": len(_neurons(topology)), "chemical_edges": len(chem),
            "autapses": sum(1 for e, _ in chem if e.src == e.dst), "synapses": sum(m["synapses"] for _, m in chem),
            "gap_pairs": len(pairs), "gap_junctions": sum(junctions),
            "edges_by_transmitter": dict(sorted(by_label.items())),
            "synapses_by_transmitter": dict(sorted(syn_by_label.items())),
            "neurons_by_transmitter_class": dict(sorted(classes.items()))}


def _listed(value: Any, name: str) -> Optional[List[str]]:
    if value is None:
        return None
    if isinstance(value, (str, bytes)):
        raise ArgumentError(f"select: expected {name} to be a list (got the string {value!r:.40}, which would be "
                            f"read letter by letter); write {name}=[{value!r:.40}].")
    if isinstance(value, Mapping) or not isinstance(value, Iterable):
        raise ArgumentError(f"select: expected {name} to be a list of names (got {describe(value)}).")
    return [str(v) for v in value]


def select(topology: Topology, *, names: Optional[Iterable[str]] = None, classes: Optional[Iterable[str]] = None,
           types: Optional[Iterable[str]] = None, transmitter_classes: Optional[Iterable[str]] = None) -> List[str]:
    """The neurons (not stimulus inputs) that meet every criterion given, in the topology's order: one of
    ``names``, of ``classes`` (``meta["cell_class"]``, e.g. ``"AVA"``), of ``types`` (``meta["type"]``: sensory,
    interneuron, motor, other), of ``transmitter_classes`` (classical, betaine, monoamine, orphan). Pass the
    result to :func:`~mpnet.connectome.subcircuit` for a smaller network.

    Args:
        topology: a connectome topology.
        names, classes, types, transmitter_classes: lists of allowed values; ``None`` does not filter.

    Raises:
        ArgumentError: a criterion is a string or not a list; no criterion given.
        UnknownNodeError: a name, class, type or transmitter class that no neuron has (named, with those known).
    """
    if not isinstance(topology, Topology):
        raise ArgumentError(f"select: expected topology to be a Topology (got {describe(topology)}); load one with "
                            f"mpnet.connectome.load().")
    wanted = {"names": _listed(names, "names"), "classes": _listed(classes, "classes"),
              "types": _listed(types, "types"),
              "transmitter_classes": _listed(transmitter_classes, "transmitter_classes")}
    if all(v is None for v in wanted.values()):
        raise ArgumentError("select: give names=, classes=, types= or transmitter_classes= (got none).")
    nodes = topology.nodes
    neurons = _neurons(topology)
    field = {"names": None, "classes": "cell_class", "types": "type", "transmitter_classes": "transmitter_class"}

    def key(what: str, n: str) -> str:
        name = field[what]
        return n if name is None else str((nodes[n].meta or {}).get(name))
    chosen = neurons
    for what, values in wanted.items():
        if values is None:
            continue
        have = {key(what, n) for n in neurons}
        unknown = [v for v in values if v not in have]
        if unknown:
            known = sorted(have - {"None"})
            raise UnknownNodeError(f"select: {what} {unknown[:5]} match no neuron of the topology (known: "
                                   f"{known[:12]}{' ...' if len(known) > 12 else ''}).")
        chosen = [n for n in chosen if key(what, n) in set(values)]
    return chosen


def mirror(topology: Topology) -> Dict[str, str]:
    """Each neuron's left/right homologue: ``AVAL <-> AVAR``, ``RMDDL <-> RMDDR``, ``I1L <-> I1R``: a name ending
    in L or R whose other-side name is a neuron of the same ``cell_class``. Unpaired neurons are left out.

    Args:
        topology: a connectome topology.
    """
    nodes = topology.nodes
    out: Dict[str, str] = {}
    for n in _neurons(topology):
        if n[-1:] in ("L", "R"):
            other = n[:-1] + ("R" if n[-1] == "L" else "L")
            if other in nodes and nodes[other].role != "input" and \
                    (nodes[n].meta or {}).get("cell_class") == (nodes[other].meta or {}).get("cell_class"):
                out[n] = other
    return out


def tie_left_right(topology: Topology, *, gap: bool = True, prefix: str = "lr:") -> Topology:
    """Share each chemical weight with its left/right mirror image (``AVAL -> AVBL`` with ``AVAR -> AVBR``, group
    ``lr:AVAL>AVBL``) and, with ``gap``, each gap-junction conductance with its mirror's (``gap:AVAL|PVCL`` with
    ``gap:AVAR|PVCR``: the edges of the second take the first's group). An edge or junction whose mirror image is
    itself or absent from the wiring keeps its own parameter.

    Args:
        topology: a connectome topology (signs fixed or not: a group takes its edges' common sign).
        gap: tie the gap-junction conductances too.
        prefix: the chemical groups' name prefix.

    Raises:
        TieError: a tied edge was frozen.
    """
    side = mirror(topology)

    def flip(n: str) -> str:
        return side.get(n, n)
    edges = topology.edges

    def key(e: Edge, *_: Any) -> Optional[str]:
        other = (flip(str(e.src)), flip(str(e.dst)))
        if other == (e.src, e.dst) or other not in edges or not (edges[other].meta or {}).get("transmitter"):
            return None
        a, b = min((str(e.src), str(e.dst)), other)
        return f"{a}>{b}"

    tied = tie_chemical(topology, key, prefix=prefix)
    if not gap:
        return tied
    rename: Dict[str, str] = {}
    for name in tied.ties:
        if name.startswith("gap:"):
            a, b = name[4:].split("|")
            twins = [t for t in (f"gap:{flip(a)}|{flip(b)}", f"gap:{flip(b)}|{flip(a)}") if t in tied.ties]
            if twins and twins[0] != name:
                rename[name] = min(name, twins[0])
    new_edges = []
    for e in tied.edges.values():
        terms: Dict[Optional[str], float] = {}
        for g, c in _terms(e.tie):
            g = rename.get(g, g) if g is not None else None
            terms[g] = terms.get(g, 0.0) + c
        spec: TieSpec = _as_tie([(g, c) for g, c in terms.items() if c != 0.0])
        new_edges.append(replace(e, tie=spec) if spec != e.tie else e)
    kept: List[Tie] = [t for n, t in tied.ties.items() if n not in rename or rename[n] == n]
    return _rebuild(tied, tied.nodes.values(), new_edges, kept)


_TRANSFORMS = {"linear": float, "log1p": math.log1p, "sqrt": math.sqrt}


def count_weights(topology: Topology, *, chemical: float = 0.5, gap: float = 0.05, transform: str = "log1p",
                  fan_in: bool = True, seed: int = 0) -> Topology:
    """Initial weights from the anatomy: each chemical edge's own weight ``chemical * f(synapses)`` (divided by
    the square root of its target's chemical in-edges if ``fan_in``), each gap-junction conductance
    ``gap * f(junctions)``; ``f`` is ``transform`` (linear, log1p, sqrt). The sign is the edge's fixed sign, or,
    where the sign is free, drawn at random (``seed``) so the start takes no side. Groups of
    :func:`~mpnet.connectome.tie_chemical` and :func:`tie_left_right` other than gap junctions keep their values.

    Args:
        topology: a connectome topology (edges with ``synapses``, gap groups ``gap:a|b``).
        chemical: the scale of chemical weights; gap: of gap conductances.
        transform: ``f``, how a count becomes a magnitude.
        fan_in: divide each chemical weight by the square root of its target's chemical in-edges.
        seed: for the signs drawn where an edge's sign is free.

    Raises:
        ArgumentError: a scale not a finite number > 0, an unknown transform, a seed not an int.
    """
    for name, value in (("chemical", chemical), ("gap", gap)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
            raise ArgumentError(f"count_weights: expected {name} to be a finite number > 0 (got {describe(value)}).")
    if transform not in _TRANSFORMS:
        raise ArgumentError(f"count_weights: unknown transform {transform!r}; expected one of {sorted(_TRANSFORMS)}.")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ArgumentError(f"count_weights: expected seed to be an int (got {describe(seed)}).")
    f = _TRANSFORMS[transform]
    rng = random.Random(seed)
    chem = [e for e in topology.edges.values() if (e.meta or {}).get("synapses") is not None
            and any(g is None for g, _ in _terms(e.tie)) and e.trainable]
    fan: Counter[Any] = Counter(e.dst for e in chem)
    weights: Dict[Tuple[Any, Any], float] = {}
    for e in chem:
        sign = {"+": 1.0, "-": -1.0}.get(e.sign or "", 0.0) or rng.choice((1.0, -1.0))
        count = float(dict(e.meta or {})["synapses"])
        weights[(e.src, e.dst)] = sign * chemical * f(count) / (math.sqrt(fan[e.dst]) if fan_in else 1.0)
    ties = {}
    for name, t in topology.ties.items():
        if name.startswith("gap:") and t.trainable:
            a, b = name[4:].split("|")
            ties[name] = gap * f((topology.edges[(a, b)].meta or {}).get("gap_junctions", 1))
    return topology.with_weights(weights, ties=ties)
