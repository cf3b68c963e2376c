"""What a recurrent network's neurons do over a run (viz stage; optional extra ``viz``): traces of a few chosen
neurons, one labelled line each, and a heatmap of many (neurons x time), ordered by cell class when the nodes
carry ``meta["cell_class"]`` (the connectome's do).

Both run :meth:`~mpnet.Network.states` on the input sequences ``x`` (``[steps, batch, n_inputs]`` as the network
takes them, or one sequence ``[steps, n_inputs]``) and draw one sample of the batch; a ctrnn's activity is drawn
at every integration step against its time. Neurons are chosen by id; an id the topology does not have is an
error that names it (and the ids nearest to it). Each returns a matplotlib ``Figure``::

    fig = activity_traces(net, x, ["AVAL", "AVBL", "DA1"])          # three labelled lines
    fig = activity_heatmap(net, x)                                   # every neuron, ordered by class
"""
import difflib
from typing import TYPE_CHECKING, Any, Callable, Dict, Hashable, List, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor

from ..errors import ArgumentError, DataError, UnknownNodeError
from ..graph.elements import Node, NodeId
from ..model import Network
from ..model.sequence import schedule
from .draw_connectome import _runs

if TYPE_CHECKING:   # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["read_activity", "activity_traces", "activity_heatmap"]

#: a heatmap's row order: ``"cell_class"`` (by ``meta["cell_class"]``, then id), ``None`` (as given or declared),
#: or ``key(node_id, node)`` returning something sortable
Order = Union[str, None, Callable[[NodeId, Node], Any]]


def read_activity(net: Network, x: Tensor, neurons: Optional[Sequence[NodeId]] = None, *, sample: int = 0,
             topology: int = 0, value: str = "h", advance_time: Optional[float] = None,
             time_step: Optional[float] = None) -> Tuple[Tensor, List[NodeId], Tensor]:
    """The activity the pictures draw: ``(values [neurons, steps], neuron ids, times [steps])``.

    Args:
        net: a recurrent or ctrnn :class:`~mpnet.Network` (of one topology, or a batch: see ``topology``).
        x: input sequences ``[steps, batch, n_inputs]`` (``[T, steps, batch, n_inputs]`` for a batch with one
            sequence per topology), or one sequence ``[steps, n_inputs]``.
        neurons: the ids to read, in that order (``None``: every neuron that is not an input, as declared).
        sample: which sequence of the batch.
        topology: which topology of a batched network.
        value: ``"h"`` (the activation, default) or ``"z"`` (the pre-activation).
        advance_time, time_step: a ctrnn's integration, if not the network's own.

    Returns:
        ``values`` float64 on the host, the ids, and ``times``: steps ``1 .. K`` (discrete) or a ctrnn's clock
        after each integration step.

    Raises:
        ArgumentError: a feed-forward network, ``value`` not ``"h"`` or ``"z"``, ``sample`` or ``topology`` out
            of range, or no neuron chosen.
        UnknownNodeError: an id the topology does not have (the nearest ids named).
        DataError: the run gave a NaN or inf (the neuron and step named).
    """
    if not isinstance(net, Network):
        raise ArgumentError(f"Expected net to be an mpnet.Network (got a {type(net).__name__}).")
    if not net.recurrent:
        raise ArgumentError("Activity over time needs a recurrent or ctrnn network; this one is feed-forward (draw "
                            "its states with net.states(x) instead).")
    if value not in ("h", "z"):
        raise ArgumentError(f'Invalid value "{value}". Must be one of ["h", "z"] (activation, pre-activation).')
    topology = _index(topology, net.num_graphs, "topology", "topologies in the network")
    topo = net.topologies[topology]
    ids = _neurons(topo.nodes, neurons, topology)
    x = torch.as_tensor(x)
    if x.dim() == 2:                                   # one sequence: a batch of one
        x = x.unsqueeze(1)
    sample = _index(sample, x.shape[-2] if x.dim() >= 3 else 0, "sample", "sequences in x")
    with torch.no_grad():
        z, h = net.states(x.to(net.bias.dtype), advance_time=advance_time, time_step=time_step)
    rows = {key: r for r, key in enumerate(net.rows)}
    picked = (h if value == "h" else z)[:, [rows[(topology, n)] for n in ids], sample]     # [steps, neurons]
    values = picked.detach().double().cpu().T.contiguous()                                  # [neurons, steps]
    bad = (~torch.isfinite(values)).nonzero()
    if len(bad):
        n, k = int(bad[0, 0]), int(bad[0, 1])
        raise DataError(f"The activity of neuron {ids[n]!r} is {values[n, k].item()} at step {k + 1} (sample "
                        f"{sample}): the run diverged or x holds NaN/inf; {len(bad)} values are not finite.")
    steps = values.shape[1]
    if net.network_type == "ctrnn":
        inputs = x.shape[-3]
        dt = schedule(net, inputs, 0.0, advance_time, time_step).dt or []
        times = torch.tensor(dt, dtype=torch.float64).cumsum(0)
    else:
        times = torch.arange(1, steps + 1, dtype=torch.float64)
    return values, ids, times


def activity_traces(net: Network, x: Tensor, neurons: Optional[Sequence[NodeId]] = None, *, sample: int = 0,
                    topology: int = 0, value: str = "h", advance_time: Optional[float] = None,
                    time_step: Optional[float] = None, title: Optional[str] = None) -> "Figure":
    """One line per chosen neuron over the run, labelled by its id (each line's gid ``"trace:<id>"``).

    Args:
        net, x, sample, topology, value, advance_time, time_step: as for :func:`read_activity`.
        neurons: the ids to draw (``None``: the topology's outputs).
        title: above the plot.

    Returns:
        The matplotlib figure.

    Raises:
        ImportError: matplotlib is missing (``pip install 'mpnet[viz]'``).
        ArgumentError, UnknownNodeError, DataError: as :func:`read_activity`.
    """
    plt = _pyplot()
    if neurons is None and isinstance(net, Network):
        neurons = net.topologies[_index(topology, net.num_graphs, "topology", "topologies in the network")].outputs
    values, ids, times = read_activity(net, x, neurons, sample=sample, topology=topology, value=value,
                                  advance_time=advance_time, time_step=time_step)
    fig: "Figure"
    fig, ax = plt.subplots(figsize=(7.0, 3.6))
    for row, n in zip(values, ids):
        ax.plot(times.numpy(), row.numpy(), linewidth=1.3, label=str(n), gid=f"trace:{n}")
    ax.set_xlabel("time" if net.network_type == "ctrnn" else "step")
    ax.set_ylabel(_VALUE[value])
    ax.grid(True, linewidth=0.4, alpha=0.5)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False,
              ncol=1 if len(ids) <= 16 else 2)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def activity_heatmap(net: Network, x: Tensor, neurons: Optional[Sequence[NodeId]] = None, *, sample: int = 0,
                     topology: int = 0, value: str = "h", order: Order = "cell_class",
                     advance_time: Optional[float] = None, time_step: Optional[float] = None,
                     title: Optional[str] = None) -> "Figure":
    """Neurons x time, a row per neuron, coloured by its value (a diverging map centred on 0); rows ordered by
    ``order``. With ``order="cell_class"`` and nodes that carry ``meta["cell_class"]``, thin lines part the classes
    and each class is named once (ids are named when there are at most 60 rows); the image's gid is ``"activity"``.

    Args:
        net, x, sample, topology, value, advance_time, time_step: as for :func:`read_activity`.
        neurons: the ids to draw (``None``: every neuron that is not an input).
        order: ``"cell_class"`` (by ``meta["cell_class"]``, neurons without one by their id, then by id),
            ``None`` (as given, or as declared), or ``key(node_id, node)``.
        title: above the picture.

    Returns:
        The matplotlib figure; ``fig.mpnet_rows`` lists the neuron of each row, top to bottom.

    Raises:
        ImportError: matplotlib is missing (``pip install 'mpnet[viz]'``).
        ArgumentError: ``order`` none of these; and as :func:`read_activity`.
        UnknownNodeError, DataError: as :func:`read_activity`.
    """
    plt = _pyplot()
    values, ids, times = read_activity(net, x, neurons, sample=sample, topology=topology, value=value,
                                  advance_time=advance_time, time_step=time_step)
    nodes = net.topologies[topology].nodes
    classes = [str((nodes[n].meta or {}).get("cell_class", n)) for n in ids]
    rank = _order(order, ids, nodes, classes)
    values, ids, classes = values[rank], [ids[i] for i in rank], [classes[i] for i in rank]
    size = len(ids)
    fig: "Figure"
    fig, ax = plt.subplots(figsize=(7.5, 2.0 + (0.14 if size <= 60 else 0.08) * size))   # 302 neurons: 26 in
    limit = float(values.abs().max()) or 1.0
    edges = torch.cat([torch.zeros(1, dtype=torch.float64), times])        # column k spans (t_k-1, t_k]
    image = ax.pcolormesh(edges.numpy(), torch.arange(size + 1).double().sub(0.5).numpy(), values.numpy(),
                          cmap="RdBu_r", vmin=-limit, vmax=limit, shading="flat")
    ax.set_ylim(size - 0.5, -0.5)                                           # the first row on top
    image.set_gid("activity")
    fig.colorbar(image, ax=ax, label=_VALUE[value], fraction=0.04, pad=0.02)
    ax.set_xlabel("time" if net.network_type == "ctrnn" else "step")
    by_class = order == "cell_class" and any((nodes[n].meta or {}).get("cell_class") is not None for n in ids)
    if size <= 60:
        ax.set_yticks(range(size))
        ax.set_yticklabels([str(n) for n in ids], fontsize=7)
    else:
        ax.set_yticks([])
    if by_class:
        runs = _runs(classes)
        for _, lo, _ in runs[1:]:
            ax.axhline(lo - 0.5, color="#404040", linewidth=0.5)
        if size > 60:
            ax.set_yticks([(lo + hi - 1) / 2 for _, lo, hi in runs])
            ax.set_yticklabels([c for c, _, _ in runs], fontsize=5)
        ax.set_ylabel("neuron (by cell class)")
    else:
        ax.set_ylabel("neuron")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    setattr(fig, "mpnet_rows", ids)
    return fig


_VALUE = {"h": "activation h", "z": "pre-activation z"}


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError as err:
        raise ImportError("The activity pictures need matplotlib: pip install 'mpnet[viz]'.") from err
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    return plt


def _index(value: Any, size: int, name: str, what: str) -> int:
    """``value`` as an index into ``size`` things, or an ArgumentError naming the valid range."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ArgumentError(f"Expected {name} to be an int (got {value!r}).")
    if not 0 <= value < size:
        raise ArgumentError(f"{name}={value} is out of range: there are {size} {what} (valid: 0 .. {size - 1}).")
    return value


def _neurons(nodes: Dict[NodeId, Node], neurons: Optional[Sequence[NodeId]], topology: int) -> List[NodeId]:
    """The chosen ids, checked (every non-input neuron when None)."""
    if neurons is None:
        return [n for n, node in nodes.items() if node.role != "input"]
    if isinstance(neurons, (str, bytes)) or not isinstance(neurons, Sequence):
        raise ArgumentError(f"Expected neurons to be a list of neuron ids (got {neurons!r:.60}; one neuron? pass "
                            f"[{neurons!r:.40}]).")
    ids = list(neurons)
    if not ids:
        raise ArgumentError("neurons=[] chooses no neuron; give at least one id (or None for every neuron).")
    unknown = [n for n in ids if not isinstance(n, Hashable) or n not in nodes]
    if unknown:
        names = [str(n) for n in nodes]
        near = difflib.get_close_matches(str(unknown[0]), names, n=3)
        more = ", ..." if len(names) > 6 else ""
        hint = f" (nearest: {', '.join(near)})" if near else f" (it has {', '.join(names[:6])}{more})"
        raise UnknownNodeError(f"Neuron {unknown[0]!r} is not in topology {topology}{hint}; {len(unknown)} of the "
                               f"{len(ids)} ids chosen are unknown: {unknown[:5]}.")
    return ids


def _order(order: Order, ids: List[NodeId], nodes: Dict[NodeId, Node], classes: List[str]) -> List[int]:
    """The row order of the heatmap: positions into ``ids``."""
    if order is None:
        return list(range(len(ids)))
    if order == "cell_class":
        return sorted(range(len(ids)), key=lambda i: (classes[i], str(ids[i])))
    if callable(order):
        return sorted(range(len(ids)), key=lambda i: order(ids[i], nodes[ids[i]]))
    raise ArgumentError(f'Invalid order "{order}". Must be "cell_class", None, or a callable key(node_id, node).')
