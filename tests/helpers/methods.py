"""A closed-form method of the documented module contract (NAME, DEFAULTS, SPACE, fit), for registry tests."""

import types

import numpy as np


class RidgeFit:
    def __init__(self, W, attributes):
        self.W, self.attributes = W, np.asarray(attributes, dtype=np.float64)

    def scores(self, X):
        return (np.asarray(X, dtype=np.float64) @ self.W @ self.attributes.T).astype(np.float32)


def ridge_fit(X, y, attributes, params, *, seed=0, device="auto"):
    """Ridge regression from features to the attributes of each image's class."""
    X = np.asarray(X, dtype=np.float64)
    T = np.asarray(attributes, dtype=np.float64)[y]
    W = np.linalg.solve(X.T @ X + params["ridge"] * np.eye(X.shape[1]), X.T @ T)
    return RidgeFit(W, attributes)


def ridge_module(name: str, defaults: dict, **attrs) -> types.ModuleType:
    """A method module named ``name`` that fits ``ridge_fit``, searches ridge in [0.1, 100] (log), with ``defaults``
    and any further module attributes (e.g. PER_DATASET)."""
    module = types.ModuleType(name.replace("-", "_"))
    module.NAME = name
    module.DEFAULTS = dict(defaults)
    module.SPACE = {"ridge": {"low": 0.1, "high": 100.0, "log": True}}
    module.fit = ridge_fit
    for key, value in attrs.items():
        setattr(module, key, value)
    return module
