"""Shared plumbing of the peer methods (cn, sae, devise, ale, sje, conse, cn-soft).

Each peer module declares ``NAME``, ``PARAMS`` (its hyperparameters, ``szsl.params``; ``DEFAULTS`` and ``SPACE``
derive from them) and ``fit(X, y, attributes, params, *, seed, device)``. This module holds what they all need and
nothing method-specific: parameter checking (``check_params`` for old-style ``DEFAULTS``/``SPECS`` modules), input checking, the
seen/unseen split implied by ``y``, seeded initialisation (``seeded_linear``: an ``nn.Linear`` drawn from the fit's
generator) and shuffling, the seen-class softmax classifier several peers train (``train_softmax_classifier``), the preamble every fit
starts with (``begin_fit``), the minibatch training loop (``train_epochs``), and the ``Fitted``
result type with ``.scores(X)``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from szsl.errors import SZSLError
from szsl.model import resolve_device
from szsl.params import Param, check, from_specs


def check_params(name: str, defaults: Mapping[str, Any], specs: Mapping[str, tuple] | None, params: Mapping[str, Any] | None) -> dict:
    """``params.check`` for an old-style module (``DEFAULTS`` and ``SPECS`` value tuples, see ``params.from_specs``):
    DEFAULTS updated by ``params``; SZSLError on an unknown key or a value outside its spec."""
    return check(name, from_specs(defaults, specs), params)


def check_inputs(name: str, X, y, attributes) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X float32, y int64, attributes float32, seen, unseen) after shape/value checks."""
    X = np.asarray(X, dtype=np.float32)
    y = np.asarray(y)
    A = np.asarray(attributes, dtype=np.float32)
    if X.ndim != 2 or X.shape[0] == 0:
        raise SZSLError(f"{name}: X must be a non-empty 2-D (images x features) array, got shape {X.shape}")
    if A.ndim != 2:
        raise SZSLError(f"{name}: attributes must be a 2-D (classes x attributes) array, got shape {A.shape}")
    if y.shape != (X.shape[0],):
        raise SZSLError(f"{name}: y must have shape ({X.shape[0]},) to match X, got {y.shape}")
    if y.size and not np.issubdtype(y.dtype, np.integer):
        raise SZSLError(f"{name}: y must hold integer class indices, got dtype {y.dtype}")
    y = y.astype(np.int64)
    if y.min() < 0 or y.max() >= A.shape[0]:
        raise SZSLError(f"{name}: y holds class indices outside [0, {A.shape[0]}) (the rows of attributes)")
    if not np.isfinite(X).all():
        raise SZSLError(f"{name}: X contains NaN or inf")
    if not np.isfinite(A).all():
        raise SZSLError(f"{name}: attributes contain NaN or inf")
    seen = np.unique(y)
    if seen.size < 2:
        raise SZSLError(f"{name}: training needs images of at least 2 classes, got {seen.size}")
    unseen = np.setdiff1d(np.arange(A.shape[0]), seen)
    return X, y, A, seen, unseen


def l2_rows(a: np.ndarray | torch.Tensor, eps: float = 1e-12):
    if isinstance(a, torch.Tensor):
        return a / a.norm(dim=1, keepdim=True).clamp_min(eps)
    a = np.asarray(a, dtype=np.float64)
    return a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), eps)


def generator(seed: int) -> torch.Generator:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise SZSLError(f"seed={seed!r}: expected an integer")
    g = torch.Generator(device="cpu")
    g.manual_seed(int(seed) & 0x7FFF_FFFF_FFFF_FFFF)
    return g


def uniform_(shape, bound: float, g: torch.Generator) -> torch.Tensor:
    """U(-bound, bound) drawn on the CPU from ``g`` (device-independent, so CPU and CUDA runs start alike)."""
    return (torch.rand(shape, generator=g, dtype=torch.float32) * 2.0 - 1.0) * bound


def linear_init(in_dim: int, out_dim: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """PyTorch's nn.Linear default: weight and bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)); weight (out, in)."""
    bound = 1.0 / math.sqrt(in_dim)
    return uniform_((out_dim, in_dim), bound, g), uniform_((out_dim,), bound, g)


def seeded_linear(in_dim: int, out_dim: int, g: torch.Generator, *, bias: bool = True) -> nn.Linear:
    """nn.Linear(in_dim, out_dim) with PyTorch's default initialisation drawn from ``g`` (``linear_init``: the weight,
    then the bias, on the CPU). With ``bias=False`` the bias is drawn all the same and dropped, so the draws after it
    do not depend on it. Built without torch's own init, so nothing is drawn from torch's global generator."""
    W, b = linear_init(in_dim, out_dim, g)
    layer = nn.utils.skip_init(nn.Linear, in_dim, out_dim, bias=bias)
    with torch.no_grad():
        layer.weight.copy_(W)
        if bias:
            layer.bias.copy_(b)
    return layer


def batches(n: int, batch_size: int, g: torch.Generator):
    """Indices of one shuffled epoch, in minibatches (the last one may be smaller)."""
    perm = torch.randperm(n, generator=g)
    for start in range(0, n, batch_size):
        yield perm[start : start + batch_size]


def train_epochs(step_loss: Callable[[torch.Tensor], torch.Tensor], opt: torch.optim.Optimizer, *, n: int, epochs: int,
                 batch_size: int, g: torch.Generator, device, end_epoch: Callable[[], object] | None = None) -> list[float]:
    """``epochs`` passes of minibatch training over ``n`` rows, each a seeded shuffle (``batches``): per minibatch
    ``step_loss(idx)`` (``idx`` on ``device``) gives the scalar loss, then one step of ``opt``; ``end_epoch()`` (a
    scheduler's step, say) runs after each pass. Returns the per-epoch mean loss (minibatches weighted by size)."""
    history = []
    for _epoch in range(epochs):
        total, count = 0.0, 0
        for idx in batches(n, batch_size, g):
            idx = idx.to(device)
            loss = step_loss(idx)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * idx.numel()
            count += idx.numel()
        if end_epoch is not None:
            end_epoch()
        history.append(total / count)
    return history


def train_softmax_classifier(X: torch.Tensor, target: torch.Tensor, n_classes: int, *, lr: float, weight_decay: float,
                             epochs: int, batch_size: int, g: torch.Generator, device,
                             inputs: Callable[[torch.Tensor], torch.Tensor] | None = None) -> tuple[nn.Linear, list[float]]:
    """A linear softmax classifier (``seeded_linear`` from ``g``) of ``inputs(X[idx])`` (None: ``X[idx]``), cross-entropy
    to ``target``, trained by ``train_epochs`` with Adam (``lr``, ``weight_decay``). Returns the layer (frozen) and the
    per-epoch mean loss."""
    layer = seeded_linear(X.shape[1], n_classes, g).to(device)
    opt = torch.optim.Adam(layer.parameters(), lr=lr, weight_decay=weight_decay)

    def step_loss(idx: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(layer(X[idx] if inputs is None else inputs(X[idx])), target[idx])

    history = train_epochs(step_loss, opt, n=X.shape[0], epochs=epochs, batch_size=batch_size, g=g, device=device)
    return layer.requires_grad_(False), history


@dataclass
class FitRun:
    """One fit's checked hyperparameters ``p`` and inputs (``check_inputs``' X, y, A, seen, unseen), its seeded
    generator ``g`` (None for a fit that draws nothing), device ``dev`` and start time ``t0``."""

    name: str
    p: dict
    X: np.ndarray
    y: np.ndarray
    A: np.ndarray
    seen: np.ndarray
    unseen: np.ndarray
    g: torch.Generator | None
    dev: torch.device
    t0: float

    def fitted(self, score_fn: Callable[[torch.Tensor], torch.Tensor], loss_history: list[float]) -> Fitted:
        """The ``Fitted`` of this run (all classes of A), timed from ``t0`` to now."""
        return Fitted(self.name, score_fn, device=self.dev, seen=self.seen, unseen=self.unseen, n_classes=self.A.shape[0],
                      params=self.p, loss_history=loss_history, seconds=time.perf_counter() - self.t0)


def begin_fit(name: str, X, y, attributes, *, seed, device, params: Mapping[str, Any] | None = None,
              declared: Sequence[Param] | None = None, defaults: Mapping[str, Any] | None = None,
              specs: Mapping[str, tuple] | None = None, seeded: bool = True) -> FitRun:
    """The preamble of a peer fit, in this order (which decides which error a bad call reports): start the clock;
    ``params.check(name, declared, params)`` when ``declared`` is given (old-style modules: ``check_params(name,
    defaults, specs, params)`` when ``defaults`` is; else ``params`` is taken as already checked); ``check_inputs``;
    the seeded ``generator`` (skipped when ``seeded`` is false: a closed-form fit accepts any seed); ``resolve_device``."""
    t0 = time.perf_counter()
    if declared is not None:
        p = check(name, declared, params)
    else:
        p = params if defaults is None else check_params(name, defaults, specs, params)
    X, y, A, seen, unseen = check_inputs(name, X, y, attributes)
    g = generator(seed) if seeded else None
    dev = resolve_device(device)
    return FitRun(name, p, X, y, A, seen, unseen, g, dev, t0)


class Fitted:
    """A fitted peer model: ``scores(X)`` -> (N, C) float64 numpy over all classes (higher = more likely).

    ``loss_history_``: mean training loss per epoch (or the closed-form objective, once).
    ``seen_`` / ``unseen_``: class indices as implied by the training labels. ``params_``: the
    hyperparameters used. ``seconds_``: training wall time.
    """

    def __init__(self, name: str, score_fn: Callable[[torch.Tensor], torch.Tensor], *, device: torch.device,
                 seen: np.ndarray, unseen: np.ndarray, n_classes: int, params: dict, loss_history: list[float],
                 seconds: float = float("nan"), batch_size: int = 8192):
        self.name = name
        self._score_fn = score_fn
        self.device_ = device
        self.seen_ = seen
        self.unseen_ = unseen
        self.n_classes_ = n_classes
        self.params_ = params
        self.loss_history_ = loss_history
        self.seconds_ = seconds
        self._batch = batch_size

    def scores(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=np.float32)
        if X.ndim != 2:
            raise SZSLError(f"{self.name}: X must be a 2-D (images x features) array, got shape {X.shape}")
        out = []
        with torch.no_grad():
            for start in range(0, X.shape[0], self._batch):
                xb = torch.as_tensor(X[start : start + self._batch], device=self.device_)
                out.append(self._score_fn(xb).double().cpu().numpy())
        if not out:
            return np.zeros((0, self.n_classes_))
        return np.concatenate(out, axis=0)

    def predict(self, X) -> np.ndarray:
        return self.scores(X).argmax(axis=1)

    def __repr__(self) -> str:
        return f"<{self.name} fitted: {self.n_classes_} classes, {self.seen_.size} seen>"
