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
#: The distribution summary's head joins the prediction when its held-out accuracy in the probe is more than this
#: above the network head's: strictly better (a tie, as on BasicMotions at 1.0, keeps the network alone).
SUMMARY_MARGIN = 0.0
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
    #: held-out accuracy of the distribution summary's head per candidate (when the probe decided it)
    summary_accuracy: dict = field(default_factory=dict)
    #: the summary's thresholds K the run uses: DEFAULT_LEVELS when its head won, 0 when not or not probed
    distribution: int = 0

    def to_dict(self) -> dict:
        return {"accuracy": {k: round(v, 4) for k, v in self.accuracy.items()}, "steps": self.steps,
                "folds": self.folds, "margin": PROBE_MARGIN, "chosen": self.chosen,
                "summary_accuracy": {k: round(v, 4) for k, v in self.summary_accuracy.items()},
                "summary_margin": SUMMARY_MARGIN, "distribution": self.distribution}

    @classmethod
    def from_dict(cls, saved: dict) -> ProbeResult:
        """The result :meth:`to_dict` wrote (``config.json``'s ``resolved.schedule.augment_probe``; a record from
        before the summary's decision reads as ``distribution`` 0, as that run trained)."""
        return cls(accuracy=dict(saved["accuracy"]), steps=int(saved["steps"]), folds=int(saved["folds"]),
                   chosen=str(saved["chosen"]), summary_accuracy=dict(saved.get("summary_accuracy", {})),
                   distribution=int(saved.get("distribution", 0)))


def probes_augment(cfg: TrainConfig, train: TimeSeriesSet, shift: int) -> bool:
    """Whether the probe decides the augmentations: ``augment="auto"``, a classification task and the rule's
    shift ``shift > 0`` (no padding, T >= 128)."""
    return cfg.augment == "auto" and train.task == "classify" and shift > 0


def probes_summary(cfg: TrainConfig, train: TimeSeriesSet) -> bool:
    """Whether the probe decides the distribution summary's head: ``distribution="auto"``, a classification task
    and training windows in memory."""
    return cfg.distribution == "auto" and train.task == "classify" and train.windows is None


def needs_probe(cfg: TrainConfig, train: TimeSeriesSet, shift: int) -> bool:
    """Whether the run probes: it has something to decide (:func:`probes_augment`, :func:`probes_summary`), at
    least ``2 * PROBE_FOLDS`` training samples, and one process (the processes of a distributed run would each
    have to reach the same outcome: those runs keep the full list and no summary head)."""
    if not (probes_augment(cfg, train, shift) or probes_summary(cfg, train)):
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


def probe_augment(cfg: TrainConfig, train: TimeSeriesSet, model_kwargs: dict, run_steps: int, *,
                  shift: int = 0) -> ProbeResult:
    """Run the probe on ``train`` (the run's train part, as its own set) for a run of ``run_steps`` optimizer
    steps with the model ``model_kwargs`` describes (``shift``: the rule's circular shift for this set), and say
    which augment string to train with and whether with the distribution summary's head."""
    from ..data.datamodule import SeriesDataModule
    from ..models.distribution import DEFAULT_LEVELS
    from ..train.recipe import build_module, plan_for, train_module

    folds = fold_ids(np.asarray(train.y), PROBE_FOLDS, cfg.seed)
    steps = max(1, math.ceil(run_steps * PROBE_FRACTION))
    decide_summary = probes_summary(cfg, train)
    candidates = ("auto", LIGHT_AUGMENT) if probes_augment(cfg, train, shift) else (cfg.augment,)
    # The network's head decides the augmentations; the summary head is scored as a linear model fitted to
    # convergence on the fold model's summaries (its thresholds fitted on the fold's train part).
    kwargs = {**model_kwargs, "members": 1, "distribution": DEFAULT_LEVELS if decide_summary else 0}
    result = ProbeResult(steps=steps, chosen=candidates[0])
    for candidate in candidates:
        correct = [0, 0]  # network head, summary head
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
            held_out = part.subset(part.splits["test"])
            correct[0] += _network_correct(model.eval(), held_out)
            if decide_summary:
                correct[1] += _summary_correct(model, part.subset(part.splits["train"]), held_out)
        result.accuracy[candidate] = correct[0] / len(train)
        if decide_summary:
            result.summary_accuracy[candidate] = correct[1] / len(train)
    if len(candidates) == 2:
        result.chosen = choose_augment(result.accuracy)
    if decide_summary:
        result.distribution = choose_distribution(result.accuracy[result.chosen],
                                                  result.summary_accuracy[result.chosen], DEFAULT_LEVELS)
    return result


def _batches(data: TimeSeriesSet, batch: int = 256):
    import torch

    for start in range(0, len(data), batch):
        x = torch.as_tensor(np.asarray(data.x[start:start + batch]), dtype=torch.float32)
        mask = None if data.mask is None else torch.as_tensor(np.asarray(data.mask[start:start + batch]))
        yield x, mask, torch.as_tensor(np.asarray(data.y[start:start + batch]))


def _network_correct(model, held_out: TimeSeriesSet) -> int:
    """The network head's correct predictions on ``held_out`` (the summary head, if any, left out)."""
    import torch

    correct = 0
    with torch.no_grad():
        for x, mask, y in _batches(held_out):
            correct += int((model.forward_parts(x, mask)[0].argmax(-1) == y).sum())
    return correct


def _summary_correct(model, train: TimeSeriesSet, held_out: TimeSeriesSet) -> int:
    """The summary head's correct predictions on ``held_out``, the head fitted to convergence on ``train``'s
    summaries (the fold model's thresholds): a multinomial logistic regression with an L2 penalty
    ``|W|^2 / (2 S)`` (sklearn's C = 1), by L-BFGS. The head in the short run trains for 1/3 of the steps like
    the network and stays far from converged on small sets (ACSF1: 0.67 held-out this way against 0.92 on the
    test part after a full run); a linear model on fixed features is cheap to fit exactly."""
    import torch

    def features(data):
        with torch.no_grad():
            parts = [(model.distribution_summary(x, mask).flatten(1).double(), y) for x, mask, y in _batches(data)]
        return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])

    x, y = features(train)
    x_test, y_test = features(held_out)
    classes = model.out_features
    weight = torch.zeros(x.shape[1], classes, dtype=torch.float64, requires_grad=True)
    bias = torch.zeros(classes, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([weight, bias], max_iter=200, line_search_fn="strong_wolfe")

    def objective():
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(x @ weight + bias, y) + (weight ** 2).sum() / (2 * len(y))
        loss.backward()
        return loss

    optimizer.step(objective)
    with torch.no_grad():
        return int(((x_test @ weight + bias).argmax(-1) == y_test).sum())


def choose_distribution(network: float, summary: float, levels: int) -> int:
    """The probe's rule for the summary's head: ``levels`` (the head joins the prediction) when its held-out
    accuracy ``summary`` is more than :data:`SUMMARY_MARGIN` above the network head's ``network``, else 0."""
    return levels if summary - network > SUMMARY_MARGIN + 1e-9 else 0


def choose_augment(accuracy: dict) -> str:
    """The probe's rule on held-out accuracies ``{"auto": a, LIGHT_AUGMENT: b}``: the light list when
    ``b - a >= PROBE_MARGIN``, else ``"auto"``."""
    return LIGHT_AUGMENT if accuracy[LIGHT_AUGMENT] - accuracy["auto"] >= PROBE_MARGIN - 1e-9 else "auto"


__all__ = ["LIGHT_AUGMENT", "PROBE_FOLDS", "PROBE_FRACTION", "PROBE_MARGIN", "SUMMARY_MARGIN", "ProbeResult",
           "choose_augment", "choose_distribution", "fold_ids", "needs_probe", "probe_augment", "probes_augment",
           "probes_summary"]
