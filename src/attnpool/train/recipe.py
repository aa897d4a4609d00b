"""The training recipe: seeding, the PoolingModule with its normalisation, and the Lightning Trainer: a fixed
schedule and ensemble size from the data's sizes (:mod:`.schedule`, :func:`plan_for`), no early stopping,
the last checkpoint (with the EMA, for ``--resume``) and CSV logs. A validation part, when the data has one,
is only reported: it chooses neither the checkpoint nor when to stop (on small train splits it is a handful
of samples). Needs the ``train`` extra."""

from __future__ import annotations

import logging
import math
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import lightning as L
import numpy as np
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger

from ..errors import ConfigError
from ..models import SpatioTemporalNet
from .batching import default_batch_size
from .config import TrainConfig
from .module import PoolingModule
from .schedule import Schedule, ensemble_size, plan_schedule, resolve_augment, shift_steps

# Lightning's advice that does not apply to small CPU runs; silenced inside train_module only.
_QUIET_WARNINGS = (".*does not have many workers.*", ".*The number of training batches.*", ".*GPU available.*",
                   ".*LeafSpec.*", ".*Experiment logs directory.*", ".*exists and is not empty.*",
                   ".*overridden `transfer_batch_to_device`.*")
_LIGHTNING_LOGGERS = ("lightning.pytorch", "lightning.fabric", "lightning")


@dataclass
class Trained:
    """What :func:`train_module` returns: the saved weights, where they came from, and how long it took."""

    state_dict: dict | None  # the model's final (EMA) weights (keys of the model); None off global rank 0
    best_checkpoint: str | None
    seconds: float
    epochs: int
    is_global_zero: bool
    samples_per_second: float | None = None  # training batches only (validation passes excluded), this process
    first_batch: float | None = None  # time.perf_counter() when the first training batch started


class TrainClock(L.Callback):
    """Times the training batches of every epoch (from the epoch's start to its last batch, so the validation
    pass and checkpoint writing are left out) and counts their samples: the throughput that
    benchmarks/data_scale.py compares with a plain PyTorch loop."""

    def __init__(self):
        self.seconds, self.samples, self._start, self.first_batch = 0.0, 0, None, None

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if self.first_batch is None:
            self.first_batch = time.perf_counter()

    def on_train_epoch_start(self, trainer, pl_module):
        self._start = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self.samples += len(batch["y"])
        self._last = time.perf_counter()

    def on_train_epoch_end(self, trainer, pl_module):
        if self._start is not None and getattr(self, "_last", None) is not None and self._last >= self._start:
            self.seconds += self._last - self._start
        self._start = None

    @property
    def samples_per_second(self) -> float | None:
        return self.samples / self.seconds if self.seconds > 0 else None


def work_per_sample(model_kwargs: dict) -> float:
    """One sample's cost for one member, in the work budget's units: ``N * ceil(T / stride) * depth`` (nodes,
    the steps the encoder's blocks run on, its blocks; an encoder without ``depth``/``stride`` counts 1).
    The net is built on the meta device (no memory, no random numbers drawn) to read them."""
    kwargs = {k: v for k, v in model_kwargs.items() if k != "members"}
    with torch.device("meta"):
        encoder = SpatioTemporalNet(**kwargs).encoder
    steps = kwargs.get("steps") or 1
    return float(kwargs["n_nodes"] * math.ceil(steps / getattr(encoder, "stride", 1)) * getattr(encoder, "depth", 1))


def schedule_for(cfg: TrainConfig, n_train: int, model_kwargs: dict | None = None) -> Schedule:
    """The run's schedule on ``n_train`` samples: the rule of :mod:`.schedule`, capped by the work budget for the
    model ``model_kwargs`` describe (no cap without them), or ``cfg.steps`` steps / exactly ``cfg.epochs`` epochs."""
    work = None if model_kwargs is None else work_per_sample(model_kwargs)
    return plan_schedule(n_train, batch_size_for(cfg, n_train, model_kwargs), steps=cfg.steps, epochs=cfg.epochs,
                         work_per_sample=work)


def batch_size_for(cfg: TrainConfig, n_train: int, model_kwargs: dict | None = None) -> int:
    """``cfg.batch_size``, or (None) the rule of :mod:`.batching` on the training samples and the model's nodes
    and steps (16 when the model is not known)."""
    if cfg.batch_size is not None:
        return cfg.batch_size
    if model_kwargs is None:
        return 16
    return default_batch_size(max(1, n_train), int(model_kwargs["n_nodes"]), int(model_kwargs.get("steps") or 1))


def plan_for(cfg: TrainConfig, n_train: int, model_kwargs: dict) -> tuple[Schedule, int]:
    """The schedule and the ensemble size: ``cfg.ensemble`` if it is an int, else (``"auto"``)
    :func:`~.schedule.ensemble_size` of one member's work."""
    schedule = schedule_for(cfg, n_train, model_kwargs)
    members = cfg.ensemble if isinstance(cfg.ensemble, int) else ensemble_size(schedule.work)
    return schedule, members


def shift_for(cfg: TrainConfig, task: str, train) -> int:
    """The circular shift ``k`` of the run (:func:`~.schedule.shift_steps`): by the rule under ``augment="auto"``;
    ``"shift"`` named explicitly takes ``floor(0.1 T)`` at any T, and is refused on a set with padding."""
    if "shift" not in resolve_augment(cfg.augment, task):
        return 0
    mask = train.mask  # a forecasting set's windows are views: never materialise x to read its length
    padded = mask is not None and not bool(np.asarray(mask).all())
    n_steps = int(train.n_steps)
    if cfg.augment != "auto" and padded:
        raise ConfigError(f"augment 'shift' needs series without padding (a circular shift would move the padding "
                          f"into the series), got augment={cfg.augment!r} on a set with masked steps; leave 'shift' "
                          f"out or use 'auto'", key="augment")
    return shift_steps(n_steps, padded, rule=cfg.augment == "auto")


def build_module(cfg: TrainConfig, model_kwargs: dict, train) -> PoolingModule:
    """Seed everything with ``cfg.seed``, build the module and fit the model's normalisation on ``train``."""
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    module = PoolingModule(model_kwargs, lr=cfg.lr, weight_decay=cfg.weight_decay, warmup=cfg.warmup,
                           label_smoothing=cfg.label_smoothing, grad_clip=cfg.grad_clip, ema=cfg.ema,
                           augment=cfg.augment, shift=shift_for(cfg, train.task, train), seed=cfg.seed)
    if train.windows is not None:  # windows over a series: statistics streamed over it, no window built
        module.model.set_normalization(*train.windows.input_statistics())
    else:
        y = torch.from_numpy(train.y) if train.task == "regress" else None
        mask = None if train.mask is None else torch.from_numpy(np.asarray(train.mask))
        module.model.fit_normalization(torch.from_numpy(train.x), mask, y)
    return module


def train_module(module: PoolingModule, datamodule: L.LightningDataModule, cfg: TrainConfig, out_dir: Path, *,
                 schedule: Schedule, quiet: bool = False, ckpt_path: str | None = None) -> Trained:
    """Fit ``module`` on ``datamodule``'s train loader for ``schedule.epochs`` epochs, reporting the
    val loader's metrics when it has samples; the last checkpoint (every epoch) and logs go under ``out_dir``.
    ``ckpt_path``: a Lightning checkpoint to continue from (epoch, optimiser, schedule and EMA state; the CSV
    log is appended to)."""
    has_val = len(datamodule.data.splits.get("val", ())) > 0
    with _quiet_lightning():
        # One file, checkpoints/last.ckpt, rewritten every epoch: the latest state (monitor None keeps the newest).
        # Not save_last=True with save_top_k=0: Lightning 2.6 then writes last.ckpt only at the end of training,
        # and a run killed mid-way would have nothing to resume from.
        clock = TrainClock()
        checkpoint = ModelCheckpoint(dirpath=out_dir / "checkpoints", filename="last", monitor=None, save_top_k=1,
                                     save_on_train_epoch_end=True, enable_version_counter=False)
        trainer = L.Trainer(
            max_epochs=schedule.epochs, accelerator=cfg.accelerator, devices=_devices(cfg.devices),
            num_nodes=cfg.num_nodes, strategy=cfg.strategy, callbacks=[checkpoint, clock],
            limit_train_batches=1.0 if cfg.limit_batches is None else cfg.limit_batches,
            limit_val_batches=(1.0 if cfg.limit_batches is None else cfg.limit_batches) if has_val else 0,
            logger=CSVLogger(out_dir, name="logs", version=""), enable_progress_bar=cfg.progress and not quiet,
            enable_model_summary=False, log_every_n_steps=1, deterministic=False, num_sanity_val_steps=0,
        )
        start = time.perf_counter()
        trainer.fit(module, datamodule=datamodule, ckpt_path=ckpt_path)
        seconds = time.perf_counter() - start
    if not trainer.is_global_zero:
        return Trained(None, None, seconds, int(trainer.current_epoch), False, clock.samples_per_second,
                       clock.first_batch)
    # The weights at the end of the schedule (their EMA): no checkpoint is chosen on a validation score.
    weights = {k: v.detach().cpu().clone() for k, v in module.averaged.state_dict().items()}
    return Trained(weights, checkpoint.best_model_path or None, seconds, int(trainer.current_epoch), True,
                   clock.samples_per_second, clock.first_batch)


@contextmanager
def _quiet_lightning() -> Iterator[None]:
    """Lightning's info logs and advice off for the block only; the caller's warning filters and log levels
    come back afterwards."""
    loggers = [logging.getLogger(name) for name in _LIGHTNING_LOGGERS]
    levels = [logger.level for logger in loggers]
    with warnings.catch_warnings():
        for pattern in _QUIET_WARNINGS:
            warnings.filterwarnings("ignore", message=pattern)
        for logger in loggers:
            logger.setLevel(logging.WARNING)
        try:
            yield
        finally:
            for logger, level in zip(loggers, levels):
                logger.setLevel(level)


def _devices(devices):
    text = str(devices)
    return int(text) if text.isdigit() else text


__all__ = ["TrainClock", "Trained", "batch_size_for", "build_module", "plan_for", "schedule_for", "shift_for", "train_module",
           "work_per_sample"]
