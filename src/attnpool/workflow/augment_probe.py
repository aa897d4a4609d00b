"""The augmentation probe of ``augment="auto"``: does the circular shift (and mixup) suit this data?

The shift teaches the model that a series read from another starting point is the same series: right for an
outline traced from an arbitrary point (OSULeaf, ArrowHead), wrong for a day of readings tied to its clock
(ACSF1: 0.52 with it, 0.86 without). The data's sizes cannot tell the two apart, so where the rule of
:func:`~attnpool.train.schedule.shift_steps` would shift (a classification set without padding, T >= 128),
the run first trains short models on the train part both ways and keeps the full recipe unless it clearly loses:

- candidates: the task's automatic list (``scale, jitter, shift, mixup``) and the light one (``scale, jitter``);
- :data:`PROBE_FOLDS` stratified folds of the train part (seeded by the run's seed): each candidate trains one
  member on the other folds for :data:`PROBE_FRACTION` of the run's optimizer steps, and predicts the held-out
  fold, so every train sample is predicted once per candidate;
- the light list is used when its held-out accuracy is at least :data:`PROBE_MARGIN` above the full one's.

The short probe under-rates the shift and mixup, which pay off late in a long run (OSULeaf: about tied in the
probe, while the full run scores 0.946 with the shift and 0.917 without, seed 0), hence the margin: only a clear
loss turns them off (on GunPoint, ArrowHead and OSULeaf the light list led by at most 0.04 in 18 probes; on
ACSF1 it led by 0.10-0.23 in 6). It costs ``2 * PROBE_FOLDS * PROBE_FRACTION`` = 1.33 times one member's
training. The measurements: docs/training.md and docs/research/issue9-recipe-r4.md. Naming the augmentations
(``--augment scale,jitter,shift,mixup``) skips the probe.
"""

from __future__ import annotations

import dataclasses
import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..data import TimeSeriesSet
from ..models import build_model
from ..train import TrainConfig

PROBE_FOLDS = 2
PROBE_FRACTION = 1 / 3
PROBE_MARGIN = 0.1
#: The candidate the probe may fall back to (the full one is ``augment="auto"`` itself).
LIGHT_AUGMENT = "scale,jitter"


@dataclass
class ProbeResult:
    """What the probe measured: held-out accuracy per candidate (``"auto"`` and :data:`LIGHT_AUGMENT`), the
    optimizer steps each short model took, and the augment string the run uses (``chosen``)."""

    accuracy: dict = field(default_factory=dict)
    steps: int = 0
    folds: int = PROBE_FOLDS
    chosen: str = "auto"

    def to_dict(self) -> dict:
        return {"accuracy": {k: round(v, 4) for k, v in self.accuracy.items()}, "steps": self.steps,
                "folds": self.folds, "margin": PROBE_MARGIN, "chosen": self.chosen}

    @classmethod
    def from_dict(cls, saved: dict) -> ProbeResult:
        """The result :meth:`to_dict` wrote (``config.json``'s ``resolved.schedule.augment_probe``)."""
        return cls(accuracy=dict(saved["accuracy"]), steps=int(saved["steps"]), folds=int(saved["folds"]),
                   chosen=str(saved["chosen"]))


def needs_probe(cfg: TrainConfig, train: TimeSeriesSet, shift: int) -> bool:
    """Whether the run probes: ``augment="auto"``, a classification task, the rule's shift ``shift > 0`` (no
    padding, T >= 128), at least ``2 * PROBE_FOLDS`` training samples, and one process (the processes of a
    distributed run would each have to reach the same outcome: those runs keep the full list)."""
    if cfg.augment != "auto" or train.task != "classify" or shift <= 0:
        return False
    if str(cfg.devices) != "1" or cfg.num_nodes != 1 or cfg.strategy != "auto":
        return False
    return len(train) >= 2 * PROBE_FOLDS


def fold_ids(y: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """Stratified fold numbers ``[S]`` in ``0 .. folds - 1``: each class's samples, in a random order fixed by
    ``seed``, are dealt to the folds in turn (starting at a random fold), so every fold gets its share of each class."""
    rng = np.random.default_rng(seed)
    out = np.empty(len(y), dtype=np.int64)
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        out[idx] = (np.arange(len(idx)) + rng.integers(folds)) % folds
    return out


def probe_augment(cfg: TrainConfig, train: TimeSeriesSet, model_kwargs: dict, run_steps: int) -> ProbeResult:
    """Run the probe on ``train`` (the run's train part, as its own set) for a run of ``run_steps`` optimizer
    steps with the model ``model_kwargs`` describes, and say which augment string to train with."""
    from ..data.datamodule import SeriesDataModule
    from ..train.recipe import build_module, plan_for, train_module
    from .predict import evaluate_split

    folds = fold_ids(np.asarray(train.y), PROBE_FOLDS, cfg.seed)
    steps = max(1, math.ceil(run_steps * PROBE_FRACTION))
    kwargs = {**model_kwargs, "members": 1}
    result = ProbeResult(steps=steps)
    for candidate in ("auto", LIGHT_AUGMENT):
        correct = 0
        for fold in range(PROBE_FOLDS):
            part = dataclasses.replace(train, splits={"train": np.flatnonzero(folds != fold),
                                                      "test": np.flatnonzero(folds == fold)})
            probe_cfg = dataclasses.replace(cfg, augment=candidate, steps=steps, epochs=None, ensemble=1,
                                            progress=False, limit_batches=None)
            schedule, _ = plan_for(probe_cfg, len(part.splits["train"]), kwargs)
            module = build_module(probe_cfg, kwargs, part.subset(part.splits["train"]))
            data = SeriesDataModule(part, schedule.batch_size, cfg.seed, drop_last=schedule.drop_last)
            with tempfile.TemporaryDirectory(prefix="attnpool-probe-") as tmp:
                trained = train_module(module, data, probe_cfg, Path(tmp), schedule=schedule, quiet=True)
            model = build_model(kwargs)
            model.load_state_dict(trained.state_dict)
            held_out = evaluate_split(model, part, "test")  # the package's own evaluation of a split
            correct += round(held_out["accuracy"] * held_out["n"])
        result.accuracy[candidate] = correct / len(train)
    result.chosen = choose_augment(result.accuracy)
    return result


def choose_augment(accuracy: dict) -> str:
    """The probe's rule on held-out accuracies ``{"auto": a, LIGHT_AUGMENT: b}``: the light list when
    ``b - a >= PROBE_MARGIN``, else ``"auto"``."""
    return LIGHT_AUGMENT if accuracy[LIGHT_AUGMENT] - accuracy["auto"] >= PROBE_MARGIN - 1e-9 else "auto"


__all__ = ["LIGHT_AUGMENT", "PROBE_FOLDS", "PROBE_FRACTION", "PROBE_MARGIN", "ProbeResult", "choose_augment", "fold_ids",
           "needs_probe", "probe_augment"]
