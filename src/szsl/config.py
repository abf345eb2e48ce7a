"""TrainConfig: every hyperparameter of one SZSL training run, validated at the boundary: the ``Setting`` of the
network methods (szsl, its ablations, dcn)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Iterator

from szsl.errors import SZSLError
from szsl.params import NON_NEGATIVE, POSITIVE, Interval, Options, Param, Setting

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


DEFAULT_EPOCHS = 30  # the default space's fixed epoch budget (and the default)

_UNIT = Interval(float, 0.0, 1.0, "both")
_COUNT = Interval(int, 1, None, "left")

# Every hyperparameter of a network member, declared once (szsl.params): default, constraint, entry of szsl's default
# search space (docs/tuning.md has the study behind it: the soft-label mass m = alpha * q searched directly, alpha
# fixed to 1, the temperature and the learning rate searched, the network shape, batch size and regularisation fixed so
# a batch of trials is one population, the lr annealed by a cosine schedule) and the help of its ``szsl train`` option.
# q, tau, alpha: the reference setting (docs/robustness.md: with the step budget it is the best untuned setting on the
# real digits and a sound one on every twin).
PARAMS: tuple[Param, ...] = (
    Param("q", 0.5, _UNIT, {"low": 0.02, "high": 1.0, "log": True}, "soft-label mass moved to the unseen classes, in [0, 1]"),
    Param("tau", 0.2, POSITIVE, {"low": 0.02, "high": 10.0, "log": True},
          "similarity temperature (> 0); small = nearest unseen class, large = uniform"),
    Param("alpha", 1.0, _UNIT, 1.0, "weight of the soft-label loss, in [0, 1]"),  # 1 - alpha weighs the hard CE
    Param("hidden", 1500, _COUNT, 512),
    Param("activation", "relu", Options(ACTIVATIONS), "relu"),
    Param("batch_size", 256, _COUNT, 256),
    Param("lr", 1e-3, POSITIVE, {"low": 1e-4, "high": 3e-3, "log": True}),
    Param("epochs", DEFAULT_EPOCHS, _COUNT, DEFAULT_EPOCHS),
    Param("l2", 0.0, NON_NEGATIVE, 0.0, "lambda: coefficient of ||W||_F^2 (weights only)"),
    Param("l1", 0.0, NON_NEGATIVE, 0.0, "gamma: coefficient of ||W||_1 (weights only)"),
    Param("seed", 0, Interval(int, 0, 2**63, "left")),
    Param("optimizer", "adam", Options(OPTIMIZERS)),
    Param("lr_schedule", "constant", Options(LR_SCHEDULES), "cosine",
          "learning rate over the run: constant (the paper's) or cosine (annealed to ~0; the default space's)"),
    Param("soft_label", "similarity", Options(SOFT_LABEL_VARIANTS)),
    Param("method", "szsl", Options(LOSSES)),  # q, tau, alpha, soft_label are unused by dcn
    Param("dcn_temperature", 1.0, POSITIVE, None, "dcn: softmax temperature over the seen classes (> 0)"),
    Param("dcn_entropy", 0.1, NON_NEGATIVE, None, "dcn: weight of the entropy over the unseen classes (>= 0)"),
    Param("input_scaling", "auto", Options(INPUT_SCALINGS), None,
          "auto (default): features far from a ResNet feature's scale (mean L2 norm outside [10, 160]) are scaled to "
          "norm 40 for training, the model still takes them as given; none: as given"),
)


def _fields_from(params: tuple[Param, ...]):
    """A class decorator (under ``@dataclass``): one field per Param, with its default."""

    def decorate(cls):
        cls.__annotations__ = {p.name: type(p.default).__name__ for p in params}
        for p in params:
            setattr(cls, p.name, p.default)
        return cls

    return decorate


_NAMES = tuple(p.name for p in PARAMS)


@dataclass(frozen=True)
@_fields_from(PARAMS)
class TrainConfig(Setting):
    """Every hyperparameter of one SZSL training run (its fields are ``PARAMS``), checked against their constraints.

    A ``Setting`` like every method's: a read-only mapping of its fields (``dict(config)``, ``config["lr"]``), and
    their attributes (``config.lr``) for the training loop."""

    def __post_init__(self) -> None:
        for p in PARAMS:
            p.check(getattr(self, p.name), strict=True)

    @property
    def unseen_mass(self) -> float:
        """alpha * q: the only way alpha and q enter the data term (CE is linear in its target)."""
        return self.alpha * self.q

    @property
    def group_key(self) -> tuple:
        """Members with equal keys share tensor shapes and a schedule, so they train as one batch (the
        activation is not part of it: ``model.embed`` applies each member's own)."""
        return (self.hidden, self.batch_size, self.epochs, self.optimizer, self.lr_schedule, self.input_scaling)

    def __getitem__(self, name: str) -> Any:
        if name not in _NAMES:
            raise KeyError(name)
        return getattr(self, name)

    def __iter__(self) -> Iterator[str]:
        return iter(_NAMES)

    def __len__(self) -> int:
        return len(_NAMES)

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
