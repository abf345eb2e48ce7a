"""``load_model``: a model file written by ``SZSLClassifier.save`` or ``SZSLEnsemble.save`` (``szsl train --save``),
read with torch's weights-only loader (never runs code) and checked tensor by tensor."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from szsl.ensemble import SZSLEnsemble
from szsl.estimator import ENSEMBLE_FORMAT, SZSLClassifier
from szsl.model_io import json_field, load_checked, read_model_file, reason


def load_model(path: str | os.PathLike, device: str | None = None):
    """A model saved by ``SZSLClassifier.save`` or ``SZSLEnsemble.save`` (``szsl train --save``)."""
    path = Path(path)
    payload = read_model_file(path)
    if isinstance(payload, dict) and payload.get("format") == ENSEMBLE_FORMAT:
        return load_checked(path, lambda: _ensemble(payload, device))
    return load_checked(path, lambda: SZSLClassifier._from_payload(payload, device))


def _ensemble(payload: dict, device: str | None) -> SZSLEnsemble:
    if not isinstance(payload["members"], list):
        raise ValueError(f"members is {type(payload['members']).__name__}, expected a list of models")
    members = []
    for i, p in enumerate(payload["members"]):
        try:
            members.append(SZSLClassifier._from_payload(p, device))
        except (KeyError, TypeError, ValueError, AttributeError, RecursionError) as exc:
            raise ValueError(f"members[{i}]: {reason(exc)}") from None
    if not members:
        raise ValueError("an ensemble without members")
    first = members[0]
    for m in members[1:]:
        if not (np.array_equal(m.class_attributes_, first.class_attributes_) and np.array_equal(m.seen_, first.seen_)):
            raise ValueError("members with different classes")
    gammas = json_field(payload, "gammas")
    weights = json_field(payload, "weights") if "weights" in payload else None  # files before szsl 0.5: equal weights
    model = SZSLEnsemble(
        members=[e._config().to_dict() for e in members], gammas=gammas, weights=weights, seed=int(payload["seed"]),
        device=device or first.device,
    )
    model._configs()  # validates the gammas and weights against the members
    model.estimators_ = members
    model._set_fitted()
    return model
