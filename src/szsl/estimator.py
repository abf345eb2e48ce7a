"""SZSLClassifier: the scikit-learn face over model + train.

Hyperparameters go in ``__init__`` (so ``get_params`` / ``set_params`` / ``clone`` work), data in
``fit``. Select hyperparameters with ``szsl.tune`` (class-disjoint validation folds), not with
scikit-learn's grid search: its image-wise splits would show every class to every fold.
The classes are the rows of ``class_attributes``; those with no training sample are
the unseen ones. Predictions range over all classes, or over a subset with ``among=``.
``score`` is the per-class mean top-1 accuracy (the metric of the paper's tables), as scikit-learn's
scores are: a fraction in [0, 1]. A column ``y`` of shape (n, 1) is raveled with a DataConversionWarning.
"""

from __future__ import annotations

import json
import os
import pickle
import warnings
from dataclasses import fields
from pathlib import Path

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import DataConversionWarning
from sklearn.exceptions import NotFittedError as _SklearnNotFittedError

from szsl.atomic import atomic_path
from szsl.config import TrainConfig
from szsl.errors import SZSLError
from szsl.final_model import check_gammas, final_members
from szsl.model import PARAM_NAMES, predict_scores, resolve_device
from szsl.train import TrainedMember, train_population

MODEL_FORMAT = "szsl-model-v1"
ENSEMBLE_FORMAT = "szsl-ensemble-v1"


def _top1(scores: np.ndarray, among=None) -> np.ndarray:
    """The highest-scoring class of each row, over all classes or over the class indices in ``among``."""
    if among is None:
        return scores.argmax(axis=1)
    among = np.asarray(among, dtype=np.int64).ravel()
    if among.size == 0 or among.min() < 0 or among.max() >= scores.shape[1]:
        raise SZSLError(f"among: expected class indices in 0..{scores.shape[1] - 1}")
    return among[scores[:, among].argmax(axis=1)]


def _column_or_1d(y):
    """``y`` as given, or raveled (with scikit-learn's DataConversionWarning) when it is a column of shape (n, 1)."""
    shape = tuple(y.shape) if hasattr(y, "shape") else np.shape(y)
    if len(shape) != 2 or shape[1] != 1:
        return y
    warnings.warn(
        "A column-vector y was passed when a 1d array was expected. "
        "Please change the shape of y to (n_samples, ), for example using ravel().",
        DataConversionWarning,
        stacklevel=3,
    )
    return y.reshape(-1) if isinstance(y, torch.Tensor) else np.asarray(y).ravel()


def _per_class_score(estimator, X, y) -> float:
    """Per-class mean top-1 accuracy of ``estimator.predict(X)`` over the classes present in ``y``, in [0, 1]."""
    from szsl.metrics import per_class_accuracy

    y = _column_or_1d(y)
    y = np.asarray(y.detach().cpu().numpy() if isinstance(y, torch.Tensor) else y)
    return per_class_accuracy(y, estimator.predict(X), np.unique(y)) / 100.0


def _json(payload: dict, key: str):
    """``payload[key]`` (a JSON string) parsed; ValueError on anything else, however deeply nested."""
    text = payload[key]
    if not isinstance(text, str):
        raise ValueError(f"{key} is {type(text).__name__}, expected a JSON string")
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError(f"{key} is nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{key} is not valid JSON ({exc})") from None


def _tensor(value, name: str, ndim: int | None) -> torch.Tensor:
    """``value`` if it is a dense tensor of finite real numbers with ``ndim`` dimensions (any if None); else ValueError."""
    if not isinstance(value, torch.Tensor):
        raise ValueError(f"{name} is {type(value).__name__}, expected a tensor")
    if value.layout != torch.strided or value.is_complex() or value.dtype == torch.bool or value.is_quantized:
        raise ValueError(f"{name} has dtype {value.dtype} ({value.layout}), expected a dense tensor of real numbers")
    if ndim is not None and value.ndim != ndim:
        raise ValueError(f"{name} has shape {tuple(value.shape)}, expected a {ndim}-D tensor")
    if value.is_floating_point() and not torch.isfinite(value).all():
        raise ValueError(f"{name} contains NaN or inf")
    return value


class NotFittedError(SZSLError, _SklearnNotFittedError):
    """An unfitted classifier was used: scikit-learn's NotFittedError that is also an SZSLError."""


class SZSLClassifier(ClassifierMixin, BaseEstimator):
    def __init__(
        self,
        *,
        q: float = 0.5,
        tau: float = 0.2,
        alpha: float = 1.0,
        hidden: int = 1500,
        activation: str = "relu",
        batch_size: int = 256,
        lr: float = 1e-3,
        epochs: int = 30,
        l2: float = 0.0,
        l1: float = 0.0,
        seed: int = 0,
        optimizer: str = "adam",
        lr_schedule: str = "constant",
        soft_label: str = "similarity",
        method: str = "szsl",
        dcn_temperature: float = 1.0,
        dcn_entropy: float = 0.1,
        input_scaling: str = "auto",
        device: str = "auto",
        verbose: bool = False,
    ):
        self.q = q
        self.tau = tau
        self.alpha = alpha
        self.hidden = hidden
        self.activation = activation
        self.batch_size = batch_size
        self.lr = lr
        self.epochs = epochs
        self.l2 = l2
        self.l1 = l1
        self.seed = seed
        self.optimizer = optimizer
        self.lr_schedule = lr_schedule
        self.soft_label = soft_label
        self.method = method
        self.dcn_temperature = dcn_temperature
        self.dcn_entropy = dcn_entropy
        self.input_scaling = input_scaling
        self.device = device
        self.verbose = verbose

    def _config(self) -> TrainConfig:
        return TrainConfig(**{f.name: getattr(self, f.name) for f in fields(TrainConfig)})

    def fit(self, X, y, class_attributes, class_names=None) -> "SZSLClassifier":
        """Train on (X, y). ``class_attributes``: (C, A) attributes of ALL classes; y in [0, C)."""
        y = _column_or_1d(y)
        config = self._config()
        member = train_population(X, y, class_attributes, [config], device=self.device, progress=self.verbose)[0]
        if member.diverged:
            raise SZSLError(member.message)
        return self._set_fitted(member, class_attributes, np.unique(np.asarray(y)), class_names)

    @classmethod
    def from_member(cls, member: TrainedMember, class_attributes, seen, class_names=None, device: str = "auto") -> "SZSLClassifier":
        """A fitted classifier from a member that ``train_population`` already trained."""
        return cls(**member.config.to_dict(), device=device)._set_fitted(member, class_attributes, seen, class_names)

    def _set_fitted(self, member: TrainedMember, class_attributes, seen, class_names) -> "SZSLClassifier":
        A = np.asarray(class_attributes, dtype=np.float32)
        self.class_attributes_ = A
        self.classes_ = np.arange(A.shape[0])
        self.seen_ = np.asarray(seen, dtype=np.int64)
        self.unseen_ = np.setdiff1d(self.classes_, self.seen_)
        self.class_names_ = None if class_names is None else [str(c) for c in class_names]
        self.n_features_in_ = int(member.state["W1"].shape[0])
        self.state_ = member.state
        self.train_seconds_ = member.train_seconds
        self.loss_ = member.final_loss
        return self

    def _check_X(self, X) -> np.ndarray:
        if not hasattr(self, "state_"):
            raise NotFittedError("this SZSLClassifier is not fitted yet: call fit(X, y, class_attributes) first")
        X = np.asarray(X.detach().cpu().numpy() if isinstance(X, torch.Tensor) else X)
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise SZSLError(f"X: expected shape (n, {self.n_features_in_}), got {X.shape}")
        if not np.issubdtype(X.dtype, np.number) or not np.isfinite(X).all():
            raise SZSLError("X: expected finite numbers (found NaN, inf or non-numeric values)")
        return X

    def decision_function(self, X) -> np.ndarray:
        """Logits over all C classes, (n, C)."""
        X = self._check_X(X)
        return predict_scores([self.state_], self.activation, X, self.class_attributes_, device=self.device)[0]

    def predict_proba(self, X) -> np.ndarray:
        scores = torch.from_numpy(self.decision_function(X))
        return torch.softmax(scores, dim=1).numpy()

    def predict(self, X, among=None) -> np.ndarray:
        """Top-1 class over all classes, or over the class indices in ``among`` (e.g. unseen_ for ZSL)."""
        return _top1(self.decision_function(X), among)

    def score(self, X, y) -> float:
        """Per-class mean top-1 accuracy of ``predict(X)`` over the classes present in ``y``, in [0, 1].

        The metric the paper's tables report (``szsl.metrics.per_class_accuracy``, there in percent), not
        scikit-learn's plain accuracy: every class counts the same however many images it has (equal to
        ``sklearn.metrics.balanced_accuracy_score``). Over test images of seen and unseen classes it is the
        GZSL accuracy of all those classes together; see ``szsl.metrics.gzsl_metrics`` for U, S and H.
        """
        return _per_class_score(self, X, y)

    # -- persistence: tensors + JSON-able metadata, loaded with weights_only (no code execution) --

    def _payload(self) -> dict:
        if not hasattr(self, "state_"):
            raise NotFittedError("cannot save an unfitted SZSLClassifier")
        return {
            "format": MODEL_FORMAT,
            "params": json.dumps(self.get_params()),
            "class_names": json.dumps(self.class_names_),
            "n_features_in": self.n_features_in_,
            "class_attributes": torch.from_numpy(self.class_attributes_),
            "seen": torch.from_numpy(self.seen_),
            "state": {k: v.contiguous() for k, v in self.state_.items()},
            "train_seconds": float(self.train_seconds_),
            "loss": float(self.loss_),
        }

    def save(self, path: str | os.PathLike) -> None:
        payload = self._payload()
        with atomic_path(path) as tmp:
            torch.save(payload, tmp)

    @classmethod
    def load(cls, path: str | os.PathLike, device: str | None = None) -> "SZSLClassifier":
        model = load_model(path, device)
        if not isinstance(model, cls):
            raise SZSLError(f"{path}: an ensemble of {len(model.estimators_)} models, not one model: load it with szsl.load_model")
        return model

    @classmethod
    def _from_payload(cls, payload, device: str | None) -> "SZSLClassifier":
        """A fitted classifier from a saved payload; ValueError / KeyError / SZSLError on anything malformed.

        Every tensor is checked (type, real dtype, number of dimensions, finite values) and every shape
        against the others: A (C, a) with C >= 2, W1 (d, hidden), b1 (hidden,), W2 (hidden, a), b2 (a,).
        """
        if not isinstance(payload, dict) or payload.get("format") != MODEL_FORMAT:
            raise ValueError(f"expected format {MODEL_FORMAT!r}")
        params = _json(payload, "params")
        if not isinstance(params, dict):
            raise ValueError(f"params is {type(params).__name__}, expected a JSON object of hyperparameters")
        if device is not None:
            params["device"] = device
        clf = cls(**params)
        clf._config()  # validates every hyperparameter
        A = _tensor(payload["class_attributes"], "class_attributes", 2).numpy().astype(np.float32)
        if A.shape[0] < 2:
            raise ValueError(f"class_attributes has shape {A.shape}: expected at least 2 classes (rows)")
        if A.shape[1] < 1:
            raise ValueError(f"class_attributes has shape {A.shape}: expected at least 1 attribute (column)")
        if not isinstance(payload["state"], dict):
            raise ValueError(f"state is {type(payload['state']).__name__}, expected a dict of tensors {', '.join(PARAM_NAMES)}")
        d = payload["n_features_in"]
        if not isinstance(d, int) or isinstance(d, bool) or d < 1:
            raise ValueError(f"n_features_in is {d!r}, expected an integer >= 1")
        expected = {"W1": (d, clf.hidden), "b1": (clf.hidden,), "W2": (clf.hidden, A.shape[1]), "b2": (A.shape[1],)}
        state = {}
        for k, shape in expected.items():
            t = _tensor(payload["state"][k], f"state {k}", None)
            if tuple(t.shape) != shape:
                raise ValueError(f"state {k} has shape {tuple(t.shape)}, expected {shape}")
            state[k] = t.float()
        seen_t = _tensor(payload["seen"], "seen", 1)
        if seen_t.is_floating_point():
            raise ValueError(f"seen has dtype {seen_t.dtype}, expected integer class indices")
        seen = seen_t.numpy().astype(np.int64)
        if seen.size == 0:
            raise ValueError("seen is empty, expected the indices of the classes the model was trained on")
        if seen.min() < 0 or seen.max() >= A.shape[0]:
            raise ValueError(f"seen class index out of range 0..{A.shape[0] - 1}")
        values, counts = np.unique(seen, return_counts=True)
        if (counts > 1).any():
            raise ValueError(f"seen lists class {int(values[counts > 1][0])} twice")
        names = _json(payload, "class_names")
        if names is not None and (not isinstance(names, list) or not all(isinstance(n, str) for n in names)):
            raise ValueError("class_names: expected null or a JSON list of strings")
        if names is not None and len(names) != A.shape[0]:
            raise ValueError(f"{len(names)} class names for {A.shape[0]} classes")
        clf.class_attributes_ = A
        clf.classes_ = np.arange(A.shape[0])
        clf.seen_ = seen
        clf.unseen_ = np.setdiff1d(clf.classes_, seen)
        clf.class_names_ = names
        clf.n_features_in_ = d
        clf.state_ = state
        # Files written before these were saved lack them: NaN, not a made-up number.
        clf.train_seconds_ = float(payload.get("train_seconds", float("nan")))
        clf.loss_ = float(payload.get("loss", float("nan")))
        return clf


class SZSLEnsemble(ClassifierMixin, BaseEstimator):
    """The final model of ``szsl reproduce``: several settings (e.g. a study's best trials, ``TuneResult.ensemble``)
    trained on the same data with one seed, their class probabilities averaged; with ``gammas`` (one per member,
    chosen on the validation folds: ``TuneResult.top[i]["gamma"]``) each member's seen-class logits are lowered
    by its gamma first (calibrated stacking). ``members``: TrainConfig values (dicts) or TrainConfigs; their own
    seeds are replaced by ``seed``. ``estimators_``: the fitted members, each an ``SZSLClassifier``.
    """

    def __init__(self, *, members=(), gammas=None, seed: int = 0, device: str = "auto", verbose: bool = False):
        self.members = members
        self.gammas = gammas
        self.seed = seed
        self.device = device
        self.verbose = verbose

    @classmethod
    def from_tune(cls, tuned, k: int | None = None, margin: float | None = None, calibrate: str | None = None, **kwargs) -> "SZSLEnsemble":
        """The final model of ``szsl reproduce`` on a ``TuneResult`` or its JSON (``szsl tune``'s output file, as a
        dict): the members and gammas of ``final_model.final_members`` (None: its defaults, calibrate
        ``final_model.DEFAULT_CALIBRATE``)."""
        final = final_members(tuned, k, margin, calibrate)
        return cls(members=[dict(t["config"]) for t in final.trials], gammas=final.gammas, **kwargs)

    def _configs(self) -> list[TrainConfig]:
        if isinstance(self.members, (str, bytes)) or len(self.members) == 0:
            raise SZSLError(f"members={self.members!r}: expected one or more settings (TrainConfig values)")
        configs = []
        for i, m in enumerate(self.members):
            values = m.to_dict() if hasattr(m, "to_dict") else dict(m)
            try:
                configs.append(TrainConfig.from_dict({**values, "seed": int(self.seed)}))
            except (TypeError, ValueError) as exc:
                raise SZSLError(f"members[{i}]: {exc}") from None
        if self.gammas is not None:
            check_gammas(self.gammas, len(configs))
        return configs

    def fit(self, X, y, class_attributes, class_names=None) -> "SZSLEnsemble":
        """Train every member on (X, y) as one population (``train_population``); see ``SZSLClassifier.fit``."""
        y = _column_or_1d(y)
        configs = self._configs()
        trained = train_population(X, y, class_attributes, configs, device=self.device, progress=self.verbose)
        bad = next((t for t in trained if t.diverged), None)
        if bad is not None:
            raise SZSLError(f"a member diverged: {bad.message}")
        seen = np.unique(np.asarray(y))
        self.estimators_ = [SZSLClassifier.from_member(t, class_attributes, seen, class_names, device=self.device) for t in trained]
        return self._set_fitted()

    @classmethod
    def from_members(
        cls, members: list[TrainedMember], class_attributes, seen, class_names=None, gammas=None, device: str = "auto"
    ) -> "SZSLEnsemble":
        """A fitted ensemble from members that ``train_population`` already trained (with one seed)."""
        ens = cls(members=[t.config.to_dict() for t in members], gammas=gammas, seed=members[0].config.seed, device=device)
        ens._configs()
        ens.estimators_ = [SZSLClassifier.from_member(t, class_attributes, seen, class_names, device=device) for t in members]
        return ens._set_fitted()

    def _set_fitted(self) -> "SZSLEnsemble":
        first = self.estimators_[0]
        for name in ("classes_", "seen_", "unseen_", "class_names_", "n_features_in_", "class_attributes_"):
            setattr(self, name, getattr(first, name))
        return self

    def _check(self) -> None:
        if not hasattr(self, "estimators_"):
            raise NotFittedError("this SZSLEnsemble is not fitted yet: call fit(X, y, class_attributes) first")

    def decision_function(self, X) -> np.ndarray:
        """log of the ensemble's class probabilities, (n, C)."""
        from szsl.evaluation import ensemble_log_proba

        self._check()
        blocks = [e.decision_function(X) for e in self.estimators_]
        return ensemble_log_proba(blocks, self.seen_, None if self.gammas is None else [float(g) for g in self.gammas])

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
        self._check()
        payload = {
            "format": ENSEMBLE_FORMAT,
            "gammas": json.dumps(None if self.gammas is None else [float(g) for g in self.gammas]),
            "seed": int(self.seed),
            "members": [e._payload() for e in self.estimators_],
        }
        with atomic_path(path) as tmp:
            torch.save(payload, tmp)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    if isinstance(exc, KeyError):
        return f"missing key {exc}"
    return str(exc)[:300]


def load_model(path: str | os.PathLike, device: str | None = None):
    """A model saved by ``SZSLClassifier.save`` or ``SZSLEnsemble.save`` (``szsl train --save``)."""
    path = Path(path)
    if not path.is_file():
        raise SZSLError(f"{path}: model file not found")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's notes on foreign pickle protocols: the error below says what matters
            payload = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        # torch's text advises weights_only=False, i.e. running the file's code: never right for a file that is not a model
        raise SZSLError(
            f"{path}: not a valid szsl model file (UnpicklingError: it holds Python objects other than tensors and plain values; a model "
            "is written by szsl train --save or SZSLClassifier.save)"
        ) from None
    except Exception as exc:  # any unreadable / tampered file; weights_only never runs code
        raise SZSLError(f"{path}: not a valid szsl model file ({type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:200]})") from None
    try:
        if isinstance(payload, dict) and payload.get("format") == ENSEMBLE_FORMAT:
            if not isinstance(payload["members"], list):
                raise ValueError(f"members is {type(payload['members']).__name__}, expected a list of models")
            members = []
            for i, p in enumerate(payload["members"]):
                try:
                    members.append(SZSLClassifier._from_payload(p, device))
                except (KeyError, TypeError, ValueError, AttributeError, RecursionError) as exc:
                    raise ValueError(f"members[{i}]: {_reason(exc)}") from None
            if not members:
                raise ValueError("an ensemble without members")
            first = members[0]
            for m in members[1:]:
                if not (np.array_equal(m.class_attributes_, first.class_attributes_) and np.array_equal(m.seen_, first.seen_)):
                    raise ValueError("members with different classes")
            gammas = _json(payload, "gammas")
            model = SZSLEnsemble(
                members=[e._config().to_dict() for e in members], gammas=gammas, seed=int(payload["seed"]), device=device or first.device
            )
            model._configs()  # validates the gammas against the members
            model.estimators_ = members
            model._set_fitted()
        else:
            model = SZSLClassifier._from_payload(payload, device)
    except SZSLError as exc:
        raise SZSLError(f"{path}: {exc}") from None
    except (KeyError, TypeError, ValueError, AttributeError, RecursionError) as exc:
        raise SZSLError(f"{path}: not a valid szsl model file ({_reason(exc)})") from None
    resolve_device(model.device)
    return model
