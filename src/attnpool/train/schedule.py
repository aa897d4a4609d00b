"""The training schedule as plain functions (no Lightning): how many epochs a run takes, the learning-rate
factor at each step, the augmentation a task gets, and the EMA decay at each update.

The rule (issue 9): a run is a fixed number of optimizer steps, not "until validation stops improving",
because the validation part of a small train split (6 samples for ArrowHead) cannot choose a checkpoint.

- ``steps`` optimizer steps (default :data:`DEFAULT_STEPS` = 300) of ``batch_size`` samples;
- batches per epoch ``= n_train // batch_size`` (the last partial batch is dropped, so no step sees a batch of
  2 samples), or 1 batch of all samples when ``n_train <= batch_size``;
- ``epochs = ceil(steps / batches per epoch)``, at least 1; the run takes ``epochs * batches per epoch`` steps;
- ``epochs`` given instead (the option before issue 9) trains exactly that many epochs.

300 steps of 16 samples (4800 samples seen) fit every training set of the six UEA sets in benchmarks/
within the 5-minute budget on 2 CPU cores: GunPoint (50 samples) 100 epochs, OSULeaf (200) 25, JapaneseVowels
(270) 19. Larger sets get fewer epochs; give ``--steps`` to train longer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

DEFAULT_STEPS = 300
#: What ``augment="auto"`` means per task: amplitude scaling and jitter for classification only; a scaled
#: input would have to come with a scaled target in regression and forecasting, and jitter on the inputs of a
#: forecast blurs the last value the forecast starts from.
AUTO_AUGMENT = {"classify": ("scale", "jitter"), "regress": (), "forecast": ()}
AUGMENTATIONS = ("scale", "jitter")


@dataclass(frozen=True)
class Schedule:
    """A resolved schedule: ``epochs`` of ``batches_per_epoch`` batches of ``batch_size`` (``steps`` in all)."""

    epochs: int
    batches_per_epoch: int
    batch_size: int
    drop_last: bool

    @property
    def steps(self) -> int:
        return self.epochs * self.batches_per_epoch


def plan_schedule(n_train: int, batch_size: int, *, steps: int | None = None, epochs: int | None = None) -> Schedule:
    """The epochs and batches of a run (the rule in the module docstring).

    Args:
        n_train: training samples (>= 1).
        batch_size: samples per batch; a train split no larger than it is one batch per epoch.
        steps: optimizer steps (default: :data:`DEFAULT_STEPS`).
        epochs: train exactly this many epochs instead (give ``steps`` or ``epochs``, not both).
    """
    for name, value in (("n_train", n_train), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    if steps is not None and epochs is not None:
        raise ValueError(f"give steps or epochs, not both: got steps={steps}, epochs={epochs}")
    drop_last = n_train > batch_size
    size = batch_size if drop_last else n_train
    per_epoch = n_train // size
    if epochs is None:
        epochs = max(1, math.ceil((DEFAULT_STEPS if steps is None else steps) / per_epoch))
    return Schedule(epochs=epochs, batches_per_epoch=per_epoch, batch_size=size, drop_last=drop_last)


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


__all__ = ["AUGMENTATIONS", "AUTO_AUGMENT", "DEFAULT_STEPS", "Schedule", "ema_decay", "lr_factor", "plan_schedule",
           "resolve_augment"]
