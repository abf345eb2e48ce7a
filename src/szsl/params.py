"""One declaration per hyperparameter, in the manner of scikit-learn's ``_parameter_constraints``.

A method declares each of its hyperparameters once, as a ``Param``: its default, its constraint
(``Interval``, ``Options`` or ``BOOLEAN``), its entry in the method's default search space (``search``:
a range ``{"low", "high", "log"}``, ``{"choices": [...]}`` or a fixed value; None: not in the space) and
its help text. Everything else derives from that declaration::

    defaults(PARAMS)                  # {name: default}, the module's DEFAULTS
    space(PARAMS)                     # {name: search}, the module's SPACE (declaration order)
    check("sae", PARAMS, values)      # defaults updated by values, checked: one-line SZSLError
    add_options(parser, PARAMS)       # one argparse option per Param (type, choices, help)

A method's full setting, whatever the method, is a ``Setting``: a read-only mapping of hyperparameter -> value
(``dict(s)``, ``s["lr"]``, ``s.to_dict()``, ``s.replace(lr=0.01)``). ``szsl.config.TrainConfig``, the setting of
the network methods, is one (with attribute access for the training loop).

This module imports neither numpy nor torch (``szsl --help`` builds its options from it).
"""

from __future__ import annotations

import argparse
import math
import numbers
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from szsl.errors import SZSLError

_CLOSED = ("both", "left", "right", "neither")


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool) or (type(value).__module__ == "numpy" and type(value).__name__ in ("bool_", "bool"))


def _text(x: float) -> str:
    """A bound as the messages write it: 1 for 1.0, 2**63 for 9223372036854775808."""
    if isinstance(x, int) and x >= 2**32 and x & (x - 1) == 0:
        return f"2**{x.bit_length() - 1}"
    return f"{x:g}" if isinstance(x, float) else str(x)


@dataclass(frozen=True)
class Interval:
    """Numbers of ``type`` (int or float) between ``low`` and ``high`` (None: unbounded), ``closed`` at
    "both", "left", "right" or "neither" end (as scikit-learn's ``Interval``)."""

    type: type
    low: float | None = None
    high: float | None = None
    closed: str = "both"

    def __post_init__(self) -> None:
        if self.type not in (int, float) or self.closed not in _CLOSED:
            raise ValueError(f"Interval({self.type!r}, closed={self.closed!r}): expected int or float, closed one of {_CLOSED}")

    @property
    def cli_type(self) -> type:
        return self.type

    def describe(self) -> str:
        noun = "an integer" if self.type is int else "a number"
        lo_in, hi_in = self.closed in ("both", "left"), self.closed in ("both", "right")
        if self.high is None:
            return noun if self.low is None else f"{noun} {'>=' if lo_in else '>'} {_text(self.low)}"
        if self.low is None:
            return f"{noun} {'<=' if hi_in else '<'} {_text(self.high)}"
        return f"{noun} in {'[' if lo_in else '('}{_text(self.low)}, {_text(self.high)}{']' if hi_in else ')'}"

    def contains(self, x: float) -> bool:
        lo_in, hi_in = self.closed in ("both", "left"), self.closed in ("both", "right")
        if self.low is not None and not (x >= self.low if lo_in else x > self.low):
            return False
        return self.high is None or (x <= self.high if hi_in else x < self.high)

    def accept(self, value: Any, strict: bool) -> Any:
        """The value (coerced to ``type`` unless ``strict``), or raise ValueError."""
        if _is_bool(value) or not isinstance(value, (int, float) if strict else numbers.Real):
            raise ValueError
        if self.type is int:
            if strict and not isinstance(value, int):
                raise ValueError
            try:
                whole = isinstance(value, numbers.Integral) or float(value).is_integer()
            except OverflowError:
                whole = False
            if not whole:
                raise ValueError
            out = value if strict else int(value)
        else:
            try:
                if not math.isfinite(value):
                    raise ValueError
                out = value if strict else float(value)
            except OverflowError:  # an int beyond float range (e.g. 10**400 from a JSON file)
                raise ValueError from None
        if not self.contains(out):
            raise ValueError
        return out


@dataclass(frozen=True)
class Options:
    """One of ``values``."""

    values: tuple

    cli_type = str

    def describe(self) -> str:
        return "one of " + ", ".join(map(str, self.values))

    def accept(self, value: Any, strict: bool) -> Any:
        if value not in self.values:
            raise ValueError
        return value


@dataclass(frozen=True)
class Boolean:
    """True or false (numpy's bool too, unless strict)."""

    def describe(self) -> str:
        return "true or false"

    @staticmethod
    def cli_type(text: str) -> bool:
        low = text.strip().lower()
        if low not in ("true", "false", "1", "0", "yes", "no"):
            raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")
        return low in ("true", "1", "yes")

    def accept(self, value: Any, strict: bool) -> Any:
        if not (isinstance(value, bool) if strict else _is_bool(value)):
            raise ValueError
        return bool(value)


BOOLEAN = Boolean()
Constraint = Interval | Options | Boolean
POSITIVE = Interval(float, 0.0, None, "neither")  # a number > 0
NON_NEGATIVE = Interval(float, 0.0, None, "left")  # a number >= 0


@dataclass(frozen=True)
class Param:
    """One hyperparameter: name, default, constraint, entry of the default search space (None: not searched), help."""

    name: str
    default: Any
    constraint: Constraint | None = None  # None: any value
    search: Any = None
    help: str = ""

    def check(self, value: Any, *, strict: bool = False, where: str = "") -> Any:
        """``value`` if the constraint admits it (coerced to its type unless ``strict``), else a one-line SZSLError
        ``"<where>: <name>=<value>: expected <constraint>"``."""
        if self.constraint is None:
            return value
        try:
            return self.constraint.accept(value, strict)
        except ValueError:
            prefix = f"{where}: " if where else ""
            raise SZSLError(f"{prefix}{self.name}={value!r}: expected {self.constraint.describe()}") from None


class Setting(Mapping):
    """One method's full setting: a read-only mapping of hyperparameter -> value (what ``Method.params`` returns,
    what the harness fits, what a tuning record lists). Equal to any mapping with the same items (a subclass may
    compare as its own kind: a ``TrainConfig`` equals TrainConfigs of the same values, ``dict(config)`` their dict)."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any] | Iterable = (), **more: Any) -> None:
        object.__setattr__(self, "_values", dict(values, **more))

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"a {type(self).__name__} is read-only: use .replace({name}=...)")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._values!r})"

    def __reduce__(self):  # pickled and copied by its values (a subclass rebuilds itself with its from_dict)
        return (type(self).from_dict, (self.to_dict(),))

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "Setting":
        return cls(values)

    def to_dict(self) -> dict[str, Any]:
        """The values as a plain dict (a new one)."""
        return dict(self)

    def replace(self, **changes: Any) -> "Setting":
        """This setting with ``changes`` applied (no check: ``Method.params`` checks a setting)."""
        return type(self)({**self, **changes})


def defaults(params: Iterable[Param]) -> dict[str, Any]:
    """{name: default}, in declaration order."""
    return {p.name: p.default for p in params}


def space(params: Iterable[Param]) -> dict[str, Any]:
    """The default search space (``szsl tune --space`` JSON format): each searched Param's ``search``, in declaration order."""
    return {p.name: p.search for p in params if p.search is not None}


def searched(params: Iterable[Param], **entries: Any) -> tuple[Param, ...]:
    """``params`` with the ``search`` of each named one set to its entry: a shared group searched by one method."""
    params = tuple(params)
    unknown = sorted(set(entries) - {p.name for p in params})
    if unknown:
        raise ValueError(f"searched: no parameter {', '.join(unknown)}")
    return tuple(replace(p, search=entries[p.name]) if p.name in entries else p for p in params)


def check(name: str, params: Sequence[Param], values: Mapping[str, Any] | None) -> dict[str, Any]:
    """The defaults updated by ``values``, each checked (and coerced) against its constraint; a one-line SZSLError
    naming method ``name`` and the hyperparameter on a non-mapping, an unknown key or a bad value."""
    values = {} if values is None else values
    if not isinstance(values, Mapping):
        raise SZSLError(f"{name}: params must be a mapping of hyperparameter -> value, got {type(values).__name__}")
    out = defaults(params)
    unknown = sorted(set(values) - set(out))
    if unknown:
        raise SZSLError(f"{name}: unknown hyperparameter {unknown[0]!r}; expected one of {', '.join(sorted(out))}")
    out.update(values)
    for p in params:
        out[p.name] = p.check(out[p.name], where=name)
    return out


def add_options(parser: argparse.ArgumentParser, params: Iterable[Param], **overrides: Mapping[str, Any]) -> None:
    """One ``--name`` option per Param (``_`` -> ``-``): its type and choices from the constraint, its default, its help
    (else "default <value>"). ``overrides``: per name, argparse keywords that replace the derived ones."""
    for p in params:
        c = p.constraint
        kwargs: dict[str, Any] = {
            "dest": p.name,
            "type": getattr(c, "cli_type", str),
            "choices": c.values if isinstance(c, Options) else None,
            "default": p.default,
            "help": p.help or f"default {p.default}",
        }
        kwargs.update(overrides.get(p.name, {}))
        parser.add_argument("--" + p.name.replace("_", "-"), **kwargs)


def from_specs(defaults: Mapping[str, Any], specs: Mapping[str, tuple] | None = None,
               space: Mapping[str, Any] | None = None) -> tuple[Param, ...]:
    """Params of an old-style module (``DEFAULTS``, ``SPECS`` value tuples, ``SPACE``): the adapter the registry and
    ``_peer_common.check_params`` use. Spec tuples: ("float", low, high, low_inclusive, high_inclusive),
    ("int", low, high), ("choice", values), ("bool",); a name without a spec takes any value."""
    specs, space = specs or {}, space or {}
    return tuple(Param(k, v, _constraint(specs[k]) if k in specs else None, space.get(k)) for k, v in defaults.items())


def _constraint(spec: tuple) -> Constraint:
    kind = spec[0]
    if kind == "bool":
        return BOOLEAN
    if kind == "choice":
        return Options(tuple(spec[1]))
    if kind == "int":
        return Interval(int, spec[1], spec[2], "both")
    if kind == "float":
        closed = {(True, True): "both", (True, False): "left", (False, True): "right", (False, False): "neither"}
        return Interval(float, spec[1], spec[2], closed[bool(spec[3]), bool(spec[4])])
    raise ValueError(f"bad spec {spec!r}")
