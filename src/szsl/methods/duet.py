"""duet: szsl's soft-label network and CN's prototype network, blended in log space (szsl's own model, not a peer).

The paper's method (``szsl``) and Class Normalization (``cn``) fail in different places: on the xlsa17-like twins cn
leads szsl by 1-5 H, on small real data with few classes cn collapses onto the seen classes while szsl's soft labels
keep the unseen ones alive (docs/robustness.md). duet keeps both models whole and lets validation folds decide how
much of each to trust::

    score(x, c) = w * log p_szsl(c | x) + (1 - w) * log p_cn(c | x) - gamma * [c is seen]

* ``p_szsl``: the mean class probability of szsl's members (``members``, TrainConfig values; each member's
  seen-class scores lowered by its own calibrated-stacking gamma first, ``member_gammas``), the final model of
  ``szsl reproduce``; None: one member, ``szsl train``'s untuned default under its budget rules;
* ``p_cn``: softmax of cn's scores (``cn``: its hyperparameters over ``CN_BUDGET`` and its defaults): CN's
  normalised scores with a scale, class standardisation, attribute scaling and prototype network;
* ``weight`` w and ``gamma``: given, or chosen together on ``folds`` class folds of the TRAINING data
  (``choose_blend``: every w of ``WEIGHTS``, each with the gamma of either sign that maximises the mean fold H; w = 1,
  szsl alone, keeps gamma 0: its members are calibrated already).
  The folds hold out a seeded ratio of the seen classes as pseudo-unseen classes (as many as give the problem's
  unseen : seen class ratio, as the default tuning folds do) and 20 % of the other seen classes' images; each
  fold is trained with ``FOLD_SEEDS`` seeds and the mean H is over all of them. To keep the cost down the folds
  train the first member only (the best trial of a study).

``szsl reproduce`` reports duet beside the paper's method: its members are the study's final model, and w and
gamma are chosen on the study's own validation folds (``szsl.protocol.validation_splits``). docs/compare.md has
the study behind it (each ingredient on and off).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import torch
from scipy.special import log_softmax

from szsl.errors import SZSLError
from szsl.methods._peer_common import Fitted, begin_fit
from szsl.params import Interval, Param

NAME = "duet"
DESCRIPTION = "szsl's soft-label network and CN's prototype network blended in log space; weight and shift chosen on class folds"

# The weights of szsl's log-probability tried on the folds: szsl and cn in equal parts, or szsl alone. A finer grid
# (0, 0.25, ..., 1) chose 0.75 on two real digits splits where the folds were noise and the test H fell by 13-18.
WEIGHTS = (0.5, 1.0)
FOLD_SEEDS = 2  # each fold trained with this many seeds (the fit's seed and the next ones): one seed was too noisy on digits
# cn inside duet: 25 epochs (the lr step of 25 then never fires) instead of the published 50; on the aPY twin (seed 2)
# the same test H (46.6 against 46.1) at half the cost.
CN_BUDGET = {"epochs": 25}
HOLDOUT = 0.2  # images of each pseudo-seen class held out as the fold's seen evaluation images

PARAMS = (
    Param("weight", None, None, {"choices": list(WEIGHTS)},
          "w, the share of szsl's log-probability in [0, 1] (None: chosen on the class folds among WEIGHTS)"),
    Param("gamma", None, None, None, "the blend's calibrated-stacking shift of the seen classes (None: chosen on the folds)"),
    Param("members", None, None, None, "szsl's settings, a list of TrainConfig values (None: szsl train's untuned default)"),
    Param("member_gammas", None, None, None, "one calibrated-stacking gamma per member (None: 0 each)"),
    Param("cn", None, None, None, "cn's hyperparameters over CN_BUDGET and its defaults (None: those)"),
    Param("folds", 3, Interval(int, 1, 20), None, "class folds of the training data that choose weight and gamma"),
)


# ----------------------------------------------------------------------------------------------- the blend


def blend(szsl_log_proba, cn_raw, weight: float, gamma: float, seen) -> np.ndarray:
    """(n, C) duet scores from szsl's log class probabilities and cn's raw scores (module docstring), float64."""
    out = np.zeros(np.shape(cn_raw), dtype=np.float64)
    if weight > 0:  # a weight of 0 or 1 leaves the other part out (no 0 * -inf)
        out += weight * np.asarray(szsl_log_proba, dtype=np.float64)
    if weight < 1:
        out += (1 - weight) * log_softmax(np.asarray(cn_raw, dtype=np.float64), axis=1)
    out[:, np.asarray(seen, dtype=np.int64)] -= float(gamma)
    return out


def choose_blend(folds: Sequence[tuple], weights: Sequence[float] = WEIGHTS) -> tuple[float, float, dict[float, float]]:
    """(weight, gamma, {weight: mean fold H}) maximising the mean H over ``folds``, each ``(szsl log-probabilities,
    cn scores, y_true, seen, unseen)`` on the fold's evaluation images; gamma of either sign (``choose_gamma``) for a
    blend, 0 for szsl alone (weight 1: its members come calibrated). Ties go to the weight nearest 0.5 (both models),
    then the smaller one."""
    from szsl.curves import mean_h, seen_unseen_curve
    from szsl.methods.calibration import choose_gamma

    table, gammas = {}, {}
    for w in weights:
        curves = [seen_unseen_curve(blend(a, b, w, 0.0, seen), y, seen, unseen) for a, b, y, seen, unseen in folds]
        if w == 1.0:  # szsl alone: its members are calibrated already, the model is taken as it is
            gammas[w], h = 0.0, float(mean_h(curves, [0.0])[0])
        else:
            gammas[w], h = choose_gamma(curves)
        table[w] = h if math.isfinite(h) else -1.0
    best = max(table.values())
    w = min((v for v in weights if table[v] >= best - 1e-9), key=lambda v: (abs(v - 0.5), v))
    return float(w), float(gammas[w]), {float(k): float(v) for k, v in table.items()}


# ----------------------------------------------------------------------------------------------- the parts


def _members(p: dict, n_images: int):
    """(szsl TrainConfigs, their gammas) of a checked setting."""
    from szsl.budget import budget_config
    from szsl.config import TrainConfig
    from szsl.final_model import check_gammas
    from szsl.methods import get_method

    given = p["members"]
    if given is None:
        configs = [budget_config(TrainConfig(), n_images)]
    else:
        if isinstance(given, Mapping) or not isinstance(given, Sequence) or not given:
            raise SZSLError(f"{NAME}: members={given!r}: expected a non-empty list of szsl settings")
        try:
            configs = [get_method("szsl").params(dict(m)) for m in given]
        except (TypeError, ValueError) as err:
            raise SZSLError(f"{NAME}: members: {err}") from None
    gammas = [0.0] * len(configs) if p["member_gammas"] is None else p["member_gammas"]
    return configs, check_gammas(gammas, len(configs), f"{NAME}: member_")


def cn_setting(given, dataset: str | None = None):
    """cn's full setting inside duet: ``given`` (a mapping, or None) over ``CN_BUDGET``, cn's published values for
    ``dataset`` (a ``Benchmark.name``; None: none) and its defaults."""
    from szsl.methods import get_method

    if given is not None and not isinstance(given, Mapping):
        raise SZSLError(f"{NAME}: cn={given!r}: expected a mapping of cn hyperparameter -> value, or null")
    return get_method("cn").params({**CN_BUDGET, **dict(given or {})}, dataset=dataset)


def _check(p: dict) -> None:
    w, g = p["weight"], p["gamma"]
    if w is not None and not (isinstance(w, (int, float)) and not isinstance(w, bool) and 0.0 <= w <= 1.0):
        raise SZSLError(f"{NAME}: weight={w!r}: expected a number in [0, 1], or null (chosen on the folds)")
    if g is not None and not (isinstance(g, (int, float)) and not isinstance(g, bool) and math.isfinite(g)):
        raise SZSLError(f"{NAME}: gamma={g!r}: expected a finite number, or null (chosen on the folds)")


def szsl_part(fits, member_gammas, seen, weights=None):
    """X (numpy) -> the log of szsl's members' mean calibrated class probability (``evaluation.ensemble_log_proba``;
    ``weights``: the final model's, None: equal), from their fitted objects (diverged ones left out; None when every
    one diverged)."""
    from szsl.evaluation import ensemble_log_proba
    from szsl.methods import get_method

    ok = [k for k, f in enumerate(fits) if not getattr(f, "diverged", False)]
    if not ok:
        return None
    szsl = get_method("szsl")
    score_members = szsl.scorer([fits[k] for k in ok]) if szsl.scorer is not None else (lambda Z: [fits[k].scores(Z) for k in ok])
    gammas = [member_gammas[k] for k in ok]
    w = None if weights is None else [weights[k] for k in ok]  # ensemble_log_proba renormalises
    return lambda Z: ensemble_log_proba(score_members(Z), seen, gammas, w)


def cn_scores(cn_fit, X, n_classes: int) -> np.ndarray:
    """cn's raw (n, C) scores of X; without a cn (weight 1: left out of the blend, not trained) zeros."""
    if cn_fit is None:
        return np.zeros((len(X), n_classes))
    return np.asarray(cn_fit.scores(X), dtype=np.float64)


def fit_parts(X, y, A, configs, member_gammas, cn_values, *, seed: int, device, with_cn: bool = True) -> tuple:
    """(szsl part, cn part, diverged message): each part maps X (numpy) to its (n, C) scores (``szsl_part``; cn's
    raw scores). ``with_cn`` False (weight 1): cn is not trained, its part gives zeros."""
    from szsl.methods import get_method

    szsl, cn = get_method("szsl"), get_method("cn")
    fits = szsl.fit_population(X, y, A, [c.replace(seed=seed) for c in configs], seeds=[seed] * len(configs), device=device)
    cn_fit = cn.fit_population(X, y, A, [cn_values], seeds=[seed], device=device)[0] if with_cn else None
    part = szsl_part(fits, member_gammas, np.unique(np.asarray(y)))
    if part is None:
        return None, None, f"{NAME}: every szsl member diverged: {getattr(fits[0], 'message', '')}"
    return part, (lambda Z: cn_scores(cn_fit, Z, A.shape[0])), ""


def fold_scores(splits: Sequence[tuple], configs, member_gammas, cn_values, *, seeds: Sequence[int], device) -> list[tuple]:
    """Each fold ``(X_train, y_train, attributes, X_eval, y_eval, seen, unseen)`` (model space), once per seed of
    ``seeds``, as ``choose_blend`` takes it: the first member (with its gamma) and cn trained on the fold's training
    part, scored on its evaluation images. Per fold, szsl's seeds train as one population, cn's one by one (its
    stacked population is slower than single fits on a CPU)."""
    from szsl.methods import get_method

    szsl, cn = get_method("szsl"), get_method("cn")
    seeds = [int(s) for s in seeds]
    out: list[list[tuple]] = [[] for _ in seeds]
    for Xtr, ytr, A, Xev, yev, seen, unseen in splits:
        fits = szsl.fit_population(Xtr, ytr, A, [configs[0].replace(seed=s) for s in seeds], seeds=seeds, device=device)
        cn_fits = [cn.fit_population(Xtr, ytr, A, [cn_values], seeds=[s], device=device)[0] for s in seeds]
        for k, (f, c) in enumerate(zip(fits, cn_fits)):
            part = szsl_part([f], member_gammas[:1], np.unique(ytr))
            if part is None:
                raise SZSLError(f"{NAME}: the szsl member diverged on a class fold: {getattr(f, 'message', '')}")
            out[k].append((part(Xev), np.asarray(c.scores(Xev), dtype=np.float64), yev, seen, unseen))
    return [fold for per_seed in out for fold in per_seed]


def fold_seeds(seed: int) -> list[int]:
    """The training seeds of the folds of a fit with ``seed``."""
    return [int(seed) + k for k in range(FOLD_SEEDS)]


def class_folds(y: np.ndarray, n_classes: int, folds: int, g: torch.Generator) -> list[tuple[np.ndarray, ...]]:
    """``folds`` class folds of training labels ``y`` (classes 0..n_classes-1; those without images are the unseen
    ones): per fold (train rows, evaluation rows, the fold's classes, its pseudo-unseen classes). The pseudo-unseen
    classes are a seeded share of the seen ones, as many as give the unseen : seen ratio (at least 1, at most all
    but 2), taken in turn from one permutation; ``HOLDOUT`` of each other class's images are held out."""
    seen = np.unique(y)
    n_unseen = n_classes - seen.size
    S = seen.size
    if S < 3:
        raise SZSLError(f"{NAME}: choosing the weight on class folds needs images of at least 3 classes, got {S}")
    k = min(max(1, int(round(S * n_unseen / max(1, S + n_unseen)))), S - 2)
    perm = seen[torch.randperm(S, generator=g).numpy()]
    out = []
    for f in range(folds):
        pseudo_unseen = np.sort(np.take(perm, np.arange(f * k, f * k + k), mode="wrap"))
        train, held = [], []
        for c in np.setdiff1d(seen, pseudo_unseen):
            rows = np.flatnonzero(y == c)
            rows = rows[torch.randperm(rows.size, generator=g).numpy()]
            n_held = int(round(HOLDOUT * rows.size)) if rows.size > 1 else 0
            held.append(rows[:n_held])
            train.append(rows[n_held:])
        evaluation = np.concatenate(held + [np.flatnonzero(np.isin(y, pseudo_unseen))])
        out.append((np.sort(np.concatenate(train)), evaluation, seen, pseudo_unseen))
    return out


# ----------------------------------------------------------------------------------------------- fit


def fit(X, y, attributes, params: dict | None = None, *, seed: int = 0, device: str = "auto") -> Fitted:
    """Fit duet on (X, y); classes of ``attributes`` without training images are the unseen ones."""
    run = begin_fit(NAME, X, y, attributes, seed=seed, device=device, params=params, declared=PARAMS)
    p = run.p
    _check(p)
    configs, member_gammas = _members(p, run.X.shape[0])
    cn_values = cn_setting(p["cn"])
    weight, gamma, table = p["weight"], p["gamma"], None
    if weight is None or gamma is None:
        if not run.unseen.size:  # nothing to balance: the two models in equal parts
            weight, gamma = (0.5 if weight is None else weight), (0.0 if gamma is None else gamma)
        else:
            splits = []
            for tr, ev, classes, pseudo_unseen in class_folds(run.y, run.A.shape[0], p["folds"], run.g):
                to_model = np.searchsorted(classes, run.y)
                unseen_m = np.searchsorted(classes, pseudo_unseen)
                seen_m = np.setdiff1d(np.arange(classes.size), unseen_m)
                splits.append((run.X[tr], to_model[tr], run.A[classes], run.X[ev], to_model[ev], seen_m, unseen_m))
            folds = fold_scores(splits, configs, member_gammas, cn_values, seeds=fold_seeds(seed), device=device)
            if weight is None:
                weight, chosen_gamma, table = choose_blend(folds)
                gamma = chosen_gamma if gamma is None else gamma
            else:
                _, gamma, table = choose_blend(folds, [float(weight)])
    szsl_part, cn_part, message = fit_parts(run.X, run.y, run.A, configs, member_gammas, cn_values, seed=seed, device=device,
                                            with_cn=weight != 1.0)
    def score(xb: torch.Tensor) -> torch.Tensor:
        if szsl_part is None:  # a diverged fit scores nothing useful
            return torch.zeros((xb.shape[0], run.A.shape[0]), dtype=torch.float64)
        Z = xb.cpu().numpy()
        return torch.as_tensor(blend(szsl_part(Z), cn_part(Z), weight, gamma, run.seen))

    fitted = run.fitted(score, [])
    fitted.diverged, fitted.message = bool(message), message
    fitted.weight_, fitted.gamma_, fitted.fold_h_ = float(weight), float(gamma), table
    return fitted
