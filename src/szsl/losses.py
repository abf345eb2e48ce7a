"""The per-member training objective of the one loop (paper eqs. 2-4) and its fast autograd form.

Per-sample loss, with m = alpha * q:
    alpha * CE(soft) + (1 - alpha) * CE(hard)
  = (1 - m) * (-log p_y) + m * sum_k s_yk * (-log p_k)      (k unseen, s_y. = unseen_distribution)
because CE is linear in its target and the soft label is (1 - q) e_y + q s_y. The mean over the
mini-batch plus l2 * ||W||_F^2 + l1 * ||W||_1 (W1 and W2, not the biases). Soft targets are built
per mini-batch from the rows it needs: nothing of size (classes x classes x K) or N x C exists.

A network method with a loss of its own (``TrainConfig.method``, e.g. ``"dcn"``) registers it in
``LOSSES``: an object with ``settings(configs, device)`` (its per-member tensors) and
``per_sample(z, y, unseen, settings) -> (K, B)``; its members take that loss instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import torch

from szsl.config import TrainConfig
from szsl.model import WEIGHT_NAMES, logits
from szsl.soft_labels import unseen_distribution


class _Losses(dict):
    """TrainConfig.method -> its loss module, imported when first used (``szsl.methods.<name>``)."""

    def __missing__(self, name: str):
        import importlib

        module = importlib.import_module(f"szsl.methods.{name}")
        self[name] = module
        return module


LOSSES = _Losses()


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
    # Members whose TrainConfig.method names another loss (LOSSES, e.g. "dcn"): loss -> (mask (K, 1) bool,
    # that loss's own settings). Empty when every member trains with the soft-label loss.
    other_losses: dict = field(default_factory=dict)

    @classmethod
    def of(cls, configs: Sequence[TrainConfig], device) -> "MemberSettings":
        variants = sorted({c.soft_label for c in configs})
        return cls(
            mass=torch.tensor([c.unseen_mass for c in configs], dtype=torch.float32, device=device).view(-1, 1),
            tau=member_column(configs, "tau", device),
            l2=member_column(configs, "l2", device).view(-1),
            l1=member_column(configs, "l1", device).view(-1),
            variant_masks={v: torch.tensor([c.soft_label == v for c in configs], device=device).view(-1, 1, 1) for v in variants},
            any_mass=any(c.unseen_mass > 0 for c in configs if c.method == "szsl"),
            any_l2=any(c.l2 > 0 for c in configs),
            any_l1=any(c.l1 > 0 for c in configs),
            other_losses={
                name: (torch.tensor([c.method == name for c in configs], device=device).view(-1, 1), LOSSES[name].settings(configs, device))
                for name in sorted({c.method for c in configs} - {"szsl"})
            },
        )


def batch_loss(params, xb, yb, A, unseen, hp: MemberSettings, activation) -> torch.Tensor:
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
    for name, (mask, settings) in hp.other_losses.items():  # e.g. members with config.method == "dcn"
        per_sample = torch.where(mask, LOSSES[name].per_sample(z, yb, unseen, settings), per_sample)
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


def member_column(configs: Sequence[TrainConfig], name: str, device) -> torch.Tensor:
    """A per-member hyperparameter as a (K, 1, 1) tensor that broadcasts over (K, B, ...)."""
    return torch.tensor([float(getattr(c, name)) for c in configs], dtype=torch.float32, device=device).view(-1, 1, 1)
