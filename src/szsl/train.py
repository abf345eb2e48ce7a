"""The one training loop. Everything (a single fit, seeds, folds, tuning trials, sweeps) is a
population of configs fed to ``train_population``.

Members that share (hidden, batch size, epochs, optimizer, lr schedule) train together as one
batched computation (on a CPU, batches of at most ``CPU_MAX_GROUP``): stacked weights, batched matmuls,
per-member activations, shuffles, learning rates, soft-label settings and regularisation. Each member draws its initial weights and its
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

from szsl.config import ACTIVATIONS, TrainConfig
from szsl.errors import SZSLError
from szsl.losses import MemberSettings, batch_loss
from szsl.model import PARAM_NAMES, init_member, resolve_device, stack_members, unstack_members
from szsl.optim import PopulationOptimizer
from szsl.progress import progress_bar
from szsl.soft_labels import smallest_usable_tau
from szsl.training_data import TrainingRows, as_training_data, input_scale

# A member whose epoch loss is NaN/inf or above this multiple of its loss at the initial weights
# has diverged: it stops updating and is reported as failed, never scored.
DIVERGENCE_FACTOR = 100.0
PRECISIONS = ("fp32", "bf16")
# On a CPU a stacked group of more than a few members is slower than smaller groups: each step gathers
# a (K, batch, D) block of rows and K weight matrices, which leave the caches (docs/benchmarks.md, table
# (2b): 16 members at hidden 512 train 1.3-1.5x faster as groups of 4 than as one group of 16).
CPU_MAX_GROUP = 4


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
    max_group: int | str | None = "auto",
) -> list[TrainedMember]:
    """Train one model per config on (X, y); returns the members in the order of ``configs``.

    X: (N, D) features (a float32 memmap is used in place); y: (N,) labels in [0, C);
    class_attributes: (C, A), ALL classes the model knows. Classes with no training sample are
    the unseen ones: they get the soft-label mass. ``precision="bf16"`` runs the forward and
    backward matmuls under bfloat16 autocast (weights, gradients and Adam stay float32); meant
    for CUDA, where it roughly doubles matmul throughput. ``max_group``: see ``Population``.
    """
    population = Population(X, y, class_attributes, configs, device=device, progress=progress, precision=precision, max_group=max_group)
    population.train_to(max((c.epochs for c in population.configs), default=0))
    return population.members()


class Population:
    """A population in training, advanced epoch by epoch: ``train_population`` runs it to the end;
    a multi-fidelity study (``szsl.tune``) scores it at a few epochs and ``stop``s the losing members.

    Members sharing ``TrainConfig.group_key`` train as stacked groups of at most ``max_group`` members
    ("auto": ``CPU_MAX_GROUP`` on a CPU, no limit on CUDA; None: no limit); a stopped member leaves
    its group's tensors (the others go on with smaller ones, exactly as they would have: members
    are independent) and keeps the weights of the epoch it stopped at.
    """

    def __init__(
        self, X, y, class_attributes, configs: Sequence[TrainConfig], *, device="auto", progress=False, precision="fp32", max_group="auto"
    ):
        self.configs = list(configs)
        if precision not in PRECISIONS:
            raise SZSLError(f"precision={precision!r}: expected one of {', '.join(PRECISIONS)}")
        if not (max_group in ("auto", None) or (isinstance(max_group, int) and not isinstance(max_group, bool) and max_group >= 1)):
            raise SZSLError(f"max_group={max_group!r}: expected 'auto', None (no limit) or an integer >= 1")
        if not self.configs:
            self.groups: list[_Group] = []
            return
        X, y, A = as_training_data(X, y, class_attributes)
        dev = resolve_device(device)
        if max_group == "auto":
            max_group = CPU_MAX_GROUP if dev.type == "cpu" else None
        # Data lives on the device for the whole run: no per-batch host-to-device copies (unless X does not fit there).
        rows = TrainingRows(X, dev)
        y_dev = torch.from_numpy(y).to(dev)
        A_dev = torch.from_numpy(A).to(dev)
        unseen = torch.from_numpy(np.setdiff1d(np.arange(A.shape[0]), np.unique(y))).to(dev)
        by_key: dict[tuple, list[int]] = {}
        for i, cfg in enumerate(self.configs):
            by_key.setdefault(cfg.group_key, []).append(i)
        # The input scale of each input_scaling mode present (training_data.input_scale; shared by a group: part of its key).
        scales = {mode: input_scale(X, mode) for mode in {c.input_scaling for c in self.configs}}
        # Within a group, members sharing an activation are contiguous (one slice each in model.embed).
        chunks = []
        for idx in by_key.values():
            idx = sorted(idx, key=lambda i: ACTIVATIONS.index(self.configs[i].activation))
            size = len(idx) if max_group is None else max_group
            chunks += [idx[j : j + size] for j in range(0, len(idx), size)]
        self.groups = [
            _Group(self.configs, idx, rows, y_dev, A_dev, unseen, progress, precision, scales[self.configs[idx[0]].input_scaling])
            for idx in chunks
        ]

    def train_to(self, epoch: int) -> None:
        """Train every running member up to ``epoch`` epochs (or its own budget, if smaller)."""
        for g in self.groups:
            g.train_to(epoch)

    def stop(self, indices) -> None:
        """Stop the members at these indices (of ``configs``): they keep their current weights and train no more."""
        stop = {int(i) for i in indices}
        for g in self.groups:
            g.stop(stop)

    def running(self) -> list[int]:
        """Indices of the members still training (not stopped, not diverged, budget left)."""
        return sorted(i for g in self.groups for i in g.running())

    def members(self) -> list[TrainedMember]:
        """Every member as it is now, in the order of ``configs``."""
        out: dict[int, TrainedMember] = {}
        for g in self.groups:
            out.update(g.members())
        return [out[i] for i in range(len(self.configs))]


class _Group:
    """Members sharing a network shape and a schedule: stacked weights, one batched step."""

    def __init__(self, configs, indices, rows: TrainingRows, y, A, unseen, progress: bool, precision: str, scale: float = 1.0):
        self.all_configs = configs
        self.scale = scale  # the features are multiplied by it in training; the stored W1 takes it in (``_trained``)
        self.index = list(indices)  # population indices of the members still in the tensors
        self.rows, self.y, self.A, self.unseen = rows, y, A, unseen
        cfgs = [configs[i] for i in self.index]
        first = cfgs[0]
        self.first = first
        dev = y.device
        self.params = stack_members([init_member(c.seed, rows.X.shape[1], first.hidden, A.shape[1]) for c in cfgs], dev)
        for p in self.params.values():
            p.requires_grad_(True)
        steps_per_epoch = (rows.X.shape[0] + first.batch_size - 1) // first.batch_size
        self.opt = PopulationOptimizer(self.params, cfgs, first.optimizer, first.lr_schedule, first.epochs * steps_per_epoch)
        self._settings(cfgs)
        self.autocast = (lambda: torch.autocast(device_type=dev.type, dtype=torch.bfloat16)) if precision == "bf16" else nullcontext
        # Per-member shuffles come from per-member CPU generators: reproducible whatever the device or group.
        self.generators = [torch.Generator().manual_seed(int(c.seed)) for c in cfgs]
        k = len(cfgs)
        self.alive = torch.ones(k, dtype=torch.bool, device=dev)
        self.epoch_loss = torch.zeros(k, dtype=torch.float64, device=dev)
        self.died_at = torch.zeros(k, dtype=torch.long, device=dev)  # epoch at which a member diverged (0: never)
        self.initial_loss = None
        self.epoch = 0
        self.seconds = 0.0
        self.done: dict[int, TrainedMember] = {}  # stopped members, frozen
        self.bar = progress_bar(first.epochs, f"train K={k} h={first.hidden}", "epoch", enabled=progress, nested=True)

    def _settings(self, cfgs) -> None:
        self.activation = tuple(c.activation for c in cfgs)  # one per member (model.embed)
        self.hp = MemberSettings.of(cfgs, self.y.device)
        self.hp.unseen_attributes = self.A[self.unseen]

    def running(self) -> list[int]:
        if self.epoch >= self.first.epochs:
            return []
        alive = self.alive.cpu().numpy()
        return [i for i, ok in zip(self.index, alive) if ok]

    def train_to(self, target: int) -> None:
        target = min(int(target), self.first.epochs)
        if self.epoch >= target or not self.index:
            return
        rows, y, A, unseen, hp, opt = self.rows, self.y, self.A, self.unseen, self.hp, self.opt
        n, bs = rows.X.shape[0], self.first.batch_size
        n_batches = (n + bs - 1) // bs
        plist = [self.params[name] for name in PARAM_NAMES]
        start = time.perf_counter()
        while self.epoch < target:
            order = torch.stack([torch.randperm(n, generator=g) for g in self.generators]).to(y.device)  # (K, N)
            self.epoch_loss.zero_()
            for b in range(n_batches):
                idx = order[:, b * bs : (b + 1) * bs]  # (K, B)
                yb = y.index_select(0, idx.reshape(-1)).view(idx.shape)
                xb = rows.rows(idx) if self.scale == 1.0 else rows.rows(idx) * self.scale
                with self.autocast():
                    member_loss = batch_loss(self.params, xb, yb, A, unseen, hp, self.activation)  # (K,)
                # Members are independent: d(sum_k loss_k)/d(theta_j) = d(loss_j)/d(theta_j).
                grads = torch.autograd.grad(member_loss.sum(), plist)
                if self.initial_loss is None:
                    self.initial_loss = member_loss.detach().double()  # at the initial weights
                opt.step(grads)
                self.epoch_loss.add_(member_loss.detach().double(), alpha=idx.shape[1])
            self.epoch += 1
            self.bar.update(1)
            # Check for divergence once per epoch (a per-step check would synchronise the GPU every step).
            mean_loss = self.epoch_loss / n
            healthy = torch.isfinite(mean_loss) & (mean_loss <= DIVERGENCE_FACTOR * self.initial_loss.abs().clamp_min(1.0))
            self.died_at = torch.where(self.alive & ~healthy, self.epoch, self.died_at)
            was_alive = self.alive.clone()
            self.alive &= healthy
            if not torch.equal(self.alive, was_alive):
                opt.set_alive(self.alive.cpu().numpy())  # a diverged member stops moving
            if not self.alive.any():
                self.epoch = self.first.epochs  # nothing left to train
                break
        self.seconds += time.perf_counter() - start
        if self.epoch >= self.first.epochs:
            self.bar.close()

    def stop(self, stop: set[int]) -> None:
        """Freeze the members of ``stop`` and drop them from the stacked tensors."""
        keep = [j for j, i in enumerate(self.index) if i not in stop]
        if len(keep) == len(self.index):
            return
        for j, member in enumerate(self._trained()):
            if self.index[j] in stop:
                self.done[self.index[j]] = member
        sel = torch.tensor(keep, dtype=torch.long, device=self.y.device)
        self.index = [self.index[j] for j in keep]
        if not keep:
            self.epoch = self.first.epochs
            self.bar.close()
            return
        with torch.no_grad():
            self.params = {name: p.index_select(0, sel).detach().requires_grad_(True) for name, p in self.params.items()}
        self.opt.select(keep, self.params)
        self._settings([self.all_configs[i] for i in self.index])
        self.generators = [self.generators[j] for j in keep]
        self.alive, self.epoch_loss, self.died_at = self.alive[sel], self.epoch_loss[sel], self.died_at[sel]
        if self.initial_loss is not None:
            self.initial_loss = self.initial_loss[sel]
        self.opt.set_alive(self.alive.cpu().numpy())  # a diverged member that stays still does not move

    def _trained(self) -> list[TrainedMember]:
        mean_loss = (self.epoch_loss / self.rows.X.shape[0]).cpu().numpy()
        states = unstack_members(self.params)
        if self.scale != 1.0:  # W1 (x * scale) = (W1 * scale) x: the member applies to the features as given
            for st in states:
                st["W1"] = st["W1"] * self.scale
        alive_cpu, died_cpu = self.alive.cpu().numpy(), self.died_at.cpu().numpy()
        out = []
        for j, i in enumerate(self.index):
            cfg, ok = self.all_configs[i], bool(alive_cpu[j])
            message = "" if ok else self._divergence(cfg, int(died_cpu[j]))
            loss = float(mean_loss[j]) if ok and self.epoch > 0 else float("nan")
            out.append(TrainedMember(cfg, states[j], not ok, message, self.seconds, loss, self.epoch if ok else int(died_cpu[j])))
        return out

    def _divergence(self, cfg: TrainConfig, epoch: int) -> str:
        """Why a member diverged: a tau too small for float32 soft labels, else (most likely) the learning rate."""
        if cfg.method == "szsl" and cfg.soft_label == "similarity":
            floor = smallest_usable_tau(self.A.detach().cpu(), self.unseen.cpu())
            if cfg.tau < floor:
                return (
                    f"training diverged at epoch {epoch}: tau={cfg.tau:g} is too small, <a_i, a_k>/tau overflows float32 in the soft "
                    f"labels (use tau >= {floor:.2g})"
                )
        return (
            f"training diverged at epoch {epoch} (loss NaN/inf or over {DIVERGENCE_FACTOR:g}x its start; lr={cfg.lr:g} may be too large)"
        )

    def members(self) -> dict[int, TrainedMember]:
        out = dict(self.done)
        if self.index:
            out.update(zip(self.index, self._trained()))
        return out
