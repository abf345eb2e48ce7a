"""Train a population of configs on one split and score every member: U, S, H (and T1).

This is what a training run, a tuning trial's fold, a seed of the final evaluation and a point
of a sweep all are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from szsl.config import TrainConfig
from szsl.metrics import gzsl_metrics, zsl_top1
from szsl.model import predict_top1
from szsl.protocol import SplitData
from szsl.train import TrainedMember, train_population


@dataclass
class RunResult:
    config: TrainConfig
    metrics: dict[str, float] = field(default_factory=dict)  # U, S, H (and T1), percent
    diverged: bool = False
    message: str = ""
    train_seconds: float = 0.0
    member: TrainedMember | None = None

    def to_dict(self) -> dict:
        return {"config": self.config.to_dict(), **self.metrics, "diverged": self.diverged, "message": self.message, "train_seconds": self.train_seconds}


def evaluate_configs(
    data: SplitData,
    configs: Sequence[TrainConfig],
    *,
    device="auto",
    with_t1: bool = True,
    progress: bool = False,
    keep_members: bool = False,
) -> list[RunResult]:
    members = train_population(data.X_train, data.y_train, data.attributes, configs, device=device, progress=progress)
    results = [RunResult(m.config, diverged=m.diverged, message=m.message, train_seconds=m.train_seconds, member=m if keep_members else None) for m in members]
    # Score members that share a network shape together (one batched pass per shape).
    shapes: dict[tuple, list[int]] = {}
    for i, m in enumerate(members):
        if not m.diverged:
            shapes.setdefault((m.config.hidden, m.config.activation), []).append(i)
    y_true = np.concatenate([data.y_eval_seen, data.y_eval_unseen])
    for (_, activation), idx in shapes.items():
        states = [members[i].state for i in idx]
        (pred_seen,) = predict_top1(states, activation, data.X_eval_seen, data.attributes, device=device)
        pred_unseen, pred_zsl = predict_top1(states, activation, data.X_eval_unseen, data.attributes, among=(None, data.unseen), device=device)
        for j, i in enumerate(idx):
            metrics = gzsl_metrics(y_true, np.concatenate([pred_seen[j], pred_unseen[j]]), data.seen, data.unseen)
            if with_t1:
                metrics["T1"] = zsl_top1(data.y_eval_unseen, pred_zsl[j], data.unseen)
            results[i].metrics = metrics
    return results
