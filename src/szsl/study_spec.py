"""StudySpec: what a study is, frozen and checked once, passed whole from the command to every worker.

Every option that defines a study (its trials, storage, space, name, sampler, seed, trial batch, timeout, fold
classes, pruner and objective) lives here; ``szsl tune``, ``szsl reproduce``, ``szsl compare`` and the library's
``tune.tune`` build one with ``StudySpec.build`` and hand it on. How the study is run (the device, progress,
how many local workers) is not part of it: the same spec continues the same study from any machine.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

from szsl.data.benchmark import Benchmark
from szsl.errors import SZSLError
from szsl.objective import DEFAULT_OBJECTIVE, OBJECTIVES
from szsl.protocol import FOLD_CLASSES
from szsl.pruning import DEFAULT_PRUNE, PRUNERS, prunable
from szsl.search_space import MAX_GRID_SIZE, SearchSpace, make_space
from szsl.trial_batch import SAMPLERS

DEFAULT_BATCH = 8  # trials trained together as one population per fold


@dataclass(frozen=True)
class StudySpec:
    """What a study is. ``StudySpec.build`` makes one for a benchmark (the method's space, the default name); the
    constructor checks every field as ``build`` does."""

    n_trials: int  # finished (COMPLETE or PRUNED) trials the study should hold
    storage: str  # SQLAlchemy URL of the study database
    space: SearchSpace  # the method's search space (``space.method`` is the method)
    study_name: str
    sampler: str = "tpe"  # trial_batch.SAMPLERS
    seed: int = 0  # the 80/20 image split of the folds, the members' initial weights, the sampler
    batch: int = DEFAULT_BATCH
    timeout: float | None = None  # seconds after which no new trial is asked
    fold_classes: str = "ratio"  # protocol.FOLD_CLASSES
    prune: str = DEFAULT_PRUNE  # pruning.PRUNERS
    objective: str = DEFAULT_OBJECTIVE  # objective.OBJECTIVES: what ranks the trials

    @classmethod
    def build(
        cls,
        benchmark: Benchmark,
        *,
        n_trials: int,
        storage: str,
        space: SearchSpace | None = None,
        method: str | None = None,
        study_name: str | None = None,
        sampler: str = "tpe",
        seed: int = 0,
        batch: int = DEFAULT_BATCH,
        timeout: float | None = None,
        fold_classes: str = "ratio",
        prune: str = DEFAULT_PRUNE,
        objective: str = DEFAULT_OBJECTIVE,
    ) -> StudySpec:
        """The checked spec of a study of ``benchmark``: ``space`` defaults to ``method``'s (szsl's), with the method's
        published values for the dataset; ``study_name`` to ``default_study_name``. One-line SZSLError on a bad value."""
        _check_options(n_trials, sampler, batch, timeout, fold_classes, prune, objective)  # before a space is made
        if space is None:
            space = make_space(method=method or "szsl", dataset=benchmark.name)
        elif method is not None and space.method != method.strip().lower():
            raise SZSLError(f"method {method!r}: the search space is {space.method!r}'s")
        name = study_name or default_study_name(benchmark, space, seed, sampler, fold_classes, prune, objective)
        return cls(n_trials, storage, space, name, sampler, seed, batch, timeout, fold_classes, prune, objective)

    def __post_init__(self) -> None:
        """The checks of every spec, however made (``build`` or the constructor): one-line SZSLError on a bad value."""
        _check_options(self.n_trials, self.sampler, self.batch, self.timeout, self.fold_classes, self.prune, self.objective)
        if not isinstance(self.space, SearchSpace):
            raise SZSLError(f"space={self.space!r}: expected a SearchSpace (search_space.make_space / load_space)")
        if not isinstance(self.storage, str) or not self.storage:
            raise SZSLError(f"storage={self.storage!r}: expected a database URL (e.g. sqlite:///study.db)")
        if not isinstance(self.study_name, str) or not self.study_name.strip():
            raise SZSLError(f"study_name={self.study_name!r}: expected a non-empty name")
        if isinstance(self.seed, bool) or not isinstance(self.seed, numbers.Integral) or self.seed < 0:
            raise SZSLError(f"seed={self.seed!r}: expected an integer >= 0")
        if self.sampler == "grid" and self.space.grid_size() > MAX_GRID_SIZE:
            raise SZSLError(
                f"the grid has {self.space.grid_size():,} points, more than {MAX_GRID_SIZE:,} (every point is listed in memory); "
                "use fewer grid points or --sampler tpe/random"
            )
        if self.sampler == "grid" and self.space.grid_size() < self.n_trials:
            raise SZSLError(
                f"the grid has only {self.space.grid_size()} points, fewer than trials={self.n_trials}; lower --trials or add "
                "grid points"
            )


def _check_options(n_trials, sampler: str, batch, timeout, fold_classes: str, prune: str, objective: str) -> None:
    if fold_classes not in FOLD_CLASSES:
        raise SZSLError(f"fold_classes={fold_classes!r}: expected one of {', '.join(FOLD_CLASSES)}")
    if prune not in PRUNERS:
        raise SZSLError(f"prune={prune!r}: expected one of {', '.join(PRUNERS)}")
    if objective not in OBJECTIVES:
        raise SZSLError(f"objective={objective!r}: expected one of {', '.join(OBJECTIVES)}")
    if isinstance(n_trials, bool) or not isinstance(n_trials, int) or n_trials < 1:
        raise SZSLError(f"trials={n_trials!r}: expected an integer >= 1")
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise SZSLError(f"batch={batch!r}: expected an integer >= 1")
    if sampler not in SAMPLERS:
        raise SZSLError(f"sampler {sampler!r}: expected one of {', '.join(SAMPLERS)}")
    check_timeout(timeout)


def check_timeout(timeout) -> None:
    """A study's ``timeout``: None or a number of seconds > 0 (one-line SZSLError otherwise)."""
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, numbers.Real) or not timeout > 0):
        raise SZSLError(f"timeout={timeout!r}: expected a number of seconds > 0")


def default_study_name(
    benchmark: Benchmark, space: SearchSpace, seed: int, sampler: str = "tpe", fold_classes: str = "ratio", prune: str = DEFAULT_PRUNE,
    objective: str = "plain",
) -> str:
    """Same benchmark, method, space, seed, sampler, fold classes, pruner and objective -> same name, so a re-run continues
    the study. The plain objective names no suffix (the studies of szsl 0.3 and earlier ranked by it, and continue)."""
    method = "" if space.method == "szsl" else f"{space.method}-"
    folds = f"-{fold_classes}"  # always: szsl 0.2's default ("matched") named no suffix, so no new study continues one of those
    pruned = "" if prune == DEFAULT_PRUNE or not prunable(space) else f"-prune-{prune}"
    ranked = "" if objective == "plain" else f"-{objective}"
    return f"{benchmark.name}-{method}{sampler}-s{seed}-{space.fingerprint()}{folds}{pruned}{ranked}"
