"""The training schedule: the epoch rule with its work cap, the ensemble size, the circular shift's rule, the
learning-rate curve, the EMA warm-up, augmentation per task."""

import math

import pytest

from attnpool.train.schedule import (
    DEFAULT_STEPS,
    MAX_ENSEMBLE,
    MIN_EPOCHS,
    WORK_BUDGET,
    ema_decay,
    ensemble_size,
    lr_factor,
    plan_schedule,
    resolve_augment,
    shift_steps,
)

# The six UEA sets of benchmarks/: (train samples, one sample's work N * ceil(T / stride) * depth) and the
# epochs the rule gives them (recipe R2KM).
SETS = {
    "GunPoint": (50, 1 * 150 * 7, 100),         # 3 batches per epoch: 100 epochs (the floor) = 300 steps
    "ArrowHead": (36, 1 * 126 * 6, 150),        # stride 2: 2 batches, ceil(300 / 2) = 150
    "OSULeaf": (200, 1 * 214 * 7, 100),         # stride 2: 12 batches, 100 epochs = 1200 steps (2.9e7)
    "ItalyPowerDemand": (67, 1 * 24 * 4, 100),  # 4 batches, 100 epochs
    "BasicMotions": (40, 6 * 100 * 6, 150),     # 2 batches, 150
    "JapaneseVowels": (270, 12 * 29 * 4, 84),   # 16 batches: 100 epochs cost 3.6e7 > 3e7, capped at 84
}


def _by_hand(n_train, work, batch=16):
    spe = n_train // batch
    least = math.ceil(300 / spe)
    epochs = min(max(least, 100), 1000)
    return max(min(epochs, math.floor(3e7 / (spe * batch * work))), least)


@pytest.mark.parametrize("name", SETS)
def test_default_rule_on_the_six_sets(name):
    n_train, work, epochs = SETS[name]
    plan = plan_schedule(n_train, 16, work_per_sample=work)
    assert plan.epochs == epochs == _by_hand(n_train, work)
    assert (plan.batches_per_epoch, plan.batch_size, plan.drop_last) == (n_train // 16, 16, True)
    assert plan.steps >= DEFAULT_STEPS and plan.work == plan.steps * 16 * work
    assert plan.work <= WORK_BUDGET or plan.epochs == math.ceil(DEFAULT_STEPS / plan.batches_per_epoch)


def test_epoch_rule_bounds_and_the_work_cap():
    assert plan_schedule(5000, 16).epochs == MIN_EPOCHS  # no work given: no cap, the 100-epoch floor
    assert plan_schedule(32, 16).epochs == 150  # 2 batches: 300 steps
    assert plan_schedule(16, 16).epochs == 300  # 1 batch
    assert plan_schedule(3, 16).epochs == 300  # one batch of all 3 samples
    assert plan_schedule(16, 16, epochs=2000).epochs == 2000  # --epochs is not clipped
    # big data: the work cap wins, but never below 300 steps
    big = plan_schedule(10_000, 16, work_per_sample=1 * 100 * 6)
    assert big.epochs == math.floor(3e7 / (625 * 16 * 600)) == 5
    huge = plan_schedule(10_000, 16, work_per_sample=1e6)
    assert huge.epochs == 1 and huge.steps >= DEFAULT_STEPS
    tiny_spe = plan_schedule(40, 16, work_per_sample=1e6)  # 2 batches: at least ceil(300 / 2) epochs
    assert tiny_spe.epochs == 150
    # the rule in terms of the batch size actually used
    for n_train, batch, work in [(500, 64, 2000.0), (300, 32, 100.0), (70, 8, 5000.0)]:
        assert plan_schedule(n_train, batch, work_per_sample=work).epochs == _by_hand(n_train, work, batch)
    # the user's steps override the rule (no 100-epoch floor)
    assert plan_schedule(200, 16, steps=300, work_per_sample=600).epochs == 25


def test_ensemble_size_rule():
    assert ensemble_size(0) == 1  # work not known
    assert ensemble_size(3e7) == 1 and ensemble_size(3.1e7) == 1  # at least one member, whatever the cost
    assert ensemble_size(1.5e7) == 2 and ensemble_size(1.4e7) == 2 and ensemble_size(1e7) == 3 and ensemble_size(1.0) == MAX_ENSEMBLE == 3
    members = {name: ensemble_size(plan_schedule(n, 16, work_per_sample=w).work) for name, (n, w, _) in SETS.items()}
    assert members == {"GunPoint": 3, "ArrowHead": 3, "OSULeaf": 1, "ItalyPowerDemand": 3, "BasicMotions": 1,
                       "JapaneseVowels": 1}


def test_circular_shift_only_for_unpadded_long_series():
    steps = {"GunPoint": 150, "ArrowHead": 251, "OSULeaf": 427, "ItalyPowerDemand": 24, "BasicMotions": 100}
    assert {name: shift_steps(t, padded=False) for name, t in steps.items()} == {
        "GunPoint": 15, "ArrowHead": 25, "OSULeaf": 42, "ItalyPowerDemand": 0, "BasicMotions": 0}
    assert shift_steps(29, padded=True) == 0  # JapaneseVowels: padded
    assert shift_steps(500, padded=True) == 0 == shift_steps(127, padded=False)
    assert shift_steps(128, padded=False) == 12
    assert shift_steps(24, padded=False, rule=False) == 2  # named explicitly: any length, never with padding
    assert shift_steps(500, padded=True, rule=False) == 0


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
    assert resolve_augment("auto", "classify") == ("scale", "jitter", "shift", "mixup")
    assert resolve_augment("auto", "regress") == () == resolve_augment("auto", "forecast")
    assert resolve_augment("none", "classify") == ()
    assert resolve_augment("jitter", "forecast") == ("jitter",)
    assert resolve_augment("shift, mixup", "classify") == ("shift", "mixup")
    with pytest.raises(ValueError, match="augment must be 'auto', 'none' or a comma-separated list of scale, "
                                         "jitter, shift, mixup, got 'cutout'"):
        resolve_augment("cutout", "classify")
