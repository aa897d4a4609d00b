"""``fit``: train a model as a config says and write a complete run directory."""

from __future__ import annotations

import dataclasses
import inspect
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..data import TimeSeriesSet, to_npz
from ..errors import ConfigError, Interrupted, RunError, TrainingDiverged
from ..models import SpatioTemporalNet, build_model
from ..train import TrainConfig
from .inputs import load_dataset
from .predict import evaluate_split
from .rundir import (
    CONFIG_FILE,
    DATA_FILE,
    METRICS_FILE,
    MODEL_FILE,
    RunLock,
    check_run_dir,
    mark_complete,
    prepare_run_dir,
    run_state,
    save_model,
    write_json,
)


@dataclass
class RunResult:
    """What :func:`fit` returns: the run directory, its metrics and the trained model (``None`` off rank 0)."""

    run_dir: Path
    metrics: dict
    model: SpatioTemporalNet | None
    data: object


def fit(cfg: TrainConfig, out_dir: str | os.PathLike, *, overwrite: bool = False, quiet: bool = False,
        resume: bool = False) -> RunResult:
    """Train a model as ``cfg`` says, write the run directory ``out_dir`` and return its metrics.

    ``cfg.data`` is a source (a file, ``uea:<Name>``, ``synthetic:peaks``) or a :class:`TimeSeriesSet` in memory
    (:func:`attnpool.data.from_arrays`); a set is written into the run as ``data.npz``.

    ``cfg`` is checked first (:meth:`TrainConfig.validate`) and never changed: the resolved copy (with the task
    read off the data) is what ``out_dir/config.json`` holds. The directory is marked ``INCOMPLETE`` until
    ``model.pt`` and ``metrics.json`` are written (see :mod:`.rundir`), and locked against a second writer. A
    failed run that created ``out_dir`` removes it; an interrupted one (SIGINT, SIGTERM, kill) keeps it for
    ``resume``, which continues from ``checkpoints/last.ckpt`` with the same config.

    Raises:
        ConfigError: a bad option. DataError: bad data. RunError: ``out_dir`` already holds a finished run, is
        being written by another process, or (``resume``) holds no run or one with a different config.
        TrainingDiverged: the loss became NaN or infinite.
    """
    started = time.perf_counter()
    cfg.validate()
    out_dir = Path(out_dir)
    ds = load_dataset(cfg)  # before Lightning's slow import, so bad data is reported at once

    _check_engine(cfg)  # before the run directory exists, so a wrong device leaves nothing behind

    # Under DDP every process runs fit; only global rank 0 checks, locks, clears and writes the run directory.
    if not rank_zero():
        out_dir.mkdir(parents=True, exist_ok=True)
        return _train(cfg, ds, out_dir, quiet=quiet, ckpt_path=_resume_checkpoint(out_dir) if resume else None,
                          started=started)
    existed = out_dir.exists()
    check_run_dir(out_dir, overwrite, resume)
    out_dir.mkdir(parents=True, exist_ok=True)
    with RunLock(out_dir):  # refuses a second writer before anything here is touched
        try:
            # Checked again under the lock: another writer may have finished this run since the first look.
            check_run_dir(out_dir, overwrite, resume)
            ckpt_path = None
            if resume:
                check_same_config(cfg, ds, out_dir)
                ckpt_path = _resume_checkpoint(out_dir)
            prepare_run_dir(out_dir, overwrite, resume)
            if isinstance(cfg.data, TimeSeriesSet) and not resume:
                # A run trained on arrays keeps them (with their split), so evaluate / explain find its data as
                # they find a file's; config.json names this file.
                to_npz(ds, out_dir / DATA_FILE)
            return _train(cfg, ds, out_dir, quiet=quiet, ckpt_path=ckpt_path, write_config=not resume, started=started)
        except Interrupted as err:
            if not existed and not (out_dir / CONFIG_FILE).exists():
                shutil.rmtree(out_dir, ignore_errors=True)
            err.kept = _kept(out_dir)
            raise
        except BaseException:
            # A failed fresh run leaves nothing that blocks or misleads (a retry needs no --overwrite); a run
            # the user already had (resume, or --out a folder with other files) stays, marked INCOMPLETE.
            if not existed:
                shutil.rmtree(out_dir, ignore_errors=True)
            raise


def _train(cfg: TrainConfig, ds: TimeSeriesSet, out_dir: Path, *, quiet: bool, ckpt_path: str | None,
           write_config: bool = True, started: float | None = None) -> RunResult:
    from lightning.pytorch.utilities.exceptions import MisconfigurationException

    from ..data.datamodule import SeriesDataModule
    from ..train.recipe import build_module, plan_for, shift_for, train_module
    from .augment_probe import needs_probe, probe_augment

    torch.set_num_threads(cfg.threads)
    cfg = dataclasses.replace(cfg, task=ds.task)
    if isinstance(cfg.data, TimeSeriesSet):
        cfg = dataclasses.replace(cfg, data=str((out_dir / DATA_FILE).resolve()))
    kwargs = model_kwargs_for(cfg, ds)
    schedule, _ = plan_for(cfg, len(ds.splits["train"]), kwargs)
    if cfg.limit_batches is not None:  # Lightning stops each epoch there; the schedule's steps follow
        schedule = dataclasses.replace(schedule, batches_per_epoch=min(schedule.batches_per_epoch, cfg.limit_batches))
    train = ds.subset(ds.splits["train"])
    probe, probe_seconds = None, None
    shift = shift_for(cfg, ds.task, train)
    if needs_probe(cfg, train, shift):
        # a resumed run reuses the outcome its config.json recorded (the probe is not run twice)
        probe = None if ckpt_path is None else _recorded_probe(out_dir)
        if probe is None:
            probe_started = time.perf_counter()
            probe = probe_augment(cfg, train, kwargs, schedule.steps, shift=shift)
            probe_seconds = time.perf_counter() - probe_started
        if cfg.distribution == "auto":
            kwargs["distribution"] = probe.distribution
            if probe.distribution:
                kwargs["summary_weight"] = probe.summary_weight
    module = build_module(cfg if probe is None else dataclasses.replace(cfg, augment=probe.chosen), kwargs, train)
    if write_config and rank_zero():
        write_json(out_dir / CONFIG_FILE, resolved_config(cfg, kwargs, ds, schedule=schedule, shift=module.shift,
                                                          probe=probe, log_scale=log_scaled(module.model, ds)))
    data = SeriesDataModule(ds, schedule.batch_size, cfg.seed, drop_last=schedule.drop_last)
    try:
        trained = train_module(module, data, cfg, out_dir, schedule=schedule, quiet=quiet, ckpt_path=ckpt_path)
    except MisconfigurationException as err:  # Lightning's word for a bad accelerator / devices / strategy
        raise ConfigError(f"Lightning refused the engine options (accelerator={cfg.accelerator!r}, devices="
                          f"{cfg.devices!r}, strategy={cfg.strategy!r}): {str(err).splitlines()[0]}") from None
    if not trained.is_global_zero:
        return RunResult(out_dir, {}, None, ds)
    bad = [k for k, v in trained.state_dict.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise TrainingDiverged(f"training diverged: the trained weights hold NaN or inf ({bad[0]}); no model was "
                               f"saved; try a lower --lr (now {cfg.lr:g})")
    model = build_model(kwargs)
    model.load_state_dict(trained.state_dict)
    model.eval()
    save_model(out_dir / MODEL_FILE, model, kwargs, ds)
    # --limit-batches caps the final evaluation too (a first look at big data); "n" says how much each covers
    metrics = {split: evaluate_split(model, ds, split, max_batches=cfg.limit_batches) for split in ("val", "test")}
    if cfg.limit_batches is not None:
        metrics["limited_to_batches"] = cfg.limit_batches
    metrics["train_seconds"] = round(trained.seconds, 3)
    if probe_seconds is not None:  # the augmentation probe's short models, before training (augment_probe.py)
        metrics["probe_seconds"] = round(probe_seconds, 3)
    if trained.samples_per_second is not None:  # training batches only, one process (benchmarks/data_scale.py)
        metrics["train_samples_per_second"] = round(trained.samples_per_second, 1)
    if trained.first_batch is not None and started is not None:  # data loading, statistics, model and Lightning set-up
        metrics["seconds_to_first_batch"] = round(trained.first_batch - started, 3)
    metrics["epochs"] = trained.epochs
    metrics["steps"] = schedule.steps
    # The saved weights are the EMA at the last step; this checkpoint holds them (and what --resume needs).
    best = trained.best_checkpoint
    metrics["best_checkpoint"] = os.path.relpath(best, out_dir) if best else None
    write_json(out_dir / METRICS_FILE, metrics)  # metrics.json last, then the marker goes: the commit point
    mark_complete(out_dir)
    return RunResult(out_dir, metrics, model, ds)


def rank_zero() -> bool:
    """Whether this process is global rank 0, known before the Trainer exists: Lightning's own rank (set in the
    processes it launches, or from ``RANK``/``LOCAL_RANK``), and ``NODE_RANK`` of a multi-node launch (on
    machine 1 and up, Lightning's rank reads 0 until the Trainer connects: without this, every machine would
    lock and write the run directory)."""
    from lightning.pytorch.utilities import rank_zero_only

    if "RANK" in os.environ:
        return os.environ["RANK"].strip() in ("", "0")
    node = os.environ.get("NODE_RANK", os.environ.get("GROUP_RANK", "0")).strip() or "0"
    return rank_zero_only.rank == 0 and node == "0"


# Options that change how a run is computed, not what it computes: a resumed run may give them anew.
_ENGINE_ONLY = ("threads", "progress")


def check_same_config(cfg: TrainConfig, ds: TimeSeriesSet, out_dir: Path) -> None:
    """``--resume``: refuse a config that differs from the run's ``config.json``, naming the differing keys."""
    saved = json.loads((out_dir / CONFIG_FILE).read_text())
    saved.pop("resolved", None)
    now = dataclasses.replace(cfg, task=ds.task).to_dict()
    keys = sorted(k for k in set(saved) | set(now) if k not in _ENGINE_ONLY and saved.get(k) != now.get(k))
    if keys:
        diff = "; ".join(f"{k}: run {saved.get(k)!r}, now {now.get(k)!r}" for k in keys)
        raise RunError(f"--resume: the options differ from {out_dir / CONFIG_FILE} in {', '.join(keys)} ({diff}); "
                       f"resume with the run's own options (attnpool train --out {out_dir} --resume)")


def _resume_checkpoint(out_dir: Path) -> str | None:
    """The checkpoint to continue from: ``last.ckpt`` if it loads, else ``best.ckpt``, else None (start over).

    A kill during Lightning's checkpoint write can leave a truncated file (Lightning writes in place)."""
    for name in ("last.ckpt", "best.ckpt"):
        path = out_dir / "checkpoints" / name
        if not path.is_file():
            continue
        try:
            torch.load(path, map_location="cpu", weights_only=False)  # our own run's file, as Lightning reads it
        except Exception:  # noqa: BLE001 - truncated: try the next
            continue
        return str(path)
    return None


def _recorded_probe(out_dir: Path):
    """The augmentation probe's outcome that ``out_dir/config.json`` recorded, or None."""
    from .augment_probe import ProbeResult

    try:
        return ProbeResult.from_dict(json.loads((out_dir / CONFIG_FILE).read_text())["resolved"]["schedule"]["augment_probe"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _kept(out_dir: Path) -> str:
    last = out_dir / "checkpoints" / "last.ckpt"
    if not (out_dir / CONFIG_FILE).exists():
        return f"nothing kept in {out_dir} (training had not started); run the same command again"
    what = "its checkpoints" if last.exists() else "its config (no checkpoint yet)"
    if run_state(out_dir) == "complete":
        return f"{out_dir} is complete"
    return f"kept {out_dir} (unfinished, with {what}); continue with: attnpool train --out {out_dir} --resume"


def _check_engine(cfg: TrainConfig) -> None:
    """Refuse an accelerator or strategy Lightning does not know, or a GPU torch cannot see, before anything is
    written (Lightning would say it later, in a traceback, after the run directory was made)."""
    from lightning.pytorch.accelerators import AcceleratorRegistry
    from lightning.pytorch.strategies import StrategyRegistry

    name = str(cfg.accelerator).lower()
    known = ["auto", "gpu", *AcceleratorRegistry.available_accelerators()]
    if name not in known:
        raise ConfigError(f"accelerator must be one of {', '.join(sorted(set(known)))}, got {cfg.accelerator!r}",
                          key="accelerator")
    strategies = ["auto", *StrategyRegistry.available_strategies()]
    if cfg.strategy not in strategies:
        raise ConfigError(f"strategy must be one of auto, ddp, ddp_spawn, ... ({len(strategies)} names Lightning "
                          f"knows), got {cfg.strategy!r}", key="strategy")
    if name in ("gpu", "cuda") and not torch.cuda.is_available():
        raise ConfigError(f"accelerator {cfg.accelerator!r} needs a CUDA GPU, and torch sees none "
                          f"(torch.cuda.is_available() is False); use --accelerator cpu", key="accelerator")
    if name == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        raise ConfigError(f"accelerator {cfg.accelerator!r} needs Apple's MPS, which torch does not see here; "
                          f"use --accelerator cpu", key="accelerator")


def model_kwargs_for(cfg: TrainConfig, ds: TimeSeriesSet) -> dict:
    """The SpatioTemporalNet arguments for this config and data, with the recipe's rules resolved: ``resconv``'s
    stem stride (``cfg.stride``, or :func:`~attnpool.models.resconv.stride_for_length` of the longest series) and
    the ensemble size ``members`` (``cfg.ensemble``, or from the work budget when it is ``"auto"``)."""
    from ..models import ENCODERS
    from ..models.registry import registry_key
    from ..models.resconv import stride_for_length
    from ..train.recipe import plan_for

    out = ds.n_classes if ds.task == "classify" else int(ds.y.shape[-1])  # classes, D or the horizon H
    per_node = ds.task == "regress" and ds.y.ndim == 3  # y [S, N, D]: one target vector per node
    adjacency = None
    if cfg.mixer == "graph" and ds.adjacency is not None:
        adjacency = np.asarray(ds.adjacency, dtype=np.float32).tolist()
    stride = cfg.stride
    if stride is None and "stride" in inspect.signature(ENCODERS[registry_key(cfg.encoder)]).parameters:
        stride = stride_for_length(int(ds.n_steps))
    distribution = cfg.distribution
    if distribution == "auto":  # 0 until the probe decides (augment_probe.probes_summary), as it does for classify
        distribution = 0
    elif distribution and ds.task != "classify":
        raise ConfigError(f"distribution (the summary head) is for classification, got distribution={distribution} "
                          f"with task {ds.task!r}; use 0 or auto", key="distribution")
    elif distribution and ds.windows is not None:
        raise ConfigError(f"distribution needs the training windows in memory to place its thresholds, got "
                          f"distribution={distribution} on windows over a long series ({ds.source}); use 0",
                          key="distribution")
    kwargs = dict(
        n_nodes=ds.n_nodes, n_features=ds.n_features, task=ds.task, out_features=out, encoder=cfg.encoder,
        pool=cfg.pool, mixer=cfg.mixer, channels=cfg.channels, per_node=per_node,
        adjacency=adjacency, dropout=cfg.dropout, pool_kwargs=dict(cfg.pool_kwargs),
        # the longest series: resconv's depth follows it (recorded, so model.pt rebuilds the same network)
        steps=int(ds.n_steps), stride=stride, distribution=int(distribution), members=1,
    )
    kwargs["members"] = plan_for(cfg, len(ds.splits["train"]), kwargs)[1]
    return kwargs


def log_scaled(model, ds: TimeSeriesSet) -> list[dict]:
    """The node features the model's log rule reads as ``log1p(x / s)`` (:mod:`attnpool.models.input_scale`):
    ``[{"node", "feature", "scale"}]`` by name, empty when none."""
    scales = model.x_log_scale
    return [{"node": str(ds.node_names[n]), "feature": str(ds.feature_names[f]), "scale": float(scales[n, f])}
            for n, f in (scales > 0).nonzero().tolist()]


def resolved_config(cfg: TrainConfig, model_kwargs: dict, ds: TimeSeriesSet, *, schedule=None,
                    shift: int | None = None, probe=None, log_scale: list[dict] | None = None) -> dict:
    """``config.json``: every option, plus what training resolved about the model, the data and (when given)
    the schedule: epochs, batches per epoch, batch size, optimizer steps, the work of one member, the
    circular shift and the augmentations applied (``augment``; ``mixup_alpha`` when mixup is one), the
    augmentation probe's measurements and choice (``augment_probe``, when it ran: :mod:`.augment_probe`), and
    the features read on a log scale (``log_scale``, :func:`log_scaled`)."""
    resolved = cfg.to_dict()
    resolved["resolved"] = {"model": {k: v for k, v in model_kwargs.items() if k != "adjacency"},
                            "data": ds.summary(), "node_names": list(ds.node_names),
                            "class_names": list(ds.class_names) if ds.class_names else None}
    if log_scale is not None:
        resolved["resolved"]["log_scale"] = log_scale
    if schedule is not None:
        from ..train.schedule import MIXUP_ALPHA, resolve_augment

        used = cfg.augment if probe is None else probe.chosen
        augment = [a for a in resolve_augment(used, ds.task) if a != "shift" or shift]
        resolved["resolved"]["schedule"] = {"epochs": schedule.epochs, "batches_per_epoch": schedule.batches_per_epoch,
                                            "batch_size": schedule.batch_size, "steps": schedule.steps,
                                            "work": schedule.work, "shift": shift, "augment": augment,
                                            "mixup_alpha": MIXUP_ALPHA if "mixup" in augment else None}
        if probe is not None:
            resolved["resolved"]["schedule"]["augment_probe"] = probe.to_dict()
    return resolved


__all__ = ["RunResult", "check_same_config", "fit", "log_scaled", "model_kwargs_for", "resolved_config"]
