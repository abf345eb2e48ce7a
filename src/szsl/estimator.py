"""SZSLClassifier: the scikit-learn face over model + train.

Hyperparameters go in ``__init__`` (so ``get_params`` / ``set_params`` / ``clone`` work), data in
``fit``. Select hyperparameters with ``szsl.tune`` (class-disjoint validation folds), not with
scikit-learn's grid search: its image-wise splits would show every class to every fold.
The classes are the rows of ``class_attributes``; those with no training sample are
the unseen ones. Predictions range over all classes, or over a subset with ``among=``.
``score`` is the per-class mean top-1 accuracy (the metric of the paper's tables), as scikit-learn's
scores are: a fraction in [0, 1]. A column ``y`` of shape (n, 1) is raveled with a DataConversionWarning.
X and y are checked by scikit-learn's own helpers (``validate_data``, ``check_classification_targets``,
``check_is_fitted``), so errors carry scikit-learn's wording, on one line, as an ``SZSLError`` (a ValueError; an
``SZSLTypeError``, also a TypeError, where scikit-learn raises a TypeError).
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import NotFittedError as _SklearnNotFittedError
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d

from szsl.atomic import atomic_path
from szsl.config import RETIRED_KEYS, TrainConfig
from szsl.errors import SZSLError, SZSLTypeError
from szsl.metrics import per_class_accuracy
from szsl.model import PARAM_NAMES, predict_scores
from szsl.model_io import checked_tensor, json_field, load_checked, read_model_file
from szsl.train import TrainedMember, train_population

MODEL_FORMAT = "szsl-model-v1"
ENSEMBLE_FORMAT = "szsl-ensemble-v1"  # szsl.ensemble.SZSLEnsemble.save


def _top1(scores: np.ndarray, among=None) -> np.ndarray:
    """The highest-scoring class of each row, over all classes or over the class indices in ``among``."""
    if among is None:
        return scores.argmax(axis=1)
    among = np.asarray(among, dtype=np.int64).ravel()
    if among.size == 0 or among.min() < 0 or among.max() >= scores.shape[1]:
        raise SZSLError(f"among: expected class indices in 0..{scores.shape[1] - 1}")
    return among[scores[:, among].argmax(axis=1)]


try:
    from sklearn.utils.validation import validate_data
except ImportError:  # scikit-learn < 1.6: the same check, as the estimator's method

    def validate_data(estimator, X="no_validation", y="no_validation", **kwargs):
        return estimator._validate_data(X, y, **kwargs)


def _host(value):
    """A torch tensor as a NumPy array (scikit-learn's checks read NumPy), anything else as given."""
    return value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else value


def _one_line(exc: BaseException) -> str:
    """scikit-learn's message without the echoed array (its ``array=[...]`` lines), which an SZSLError keeps on one line."""
    kept, echo = [], False
    for line in str(exc).splitlines():
        if line.startswith("array="):
            echo = True
        elif line.startswith("Reshape"):
            echo = False
        if not echo:
            kept.append(line)
    return " ".join(kept)


@contextmanager
def _sklearn_wording():
    """scikit-learn's input errors as one-line SZSLErrors (its TypeErrors as SZSLTypeErrors), in its own words."""
    try:
        yield
    except SZSLError:
        raise
    except TypeError as exc:
        raise SZSLTypeError(_one_line(exc)) from None
    except ValueError as exc:
        raise SZSLError(_one_line(exc)) from None


def check_fit_input(estimator, X, y):
    """(X, y) for training, checked as scikit-learn checks a classifier's input (``validate_data``: 2-D finite real
    X with at least one sample and one feature, dense; y 1-D of the same length, a column raveled with a
    DataConversionWarning; discrete labels). Sets ``estimator.n_features_in_``. X is float32, as training reads it
    (no copy when it already is); that y holds class indices into class_attributes is ``train_population``'s check."""
    with _sklearn_wording():
        X, y = validate_data(estimator, _host(X), _host(y), dtype=np.float32, y_numeric=False)
        check_classification_targets(y)
    return X, y


def check_predict_input(estimator, X, fitted: str):
    """X for prediction: ``estimator`` fitted (its attribute ``fitted`` set, else NotFittedError), X 2-D finite real
    with the fitted number of features (``validate_data(reset=False)``); no rows is allowed (no predictions)."""
    check_fitted(estimator, fitted)
    with _sklearn_wording():
        return validate_data(estimator, _host(X), reset=False, dtype="numeric", ensure_min_samples=0)


_NOT_FITTED = (
    "This %(name)s instance is not fitted yet. Call 'fit' with appropriate arguments (X, y, class_attributes) before using this estimator."
)


def check_fitted(estimator, attribute: str) -> None:
    """scikit-learn's ``check_is_fitted``, its NotFittedError raised as ours (also an SZSLError)."""
    try:
        check_is_fitted(estimator, attribute, msg=_NOT_FITTED)
    except _SklearnNotFittedError as exc:
        raise NotFittedError(str(exc)) from None


def _per_class_score(estimator, X, y) -> float:
    """Per-class mean top-1 accuracy of ``estimator.predict(X)`` over the classes present in ``y``, in [0, 1]."""
    y = column_or_1d(_host(y), warn=True)
    return per_class_accuracy(y, estimator.predict(X), np.unique(y)) / 100.0


class NotFittedError(SZSLError, _SklearnNotFittedError):
    """An unfitted classifier was used: scikit-learn's NotFittedError that is also an SZSLError."""


# The hyperparameters of the network, TrainConfig's (``szsl.config.PARAMS``): the classifier's arguments but
# ``device``, ``verbose`` and ``method_params``. A loss's own (DCN's ``dcn_temperature``, ``dcn_entropy``, declared in
# ``szsl.methods.dcn``) go in ``method_params`` (as scikit-learn's ``metric_params``): one dict, checked against the
# method's declaration by ``TrainConfig.from_dict``, saved with the model and given back by ``get_params``.
_CONFIG_NAMES = tuple(p.name for p in TrainConfig.PARAMS)


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
        input_scaling: str = "auto",
        method_params: dict | None = None,
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
        self.input_scaling = input_scaling
        self.method_params = method_params
        self.device = device
        self.verbose = verbose

    def _config(self) -> TrainConfig:
        """The member's full setting: TrainConfig's values and ``method_params`` (the method's own, e.g. DCN's)."""
        extra = self.method_params
        if extra is None:
            extra = {}
        elif not isinstance(extra, dict) or not all(isinstance(k, str) for k in extra):
            raise SZSLError(f"method_params={extra!r}: expected None or a dict of the method's own hyperparameters")
        clash = sorted(set(extra) & set(_CONFIG_NAMES))
        if clash:
            raise SZSLError(f"method_params: {', '.join(clash)} are arguments of their own, not method_params")
        config = TrainConfig.from_dict({**{name: getattr(self, name) for name in _CONFIG_NAMES}, **extra})
        stray = sorted(set(extra) - set(config.to_dict()))  # from_dict passes over retired keys; here they are an error
        if stray:
            raise SZSLError(f"method_params: unknown hyperparameter(s) {', '.join(stray)} of method {self.method!r}")
        return config

    def fit(self, X, y, class_attributes, class_names=None) -> "SZSLClassifier":
        """Train on (X, y). ``class_attributes``: (C, A) attributes of ALL classes; y in [0, C).

        X and y are checked as scikit-learn checks a classifier's (``check_fit_input``); a column y (n, 1) is
        raveled with a DataConversionWarning. Raises SZSLError (SZSLTypeError for sparse X) in scikit-learn's words.
        """
        config = self._config()  # the hyperparameters first, then the data (scikit-learn's order)
        X, y = check_fit_input(self, X, y)
        member = train_population(X, y, class_attributes, [config], device=self.device, progress=self.verbose)[0]
        if member.diverged:
            raise SZSLError(member.message)
        return self._set_fitted(member, class_attributes, np.unique(np.asarray(y)), class_names)

    @classmethod
    def from_member(cls, member: TrainedMember, class_attributes, seen, class_names=None, device: str = "auto") -> "SZSLClassifier":
        """A fitted classifier from a member that ``train_population`` already trained."""
        values = {k: v for k, v in member.config.items() if k in _CONFIG_NAMES}
        own = {k: v for k, v in member.config.items() if k not in _CONFIG_NAMES}  # a loss's own (DCN's)
        return cls(**values, method_params=own or None, device=device)._set_fitted(member, class_attributes, seen, class_names)

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

    def decision_function(self, X) -> np.ndarray:
        """Logits over all C classes, (n, C)."""
        X = check_predict_input(self, X, "state_")
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
        check_fitted(self, "state_")
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
        path = Path(path)
        payload = read_model_file(path)
        if isinstance(payload, dict) and payload.get("format") == ENSEMBLE_FORMAT:
            n = len(payload["members"]) if isinstance(payload.get("members"), list) else 0
            raise SZSLError(f"{path}: an ensemble of {n} models, not one model: load it with szsl.load_model")
        return load_checked(path, lambda: cls._from_payload(payload, device))

    @classmethod
    def _from_payload(cls, payload, device: str | None) -> "SZSLClassifier":
        """A fitted classifier from a saved payload; ValueError / KeyError / SZSLError on anything malformed.

        Every tensor is checked (type, real dtype, number of dimensions, finite values) and every shape
        against the others: A (C, a) with C >= 2, W1 (d, hidden), b1 (hidden,), W2 (hidden, a), b2 (a,).
        """
        if not isinstance(payload, dict) or payload.get("format") != MODEL_FORMAT:
            raise ValueError(f"expected format {MODEL_FORMAT!r}")
        params = json_field(payload, "params")
        if not isinstance(params, dict):
            raise ValueError(f"params is {type(params).__name__}, expected a JSON object of hyperparameters")
        if device is not None:
            params["device"] = device
        # Files saved before method_params list a loss's own values (DCN's) among the arguments: kept where the
        # model's method declares them (a DCN model's), ignored elsewhere (they were TrainConfig's unused defaults).
        retired = {k: params.pop(k) for k in list(params) if k in RETIRED_KEYS}
        clf = cls(**params)
        if retired and clf.method_params is None:
            declared = TrainConfig.from_dict({"method": clf.method}).to_dict()
            clf.method_params = {k: v for k, v in retired.items() if k in declared} or None
        clf._config()  # validates every hyperparameter
        A = checked_tensor(payload["class_attributes"], "class_attributes", 2).numpy().astype(np.float32)
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
            t = checked_tensor(payload["state"][k], f"state {k}", None)
            if tuple(t.shape) != shape:
                raise ValueError(f"state {k} has shape {tuple(t.shape)}, expected {shape}")
            state[k] = t.float()
        seen_t = checked_tensor(payload["seen"], "seen", 1)
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
        names = json_field(payload, "class_names")
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
