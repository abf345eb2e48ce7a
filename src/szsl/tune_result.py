"""The result of a study: its best trial, the best few (the final model's candidates) and why the choice may not
be trusted (``trust.selection_warnings``). ``best_result`` reads it off a finished Optuna study."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from szsl.errors import SZSLError
from szsl.final_model import DEFAULT_ENSEMBLE, ENSEMBLE_MARGIN, TOP_KEPT, final_members
from szsl.search_space import SearchSpace
from szsl.trust import selection_warnings


@dataclass
class TuneResult:
    study_name: str
    best_value: float
    best_params: dict[str, Any]  # the searched parameters of the best trial
    best_config: Any  # the method's full setting (szsl.params.Setting; a network method's: a TrainConfig)
    best_trial: int
    folds: list[dict[str, float]]  # U, S, H per fold of the best trial
    n_complete: int
    n_failed: int
    space: dict[str, Any] = field(default_factory=dict)
    n_pruned: int = 0  # trials stopped early by the multi-fidelity pruner (they count toward n_trials)
    # The TOP_KEPT best complete trials, best first (the best one included): {"trial", "value", "params", "config"}.
    top: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # trust.selection_warnings: why the choice may not be trusted
    method: str = "szsl"  # the registry's method (szsl.methods) whose settings these are

    def ensemble(self, k: int = DEFAULT_ENSEMBLE, margin: float = ENSEMBLE_MARGIN, anchor: bool = False) -> list[Any]:
        """The final model's members (``final_model.final_members``) as full settings (``Setting``), best first (with
        ``anchor``, szsl's untuned setting last)."""
        return final_members(self, k, margin, calibrate="none", anchor=anchor).members

    def to_dict(self) -> dict[str, Any]:
        return {
            "study": self.study_name,
            "method": self.method,
            "best_value": self.best_value,
            "best_params": self.best_params,
            "best_config": dict(self.best_config),
            "best_trial": self.best_trial,
            "folds": self.folds,
            "n_complete": self.n_complete,
            "n_failed": self.n_failed,
            "n_pruned": self.n_pruned,
            "top": self.top,
            "objective": "mean H (%) over the validation folds",
            "space": self.space,
            "warnings": self.warnings,
        }


def best_result(study, space: SearchSpace, seed: int, fold_unseen: float | None = None) -> TuneResult:
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    if not complete:
        raise SZSLError(f"study {study.study_name!r} has no complete trial yet (run longer or raise --timeout)")
    # Ties go to the lowest trial number: deterministic whatever the worker order.
    ranked = sorted(complete, key=lambda t: (-t.value, t.number))
    best = ranked[0]

    top = [
        {
            "trial": t.number,
            "value": float(t.value),
            "params": dict(t.params),
            "config": dict(space.config(t.params, seed)),
            # the calibrated-stacking gamma chosen on the trial's folds (None: a study from before szsl 0.3)
            "gamma": t.user_attrs.get("gamma"),
            "H_cs": t.user_attrs.get("H_cs"),  # the trial's mean validation H with that gamma
        }
        for t in ranked[:TOP_KEPT]
    ]
    folds = list(best.user_attrs.get("folds", []))
    return TuneResult(
        study_name=study.study_name,
        best_value=float(best.value),
        best_params=dict(best.params),
        best_config=space.config(best.params, seed),
        best_trial=best.number,
        folds=folds,
        n_complete=len(complete),
        n_failed=sum(t.state == TrialState.FAIL and not t.user_attrs.get("surplus") for t in trials),
        n_pruned=sum(t.state == TrialState.PRUNED for t in trials),
        space=space.to_json(),
        top=top,
        warnings=selection_warnings(float(best.value), dict(best.params), folds, space.searched, len(complete), fold_unseen),
        method=space.method,
    )
