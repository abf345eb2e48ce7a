"""szsl: generalized zero-shot learning with semantic-similarity soft labels.

The public API is re-exported here lazily (PEP 562): ``import szsl`` and ``szsl --help`` stay
cheap and import neither torch nor optuna until a name that needs them is used.
"""

from __future__ import annotations

import importlib
import sys
import types

__version__ = "0.1.0"

# public name -> the module defining it
_EXPORTS = {
    "Benchmark": "szsl.data.benchmark",
    "Fold": "szsl.data.benchmark",
    "SZSLClassifier": "szsl.estimator",
    "SZSLEnsemble": "szsl.ensemble",
    "SZSLError": "szsl.errors",
    "TrainConfig": "szsl.config",
    "TrainedMember": "szsl.train",
    "gzsl_metrics": "szsl.metrics",
    "harmonic_mean": "szsl.metrics",
    "load_benchmark": "szsl.data",
    "load_model": "szsl.model_file",
    "load_xlsa17": "szsl.data.xlsa17",
    "soft_labels": "szsl.soft_labels",
    "train_population": "szsl.train",
    "zsl_top1": "szsl.metrics",
}


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value  # resolved once
        return value
    raise AttributeError(f"module 'szsl' has no attribute {name!r}")


class _Package(types.ModuleType):
    """``szsl.soft_labels`` is both a module and the function it defines: importing the module must
    not replace the exported function on the package (as the eager imports of old did not)."""

    def __setattr__(self, name: str, value) -> None:
        if name in _EXPORTS and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __dir__():
    return sorted([*globals(), *_EXPORTS])


__all__ = [*sorted(_EXPORTS), "__version__"]
