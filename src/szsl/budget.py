"""The training budget: epochs, scaled up so that small data sets still get enough optimizer steps.

A budget counted in epochs at a fixed batch size gives a data set of 600 images 3 steps an epoch:
20 epochs are 60 steps, and a cosine schedule anneals the learning rate to zero before the model has
learnt anything (on the real digits the default lost 7 H on average to an untuned setting because of
it; docs/robustness.md). The default budget is therefore "``epochs`` epochs, and at least
``MIN_STEPS`` optimizer steps on the trainval images": large data sets (every xlsa17 benchmark) keep
their epochs, small ones train for more epochs. The fold models of the tuner get the same epochs as
the final model, as before. A budget the caller chose (``--epochs``, a space file's ``epochs``) is
trained as chosen unless a step floor is asked for too (``--min-steps``; ``auto_min_steps``).
"""

from __future__ import annotations

import math

from szsl.errors import SZSLError

# Optimizer steps a training run gets at least (on trainval): every xlsa17 benchmark already has more at 20
# epochs of batch 256 (aPY 24 steps an epoch, 480 in all), so only smaller data sets change.
MIN_STEPS = 400


def scaled_epochs(epochs: int, n_images: int, batch_size: int, min_steps: int = MIN_STEPS) -> int:
    """``epochs``, or more when ``epochs`` epochs of ``n_images`` images at ``batch_size`` are fewer than ``min_steps`` steps."""
    for name, v, low in (("epochs", epochs, 1), ("n_images", n_images, 1), ("batch_size", batch_size, 1), ("min_steps", min_steps, 0)):
        if isinstance(v, bool) or not isinstance(v, int) or v < low:
            raise SZSLError(f"{name}={v!r}: expected an integer >= {low}")
    per_epoch = math.ceil(n_images / batch_size)
    return max(epochs, math.ceil(min_steps / per_epoch))


def auto_min_steps(min_steps: int | None, epochs: int | None, default_epochs: int) -> int:
    """The step floor of a run: ``min_steps`` when given; else ``MIN_STEPS`` when the epoch budget is the default
    one, and 0 when the caller chose a budget of its own (``--epochs``, a space file's ``epochs``): a chosen
    budget is trained exactly as chosen."""
    if min_steps is not None:
        return min_steps
    return MIN_STEPS if epochs is None or epochs == default_epochs else 0
