"""The training recipe: seeding, the PoolingModule with its normalisation, and the Lightning Trainer: a fixed
schedule (:mod:`.schedule`), no early stopping, the last checkpoint (with the EMA, for ``--resume``) and CSV
logs. A validation part, when the data has one, is only reported: it chooses neither the checkpoint nor when
to stop (on small train splits it is a handful of samples). Needs the ``train`` extra."""

from __future__ import annotations

import logging
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

from .config import TrainConfig
from .module import PoolingModule
from .schedule import Schedule, plan_schedule

# Lightning's advice that does not apply to small CPU runs; silenced inside train_module only.
_QUIET_WARNINGS = (".*does not have many workers.*", ".*The number of training batches.*", ".*GPU available.*",
                   ".*LeafSpec.*", ".*Experiment logs directory.*", ".*exists and is not empty.*")
_LIGHTNING_LOGGERS = ("lightning.pytorch", "lightning.fabric", "lightning")


@dataclass
class Trained:
    """What :func:`train_module` returns: the saved weights, where they came from, and how long it took."""

    state_dict: dict | None  # the model's final (EMA) weights (keys of the model); None off global rank 0
    best_checkpoint: str | None
    seconds: float
    epochs: int
    is_global_zero: bool


def schedule_for(cfg: TrainConfig, n_train: int) -> Schedule:
    """The run's schedule: ``cfg.steps`` optimizer steps (or exactly ``cfg.epochs`` epochs) on ``n_train``."""
    return plan_schedule(n_train, cfg.batch_size, steps=cfg.steps, epochs=cfg.epochs)


def build_module(cfg: TrainConfig, model_kwargs: dict, train) -> PoolingModule:
    """Seed everything with ``cfg.seed``, build the module and fit the model's normalisation on ``train``."""
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    module = PoolingModule(model_kwargs, lr=cfg.lr, weight_decay=cfg.weight_decay, warmup=cfg.warmup,
                           label_smoothing=cfg.label_smoothing, grad_clip=cfg.grad_clip, ema=cfg.ema,
                           augment=cfg.augment, seed=cfg.seed)
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
        checkpoint = ModelCheckpoint(dirpath=out_dir / "checkpoints", filename="last", monitor=None, save_top_k=1,
                                     save_on_train_epoch_end=True, enable_version_counter=False)
        trainer = L.Trainer(
            max_epochs=schedule.epochs, accelerator=cfg.accelerator, devices=_devices(cfg.devices),
            strategy=cfg.strategy, callbacks=[checkpoint], limit_val_batches=1.0 if has_val else 0,
            logger=CSVLogger(out_dir, name="logs", version=""), enable_progress_bar=cfg.progress and not quiet,
            enable_model_summary=False, log_every_n_steps=1, deterministic=False, num_sanity_val_steps=0,
        )
        start = time.perf_counter()
        trainer.fit(module, datamodule=datamodule, ckpt_path=ckpt_path)
        seconds = time.perf_counter() - start
    if not trainer.is_global_zero:
        return Trained(None, None, seconds, int(trainer.current_epoch), False)
    # The weights at the end of the schedule (their EMA): no checkpoint is chosen on a validation score.
    weights = {k: v.detach().cpu().clone() for k, v in module.averaged.state_dict().items()}
    return Trained(weights, checkpoint.best_model_path or None, seconds, int(trainer.current_epoch), True)


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


__all__ = ["Trained", "build_module", "schedule_for", "train_module"]
