"""The training budget on small data sets: enough optimizer steps an epoch (the default), or in all (an option).

A budget counted in epochs at a fixed batch size gives a data set of 1000 images 4 steps an epoch at
batch 256: 20 epochs are 80 steps, and the cosine schedule anneals the learning rate to zero before
the model has learnt enough. Two rules, measured on the robustness suite (docs/robustness.md):

* ``scaled_batch`` (the default, ``EPOCH_STEPS`` = 8): the batch size halves, down to ``MIN_BATCH``,
  until an epoch has 8 steps. Every xlsa17 benchmark has more at batch 256 (aPY 24), so they are
  unchanged.
* ``scaled_epochs`` (``--min-steps N``, off by default): more epochs until the run has N steps. It
  helps low-dimensional data but loses 4.4 H on small twins (2048-d features overfit in 100+ epochs),
  so it is an option, not the default.

The larger cause of slow learning on small data was the feature scale, which
``TrainConfig.input_scaling`` (``training_data.input_scale``) removes. The fold models of the tuner get
the same budget as the final model.
"""

from __future__ import annotations

import math

from szsl.errors import SZSLError

# The step floor of --min-steps (an option): every xlsa17 benchmark already has more at 20 epochs of batch 256.
MIN_STEPS = 400
# Steps an epoch has at least (the default rule): every xlsa17 benchmark has more at batch 256 (aPY 24).
EPOCH_STEPS = 8


def scaled_epochs(epochs: int, n_images: int, batch_size: int, min_steps: int = MIN_STEPS) -> int:
    """``epochs``, or more when ``epochs`` epochs of ``n_images`` images at ``batch_size`` are fewer than ``min_steps`` steps."""
    for name, v, low in (("epochs", epochs, 1), ("n_images", n_images, 1), ("batch_size", batch_size, 1), ("min_steps", min_steps, 0)):
        if isinstance(v, bool) or not isinstance(v, int) or v < low:
            raise SZSLError(f"{name}={v!r}: expected an integer >= {low}")
    per_epoch = math.ceil(n_images / batch_size)
    return max(epochs, math.ceil(min_steps / per_epoch))


MIN_BATCH = 32  # the smallest batch size the epoch-step rule goes down to


def scaled_batch(batch_size: int, n_images: int, epoch_steps: int) -> int:
    """``batch_size``, halved (not below ``MIN_BATCH``) until an epoch of ``n_images`` images has ``epoch_steps`` steps."""
    b = batch_size
    while b > MIN_BATCH and math.ceil(n_images / b) < epoch_steps:
        b = max(MIN_BATCH, b // 2)
    return b


def budget_config(config, n_images: int, epoch_steps: int = EPOCH_STEPS, min_steps: int = 0):
    """A network method's setting (``TrainConfig``) on ``n_images`` training images under both rules, in their order:
    the batch size first (``scaled_batch``), then the epochs (``scaled_epochs``; ``min_steps`` 0: unchanged).
    ``szsl train`` applies it; ``SearchSpace.with_budget`` is the same for a space's fixed values."""
    config = config.replace(batch_size=scaled_batch(config.batch_size, n_images, epoch_steps))
    return config.replace(epochs=scaled_epochs(config.epochs, n_images, config.batch_size, min_steps))
