"""The one training loop. Everything (a single fit, seeds, folds, tuning trials, sweeps) is a
population of configs fed to ``train_population``.

Members that share (hidden, activation, batch size, epochs, optimizer) train together as one
batched computation: stacked weights, batched matmuls, per-member shuffles, learning rates,
soft-label settings and regularisation. Each member draws its initial weights and its
per-epoch shuffles from its own seed, so its result does not depend on who it trains with.

Per-sample loss (paper eqs. 2-4), with m = alpha * q:
    alpha * CE(soft) + (1 - alpha) * CE(hard)
  = (1 - m) * (-log p_y) + m * sum_k s_yk * (-log p_k)      (k unseen, s_y. = unseen_distribution)
because CE is linear in its target and the soft label is (1 - q) e_y + q s_y. The mean over the
mini-batch plus l2 * ||W||_F^2 + l1 * ||W||_1 (W1 and W2, not the biases) is minimised by Adam
(betas 0.9/0.999, eps 1e-8, no weight decay) or SGD with momentum 0.9. Soft targets are built
per mini-batch from the rows it needs: nothing of size (classes x classes x K) or N x C exists.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from tqdm.auto import tqdm

from szsl.config import TrainConfig
from szsl.errors import SZSLError
from szsl.model import PARAM_NAMES, WEIGHT_NAMES, init_member, logits, resolve_device, stack_members, unstack_members
from szsl.soft_labels import unseen_distribution

ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
SGD_MOMENTUM = 0.9
# A member whose epoch loss is NaN/inf or above this multiple of its loss at the initial weights
# has diverged: it stops updating and is reported as failed, never scored.
DIVERGENCE_FACTOR = 100.0


@dataclass
class TrainedMember:
    config: TrainConfig
    state: dict[str, torch.Tensor]  # W1 (D,H), b1 (H,), W2 (H,A), b2 (A,) on the CPU
    diverged: bool
    message: str
    train_seconds: float  # wall time of the member's group (members of a group train together)
    final_loss: float  # mean training loss of the last epoch (nan when diverged)
    epochs_run: int


def as_training_data(X, y, class_attributes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate (X, y, A) at the boundary; returns float32 X (no copy when already float32), int64 y, float32 A."""
    if isinstance(X, torch.Tensor):
        X = X.detach().cpu().numpy()
    X = np.asarray(X)
    if X.ndim != 2:
        raise SZSLError(f"X: expected a 2-D (samples x features) array, got shape {X.shape}")
    if X.shape[0] == 0:
        raise SZSLError("X: no training samples")
    if not np.issubdtype(X.dtype, np.number) or np.issubdtype(X.dtype, np.complexfloating):
        raise SZSLError(f"X: expected real numbers, got dtype {X.dtype}")
    if X.dtype != np.float32:
        X = X.astype(np.float32)
    if not np.isfinite(X).all():
        raise SZSLError("X: contains NaN or inf")
    y = np.asarray(y.detach().cpu().numpy() if isinstance(y, torch.Tensor) else y)
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise SZSLError(f"y: expected shape ({X.shape[0]},) to match X, got {y.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        if np.issubdtype(y.dtype, np.floating) and np.isfinite(y).all() and np.all(y == np.round(y)):
            y = y.astype(np.int64)
        else:
            raise SZSLError(f"y: expected integer class indices, got dtype {y.dtype}")
    A = np.asarray(class_attributes.detach().cpu().numpy() if isinstance(class_attributes, torch.Tensor) else class_attributes)
    if A.ndim != 2 or A.shape[0] < 2:
        raise SZSLError(f"class_attributes: expected a 2-D (classes x attributes) array with >= 2 classes, got shape {A.shape}")
    if not np.issubdtype(A.dtype, np.number) or not np.isfinite(A).all():
        raise SZSLError("class_attributes: expected finite numbers (found NaN, inf or non-numeric values)")
    y = y.astype(np.int64)
    if y.min() < 0 or y.max() >= A.shape[0]:
        bad = int(y.min() if y.min() < 0 else y.max())
        raise SZSLError(f"y: label {bad} outside 0..{A.shape[0] - 1} (the rows of class_attributes)")
    return X, y, A.astype(np.float32)


def train_population(
    X,
    y,
    class_attributes,
    configs: Sequence[TrainConfig],
    *,
    device: str | torch.device = "auto",
    progress: bool = False,
) -> list[TrainedMember]:
    """Train one model per config on (X, y); returns the members in the order of ``configs``.

    X: (N, D) features; y: (N,) labels in [0, C); class_attributes: (C, A), ALL classes the
    model knows. Classes with no training sample are the unseen ones: they get the soft-label mass.
    """
    configs = list(configs)
    if not configs:
        return []
    X, y, A = as_training_data(X, y, class_attributes)
    dev = resolve_device(device)
    # Data lives on the device for the whole run: no per-batch host-to-device copies.
    X_dev = torch.from_numpy(X).to(dev)
    y_dev = torch.from_numpy(y).to(dev)
    A_dev = torch.from_numpy(A).to(dev)
    unseen = np.setdiff1d(np.arange(A.shape[0]), np.unique(y))
    unseen_dev = torch.from_numpy(unseen).to(dev)

    groups: dict[tuple, list[int]] = {}
    for i, cfg in enumerate(configs):
        groups.setdefault(cfg.group_key, []).append(i)
    results: list[TrainedMember | None] = [None] * len(configs)
    for indices in groups.values():
        members = _train_group([configs[i] for i in indices], X_dev, y_dev, A_dev, unseen_dev, progress)
        for i, member in zip(indices, members):
            results[i] = member
    return results  # type: ignore[return-value]


@dataclass
class MemberSettings:
    """Per-member loss settings as tensors that broadcast over (K, B, ...)."""

    mass: torch.Tensor  # (K, 1): alpha * q
    tau: torch.Tensor  # (K, 1, 1)
    l2: torch.Tensor  # (K,)
    l1: torch.Tensor  # (K,)
    variant_masks: dict[str, torch.Tensor]  # soft-label variant -> (K, 1, 1) bool
    # DCN members (config.method == "dcn", see szsl.methods.dcn); all None when there is none.
    dcn: torch.Tensor | None = None  # (K, 1) bool
    dcn_temperature: torch.Tensor | None = None  # (K, 1, 1)
    dcn_entropy: torch.Tensor | None = None  # (K, 1)

    @classmethod
    def of(cls, configs: Sequence[TrainConfig], device) -> "MemberSettings":
        variants = sorted({c.soft_label for c in configs})
        return cls(
            mass=torch.tensor([c.unseen_mass for c in configs], dtype=torch.float32, device=device).view(-1, 1),
            tau=_member_column(configs, "tau", device),
            l2=_member_column(configs, "l2", device).view(-1),
            l1=_member_column(configs, "l1", device).view(-1),
            variant_masks={v: torch.tensor([c.soft_label == v for c in configs], device=device).view(-1, 1, 1) for v in variants},
            **_dcn_settings(configs, device),
        )


def _dcn_settings(configs: Sequence[TrainConfig], device) -> dict:
    if not any(c.method == "dcn" for c in configs):
        return {}
    return {
        "dcn": torch.tensor([c.method == "dcn" for c in configs], device=device).view(-1, 1),
        "dcn_temperature": _member_column(configs, "dcn_temperature", device),
        "dcn_entropy": _member_column(configs, "dcn_entropy", device).view(-1, 1),
    }


def _dcn_per_sample(z, yb, unseen, hp: MemberSettings) -> torch.Tensor:
    """DCN (Liu et al. 2018): CE over the seen classes of z / T + beta * entropy over the unseen ones, (K, B)."""
    zt = z / hp.dcn_temperature
    if not unseen.numel():
        return -torch.log_softmax(zt, dim=-1).gather(-1, yb.unsqueeze(-1)).squeeze(-1)
    is_unseen = torch.zeros(z.shape[-1], dtype=torch.bool, device=z.device)
    is_unseen[unseen] = True
    ce_seen = -torch.log_softmax(zt.masked_fill(is_unseen, float("-inf")), dim=-1).gather(-1, yb.unsqueeze(-1)).squeeze(-1)
    log_pu = torch.log_softmax(zt[..., unseen], dim=-1)
    entropy = -(log_pu.exp() * log_pu).sum(-1)
    return ce_seen + hp.dcn_entropy * entropy


def batch_loss(params, xb, yb, A, unseen, hp: MemberSettings, activation: str) -> torch.Tensor:
    """Each member's objective on its mini-batch: mean per-sample loss + l2 ||W||^2 + l1 ||W||_1, (K,).

    xb: (K, B, D) or (B, D); yb: (K, B) or (B,) labels; A: (C, A) fixed class attributes;
    unseen: (U,) class indices receiving the soft-label mass.
    """
    k = params["W1"].shape[0]
    yb = yb.expand(k, -1) if yb.dim() == 1 else yb
    z = logits(params, xb, A, activation)
    log_p = torch.log_softmax(z, dim=-1)  # (K, B, C); never log(softmax)
    hard_nll = -log_p.gather(-1, yb.unsqueeze(-1)).squeeze(-1)  # (K, B)
    if unseen.numel():
        # Soft targets of this batch only: (K, B, U), built from the rows it needs.
        target = None
        for variant, mask in hp.variant_masks.items():
            t = unseen_distribution(A[yb], A[unseen], hp.tau, variant)
            target = t if target is None else torch.where(mask, t, target)
        soft_nll = -(target * log_p[..., unseen]).sum(-1)
        per_sample = (1 - hp.mass) * hard_nll + hp.mass * soft_nll
    else:
        per_sample = hard_nll
    if hp.dcn is not None:  # members with config.method == "dcn" use the DCN loss instead
        per_sample = torch.where(hp.dcn, _dcn_per_sample(z, yb, unseen, hp), per_sample)
    reg = sum(hp.l2 * params[w].pow(2).sum(dim=(1, 2)) + hp.l1 * params[w].abs().sum(dim=(1, 2)) for w in WEIGHT_NAMES)
    return per_sample.mean(dim=1) + reg


def _member_column(configs: Sequence[TrainConfig], name: str, device) -> torch.Tensor:
    """A per-member hyperparameter as a (K, 1, 1) tensor that broadcasts over (K, B, ...)."""
    return torch.tensor([float(getattr(c, name)) for c in configs], dtype=torch.float32, device=device).view(-1, 1, 1)


def _train_group(configs, X, y, A, unseen, progress: bool) -> list[TrainedMember]:
    first = configs[0]
    k, n = len(configs), X.shape[0]
    dev = X.device
    params = stack_members([init_member(c.seed, X.shape[1], first.hidden, A.shape[1]) for c in configs], dev)
    for p in params.values():
        p.requires_grad_(True)
    moments = {name: (torch.zeros_like(p), torch.zeros_like(p)) for name, p in params.items()}

    lr = _member_column(configs, "lr", dev)
    hp = MemberSettings.of(configs, dev)
    # Per-member shuffles come from per-member CPU generators: reproducible whatever the device or group.
    generators = [torch.Generator().manual_seed(int(c.seed)) for c in configs]
    alive = torch.ones(k, dtype=torch.bool, device=dev)
    epoch_loss = torch.zeros(k, dtype=torch.float64, device=dev)
    step = 0
    bs = first.batch_size
    n_batches = (n + bs - 1) // bs
    start = time.perf_counter()
    died_at = torch.zeros(k, dtype=torch.long, device=dev)  # epoch at which a member diverged (0: never)
    bar = tqdm(total=first.epochs, desc=f"train K={k} h={first.hidden}", unit="epoch", disable=not progress, leave=False)
    for epoch in range(first.epochs):
        order = torch.stack([torch.randperm(n, generator=g) for g in generators]).to(dev)  # (K, N)
        epoch_loss.zero_()
        for b in range(n_batches):
            idx = order[:, b * bs : (b + 1) * bs]  # (K, B)
            member_loss = batch_loss(params, X[idx], y[idx], A, unseen, hp, first.activation)  # (K,)
            # Members are independent: d(sum_k loss_k)/d(theta_j) = d(loss_j)/d(theta_j).
            grads = torch.autograd.grad(member_loss.sum(), [params[name] for name in PARAM_NAMES])
            if step == 0:
                initial_loss = member_loss.detach().double()  # at the initial weights
            step += 1
            _update(params, grads, moments, lr, step, first.optimizer, alive)
            epoch_loss += member_loss.detach().double() * idx.shape[1]
        bar.update(1)
        # Check for divergence once per epoch (a per-step check would synchronise the GPU every step).
        mean_loss = epoch_loss / n
        healthy = torch.isfinite(mean_loss) & (mean_loss <= DIVERGENCE_FACTOR * initial_loss.abs().clamp_min(1.0))
        died_at = torch.where(alive & ~healthy, epoch + 1, died_at)
        alive &= healthy
        if not alive.any():
            break
    bar.close()
    seconds = time.perf_counter() - start
    mean_loss = (epoch_loss / n).cpu().numpy()
    states = unstack_members(params)
    alive_cpu, died_cpu = alive.cpu().numpy(), died_at.cpu().numpy()
    out = []
    for i, cfg in enumerate(configs):
        ok = bool(alive_cpu[i])
        message = "" if ok else f"training diverged at epoch {died_cpu[i]} (loss NaN/inf or over {DIVERGENCE_FACTOR:g}x its start; lr={cfg.lr:g} may be too large)"
        out.append(TrainedMember(cfg, states[i], not ok, message, seconds, float(mean_loss[i]) if ok else float("nan"), epoch + 1 if ok else int(died_cpu[i])))
    return out


@torch.no_grad()
def _update(params, grads, moments, lr, step, optimizer, alive) -> None:
    step_lr = lr * alive.view(-1, 1, 1).to(lr.dtype)  # a diverged member stops moving (its values are already meaningless)
    for (name, p), g in zip(params.items(), grads):
        m, v = moments[name]
        if optimizer == "adam":
            b1, b2 = ADAM_BETAS
            m.mul_(b1).add_(g, alpha=1 - b1)
            v.mul_(b2).addcmul_(g, g, value=1 - b2)
            denom = (v / (1 - b2**step)).sqrt_().add_(ADAM_EPS)
            p.sub_(step_lr / (1 - b1**step) * m / denom)
        else:  # sgd with momentum
            m.mul_(SGD_MOMENTUM).add_(g)
            p.sub_(step_lr * m)
