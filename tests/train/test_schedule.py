"""The fixed training schedule: epochs from steps, the learning-rate curve, the EMA warm-up, augmentation per task."""

import math

import pytest

from attnpool.train.schedule import DEFAULT_STEPS, ema_decay, lr_factor, plan_schedule, resolve_augment


@pytest.mark.parametrize(("n_train", "epochs", "per_epoch"), [
    (50, 100, 3),    # GunPoint: 50 // 16 = 3 batches (2 samples dropped), 300 / 3
    (36, 150, 2),    # ArrowHead
    (67, 75, 4),     # ItalyPowerDemand
    (200, 25, 12),   # OSULeaf
    (270, 19, 16),   # JapaneseVowels: ceil(300 / 16)
])
def test_default_rule_is_300_steps_of_full_batches(n_train, epochs, per_epoch):
    plan = plan_schedule(n_train, 16)
    assert (plan.epochs, plan.batches_per_epoch, plan.batch_size, plan.drop_last) == (epochs, per_epoch, 16, True)
    assert DEFAULT_STEPS <= plan.steps < DEFAULT_STEPS + per_epoch


def test_small_train_split_is_one_batch_of_all_samples():
    plan = plan_schedule(10, 16, steps=40)
    assert (plan.epochs, plan.batches_per_epoch, plan.batch_size, plan.drop_last) == (40, 1, 10, False)


def test_epochs_given_train_exactly_that_many_and_contradict_steps():
    assert plan_schedule(100, 16, epochs=3).steps == 3 * 6
    with pytest.raises(ValueError, match="give steps or epochs, not both: got steps=5, epochs=3"):
        plan_schedule(100, 16, steps=5, epochs=3)
    with pytest.raises(ValueError, match="batch_size must be an int >= 1, got 0"):
        plan_schedule(100, 0)


def test_lr_warms_up_linearly_then_follows_a_cosine_to_zero():
    total, warm = 200, 10  # 5% of 200
    factors = [lr_factor(s, total, 0.05) for s in range(total)]
    assert factors[:warm] == pytest.approx([(s + 1) / warm for s in range(warm)])
    assert factors[warm] == pytest.approx(1.0)
    mid = warm + (total - warm) // 2
    assert factors[mid] == pytest.approx(0.5 * (1 + math.cos(math.pi * (mid - warm) / (total - warm))))
    assert all(a >= b for a, b in zip(factors[warm:], factors[warm + 1:]))
    assert lr_factor(total, total, 0.05) == pytest.approx(0.0, abs=1e-12)
    assert lr_factor(0, 100, 0.0) == pytest.approx(1.0)  # no warm-up: the cosine starts at once


def test_ema_decay_warms_up_to_its_limit():
    assert ema_decay(0, 0.99) == pytest.approx(0.1)
    assert ema_decay(10, 0.99) == pytest.approx(11 / 20)
    assert ema_decay(10_000, 0.99) == 0.99


def test_augmentation_auto_is_for_classification_only():
    assert resolve_augment("auto", "classify") == ("scale", "jitter")
    assert resolve_augment("auto", "regress") == () == resolve_augment("auto", "forecast")
    assert resolve_augment("none", "classify") == ()
    assert resolve_augment("jitter", "forecast") == ("jitter",)
    with pytest.raises(ValueError, match="augment must be 'auto', 'none' or a comma-separated list of scale, "
                                         "jitter, got 'mixup'"):
        resolve_augment("mixup", "classify")
