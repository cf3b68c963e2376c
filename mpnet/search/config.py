"""Every knob of the NEAT algorithm in one typed config (search stage; pure Python, no torch).

Defaults follow Stanley & Miikkulainen, "Evolving Neural Networks through Augmenting Topologies" (2002),
section 4.1 and its XOR experiment, and where the paper is silent, Stanley's NEAT C++ release (its
``p2nv.ne`` / ``xor.ne`` parameter files); a comment names the source of each number.

Units: genome weights and biases are in NEAT's units. The paper's neurons compute the steepened sigmoid
``1 / (1 + exp(-4.9 z))``; mpnet's ``sigmoid`` has slope 1 at the origin of ``z``, so a genome becomes a
topology with every weight into a neuron, and its bias, multiplied by ``activation_gain[activation]``
(4.9 for sigmoid). The topology then computes exactly the paper's network, and every magnitude below
(initial weights, perturbation power, the cap at 8, the distance coefficient on weights) keeps the meaning it
has in the paper.
"""
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Dict, Mapping, Optional, Tuple

from ..checks import check_bool, check_float, check_fraction, check_int
from ..errors import ArgumentError
from ..graph.topology import ACTIVATIONS

#: Lower bounds of the int fields (None: the field may be None).
_INTS = {"population": (2, False), "seed": (None, False), "add_connection_tries": (1, False),
         "elitism_min_size": (0, False), "stagnation": (1, False), "population_stagnation": (1, False),
         "target_species": (1, True), "normalize_min_genes": (1, True)}
#: Float fields that must be > 0, and those that must be >= 0 (rates are checked to lie in [0, 1]).
_POSITIVE = ("weight_init_std", "weight_max", "weight_perturb_power", "bias_perturb_power", "compatibility_threshold",
             "threshold_min")
_NON_NEGATIVE = ("excess_coefficient", "disjoint_coefficient", "weight_coefficient", "threshold_step")

__all__ = ["NEATConfig", "BREEDINGS"]

#: How NEAT breeds: "objects" (Genome objects, the reference) or "arrays" (columns, tensor operations).
BREEDINGS = ("objects", "arrays")


@dataclass(frozen=True)
class NEATConfig:
    """NEAT's parameters. Rates are probabilities per offspring unless they say otherwise."""
    population: int = 150                   # genomes per generation (paper: 150)
    seed: int = 0                           # seeds every random choice of the algorithm

    # ---- neurons
    hidden_activation: str = "sigmoid"      # activation of a neuron made by add-neuron (paper: steepened sigmoid)
    output_activation: str = "sigmoid"      # activation of the output neurons (paper: steepened sigmoid)
    activation_options: Tuple[str, ...] = ("sigmoid",)   # what activation mutation picks from (paper: none)
    activation_gain: Mapping[str, float] = field(default_factory=lambda: {"sigmoid": 4.9})
    #                                       # topology weight = gain * genome weight (paper: 4.9 sigmoid slope)

    # ---- initial population: every input connected to every output, no hidden neuron (paper: minimal start)
    weight_init_std: float = 1.0            # new weights and biases ~ N(0, std) (C++ NEAT: uniform +-1)
    weight_max: float = 8.0                 # mutation keeps |weight| and |bias| <= this (C++ NEAT's cap)

    # ---- mutation
    weight_mutate_rate: float = 0.8         # offspring whose weights are mutated (paper: 80%)
    weight_replace_rate: float = 0.1        # per weight, once mutated: replaced by a new draw (paper: 10%) ...
    weight_perturb_power: float = 2.5       # ... else perturbed by N(0, power) (C++ NEAT weight_mut_power)
    bias_mutate_rate: float = 0.8           # biases follow the weights: the paper's bias is a weight from a
    bias_replace_rate: float = 0.1          # bias input (same numbers)
    bias_perturb_power: float = 2.5
    add_node_rate: float = 0.03             # split a connection with a new neuron (paper: 0.03)
    add_connection_rate: float = 0.05       # connect two unconnected neurons, acyclic (paper: 0.05, small pops)
    remove_connection_rate: float = 0.0     # delete a connection gene (not in the paper: 0 keeps it out)
    remove_node_rate: float = 0.0           # delete a hidden neuron and its connections (not in the paper)
    activation_mutate_rate: float = 0.0     # re-draw one hidden neuron's activation from activation_options
    structural_exclusive: bool = True       # an offspring that gains structure gets no other mutation (C++ NEAT)
    feed_forward: bool = True               # False: add-connection may close cycles and self-loops, genomes
    #                                       # become recurrent topologies (neat-python's feed_forward = False)
    add_connection_tries: int = 20          # random (src, dst) draws before add-connection gives up (C++ NEAT)

    # ---- crossover
    crossover_rate: float = 0.75            # offspring from two parents; the rest from mutation alone (paper: 25%)
    mate_only_rate: float = 0.2             # of crossover offspring: not mutated afterwards (C++ NEAT: 0.2)
    interspecies_rate: float = 0.001        # second parent from another species (paper: 0.001)
    disable_inherit_rate: float = 0.75      # a gene disabled in either parent is disabled in the child (paper)

    # ---- speciation: delta = c1 E / N + c2 D / N + c3 W (paper, eq. 1)
    excess_coefficient: float = 1.0         # c1 (paper)
    disjoint_coefficient: float = 1.0       # c2 (paper)
    weight_coefficient: float = 0.4         # c3 (paper)
    normalize_min_genes: Optional[int] = None   # N = larger gene count once a genome has this many genes (the
    #                                       # paper's text: 20); None: N = 1 always (NEAT's C++ release). The
    #                                       # text's rule makes distances drop 20-fold at 20 genes (species collapse)
    compatibility_threshold: float = 3.0    # delta_t at the start (paper)
    target_species: Optional[int] = 10      # delta_t moves by threshold_step each generation towards this count
    threshold_step: float = 0.3             # (C++ NEAT compat_mod: 0.3); target_species=None: fixed delta_t
    threshold_min: float = 0.3

    # ---- selection
    survival_threshold: float = 0.2         # fraction of each species (best first) allowed to reproduce (C++ NEAT)
    elitism_min_size: int = 5               # a species with more members keeps its champion unchanged (paper)
    stagnation: int = 15                    # a species that has not improved for this many generations gets no
    #                                       # offspring (paper: 15); the species holding the champion is spared
    population_stagnation: int = 20         # no improvement at all for this long: only the best two species
    #                                       # reproduce (paper: 20)

    # ---- how the generation is bred (the same algorithm and numbers either way)
    breeding: str = "objects"               # "objects": a Genome object per genome (the reference); "arrays":
    #                                       # columns and tensor operations (mpnet.search.breed), for 10k-1M genomes

    def __post_init__(self) -> None:
        """Check every field's type and range (an :class:`~mpnet.errors.ArgumentError`, a ``ValueError``, naming
        the field and the value got)."""
        if isinstance(self.activation_options, str) or not isinstance(self.activation_options, (list, tuple)):
            raise ArgumentError(f"Expected activation_options to be a list or tuple of activation names (got "
                                f"{self.activation_options!r}, a {type(self.activation_options).__name__}).")
        if not isinstance(self.activation_gain, Mapping):
            raise ArgumentError(f"Expected activation_gain to be a mapping {{activation: gain}} (got "
                                f"{self.activation_gain!r}).")
        object.__setattr__(self, "activation_gain", dict(self.activation_gain))
        object.__setattr__(self, "activation_options", tuple(self.activation_options))
        for name, (low, optional) in _INTS.items():
            check_int(getattr(self, name), name, min=low, allow_none=optional)
        for name in ("hidden_activation", "output_activation"):
            _check_activation(getattr(self, name), name)
        if not self.activation_options:
            raise ArgumentError("activation_options is empty; give at least one activation name.")
        for act in self.activation_options:
            _check_activation(act, "activation_options")
        for act, gain in self.activation_gain.items():
            _check_activation(act, "activation_gain")
            check_float(gain, f"activation_gain[{act!r}]", min=0, min_open=True)
        for f in fields(self):
            if f.name.endswith("_rate") or f.name == "survival_threshold":
                check_fraction(getattr(self, f.name), f.name)
        for name in _POSITIVE:
            check_float(getattr(self, name), name, min=0, min_open=True)
        for name in _NON_NEGATIVE:
            check_float(getattr(self, name), name, min=0)
        check_bool(self.structural_exclusive, "structural_exclusive")
        if self.breeding not in BREEDINGS:
            raise ArgumentError(f'Invalid breeding "{self.breeding}". Must be one of {list(BREEDINGS)}.')

    @classmethod
    def lamarckian(cls, **overrides: Any) -> "NEATConfig":
        """The paper's defaults with structural mutation raised for Lamarckian runs: ``add_node_rate`` 0.2 and
        ``add_connection_rate`` 0.3 (the paper's rate for large populations). Fine-tuning searches the weights,
        so evolution's budget is better spent on structure: on XOR with ``Finetune(20, 0.05)`` this cuts the
        mean evaluations to solve from about 2,100 to about 900 (``scripts/search.py bench``)."""
        return cls(**{"add_node_rate": 0.2, "add_connection_rate": 0.3, **overrides})

    def gain(self, activation: str) -> float:
        """The factor between a genome's weights into a neuron of this activation and the topology's."""
        return self.activation_gain.get(activation, 1.0)

    def to_dict(self) -> Dict[str, Any]:
        data = asdict(self)
        data["activation_options"] = list(self.activation_options)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "NEATConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(map(str, set(data) - known))
        if unknown:
            raise ArgumentError(f"Unknown NEATConfig fields {unknown}. Valid fields: {sorted(known)}.")
        return cls(**data)

    @classmethod
    def parse_override(cls, item: str) -> Tuple[str, Any]:
        """``"key=value"`` (a command line's ``--set``) as ``(key, value)``, the value read as the field's type:
        ``add_node_rate=0.2``, ``hidden_activation=sin``, ``structural_exclusive=false``,
        ``activation_options=sin,tanh``, ``target_species=none``, ``activation_gain=sigmoid:4.9,sin:1``.

        Raises:
            ArgumentError: no ``=``, an unknown field, or a value that is not of the field's type (named with
                the field and the text got). The value's range is checked when the config is built.
        """
        key, sep, text = item.partition("=")
        key, text = key.strip(), text.strip()
        known = {f.name: f for f in fields(cls)}
        if not sep or not key:
            raise ArgumentError(f"Expected KEY=VALUE, a NEATConfig field and its value (got {item!r}).")
        if key not in known:
            raise ArgumentError(f"Unknown NEATConfig field {key!r} in {item!r}. Valid fields: {sorted(known)}.")
        kind = type(getattr(cls(), key))
        optional = key in _INTS and _INTS[key][1]
        if optional and text.lower() == "none":
            return key, None
        try:
            if key == "activation_options":
                return key, tuple(a.strip() for a in text.split(",") if a.strip())
            if key == "activation_gain":
                pairs = [p.split(":") for p in text.split(",") if p.strip()]
                return key, {a.strip(): float(g) for a, g in pairs}
            if kind is bool:
                lowered = text.lower()
                if lowered not in ("true", "false"):
                    raise ValueError
                return key, lowered == "true"
            if kind is int or key in _INTS:
                return key, int(text)
            if kind is float:
                return key, float(text)
            return key, text
        except ValueError:
            want = {bool: "true or false", int: "an int", float: "a number"}.get(kind, "a value")
            if key in _INTS:
                want = "an int" + (" or none" if optional else "")
            if key == "activation_gain":
                want = "activation:gain pairs separated by commas"
            raise ArgumentError(f"--set {key}: expected {want} (got {text!r}).") from None


def _check_activation(name: Any, what: str) -> None:
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ArgumentError(f'Invalid activation "{name}" in {what}. Must be one of {list(ACTIVATIONS)}.')
