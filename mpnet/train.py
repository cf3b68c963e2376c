"""Training: ``fit`` a :class:`~mpnet.Network` (one topology or a batch of them) to data (fifth stage).

A batch of topologies is trained as one model: the loss of each topology is computed separately and
their sum is minimised; since no two topologies share a parameter, each receives exactly the gradient of
its own loss (and Adam, being per-parameter, updates each exactly as if it were trained alone).
"""
import sys
from typing import Callable, Optional, Union

import torch
import torch.nn.functional as F
from torch import Tensor

from .model import Network

__all__ = ["fit", "LOSSES"]


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
LOSSES = {"mse": _mse, "bce": _bce, "cross_entropy": _cross_entropy}


def _optimizer(optimizer, params, lr: float) -> torch.optim.Optimizer:
    if isinstance(optimizer, torch.optim.Optimizer):
        return optimizer
    if callable(optimizer):
        return optimizer(params)
    choices = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD, "adamw": torch.optim.AdamW}
    if optimizer not in choices:
        raise ValueError(f'Invalid optimizer "{optimizer}". Must be one of {list(choices)}, an optimizer '
                         f"instance or a callable taking the parameters.")
    return choices[optimizer](params, lr=lr)


def fit(net: Network, X: Tensor, Y: Tensor, *, loss: Union[str, Callable] = "mse", epochs: int = 100,
        batch_size: Optional[int] = None, optimizer="adam", lr: float = 0.01, seed: int = 0,
        progress: Optional[bool] = None) -> Tensor:
    """Train ``net`` on ``(X, Y)`` and return the loss history.

    Args:
        net: a :class:`~mpnet.Network` (one topology or a batch).
        X: ``[n, n_inputs]`` (or ``[T, n, n_inputs]`` for a batch with one data set per topology).
        Y: ``[n, n_outputs]`` or ``[n]`` (class indices for cross_entropy, or one output), or with a
            leading ``T``.
        loss: ``"mse"``, ``"bce"``, ``"cross_entropy"``, or ``callable(pred, target) -> [T]`` or scalar,
            where ``pred`` is ``[T, batch, n_outputs]`` (``T = 1`` for a single topology).
        epochs: passes over the data.
        batch_size: samples per step (``None``: the whole data set, one step per epoch).
        optimizer: ``"adam"`` (default), ``"sgd"``, ``"adamw"``, an optimizer, or ``callable(params)``.
        lr: learning rate of a named optimizer.
        seed: seeds the shuffling of mini-batches.
        progress: show a tqdm bar (``None``: only when stderr is a terminal).

    Returns:
        ``[epochs]`` mean loss per epoch for a single topology, ``[epochs, T]`` for a batch; each entry
        averages the mini-batch losses seen during that epoch, i.e. measured before each step.

    Note:
        The loop runs under the network's thread policy (:mod:`mpnet.threads`): one thread unless the
        network's levels are big, torch's setting restored afterwards.
    """
    if isinstance(loss, str):
        if loss not in LOSSES:
            raise ValueError(f'Invalid loss "{loss}". Must be one of {list(LOSSES)} or a callable.')
        loss_fn = LOSSES[loss]
    else:
        loss_fn = loss
    param = net.bias
    X = torch.as_tensor(X, dtype=param.dtype, device=param.device)
    Y = torch.as_tensor(Y, device=param.device)
    if Y.is_floating_point() or loss_fn is not _cross_entropy:
        Y = Y.to(param.dtype)
    T, n_out = net.num_graphs, net.plan.n_out
    n = X.shape[-2]
    if loss_fn is not _cross_entropy and Y.dim() == X.dim() - 1 and n_out == 1:
        Y = Y.unsqueeze(-1)
    if Y.shape[-2 if loss_fn is not _cross_entropy else -1] != n:
        raise ValueError(f"X has {n} samples but Y has shape {list(Y.shape)}; they must match.")
    if loss_fn in (_mse, _bce) and Y.shape[-1] != n_out:
        raise ValueError(f"Expected Y with {n_out} column(s), one per network output (got shape {list(Y.shape)}).")
    if X.shape[-1] != net.plan.n_in:
        raise ValueError(f"Expected X with {net.plan.n_in} column(s), one per network input (got shape "
                         f"{list(X.shape)}).")
    opt = _optimizer(optimizer, [p for p in net.parameters() if p.requires_grad], lr)
    gen = torch.Generator().manual_seed(seed)
    size = n if batch_size is None else batch_size
    history = torch.empty(epochs, T)
    show = sys.stderr.isatty() if progress is None else progress
    bar = None
    if show:
        from tqdm.auto import tqdm
        bar = tqdm(total=epochs, desc="fit", unit="epoch", leave=False)
    net.train()
    with net.pass_threads(size):   # losses and optimizer steps too: small networks stay on one thread
        for epoch in range(epochs):
            order = (torch.randperm(n, generator=gen).to(param.device) if size < n
                     else torch.arange(n, device=param.device))
            total = torch.zeros(T, dtype=param.dtype, device=param.device)
            for start in range(0, n, size):
                idx = order[start:start + size]
                xb = X[..., idx, :]
                yb = Y[..., idx, :] if loss_fn is not _cross_entropy else Y[..., idx]
                pred = net(xb)
                if not net.batched:
                    pred = pred.unsqueeze(0)
                per = loss_fn(pred, yb)
                per = per.expand(T) if per.dim() == 0 and T == 1 else per
                opt.zero_grad(set_to_none=True)
                per.sum().backward()
                opt.step()
                total += per.detach() * idx.numel()
            history[epoch] = (total / n).cpu()
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{history[epoch].mean():.4g}")
    if bar is not None:
        bar.close()
    return history if net.batched else history[:, 0]
