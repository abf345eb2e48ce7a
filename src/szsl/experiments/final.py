"""Final evaluation: retrain on all of trainval with the chosen parameters, several seeds as
ONE population, and report mean and std of U, S, H, T1 on the test split."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from szsl.config import TrainConfig
from szsl.data.benchmark import Benchmark
from szsl.errors import SZSLError
from szsl.evaluation import summarize
from szsl.final_model import check_gammas, check_weights

DEFAULT_SEEDS = (0, 1, 2, 3, 4)
METRICS = ("U", "S", "H", "T1")


def final_evaluation(
    benchmark: Benchmark,
    config: TrainConfig,
    *,
    seeds: Sequence[int] = DEFAULT_SEEDS,
    device: str = "auto",
    progress: bool = False,
    ensemble: Sequence[TrainConfig] = (),
    gammas: Sequence[float] | None = None,
    calibrate: bool = False,
    duet: Mapping[str, Any] | None = None,
    weights: Sequence[float] | None = None,
) -> dict[str, Any]:
    """Train ``config`` with each seed on trainval (one population), score on the test split.

    ``ensemble``: more than one setting (``config`` first, e.g. the best few trials of a study) makes each
    seed's model the ensemble of all of them trained with that seed: their class probabilities averaged
    (``evaluation.evaluate_ensembles``); ``single`` then holds ``config`` alone, from the same trainings.
    ``gammas``: one calibrated-stacking gamma per member, chosen on the validation folds (``tune`` records
    one per trial); the same trainings are then also scored with each member's seen-class scores lowered by
    its gamma before the average (``calibrated``; ``plain`` is the model without). ``calibrate`` makes the
    calibrated model the headline (``seeds``, ``mean``, ``std``). ``weights``: the members' weights in the average
    (``final_model.member_weights``; None: equal), plain and calibrated alike. Returns {"config", "ensemble", "seeds":
    [{"seed", "U", "S", "H", "T1"}...], "mean", "std", "diverged", "single"} (and "plain", "calibrated").
    ``duet``: a ``duet_choice``; the members as trained here are then also blended with cn (``szsl.methods.duet``),
    under "duet" (with its weight, gamma and fold H).
    This is evaluation, never selection: nothing here feeds back into a choice of parameters.
    """
    from szsl.evaluation import evaluate, evaluate_ensembles  # "szsl" fixes no TrainConfig value: it trains any config as given
    from szsl.protocol import final_split, split_data

    seeds = [int(s) for s in seeds]
    if not seeds:
        raise SZSLError("final evaluation needs at least one seed")
    members = list(ensemble) or [config]
    if members[0].replace(seed=0) != config.replace(seed=0):
        raise SZSLError("final evaluation: the ensemble's first member must be the chosen config")
    if gammas is not None:
        gammas = check_gammas(gammas, len(members), "final evaluation: ")
    weights = check_weights(weights, len(members), "final evaluation: ")
    if calibrate and gammas is None:
        raise SZSLError("final evaluation: calibrate=True needs the members' gammas (chosen on the validation folds)")
    data = split_data(benchmark, final_split(benchmark))
    calibrated = None
    keep = duet is not None  # duet blends the members as trained here
    per_seed = None if weights is None else [weights] * len(seeds)
    if len(members) == 1 and gammas is None:
        results = evaluate("szsl", data, [config.replace(seed=s) for s in seeds], device=device, with_t1=True, progress=progress,
                           keep_models=keep)
        singles = results
        fits = [[r.model] for r in results]
    else:
        groups = [[c.replace(seed=s) for c in members] for s in seeds]
        if gammas is None:
            results = evaluate_ensembles("szsl", data, groups, device=device, with_t1=True, score_members=True, keep_models=keep,
                                         weights=per_seed)
        else:  # the same trainings scored plain and calibrated (evaluate_ensembles fits a repeated setting once)
            shifts = [[0.0] * len(members)] * len(seeds) + [gammas] * len(seeds)
            both = evaluate_ensembles("szsl", data, groups + groups, device=device, with_t1=True, score_members=True, gammas=shifts,
                                      keep_models=keep, weights=None if per_seed is None else per_seed + per_seed)
            results, calibrated = both[: len(seeds)], both[len(seeds) :]
        singles = [r.members[0] for r in results]
        fits = [[m.model for m in r.members] for r in results]
    plain = _summary(benchmark, seeds, results)
    cal = _summary(benchmark, seeds, calibrated) if calibrated is not None else None
    out = dict(cal if calibrate else plain)
    out.update(config=config.replace(seed=seeds[0]).to_dict(), ensemble=[c.replace(seed=seeds[0]).to_dict() for c in members])
    out["single"] = _brief(_summary(benchmark, seeds, singles))
    if cal is not None:
        out["plain"] = _brief(plain)
        out["calibrated"] = {**_brief(cal), "gammas": gammas}
    if duet is not None:
        out["duet"] = _duet(benchmark, data, seeds, fits, gammas or [0.0] * len(members), duet, device, weights)
    return out


def _brief(summary: dict[str, Any]) -> dict[str, Any]:
    """A model's numbers beside the headline: its per-seed rows, mean and std."""
    return {k: summary[k] for k in ("seeds", "mean", "std")}


def _summary(benchmark: Benchmark, seeds: Sequence[int], results) -> dict[str, Any]:
    rows = [{"seed": s, **{k: float(r.metrics[k]) for k in METRICS}} for s, r in zip(seeds, results) if r.metrics]
    diverged = [{"seed": s, "message": r.message} for s, r in zip(seeds, results) if r.diverged or r.message]
    if not rows:
        raise SZSLError(f"{benchmark.name}: every seed of the final evaluation diverged ({diverged[0]['message']})")
    mean, std = summarize(rows, METRICS)
    return {"seeds": rows, "mean": mean, "std": std, "diverged": diverged}


def duet_choice(
    benchmark: Benchmark,
    members: Sequence[TrainConfig],
    gammas: Sequence[float] | None,
    *,
    fold_seed: int = 0,
    fold_classes: str = "ratio",
    device: str = "auto",
) -> dict[str, Any]:
    """``duet``'s weight and seen shift (``szsl.methods.duet``) for a study's final model (``members`` and their
    ``gammas``), chosen on the study's own validation folds (``protocol.validation_splits(benchmark, fold_seed,
    fold_classes)``: trainval only), each trained with ``duet.fold_seeds(fold_seed)``. Returns {"weight", "gamma",
    "fold_H": {weight: mean fold H}, "cn": cn's full setting in duet}: what ``final_evaluation(duet=...)`` takes."""
    from szsl.methods import duet

    members = list(members)
    gammas = [0.0] * len(members) if gammas is None else check_gammas(gammas, len(members), "duet: ")
    cn_setting = duet.cn_setting(None, benchmark.name)
    splits = study_folds(benchmark, fold_seed, fold_classes)
    folds = duet.fold_scores(splits, members, gammas, cn_setting, seeds=duet.fold_seeds(fold_seed), device=device)
    weight, gamma, table = duet.choose_blend(folds)
    return {"weight": weight, "gamma": gamma, "fold_H": {str(w): h for w, h in table.items()}, "cn": dict(cn_setting)}


def _duet(benchmark: Benchmark, data, seeds: Sequence[int], fits, gammas, choice: Mapping[str, Any], device,
          weights=None) -> dict[str, Any]:
    """duet's test numbers per seed: the final model's members as trained (``fits[i]``: seed i's fitted members) and
    cn trained on trainval with the same seed, blended with ``choice``'s weight and shift."""
    from szsl.evaluation import evaluate_fitted
    from szsl.methods import duet, get_method

    cn = get_method("cn")
    w, g, n = float(choice["weight"]), float(choice["gamma"]), int(data.attributes.shape[0])
    # cn once per seed, one by one (its stacked population is slower than single fits on a CPU); weight 1 (szsl alone)
    # leaves cn out of the blend, so it is not trained
    cn_fits = [None if w == 1.0 else
               cn.fit_population(data.X_train, data.y_train, data.attributes, [cn.params(choice["cn"])], seeds=[s], device=device)[0]
               for s in seeds]
    runs = []
    for members, cn_fit in zip(fits, cn_fits):
        part = duet.szsl_part(members, gammas, data.seen, weights)
        score = None if part is None else (lambda X, part=part, cn_fit=cn_fit: duet.blend(part(X), duet.cn_scores(cn_fit, X, n), w, g,
                                                                                       data.seen))
        runs.append(evaluate_fitted(duet.NAME, {"weight": w, "gamma": g}, data, score))
    return {**_summary(benchmark, seeds, runs), "weight": w, "gamma": g, "fold_H": dict(choice["fold_H"])}


def study_folds(benchmark: Benchmark, fold_seed: int = 0, fold_classes: str = "ratio") -> list[tuple]:
    """The study's validation folds (``protocol.validation_splits``: trainval only) as ``duet.fold_scores`` takes
    them: (X_train, y_train, attributes, X_eval, y_eval, seen, unseen), evaluation images seen then unseen."""
    from szsl.protocol import split_data, validation_splits

    out = []
    for s in validation_splits(benchmark, fold_seed, fold_classes=fold_classes):
        d = split_data(benchmark, s)
        out.append((d.X_train, d.y_train, d.attributes, np.concatenate([d.X_eval_seen, d.X_eval_unseen]),
                    np.concatenate([d.y_eval_seen, d.y_eval_unseen]), d.seen, d.unseen))
    return out
