"""The class :class:`Network` (model stage): construction from topologies, the parameters and their reset, and
every public method, each handing its work to the module of its concern (:mod:`~mpnet.model.feedforward`,
:mod:`~mpnet.model.sequence`, :mod:`~mpnet.model.editing`, :mod:`~mpnet.model.readback`,
:mod:`~mpnet.model.payload`); :func:`network_from_payload`, what a pickled network calls, beside it."""
import inspect
import os
from typing import Any, Callable, Dict, Hashable, List, Mapping, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor, nn
from torch.types import Device

from ..checks import check_bool, check_device, check_dtype, check_seed
from ..engine.compile import compile_arrays
from ..engine.propagate import LayeredConv
from ..engine.recurrent import RecurrentConv, Stepper
from ..engine.steps import RecurrentState, check_times
from ..engine.tiemap import ParameterTable, TieMap, group_bounds, parameter_table
from ..errors import ArgumentError
from ..graph.arrays import ArrayTopology
from ..graph.topology import Edge, NodeId, Topology
from ..threads import PassThreads, Tuner
from . import editing, feedforward, readback, sequence
from .constraints import SignConstraint
from .declared import check_declared_finite, given_values
from .payload import build_network, network_payload, read_payload, save_network

__all__ = ["Network", "network_from_payload"]


def _topology_list(topology: Any) -> List[Topology]:
    """``topology`` as a list of topologies, each checked to be one (naming the first that is not)."""
    if isinstance(topology, (str, bytes, os.PathLike, Mapping)) or not hasattr(topology, "__iter__"):
        hint = " (a path? load it first: Topology.load(path))" if isinstance(topology, (str, os.PathLike)) else ""
        raise ArgumentError(f"Expected topology to be a Topology or a list of them (got a "
                            f"{type(topology).__name__}){hint}.")
    topos = list(topology)
    for i, t in enumerate(topos):
        if not isinstance(t, Topology):
            raise ArgumentError(f"Expected topology to be a Topology or a list of them, but item {i} is a "
                                f"{type(t).__name__} ({t!r:.60}).")
    return topos


class Network(nn.Module):
    """A network of individually connected neurons, computed level by level with message passing.

    Args:
        topology: one :class:`~mpnet.Topology`, or a list of them (trained together in one pass, each with
            its own weights; they must share their numbers of inputs and outputs), or an
            :class:`~mpnet.ArrayTopology` (one graph or a batch given as columns: the cheap way to build big
            graphs and whole generations). Recurrent topologies (cycles) are given as ``Topology`` objects or
            packed (``ArrayTopology.from_packed``; :mod:`mpnet.engine.recurrent`); a batch shares one network type.
        seed: seeds the draw of the weights the topology leaves unset (``None``: torch's global RNG).
        fused: use the fused sparse path (default) or the plain autograd path (see :mod:`mpnet.engine.propagate`).
        dtype, device: of the parameters; ``float64`` represents hand-set weights exactly.
        advance_time, time_step: a ctrnn's defaults for :meth:`forward` (each input is held for
            ``advance_time``, integrated in steps of ``time_step``, as ``CTRNN.advance``).

    Shapes:
        one topology: ``x: [batch, n_inputs] -> [batch, n_outputs]``;
        ``T`` topologies: ``x: [batch, n_inputs]`` (shared) or ``[T, batch, n_inputs]`` ->
        ``[T, batch, n_outputs]``.
        recurrent topologies (:mod:`mpnet.engine.recurrent`):
        ``x: [steps, batch, n_inputs] -> [steps, batch, n_outputs]``; ``T`` of them:
        ``x: [steps, batch, n_inputs]`` or ``[T, steps, batch, n_inputs]`` -> ``[T, steps, batch, n_outputs]``.

    Example:
        >>> topo = Topology.from_edges([("x", "y", 2.0)], inputs=["x"], outputs=["y"])
        >>> Network(topo)(torch.ones(3, 1)).tolist()
        [[2.0], [2.0], [2.0]]
    """

    # declared for the type checker (nn.Module hands buffers out through __getattr__), and the read-back
    # caches, made on first use (mpnet.model.readback)
    _bound: Tensor
    _rows_made: List[Tuple[int, NodeId]]
    _edge_keys_made: List[Tuple[int, NodeId, NodeId]]
    _tied_index_made: readback.TiedIndex

    def __init__(self, topology: Union[Topology, Sequence[Topology], ArrayTopology], *, seed: Optional[int] = None,
                 fused: bool = True, dtype: Optional[torch.dtype] = None, device: Device = None,
                 advance_time: Optional[float] = None, time_step: Optional[float] = None):
        super().__init__()
        seed = check_seed(seed, allow_none=True)
        fused = check_bool(fused, "fused")
        dtype, device = check_dtype(dtype, allow_none=True), check_device(device)
        if not isinstance(topology, (ArrayTopology, Topology)):
            topology = _topology_list(topology)          # names the first item that is not a Topology
        self.arrays = ArrayTopology.of(topology)       # the declaration as columns, in union order
        self.batched = self.arrays.batched
        #: ``"feedforward"``, ``"recurrent"`` or ``"ctrnn"`` (batched topologies must agree: ArrayTopology checks)
        self.network_type: str = self.arrays.network_type
        self.recurrent = self.network_type != "feedforward"
        if (advance_time is not None or time_step is not None) and self.network_type != "ctrnn":
            raise ArgumentError(f"advance_time and time_step are for ctrnn topologies (recurrent='ctrnn'); these "
                                f"are {self.network_type}.")
        self.advance_time, self.time_step = check_times(advance_time, time_step)
        self._tuners: Dict[Any, Tuner] = {}              # per pass shape: the forward's thread count (threads.py)
        with PassThreads(self.arrays.num_edges + self.arrays.num_nodes):   # a build is one pass over the graph
            self._build(seed, fused, dtype, device)

    def _build(self, seed: Optional[int], fused: bool, dtype: Optional[torch.dtype], device: Device) -> None:
        self.data, self.plan = compile_arrays(self.arrays)   # recurrent: one level holding every non-input row
        self.seed = seed
        self.conv: LayeredConv = (RecurrentConv if self.recurrent else LayeredConv).make(fused)
        dtype = dtype or torch.get_default_dtype()

        # per-edge metadata in compiled order, straight from the columns (no Python object per edge)
        edge_perm = self.data.edge_perm
        self._declared = self.arrays.weight.index_select(0, edge_perm)   # float64, NaN where unset
        fan_in = torch.bincount(self.plan.dst, minlength=self.plan.num_nodes)[self.plan.dst]   # on the CPU plan
        edge_bound = 1.0 / fan_in.clamp(min=1).to(dtype).sqrt()
        #: tied weights (mpnet.engine.tiemap): each edge's own parameter, then one per tie group; ``None`` (the common
        #: case, and every network built from columns) when no topology declares ties: one parameter per edge,
        #: read from the columns with no Python object per edge
        self._table: Optional[ParameterTable] = None
        topos = self.arrays.topologies                   # None when built from columns (no ties there)
        if topos is not None and any(t.ties for t in topos):
            self._table = parameter_table(topos, self._edges)
        if self._table is None:
            bound = edge_bound
            sign = self.arrays.sign.index_select(0, edge_perm).to(dtype=dtype, device=device)
            frozen = (~self.arrays.trainable.index_select(0, edge_perm)).to(device)
        else:
            bound = group_bounds(self._table, edge_bound)                                      # [P]
            sign = torch.tensor(self._table.sign, dtype=dtype, device=device)
            frozen = torch.tensor(self._table.frozen, dtype=torch.bool, device=device)
        self.register_buffer("_bound", bound.to(device), persistent=False)   # on the parameters' device
        #: the parameter the optimizer moves (``[P]``: one per edge, or per edge's own weight and per tie group);
        #: ``weight [E]`` is computed from it (see :mod:`mpnet.model`)
        self.raw_weight = nn.Parameter(torch.empty(sign.numel(), dtype=dtype, device=device))
        self.bias = nn.Parameter(torch.empty(self.plan.num_nodes - self.plan.num_inputs, dtype=dtype, device=device))
        self.constraint = SignConstraint(sign, frozen, given_values(self, dtype, device))
        #: ``[P] -> [E]``, summing each edge's terms (None when no edge is tied: ``weight = constraint(raw)``)
        self.tie_map = (TieMap(self._table.terms, edge_perm.numel(), dtype, device)
                        if self._table is not None and self._table.terms is not None else None)
        if device is not None:
            self.plan = self.plan.apply(lambda t: t.to(device))
        self.plan.set_dtype(dtype)
        # a ctrnn's time constants per non-input row, float64 on the CPU (never cast: dt / tau is divided
        # in float64, as neat does, and rounded once to the network's dtype)
        # (the column of ArrayTopology.from_packed, else the topologies' own)
        self._tau: Optional[Tensor] = None
        if self.network_type == "ctrnn":
            tau = self.arrays.time_constant if self.arrays.time_constant is not None else torch.tensor(
                [n.time_constant for topo in self.topologies for n in topo.nodes.values()], dtype=torch.float64)
            self._tau = tau.index_select(0, self.data.node_perm[self.plan.num_inputs:])
        self._handed_out: editing.HandedOut = []   # tensors net.weight gave out: (ref, values then)
        self._last_handed: Optional[Tensor] = None
        check_declared_finite(self)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Hand-set weights and biases to their declared values; unset weights drawn again (same seed,
        same draw)."""
        gen = torch.Generator().manual_seed(self.seed) if self.seed is not None else None
        editing.forget_handed_out(self)
        raw = self.raw_weight
        dtype, device = raw.dtype, raw.device
        unset = (torch.isnan(self._declared) if self._table is None
                 else torch.tensor([v is None for v in self._table.given], dtype=torch.bool))
        given = given_values(self, dtype, device)
        with torch.no_grad():
            if bool(unset.any()):        # nothing to draw (and no random number used) when every weight is given
                drawn = torch.rand(raw.shape, generator=gen, dtype=torch.float64) * 2 - 1
                raw.copy_(torch.where(unset.to(device), drawn.to(dtype=dtype, device=device) * self._bound, given))
            else:
                raw.copy_(given)
            self.constraint.set_values(given)
            self.bias.copy_(self.arrays.bias[self.data.node_perm[self.plan.num_inputs:]])

    def _apply(self, fn: Callable[[Tensor], Tensor], recurse: bool = True) -> "Network":
        self._write_back_edits()
        editing.forget_handed_out(self)
        dtype = self.bias.dtype
        super()._apply(fn, recurse)   # type: ignore[no-untyped-call]   # torch leaves Module._apply untyped
        self.plan = self.plan.apply(fn)
        self.plan.set_dtype(self.bias.dtype)   # scales exact per dtype, not re-cast
        with torch.no_grad():  # frozen values stay exactly the declared numbers in the new dtype
            self.constraint.set_values(given_values(self, self.bias.dtype, self.bias.device))
        if self.bias.dtype != dtype and self.bias.dtype.is_floating_point:
            check_declared_finite(self)   # e.g. .float() of a float64 network holding 1e300
        return self

    def _where(self, t: int) -> str:
        return f" (topology {t})" if self.batched else ""

    # ------------------------------------------------------------------------------- the weights
    def _compute_weight(self) -> Tensor:
        """``w = constraint(raw_weight)`` (the parameter itself when no edge is constrained), each edge's tie
        terms summed when the network has ties."""
        self._write_back_edits()
        w: Tensor = self.constraint(self.raw_weight)
        return w if self.tie_map is None else self.tie_map(w)

    @property
    def weight(self) -> Tensor:
        """``[E]`` the weights in compiled order (:attr:`edge_keys` names each), computed from
        :attr:`raw_weight` through the sign constraints, with gradient.

        Writable: ``net.weight = values``, :meth:`set_weights`, or an in-place edit of the tensor this returns
        (``with torch.no_grad(): net.weight[3] = 0.5``), which is written back before the network next
        computes or reads its weights, the same whether or not the network has fixed-sign edges. A value
        against an edge's fixed sign, a change to a frozen edge or a non-finite value is refused.
        """
        return editing.hand_out(self)

    @weight.setter
    def weight(self, values: Tensor) -> None:
        self.set_weights(values)

    def set_weights(self, values: Union[Tensor, Mapping[Any, Any]]) -> None:
        """Set edge weights: ``values`` is ``[E]`` in compiled order (like :attr:`weight`), or a mapping
        ``{(src, dst): w}`` (``{(t, src, dst): w}`` for a batch of topologies) setting those edges only.
        Fixed-sign edges take the value itself (it must lie on the allowed side); frozen edges must keep
        their declared value.

        Raises:
            SignConflictError: a value against an edge's fixed sign, or a change to a frozen edge.
            NonFiniteError: a NaN or infinite value.
            UnknownEdgeError: a key the network does not have.
            ArgumentError: a tensor of the wrong length.
        """
        editing.set_weights(self, values)

    def _write_back_edits(self) -> None:
        """Write edits made in place to tensors :attr:`weight` handed out into :attr:`raw_weight`."""
        handed = self.__dict__.get("_handed_out")
        if handed:
            editing.write_back(self, handed)

    # ------------------------------------------------------------------------------------ forward
    @property
    def num_graphs(self) -> int:
        return self.plan.num_graphs

    def forward(self, x: Tensor, state: Union[RecurrentState, Tensor, None] = None, *, return_state: bool = False,
                advance_time: Optional[float] = None, time_step: Optional[float] = None,
                weight: Optional[Tensor] = None,
                bias: Optional[Tensor] = None) -> Union[Tensor, Tuple[Tensor, RecurrentState]]:
        """The outputs on ``x`` (see the class for the shapes).

        Args:
            state, return_state: recurrent networks only: start from ``state`` (a :class:`RecurrentState`
                returned by an earlier call; ``None`` starts every neuron at 0, neat's ``reset()``), and
                return ``(outputs, final state)``. Continuing from the returned state computes what one
                longer sequence would.
            advance_time, time_step: ctrnn only, overriding the constructor's.
            weight, bias: feed-forward networks only: ``weight`` ``[E]`` (effective weights in
                :attr:`edge_keys` order, constraints not applied) and ``bias`` ``[num_nodes - num_inputs]``
                replace the module's own for this call (a functional call, for optimizers that keep their own
                copies of the parameters, as sign inference does).
        """
        if self.recurrent:
            if weight is not None or bias is not None:
                raise ArgumentError("weight= and bias= overrides are for feed-forward networks; this one is "
                                    "recurrent (set net.weight / net.bias instead).")
            return sequence.forward_sequence(self, x, state, return_state, advance_time, time_step)
        if state is not None or return_state or advance_time is not None or time_step is not None:
            raise ArgumentError("state, return_state, advance_time and time_step are for recurrent networks; this "
                                "one is feed-forward.")
        return feedforward.forward(self, x, weight, bias)

    def pass_threads(self, batch: int) -> PassThreads:
        """A context manager giving torch the thread count the size rule of mpnet's policy picks for passes
        of ``batch`` samples (see :mod:`mpnet.threads`), the user's setting restored on exit. :func:`mpnet.fit`
        holds it over its whole loop, so losses and optimizer steps of small networks stay on one thread
        too; within it the passes of a big network still time their thread counts."""
        return PassThreads(self.plan.work_per_sample * batch)

    @torch.no_grad()
    def states(self, x: Tensor, state: Union[RecurrentState, Tensor, None] = None, *,
               advance_time: Optional[float] = None, time_step: Optional[float] = None,
               weight: Optional[Tensor] = None, bias: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        """Every neuron's pre-activation and activation on ``x``: ``(z, h)``, each ``[num_nodes, batch]``
        in compiled row order; :attr:`rows` names the neuron of each row. A recurrent network gives them
        after every step (every integration step of a ctrnn): ``[steps, num_nodes, batch]``, from ``state``
        if given (a neuron without incoming edges is never computed; its ``z`` is just its bias).
        ``weight`` and ``bias`` (feed-forward only) as in :meth:`forward`."""
        if self.recurrent:
            if weight is not None or bias is not None:
                raise ArgumentError("weight= and bias= overrides are for feed-forward networks; this one is "
                                    "recurrent.")
            return sequence.states(self, x, state, advance_time, time_step)
        return feedforward.states(self, x, weight, bias)

    def stepper(self, batch: int = 1) -> "Stepper":
        """A discrete recurrent network's :class:`~mpnet.engine.recurrent.Stepper`: one step per call with few ops,
        for closed loops (a snapshot of the current weights; inference only)."""
        return sequence.stepper(self, batch)

    @property
    def topologies(self) -> List[Topology]:
        """The topologies as declared (made from the columns on first use when built from arrays)."""
        if self.arrays.topologies is None:
            self.arrays.topologies = self.arrays.to_topologies()
        return self.arrays.topologies

    @property
    def rows(self) -> List[Tuple[int, Hashable]]:
        """``(topology index, node id)`` of each row of :meth:`states` (made on first use, then copied)."""
        return list(readback.row_names(self))

    @property
    def edge_keys(self) -> List[Tuple[int, Hashable, Hashable]]:
        """``(topology index, src, dst)`` of each entry of :attr:`weight` (made on first use, then copied)."""
        return list(readback.edge_keys(self))

    @property
    def _edges(self) -> List[Tuple[int, Edge]]:
        """``(topology index, Edge)`` of each entry of :attr:`weight`, as declared (made on use)."""
        return readback.declared_edges(self)

    # --------------------------------------------------------------------------------- read back
    def numbers(self) -> Tuple[Tensor, Tensor]:
        """Current weights ``[E]`` and biases ``[N]`` (float64, CPU) in declaration order: topology after
        topology, the order of :attr:`arrays` (and of ``arrays.columns()``, so a worker can send back
        just these two tensors); inputs keep their declared bias."""
        return readback.numbers(self)

    def topology(self, index: int = 0) -> Topology:
        """Topology ``index`` with its current (trained) weights and biases (frozen edges: the declared
        number itself)."""
        return readback.topology(self, index)

    def to_topology(self) -> Union[Topology, List[Topology]]:
        """The topology (or, for a batch, the list of topologies) with current weights and biases; the
        weights are read once for all, so a batch reads back in time linear in its size."""
        return readback.to_topology(self)

    # -------------------------------------------------------------------------------- save, load
    def save(self, path: Union[str, "os.PathLike[str]"]) -> None:
        """Write the whole network to ``path`` (topologies, exact weights and biases, constraints, dtype,
        settings, a checksum); :meth:`load` gives back an equal network. The format and why: :mod:`mpnet.model.payload`.

        Raises:
            FileNotFoundError: the file's directory does not exist (ArgumentError: ``path`` is a directory).
            NonFiniteError: a weight or bias is NaN or infinite (the edge or neuron named); nothing is written.
        """
        save_network(self, path)

    @classmethod
    def load(cls, path: Union[str, "os.PathLike[str]"], *, device: Device = None) -> "Network":
        """Read a network written by :meth:`save` (onto ``device``, default the CPU).

        Raises:
            FormatError: the file is not a saved network, or is damaged (it fails its checksum); the message
                names the file and the field.
            FileNotFoundError: no such file.
        """
        path, device = os.fspath(path), check_device(device)
        net = build_network(Network, read_payload(path), where=path)
        return net.to(device) if device is not None else net

    def __reduce_ex__(self, protocol: Any) -> Tuple[Callable[..., "Network"], Tuple[Dict[str, Any]]]:
        """Pickle (``torch.save(net)``, ``copy.deepcopy``, multiprocessing) as the plain data of :meth:`save`,
        rebuilt through the constructor; hooks and attributes added from outside are not kept."""
        return network_from_payload, (network_payload(self, cpu=False),)

    def __repr__(self) -> str:
        if self.recurrent:
            return (f"Network(graphs={self.num_graphs}, nodes={self.plan.num_nodes}, "
                    f"edges={self.data.edge_perm.numel()}, {self.network_type}, fused={self.conv.fused})")
        return (f"Network(graphs={self.num_graphs}, nodes={self.plan.num_nodes}, "
                f"edges={self.data.edge_perm.numel()}, depth={len(self.plan.levels)}, fused={self.conv.fused})")


def network_from_payload(payload: Any, where: str = "the pickled network") -> Network:
    """Inverse of :func:`~mpnet.model.payload.network_payload`: check every field, rebuild the network, set its
    numbers (what a pickled network calls).

    Raises:
        FormatError: a field is missing or wrong, named with ``where``.
    """
    return build_network(Network, payload, where)


def _accepts_named_globals() -> bool:
    """Whether this torch's ``add_safe_globals`` takes ``(function, "dotted.name")`` pairs (torch >= 2.6; older
    ones take functions only, and a pair would break every later ``weights_only`` load)."""
    try:
        annotation = inspect.signature(torch.serialization.add_safe_globals).parameters["safe_globals"].annotation
    except (TypeError, ValueError, KeyError):
        return False
    return "str" in str(annotation)


# torch.load(path) with its default weights_only=True may call network_from_payload (it builds a Network from plain
# data only); pickles written before mpnet 0.2 name it mpnet.persist.network_from_payload
if hasattr(torch.serialization, "add_safe_globals"):
    torch.serialization.add_safe_globals([network_from_payload])
    if _accepts_named_globals():
        torch.serialization.add_safe_globals([(network_from_payload, "mpnet.persist.network_from_payload")])
