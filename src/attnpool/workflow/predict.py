"""Prediction and evaluation with a trained model: arrays, metrics, a finished run's metrics, predictions as CSV."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import torch

from ..data import TimeSeriesSet
from ..errors import RunError
from ..explain import pointing_game
from ..models import SpatioTemporalNet
from ..train.metrics import classification_metrics, regression_metrics
from .inputs import check_compatible, check_finite_output, load_dataset
from .rundir import atomic_write, load_run


@torch.no_grad()
def predict_arrays(model: SpatioTemporalNet, ds: TimeSeriesSet, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Run ``model`` over every sample of ``ds``: ``(predictions [S, ...], weights [S, N, T])`` as numpy."""
    model.eval()
    preds, weights = [], []
    x = torch.from_numpy(np.ascontiguousarray(ds.x, dtype=np.float32))
    mask = None if ds.mask is None else torch.from_numpy(np.asarray(ds.mask))
    for start in range(0, len(x), batch_size):
        part = slice(start, start + batch_size)
        out, w = model(x[part], None if mask is None else mask[part])
        preds.append(out.float().numpy())
        weights.append(w.float().numpy())
    if not preds:
        return np.zeros((0,)), np.zeros((0, ds.n_nodes, ds.n_steps))
    pred = np.concatenate(preds)
    check_finite_output(pred, ds.source)  # never hand NaN rows on as predictions or metrics
    return pred, np.concatenate(weights)


def evaluate_split(model: SpatioTemporalNet, ds: TimeSeriesSet, split: str | None = None,
                   batch_size: int = 256) -> dict:
    """Metrics of ``model`` on ``ds`` (one split, or every sample when ``split`` is None)."""
    index = np.arange(len(ds.y)) if split is None else ds.splits[split]
    if len(index) == 0:  # a source whose own split leaves this part empty: nothing to measure, not NaN
        return {"n": 0}
    part = ds.subset(index)
    if len(part) == 0:  # a part the split left empty (an estimator's test part): nothing to score
        return {"n": 0}
    pred, weights = predict_arrays(model, part, batch_size)
    if ds.task == "classify":
        metrics = classification_metrics(part.y, pred.argmax(-1), model.out_features)
    else:
        name = "persistence" if ds.task == "forecast" else "baseline"
        metrics = regression_metrics(part.y, pred, part.baseline, baseline_name=name)
    metrics.update(ground_truth_metrics(part, weights))
    return metrics


def ground_truth_metrics(ds: TimeSeriesSet, weights: np.ndarray) -> dict:
    """Pointing game where the data knows the true peak steps (``synthetic:peaks``): does the step of maximum
    weight of each node that has a peak (``peak_start >= 0``) lie in its peak window, and how much weight falls
    there? Empty for other data."""
    if "peak_start" not in ds.meta or len(weights) == 0:
        return {}
    game = pointing_game(weights, ds.meta["peak_start"], int(ds.meta["peak_width"]))
    return {"pointing_accuracy": game["pointing_accuracy"], "attention_mass": game["attention_mass"]}


def evaluate_run(run_dir: str | os.PathLike, data: str | None = None) -> dict:
    """Metrics of a finished run: on its own val/test splits, or on every sample of ``data``."""
    model, cfg, _ = load_run(run_dir)
    if data is None:
        ds = load_dataset(cfg)
        return {split: evaluate_split(model, ds, split) for split in ("val", "test")}
    ds = load_dataset(cfg, data)
    check_compatible(model, ds, data)
    return {"all": evaluate_split(model, ds, None)}


def predict_run(run_dir: str | os.PathLike, data: str, out_csv: str | os.PathLike, *, engine: str = "torch") -> Path:
    """Write predictions for every sample of ``data`` to ``out_csv``, with each node's step of maximum attention.

    ``engine``: ``"torch"`` (default) or ``"onnx"`` (the exported file in onnxruntime, see
    :func:`attnpool.load_run`); the CSV is the same within rounding.

    Classify: one row per sample (``sample, predicted, p_<class>..., max_attention_step_<node>...``).
    Regress per sample: ``sample, pred_1..pred_D, max_attention_step_<node>...``. Forecast and per-node regress:
    one row per sample and node (``sample, node, pred_1.., max_attention_step``).
    """
    out_csv = Path(out_csv)
    if out_csv.is_dir():
        raise RunError(f"--out {out_csv} is a directory; give the path of the CSV file to write")
    model, cfg, meta = load_run(run_dir)
    ds = load_dataset(cfg, data)
    check_compatible(model, ds, data)
    if engine == "torch":
        pred, weights = predict_arrays(model, ds)
        header, rows = prediction_table(model, meta, pred, weights)
    else:  # through the exported file (onnxruntime); classify comes back as probabilities
        from ..predictor import load_run as load_predictor

        result = load_predictor(run_dir, engine=engine).predict(ds.x, ds.mask)
        pred = result.proba if model.task == "classify" else result.y
        header, rows = prediction_table(model, meta, pred, result.weights, probabilities=True)
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(out_csv) as tmp, tmp.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return out_csv


def prediction_table(model: SpatioTemporalNet, meta: dict, pred: np.ndarray, weights: np.ndarray, *,
                     probabilities: bool = False) -> tuple[list[str], list[list]]:
    """The header and rows of :func:`predict_run`'s CSV for predictions ``pred`` (classify: logits, or
    probabilities when ``probabilities``) and weights ``[S, N, T]``."""
    top = weights.argmax(-1)  # [S, N]
    nodes = meta["node_names"]
    rows: list[list] = []
    if model.task == "classify":
        classes = meta["class_names"] or [str(c) for c in range(model.out_features)]
        prob = pred if probabilities else torch.softmax(torch.from_numpy(pred), -1).numpy()
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
    return header, rows


__all__ = ["evaluate_run", "evaluate_split", "ground_truth_metrics", "predict_arrays", "predict_run",
           "prediction_table"]
