"""Adam / SGD-momentum over a stacked population, exact per member (own learning rate), with the
run's learning-rate schedule (``TrainConfig.lr_schedule``: constant, or cosine-annealed over the run's steps).

Adam: betas 0.9/0.999, eps 1e-8, no weight decay; SGD: momentum 0.9. The speed of docs/benchmarks.md
comes from torch's multi-tensor kernels, which are private API (``torch._fused_adam_``,
``torch._foreach_*``) and may vanish in a release: each is used only when present, with a plain
per-tensor fallback of the same math (``tests`` run both paths).
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch

from szsl.config import TrainConfig
from szsl.model import PARAM_NAMES

ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
SGD_MOMENTUM = 0.9
_FOREACH_OPS = (
    "_foreach_mul_",
    "_foreach_add_",
    "_foreach_lerp_",
    "_foreach_addcmul_",
    "_foreach_sqrt",
    "_foreach_div_",
    "_foreach_addcdiv_",
)
HAS_FUSED_ADAM = hasattr(torch, "_fused_adam_")
HAS_FOREACH = all(hasattr(torch, name) for name in _FOREACH_OPS)


class PopulationOptimizer:
    """Adam / SGD-momentum over stacked members, exact per member (own learning rate).

    Members sharing a learning rate are updated by one fused multi-tensor kernel over their
    slices (``torch._fused_adam_``: one pass over param, grad and moments); a diverged member
    is left out and stops moving.
    """

    def __init__(
        self,
        params: dict[str, torch.Tensor],
        configs: Sequence[TrainConfig],
        optimizer: str,
        schedule: str = "constant",
        total_steps: int = 0,
    ):
        self.params = [params[name] for name in PARAM_NAMES]
        self.optimizer = optimizer
        if schedule == "cosine" and total_steps < 1:
            raise ValueError("a cosine schedule needs the run's total number of steps")
        self.schedule, self.total_steps = schedule, int(total_steps)
        self.lrs = [float(c.lr) for c in configs]
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params] if optimizer == "adam" else []
        self.step_count = 0
        self.step_tensor = torch.zeros((), dtype=torch.float32, device=self.params[0].device)
        self.fused = optimizer == "adam" and HAS_FUSED_ADAM and self.params[0].device.type in ("cpu", "cuda")
        self.foreach = HAS_FOREACH
        self.set_alive(np.ones(len(configs), dtype=bool))

    def select(self, keep: Sequence[int], params: dict[str, torch.Tensor]) -> None:
        """Keep only the members ``keep`` (positions in the stack), now stacked in ``params``; their moments go with them."""
        sel = torch.tensor(list(keep), dtype=torch.long, device=self.params[0].device)
        self.params = [params[name] for name in PARAM_NAMES]
        self.m = [m.index_select(0, sel) for m in self.m]
        self.v = [v.index_select(0, sel) for v in self.v]
        self.lrs = [self.lrs[j] for j in keep]
        self.set_alive(np.ones(len(keep), dtype=bool))

    def set_alive(self, alive: np.ndarray) -> None:
        """Regroup the living members by learning rate (called when the set changes)."""
        by_lr: dict[float, list[int]] = {}
        for i in np.flatnonzero(alive):
            by_lr.setdefault(self.lrs[i], []).append(int(i))
        self.groups = list(by_lr.items())

    def lr_factor(self, t: int) -> float:
        """The schedule's multiplier of every member's lr at step t (1-based): 1 throughout for "constant";
        (1 + cos(pi (t - 1) / T)) / 2 for "cosine" (1 at the first step, ~0 at the last of T)."""
        if self.schedule == "constant":
            return 1.0
        return 0.5 * (1.0 + math.cos(math.pi * min(t - 1, self.total_steps) / self.total_steps))

    @torch.no_grad()
    def step(self, grads: Sequence[torch.Tensor]) -> None:
        self.step_count += 1
        t = self.step_count
        self.step_tensor.fill_(t)
        factor = self.lr_factor(t)
        for base_lr, members in self.groups:
            lr = base_lr * factor
            sel = lambda ts: [x[i] for i in members for x in ts]  # noqa: E731 - (member, param) slices
            ps, gs, ms = sel(self.params), sel(grads), sel(self.m)
            if not self.foreach and not self.fused:  # private multi-tensor ops gone: the same math, one tensor at a time
                self._step_per_tensor(lr, t, ps, gs, ms, None if self.optimizer == "sgd" else sel(self.v))
                continue
            if self.optimizer == "sgd":
                torch._foreach_mul_(ms, SGD_MOMENTUM)
                torch._foreach_add_(ms, gs)
                torch._foreach_add_(ps, ms, alpha=-lr)
                continue
            vs = sel(self.v)
            b1, b2 = ADAM_BETAS
            if self.fused:
                torch._fused_adam_(
                    ps,
                    gs,
                    ms,
                    vs,
                    [],
                    [self.step_tensor] * len(ps),
                    lr=lr,
                    beta1=b1,
                    beta2=b2,
                    weight_decay=0.0,
                    eps=ADAM_EPS,
                    amsgrad=False,
                    maximize=False,
                )
            else:  # same math, multi-tensor ops
                torch._foreach_lerp_(ms, gs, 1 - b1)
                torch._foreach_mul_(vs, b2)
                torch._foreach_addcmul_(vs, gs, gs, value=1 - b2)
                denom = torch._foreach_sqrt(vs)
                torch._foreach_div_(denom, (1 - b2**t) ** 0.5)
                torch._foreach_add_(denom, ADAM_EPS)
                torch._foreach_addcdiv_(ps, ms, denom, value=-lr / (1 - b1**t))

    @staticmethod
    def _step_per_tensor(lr: float, t: int, ps, gs, ms, vs) -> None:
        if vs is None:  # SGD with momentum
            for p, g, m in zip(ps, gs, ms):
                m.mul_(SGD_MOMENTUM).add_(g)
                p.add_(m, alpha=-lr)
            return
        b1, b2 = ADAM_BETAS
        for p, g, m, v in zip(ps, gs, ms, vs):
            m.lerp_(g, 1 - b1)
            v.mul_(b2).addcmul_(g, g, value=1 - b2)
            denom = v.sqrt().div_((1 - b2**t) ** 0.5).add_(ADAM_EPS)
            p.addcdiv_(m, denom, value=-lr / (1 - b1**t))
