"""``fit``: train a model as a config says and write a complete run directory."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..data import TimeSeriesSet, to_npz
from ..models import SpatioTemporalNet
from ..train import TrainConfig
from .inputs import load_dataset
from .predict import evaluate_split
from .rundir import CONFIG_FILE, DATA_FILE, METRICS_FILE, MODEL_FILE, check_run_dir, prepare_run_dir, save_model, write_json


@dataclass
class RunResult:
    """What :func:`fit` returns: the run directory, its metrics and the trained model (``None`` off rank 0)."""

    run_dir: Path
    metrics: dict
    model: SpatioTemporalNet | None
    data: object


def fit(cfg: TrainConfig, out_dir: str | os.PathLike, *, overwrite: bool = False, quiet: bool = False) -> RunResult:
    """Train a model as ``cfg`` says, write the run directory ``out_dir`` and return its metrics.

    ``cfg.data`` is a source (a file, ``uea:<Name>``, ``synthetic:peaks``) or a :class:`TimeSeriesSet` in memory
    (:func:`attnpool.data.from_arrays`); a set is written into the run as ``data.npz``.

    ``cfg`` is checked first (:meth:`TrainConfig.validate`) and never changed: the resolved copy (with the task
    read off the data) is what ``out_dir/config.json`` holds.

    Raises:
        ConfigError: a bad option. DataError: bad data. RunError: ``out_dir`` already holds a run.
    """
    cfg.validate()
    out_dir = Path(out_dir)
    ds = load_dataset(cfg)  # before Lightning's slow import, so bad data is reported at once

    from lightning.pytorch.utilities import rank_zero_only

    from ..data.datamodule import SeriesDataModule
    from ..train.recipe import build_module, train_module

    # Under DDP every process runs fit; only global rank 0 checks, clears and writes the run directory.
    is_rank_zero = rank_zero_only.rank == 0
    if is_rank_zero:
        check_run_dir(out_dir, overwrite)
        prepare_run_dir(out_dir, overwrite)
        if isinstance(cfg.data, TimeSeriesSet):
            # A run trained on arrays keeps them (with their split), so evaluate / explain find its data as they
            # find a file's; config.json names this file.
            to_npz(ds, out_dir / DATA_FILE)
    else:
        out_dir.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(cfg.threads)
    cfg = dataclasses.replace(cfg, task=ds.task)
    if isinstance(cfg.data, TimeSeriesSet):
        cfg = dataclasses.replace(cfg, data=str((out_dir / DATA_FILE).resolve()))
    kwargs = model_kwargs_for(cfg, ds)
    module = build_module(cfg, kwargs, ds.subset(ds.splits["train"]))
    if is_rank_zero:
        write_json(out_dir / CONFIG_FILE, resolved_config(cfg, kwargs, ds))

    trained = train_module(module, SeriesDataModule(ds, cfg.batch_size, cfg.seed), cfg, out_dir, quiet=quiet)
    if not trained.is_global_zero:
        return RunResult(out_dir, {}, None, ds)
    model = SpatioTemporalNet(**kwargs)
    model.load_state_dict(trained.state_dict)
    model.eval()
    save_model(out_dir / MODEL_FILE, model, kwargs, ds)
    metrics = {split: evaluate_split(model, ds, split) for split in ("val", "test")}
    metrics["train_seconds"] = round(trained.seconds, 3)
    metrics["epochs"] = trained.epochs
    best = trained.best_checkpoint
    metrics["best_checkpoint"] = os.path.relpath(best, out_dir) if best else None
    write_json(out_dir / METRICS_FILE, metrics)
    return RunResult(out_dir, metrics, model, ds)


def model_kwargs_for(cfg: TrainConfig, ds: TimeSeriesSet) -> dict:
    """The SpatioTemporalNet arguments for this config and data."""
    out = ds.n_classes if ds.task == "classify" else int(ds.y.shape[-1])  # classes, D or the horizon H
    per_node = ds.task == "regress" and ds.y.ndim == 3  # y [S, N, D]: one target vector per node
    adjacency = None
    if cfg.mixer == "graph" and ds.adjacency is not None:
        adjacency = np.asarray(ds.adjacency, dtype=np.float32).tolist()
    return dict(
        n_nodes=ds.n_nodes, n_features=ds.n_features, task=ds.task, out_features=out, encoder=cfg.encoder,
        pool=cfg.pool, mixer=cfg.mixer, channels=cfg.channels, per_node=per_node,
        adjacency=adjacency, dropout=cfg.dropout, pool_kwargs=dict(cfg.pool_kwargs),
    )


def resolved_config(cfg: TrainConfig, model_kwargs: dict, ds: TimeSeriesSet) -> dict:
    """``config.json``: every option, plus what training resolved about the model and the data."""
    resolved = cfg.to_dict()
    resolved["resolved"] = {"model": {k: v for k, v in model_kwargs.items() if k != "adjacency"},
                            "data": ds.summary(), "node_names": list(ds.node_names),
                            "class_names": list(ds.class_names) if ds.class_names else None}
    return resolved


__all__ = ["RunResult", "fit", "model_kwargs_for", "resolved_config"]
