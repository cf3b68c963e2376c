"""Deployment: a (trained) :class:`~mpnet.Network` as TorchScript, a ``torch.export`` program or ONNX (last stage).

The training path of a Network (CSR sparse products inside a custom autograd Function) is not something
tracers or ONNX take. :class:`StaticNetwork` replays the same compiled plan with plain dense ops, its
current weights, biases, responses and index tensors baked in as buffers, level by level::

    sum / mean neurons:    m = w_eff[e] * H[src[e]];  z = index_add(dst, m)           (messages [E, B])
    other aggregations:    g = w[r, k] * H[idx[r, k]]  padded to the group's largest in-degree K,
                           reduced over k (amax, amin, prod, sort for the median)    ([R, K, B])
    then                   h = activation(response * z + bias);  H = cat([H, h])

and the exporters trace it. It is inference only: no parametrization, no gradient to the weights.

A recurrent network exports for a fixed number of inputs ``steps`` (:class:`StaticRecurrent`): the same
groups over every row, unrolled step by step, with the state in and out, ``(x [steps, batch, n_in], h
[num_nodes, batch][, previous]) -> (y [steps, batch, n_out], h[, previous])``, a ctrnn's integration
steps fixed at export from its ``advance_time``, ``time_step`` and clock.
"""
import logging
import os
import warnings
from typing import Dict, List, Optional, Tuple, Union

import torch
from torch import Tensor, nn

from ..checks import check_int
from ..engine.functional import ACTIVATION_FNS
from ..engine.compile import Level, Plan
from ..engine.steps import check_clock, check_times, ctrnn_schedule, discrete_schedule
from ..errors import ArgumentError
from ..model import Network
from ..model.sequence import check_stable
from .export_checks import MAX_UNROLL, check_inputs as _check_inputs, check_numbers as _check_numbers

__all__ = ["StaticNetwork", "StaticRecurrent", "to_torchscript", "to_torch_export", "to_onnx"]

PathLike = Union[str, "os.PathLike[str]"]


class _Sum(nn.Module):
    """The fused (sum / mean) neurons of one level: ``z [R, B]`` by ``index_add`` over their edges."""

    src: Tensor
    dst: Tensor
    weight: Tensor

    def __init__(self, src: Tensor, dst: Tensor, weight: Tensor, num_rows: int):
        super().__init__()
        self.register_buffer("src", src)         # [E] source row in the state H
        self.register_buffer("dst", dst)         # [E] target row, counted from the group's first row
        self.register_buffer("weight", weight)   # [E] w * response / in-degree (mean)
        self.num_rows = num_rows

    def forward(self, H: Tensor) -> Tensor:
        m = self.weight.unsqueeze(1) * H.index_select(0, self.src)    # [E, B]
        return H.new_zeros(self.num_rows, H.shape[1]).index_add(0, self.dst, m)


class _Padded(nn.Module):
    """Neurons of one level sharing a non-sum aggregation, their messages padded to ``[R, K, B]``."""

    idx: Tensor
    weight: Tensor
    mask: Tensor
    has: Tensor
    response: Tensor
    rows: Tensor
    lo: Tensor
    hi: Tensor

    def __init__(self, aggregation: str, src: Tensor, dst: Tensor, weight: Tensor, response: Tensor):
        super().__init__()
        R = response.numel()
        count = torch.bincount(dst, minlength=R)
        K = int(count.max()) if dst.numel() else 0
        slot = torch.arange(dst.numel()) - (torch.cumsum(count, 0) - count)[dst]   # edges are sorted by dst
        idx = torch.zeros(R, K, dtype=torch.long).index_put((dst, slot), src)
        w = weight.new_zeros(R, K).index_put((dst, slot), weight)
        self.aggregation = aggregation
        self.register_buffer("idx", idx)                                                 # [R, K]
        self.register_buffer("weight", w)                                                # [R, K]
        self.register_buffer("mask", torch.arange(K).unsqueeze(0) < count.unsqueeze(1))  # [R, K]
        self.register_buffer("has", count > 0)                                           # [R]
        self.register_buffer("response", response)                                       # [R]
        self.register_buffer("rows", torch.arange(R))                # median: rows, and their two middle ranks
        self.register_buffer("lo", (count - 1).clamp(min=0) // 2)
        self.register_buffer("hi", (count // 2).clamp(max=max(K - 1, 0)))

    def _fill(self, g: Tensor, value: float) -> Tensor:
        return torch.where(self.mask.unsqueeze(2), g, torch.full_like(g, value))

    def forward(self, H: Tensor) -> Tensor:
        if self.idx.shape[1] == 0:
            return H.new_zeros(self.idx.shape[0], H.shape[1])
        g = self.weight.unsqueeze(2) * H[self.idx]      # [R, K, B]
        name = self.aggregation
        if name == "max":
            z = self._fill(g, float("-inf")).amax(1)
        elif name == "min":
            z = self._fill(g, float("inf")).amin(1)
        elif name == "product":
            z = self._fill(g, 1.0).prod(1)
        elif name == "maxabs":
            hi, lo = self._fill(g, float("-inf")).amax(1), self._fill(g, float("inf")).amin(1)
            z = torch.where(hi >= -lo, hi, lo)
        elif name == "median":
            ranked = self._fill(g, float("inf")).sort(dim=1).values
            z = 0.5 * (ranked[self.rows, self.lo] + ranked[self.rows, self.hi])
        else:
            raise ValueError(f'Invalid aggregation "{name}" for a padded group.')
        z = torch.where(self.has.unsqueeze(1), z, torch.zeros_like(z))
        return z * self.response.unsqueeze(1)


class _Level(nn.Module):
    """One depth: its groups' aggregates, the bias, the activation runs; returns the level's ``h``."""

    bias: Tensor

    def __init__(self, groups: List[nn.Module], bias: Tensor, runs: List[Tuple[str, int, int]]):
        super().__init__()
        self.groups = nn.ModuleList(groups)
        self.register_buffer("bias", bias)
        self.runs = runs

    def forward(self, H: Tensor) -> Tensor:
        z = torch.cat([group(H) for group in self.groups]) + self.bias.unsqueeze(1)
        return torch.cat([ACTIVATION_FNS[name].fn(z[r0:r1]) for name, r0, r1 in self.runs])


class StaticNetwork(nn.Module):
    """A snapshot of ``net`` (its current weights) computed with dense, export-friendly ops.

    Shapes:
        ``x: [batch, n_inputs]`` -> ``[batch, n_outputs]``, or ``[T, batch, n_outputs]`` for a network of
        ``T`` topologies (they share the input columns).
    """

    out_rows: Tensor

    def __init__(self, net: Network):
        super().__init__()
        _check_numbers(net)
        plan = net.plan
        assert plan.edge_scale is not None and plan.row_response is not None   # set by Network (set_dtype)
        with torch.no_grad():
            weight = net.weight.detach().cpu()
        scale, resp, bias = plan.edge_scale.cpu(), plan.row_response.cpu(), net.bias.detach().cpu()
        src, dst, n_in = plan.src.cpu(), plan.dst.cpu(), plan.num_inputs
        levels = []
        for lvl in plan.levels:
            groups: List[nn.Module] = []
            if lvl.n_fused > lvl.n0:
                e = slice(lvl.e0, lvl.e_fused)
                groups.append(_Sum(src[e].clone(), dst[e] - lvl.n0, weight[e] * scale[e], lvl.n_fused - lvl.n0))
            for name, r0, r1, e0, e1 in lvl.generic:
                groups.append(_Padded(name, src[e0:e1], dst[e0:e1] - r0, weight[e0:e1], resp[r0:r1].clone()))
            runs = [(name, r0 - lvl.n0, r1 - lvl.n0) for name, r0, r1 in lvl.runs]
            levels.append(_Level(groups, bias[lvl.n0 - n_in:lvl.n1 - n_in].clone(), runs))
        self.levels = nn.ModuleList(levels)   # every buffer its own tensor (no views): torch.export.save wants that
        self.register_buffer("out_rows", plan.out_rows.reshape(-1).cpu().clone())
        self.num_graphs, self.n_in, self.n_out, self.batched = plan.num_graphs, plan.n_in, plan.n_out, net.batched
        self.to(device=net.bias.device)

    def forward(self, x: Tensor) -> Tensor:
        H = _check_inputs(x, [-1, self.n_in]).t()
        if self.num_graphs > 1:
            H = H.repeat(self.num_graphs, 1)
        for level in self.levels:
            H = torch.cat([H, level(H)])
        out = H.index_select(0, self.out_rows).reshape(self.num_graphs, self.n_out, -1).transpose(1, 2)
        return out if self.batched else out[0]

    def __repr__(self) -> str:
        return (f"StaticNetwork(graphs={self.num_graphs}, inputs={self.n_in}, outputs={self.n_out}, "
                f"depth={len(self.levels)})")


def _groups(plan: Plan, level: Level, weight: Tensor) -> List[nn.Module]:
    """The aggregation groups of one level (``weight`` the network's, on the CPU)."""
    assert plan.edge_scale is not None and plan.row_response is not None   # set by Network (set_dtype)
    scale, resp = plan.edge_scale.cpu(), plan.row_response.cpu()
    src, dst = plan.src.cpu(), plan.dst.cpu()
    groups: List[nn.Module] = []
    if level.n_fused > level.n0:
        e = slice(level.e0, level.e_fused)
        groups.append(_Sum(src[e].clone(), dst[e] - level.n0, weight[e] * scale[e], level.n_fused - level.n0))
    for name, r0, r1, e0, e1 in level.generic:
        groups.append(_Padded(name, src[e0:e1], dst[e0:e1] - r0, weight[e0:e1], resp[r0:r1].clone()))
    return groups


class StaticRecurrent(nn.Module):
    """A snapshot of a recurrent ``net`` unrolled over ``steps`` inputs with dense, export-friendly ops.

    Args:
        net: a recurrent (or ctrnn) :class:`~mpnet.Network`.
        steps: the number of inputs (time steps) the model takes.
        advance_time, time_step, time: a ctrnn's (the Network's own by default) and the clock the
            integration steps are computed from (0: the start of a sequence).

    Shapes:
        ``x: [steps, batch, n_inputs]``, ``h: [num_nodes, batch]`` (and a ctrnn's ``previous``, alike: a
        :class:`~mpnet.engine.recurrent.RecurrentState`'s tensors, zeros to start) -> ``y: [steps, batch, n_outputs]``
        (``[T, steps, batch, n_outputs]`` for ``T`` topologies) and the state after the last step.
    """

    idle: Tensor
    coef: Tensor
    out_rows: Tensor

    def __init__(self, net: Network, steps: int, *, advance_time: Optional[float] = None,
                 time_step: Optional[float] = None, time: float = 0.0):
        super().__init__()
        if not net.recurrent:
            raise ValueError("StaticRecurrent exports a recurrent network; use StaticNetwork for a feed-forward one.")
        steps = check_int(steps, "steps", min=1, max=MAX_UNROLL)   # the number of inputs of the exported model
        _check_numbers(net)
        plan = net.plan
        if net.network_type == "ctrnn":
            advance_time = net.advance_time if advance_time is None else advance_time
            time_step = net.time_step if time_step is None else time_step
            if advance_time is None or time_step is None:
                raise ValueError("A ctrnn exports with its advance_time and time_step: give them to the Network or "
                                 "to the exporter.")
            advance_time, time_step = check_times(advance_time, time_step)
            if steps * advance_time / time_step > MAX_UNROLL:
                raise ArgumentError(f"steps={steps} inputs of advance_time={advance_time!r} in steps of time_step="
                                    f"{time_step!r} unroll into {steps * advance_time / time_step:.3g} integration "
                                    f"steps; an export unrolls at most {MAX_UNROLL:,} (each is written into the "
                                    f"traced graph). Export fewer steps, or raise time_step.")
            schedule = ctrnn_schedule(steps, advance_time, time_step, check_clock(time, "time"))
            check_stable(net, schedule)
            assert net._tau is not None   # a ctrnn Network keeps its time constants
            coef = torch.tensor(schedule.dt, dtype=torch.float64)[:, None] / net._tau[None, :]
        else:
            schedule, coef = discrete_schedule(steps), torch.zeros(0, 0, dtype=torch.float64)
        with torch.no_grad():
            weight = net.weight.detach().cpu()
        (level,) = plan.levels
        n_in = plan.num_inputs
        runs = [(name, r0 - n_in, r1 - n_in) for name, r0, r1 in level.runs]
        self.level = _Level(_groups(plan, level, weight), net.bias.detach().cpu().clone(), runs)
        indeg = (plan.crow[1:] - plan.crow[:-1])[n_in:].cpu()
        self.register_buffer("idle", (indeg == 0).unsqueeze(1))                       # [N - n_in, 1]
        self.register_buffer("coef", coef.to(net.bias.dtype).unsqueeze(2))          # ctrnn [S, N - n_in, 1]
        self.register_buffer("out_rows", (plan.out_rows.reshape(-1) - n_in).cpu().clone())
        self.x_index, self.out_slots, self.lag = schedule.x_index, schedule.out_slots, schedule.lag
        self.steps, self.n_in_rows = steps, n_in
        self.num_graphs, self.n_in, self.n_out, self.batched = plan.num_graphs, plan.n_in, plan.n_out, net.batched
        self.to(device=net.bias.device)

    def forward(self, x: Tensor, h: Tensor, previous: Optional[Tensor] = None) -> Tuple[Tensor, ...]:
        T, n_in = self.num_graphs, self.n_in_rows
        x = _check_inputs(x, [self.steps, -1, self.n_in], h, [n_in + self.idle.shape[0]])
        if previous is not None:
            _check_inputs(x, [self.steps, -1, self.n_in], previous, [n_in + self.idle.shape[0]])
        rows = x.transpose(1, 2)                                               # [steps, n_in, B]
        if T > 1:
            rows = rows.repeat(1, T, 1)
        slots = [h[n_in:]] if self.lag == 1 else [(h if previous is None else previous)[n_in:], h[n_in:]]
        for s, k in enumerate(self.x_index):
            older = slots[s]
            a = self.level(torch.cat([rows[k], slots[s + self.lag - 1]]))
            new = a if self.lag == 1 else older + self.coef[s] * (a - older)
            slots.append(torch.where(self.idle, older, new))
        y = torch.stack([slots[slot].index_select(0, self.out_rows) for slot in self.out_slots])
        y = y.reshape(self.steps, T, self.n_out, -1).permute(1, 0, 3, 2)        # [T, steps, B, n_out]
        y = y if self.batched else y[0]
        last = rows[self.x_index[-1]] if self.x_index else rows[-1]
        if self.lag == 1:
            return y, torch.cat([last, slots[-1]])
        return y, torch.cat([last, slots[-1]]), torch.cat([last, slots[-2]])

    def __repr__(self) -> str:
        return (f"StaticRecurrent(graphs={self.num_graphs}, inputs={self.n_in}, outputs={self.n_out}, "
                f"steps={self.steps}, integration_steps={len(self.x_index)})")


def _example(net: Network, batch: int = 2) -> Tensor:
    return torch.zeros(batch, net.plan.n_in, dtype=net.bias.dtype, device=net.bias.device)


def _static(net: Network, steps: Optional[int]) -> Tuple[nn.Module, Tuple[Tensor, ...]]:
    """The module to trace and an example input: a StaticNetwork, or a StaticRecurrent of ``steps``."""
    _check_numbers(net)
    if not net.recurrent:
        if steps is not None:
            raise ValueError("steps is for recurrent networks; this one is feed-forward.")
        return StaticNetwork(net).eval(), (_example(net),)
    if steps is None:
        raise ValueError("A recurrent network exports for a fixed number of inputs: give steps=...")
    module = StaticRecurrent(net, steps).eval()
    x = torch.zeros(steps, 2, net.plan.n_in, dtype=net.bias.dtype, device=net.bias.device)
    h = torch.zeros(net.plan.num_nodes, 2, dtype=net.bias.dtype, device=net.bias.device)
    return module, ((x, h) if net.network_type != "ctrnn" else (x, h, h))


def to_torchscript(net: Network, path: Optional[PathLike] = None, *, steps: Optional[int] = None
                   ) -> torch.jit.ScriptModule:
    """Trace :class:`StaticNetwork` of ``net`` (:class:`StaticRecurrent` over ``steps`` inputs for a recurrent
    one) to TorchScript (``torch.jit.load`` reads it back, also from C++); saved to ``path`` (e.g.
    ``model.pt``) if given. Any batch size works."""
    module, example = _static(net, steps)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)  # type: ignore[attr-defined]
        traced: torch.jit.ScriptModule = torch.jit.trace(module, example)  # type: ignore[no-untyped-call]
    if path is not None:
        torch.jit.save(traced, os.fspath(path))
    return traced


def _dynamic(example: Tuple[Tensor, ...], batch: torch.export.Dim) -> Tuple[Dict[int, torch.export.Dim], ...]:
    """The batch axis of each example input: 0 of a feed-forward ``x``, 1 of a sequence, 1 of a state."""
    if len(example) == 1:
        return ({0: batch},)
    return tuple({1: batch} for _ in example)


def to_torch_export(net: Network, path: Optional[PathLike] = None, *, steps: Optional[int] = None
                    ) -> "torch.export.ExportedProgram":
    """``torch.export`` :class:`StaticNetwork` of ``net`` (:class:`StaticRecurrent` over ``steps`` inputs for a
    recurrent one) with a dynamic batch dimension; saved to ``path`` (``model.pt2``, read back by
    ``torch.export.load``) if given."""
    batch = torch.export.Dim("batch")
    module, example = _static(net, steps)
    program = torch.export.export(module, example, dynamic_shapes=_dynamic(example, batch))
    if path is not None:
        torch.export.save(program, os.fspath(path))
    return program


_ONE_FILE_BYTES = 1 << 30   # weights up to 1 GiB go inside model.onnx (protobuf's limit is 2 GiB)


def to_onnx(net: Network, path: PathLike, *, dtype: torch.dtype = torch.float32,
            opset_version: Optional[int] = None, steps: Optional[int] = None) -> None:
    """Write ``net`` as an ONNX model (input ``x: [batch, n_inputs]``, output ``y``; dynamic batch). A
    recurrent network is written for ``steps`` inputs (:class:`StaticRecurrent`): inputs ``x [steps, batch,
    n_inputs]``, ``h`` (and ``previous`` for a ctrnn), outputs ``y`` and the state after the last step.
    One file, weights inside; only weights past 1 GiB go to ``<path>.data`` beside it (protobuf's limit).

    Needs the ``onnx`` extra (``pip install "mpnet[onnx]"``: onnx, onnxscript; onnxruntime to run it).

    Args:
        dtype: of the model's numbers and input; float32 by default whatever the network's dtype, since
            onnxruntime has no double kernel for several activations (Softplus, LeakyRelu, ...).

    Raises:
        ImportError: onnx or onnxscript is missing.
    """
    for module in ("onnx", "onnxscript"):
        try:
            __import__(module)
        except ImportError:
            raise ImportError(f"to_onnx needs the package {module!r}: pip install \"mpnet[onnx]\"") from None
    batch = torch.export.Dim("batch")
    if dtype not in (torch.float16, torch.float32, torch.float64):
        raise ArgumentError(f"Expected dtype to be torch.float16, torch.float32 or torch.float64 (got {dtype!r:.40}).")
    static, example = _static(net, steps)
    _check_numbers(net, dtype)   # finite before (_static checks), and still finite in the model's dtype
    static = static.to(dtype)
    example = tuple(t.to(dtype) for t in example)
    names = (["x"], ["y"]) if not net.recurrent else (["x", "h", "previous"][:len(example)],
                                                       ["y", "h_out", "previous_out"][:len(example)])
    # one file: torch writes the weights beside the model (``model.onnx.data``, empty for a small one) unless
    # told not to; only a model past protobuf's 2 GB limit needs the weights in a second file
    external = sum(t.numel() * t.element_size() for t in static.state_dict().values()) > _ONE_FILE_BYTES
    registry = logging.getLogger("torch.onnx._internal.exporter._registration")   # "torchvision is not installed"
    level = registry.level
    registry.setLevel(logging.ERROR)
    try:
        torch.onnx.export(static, example, os.fspath(path), dynamo=True, external_data=external,
                          input_names=names[0], output_names=names[1], dynamic_shapes=_dynamic(example, batch),
                          opset_version=opset_version, verbose=False)
    finally:
        registry.setLevel(level)
