"""Shared parameters: groups of edges whose weights come from one learnable number (pure Python, beside topology).

An edge's weight is, in general, a sum of terms over learnable parameters::

    w_e = c_own * own_e + sum_k c_k * group_k

* ``tie=None`` (the default): the edge has its own parameter, ``w_e = own_e`` (its ``sign``, ``weight`` and
  ``trainable`` describe that parameter), as in every untied network.
* ``tie="g"``: ``w_e = group_g``; every edge tied to ``"g"`` has the same weight, and training moves them
  together (the gradients of its edges are summed into the one parameter). The edge has no parameter of its
  own, so its ``sign`` and ``weight`` must be unset: the :class:`Tie` declares them for the group.
* ``tie=((None, 1.0), ("g", -1.0), ...)``: a sum of terms ``(group, coefficient)``; the group ``None`` is the
  edge's own parameter (described by the edge's ``sign``, ``weight``, ``trainable`` as usual).

Terms make gap junctions expressible: an electrical coupling ``g * (h_j - h_i)`` into neuron ``i`` (and
``g * (h_i - h_j)`` into ``j``) is the group ``g`` with coefficient +1 on the edges ``j -> i`` and ``i -> j``
and -1 on the self-loops ``i -> i`` and ``j -> j``; a chemical synapse on the same pair adds the edge's own
term. :func:`gap_junction_ties` writes these terms for a list of junctions.

A :class:`Tie` fixes its group's sign (``"+"``: the group's value is >= 0, whatever the coefficients), initial
value and whether it trains. Signs are constraints on parameters, not on edges: an edge made of several terms
has no sign of its own.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, Hashable, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from ..errors import DaleConflictError, TieError
from .validate import check_finite, check_sign, fmt_node, is_number

if TYPE_CHECKING:   # elements imports this module
    from .elements import Edge, EdgeKey, Node, NodeId

__all__ = ["Tie", "TieSpec", "normalize_tie", "own_parameter", "check_ties", "gap_junction_ties"]

#: What an edge's ``tie`` may be: ``None``, a group name, or terms ``((group or None, coefficient), ...)``.
TieSpec = Union[None, str, Tuple[Tuple[Optional[str], float], ...]]


@dataclass(frozen=True)
class Tie:
    """A learnable parameter shared by the edges that name it in their ``tie``.

    Args:
        name: the group's name, unique in its topology.
        sign: ``"+"`` (the value is >= 0), ``"-"`` (<= 0) or ``None`` (free).
        weight: the initial value, used exactly; ``None`` draws it (as an edge's weight is drawn).
        trainable: ``False`` keeps the value fixed at ``weight``.
    """
    name: str
    sign: Optional[str] = None
    weight: Optional[float] = None
    trainable: bool = True

    def to_dict(self) -> Dict[str, Any]:
        """``{"name", "weight"[, "sign", "trainable"]}`` (the JSON entry)."""
        entry: Dict[str, Any] = {"name": self.name, "weight": self.weight}
        if self.sign is not None:
            entry["sign"] = self.sign
        if not self.trainable:
            entry["trainable"] = False
        return entry

    @classmethod
    def from_mapping(cls, item: Mapping[str, Any]) -> "Tie":
        """A tie from ``{"name"[, "sign", "weight", "trainable"]}``.

        Raises:
            TieError: a key is missing or unknown.
        """
        if not isinstance(item, Mapping):
            raise TieError(f"Tie entry {item!r} must be an object with 'name' and optionally 'sign', 'weight', "
                           f"'trainable'.")
        unknown = set(item) - {"name", "sign", "weight", "trainable"}
        if unknown or "name" not in item:
            raise TieError(f"Tie entry {dict(item)!r}: needs 'name' and may have 'sign', 'weight', 'trainable' "
                           f"(unknown keys {sorted(map(str, unknown))}).")
        return cls(item["name"], item.get("sign"), item.get("weight"), item.get("trainable", True))


def normalize_tie(tie: Any, where: str) -> TieSpec:
    """``tie`` in its canonical form: ``None``, a group name, or a tuple of ``(group or None, float)`` terms
    (a JSON list of pairs is accepted; a single term of coefficient 1 becomes ``None`` or the group's name).

    Args:
        tie: what the user or the file gave.
        where: names the edge in an error (``"Edge 'a' -> 'b'"``).

    Raises:
        TieError: not one of these forms, a non-finite or zero coefficient, a group twice, or an empty list.
    """
    if tie is None or isinstance(tie, str):
        return tie
    if not isinstance(tie, (list, tuple)) or not tie:
        raise TieError(f"{where} has tie={tie!r}; expected None, a group name, or a non-empty list of "
                       f"(group or None, coefficient) terms.")
    terms, seen = [], set()
    for term in tie:
        if (not isinstance(term, (list, tuple)) or len(term) != 2 or not (term[0] is None or isinstance(term[0], str))
                or isinstance(term[1], bool) or not isinstance(term[1], (int, float))):
            raise TieError(f"{where} has tie term {term!r}; expected (group name or None, coefficient), e.g. "
                           f"('gap:AVAL|AVAR', -1.0).")
        group, coef = term[0], float(term[1]) if is_number(term[1]) and _fits_float(term[1]) else math.inf
        if not math.isfinite(coef) or coef == 0.0:
            shown = repr(coef) if math.isfinite(coef) or not isinstance(term[1], int) else "an int beyond floats"
            raise TieError(f"{where} has tie term {term!r:.60} with coefficient {shown}; expected a finite, "
                           f"non-zero number.")
        if group in seen:
            raise TieError(f"{where} names group {group!r} twice in its tie; merge the two terms.")
        seen.add(group)
        terms.append((group, coef))
    if len(terms) == 1 and terms[0][1] == 1.0:   # one spelling per meaning: (None, 1) is None, (g, 1) is g
        return terms[0][0]
    return tuple(terms)


def _fits_float(value: Any) -> bool:
    try:
        float(value)
    except OverflowError:   # an int beyond the float range
        return False
    return True


def own_parameter(tie: TieSpec) -> bool:
    """Whether an edge with this (normalized) tie has a parameter of its own.

    Args:
        tie: a tie as :func:`normalize_tie` returns it.
    """
    return tie is None or (not isinstance(tie, str) and any(g is None for g, _ in tie))


def groups_of(tie: TieSpec) -> List[Tuple[str, float]]:
    """The ``(group, coefficient)`` terms of shared groups (the own term left out)."""
    if tie is None:
        return []
    if isinstance(tie, str):
        return [(tie, 1.0)]
    return [(g, c) for g, c in tie if g is not None]


def check_ties(ties: Iterable[Tie], edges: Mapping[EdgeKey, Edge], nodes: Mapping[NodeId, Node]) -> Dict[str, Tie]:
    """Check the ties of a topology against its (already checked) edges; return ``{name: Tie}`` in order.

    Args:
        ties: the declared groups.
        edges: ``{(src, dst): Edge}``, ties normalized.
        nodes: ``{id: Node}`` (for Dale's law).

    Raises:
        TieError: a malformed or repeated tie, a group no edge uses, an edge naming an undeclared group, a
            tied edge that sets its own sign or weight, or freezes a parameter it does not have.
        DaleConflictError: a tie from a Dale neuron whose group's sign differs from the neuron's.
    """
    table: Dict[str, Tie] = {}
    for tie in ties:
        if not isinstance(tie, Tie):
            raise TieError(f"Expected Tie objects in ties (got {type(tie).__name__}: {tie!r:.60}).")
        if not isinstance(tie.name, str) or not tie.name:
            raise TieError(f"Tie name {tie.name!r}; expected a non-empty string.")
        if tie.name in table:
            raise TieError(f"Tie {tie.name!r} is declared twice; tie names must be unique.")
        check_sign(tie.sign, f"Tie {tie.name!r}")
        check_finite(tie.weight, f"The weight of tie {tie.name!r}")   # before float(): True and "0.5" are no weights
        weight = None if tie.weight is None else float(tie.weight)
        if tie.sign is not None and weight is not None and weight * (1 if tie.sign == "+" else -1) < 0:
            raise TieError(f"Tie {tie.name!r} has sign {tie.sign!r} but weight {weight}; give a weight of that "
                           f"sign (or 0), or leave it unset.")
        if not isinstance(tie.trainable, bool):
            raise TieError(f"Tie {tie.name!r} has trainable={tie.trainable!r}; expected True or False.")
        if not tie.trainable and weight is None:
            raise TieError(f"Tie {tie.name!r} is frozen (trainable=False) but has no weight; give it one.")
        table[tie.name] = tie
    used = set()
    for edge in edges.values():
        if edge.tie is None:
            continue
        name = f"Edge {fmt_node(edge.src)} -> {fmt_node(edge.dst)}"
        for group, _ in groups_of(edge.tie):
            if group not in table:
                raise TieError(f"{name} is tied to group {group!r}, which is not declared. Declare it: "
                               f"Topology(..., ties=[Tie({group!r})]).")
            used.add(group)
        if not own_parameter(edge.tie) and (edge.sign is not None or edge.weight is not None
                                            or not edge.trainable):
            raise TieError(f"{name} is tied to {edge.tie!r} and has no parameter of its own, but sets "
                           f"sign={edge.sign!r}, weight={edge.weight!r}, trainable={edge.trainable!r}. Set these "
                           f"on the Tie, or add the own term (None, 1.0) to the edge's tie.")
        dale = nodes[edge.src].dale
        if dale is not None:
            groups = groups_of(edge.tie)
            if len(groups) != 1 or groups[0][1] <= 0 or table[groups[0][0]].sign != dale:
                raise DaleConflictError(f"{name} leaves Dale neuron {fmt_node(edge.src)} (sign {dale!r}) but is "
                                        f"tied to {edge.tie!r}; an edge from a Dale neuron may only be tied to one "
                                        f"group of sign {dale!r} with a positive coefficient.")
    unused = [n for n in table if n not in used]
    if unused:
        raise TieError(f"Ties {unused[:5]} are declared but no edge uses them; remove them or tie edges to them.")
    return table


def gap_junction_ties(pairs: Iterable[Tuple[Hashable, Hashable]], *, prefix: str = "gap:", sign: Optional[str] = "+",
                      weights: Optional[Mapping[Tuple[Hashable, Hashable], float]] = None
                      ) -> Tuple[Dict[Tuple[Hashable, Hashable], List[Tuple[str, float]]], List[Tie]]:
    """The tie terms of symmetric electrical couplings ``g_ab * (h_b - h_a)`` into ``a`` and ``g_ab * (h_a - h_b)``
    into ``b``, one group per unordered pair.

    Args:
        pairs: ``(a, b)`` with ``a != b``; ``(a, b)`` and ``(b, a)`` are the same junction (given once or twice).
        prefix: the groups are named ``f"{prefix}{a}|{b}"`` with ``a, b`` in order of first appearance.
        sign: of every conductance (``"+"``: ``g >= 0``, a conductance).
        weights: initial conductances per pair (either order); unset ones are drawn.

    Returns:
        ``({(src, dst): [(group, coefficient), ...]}, [Tie, ...])``: the terms to add to each edge's tie (the
        edges ``a -> b``, ``b -> a`` with +1, ``a -> a``, ``b -> b`` with -1, summed over junctions) and the
        ties to declare.

    Raises:
        TieError: a pair that is not two neurons, or joins a neuron to itself; a weight that is not a finite number
            or names no junction of ``pairs``; a sign other than "+", "-" or None.
    """
    terms: Dict[Tuple[Hashable, Hashable], List[Tuple[str, float]]] = {}
    ties: List[Tie] = []
    seen = set()
    weights = dict(weights or {})
    check_sign(sign, "gap_junction_ties")
    if isinstance(pairs, (str, bytes)) or not isinstance(pairs, Iterable):
        raise TieError(f"Expected pairs to be a list of (a, b) neuron pairs (got {pairs!r:.60}).")
    pairs = list(pairs)
    for pair in pairs:
        if isinstance(pair, (str, bytes)) or not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise TieError(f"Gap junction {pair!r:.60} is not a pair (a, b) of neurons; give each junction as a "
                           f"2-tuple.")
    junctions = {frozenset(p) for p in pairs}
    for key, given in weights.items():
        if not isinstance(key, tuple) or len(key) != 2 or frozenset(key) not in junctions:
            raise TieError(f"gap_junction_ties: weights names {key!r:.60}, which is not a junction of pairs; give "
                           f"weights keyed by (a, b) pairs listed in pairs.")
        check_finite(given, f"The weight of gap junction {fmt_node(key[0])} <-> {fmt_node(key[1])}")
    for a, b in pairs:
        if a == b:
            raise TieError(f"Gap junction {fmt_node(a)} <-> {fmt_node(b)} joins a neuron to itself; it would "
                           f"carry no current. Drop it.")
        if frozenset((a, b)) in seen:
            continue
        seen.add(frozenset((a, b)))
        group = f"{prefix}{a}|{b}"
        w = weights.get((a, b), weights.get((b, a)))
        ties.append(Tie(group, sign=sign, weight=w))
        for key, coef in (((b, a), 1.0), ((a, b), 1.0), ((a, a), -1.0), ((b, b), -1.0)):
            terms.setdefault(key, []).append((group, coef))
    return terms, ties


def tie_signature(tie: TieSpec) -> Optional[Union[str, List[List[Any]]]]:
    """The JSON form of a tie: ``None``, the group name, or a list of ``[group or null, coefficient]``."""
    if tie is None or isinstance(tie, str):
        return tie
    return [[g, c] for g, c in tie]


def as_terms(tie: TieSpec) -> Sequence[Tuple[Optional[str], float]]:
    """Every term of an edge's weight, the own parameter as group ``None``."""
    if tie is None:
        return ((None, 1.0),)
    if isinstance(tie, str):
        return ((tie, 1.0),)
    return tie
