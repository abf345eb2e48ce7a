"""TrainConfig: every hyperparameter of one SZSL training run, validated at the boundary."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from szsl.errors import SZSLError

ACTIVATIONS = ("relu", "tanh", "sigmoid", "hard-sigmoid")
OPTIMIZERS = ("adam", "sgd")
# The learning rate over a run: "constant" (the paper's), or "cosine" (annealed from lr to ~0 over the
# run's steps, lr * (1 + cos(pi * t / T)) / 2 at step t of T, so the final weights are not the random
# draw of a noisy last step; the default space uses it, docs/tuning.md has the study).
LR_SCHEDULES = ("constant", "cosine")
# How a seen class spreads its q mass over the unseen classes (paper eq. 1 and the variants it discusses):
#   similarity: q * softmax_k(<a_i, a_k> / tau)    (the method)
#   nearest:    all q on the most similar unseen class (the tau -> 0 limit)
#   uniform:    q / U on every unseen class           (the tau -> infinity limit)
SOFT_LABEL_VARIANTS = ("similarity", "nearest", "uniform")
# The loss a member trains with (losses.batch_loss): "szsl" (the soft-label loss above) or "dcn"
# (Deep Calibration Network, Liu et al. 2018: CE over the seen classes of logits / dcn_temperature
# + dcn_entropy * entropy of the prediction over the unseen classes). See szsl.methods.
LOSSES = ("szsl", "dcn")
# The scale of the features a member trains on (szsl.training_data.input_scale): "auto" rescales features far
# from a ResNet feature's scale (mean L2 norm outside [10, 160]) to it, "none" uses them as given.
INPUT_SCALINGS = ("auto", "none")


@dataclass(frozen=True)
class TrainConfig:
    # q, tau, alpha: the reference setting (docs/robustness.md: with the step budget it is the best untuned setting on the real
    # digits and a sound one on every twin; the search spaces search all three)
    q: float = 0.5  # soft-label mass moved from the true seen class onto the unseen classes
    tau: float = 0.2  # temperature of the similarity softmax
    alpha: float = 1.0  # weight of the soft-label cross-entropy; 1 - alpha weighs the hard one
    hidden: int = 1500
    activation: str = "relu"
    batch_size: int = 256
    lr: float = 1e-3
    epochs: int = 30
    l2: float = 0.0  # lambda: coefficient of ||W||_F^2 (weight matrices only, not biases)
    l1: float = 0.0  # gamma: coefficient of ||W||_1 (weight matrices only, not biases)
    seed: int = 0
    optimizer: str = "adam"
    lr_schedule: str = "constant"
    soft_label: str = "similarity"
    method: str = "szsl"  # "szsl" or "dcn"; q, tau, alpha, soft_label are unused by dcn
    dcn_temperature: float = 1.0  # dcn: temperature T of the softmax over the seen classes
    dcn_entropy: float = 0.1  # dcn: weight beta of the entropy over the unseen classes
    input_scaling: str = "auto"  # INPUT_SCALINGS

    def __post_init__(self) -> None:
        def check(name: str, ok: bool, expected: str) -> None:
            if not ok:
                raise SZSLError(f"{name}={getattr(self, name)!r}: expected {expected}")

        def finite(x: Any) -> bool:
            if not isinstance(x, (int, float)) or isinstance(x, bool):
                return False
            try:
                return math.isfinite(x)
            except OverflowError:  # an int beyond float range (e.g. 10**400 from a JSON file)
                return False

        check("q", finite(self.q) and 0.0 <= self.q <= 1.0, "a number in [0, 1]")
        check("alpha", finite(self.alpha) and 0.0 <= self.alpha <= 1.0, "a number in [0, 1]")
        check("tau", finite(self.tau) and self.tau > 0, "a number > 0")
        check("lr", finite(self.lr) and self.lr > 0, "a number > 0")
        check("l2", finite(self.l2) and self.l2 >= 0, "a number >= 0")
        check("l1", finite(self.l1) and self.l1 >= 0, "a number >= 0")
        for name in ("hidden", "batch_size", "epochs"):
            value = getattr(self, name)
            check(name, isinstance(value, int) and not isinstance(value, bool) and value >= 1, "an integer >= 1")
        check("seed", isinstance(self.seed, int) and not isinstance(self.seed, bool) and 0 <= self.seed < 2**63, "an integer in [0, 2**63)")
        check("activation", self.activation in ACTIVATIONS, "one of " + ", ".join(ACTIVATIONS))
        check("optimizer", self.optimizer in OPTIMIZERS, "one of " + ", ".join(OPTIMIZERS))
        check("lr_schedule", self.lr_schedule in LR_SCHEDULES, "one of " + ", ".join(LR_SCHEDULES))
        check("soft_label", self.soft_label in SOFT_LABEL_VARIANTS, "one of " + ", ".join(SOFT_LABEL_VARIANTS))
        check("method", self.method in LOSSES, "one of " + ", ".join(LOSSES))
        check("input_scaling", self.input_scaling in INPUT_SCALINGS, "one of " + ", ".join(INPUT_SCALINGS))
        check("dcn_temperature", finite(self.dcn_temperature) and self.dcn_temperature > 0, "a number > 0")
        check("dcn_entropy", finite(self.dcn_entropy) and self.dcn_entropy >= 0, "a number >= 0")

    @property
    def unseen_mass(self) -> float:
        """alpha * q: the only way alpha and q enter the data term (CE is linear in its target)."""
        return self.alpha * self.q

    @property
    def group_key(self) -> tuple:
        """Members with equal keys share tensor shapes and a schedule, so they train as one batch (the
        activation is not part of it: ``model.embed`` applies each member's own)."""
        return (self.hidden, self.batch_size, self.epochs, self.optimizer, self.lr_schedule, self.input_scaling)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise SZSLError(f"unknown hyperparameter(s) {', '.join(unknown)}: expected some of {', '.join(sorted(known))}")
        return cls(**values)

    def replace(self, **changes: Any) -> "TrainConfig":
        return replace(self, **changes)
