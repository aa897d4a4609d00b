"""The training schedule as plain functions (no Lightning): how many epochs a run takes, how many ensemble
members it trains, the learning-rate factor at each step, the augmentation a task gets, and the EMA decay at
each update.

The rule (issue 9): a run is a fixed number of optimizer steps, not "until validation stops improving",
because the validation part of a small train split (6 samples for ArrowHead) cannot choose a checkpoint.
Every number below depends only on the data's sizes (recipe R2KM, kept in R4; the measurements are in docs/training.md;
under ``augment="auto"`` the shift is then checked on the data by :mod:`attnpool.workflow.augment_probe`):

- batches per epoch ``spe = n_train // batch_size`` (the last partial batch is dropped, so no step sees a
  batch of 2 samples), or 1 batch of all samples when ``n_train <= batch_size``; ``B`` = the batch size used;
- ``epochs = clip(ceil(300 / spe), 100, 1000)`` (:data:`DEFAULT_STEPS`, :data:`MIN_EPOCHS`,
  :data:`MAX_EPOCHS`): at least 300 optimizer steps and at least 100 passes over the data;
- then capped by a work budget: ``spe * B * work_per_sample * epochs <= 3e7`` (:data:`WORK_BUDGET`), where
  ``work_per_sample = N * ceil(T / stride) * depth`` is one sample's encoder cost (nodes x the steps the
  encoder's blocks run on x its blocks), but never below ``ceil(300 / spe)`` epochs;
- ``steps`` given (``--steps``) trains ``ceil(steps / spe)`` epochs, and ``epochs`` given (``--epochs``)
  exactly that many: the user's numbers override the rule;
- ensemble ``"auto"``: ``K = clip(floor(3e7 / work of one member), 1, 3)`` members (:func:`ensemble_size`), so
  small, cheap sets get 3 averaged members and no set costs much more than the budget;
- circular shift augmentation (:func:`shift_steps`): by ``U{-k..k}`` steps with ``k = floor(0.1 T)``, only on
  sets without padding and with ``T >= 128``.

On the six UEA sets of benchmarks/ (N x T, train samples): GunPoint (1 x 150, 50) 100 epochs, K=3;
ArrowHead (1 x 251, 36) 150 epochs, K=3; OSULeaf (1 x 427, 200) 100 epochs, K=1; ItalyPowerDemand
(1 x 24, 67) 100 epochs, K=3; BasicMotions (6 x 100, 40) 150 epochs, K=1; JapaneseVowels (12 x 29, 270) 84
epochs (the work cap), K=1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

DEFAULT_STEPS = 300
MIN_EPOCHS = 100
MAX_EPOCHS = 1000
#: The work budget of one run (``optimizer steps x batch x N x ceil(T / stride) x depth``): OSULeaf's 100
#: epochs at stride 2 (2.9e7, about 110 CPU seconds with 1 thread); it caps the epochs and decides the
#: ensemble size. (Recipe R2K had 2e7: OSULeaf at stride 4.)
WORK_BUDGET = 3e7
MAX_ENSEMBLE = 3
#: Circular shift augmentation: at most this fraction of T, and only for series at least this long.
SHIFT_FRACTION = 0.1
SHIFT_MIN_STEPS = 128
#: What ``augment="auto"`` means per task: amplitude scaling, jitter and (where :func:`shift_steps` allows it)
#: circular shift for classification only; a scaled input would have to come with a scaled target in
#: regression and forecasting, jitter on the inputs of a forecast blurs the last value the forecast starts
#: from, and a shifted series has a different last value.
AUTO_AUGMENT = {"classify": ("scale", "jitter", "shift", "mixup"), "regress": (), "forecast": ()}
AUGMENTATIONS = ("scale", "jitter", "shift", "mixup")
#: mixup (Zhang et al. 2018): each batch is mixed with a permutation of itself, ``lam ~ Beta(a, a)``, and the
#: loss is ``lam * loss(y) + (1 - lam) * loss(y[perm])``; ``a = MIXUP_ALPHA``.
MIXUP_ALPHA = 0.4


@dataclass(frozen=True)
class Schedule:
    """A resolved schedule: ``epochs`` of ``batches_per_epoch`` batches of ``batch_size`` (``steps`` in all)."""

    epochs: int
    batches_per_epoch: int
    batch_size: int
    drop_last: bool
    work_per_sample: float = 0.0  # N * ceil(T / stride) * depth of one member; 0 when not known

    @property
    def steps(self) -> int:
        return self.epochs * self.batches_per_epoch

    @property
    def work(self) -> float:
        """The run's work in the budget's units: ``steps * batch_size * work_per_sample`` (one member)."""
        return self.steps * self.batch_size * self.work_per_sample


def plan_schedule(n_train: int, batch_size: int, *, steps: int | None = None, epochs: int | None = None,
                  work_per_sample: float | None = None) -> Schedule:
    """The epochs and batches of a run (the rule in the module docstring).

    Args:
        n_train: training samples (>= 1).
        batch_size: samples per batch; a train split no larger than it is one batch per epoch.
        steps: optimizer steps instead of the rule (``ceil(steps / batches per epoch)`` epochs).
        epochs: train exactly this many epochs instead (give ``steps`` or ``epochs``, not both).
        work_per_sample: ``N * ceil(T / stride) * depth`` of one member (:func:`attnpool.train.recipe.work_per_sample`);
            the rule's epochs are capped so that the run's work stays within :data:`WORK_BUDGET` (default:
            None, no cap).
    """
    for name, value in (("n_train", n_train), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    if steps is not None and epochs is not None:
        raise ValueError(f"give steps or epochs, not both: got steps={steps}, epochs={epochs}")
    if work_per_sample is not None and not work_per_sample >= 0:
        raise ValueError(f"work_per_sample must be >= 0, got {work_per_sample!r}")
    drop_last = n_train > batch_size
    size = batch_size if drop_last else n_train
    per_epoch = n_train // size
    if steps is not None:
        epochs = max(1, math.ceil(steps / per_epoch))
    elif epochs is None:
        least = math.ceil(DEFAULT_STEPS / per_epoch)  # never fewer than 300 optimizer steps
        epochs = min(max(least, MIN_EPOCHS), MAX_EPOCHS)
        if work_per_sample:
            affordable = math.floor(WORK_BUDGET / (per_epoch * size * work_per_sample))
            epochs = max(min(epochs, affordable), least)
    return Schedule(epochs=epochs, batches_per_epoch=per_epoch, batch_size=size, drop_last=drop_last,
                    work_per_sample=float(work_per_sample or 0.0))


def ensemble_size(work: float) -> int:
    """``ensemble="auto"``: as many members as fit the work budget, ``clip(floor(WORK_BUDGET / work), 1,
    MAX_ENSEMBLE)``, where ``work`` is one member's (:attr:`Schedule.work`; 0 = not known: 1 member)."""
    if not work > 0:
        return 1
    return int(min(max(math.floor(WORK_BUDGET / work), 1), MAX_ENSEMBLE))


def shift_steps(n_steps: int, padded: bool, *, rule: bool = True) -> int:
    """The largest circular shift ``k`` of the ``shift`` augmentation (each sample is rolled by ``U{-k..k}``
    steps): ``floor(SHIFT_FRACTION * n_steps)``, and 0 when the set has padding (rolling would move it into the
    middle of a series) or, under the rule (``augment="auto"``), when ``n_steps < SHIFT_MIN_STEPS``: a short
    series such as a daily profile (ItalyPowerDemand, T=24) is tied to its clock, and the shift hurt it."""
    if padded or (rule and n_steps < SHIFT_MIN_STEPS):
        return 0
    return int(math.floor(SHIFT_FRACTION * n_steps))


def lr_factor(step: int, total: int, warmup: float) -> float:
    """Learning-rate multiplier at optimizer step ``step`` (0-based) of ``total``: a linear warm-up over the
    first ``max(1, round(warmup * total))`` steps (from ``1 / warm`` up to 1), then a cosine from 1 to 0 at
    the last step's end."""
    warm = max(1, round(warmup * total)) if warmup > 0 else 0
    if step < warm:
        return (step + 1) / warm
    rest = max(total - warm, 1)
    return 0.5 * (1.0 + math.cos(math.pi * min(step - warm, rest) / rest))


def ema_decay(updates: int, decay: float) -> float:
    """The EMA's decay at its ``updates``-th update (0-based): ``min(decay, (1 + n) / (10 + n))``, so the first
    updates average over the few steps there are instead of remembering the random initialisation (the
    warm-up of TensorFlow's ExponentialMovingAverage with ``num_updates``)."""
    return min(decay, (1.0 + updates) / (10.0 + updates))


def resolve_augment(augment: str, task: str) -> tuple[str, ...]:
    """``"auto"`` -> the task's default (:data:`AUTO_AUGMENT`); ``"none"`` -> (); else the named ones."""
    if augment == "auto":
        return AUTO_AUGMENT[task]
    if augment == "none":
        return ()
    names = tuple(part.strip() for part in augment.split(","))
    unknown = [n for n in names if n not in AUGMENTATIONS]
    if unknown or not names:
        raise ValueError(f"augment must be 'auto', 'none' or a comma-separated list of {', '.join(AUGMENTATIONS)}, "
                         f"got {augment!r}")
    return names


__all__ = ["AUGMENTATIONS", "AUTO_AUGMENT", "DEFAULT_STEPS", "MAX_ENSEMBLE", "MAX_EPOCHS", "MIN_EPOCHS",
           "MIXUP_ALPHA", "SHIFT_FRACTION", "SHIFT_MIN_STEPS", "Schedule", "WORK_BUDGET", "ema_decay", "ensemble_size", "lr_factor",
           "plan_schedule", "resolve_augment", "shift_steps"]
