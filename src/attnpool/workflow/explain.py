"""``explain_run``: predict with a finished run once, and hand the arrays to :mod:`attnpool.explain`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from ..errors import AttnpoolError
from ..explain import choose_samples, write_explanations
from .inputs import load_dataset
from .predict import batches_of, ground_truth_metrics, inference_batch_size, predict_arrays, predict_batch
from .rundir import load_run


def explain_run(run_dir: str | os.PathLike, data: str | None, out_dir: str | os.PathLike, *,
                samples: list[int] | None = None, per_class: int = 2, largest_errors: int = 6) -> dict:
    """Predict ``data`` (default: the run's own test split, or val when it has none) with the run's model and
    write explanations.

    Writes into ``out_dir``: ``sample_<i>.png`` (each node's signal above its nodes x time attention heatmap),
    ``weights.csv`` (sample, node, step, weight), ``stats.csv`` (entropy, effective steps, step of maximum weight
    per node), and ``summary.json`` (means of those, plus the pointing game where the data knows the true peaks).
    Sample ids are positions in ``data`` (or in the run's test split when ``data`` is None).

    A forecasting set over a series (:attr:`TimeSeriesSet.windows`) is predicted batch by batch to find the
    largest errors, and only the drawn windows are built: its ``weights.csv``, ``stats.csv`` and the summary's
    means cover the drawn windows.
    """
    model, cfg, meta = load_run(run_dir)
    if data is None:
        full = load_dataset(cfg)
        # A run without a test part (an estimator's: train and validation only) explains its validation part.
        part = "test" if len(full.splits["test"]) else "val"
        ds = full.subset(full.splits[part])
    else:
        ds = load_dataset(cfg, data)
    if samples is not None:
        bad = [s for s in samples if not 0 <= s < len(ds)]
        if bad:
            raise AttnpoolError(f"--samples must be in [0, {len(ds)}), got {bad}")
    names = dict(class_names=meta["class_names"], node_names=meta["node_names"], feature_names=meta["feature_names"])
    if ds.windows is None:  # a set in memory: every sample's weights and statistics are written
        pred, weights = predict_arrays(model, ds)
        out = write_explanations(
            out_dir, ds.x, weights, mask=ds.mask, y_true=ds.y, y_pred=pred, task=ds.task, **names,
            indices=None if samples is None else np.asarray(samples), per_class=per_class,
            largest_errors=largest_errors,
        )
        extra = ground_truth_metrics(ds, weights)
    else:  # windows over a series: only the drawn windows are built (all of them would not fit)
        chosen = np.asarray(samples, dtype=np.int64) if samples is not None else _largest_errors(model, ds, largest_errors)
        batch = ds.batch(chosen, ("x", "mask", "y"))
        pred, weights = predict_batch(model, ds, batch)
        out = write_explanations(
            out_dir, batch["x"], weights, mask=None if ds.mask is None else batch["mask"], y_true=batch["y"],
            y_pred=pred, task=ds.task, **names, sample_ids=chosen, indices=np.arange(len(chosen)),
        )
        out["indices"] = chosen
        extra = {}
    summary = dict(out["summary"])
    summary.update(extra)
    summary["samples_drawn"] = [int(i) for i in out["indices"]]
    (Path(out_dir) / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    out["summary"] = summary
    return out


def _largest_errors(model, ds, k: int) -> np.ndarray:
    """The ``k`` samples of ``ds`` with the largest mean absolute error, scored batch by batch (as
    :func:`attnpool.explain.choose_samples` ranks them)."""
    errors = np.empty(len(ds))
    for idx in batches_of(np.arange(len(ds)), inference_batch_size(ds)):
        batch = ds.batch(idx, ("x", "mask", "y"))
        pred, _ = predict_batch(model, ds, batch)
        errors[idx] = np.abs(pred.astype(np.float64) - batch["y"]).reshape(len(idx), -1).mean(axis=1)
    return choose_samples(None, None, largest_errors=k, errors=errors)


__all__ = ["explain_run"]
