"""A training run and its directory: fit, evaluate and predict.

``RUN/`` holds ``config.json`` (fully resolved, reusable with ``--config``), ``checkpoints/`` (Lightning's
best and last), ``logs/`` (CSV logs), ``model.pt`` (best weights with what is needed to rebuild the model) and
``metrics.json`` (``{"val": {...}, "test": {...}}``). Evaluate and predict need nothing but that directory
(and data to run on).
"""

from __future__ import annotations

import csv
import json
import logging
import os
import shutil
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..models import SpatioTemporalNet
from .config import TrainConfig
from .metrics import classification_metrics, regression_metrics

MODEL_FILE = "model.pt"
CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.json"


@dataclass
class RunResult:
    """What :func:`fit` returns: the run directory, its metrics and the trained model (``None`` off rank 0)."""

    run_dir: Path
    metrics: dict
    model: SpatioTemporalNet | None
    data: object


def load_dataset(cfg: TrainConfig, source: str | None = None):
    """Load the run's data (``source`` None: ``cfg.data`` with its splits) or new data to evaluate or predict
    (``source``: every sample in one part, so a file of a few samples works). Unstandardised: the model holds
    the normalisation."""
    from ..data import load_data

    options = dict(cfg.data_options)
    split = tuple(cfg.split) if source is None else (1.0, 0.0, 0.0)
    return load_data(
        source or cfg.data, task=cfg.task, window=cfg.window, horizon=cfg.horizon, nodes=cfg.nodes,
        split=split, seed=cfg.seed, standardize=False, **options,
    )


def model_kwargs_for(cfg: TrainConfig, ds) -> dict:
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


def fit(cfg: TrainConfig, out_dir: str | Path, *, overwrite: bool = False, quiet: bool = False) -> RunResult:
    """Train a model as ``cfg`` says, write the run directory ``out_dir`` and return its metrics."""
    out_dir = Path(out_dir)
    _check_run_dir(out_dir, overwrite)
    ds = load_dataset(cfg)  # before Lightning's slow import, so bad data is reported at once

    import lightning as L
    from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
    from lightning.pytorch.loggers import CSVLogger

    from .module import PoolingModule, SeriesDataModule

    _quiet_lightning()
    _prepare_run_dir(out_dir, overwrite)
    torch.set_num_threads(cfg.threads)
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    cfg.task = ds.task
    kwargs = model_kwargs_for(cfg, ds)
    module = PoolingModule(kwargs, lr=cfg.lr, weight_decay=cfg.weight_decay, epochs=cfg.epochs)
    train = ds.subset(ds.splits["train"])
    module.model.fit_normalization(torch.from_numpy(train.x), _tensor_or_none(train.mask),
                                   torch.from_numpy(train.y) if ds.task == "regress" else None)

    is_main = int(os.environ.get("LOCAL_RANK", "0")) == 0 and int(os.environ.get("NODE_RANK", "0")) == 0
    if is_main:
        resolved = cfg.to_dict()
        resolved["resolved"] = {"model": {k: v for k, v in kwargs.items() if k != "adjacency"},
                                "data": ds.summary(), "node_names": list(ds.node_names),
                                "class_names": list(ds.class_names) if ds.class_names else None}
        _write_json(out_dir / CONFIG_FILE, resolved)

    checkpoint = ModelCheckpoint(dirpath=out_dir / "checkpoints", filename="best", monitor="val_loss",
                                 mode="min", save_last=True)
    trainer = L.Trainer(
        max_epochs=cfg.epochs, accelerator=cfg.accelerator, devices=_devices(cfg.devices), strategy=cfg.strategy,
        callbacks=[checkpoint, EarlyStopping(monitor="val_loss", mode="min", patience=cfg.patience)],
        logger=CSVLogger(out_dir, name="logs", version=""), enable_progress_bar=cfg.progress and not quiet,
        enable_model_summary=False, log_every_n_steps=1, deterministic=False, num_sanity_val_steps=0,
    )
    start = time.perf_counter()
    trainer.fit(module, datamodule=SeriesDataModule(ds, cfg.batch_size, cfg.seed))
    seconds = time.perf_counter() - start
    if not trainer.is_global_zero:
        return RunResult(out_dir, {}, None, ds)

    best = checkpoint.best_model_path or checkpoint.last_model_path
    state = torch.load(best, map_location="cpu", weights_only=False)["state_dict"]
    model = SpatioTemporalNet(**kwargs)
    model.load_state_dict({k.removeprefix("model."): v for k, v in state.items()})
    model.eval()
    _save_model(out_dir / MODEL_FILE, model, kwargs, ds)
    metrics = {split: evaluate_split(model, ds, split) for split in ("val", "test")}
    metrics["train_seconds"] = round(seconds, 3)
    metrics["epochs"] = int(trainer.current_epoch)
    metrics["best_checkpoint"] = os.path.relpath(best, out_dir) if best else None
    _write_json(out_dir / METRICS_FILE, metrics)
    return RunResult(out_dir, metrics, model, ds)


def evaluate_split(model: SpatioTemporalNet, ds, split: str | None = None, batch_size: int = 256) -> dict:
    """Metrics of ``model`` on ``ds`` (one split, or every sample when ``split`` is None)."""
    index = np.arange(len(ds.y)) if split is None else ds.splits[split]
    part = ds.subset(index)
    if len(index) == 0:
        return {"n": 0}
    pred, weights = predict_arrays(model, part, batch_size)
    if ds.task == "classify":
        metrics = classification_metrics(part.y, pred.argmax(-1), model.out_features)
    else:
        name = "persistence" if ds.task == "forecast" else "baseline"
        metrics = regression_metrics(part.y, pred, part.baseline, baseline_name=name)
    metrics.update(ground_truth_metrics(part, weights))
    return metrics


def ground_truth_metrics(ds, weights: np.ndarray) -> dict:
    """Pointing game where the data knows the true peak steps (``synthetic:peaks``): does the step of maximum
    weight of each node that has a peak (``peak_start >= 0``) lie in its peak window, and how much weight falls
    there? Empty for other data."""
    if "peak_start" not in ds.meta or len(weights) == 0:
        return {}
    from ..explain.stats import pointing_game

    game = pointing_game(weights, ds.meta["peak_start"], int(ds.meta["peak_width"]))
    return {"pointing_accuracy": game["pointing_accuracy"], "attention_mass": game["attention_mass"]}


@torch.no_grad()
def predict_arrays(model: SpatioTemporalNet, ds, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Run ``model`` over every sample of ``ds``: ``(predictions [S, ...], weights [S, N, T])`` as numpy."""
    model.eval()
    preds, weights = [], []
    x = torch.from_numpy(np.ascontiguousarray(ds.x, dtype=np.float32))
    mask = _tensor_or_none(ds.mask)
    for start in range(0, len(x), batch_size):
        sl = slice(start, start + batch_size)
        out, w = model(x[sl], None if mask is None else mask[sl])
        preds.append(out.float().numpy())
        weights.append(w.float().numpy())
    if not preds:
        return np.zeros((0,)), np.zeros((0, ds.n_nodes, ds.n_steps))
    return np.concatenate(preds), np.concatenate(weights)


def load_run(run_dir: str | Path) -> tuple[SpatioTemporalNet, TrainConfig, dict]:
    """The trained model, its config and the saved metadata of a run directory."""
    run_dir = Path(run_dir)
    if not (run_dir / MODEL_FILE).is_file():
        what = "does not exist" if not run_dir.exists() else f"has no {MODEL_FILE} (not a finished attnpool run)"
        raise FileNotFoundError(f"run directory {run_dir} {what}")
    saved = torch.load(run_dir / MODEL_FILE, map_location="cpu", weights_only=True)
    model = SpatioTemporalNet(**saved["model_kwargs"])
    model.load_state_dict(saved["state_dict"])
    model.eval()
    cfg = TrainConfig.load(run_dir / CONFIG_FILE)
    return model, cfg, saved["meta"]


def evaluate_run(run_dir: str | Path, data: str | None = None) -> dict:
    """Metrics of a finished run: on its own val/test splits, or on every sample of ``data``."""
    model, cfg, meta = load_run(run_dir)
    if data is None:
        ds = load_dataset(cfg)
        return {split: evaluate_split(model, ds, split) for split in ("val", "test")}
    ds = load_dataset(cfg, data)
    _check_compatible(model, meta, ds, data)
    return {"all": evaluate_split(model, ds, None)}


def predict_run(run_dir: str | Path, data: str, out_csv: str | Path) -> Path:
    """Write predictions for every sample of ``data`` to ``out_csv``, with each node's step of maximum attention.

    Classify: one row per sample (``sample, predicted, p_<class>..., max_attention_step_<node>...``).
    Regress per sample: ``sample, pred_1..pred_D, max_attention_step_<node>...``. Forecast and per-node regress:
    one row per sample and node (``sample, node, pred_1.., max_attention_step``).
    """
    model, cfg, meta = load_run(run_dir)
    ds = load_dataset(cfg, data)
    _check_compatible(model, meta, ds, data)
    pred, weights = predict_arrays(model, ds)
    top = weights.argmax(-1)  # [S, N]
    nodes = meta["node_names"]
    rows: list[list] = []
    if model.task == "classify":
        classes = meta["class_names"] or [str(c) for c in range(model.out_features)]
        prob = torch.softmax(torch.from_numpy(pred), -1).numpy()
        header = ["sample", "predicted"] + [f"p_{c}" for c in classes] + [f"max_attention_step_{n}" for n in nodes]
        for s in range(len(pred)):
            rows.append([s, classes[int(prob[s].argmax())], *np.round(prob[s], 6), *top[s].tolist()])
    elif pred.ndim == 2:
        header = ["sample"] + [f"pred_{d + 1}" for d in range(pred.shape[1])] + [f"max_attention_step_{n}" for n in nodes]
        for s in range(len(pred)):
            rows.append([s, *np.round(pred[s], 6), *top[s].tolist()])
    else:
        header = ["sample", "node"] + [f"pred_{h + 1}" for h in range(pred.shape[2])] + ["max_attention_step"]
        for s in range(len(pred)):
            for n, name in enumerate(nodes):
                rows.append([s, name, *np.round(pred[s, n], 6), int(top[s, n])])
    out_csv = Path(out_csv)
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_csv.with_name(out_csv.name + ".tmp")
    with tmp.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    tmp.replace(out_csv)
    return out_csv


def _check_compatible(model: SpatioTemporalNet, meta: dict, ds, source: str) -> None:
    if ds.n_nodes != model.n_nodes or ds.n_features != model.n_features:
        raise ValueError(f"{source}: the run was trained on N={model.n_nodes} nodes x F={model.n_features} features, "
                         f"the data has N={ds.n_nodes} x F={ds.n_features}")
    if ds.task != model.task:
        raise ValueError(f"{source}: the run's task is {model.task}, the data's is {ds.task}")


def _save_model(path: Path, model: SpatioTemporalNet, kwargs: dict, ds) -> None:
    meta = {"node_names": [str(n) for n in ds.node_names], "feature_names": [str(f) for f in ds.feature_names],
            "class_names": [str(c) for c in ds.class_names] if ds.class_names else None}
    tmp = path.with_name(path.name + ".tmp")
    torch.save({"model_kwargs": kwargs, "state_dict": model.state_dict(), "meta": meta}, tmp)
    tmp.replace(path)


def _check_run_dir(out_dir: Path, overwrite: bool) -> None:
    """Refuse an ``--out`` that is a file, or that holds an earlier run unless ``overwrite``."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"--out {out_dir} exists and is not a directory")
    # DDP workers (LOCAL_RANK > 0) re-enter after rank 0 wrote config.json: only rank 0 checks.
    if (out_dir / CONFIG_FILE).exists() and not overwrite and int(os.environ.get("LOCAL_RANK", "0")) == 0:
        raise ValueError(f"--out {out_dir} already holds a run; choose a new directory or pass --overwrite")


def _prepare_run_dir(out_dir: Path, overwrite: bool) -> None:
    """Create ``out_dir``; with ``overwrite``, remove an earlier run's own files (anything else stays)."""
    if overwrite and int(os.environ.get("LOCAL_RANK", "0")) == 0:
        for name in ("checkpoints", "logs"):
            shutil.rmtree(out_dir / name, ignore_errors=True)
        for name in (MODEL_FILE, METRICS_FILE):
            (out_dir / name).unlink(missing_ok=True)
    out_dir.mkdir(parents=True, exist_ok=True)


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=_json_default) + "\n")
    tmp.replace(path)


def _json_default(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def _tensor_or_none(array):
    return None if array is None else torch.from_numpy(np.asarray(array))


def _devices(devices: str):
    text = str(devices)
    return int(text) if text.isdigit() else text


def _quiet_lightning() -> None:
    for name in ("lightning.pytorch", "lightning.fabric", "lightning"):
        logging.getLogger(name).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=".*does not have many workers.*")
    warnings.filterwarnings("ignore", message=".*The number of training batches.*")
    warnings.filterwarnings("ignore", message=".*GPU available.*")
    warnings.filterwarnings("ignore", message=".*LeafSpec.*")
