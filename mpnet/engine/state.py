"""The kept state of the fused propagation (propagate stage): per plan, dtype and device, every level's CSR
matrix built once over a value buffer; per batch size, state buffers with every level's views and bound
methods made once, so the passes of :mod:`mpnet.engine.propagate` loop over levels without slicing or bookkeeping.
"""
import threading
from functools import partial
from typing import Any, Callable, Dict, List, Optional, Tuple

import torch
from torch import Tensor

from .compile import Plan, transpose
from .functional import ACTIVATE_INPLACE, GRAD_FROM_H, backward_inplace
from ..threads import Tuner

__all__ = ["Buffers", "Lease", "Prebuilt", "BIG_STATE"]

POOL_PER_BATCH = 2    # state buffers kept per batch size (a training loop holds one graph while building the next)
POOL_BATCHES = 4      # batch sizes kept
BIG_STATE = 1 << 22   # elements of H above which a fast level's derivative is one fused kernel per run

# One level of the forward sweep: ``(True, rows.addmm_, adj, H[:n0], activations)`` for a fast level (its
# rows += ``adj @ H[:n0]``, then each run's in-place activation), ``(False, level, adj, None, None)`` for another.
# Slots 1 and 4 hold different things by kind, hence ``Any``: the sweep unpacks a step once and branches on
# slot 0, which mypy cannot relate to the other slots (narrowing through ``step[0]`` would cost a lookup per level).
ForwardStep = Tuple[bool, Any, Optional[Tensor], Optional[Tensor], Any]
# One level of the backward sweep, deepest first: ``(True, pull, adj, deeper, derivatives, outs)`` for a fast
# level, ``(False, level, adj, deeper, pull, outs)`` for another (``pull(adj, deeper)`` writes the level's rows
# of ``D``; ``outs``: its output rows and their slice of the sorted output gradient, or None). Slots 1 and 4
# differ by kind, as in ForwardStep.
BackwardStep = Tuple[bool, Any, Optional[Tensor], Tensor, Any, Optional[Tuple[Tensor, int, int]]]
# ``(by_src, [CSR of the edges leaving each depth, inputs first], bwd_vals, pattern)``: Prebuilt.backward_parts.
BackwardParts = Tuple[Tensor, List[Optional[Tensor]], Tensor, Tensor]


def _csr(crow: Tensor, col: Tensor, values: Tensor, shape: Tuple[int, int]) -> Tensor:
    return torch.sparse_csr_tensor(crow, col, values, shape, check_invariants=False)


class Buffers:
    """The state of passes at one batch size, kept between passes, with every level's views made once:
    ``H [N, B]`` (activations; the rows of fast levels are computed in place), ``Z [N, B]`` (pre-activations;
    empty when no level needs them), ``D [N, B]`` (gradients, made at the first backward).

    A *fast* level (sum or mean neurons only, one activation of :data:`~mpnet.engine.functional.ACTIVATE_INPLACE`)
    is one in-place sparse product into its rows, which hold their biases, and one in-place activation; its
    backward is one product and one in-place derivative computed from ``h``. Each step below holds the
    bound methods and views it calls, so the loop over levels does no slicing and no bookkeeping.
    """
    __slots__ = ("busy", "batch", "H", "Z", "D", "x_rows", "rest", "steps", "back", "grad_h", "zero",
                 "inputs_touched", "out_order", "work", "tuner")

    def __init__(self, pre: "Prebuilt", plan: Plan, batch: int):
        N, n_in = plan.num_nodes, plan.num_inputs
        self.busy, self.batch = True, batch
        self.H = torch.empty(N, batch, dtype=pre.dtype, device=pre.device)
        self.Z = self.H.new_empty(0) if all(pre.fast) else torch.empty_like(self.H)
        self.x_rows, self.rest = self.H[:n_in], self.H[n_in:]
        self.steps: List[ForwardStep] = []
        H = self.H
        for lvl, adj, fast in zip(plan.levels, pre.fwd, pre.fast):
            if not fast:
                self.steps.append((False, lvl, adj, None, None))
            else:   # one in-place method per run that is not the identity
                acts = tuple(getattr(H[r0:r1], method) for name, r0, r1 in lvl.runs
                             if (method := ACTIVATE_INPLACE[name]) is not None)
                self.steps.append((True, H[lvl.n0:lvl.n1].addmm_, adj, H[:lvl.n0], acts))
        self.D: Optional[Tensor] = None
        self.back: List[BackwardStep] = []
        self.grad_h: Dict[str, Tensor] = {}
        self.zero: List[Callable[[], Tensor]] = []   # zero_ of the D rows that accumulate
        self.inputs_touched = False
        self.work = plan.work_per_sample * batch      # per level, for the thread policy
        self.tuner = Tuner()                          # the backward's thread count at this batch size

    def gradients(self, pre: "Prebuilt", plan: Plan) -> Tensor:
        """``D``, with the backward steps over it (deepest level first), made on first use.

        A level's rows are written by its pull from deeper rows with ``beta=0`` (no zeroing of ``D``); the
        output gradient of its output rows is added after the pull (:attr:`out_order` sorts ``grad_out`` by
        row once per backward, each level adds its slice). Only levels that receive the sends of generic
        neurons, or pull nothing, are zeroed first (:attr:`zero`) and accumulate. A fast level's derivative
        is one in-place multiply per run: by the rows of a whole-state buffer ``f'(z)`` that
        :meth:`derivatives` fills from ``H`` (one pass per activation), or, when the state is big (a call's
        overhead then does not count, the extra pass would), one fused kernel per run."""
        if self.D is None:
            D, H = torch.empty_like(self.H), self.H
            adjs = pre.backward_parts()[1]
            big = H.numel() > BIG_STATE
            hit, out_rows, self.out_order, cut = pre.backward_marks()
            self.inputs_touched = hit[0]
            if hit[0]:
                self.zero.append(D[:plan.num_inputs].zero_)
            for k in range(len(plan.levels), 0, -1):
                lvl, adj, fast = plan.levels[k - 1], adjs[k], pre.fast[k - 1]
                dk, deeper = D[lvl.n0:lvl.n1], D[lvl.n1:]
                accumulate = hit[k] or adj is None
                if accumulate:
                    self.zero.append(dk.zero_)
                pull: Optional[Callable[[Tensor, Tensor], Tensor]] = (
                    None if adj is None else dk.addmm_ if accumulate else partial(dk.addmm_, beta=0.0))
                outs = (out_rows[cut[k]:cut[k + 1]], cut[k], cut[k + 1]) if cut[k + 1] > cut[k] else None
                if not fast:
                    self.back.append((False, lvl, adj, deeper, pull, outs))
                    continue
                grads: List[Callable[[], Tensor]] = []
                for name, r0, r1 in lvl.runs:
                    if name == "identity":
                        continue
                    if big:
                        grads.append(backward_inplace(name, D[r0:r1], H[r0:r1]))
                    else:
                        if name not in self.grad_h:
                            self.grad_h[name] = torch.empty_like(H)
                        grads.append(partial(D[r0:r1].mul_, self.grad_h[name][r0:r1]))
                self.back.append((True, pull, adj, deeper, tuple(grads), outs))
            self.D = D
        return self.D

    def derivatives(self) -> None:
        """Fill the whole-state derivative buffers from ``H`` (see :meth:`gradients`)."""
        for name, out in self.grad_h.items():
            GRAD_FROM_H[name](self.H, out)


class Lease:
    """Held by an autograd graph: its buffers stay busy until the graph is freed (a second backward with
    ``retain_graph=True`` still finds its forward's state)."""
    __slots__ = ("bufs",)

    def __init__(self, bufs: Buffers):
        self.bufs = bufs

    def __del__(self) -> None:
        self.bufs.busy = False


class Prebuilt:
    """Per plan, dtype and device: every level's CSR matrix, built once, whose values are views of one
    buffer (the forward's ``w_eff`` in edge order; a pass refreshes it with one copy), and pools of
    :class:`Buffers`. The backward's matrices (edges sorted by source, values in a second buffer) and the
    sparsity pattern of the one SDDMM that gives every weight gradient are made at the first backward."""

    def __init__(self, plan: Plan, dtype: torch.dtype, device: torch.device):
        self.plan, self.dtype, self.device = plan, dtype, device
        self.fwd_vals = torch.empty(plan.src.numel(), dtype=dtype, device=device)
        self.fwd = [_csr(l.crow, l.col, self.fwd_vals[l.e0:l.e_fused], (l.n_fused - l.n0, l.n0))
                    if l.n_fused > l.n0 else None for l in plan.levels]
        # fast levels: sum/mean neurons only, each run's activation one of ACTIVATE_INPLACE
        self.fast = [l.n_fused == l.n1 and adj is not None and all(r[0] in ACTIVATE_INPLACE for r in l.runs)
                     for l, adj in zip(plan.levels, self.fwd)]
        self._back: Optional[BackwardParts] = None
        self._marks: Tuple[List[bool], Tensor, Tensor, List[int]]   # see backward_marks
        self.pool: Dict[int, List[Buffers]] = {}
        self.lock = threading.Lock()

    def backward_parts(self) -> BackwardParts:
        """``(by_src, [CSR of the edges leaving each depth, inputs first], bwd_vals, pattern)``."""
        if self._back is None:
            plan, N = self.plan, self.plan.num_nodes
            tr = transpose(plan)
            bwd_vals = torch.empty(tr.by_src.numel(), dtype=self.dtype, device=self.device)
            rows = [(0, plan.num_inputs)] + [(l.n0, l.n1) for l in plan.levels]
            adjs = [_csr(crow, col, bwd_vals[a:b], (n1 - n0, N - n1)) if b > a else None
                    for (n0, n1), (crow, (a, b), col) in zip(rows, tr.levels)]
            # int64 indices: sampled_addmm runs ~30% faster with them than with int32 ones (unlike the products)
            pattern = _csr(plan.crow.long(), plan.src, torch.zeros(plan.src.numel(), dtype=self.dtype,
                                                                    device=self.device), (N, N))
            self._back = (tr.by_src, adjs, bwd_vals, pattern)
            # which levels receive generic sends (hit) and where each depth's outputs are (cut): read from the
            # plan once here, so the buffers of a new batch size read nothing from the device
            touched = torch.zeros(N, dtype=torch.bool, device=plan.src.device)
            touched[plan.src[plan.generic_edges]] = True
            lp = plan.level_ptr.cpu()
            hit = torch.segment_reduce(touched.float().cpu(), "max", offsets=lp).bool().tolist()
            out_rows, out_order = torch.sort(plan.out_rows.reshape(-1))
            cut = torch.searchsorted(out_rows.cpu(), lp).tolist()    # outputs of depth k: [cut[k], cut[k + 1])
            self._marks = (hit, out_rows, out_order, cut)
        return self._back

    def backward_marks(self) -> Tuple[List[bool], Tensor, Tensor, List[int]]:
        """``(hit, out_rows, out_order, cut)``: per depth (0: the inputs) whether generic neurons send into
        it, the output rows sorted (and the sorting order), and where each depth's outputs start in them."""
        self.backward_parts()
        return self._marks

    def acquire(self, batch: int) -> Buffers:
        """A free :class:`Buffers` of this batch size (marked busy), made if none is free."""
        with self.lock:
            kept = self.pool.pop(batch, [])
            self.pool[batch] = kept                                   # most recently used last
            for bufs in kept:
                if not bufs.busy:
                    bufs.busy = True
                    return bufs
            bufs = Buffers(self, self.plan, batch)
            if len(kept) < POOL_PER_BATCH:
                kept.append(bufs)
            while len(self.pool) > POOL_BATCHES:
                del self.pool[next(iter(self.pool))]
            return bufs

    @staticmethod
    def get(plan: Plan, like: Tensor) -> "Prebuilt":
        key = (like.dtype, like.device)
        if key not in plan.prebuilt:
            plan.prebuilt[key] = Prebuilt(plan, *key)
        return plan.prebuilt[key]
