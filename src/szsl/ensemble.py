"""SZSLEnsemble: the final model of ``szsl reproduce`` as a scikit-learn estimator (several settings trained on the
same data, their class probabilities averaged, each member calibrated by its fold-chosen gamma)."""

from __future__ import annotations

import json
import os

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin

from szsl.atomic import atomic_path
from szsl.config import TrainConfig
from szsl.errors import SZSLError
from szsl.estimator import ENSEMBLE_FORMAT, SZSLClassifier, _per_class_score, _top1, check_fit_input, check_fitted, check_predict_input
from szsl.evaluation import ensemble_log_proba
from szsl.final_model import check_gammas, check_weights, final_members
from szsl.train import TrainedMember, train_population


class SZSLEnsemble(ClassifierMixin, BaseEstimator):
    """The final model of ``szsl reproduce``: several settings (e.g. a study's best trials, ``TuneResult.ensemble``)
    trained on the same data with one seed, their class probabilities averaged; with ``gammas`` (one per member,
    chosen on the validation folds: ``TuneResult.top[i]["gamma"]``) each member's seen-class logits are lowered
    by its gamma first (calibrated stacking). ``weights`` (one per member, summing to 1; None: equal): their weights in
    the average (``final_model.member_weights``: an anchor's share). ``members``: settings of a network method
    (TrainConfigs, or their values as dicts); their own
    seeds are replaced by ``seed``. ``estimators_``: the fitted members, each an ``SZSLClassifier``.
    """

    def __init__(self, *, members=(), gammas=None, weights=None, seed: int = 0, device: str = "auto", verbose: bool = False):
        self.members = members
        self.gammas = gammas
        self.weights = weights
        self.seed = seed
        self.device = device
        self.verbose = verbose

    @classmethod
    def from_tune(
        cls, tuned, k: int | None = None, margin: float | None = None, calibrate: str | None = None, *, anchor: bool = False,
        anchor_weight: float | None = None, **kwargs,
    ) -> "SZSLEnsemble":
        """The final model of ``szsl reproduce`` on a ``TuneResult`` or its JSON (``szsl tune``'s output file, as a
        dict): the members and gammas of ``final_model.final_members`` (None: its defaults, calibrate
        ``final_model.DEFAULT_CALIBRATE``); ``anchor``: szsl's untuned setting as one more member (reproduce decides
        it by ``final_model.anchor_for``, on the training set's size) and ``anchor_weight`` its share of the average
        (``final_model.anchor_weight_for``; None: one member among the others)."""
        final = final_members(tuned, k, margin, calibrate, anchor=anchor, anchor_weight=anchor_weight)
        return cls(members=[dict(t["config"]) for t in final.trials], gammas=final.gammas, weights=final.weights, **kwargs)

    def _configs(self) -> list[TrainConfig]:
        if isinstance(self.members, (str, bytes)) or len(self.members) == 0:
            raise SZSLError(f"members={self.members!r}: expected one or more settings (TrainConfig values)")
        configs = []
        for i, m in enumerate(self.members):
            try:
                configs.append(TrainConfig.from_dict({**dict(m), "seed": int(self.seed)}))
            except (TypeError, ValueError) as exc:
                raise SZSLError(f"members[{i}]: {exc}") from None
        if self.gammas is not None:
            check_gammas(self.gammas, len(configs))
        check_weights(self.weights, len(configs))
        return configs

    def fit(self, X, y, class_attributes, class_names=None) -> "SZSLEnsemble":
        """Train every member on (X, y) as one population (``train_population``); see ``SZSLClassifier.fit``."""
        configs = self._configs()
        X, y = check_fit_input(self, X, y)
        trained = train_population(X, y, class_attributes, configs, device=self.device, progress=self.verbose)
        bad = next((t for t in trained if t.diverged), None)
        if bad is not None:
            raise SZSLError(f"a member diverged: {bad.message}")
        seen = np.unique(np.asarray(y))
        self.estimators_ = [SZSLClassifier.from_member(t, class_attributes, seen, class_names, device=self.device) for t in trained]
        return self._set_fitted()

    @classmethod
    def from_members(
        cls, members: list[TrainedMember], class_attributes, seen, class_names=None, gammas=None, device: str = "auto",
        weights=None,
    ) -> "SZSLEnsemble":
        """A fitted ensemble from members that ``train_population`` already trained (with one seed)."""
        ens = cls(members=[t.config.to_dict() for t in members], gammas=gammas, weights=weights, seed=members[0].config.seed,
                  device=device)
        ens._configs()
        ens.estimators_ = [SZSLClassifier.from_member(t, class_attributes, seen, class_names, device=device) for t in members]
        return ens._set_fitted()

    def _set_fitted(self) -> "SZSLEnsemble":
        first = self.estimators_[0]
        for name in ("classes_", "seen_", "unseen_", "class_names_", "n_features_in_", "class_attributes_"):
            setattr(self, name, getattr(first, name))
        return self

    def decision_function(self, X) -> np.ndarray:
        """log of the ensemble's class probabilities, (n, C)."""
        X = check_predict_input(self, X, "estimators_")
        blocks = [e.decision_function(X) for e in self.estimators_]
        return ensemble_log_proba(blocks, self.seen_, None if self.gammas is None else [float(g) for g in self.gammas],
                                  check_weights(self.weights, len(blocks)))

    def predict_proba(self, X) -> np.ndarray:
        return np.exp(self.decision_function(X))

    def predict(self, X, among=None) -> np.ndarray:
        """Top-1 class over all classes, or over the class indices in ``among``."""
        return _top1(self.decision_function(X), among)

    def score(self, X, y) -> float:
        """Per-class mean top-1 accuracy of ``predict(X)`` over the classes present in ``y``, in [0, 1]; see
        ``SZSLClassifier.score``."""
        return _per_class_score(self, X, y)

    def save(self, path: str | os.PathLike) -> None:
        check_fitted(self, "estimators_")
        payload = {
            "format": ENSEMBLE_FORMAT,
            "gammas": json.dumps(None if self.gammas is None else [float(g) for g in self.gammas]),
            "weights": json.dumps(check_weights(self.weights, len(self.estimators_))),
            "seed": int(self.seed),
            "members": [e._payload() for e in self.estimators_],
        }
        with atomic_path(path) as tmp:
            torch.save(payload, tmp)
