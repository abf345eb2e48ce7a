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

Speed (see docs/benchmarks.md): the step is the model's matrix multiplications plus O(params)
elementwise work done once (a fused Adam kernel per group of members sharing a learning rate),
terms that are zero for every member (regularisation, soft targets) are skipped, a K = 1 group
gathers its mini-batch with one ``index_select`` and runs 2-D matmuls. Scale: X may be a
memory-mapped array; it is validated in chunks and used in place on the CPU (no copy), copied
once to a CUDA device when it fits there, and streamed per mini-batch otherwise.
"""

from __future__ import annotations

import time
import warnings
from contextlib import nullcontext
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
PRECISIONS = ("fp32", "bf16")
# Rows per chunk when X is validated or copied to a device: bounded temporaries whatever N.
_CHUNK_BYTES = 64 << 20
# On CUDA, X is copied to the device when it takes at most this share of the free device memory.
_DEVICE_DATA_SHARE = 0.5


@dataclass
class TrainedMember:
    config: TrainConfig
    state: dict[str, torch.Tensor]  # W1 (D,H), b1 (H,), W2 (H,A), b2 (A,) on the CPU
    diverged: bool
    message: str
    train_seconds: float  # wall time of the member's group (members of a group train together)
    final_loss: float  # mean training loss of the last epoch (nan when diverged)
    epochs_run: int


def _chunk_rows(X: np.ndarray) -> int:
    row_bytes = max(1, int(np.prod(X.shape[1:], dtype=np.int64)) * X.dtype.itemsize)
    return max(1, _CHUNK_BYTES // row_bytes)


def _all_finite(X: np.ndarray) -> bool:
    """np.isfinite(X).all() in row chunks: no N x D temporary, one pass over a memmap.

    A chunk whose sum is finite holds no NaN/inf (they propagate through a sum); only a chunk
    whose sum is not finite (NaN/inf, or float overflow of large finite values) is checked exactly.
    """
    step = _chunk_rows(X)
    for start in range(0, X.shape[0], step):
        chunk = X[start : start + step]
        if not np.isfinite(chunk.sum(dtype=np.float64)) and not np.isfinite(chunk).all():
            return False
    return True


def as_training_data(X, y, class_attributes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate (X, y, A) at the boundary; returns float32 X (no copy when already float32), int64 y, float32 A.

    A float32 ``np.memmap`` (or ``np.load(..., mmap_mode="r")``) stays a memmap: it is checked in
    chunks and never read into process memory as a whole.
    """
    if isinstance(X, torch.Tensor):
        X = X.detach().cpu().numpy()
    if not isinstance(X, np.ndarray):  # np.memmap is an ndarray: keep it as it is
        X = np.asarray(X)
    if X.ndim != 2:
        raise SZSLError(f"X: expected a 2-D (samples x features) array, got shape {X.shape}")
    if X.shape[0] == 0:
        raise SZSLError("X: no training samples")
    if not np.issubdtype(X.dtype, np.number) or np.issubdtype(X.dtype, np.complexfloating):
        raise SZSLError(f"X: expected real numbers, got dtype {X.dtype}")
    if X.dtype != np.float32:
        X = X.astype(np.float32)  # a copy: pass float32 to train in place (memmaps included)
    if not _all_finite(X):
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
    y = y.astype(np.int64, copy=False)
    if y.min() < 0 or y.max() >= A.shape[0]:
        bad = int(y.min() if y.min() < 0 else y.max())
        raise SZSLError(f"y: label {bad} outside 0..{A.shape[0] - 1} (the rows of class_attributes)")
    return X, y, A.astype(np.float32)


def _host_tensor(X: np.ndarray) -> torch.Tensor:
    """A CPU tensor sharing X's memory (a read-only memmap included: training never writes to X)."""
    X = np.ascontiguousarray(X) if not X.flags.c_contiguous else X
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        return torch.from_numpy(X)


class _TrainingRows:
    """The training features as the device sees them; ``rows(idx)`` gathers a mini-batch.

    CPU: X itself (no copy; a memmap is read through the OS page cache). CUDA: one chunked copy
    to the device when X fits in a share of its free memory (data stays there for the whole run),
    else X stays on the host and each mini-batch is gathered there and copied over pinned memory.
    """

    def __init__(self, X: np.ndarray, dev: torch.device):
        host = _host_tensor(X)
        self.device = dev
        self.resident = True
        if dev.type == "cpu":
            self.X = host
            return
        free = torch.cuda.mem_get_info(dev)[0] if dev.type == "cuda" else float("inf")
        if X.nbytes <= _DEVICE_DATA_SHARE * free:
            self.X = torch.empty(X.shape, dtype=torch.float32, device=dev)
            step = _chunk_rows(X)
            for start in range(0, X.shape[0], step):
                self.X[start : start + step].copy_(host[start : start + step])
        else:
            self.X, self.resident = host, False

    def rows(self, idx: torch.Tensor) -> torch.Tensor:
        """idx: (K, B) row indices on the device -> (B, D) when K == 1, else (K, B, D)."""
        k, b = idx.shape
        flat = idx.reshape(-1)
        if self.resident:
            out = self.X.index_select(0, flat)
        else:
            out = self.X.index_select(0, flat.cpu()).pin_memory().to(self.device, non_blocking=True)
        return out if k == 1 else out.view(k, b, -1)


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
    rows = _TrainingRows(X, dev)
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


@dataclass
class MemberSettings:
    """Per-member loss settings as tensors that broadcast over (K, B, ...).

    The ``any_*`` flags (host booleans) let ``batch_loss`` skip a term that is zero for every
    member; ``unseen_attributes`` optionally caches ``A[unseen]`` for a training run.
    """

    mass: torch.Tensor  # (K, 1): alpha * q
    tau: torch.Tensor  # (K, 1, 1)
    l2: torch.Tensor  # (K,)
    l1: torch.Tensor  # (K,)
    variant_masks: dict[str, torch.Tensor]  # soft-label variant -> (K, 1, 1) bool
    any_mass: bool = True
    any_l2: bool = True
    any_l1: bool = True
    unseen_attributes: torch.Tensor | None = None  # (U, A) = A[unseen] when set
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
            any_mass=any(c.unseen_mass > 0 for c in configs if c.method != "dcn"),
            any_l2=any(c.l2 > 0 for c in configs),
            any_l1=any(c.l1 > 0 for c in configs),
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
    z = logits(params, xb, A, activation).float()  # (K, B, C)
    if unseen.numel() and hp.any_mass:
        # Soft targets of this batch only: (K, B, U), built from the rows it needs.
        A_unseen = A[unseen] if hp.unseen_attributes is None else hp.unseen_attributes
        target = None
        for variant, mask in hp.variant_masks.items():
            t = unseen_distribution(A[yb], A_unseen, hp.tau, variant)
            target = t if target is None else torch.where(mask, t, target)
        per_sample = soft_label_nll(z, yb, hp.mass, target, unseen)
    else:  # no unseen class, or alpha * q == 0 for every member: the soft term is zero
        per_sample = soft_label_nll(z, yb)
    if hp.dcn is not None:  # members with config.method == "dcn" use the DCN loss instead
        per_sample = torch.where(hp.dcn, _dcn_per_sample(z, yb, unseen, hp), per_sample)
    loss = per_sample.mean(dim=1)
    for w in WEIGHT_NAMES:  # terms whose coefficient is 0 for every member are skipped
        if hp.any_l2:
            loss = loss + hp.l2 * params[w].pow(2).sum(dim=(1, 2))
        if hp.any_l1:
            loss = loss + hp.l1 * params[w].abs().sum(dim=(1, 2))
    return loss


def soft_label_nll(z, y, mass=None, target=None, unseen=None) -> torch.Tensor:
    """Per-sample ``(1 - m) * (-log p_y) + m * sum_u t_u * (-log p_u)`` with ``p = softmax(z)``, (K, B).

    z: (K, B, C) logits; y: (K, B) labels; mass: (K, 1) m = alpha * q; target: (K, B, U) soft
    targets over the classes ``unseen`` (U,). Without mass/target: plain cross-entropy -log p_y.
    Same value and gradient as the autograd composition of log_softmax / gather / index, with
    fewer passes over and copies of the (K, B, C) tensor (what matters when C is 21,000): the
    backward builds ``(1 - m + m * sum(t)) * p - (1 - m) * onehot(y) - m * t`` in one buffer.
    """
    if target is None:
        return _SoftLabelNLL.apply(z, y, None, None, None)
    return _SoftLabelNLL.apply(z, y, mass, target, unseen)


class _SoftLabelNLL(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z, y, mass, target, unseen):
        log_p = torch.log_softmax(z, dim=-1)  # never log(softmax)
        y = y.unsqueeze(-1)
        hard = -log_p.gather(-1, y).squeeze(-1)  # (K, B)
        if target is None:
            per_sample = hard
        else:
            unseen = unseen.expand(target.shape)  # gather / scatter_add: fast on the last dim, unlike index_select
            soft = -(target * log_p.gather(-1, unseen)).sum(-1)
            per_sample = (1 - mass) * hard + mass * soft
        ctx.save_for_backward(log_p, y, mass, target, unseen)
        return per_sample

    @staticmethod
    def backward(ctx, grad):
        log_p, y, mass, target, unseen = ctx.saved_tensors
        g = log_p.exp()  # p = softmax(z); the one (K, B, C) buffer of the backward
        if target is None:
            g.mul_(grad.unsqueeze(-1))
            g.scatter_add_(-1, y, -grad.unsqueeze(-1))
        else:
            hard_w = grad * (1 - mass)  # (K, B)
            soft_w = grad * mass
            g.mul_((hard_w + soft_w * target.sum(-1)).unsqueeze(-1))
            g.scatter_add_(-1, y, -hard_w.unsqueeze(-1))
            g.scatter_add_(-1, unseen, -soft_w.unsqueeze(-1) * target)
        return g, None, None, None, None


def _member_column(configs: Sequence[TrainConfig], name: str, device) -> torch.Tensor:
    """A per-member hyperparameter as a (K, 1, 1) tensor that broadcasts over (K, B, ...)."""
    return torch.tensor([float(getattr(c, name)) for c in configs], dtype=torch.float32, device=device).view(-1, 1, 1)


class _PopulationOptimizer:
    """Adam / SGD-momentum over stacked members, exact per member (own learning rate).

    Members sharing a learning rate are updated by one fused multi-tensor kernel over their
    slices (``torch._fused_adam_``: one pass over param, grad and moments); a diverged member
    is left out and stops moving.
    """

    def __init__(self, params: dict[str, torch.Tensor], configs: Sequence[TrainConfig], optimizer: str):
        self.params = [params[name] for name in PARAM_NAMES]
        self.optimizer = optimizer
        self.lrs = [float(c.lr) for c in configs]
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params] if optimizer == "adam" else []
        self.step_count = 0
        self.step_tensor = torch.zeros((), dtype=torch.float32, device=self.params[0].device)
        self.fused = optimizer == "adam" and hasattr(torch, "_fused_adam_") and self.params[0].device.type in ("cpu", "cuda")
        self.set_alive(np.ones(len(configs), dtype=bool))

    def set_alive(self, alive: np.ndarray) -> None:
        """Regroup the living members by learning rate (called when the set changes)."""
        by_lr: dict[float, list[int]] = {}
        for i in np.flatnonzero(alive):
            by_lr.setdefault(self.lrs[i], []).append(int(i))
        self.groups = list(by_lr.items())

    @torch.no_grad()
    def step(self, grads: Sequence[torch.Tensor]) -> None:
        self.step_count += 1
        t = self.step_count
        self.step_tensor.fill_(t)
        for lr, members in self.groups:
            sel = lambda ts: [x[i] for i in members for x in ts]  # noqa: E731 - (member, param) slices
            ps, gs, ms = sel(self.params), sel(grads), sel(self.m)
            if self.optimizer == "sgd":
                torch._foreach_mul_(ms, SGD_MOMENTUM)
                torch._foreach_add_(ms, gs)
                torch._foreach_add_(ps, ms, alpha=-lr)
                continue
            vs = sel(self.v)
            b1, b2 = ADAM_BETAS
            if self.fused:
                torch._fused_adam_(ps, gs, ms, vs, [], [self.step_tensor] * len(ps), lr=lr, beta1=b1, beta2=b2,
                                   weight_decay=0.0, eps=ADAM_EPS, amsgrad=False, maximize=False)
            else:  # same math, multi-tensor ops
                torch._foreach_lerp_(ms, gs, 1 - b1)
                torch._foreach_mul_(vs, b2)
                torch._foreach_addcmul_(vs, gs, gs, value=1 - b2)
                denom = torch._foreach_sqrt(vs)
                torch._foreach_div_(denom, (1 - b2**t) ** 0.5)
                torch._foreach_add_(denom, ADAM_EPS)
                torch._foreach_addcdiv_(ps, ms, denom, value=-lr / (1 - b1**t))


def _train_group(configs, rows: _TrainingRows, y, A, unseen, progress: bool, precision: str = "fp32") -> list[TrainedMember]:
    first = configs[0]
    k, n = len(configs), rows.X.shape[0]
    dev = y.device
    params = stack_members([init_member(c.seed, rows.X.shape[1], first.hidden, A.shape[1]) for c in configs], dev)
    for p in params.values():
        p.requires_grad_(True)
    plist = [params[name] for name in PARAM_NAMES]
    opt = _PopulationOptimizer(params, configs, first.optimizer)

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
        message = "" if ok else f"training diverged at epoch {died_cpu[i]} (loss NaN/inf or over {DIVERGENCE_FACTOR:g}x its start; lr={cfg.lr:g} may be too large)"
        out.append(TrainedMember(cfg, states[i], not ok, message, seconds, float(mean_loss[i]) if ok else float("nan"), epoch + 1 if ok else int(died_cpu[i])))
    return out
