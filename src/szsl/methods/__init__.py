"""The method registry: every method is one module under ``szsl.methods``, registered once.

The contract of a method module (what ``register`` reads)::

    # src/szsl/methods/<name>.py
    NAME = "sae"
    PARAMS = (              # each hyperparameter declared once (szsl.params, docs/architecture.md):
        Param("lambda", 0.2, POSITIVE, {"low": 1e-2, "high": 1e6, "log": True}, "help text"),
    )                       #   name, default (the authors'), constraint, search entry, help
    DEFAULTS = defaults(PARAMS)  # optional, derived (for other code to read): hyperparameter -> default
    SPACE = space(PARAMS)        # optional, derived: the search space, the JSON format of ``szsl tune --space``:
                                 #   {"p": {"low": a, "high": b, "log": true}} | {"choices": [...]} | a fixed value
    def fit(X, y, attributes, params: dict, *, seed: int = 0, device: str = "auto"):
        '''X (N, D) float32 train features, y (N,) int labels in 0..C-1 (model space), attributes
        (C, A); classes without any training image are the unseen ones. Returns a fitted object
        with .scores(X) -> np.ndarray (N, C) (higher = more likely) over the same C classes.'''

A module of the older form declares ``DEFAULTS`` and ``SPACE`` by hand (and optionally ``SPECS``, the value tuples of
``params.from_specs``); the registry adapts it to the same declarations.

Optional module attributes: ``DESCRIPTION`` (one line for ``--help``), ``PER_DATASET`` (the
published per-dataset values, ``{"CUB": {"seen_scale": 1.0}}``: keys are ``Benchmark.name``s in upper
case, AWA1 AWA2 CUB SUN APY; values override ``DEFAULTS`` wherever the method runs on that dataset:
``szsl train``, the fixed values of a tuning space, ``szsl compare``; see ``Method.params``), ``DETERMINISTIC = True``
(the same data give the same model whatever the seed: compare fits it once instead of once per
seed), ``fit_population(X, y, attributes, params_list, *, seeds, device, progress)`` (fit many
settings at once, e.g. sharing a decomposition; default: ``fit`` once per setting) and
``scorer(fits)`` (a callable X -> [scores of each fit], e.g. batched; default: each ``.scores``).
A fitted object may carry ``diverged`` / ``message`` / ``train_seconds``.

Register a new method with ONE line at the bottom of this file (or anywhere, before use)::

    register("szsl.methods.sae")          # or register(module) for a module object

It is then a choice of ``szsl train --method``, ``szsl tune --method`` and ``szsl compare
--methods``, and runs through the one harness (``szsl.evaluation.evaluate``) and the one study
loop (``szsl.tune.tune``). Modules are imported when a method is first used, so the CLI's
``--help`` lists the names without importing torch.

Every method's full setting is a ``szsl.params.Setting`` (``Method.params``): a read-only mapping of
hyperparameter -> value, what the harness fits, ``Run.config`` keeps and a tuning record lists. A module's
``fit`` / ``fit_population`` is given each setting as a plain dict.

Network methods (``szsl`` and its ablations ``hard``, ``uniform``, ``nearest``, ``soft-only``;
``dcn``) have ``TrainConfig`` settings (a Setting) trained as one population by ``szsl.train``: their
modules declare ``NETWORK = True``, the ``TrainConfig`` values they fix (``FIXED``) and, for a loss with
hyperparameters of its own, their ``PARAMS`` and the TrainConfig subclass that adds them (``CONFIG``, made by
``szsl.config.network_setting``; ``methods.dcn``);
``methods.ablations`` holds several such variants in ``METHODS``. ``eszsl`` is a closed form.
What this changes for the rest of the code is asked of the ``Method``, never by testing the kind
of method: ``multi_fidelity``, ``shared_train_time``, ``saveable``, ``budget_values``, ``small_data``,
``check_value``, ``seeded``.
Calibrated stacking (``methods.calibration``) applies to any method's scores, post hoc.

API::

    from szsl.methods import get_method, method_names, register
    get_method("hard").config(hidden=256)           # TrainConfig(q=0, ...); fixed values win
    get_method("eszsl").space                       # {"gamma": {...}, "lambda": {...}, "targets": {...}}
"""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Callable, Mapping

from szsl import params as _params
from szsl.budget import budget_config
from szsl.config import TrainConfig
from szsl.errors import SZSLError
from szsl.params import Setting


@dataclass(frozen=True)
class Method:
    """One registered method: what the harness and the study loop need to know of it."""

    name: str
    description: str
    defaults: Mapping[str, Any]  # every hyperparameter with its default (network: its TrainConfig class's, fixed applied)
    space: Mapping[str, Any]  # its whole search space (tune JSON format)
    fit_population: Callable  # (X, y, attributes, params_list, *, seeds, device, progress) -> list of fitted
    scorer: Callable | None = None  # fits -> (X -> list of (n, C) scores); None: each fit's .scores
    deterministic: bool = False
    network: bool = False  # module NETWORK: settings are TrainConfigs trained by szsl.train (read it through the capabilities below)
    fixed: Mapping[str, Any] = field(default_factory=dict)  # network: TrainConfig values the method fixes
    # the published per-dataset values (module PER_DATASET): upper-case dataset name -> {hyperparameter: value}
    per_dataset: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # each hyperparameter's declaration (szsl.params.Param: default, constraint, search entry, help); network: its TrainConfig class's
    hyperparameters: tuple = ()

    # Capabilities: what the harness, the study loop and the commands may ask of a method, each answered here (the
    # network methods, trained by szsl.train, have them all; the others none), never by testing the kind of method.

    @property
    def multi_fidelity(self) -> bool:
        """Its settings train epoch by epoch as one population (``szsl.train.Population``): ``evaluate_rungs`` and the
        pruner (``szsl.pruning``) may score them part way and stop some."""
        return self.network

    @property
    def shared_train_time(self) -> bool:
        """The fits of one ``fit_population`` call train together: each reports the whole population's time."""
        return self.network

    @property
    def saveable(self) -> bool:
        """A fitted setting is an ``SZSLClassifier`` (``szsl train --save``, ``SZSLEnsemble``)."""
        return self.network

    def budget_values(self, *, epochs: int | None = None, hidden: int | None = None) -> dict[str, Any]:
        """A training budget (``epochs``, hidden width; None: not set) as values of this method's setting: the network
        methods' ``epochs`` and ``hidden`` (what ``szsl compare --epochs/--hidden`` and cosmo's zero-shot budget set);
        {} for the others (a method's own epochs, if it has some, are set by name, e.g. ``--param f-clswgan.epochs=5``)."""
        if not self.network:
            return {}
        return {k: v for k, v in (("epochs", epochs), ("hidden", hidden)) if v is not None}

    def small_data(self, setting, n_images: int, epoch_steps: int, min_steps: int = 0):
        """``setting`` under the small-data budget rules (``szsl.budget.budget_config``: the batch size, then the epochs)
        on ``n_images`` training images: a network setting's; the others' are returned as they are."""
        if not self.network:
            return setting
        return budget_config(setting, n_images, epoch_steps, min_steps)

    def check_value(self, name: str, value: Any, where: str = "") -> Any:
        """``value`` against hyperparameter ``name``'s declaration (a one-line SZSLError): strictly for a network method
        (its ``TrainConfig`` keeps values as given), coerced to the declared type for the others (their fits coerce)."""
        declared = next(p for p in self.hyperparameters if p.name == name)
        return declared.check(value, strict=self.network, where=where)

    def seeded(self, values: Mapping[str, Any], seed: int) -> tuple[Setting, int]:
        """(the full setting of ``values``, its seed): the seed is ``values["seed"]`` when given, else ``seed``. A method
        that declares a ``seed`` hyperparameter (the network methods: ``TrainConfig.seed``) keeps it in its setting; the
        others are given it apart (``fit_population``'s ``seeds``)."""
        values = dict(values)
        if "seed" in self.defaults:
            s = int(values.setdefault("seed", seed))
        else:
            s = int(values.pop("seed", seed))
        return self.params(values), s

    def config(self, values: Mapping[str, Any] | None = None, **more: Any):
        """The TrainConfig of this method: ``values`` / keywords, then the method's fixed values on top."""
        if not self.network:
            raise SZSLError(f"method {self.name!r} is not trained by train_population (no TrainConfig)")
        return TrainConfig.from_dict({**dict(values or {}), **more, **self.fixed})

    def published(self, dataset: str | None) -> dict[str, Any]:
        """The method's published values for ``dataset`` (a ``Benchmark.name``, any case; None: none), e.g. cn on CUB."""
        if dataset is None:
            return {}
        return dict(self.per_dataset.get(str(dataset).strip().upper(), {}))

    def params(self, values: Mapping[str, Any] | None = None, *, dataset: str | None = None) -> Setting:
        """The full, validated setting of ``values`` (a ``szsl.params.Setting``; a network method's is a TrainConfig).

        The one merge of a method's setting: its ``defaults`` < its published values for ``dataset``
        (``PER_DATASET``; none when ``dataset`` is None) < ``values`` (what the caller gave explicitly) <
        its ``fixed`` values. Pass only the values the user set: a default in ``values`` hides the published one.
        """
        if self.network:
            return self.config(values)
        values = dict(values or {})
        unknown = sorted(set(values) - set(self.defaults))
        if unknown:
            raise SZSLError(
                f"{self.name}: unknown hyperparameter(s) {', '.join(unknown)}: expected some of {', '.join(sorted(self.defaults))}"
            )
        merged = {**self.defaults, **self.published(dataset), **values, **self.fixed}
        for p in self.hyperparameters:  # checked against the declarations, returned as given (the fit coerces)
            p.check(merged[p.name], where=self.name)
        return Setting(merged)


def _fit_each(fit: Callable) -> Callable:
    """fit_population from a module's single ``fit``: one fit per setting, each timed."""

    def fit_population(X, y, attributes, params_list, *, seeds, device="auto", progress=False):
        out = []
        for params, seed in zip(params_list, seeds):
            start = time.perf_counter()
            fitted = fit(X, y, attributes, dict(params), seed=seed, device=device)
            if getattr(fitted, "train_seconds", None) is None:
                try:
                    fitted.train_seconds = time.perf_counter() - start
                except AttributeError:  # a fitted object that refuses attributes: timed by the harness instead
                    pass
            out.append(fitted)
        return out

    return fit_population


def _plain_dicts(fit_population: Callable) -> Callable:
    """A module's ``fit_population`` given each setting as a plain dict (its own to read, or change)."""

    def fit(X, y, attributes, params_list, **kwargs):
        return fit_population(X, y, attributes, [dict(p) for p in params_list], **kwargs)

    fit.__wrapped__ = fit_population
    return fit


def from_module(module: ModuleType, name: str | None = None) -> Method:
    """The Method a module declares (the contract above), or variant ``name`` of its ``METHODS``."""
    variants = getattr(module, "METHODS", None)
    if variants is not None:
        if name not in variants:
            raise SZSLError(f"module {module.__name__} has no method {name!r}: expected one of {', '.join(variants)}")
        return variants[name]
    declared = getattr(module, "PARAMS", None)
    missing = [a for a in ("NAME", "DEFAULTS", "SPACE") if not hasattr(module, a) and (a == "NAME" or declared is None)]
    if missing or not (hasattr(module, "fit") or hasattr(module, "fit_population")):
        raise SZSLError(f"module {module.__name__} is not a method: it lacks {', '.join(missing or ['fit'])}")
    if name is not None and name != module.NAME.lower():
        raise SZSLError(f"module {module.__name__} declares NAME={module.NAME!r}, registered as {name!r}")
    network = bool(getattr(module, "NETWORK", False))
    if network:  # TrainConfig's, and those of the module's TrainConfig subclass (CONFIG, e.g. DCN's)
        declared = getattr(module, "CONFIG", TrainConfig).PARAMS
    elif declared is None:  # the older form: the declarations adapted from DEFAULTS, SPECS and SPACE
        declared = _params.from_specs(module.DEFAULTS, getattr(module, "SPECS", None), module.SPACE)
    declared = tuple(declared)
    per_dataset = _per_dataset(module, _params.defaults(declared))
    return Method(
        name=module.NAME.lower(),
        description=getattr(module, "DESCRIPTION", (module.__doc__ or module.NAME).strip().splitlines()[0]),
        defaults=dict(module.DEFAULTS) if network else _params.defaults(declared),
        space=dict(module.SPACE) if network else _params.space(declared),
        fit_population=_fit_population(module, network),
        scorer=getattr(module, "scorer", None),
        deterministic=bool(getattr(module, "DETERMINISTIC", False)),
        network=network,
        fixed=dict(getattr(module, "FIXED", {})),
        per_dataset=per_dataset,
        hyperparameters=declared,
    )


def _fit_population(module: ModuleType, network: bool) -> Callable:
    own = getattr(module, "fit_population", None)
    if own is None:
        return _fit_each(module.fit)
    return own if network else _plain_dicts(own)  # a network module's takes its TrainConfigs


def _per_dataset(module: ModuleType, defaults: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """A module's ``PER_DATASET``, checked: upper-case dataset names -> values of hyperparameters of ``defaults``."""
    table = getattr(module, "PER_DATASET", None) or {}
    if table and getattr(module, "NETWORK", False):
        # Every TrainConfig field has a CLI default, so "given explicitly" cannot be told from "left at its default".
        raise SZSLError(f"module {module.__name__}: PER_DATASET is for methods with DEFAULTS, not network methods")
    out = {}
    for ds, values in table.items():
        if not isinstance(ds, str) or ds != ds.upper() or not isinstance(values, Mapping):
            raise SZSLError(f"module {module.__name__}: PER_DATASET[{ds!r}]: expected an upper-case dataset name -> dict")
        unknown = sorted(set(values) - set(defaults))
        if unknown:
            raise SZSLError(f"module {module.__name__}: PER_DATASET[{ds!r}]: unknown hyperparameter(s) {', '.join(unknown)}")
        out[ds] = dict(values)
    return out


# name -> module path (imported on first use) or module object
_REGISTRY: dict[str, str | ModuleType] = {}
_LOADED: dict[str, Method] = {}


def register(module: str | ModuleType, name: str | None = None) -> str:
    """Register a method module (a dotted path, imported on first use, or a module object); returns its name.

    A path's method name is its last component with ``_`` -> ``-`` unless ``name`` is given.
    """
    if isinstance(module, str):
        key = (name or module.rsplit(".", 1)[-1].replace("_", "-")).lower()
    else:
        key = (name or module.NAME).lower()
    _REGISTRY[key] = module
    _LOADED.pop(key, None)
    return key


def unregister(name: str) -> None:
    _REGISTRY.pop(name, None)
    _LOADED.pop(name, None)


def method_names() -> tuple[str, ...]:
    """Every registered method, in registration order (no module is imported)."""
    return tuple(_REGISTRY)


def get_method(name: str | Method) -> Method:
    if isinstance(name, Method):
        return name
    key = str(name).strip().lower()
    if key not in _REGISTRY:
        raise SZSLError(f"unknown method {name!r}: expected one of {', '.join(method_names())}")
    if key not in _LOADED:
        module = _REGISTRY[key]
        module = importlib.import_module(module) if isinstance(module, str) else module
        _LOADED[key] = from_module(module, key)
    return _LOADED[key]


# szsl's ablations (``methods.ablations``): variants of the method, not peers; ``szsl compare
# --methods all`` (the paper's Table 2 layout) leaves them out.
ABLATIONS = ("hard", "uniform", "nearest", "soft-only")

# The built-in methods; one line per method.
register("szsl.methods.szsl")
for _variant in ABLATIONS:
    register("szsl.methods.ablations", _variant)
register("szsl.methods.dcn")
register("szsl.methods.eszsl")
# The peers (docs/peers.md): compatibility / embedding methods of the paper's Table 2, SAE, and later ones.
register("szsl.methods.sae")
register("szsl.methods.devise")
register("szsl.methods.ale")
register("szsl.methods.sje")
register("szsl.methods.conse")
register("szsl.methods.cn")
register("szsl.methods.cn_soft")
register("szsl.methods.f_clswgan")
register("szsl.methods.tf_vaegan")
register("szsl.methods.sync")
register("szsl.methods.cmt")
register("szsl.methods.zskl")
register("szsl.methods.crnet")
register("szsl.methods.cycle_wgan")
register("szsl.methods.se_gzsl")
register("szsl.methods.cosmo")
register("szsl.methods.sp_aen")
# szsl's own models beyond the paper's method
register("szsl.methods.duet")

__all__ = ["ABLATIONS", "Method", "from_module", "get_method", "method_names", "register", "unregister"]
