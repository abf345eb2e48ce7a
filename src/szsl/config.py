"""TrainConfig: every hyperparameter of one SZSL training run, validated at the boundary: the ``Setting`` of the
network methods (szsl, its ablations, dcn). A network method whose loss has hyperparameters of its own declares them in
its module, with a subclass (``network_setting``; ``szsl.methods.dcn.DCNConfig``)."""

from __future__ import annotations

import importlib
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
# The loss a member trains with (losses.batch_loss): "szsl" (the soft-label loss above) or "dcn" (Deep Calibration
# Network, Liu et al. 2018, whose hyperparameters szsl.methods.dcn declares). See szsl.methods.
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
    Param("l2", 0.0, NON_NEGATIVE, 0.0, "coefficient of ||W||_F^2 (weights only; the paper's lambda)"),
    Param("l1", 0.0, NON_NEGATIVE, 0.0, "coefficient of ||W||_1 (weights only; the paper's gamma)"),
    Param("seed", 0, Interval(int, 0, 2**63, "left")),
    Param("optimizer", "adam", Options(OPTIMIZERS)),
    Param("lr_schedule", "constant", Options(LR_SCHEDULES), "cosine",
          "learning rate over the run: constant (the paper's) or cosine (annealed to ~0; the default space's)"),
    Param("soft_label", "similarity", Options(SOFT_LABEL_VARIANTS)),
    Param("method", "szsl", Options(LOSSES)),  # q, tau, alpha, soft_label are unused by dcn
    Param("input_scaling", "auto", Options(INPUT_SCALINGS), None,
          "auto (default): features far from a ResNet feature's scale (mean L2 norm outside [10, 160]) are scaled to "
          "norm 40 for training, the model still takes them as given; none: as given"),
)


# Keys every TrainConfig had until DCN declared its hyperparameters in its own module (szsl.methods.dcn): a setting saved
# before (a tuning record, a model or ensemble file) lists them whatever its method; a class that does not declare them
# ignores them.
RETIRED_KEYS = ("dcn_temperature", "dcn_entropy")


def _fields_from(params: tuple[Param, ...], **new_defaults: Any):
    """A class decorator (under ``@dataclass``): one field per Param, with its default, after the fields of the class
    it extends; ``new_defaults`` give inherited fields other defaults. ``PARAMS`` are then all the class's Params."""

    def decorate(cls):
        cls.__annotations__ = {name: type(value).__name__ for name, value in new_defaults.items()}
        cls.__annotations__.update({p.name: type(p.default).__name__ for p in params})
        for name, value in {**new_defaults, **{p.name: p.default for p in params}}.items():
            setattr(cls, name, value)
        cls.PARAMS = tuple(getattr(cls, "PARAMS", ())) + tuple(params)
        cls._NAMES = tuple(p.name for p in cls.PARAMS)
        return cls

    return decorate


@dataclass(frozen=True)
@_fields_from(PARAMS)
class TrainConfig(Setting):
    """Every hyperparameter of one SZSL training run (its fields are ``PARAMS``), checked against their constraints.

    A ``Setting`` like every method's: a read-only mapping of its fields (``dict(config)``, ``config["lr"]``), and
    their attributes (``config.lr``) for the training loop. The members of a loss with hyperparameters of its own
    (``method``, e.g. "dcn") have a subclass of their loss's (``network_setting``); ``from_dict`` picks it."""

    LOSS = "szsl"  # the loss (``method``) of this class's settings

    def __post_init__(self) -> None:
        for p in self.PARAMS:
            p.check(getattr(self, p.name), strict=True)
        if self.method != self.LOSS:
            raise SZSLError(
                f"method={self.method!r}: a {type(self).__name__} trains with the {self.LOSS} loss; "
                f"make a {self.method} setting with TrainConfig.from_dict or get_method({self.method!r}).config"
            )

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
        if name not in self._NAMES:
            raise KeyError(name)
        return getattr(self, name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._NAMES)

    def __len__(self) -> int:
        return len(self._NAMES)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "TrainConfig":
        """The setting of ``values``, of the class of its ``method`` (``setting_class``; absent: this class's loss). Unknown
        keys are an error, but for ``RETIRED_KEYS`` that the class does not declare (settings saved before): ignored."""
        method = values.get("method", cls.LOSS)
        target = setting_class(method) if method in LOSSES else cls  # any other method: the constructor's message
        known = {f.name for f in fields(target)}
        unknown = sorted(set(values) - known - set(RETIRED_KEYS))
        if unknown:
            raise SZSLError(f"unknown hyperparameter(s) {', '.join(unknown)}: expected some of {', '.join(sorted(known))}")
        return target(**{k: v for k, v in values.items() if k in known})

    def replace(self, **changes: Any) -> "TrainConfig":
        return replace(self, **changes)


def network_setting(params: tuple[Param, ...], loss: str):
    """A class decorator: the TrainConfig subclass (a frozen dataclass) of the members that train with ``loss`` (one of
    LOSSES), with one more field per Param of ``params``, the loss's own hyperparameters declared in its method module::

        @network_setting(PARAMS, "dcn")
        class DCNConfig(TrainConfig): ...
    """

    def decorate(cls):
        cls.LOSS = loss
        return dataclass(frozen=True)(_fields_from(params, method=loss)(cls))

    return decorate


def setting_class(loss: str) -> type[TrainConfig]:
    """The TrainConfig class of the members that train with ``loss`` (one of LOSSES): TrainConfig for szsl's, else the
    subclass its method module declares (``szsl.methods.<loss>.CONFIG``), imported when first needed."""
    if loss == TrainConfig.LOSS:
        return TrainConfig
    return importlib.import_module(f"szsl.methods.{loss}").CONFIG
