"""The step-scaled training budget (szsl.budget) and how the tuner's space and pruning rungs follow it."""

import pytest

from szsl.budget import MIN_STEPS, scaled_epochs
from szsl.errors import SZSLError
from szsl.pruning import prune_rungs
from szsl.search_space import load_space, make_space


def test_large_data_keeps_its_epochs():
    # aPY's trainval (5932 images) has 24 steps an epoch at batch 256: 20 epochs are 480 >= MIN_STEPS steps
    assert scaled_epochs(20, 5932, 256, MIN_STEPS) == 20


def test_small_data_gets_enough_steps():
    # 1006 images at batch 256: 4 steps an epoch, so 400 steps need 100 epochs
    assert scaled_epochs(20, 1006, 256, 400) == 100
    assert scaled_epochs(20, 1006, 256, 0) == 20
    e = scaled_epochs(20, 777, 64, 1000)
    assert e * -(-777 // 64) >= 1000 > (e - 1) * -(-777 // 64)


@pytest.mark.parametrize("bad", [dict(epochs=0), dict(n_images=0), dict(batch_size=True), dict(min_steps=-1), dict(epochs=2.5)])
def test_scaled_epochs_rejects_bad_values(bad):
    args = dict(epochs=20, n_images=100, batch_size=32, min_steps=10, **{})
    args.update(bad)
    with pytest.raises(SZSLError):
        scaled_epochs(**args)


def test_space_budget_follows_the_data():
    space = make_space(epochs=20)
    small = space.with_min_steps(1006, 400)
    assert small.fixed["epochs"] == 100 and space.fixed["epochs"] == 20
    assert small.fingerprint() != space.fingerprint()
    assert space.with_min_steps(5932, 400) is space  # enough steps already: the same space, the same study name
    assert space.with_min_steps(1006, 0) is space
    # the paper's space searches the batch size: its largest choice (1024) counts, so every trial gets the steps
    paper = load_space("paper", epochs=20).with_min_steps(1006, 400)
    assert paper.fixed["epochs"] == 400


def test_space_without_fixed_epochs_is_left_alone():
    cn = make_space(method="cn")
    assert cn.with_min_steps(100, 10_000) is cn


def test_pruning_rungs_scale_with_long_budgets():
    assert prune_rungs(20, "halving") == [5, 10]
    assert prune_rungs(30, "halving") == [5, 10, 20]  # unchanged below 40 epochs
    assert prune_rungs(100, "halving") == [25, 50]
    assert prune_rungs(100, "none") == []


def test_small_data_gets_smaller_batches():
    from szsl.budget import EPOCH_STEPS, scaled_batch

    assert scaled_batch(256, 5932, EPOCH_STEPS) == 256  # aPY: 24 steps an epoch already
    assert scaled_batch(256, 1006, 8) == 128  # the digits: 4 steps an epoch at 256, 8 at 128
    assert scaled_batch(256, 100, 8) == 32  # never below MIN_BATCH
    assert scaled_batch(256, 1006, 0) == 256
    assert scaled_batch(100, 300, 8) == 32  # 100 -> 50 (6 steps) -> 32, not 25: never below MIN_BATCH
    assert scaled_batch(100, 200, 8) == 32


def test_space_batch_follows_the_data():
    space = make_space(epochs=20)
    small = space.with_epoch_steps(1006, 8)
    assert small.fixed["batch_size"] == 128 and space.fixed["batch_size"] == 256
    assert space.with_epoch_steps(5932, 8) is space  # every xlsa17 benchmark: the same space, the same study name
    paper = load_space("paper", epochs=20)
    assert paper.with_epoch_steps(1006, 8) is paper  # a searched batch size is left alone


def test_budget_config_applies_the_batch_rule_then_the_step_floor():
    from szsl.budget import budget_config, scaled_batch, scaled_epochs
    from szsl.config import TrainConfig

    config = TrainConfig(batch_size=256, epochs=20)
    assert budget_config(config, 1000) == config.replace(batch_size=scaled_batch(256, 1000, 8))  # no floor: epochs as given
    got = budget_config(config, 1000, 8, 400)
    assert got.batch_size == 128 and got.epochs == scaled_epochs(20, 1000, 128, 400) == 50
    assert budget_config(config, 100_000) == config  # xlsa17 scale: unchanged
