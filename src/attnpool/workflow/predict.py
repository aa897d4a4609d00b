"""Prediction and evaluation with a trained model: arrays, metrics, a finished run's metrics, predictions as CSV."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

from ..data import TimeSeriesSet
from ..errors import ConfigError, RunError
from ..explain import pointing_game
from ..models import SpatioTemporalNet
from ..train.running_metrics import RunningClassification, RunningRegression
from .inputs import check_compatible, check_finite_output, load_dataset
from .rundir import atomic_write, load_run

#: Evaluation and prediction batches hold at most this many node-steps (``B * N * T``) unless a batch size is
#: given: 256 samples of a small set, 52 windows of 207 nodes x 12 steps, 1 of 10,000 nodes. Measured on 207 x
#: 12 (resconv, 32 channels): 256 windows a batch add 390 MB of activations at 35 windows/s, 64 add 190 MB at
#: 45/s: larger batches buy no speed on a CPU, only memory.
NODE_STEPS_PER_BATCH = 2**17


def inference_batch_size(ds: TimeSeriesSet, batch_size: int | None = None) -> int:
    """``batch_size``, or when None: 256 samples, fewer for wide sets (at most :data:`NODE_STEPS_PER_BATCH`
    node-steps per batch, at least 1 sample)."""
    if batch_size is not None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigError(f"batch_size must be a positive int or None, got {batch_size!r}", key="batch_size")
        return batch_size
    return max(1, min(256, NODE_STEPS_PER_BATCH // max(1, ds.n_nodes * ds.n_steps)))


def batches_of(indices: np.ndarray, batch_size: int, max_batches: int | None = None) -> Iterator[np.ndarray]:
    """``indices`` in consecutive batches of ``batch_size`` (the first ``max_batches`` only, when given)."""
    n = len(indices) if max_batches is None else min(len(indices), max_batches * batch_size)
    for start in range(0, n, batch_size):
        yield indices[start : min(start + batch_size, n)]


@torch.no_grad()
def predict_batch(model: SpatioTemporalNet, ds: TimeSeriesSet, batch: dict) -> tuple[np.ndarray, np.ndarray]:
    """``model`` on one batch built by :meth:`TimeSeriesSet.batch`: ``(prediction [B, ...], weights [B, N, T])``."""
    model.eval()
    mask = None if ds.mask is None else torch.from_numpy(batch["mask"])
    out, w = model(torch.from_numpy(batch["x"]), mask)
    return out.float().numpy(), w.float().numpy()


def predict_arrays(model: SpatioTemporalNet, ds: TimeSeriesSet,
                   batch_size: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Run ``model`` over every sample of ``ds``: ``(predictions [S, ...], weights [S, N, T])`` as numpy.

    Batches (``batch_size``, default :func:`inference_batch_size`) are built one at a time, windows over a
    series too, but the result holds every sample: for sets whose predictions fit in memory.
    :func:`evaluate_split` and :func:`predict_run` stream instead."""
    preds, weights = [], []
    for idx in batches_of(np.arange(len(ds)), inference_batch_size(ds, batch_size)):
        out, w = predict_batch(model, ds, ds.batch(idx, ("x", "mask")))
        check_finite_output(out, ds.source, first=int(idx[0]))  # never hand NaN rows on as predictions or metrics
        preds.append(out)
        weights.append(w)
    if not preds:
        return np.zeros((0,)), np.zeros((0, ds.n_nodes, ds.n_steps))
    return np.concatenate(preds), np.concatenate(weights)


def evaluate_split(model: SpatioTemporalNet, ds: TimeSeriesSet, split: str | None = None,
                   batch_size: int | None = None, max_batches: int | None = None) -> dict:
    """Metrics of ``model`` on ``ds`` (one split, or every sample when ``split`` is None), streamed batch by batch.

    Args:
        model: the trained model.
        ds: the data.
        split: ``"train"``, ``"val"``, ``"test"`` or None (every sample).
        batch_size: samples per forward pass (default: None, :func:`inference_batch_size`: 256, fewer for wide
            sets).
        max_batches: score only the first ``max_batches`` batches of the part, in order (default: None, all).

    Returns:
        classify: ``{"accuracy", "macro_f1", "n"}``; regress: ``{"mae", "rmse", "baseline_mae",
        "baseline_rmse", "n"}``; forecast: ``mae``, ``rmse``, ``persistence_mae/rmse`` and, for a series with a
        season (``meta["season"]``), ``seasonal_naive_mae/rmse``; plus the pointing game where the data knows
        the true peaks (``synthetic:peaks``). ``{"n": 0}`` for an empty part.
    """
    if max_batches is not None and (isinstance(max_batches, bool) or not isinstance(max_batches, int)
                                    or max_batches < 1):
        raise ConfigError(f"max_batches must be a positive int or None, got {max_batches!r}", key="max_batches")
    index = np.arange(len(ds)) if split is None else np.asarray(ds.splits[split], dtype=np.int64)
    if len(index) == 0:  # a part the split left empty (a source's own split, an estimator's test part): not NaN
        return {"n": 0}
    names = [] if ds.task == "classify" else ds.baseline_names
    running = RunningClassification(model.out_features) if ds.task == "classify" else RunningRegression(names)
    pointing = _RunningPointing(ds) if "peak_start" in ds.meta else None
    for idx in batches_of(index, inference_batch_size(ds, batch_size), max_batches):
        batch = ds.batch(idx, ("x", "mask", "y", *names))
        pred, weights = predict_batch(model, ds, batch)
        check_finite_output(pred, ds.source, first=int(idx[0]))
        if ds.task == "classify":
            running.update(batch["y"], pred.argmax(-1))
        else:
            running.update(batch["y"], pred, {name: batch[name] for name in names})
        if pointing is not None:
            pointing.update(idx, weights)
    metrics = running.result()
    if pointing is not None:
        metrics.update(pointing.result())
    return metrics


class _RunningPointing:
    """:func:`ground_truth_metrics`' pointing game summed over batches (its means weighted by rows evaluated)."""

    def __init__(self, ds: TimeSeriesSet):
        self.start, self.width = ds.meta["peak_start"], int(ds.meta["peak_width"])
        self.evaluated, self.hits, self.mass = 0, 0.0, 0.0

    def update(self, idx: np.ndarray, weights: np.ndarray) -> None:
        game = pointing_game(weights, self.start[idx], self.width)
        if game["evaluated"]:
            self.evaluated += game["evaluated"]
            self.hits += game["pointing_accuracy"] * game["evaluated"]
            self.mass += game["attention_mass"] * game["evaluated"]

    def result(self) -> dict:
        n = self.evaluated or float("nan")
        return {"pointing_accuracy": self.hits / n, "attention_mass": self.mass / n}


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
    predictor = None
    if engine != "torch":  # through the exported file (onnxruntime); classify comes back as probabilities
        from ..predictor import load_run as load_predictor

        predictor = load_predictor(run_dir, engine=engine)
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(out_csv) as tmp, tmp.open("w", newline="") as handle:
        writer = csv.writer(handle)
        # One batch at a time: a long series' windows are never all built, nor all their predictions held.
        for number, idx in enumerate(batches_of(np.arange(len(ds)), inference_batch_size(ds))):
            batch = ds.batch(idx, ("x", "mask"))
            if predictor is None:
                pred, weights = predict_batch(model, ds, batch)
                check_finite_output(pred, ds.source, first=int(idx[0]))
                header, rows = prediction_table(model, meta, pred, weights, first=int(idx[0]))
            else:
                result = predictor.predict(batch["x"], None if ds.mask is None else batch["mask"])
                pred = result.proba if model.task == "classify" else result.y
                header, rows = prediction_table(model, meta, pred, result.weights, probabilities=True,
                                                first=int(idx[0]))
            if number == 0:
                writer.writerow(header)
            writer.writerows(rows)
    return out_csv


def prediction_table(model: SpatioTemporalNet, meta: dict, pred: np.ndarray, weights: np.ndarray, *,
                     probabilities: bool = False, first: int = 0) -> tuple[list[str], list[list]]:
    """The header and rows of :func:`predict_run`'s CSV for predictions ``pred`` (classify: logits, or
    probabilities when ``probabilities``) and weights ``[S, N, T]``; ``first`` is the sample number of
    ``pred[0]`` (for a batch)."""
    top = weights.argmax(-1)  # [S, N]
    nodes = meta["node_names"]
    rows: list[list] = []
    if model.task == "classify":
        classes = meta["class_names"] or [str(c) for c in range(model.out_features)]
        prob = pred if probabilities else torch.softmax(torch.from_numpy(pred), -1).numpy()
        header = ["sample", "predicted"] + [f"p_{c}" for c in classes] + [f"max_attention_step_{n}" for n in nodes]
        for s in range(len(pred)):
            rows.append([first + s, classes[int(prob[s].argmax())], *np.round(prob[s], 6), *top[s].tolist()])
    elif pred.ndim == 2:
        header = ["sample"] + [f"pred_{d + 1}" for d in range(pred.shape[1])] + [f"max_attention_step_{n}" for n in nodes]
        for s in range(len(pred)):
            rows.append([first + s, *np.round(pred[s], 6), *top[s].tolist()])
    else:
        header = ["sample", "node"] + [f"pred_{h + 1}" for h in range(pred.shape[2])] + ["max_attention_step"]
        for s in range(len(pred)):
            for n, name in enumerate(nodes):
                rows.append([first + s, name, *np.round(pred[s, n], 6), int(top[s, n])])
    return header, rows


__all__ = ["NODE_STEPS_PER_BATCH", "batches_of", "evaluate_run", "evaluate_split", "ground_truth_metrics",
           "inference_batch_size", "predict_arrays", "predict_batch", "predict_run", "prediction_table"]
