"""The one training loop. Everything (a single fit, seeds, folds, tuning trials, sweeps) is a
population of configs fed to ``train_population``.

Members that share (hidden, activation, batch size, epochs, optimizer) train together as one
batched computation: stacked weights, batched matmuls, per-member shuffles, learning rates,
soft-label settings and regularisation. Each member draws its initial weights and its
per-epoch shuffles from its own seed, so its result does not depend on who it trains with.

Each member minimises its loss (``szsl.losses.batch_loss``: paper eqs. 2-4, or the loss of its
method) with Adam or SGD-momentum (``szsl.optim.PopulationOptimizer``); the data are validated
and placed on the device by ``szsl.training_data``.

Speed (see docs/benchmarks.md): the step is the model's matrix multiplications plus O(params)
elementwise work done once (a fused Adam kernel per group of members sharing a learning rate),
terms that are zero for every member (regularisation, soft targets) are skipped, a K = 1 group
gathers its mini-batch with one ``index_select`` and runs 2-D matmuls. Scale: X may be a
memory-mapped array; it is validated in chunks and used in place on the CPU (no copy), copied
once to a CUDA device when it fits there, and streamed per mini-batch otherwise.
"""

from __future__ import annotations

import time
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from tqdm.auto import tqdm

from szsl.config import TrainConfig
from szsl.errors import SZSLError
from szsl.losses import MemberSettings, batch_loss
from szsl.model import PARAM_NAMES, init_member, resolve_device, stack_members, unstack_members
from szsl.optim import PopulationOptimizer
from szsl.training_data import TrainingRows, as_training_data

# A member whose epoch loss is NaN/inf or above this multiple of its loss at the initial weights
# has diverged: it stops updating and is reported as failed, never scored.
DIVERGENCE_FACTOR = 100.0
PRECISIONS = ("fp32", "bf16")


@dataclass
class TrainedMember:
    config: TrainConfig
    state: dict[str, torch.Tensor]  # W1 (D,H), b1 (H,), W2 (H,A), b2 (A,) on the CPU
    diverged: bool
    message: str
    train_seconds: float  # wall time of the member's group (members of a group train together)
    final_loss: float  # mean training loss of the last epoch (nan when diverged)
    epochs_run: int


def train_population(
    X,
    y,
    class_attributes,
    configs: Sequence[TrainConfig],
    *,
    device: str | torch.device = "auto",
    progress: bool = False,
    precision: str = "fp32",
) -> list[TrainedMember]:
    """Train one model per config on (X, y); returns the members in the order of ``configs``.

    X: (N, D) features (a float32 memmap is used in place); y: (N,) labels in [0, C);
    class_attributes: (C, A), ALL classes the model knows. Classes with no training sample are
    the unseen ones: they get the soft-label mass. ``precision="bf16"`` runs the forward and
    backward matmuls under bfloat16 autocast (weights, gradients and Adam stay float32); meant
    for CUDA, where it roughly doubles matmul throughput.
    """
    configs = list(configs)
    if precision not in PRECISIONS:
        raise SZSLError(f"precision={precision!r}: expected one of {', '.join(PRECISIONS)}")
    if not configs:
        return []
    X, y, A = as_training_data(X, y, class_attributes)
    dev = resolve_device(device)
    # Data lives on the device for the whole run: no per-batch host-to-device copies (unless X does not fit there).
    rows = TrainingRows(X, dev)
    y_dev = torch.from_numpy(y).to(dev)
    A_dev = torch.from_numpy(A).to(dev)
    unseen = np.setdiff1d(np.arange(A.shape[0]), np.unique(y))
    unseen_dev = torch.from_numpy(unseen).to(dev)

    groups: dict[tuple, list[int]] = {}
    for i, cfg in enumerate(configs):
        groups.setdefault(cfg.group_key, []).append(i)
    results: list[TrainedMember | None] = [None] * len(configs)
    for indices in groups.values():
        members = _train_group([configs[i] for i in indices], rows, y_dev, A_dev, unseen_dev, progress, precision)
        for i, member in zip(indices, members):
            results[i] = member
    return results  # type: ignore[return-value]


def _train_group(configs, rows: TrainingRows, y, A, unseen, progress: bool, precision: str = "fp32") -> list[TrainedMember]:
    first = configs[0]
    k, n = len(configs), rows.X.shape[0]
    dev = y.device
    params = stack_members([init_member(c.seed, rows.X.shape[1], first.hidden, A.shape[1]) for c in configs], dev)
    for p in params.values():
        p.requires_grad_(True)
    plist = [params[name] for name in PARAM_NAMES]
    opt = PopulationOptimizer(params, configs, first.optimizer)

    hp = MemberSettings.of(configs, dev)
    hp.unseen_attributes = A[unseen]
    autocast = torch.autocast(device_type=dev.type, dtype=torch.bfloat16) if precision == "bf16" else nullcontext()
    # Per-member shuffles come from per-member CPU generators: reproducible whatever the device or group.
    generators = [torch.Generator().manual_seed(int(c.seed)) for c in configs]
    alive = torch.ones(k, dtype=torch.bool, device=dev)
    epoch_loss = torch.zeros(k, dtype=torch.float64, device=dev)
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
            yb = y.index_select(0, idx.reshape(-1)).view(idx.shape)
            with autocast:
                member_loss = batch_loss(params, rows.rows(idx), yb, A, unseen, hp, first.activation)  # (K,)
            # Members are independent: d(sum_k loss_k)/d(theta_j) = d(loss_j)/d(theta_j).
            grads = torch.autograd.grad(member_loss.sum(), plist)
            if opt.step_count == 0:
                initial_loss = member_loss.detach().double()  # at the initial weights
            opt.step(grads)
            epoch_loss.add_(member_loss.detach().double(), alpha=idx.shape[1])
        bar.update(1)
        # Check for divergence once per epoch (a per-step check would synchronise the GPU every step).
        mean_loss = epoch_loss / n
        healthy = torch.isfinite(mean_loss) & (mean_loss <= DIVERGENCE_FACTOR * initial_loss.abs().clamp_min(1.0))
        died_at = torch.where(alive & ~healthy, epoch + 1, died_at)
        was_alive = alive.clone()
        alive &= healthy
        if not torch.equal(alive, was_alive):
            opt.set_alive(alive.cpu().numpy())  # a diverged member stops moving
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
        message = (
            ""
            if ok
            else f"training diverged at epoch {died_cpu[i]} (loss NaN/inf or over {DIVERGENCE_FACTOR:g}x its start; lr={cfg.lr:g} may be "
                 "too large)"
        )
        out.append(
            TrainedMember(
                cfg, states[i], not ok, message, seconds, float(mean_loss[i]) if ok else float("nan"), epoch + 1 if ok else int(died_cpu[i])
            )
        )
    return out
