"""Search spaces: per-parameter ranges, choices or fixed values over one method's hyperparameters.

Each method's space is in the JSON format of ``szsl tune --space`` (``methods.<name>.SPACE``, derived from the
``search`` entries of its hyperparameters' declarations, ``szsl.params``; the paper's for szsl, ``PAPER_SPACE``);
``make_space`` applies a space file's overrides to it and validates every fixed value, choice and end of every range
against the parameter's declared constraint (one line naming it), then as a setting of the method.

With ``dataset`` (a ``Benchmark.name``), a method's published values for that dataset (its module's
``PER_DATASET``, e.g. cn's seen_scale 1.0 on CUB) become fixed values of the space for every parameter
it does not search; a parameter the space searches stays searched, and the overrides (a space file,
``--epochs``, compare's ``--param``) beat the published values.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from szsl.budget import scaled_batch, scaled_epochs
from szsl.errors import SZSLError
from szsl.methods import get_method
from szsl.methods.szsl import PAPER_SPACE

# Named base spaces: the method's default, or (szsl) the paper's full space; other methods' spaces
# already are their papers'.
BASES = ("default", "paper")

GRID_POINTS = 3  # points per continuous range under the grid sampler (override with "grid": n)
MAX_GRID_POINTS = 1000  # per range: the grid sampler lists every point of the product in memory
MAX_GRID_SIZE = 1_000_000


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # "float", "int", "categorical", "fixed"
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple = ()
    value: Any = None
    grid: int = GRID_POINTS

    def to_json(self) -> Any:
        if self.kind == "fixed":
            return self.value
        if self.kind == "categorical":
            return {"choices": list(self.choices)}
        out: dict[str, Any] = {"low": self.low, "high": self.high}
        if self.log:
            out["log"] = True
        if self.grid != GRID_POINTS:
            out["grid"] = self.grid
        return out

    def grid_values(self) -> list:
        if self.kind == "categorical":
            return list(self.choices)
        if self.kind == "fixed":
            return [self.value]
        if self.log:
            vals = np.exp(np.linspace(math.log(self.low), math.log(self.high), self.grid))
        else:
            vals = np.linspace(self.low, self.high, self.grid)
        if self.kind == "int":
            return sorted({int(round(v)) for v in vals})
        return [float(v) for v in vals]


@dataclass(frozen=True)
class SearchSpace:
    """Per-parameter ranges, choices or fixed values over one method's hyperparameters."""

    params: tuple[Param, ...]
    search_mass: bool = False
    method: str = "szsl"  # the registry's method (szsl.methods) whose hyperparameters these are

    @property
    def searched(self) -> list[Param]:
        return [p for p in self.params if p.kind != "fixed"]

    @property
    def fixed(self) -> dict[str, Any]:
        return {p.name: p.value for p in self.params if p.kind == "fixed"}

    def to_json(self) -> dict[str, Any]:
        return {p.name: p.to_json() for p in self.params}

    def fingerprint(self) -> str:
        blob = json.dumps({"space": self.to_json(), "search_mass": self.search_mass}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:8]

    def suggest(self, trial) -> dict[str, Any]:
        values = {}
        for p in self.searched:
            if p.kind == "categorical":
                values[p.name] = trial.suggest_categorical(p.name, list(p.choices))
            elif p.kind == "int":
                values[p.name] = trial.suggest_int(p.name, int(p.low), int(p.high), log=p.log)
            else:
                values[p.name] = trial.suggest_float(p.name, float(p.low), float(p.high), log=p.log)
        return values

    def config(self, values: Mapping[str, Any], seed: int):
        """The method's full setting (``szsl.params.Setting``) of ``values`` over the fixed ones, with ``seed`` where the
        method's setting holds one (``Method.seeded``)."""
        return get_method(self.method).seeded({**self.fixed, **values}, seed)[0]

    def grid(self) -> dict[str, list]:
        return {p.name: p.grid_values() for p in self.searched}

    def with_budget(self, n_images: int, epoch_steps: int, min_steps: int) -> "SearchSpace":
        """The small-data budget rules (``szsl.budget``) for ``n_images`` training images: the batch size first
        (``with_epoch_steps``), then the epochs at that batch size (``with_min_steps``)."""
        return self.with_epoch_steps(n_images, epoch_steps).with_min_steps(n_images, min_steps)

    def with_min_steps(self, n_images: int, min_steps: int) -> "SearchSpace":
        """The space whose fixed epoch budget gives every trial at least ``min_steps`` optimizer steps on
        ``n_images`` training images (``budget.scaled_epochs``; the largest batch size the space allows
        counts). Unchanged when the space has no fixed ``epochs`` or ``batch_size`` (a method that is no
        TrainConfig network, or one that searches its epochs) or already gives that many steps."""
        epochs, batch = self._param("epochs"), self._param("batch_size")
        if not min_steps or epochs is None or batch is None or epochs.kind != "fixed":
            return self
        sizes = [batch.value] if batch.kind == "fixed" else list(batch.choices) if batch.kind == "categorical" else [batch.high]
        return self._with_fixed("epochs", scaled_epochs(int(epochs.value), n_images, int(max(sizes)), min_steps))

    def with_epoch_steps(self, n_images: int, epoch_steps: int) -> "SearchSpace":
        """The space whose fixed batch size is halved (``budget.scaled_batch``) until an epoch of ``n_images`` images
        has ``epoch_steps`` optimizer steps; unchanged when the batch size is searched or already small enough."""
        batch = self._param("batch_size")
        if not epoch_steps or batch is None or batch.kind != "fixed":
            return self
        return self._with_fixed("batch_size", scaled_batch(int(batch.value), n_images, epoch_steps))

    def _param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    def _with_fixed(self, name: str, value: Any) -> "SearchSpace":
        """This space with the fixed parameter ``name`` set to ``value`` (itself when it already is: the same fingerprint)."""
        if self._param(name).value == value:
            return self
        params = tuple(Param(name, "fixed", value=value) if p.name == name else p for p in self.params)
        return SearchSpace(params, search_mass=self.search_mass, method=self.method)

    def grid_size(self) -> int:
        return int(np.prod([len(v) for v in self.grid().values()])) if self.searched else 1


def make_space(
    overrides: Mapping[str, Any] | None = None,
    *,
    epochs: int | None = None,
    search_mass: bool = False,
    where: str = "space",
    method: str = "szsl",
    base: str = "default",
    dataset: str | None = None,
) -> SearchSpace:
    """The method's space (``szsl.methods``; the paper's for szsl) with ``overrides`` (a space file's content) and ``epochs`` applied.

    Each override is a fixed value (``"l1": 0``), ``{"choices": [...]}`` or
    ``{"low": a, "high": b, "log": bool, "grid": n}``. ``search_mass``: fix alpha = 1 so that the
    searched q *is* the soft-label mass m = alpha * q (the only way alpha and q enter the loss).
    ``dataset``: the method's published values for it fix the parameters the space does not search (module docstring).
    """
    m = get_method(method)
    if base not in BASES:
        raise SZSLError(f"{where}: base space {base!r}: expected one of {', '.join(BASES)}")
    known = set(m.defaults)
    spec: dict[str, Any] = dict(PAPER_SPACE if base == "paper" and m.name == "szsl" else m.space)
    for name, value in (overrides or {}).items():
        if name not in known:
            raise SZSLError(f"{where}: unknown parameter {name!r}: expected some of {', '.join(sorted(known))}")
        spec[name] = value
    for flag, name, value in (("--epochs", "epochs", epochs), ("--search-mass", "alpha", 1.0 if search_mass else None)):
        if value is not None:
            if name not in known:
                raise SZSLError(f"{flag}: method {m.name} has no {name} (only network methods do)")
            spec[name] = value
    given = set(overrides or {}) | ({"epochs"} if epochs is not None else set()) | ({"alpha"} if search_mass else set())
    for name, value in m.published(dataset).items():
        searched = name in spec and _parse_param(name, spec[name], where, False).kind != "fixed"
        if name not in given and not searched:
            spec[name] = value  # the published value replaces the default (or the method space's fixed value)
    ints = {k for k, v in m.defaults.items() if isinstance(v, int) and not isinstance(v, bool)}
    params = tuple(_parse_param(name, value, where, name in ints) for name, value in spec.items())
    declared = {d.name for d in m.hyperparameters}
    for p in params:  # every value the space can give, against the parameter's declared constraint
        if p.name in declared:
            for v in (p.value,) if p.kind == "fixed" else p.choices if p.kind == "categorical" else (p.low, p.high):
                m.check_value(p.name, v, where)
    space = SearchSpace(params, search_mass=search_mass, method=m.name)
    # Every fixed value and every end of every range must make a valid setting of the method.
    probe = {p.name: (p.value if p.kind == "fixed" else p.choices[0] if p.kind == "categorical" else p.low) for p in params}
    for p in space.searched:
        for v in (p.choices if p.kind == "categorical" else (p.low, p.high)):
            try:
                m.params({**probe, p.name: v})
            except SZSLError as exc:
                raise SZSLError(f"{where}: {p.name}: {exc}") from None
    try:
        m.params(probe)
    except SZSLError as exc:
        raise SZSLError(f"{where}: {exc}") from None
    return space



def load_space(
    path: str | os.PathLike | None, *, epochs: int | None = None, search_mass: bool = False, method: str = "szsl",
    dataset: str | None = None,
) -> SearchSpace:
    """A named space ("default", "paper") or a JSON space file (``{"tau": {"low": 0.1, "high": 1, "log": true}, "l1": 0, ...}``).

    A file's parameters override the default space; ``"base": "paper"`` in it starts from the paper's space.
    ``dataset``: as ``make_space``'s (the method's published values for it).
    """
    if path is None or str(path) in BASES:
        return make_space(epochs=epochs, search_mass=search_mass, method=method, base=str(path or "default"), dataset=dataset)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SZSLError(f"--space {path}: cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise SZSLError(f"--space {path}: not a UTF-8 text file ({exc.reason} at byte {exc.start})") from None
    try:
        content = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SZSLError(f"--space {path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    if not isinstance(content, dict):
        raise SZSLError(f"--space {path}: expected a JSON object of parameter -> range/choices/value")
    base = content.pop("base", "default")
    return make_space(
        content, epochs=epochs, search_mass=search_mass, where=f"--space {path}", method=method,
        base=base if isinstance(base, str) else repr(base), dataset=dataset,
    )


def _finite(v: int | float) -> bool:
    """A finite number that fits a float64 (and an int64, for integers): JSON allows 10**400."""
    if isinstance(v, int):
        return abs(v) < 2**63
    return math.isfinite(v)


def _short(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 40 else text[:37] + "..."


def _parse_param(name: str, value: Any, where: str, is_int: bool) -> Param:
    if not isinstance(value, dict):
        if isinstance(value, (list, tuple)):
            raise SZSLError(f"{where}: {name}: a list is ambiguous; write {{\"choices\": [...]}} or a single value")
        return Param(name, "fixed", value=value)
    keys = set(value)
    if "choices" in keys:
        extra = keys - {"choices"}
        choices = value["choices"]
        if extra or not isinstance(choices, list) or not choices:
            raise SZSLError(f"{where}: {name}: expected {{\"choices\": [non-empty list]}}")
        if len(choices) == 1:
            return Param(name, "fixed", value=choices[0])
        return Param(name, "categorical", choices=tuple(choices))
    extra = keys - {"low", "high", "log", "grid"}
    if extra or not {"low", "high"} <= keys:
        raise SZSLError(
            f"{where}: {name}: expected {{\"low\": a, \"high\": b, \"log\": false}} or {{\"choices\": [...]}}, got keys {sorted(keys)}"
        )
    low, high, log = value["low"], value["high"], bool(value.get("log", False))
    grid = value.get("grid", GRID_POINTS)
    for v in (low, high):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not _finite(v):
            raise SZSLError(f"{where}: {name}: low/high must be finite numbers (below 2**63 for integers), got {_short(v)}")
    if is_int and not (float(low).is_integer() and float(high).is_integer()):
        raise SZSLError(f"{where}: {name}: low/high must be integers")
    if not low <= high:
        raise SZSLError(f"{where}: {name}: low={low} > high={high}")
    if log and low <= 0:
        raise SZSLError(f"{where}: {name}: a log range needs low > 0, got {low}")
    if isinstance(grid, bool) or not isinstance(grid, int) or not 1 <= grid <= MAX_GRID_POINTS:
        raise SZSLError(f"{where}: {name}: grid must be an integer in [1, {MAX_GRID_POINTS}]")
    if low == high:
        return Param(name, "fixed", value=int(low) if is_int else float(low))
    if is_int:
        return Param(name, "int", low=int(low), high=int(high), log=log, grid=grid)
    return Param(name, "float", low=float(low), high=float(high), log=log, grid=grid)


def _grid_key(params: Mapping[str, Any]) -> tuple:
    return tuple(sorted((k, round(v, 12) if isinstance(v, float) else v) for k, v in params.items()))


def next_grid_point(space: SearchSpace, seed: int, trials) -> dict[str, Any] | None:
    """The first grid point (in a seeded order) that no COMPLETE or RUNNING trial holds.

    Optuna's GridSampler ignores RUNNING trials (so a batch could repeat a point) and calls
    ``study.stop()`` outside ``optimize``; enqueueing the points ourselves avoids both. A WAITING trial (an enqueued
    point, a lost trial queued again) is asked before any new point is enqueued (``trial_batch.ask_batch`` calls this
    only when none waits), so its parameters need not be read here (Optuna keeps them in a private system attribute).
    """
    from optuna.trial import TrialState  # not at import: szsl --help imports this module

    grid = space.grid()
    names = sorted(grid)
    points = [dict(zip(names, combo)) for combo in itertools.product(*(grid[n] for n in names))]
    order = np.random.default_rng(seed).permutation(len(points))
    taken = {_grid_key(t.params) for t in trials if t.state in (TrialState.COMPLETE, TrialState.RUNNING)}
    for i in order:
        if _grid_key(points[i]) not in taken:
            return points[i]
    return None
