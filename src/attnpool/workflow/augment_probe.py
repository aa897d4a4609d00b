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

With ``distribution="auto"`` the same probe also decides the distribution summary's head on every in-memory
classification set (one candidate, the run's own list, where the shift rule does not apply): each held-out fold
is predicted by the fold model's network head and by a logistic regression on the fold's distribution summaries,
and :func:`choose_summary_weight` sets the summary head's share of the prediction from the two heads' calibrated
held-out probabilities (0: no head). docs/research/issue9-recipe-r6.md has the measurements.
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
#: The largest share of the prediction the distribution summary's head may get: the network's (and so its
#: attention's) share stays at least 1 - this.
MAX_SUMMARY_WEIGHT = 0.75
#: The shares of the summary head the probe considers: 0 (no head), 0.05, ..., :data:`MAX_SUMMARY_WEIGHT`.
SUMMARY_WEIGHTS = tuple(round(0.05 * k, 2) for k in range(int(round(MAX_SUMMARY_WEIGHT / 0.05)) + 1))
#: A larger share must lower the calibrated held-out log loss by more than this (nats per sample) to be chosen
#: over a smaller one: heads that both separate the held-out folds perfectly (BasicMotions) keep the network alone.
SUMMARY_TOLERANCE = 1e-4
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
    #: the summary's thresholds K the run uses: DEFAULT_LEVELS when its head got a share, 0 when not or not probed
    distribution: int = 0
    #: the summary head's share of the prediction (:func:`choose_summary_weight`; 0 with no head)
    summary_weight: float = 0.0

    def to_dict(self) -> dict:
        return {"accuracy": {k: round(v, 4) for k, v in self.accuracy.items()}, "steps": self.steps,
                "folds": self.folds, "margin": PROBE_MARGIN, "chosen": self.chosen,
                "summary_accuracy": {k: round(v, 4) for k, v in self.summary_accuracy.items()},
                "distribution": self.distribution, "summary_weight": self.summary_weight}

    @classmethod
    def from_dict(cls, saved: dict) -> ProbeResult:
        """The result :meth:`to_dict` wrote (``config.json``'s ``resolved.schedule.augment_probe``). A record from
        before the summary's decision reads as ``distribution`` 0, one from before its share as the fixed share
        :data:`~attnpool.models.network.SUMMARY_WEIGHT` those runs trained with."""
        from ..models.network import SUMMARY_WEIGHT

        distribution = int(saved.get("distribution", 0))
        weight = float(saved.get("summary_weight", SUMMARY_WEIGHT if distribution else 0.0))
        return cls(accuracy=dict(saved["accuracy"]), steps=int(saved["steps"]), folds=int(saved["folds"]),
                   chosen=str(saved["chosen"]), summary_accuracy=dict(saved.get("summary_accuracy", {})),
                   distribution=distribution, summary_weight=weight)


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
    import torch

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
    held_out_probs = {}  # candidate -> (network [S, classes], summary [S, classes] or None, labels [S])
    for candidate in candidates:
        probe_cfg = dataclasses.replace(cfg, augment=candidate, steps=steps, epochs=None, ensemble=1,
                                        progress=False, limit_batches=None)
        parts = []
        for fold in range(PROBE_FOLDS):
            part = dataclasses.replace(train, splits={"train": np.flatnonzero(folds != fold),
                                                      "test": np.flatnonzero(folds == fold)})
            fold_train, held_out = part.subset(part.splits["train"]), part.subset(part.splits["test"])
            schedule, _ = plan_for(probe_cfg, len(fold_train), kwargs)
            module = build_module(probe_cfg, kwargs, fold_train)
            data = SeriesDataModule(part, schedule.batch_size, cfg.seed, drop_last=schedule.drop_last)
            with tempfile.TemporaryDirectory(prefix="attnpool-probe-") as tmp:
                trained = train_module(module, data, probe_cfg, Path(tmp), schedule=schedule, quiet=True)
            model = build_model(kwargs)
            model.load_state_dict(trained.state_dict)
            network, labels = _network_probs(model.eval(), held_out)
            summary = _summary_probs(model, fold_train, held_out) if decide_summary else None
            parts.append((network, summary, labels))
        network, labels = torch.cat([p[0] for p in parts]), torch.cat([p[2] for p in parts])
        summary = torch.cat([p[1] for p in parts]) if decide_summary else None
        held_out_probs[candidate] = (network, summary, labels)
        result.accuracy[candidate] = _accuracy(network, labels)
        if decide_summary:
            result.summary_accuracy[candidate] = _accuracy(summary, labels)
    if len(candidates) == 2:
        result.chosen = choose_augment(result.accuracy)
    if decide_summary:
        result.summary_weight = choose_summary_weight(*held_out_probs[result.chosen])
        result.distribution = DEFAULT_LEVELS if result.summary_weight > 0 else 0
    return result


def _batches(data: TimeSeriesSet, batch: int = 256):
    import torch

    for start in range(0, len(data), batch):
        x = torch.as_tensor(np.asarray(data.x[start:start + batch]), dtype=torch.float32)
        mask = None if data.mask is None else torch.as_tensor(np.asarray(data.mask[start:start + batch]))
        yield x, mask, torch.as_tensor(np.asarray(data.y[start:start + batch]))


def _accuracy(probs, labels) -> float:
    return float((probs.argmax(-1) == labels).double().mean())


def _network_probs(model, held_out: TimeSeriesSet):
    """The network head's probabilities on ``held_out`` ``[S, classes]`` (float64; the summary head, if any, left
    out) and its labels ``[S]``."""
    import torch

    probs, labels = [], []
    with torch.no_grad():
        for x, mask, y in _batches(held_out):
            probs.append(torch.softmax(model.forward_parts(x, mask)[0].double(), -1))
            labels.append(y)
    return torch.cat(probs), torch.cat(labels)


def _summary_probs(model, train: TimeSeriesSet, held_out: TimeSeriesSet):
    """The summary head's probabilities on ``held_out`` ``[S, classes]`` (float64), the head fitted to convergence
    on ``train``'s summaries (the fold model's thresholds): a multinomial logistic regression with an L2 penalty
    ``|W|^2 / (2 S)`` (sklearn's C = 1), by L-BFGS. The head in the short run trains for 1/3 of the steps like
    the network and stays far from converged on small sets (ACSF1: 0.67 held-out this way against 0.92 on the
    test part after a full run); a linear model on fixed features is cheap to fit exactly."""
    import torch

    def features(data):
        with torch.no_grad():
            parts = [(model.distribution_summary(x, mask).flatten(1).double(), y) for x, mask, y in _batches(data)]
        return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])

    x, y = features(train)
    x_test, _ = features(held_out)
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
        return torch.softmax(x_test @ weight + bias, -1)


def calibrate(probs, labels):
    """``probs [S, classes]`` with one temperature ``t`` (``softmax(log probs / t)``, ``t`` on a log grid from
    e^-3 to e^3) chosen for the least log loss on ``labels [S]``: a head's held-out confidence set to what its
    accuracy supports (temperature scaling, Guo et al. 2017), so heads trained differently compare fairly."""
    import torch

    log_probs = torch.log(probs.double().clamp_min(torch.finfo(torch.float64).tiny))
    best, best_loss = probs.double(), math.inf
    for t in torch.exp(torch.linspace(-3.0, 3.0, 61, dtype=torch.float64)):
        scaled = torch.log_softmax(log_probs / t, -1)
        loss = float(-scaled.gather(1, labels[:, None]).mean())
        if loss < best_loss:
            best, best_loss = scaled.exp(), loss
    return best


def choose_summary_weight(network, summary, labels) -> float:
    """The probe's rule for the summary head's share ``w`` of the prediction ``(1 - w) p_network + w p_summary``,
    from both heads' held-out probabilities ``[S, classes]`` and the labels ``[S]``: each head calibrated
    (:func:`calibrate`), ``w`` in :data:`SUMMARY_WEIGHTS` with the least held-out log loss of the mixture, a larger
    share only when it lowers the loss by more than :data:`SUMMARY_TOLERANCE`. 0 means no summary head.

    Log loss weighs how sure each head is where it is right and wrong, which 2 folds of a small train part
    measure far more finely than accuracy (ACSF1: the network 0.60 and the summary 0.66 held-out, chosen share
    0.65; OSULeaf 0.91 and 0.74, share 0.05; measurements in docs/research/issue9-recipe-r6.md)."""
    import torch

    network, summary = calibrate(network, labels), calibrate(summary, labels)
    best_weight, best_loss = 0.0, math.inf
    for w in SUMMARY_WEIGHTS:
        mixed = (1.0 - w) * network + w * summary
        loss = float(-torch.log(mixed.gather(1, labels[:, None]).clamp_min(torch.finfo(torch.float64).tiny)).mean())
        if loss < best_loss - SUMMARY_TOLERANCE:
            best_weight, best_loss = w, loss
    return best_weight


def choose_augment(accuracy: dict) -> str:
    """The probe's rule on held-out accuracies ``{"auto": a, LIGHT_AUGMENT: b}``: the light list when
    ``b - a >= PROBE_MARGIN``, else ``"auto"``."""
    return LIGHT_AUGMENT if accuracy[LIGHT_AUGMENT] - accuracy["auto"] >= PROBE_MARGIN - 1e-9 else "auto"


__all__ = ["LIGHT_AUGMENT", "MAX_SUMMARY_WEIGHT", "PROBE_FOLDS", "PROBE_FRACTION", "PROBE_MARGIN", "SUMMARY_TOLERANCE",
           "SUMMARY_WEIGHTS", "ProbeResult", "calibrate", "choose_augment", "choose_summary_weight", "fold_ids",
           "needs_probe", "probe_augment", "probes_augment", "probes_summary"]
