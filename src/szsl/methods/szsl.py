"""SZSL, the paper's method: semantic-similarity soft labels, trained by the one loop.

A network method is a setting of ``TrainConfig`` (its hyperparameters and defaults); all the
settings of a call train together as ONE population (``szsl.train.train_population``), and the
fitted members are scored in batches that share a network shape. The loss is
``szsl.losses.batch_loss``. The ablations (``methods.ablations``) and DCN (``methods.dcn``) reuse
``fit_population`` and ``scorer`` from here with the values they fix.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from szsl.config import DEFAULT_EPOCHS, PARAMS, TrainConfig
from szsl.methods import Method
from szsl.params import defaults, space

NAME = "szsl"
DESCRIPTION = "semantic-similarity soft labels (the method)"
NETWORK = True
FIXED: dict[str, Any] = {}
DEFAULTS: dict[str, Any] = defaults(PARAMS)  # TrainConfig's, declared once in szsl.config.PARAMS

BATCH_SIZES = (64, 128, 256, 512, 1024)
HIDDEN_SIZES = (128, 256, 512, 1024, 1500)
# The paper's space, plus lr, l2 and l1 (the paper's lambda and gamma) and a fixed epoch budget.
PAPER_SPACE: dict[str, Any] = {
    "tau": {"low": 1e-2, "high": 10.0, "log": True},
    "batch_size": {"choices": list(BATCH_SIZES)},
    "q": {"low": 0.0, "high": 1.0},
    "alpha": {"low": 0.0, "high": 1.0},
    "hidden": {"choices": list(HIDDEN_SIZES)},
    "activation": {"choices": ["tanh", "sigmoid", "hard-sigmoid", "relu"]},
    "lr": {"low": 1e-4, "high": 1e-2, "log": True},
    "l2": {"low": 1e-7, "high": 1e-2, "log": True},
    "l1": {"low": 1e-7, "high": 1e-2, "log": True},
    "epochs": DEFAULT_EPOCHS,
}
# The default space: each TrainConfig hyperparameter's ``search`` entry (szsl.config.PARAMS, which says why);
# ``--space paper`` (``make_space(base="paper")``) is the paper's space above.
DEFAULT_SPACE: dict[str, Any] = space(PARAMS)
SPACE = DEFAULT_SPACE


class NetworkFit:
    """One trained member: ``.scores(X)`` are its logits over all C classes."""

    def __init__(self, member, attributes, device="auto"):
        self.member = member
        self.attributes = attributes
        self.device = device

    config = property(lambda self: self.member.config)
    diverged = property(lambda self: self.member.diverged)
    message = property(lambda self: self.member.message)
    train_seconds = property(lambda self: self.member.train_seconds)

    def scores(self, X):
        return scorer([self])(X)[0]


def fit_population(
    X, y, attributes, configs: Sequence[TrainConfig], *, seeds=None, device="auto", progress: bool = False
) -> list[NetworkFit]:
    """Train every TrainConfig as one population (each keeps its own seed)."""
    from szsl.train import train_population  # torch: not at import (szsl --help imports this module)

    members = train_population(X, y, attributes, configs, device=device, progress=progress)
    return [NetworkFit(m, attributes, device) for m in members]


def fit(X, y, attributes, params: Mapping[str, Any], *, seed: int = 0, device: str = "auto") -> NetworkFit:
    (fitted,) = fit_population(X, y, attributes, [TrainConfig.from_dict({**dict(params), "seed": seed})], device=device)
    return fitted


def scorer(fits: Sequence[NetworkFit]):
    """X -> [(n, C) scores of each fit]: members sharing a hidden size are scored as one batch (each with its activation)."""
    from szsl.model import Scorer  # torch: not at import

    groups: dict[int, list[int]] = {}
    for i in sorted(range(len(fits)), key=lambda i: fits[i].config.activation):  # one slice per activation (model.embed)
        groups.setdefault(fits[i].config.hidden, []).append(i)
    scorers = [
        (idx, Scorer([fits[i].member.state for i in idx], [fits[i].config.activation for i in idx], fits[idx[0]].attributes,
                     device=fits[idx[0]].device))
        for idx in groups.values()
    ]

    def score(X) -> list:
        out: list = [None] * len(fits)
        for idx, s in scorers:
            for j, block in zip(idx, s(X)):
                out[j] = block
        return out

    return score


def network_method(name: str, description: str, fixed: Mapping[str, Any], space: Mapping[str, Any] | None = None):
    """A network method that fixes some TrainConfig values (and may search more): a Method of the registry."""
    return Method(
        name=name,
        description=description,
        defaults={**DEFAULTS, **fixed},
        space={**PAPER_SPACE, **fixed, **dict(space or {})},
        fit_population=fit_population,
        scorer=scorer,
        network=True,
        fixed=dict(fixed),
        hyperparameters=PARAMS,
    )
