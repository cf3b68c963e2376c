"""Training: ``fit`` a :class:`~mpnet.Network` (one topology or a batch of them) to data (fifth stage).

A batch of topologies is trained as one model: the loss of each topology is computed separately and
their sum is minimised; since no two topologies share a parameter, each receives exactly the gradient of
its own loss (and Adam, being per-parameter, updates each exactly as if it were trained alone).
"""
import sys
import time
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor

from .checks import (as_tensor, check_bool, check_epochs, check_finite, check_float, check_int, check_loss_value,
                     check_optimizer, check_rows, check_seed, check_targets)
from .checks.recordings import check_recording_noise, check_recordings
from .errors import ArgumentError, DataError, DivergenceError
from .graph.elements import NodeId
from .model import Network
from .model.recorded import Recordings

__all__ = ["fit", "LOSSES"]

#: A loss: ``(pred [T, batch, n_outputs], target) -> [T]`` (or a scalar for one topology).
LossFn = Callable[[Tensor, Tensor], Tensor]
#: An optimizer: a name of ``_OPTIMIZERS``, an instance, or ``callable(params)`` building one.
OptimizerSpec = Union[str, torch.optim.Optimizer, Callable[[List[torch.nn.Parameter]], torch.optim.Optimizer]]


def _mse(pred: Tensor, target: Tensor) -> Tensor:
    return (pred - target).pow(2).flatten(-2).mean(-1)


def _bce(pred: Tensor, target: Tensor) -> Tensor:
    return F.binary_cross_entropy_with_logits(pred, target.expand_as(pred), reduction="none").flatten(-2).mean(-1)


def _cross_entropy(pred: Tensor, target: Tensor) -> Tensor:
    # pred: [..., batch, classes] logits; target: [..., batch] class indices
    target = target.long().expand(pred.shape[:-1])
    return F.cross_entropy(pred.reshape(-1, pred.shape[-1]), target.reshape(-1), reduction="none"
                           ).view(pred.shape[:-1]).mean(-1)


#: Built-in losses, each returning one value per topology: mse; bce (on logits: the outputs are passed
#: through a sigmoid inside the loss); cross_entropy (outputs are logits, targets class indices).
LOSSES: Dict[str, LossFn] = {"mse": _mse, "bce": _bce, "cross_entropy": _cross_entropy}
_LOSS_NAMES: Dict[LossFn, str] = {_bce: "bce", _cross_entropy: "cross_entropy"}   # the targets they check


_OPTIMIZERS: Dict[str, Callable[..., torch.optim.Optimizer]] = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD,
                                                                "adamw": torch.optim.AdamW}


def _optimizer(optimizer: OptimizerSpec, params: List[torch.nn.Parameter], lr: Optional[float]
               ) -> torch.optim.Optimizer:
    if isinstance(optimizer, torch.optim.Optimizer):   # checked to hold some of these parameters
        return check_optimizer(optimizer, params, made=False)
    if callable(optimizer):
        return check_optimizer(optimizer(params), params, made=True)
    if not isinstance(optimizer, str) or optimizer not in _OPTIMIZERS:
        raise ArgumentError(f'Invalid optimizer "{optimizer}". Must be one of {list(_OPTIMIZERS)}, an optimizer '
                            f"instance or a callable taking the parameters.")
    return _OPTIMIZERS[optimizer](params, lr=lr)


def _lr_ignored(lr: Any, optimizer: OptimizerSpec) -> str:
    """The message refusing ``lr`` beside an optimizer that sets its own learning rate."""
    if isinstance(optimizer, torch.optim.Optimizer):
        own = sorted({g.get("lr") for g in optimizer.param_groups}, key=repr)
        return (f"lr={lr!r} sets the learning rate of a named optimizer only; the {type(optimizer).__name__} given "
                f"as optimizer keeps its own (lr={own[0] if len(own) == 1 else own}) and would ignore it. Set it "
                f"where the optimizer is built ({type(optimizer).__name__}(net.parameters(), lr={lr!r})), or drop lr.")
    return (f"lr={lr!r} sets the learning rate of a named optimizer only; the callable given as optimizer builds "
            f"its own and would ignore it. Set it there (optimizer=lambda params: torch.optim.SGD(params, "
            f"lr={lr!r})), or drop lr.")


def fit(net: Network, X: Tensor, Y: Tensor, *, loss: Union[str, LossFn] = "mse", epochs: int = 100,
        batch_size: Optional[int] = None, optimizer: OptimizerSpec = "adam", lr: Optional[float] = None, seed: int = 0,
        progress: Optional[bool] = None, observed: Optional[Mapping[NodeId, Any]] = None,
        observed_noise: Optional[Mapping[NodeId, float]] = None, noise_std: Optional[float] = None) -> Tensor:
    """Train ``net`` on ``(X, Y)`` (and recordings of hidden neurons, ``observed``) and return the loss history.

    Args:
        net: a :class:`~mpnet.Network` (one topology or a batch).
        X: ``[n, n_inputs]`` (or ``[T, n, n_inputs]`` for a batch with one data set per topology). For a
            recurrent network, sequences: ``[n, steps, n_inputs]`` (or ``[T, n, steps, n_inputs]``).
        Y: ``[n, n_outputs]`` or ``[n]`` (class indices for cross_entropy, or one output), or with a
            leading ``T``. For sequences, a target per step ``[n, steps, n_outputs]`` (``[n, steps]`` of
            class indices), or for the last step only ``[n, n_outputs]`` (``[n]``); with a leading ``T``
            exactly when ``X`` has one.
        loss: ``"mse"``, ``"bce"``, ``"cross_entropy"``, or ``callable(pred, target) -> [T]`` or scalar,
            where ``pred`` is ``[T, batch, n_outputs]`` (``T = 1`` for a single topology; for targets per
            step, ``batch`` counts sample-steps, ``batch * steps``).
        epochs: passes over the data.
        batch_size: samples per step (``None``: the whole data set, one step per epoch).
        optimizer: ``"adam"`` (default), ``"sgd"``, ``"adamw"``, an optimizer, or ``callable(params)``.
        lr: learning rate of a named optimizer (None: 0.01). An optimizer instance or callable brings its own:
            ``lr`` with one is refused (it would be ignored).
        seed: seeds the shuffling of mini-batches.
        progress: show a tqdm bar (``None``: only when stderr is a terminal).
        observed: recordings of hidden neurons, ``{neuron id: [n] values}`` aligned with the rows of ``X``
            (NaN where a sample was not recorded; ``[T, n]`` for one recording per topology of a batch): the
            recorded neuron's activation is fitted to them (its post-activation value), next to the outputs.
            Feed-forward networks and ``loss="mse"`` only: the loss becomes the mean over every target value
            and every recorded value of its squared error, a recorded value's weighed by
            ``noise_std ** 2 / observed_noise[v] ** 2`` (1 when either is not given: the same noise as the
            outputs).
        observed_noise: ``{recorded neuron: noise std}`` of the recordings (needs ``noise_std``).
        noise_std: the noise std of ``Y``, against which the recordings are weighed (needs ``observed``).

    Returns:
        ``[epochs]`` mean loss per epoch for a single topology, ``[epochs, T]`` for a batch; each entry
        averages the mini-batch losses seen during that epoch, i.e. measured before each step.

    Raises:
        ArgumentError: an argument of the wrong type or out of range (``epochs`` and ``batch_size`` ints
            >= 1, ``lr`` a finite number > 0 and only with a named optimizer, ...), named with the value it got.
        DataError: ``X`` or ``Y`` empty, of the wrong shape, holding NaN or inf (the first such row and column
            named), or targets the loss cannot take (bce: in [0, 1]; cross_entropy: class ids in range).
        DivergenceError: the loss or the weights became NaN or inf; the network is left with the last weights
            known to give a finite loss and the error names the epoch (its ``history`` holds the epochs before).

    Note:
        ``X`` and ``Y`` are moved once to the network's device (``Network(..., device=...)``); a training
        step never waits for the device (the loss history stays there until the end; with ``progress``
        the bar reads the loss at most twice a second). The loop runs under the network's thread policy
        (:mod:`mpnet.threads`): one thread unless the network's levels are big, torch's setting restored
        afterwards.

    Example:
        >>> import torch, mpnet
        >>> topo = mpnet.Topology.from_edges([("x1", "y"), ("x2", "y")], inputs=["x1", "x2"], outputs=["y"])
        >>> net = mpnet.Network(topo, seed=0)
        >>> X = torch.randn(200, 2, generator=torch.Generator().manual_seed(0))
        >>> history = mpnet.fit(net, X, 2 * X[:, :1] - 3 * X[:, 1:], epochs=300, lr=0.05)
        >>> history.shape                                   # the mean loss of each epoch
        torch.Size([300])
        >>> [round(edge.weight, 3) for edge in net.to_topology().edges.values()]
        [2.0, -3.0]
    """
    if not isinstance(net, Network):
        raise ArgumentError(f"Expected net to be an mpnet.Network (got a {type(net).__name__}); build one with "
                            f"mpnet.Network(topology).")
    if isinstance(loss, str):
        if loss not in LOSSES:
            raise ArgumentError(f'Invalid loss "{loss}". Must be one of {list(LOSSES)} or a callable.')
        loss_fn = LOSSES[loss]
    elif callable(loss):
        loss_fn = loss
    else:
        raise ArgumentError(f"Expected loss to be one of {list(LOSSES)} or a callable (got {loss!r}).")
    epochs = check_epochs(epochs, net.num_graphs)   # the loss history [epochs, T] is allocated up front
    batch_size = check_int(batch_size, "batch_size", min=1, allow_none=True)
    named_optimizer = not isinstance(optimizer, torch.optim.Optimizer) and not callable(optimizer)
    if named_optimizer:
        lr = check_float(0.01 if lr is None else lr, "lr", min=0, min_open=True)
    elif lr is not None:   # refused, not warned about: a run at a rate nobody asked for is easy to miss in a log
        raise ArgumentError(_lr_ignored(lr, optimizer))
    seed = check_seed(seed)
    progress = check_bool(progress, "progress", allow_none=True)
    param = net.bias
    X = as_tensor(X, "X")
    if not X.is_floating_point():
        X = X.to(param.dtype)
    if X.dtype != param.dtype:   # a float64 value beyond float32 becomes inf here: checked below
        X = X.to(param.dtype)
    X = X.to(param.device)
    Y = as_tensor(Y, "Y", device=param.device)
    ids = loss_fn is _cross_entropy
    if Y.is_floating_point() or not ids:
        Y = Y.to(param.dtype)
    T, n_out = net.num_graphs, net.plan.n_out
    if getattr(net, "recurrent", False):
        if observed is not None or observed_noise is not None or noise_std is not None:
            raise ArgumentError("observed= (recordings of hidden neurons) is for feed-forward networks; this one "
                                "is recurrent.")
        return _fit_sequences(net, X, Y, loss_fn, epochs=epochs, batch_size=batch_size, optimizer=optimizer, lr=lr,
                              seed=seed, progress=progress, named_optimizer=named_optimizer)
    n, Y = check_rows(X, Y, n_in=net.plan.n_in, n_out=n_out, num_graphs=T, class_ids=ids)
    check_finite(X, "X")
    check_finite(Y, "Y")
    check_targets(Y, _LOSS_NAMES.get(loss_fn, "custom"), n_out)
    rec = _recordings(net, observed, observed_noise, noise_std, loss, loss_fn, n)
    opt = _optimizer(optimizer, [p for p in net.parameters() if p.requires_grad], lr)
    device = param.device
    # the shuffles are drawn where the data lives: no host-to-device copy per epoch (on the CPU: as before)
    gen = torch.Generator(device=device).manual_seed(seed)
    size = n if batch_size is None else min(batch_size, n)
    history = torch.empty(epochs, T, device=device)   # stays on the device until the end: no sync per step
    show = sys.stderr.isatty() if progress is None else progress
    bar, shown = None, 0.0
    if show:
        from tqdm.auto import tqdm
        bar = tqdm(total=epochs, desc="fit", unit="epoch", leave=False)
    net.train()
    params = [net.raw_weight, net.bias]
    # the weights at the start of this epoch (cur) and of the one before (prev): the loss history[k] is measured
    # with the weights of the start of epoch k (full batch) or from them on (mini-batches)
    prev, cur = [p.detach().clone() for p in params], [p.detach().clone() for p in params]
    ok = torch.ones((), dtype=torch.bool, device=device)                 # every epoch so far finite
    first_bad = torch.full((), epochs, dtype=torch.long, device=device)  # the first that was not
    with net.pass_threads(size):   # losses and optimizer steps too: small networks stay on one thread
        for epoch in range(epochs):
            # snapshots taken while every epoch so far was finite (decided on the device: no sync per epoch)
            for p, was, now in zip(params, prev, cur):
                was.copy_(torch.where(ok, now, was))
                now.copy_(torch.where(ok, p.detach(), now))
            order = torch.randperm(n, generator=gen, device=device) if size < n else None
            total = torch.zeros(T, dtype=param.dtype, device=device)
            for start in range(0, n, size):
                if order is None:                       # the whole data set: no gather, no copy
                    xb, yb, count = X, Y, n
                else:
                    idx = order[start:start + size]
                    xb = X[..., idx, :]
                    yb = Y[..., idx, :] if loss_fn is not _cross_entropy else Y[..., idx]
                    count = min(size, n - start)
                if rec is not None:
                    per = rec.loss(xb, yb, None if order is None else idx)
                else:
                    pred = net(xb)
                    per = loss_fn(pred if net.batched else pred.unsqueeze(0), yb)
                per = check_loss_value(per, T, loss_fn)   # [T]: a loss callable's value checked
                opt.zero_grad(set_to_none=True)
                per.sum().backward()   # type: ignore[no-untyped-call]  # torch leaves Tensor.backward untyped
                opt.step()
                total += per.detach() * count
            history[epoch] = total / n
            finite = torch.isfinite(history[epoch]).all()
            for p in params:
                finite = finite & torch.isfinite(p).all()
            first_bad = torch.where(ok & ~finite, epoch, first_bad)
            ok = ok & finite
            if bar is not None:
                bar.update(1)
                if time.monotonic() - shown > 0.5:      # reading the loss waits for the device: twice a second
                    shown = time.monotonic()
                    bar.set_postfix(loss=f"{history[epoch].mean().item():.4g}")
    if bar is not None:
        bar.close()
    history = history.cpu()
    if not bool(ok):   # the one read of the device: did any epoch diverge?
        _diverged(net, params, (prev, cur), history, int(first_bad), lr if named_optimizer else None)
    return history if net.batched else history[:, 0]


def _recordings(net: Network, observed: Any, observed_noise: Any, noise_std: Any, loss: Any, loss_fn: LossFn,
                n: int) -> Optional[Recordings]:
    """:func:`fit`'s recordings, checked (None without any), or an error naming what does not fit."""
    if observed is None and observed_noise is None and noise_std is None:
        return None
    noise_std = check_float(noise_std, "noise_std", min=0, min_open=True, allow_none=True)
    topologies = net.topologies
    hidden = [v for v, node in topologies[0].nodes.items() if node.role == "hidden"
              and all(v in t.nodes and t.nodes[v].role == "hidden" for t in topologies[1:])]
    neurons, values = check_recordings(observed, hidden=hidden, inputs=topologies[0].inputs,
                                       outputs=topologies[0].outputs, n=n, num_graphs=net.num_graphs)
    if values is None:
        if observed_noise is not None or noise_std is not None:
            raise ArgumentError("observed_noise and noise_std weigh recordings of hidden neurons against the "
                                "outputs; without observed= they would change nothing: drop them.")
        return None
    noise = check_recording_noise(observed_noise, neurons)
    if loss_fn is not _mse:
        raise ArgumentError(f"observed= adds the recordings' squared errors to the outputs'; it needs loss='mse' "
                            f"(got {loss!r}).")
    if noise and noise_std is None:
        raise ArgumentError("observed_noise gives the recordings' noise std; to weigh them against the outputs, "
                            "give noise_std (the noise std of Y) too.")
    return Recordings(net, neurons, values, [(noise_std / noise[v]) ** 2 if v in noise and noise_std else 1.0
                                             for v in neurons])


def _fit_sequences(net: Network, X: Tensor, Y: Tensor, loss_fn: LossFn, *, epochs: int,
                   batch_size: Optional[int], optimizer: OptimizerSpec, lr: Optional[float], seed: int, progress: Optional[bool],
                   named_optimizer: bool) -> Tensor:
    """:func:`fit` for a recurrent network (backpropagation through time over whole sequences)."""
    T, n_out, n_in = net.num_graphs, net.plan.n_out, net.plan.n_in
    ce = loss_fn is _cross_entropy
    if X.dim() not in (3, 4) or X.shape[-1] != n_in or (X.dim() == 4 and (not net.batched or X.shape[0] != T)):
        want = f"[n, steps, {n_in}]" + (f" or [{T}, n, steps, {n_in}]" if net.batched else "")
        raise DataError(f"Expected X of shape {want} for a recurrent network: a batch of input sequences (got "
                        f"shape {list(X.shape)}).")
    lead = X.dim() - 3                    # 1 if X (and so Y) has a leading T
    n, steps = X.shape[lead], X.shape[lead + 1]
    if n == 0 or steps == 0:
        raise DataError(f"X of shape {list(X.shape)} holds no {'sequence' if n == 0 else 'step'}; give at least "
                        f"one sequence of at least one step.")
    if not ce and n_out == 1 and Y.dim() == lead + 1:
        Y = Y.unsqueeze(-1)               # [n] -> [n, 1]: one output, last step
    per_step = Y.dim() == lead + (2 if ce else 3)
    last = Y.dim() == lead + (1 if ce else 2)
    shape_ok = (per_step or last) and Y.shape[lead] == n and (not per_step or Y.shape[lead + 1] == steps) \
        and (ce or Y.shape[-1] == n_out) and (not lead or Y.shape[0] == T)
    if not shape_ok:
        tail = "" if ce else f", {n_out}"
        raise DataError(f"Expected Y of shape {'[T, ' if lead else '['}{n}, {steps}{tail}] (a target per step) or "
                        f"{'[T, ' if lead else '['}{n}{tail}] (the last step only) for X of shape {list(X.shape)} "
                        f"(got {list(Y.shape)}).")
    _check_finite_sequences(X, "X", lead)
    _check_finite_sequences(Y, "Y", lead)
    check_targets(Y, _LOSS_NAMES.get(loss_fn, "custom"), n_out)
    opt = _optimizer(optimizer, [p for p in net.parameters() if p.requires_grad], lr)
    gen = torch.Generator().manual_seed(seed)
    size = n if batch_size is None else batch_size
    device = net.bias.device
    history = torch.empty(epochs, T)
    show = sys.stderr.isatty() if progress is None else progress
    bar = None
    if show:
        from tqdm.auto import tqdm
        bar = tqdm(total=epochs, desc="fit", unit="epoch", leave=False)
    net.train()
    params = [net.raw_weight, net.bias]
    cur: Optional[List[Tensor]] = None
    first_bad: Optional[int] = None
    with net.pass_threads(size):   # as fit: the thread policy over the whole loop (mpnet/threads.py)
        for epoch in range(epochs):
            # the weights at the start of the epoch before (prev) and of this one (cur), as in fit
            prev, cur = cur, [p.detach().clone() for p in params]
            prev = cur if prev is None else prev
            order = torch.randperm(n, generator=gen).to(device) if size < n else torch.arange(n, device=device)
            total = torch.zeros(T, dtype=net.bias.dtype, device=device)
            for start in range(0, n, size):
                idx = order[start:start + size]
                xb, yb = X.index_select(lead, idx), Y.index_select(lead, idx)
                pred = net(xb.transpose(-3, -2))                 # [(T,) steps, b, n_out]
                pred = pred if net.batched else pred.unsqueeze(0)
                if per_step:                         # [T, b * steps, n_out] against [(T,) b * steps(, n_out)]
                    pred = pred.transpose(1, 2).reshape(T, -1, n_out)
                    yb = yb.reshape(yb.shape[:lead] + (-1,) + yb.shape[lead + 2:])
                else:
                    pred = pred[:, -1]
                per = loss_fn(pred, yb)
                per = check_loss_value(per, T, loss_fn)   # [T]: a loss callable's value checked
                opt.zero_grad(set_to_none=True)
                per.sum().backward()   # type: ignore[no-untyped-call]  # torch leaves Tensor.backward untyped
                opt.step()
                total += per.detach() * idx.numel()
            history[epoch] = (total / n).cpu()
            finite = bool(torch.isfinite(history[epoch]).all()) and all(bool(torch.isfinite(p).all()) for p in params)
            if not finite:
                first_bad = epoch
                break
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{history[epoch].mean():.4g}")
    if bar is not None:
        bar.close()
    if first_bad is not None:
        assert prev is not None and cur is not None   # set by the epoch that diverged
        _diverged(net, params, (prev, cur), history, first_bad, lr if named_optimizer else None)
    return history if net.batched else history[:, 0]


def _check_finite_sequences(t: Tensor, name: str, lead: int) -> None:
    """A DataError naming the first NaN or inf of ``t`` (``[(T,) n, steps, ...]`` or ``[(T,) n, ...]``)."""
    if not t.is_floating_point():
        return
    bad = ~torch.isfinite(t)
    if not bool(bad.any()):
        return
    first = [int(i) for i in torch.nonzero(bad)[0]]
    names = (["topology"] if lead else []) + ["sequence", "step", "column"]
    if t.dim() < len(names):   # targets of the last step only: no steps axis
        names = names[:lead + 1] + names[lead + 2:]
    where = ", ".join(f"{k} {i}" for k, i in zip(names, first))
    raise DataError(f"{name} holds {t[tuple(first)].item()} at {where} ({int(bad.sum())} non-finite values in "
                    f"all); remove or fill those values.")


def _diverged(net: Network, params: Sequence[Tensor], starts: Tuple[Sequence[Tensor], Sequence[Tensor]],
              history: Tensor, epoch: int, lr: Optional[float]) -> None:
    """Restore the last weights known to give a finite loss and raise the DivergenceError naming the epoch.

    ``starts``: the weights at the start of the previous epoch and of this one. A non-finite loss at this epoch
    condemns this epoch's starting weights, so those of the previous epoch come back (the initial weights at
    epoch 0); a finite loss with non-finite weights after the steps keeps this epoch's starting weights."""
    row = history[epoch]
    loss_ok = bool(torch.isfinite(row).all())
    kept = epoch if loss_ok or epoch == 0 else epoch - 1
    with torch.no_grad():
        for p, good in zip(params, starts[1] if kept == epoch else starts[0]):
            p.copy_(good)
    bad = [t for t in range(row.numel()) if not bool(torch.isfinite(row[t]))]
    which = "" if not net.batched or not bad else (f" for topology {bad[0]}" + (f" (and {len(bad) - 1} more)"
                                                                                if len(bad) > 1 else ""))
    what = f"the loss{which} is {row[bad[0]].item()}" if bad else "the loss is finite but a weight became non-finite"
    hint = (f"lower the learning rate (lr={lr:g})" if lr is not None else "lower the learning rate")
    done = history[:epoch] if net.batched else history[:epoch, 0]
    kept_text = "its initial weights" if kept == 0 else f"the weights it had at the start of epoch {kept}"
    raise DivergenceError(f"Training diverged at epoch {epoch}: {what}. Try to {hint}, or scale X and Y to values "
                          f"near 1 (e.g. standardise each column). The network keeps {kept_text}; the error's "
                          f".history holds the losses of epochs 0 .. {epoch - 1}.", history=done, epoch=epoch)
