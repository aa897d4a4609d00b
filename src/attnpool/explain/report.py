"""One call that writes a whole explanation folder: figures for chosen samples, weights and statistics as CSV.

The ``attnpool explain`` verb predicts once (the weights travel out with the prediction) and hands the arrays
here; nothing in this module knows about models or checkpoints.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..tasks import TASKS
from .arrays import to_numpy
from .samples import choose_samples
from .stats import attention_stats
from .tables import write_stats_csv, write_weights_csv


def write_explanations(
    out_dir,
    x,
    weights,
    *,
    mask=None,
    y_true=None,
    y_pred=None,
    task: str = "classify",
    class_names=None,
    node_names=None,
    feature_names=None,
    sample_ids=None,
    indices=None,
    per_class: int = 2,
    largest_errors: int = 6,
    step_labels=None,
) -> dict:
    """Write ``weights.csv``, ``stats.csv`` (all samples) and one PNG per chosen sample into ``out_dir``.

    Samples to draw are ``indices`` when given, else :func:`choose_samples`: ``per_class`` per class for
    classification, the ``largest_errors`` worst samples for regression / forecasting.

    Args:
        out_dir: folder to write into (created).
        x: ``[S, N, T, F]`` inputs.
        weights: ``[S, N, T]`` attention weights (multi-head ``[S, N, T, k]`` is averaged over heads).
        mask: optional bool ``[S, N, T]``, True = valid step.
        y_true: ``[S]`` labels (classify) or ``[S, ...]`` targets; needed unless ``indices`` is given.
        y_pred: ``[S]`` labels or ``[S, K]`` scores (classify) or ``[S, ...]`` predictions.
        task: ``"classify"`` (default), ``"regress"`` or ``"forecast"``.
        class_names: names of the classes, indexed by label (default: the label itself).
        node_names: ``N`` node names (default: ``node 0 ..``).
        feature_names: optional ``F`` feature names.
        sample_ids: ``S`` ids used in file names, titles and CSVs (default: ``0 .. S-1``).
        indices: optional positions (into the S axis) of the samples to draw.
        per_class: samples per class to draw for classification (default: 2).
        largest_errors: samples to draw for regression / forecasting (default: 6).
        step_labels: optional ``T`` labels for the time axis.

    Returns:
        ``{"figures": [Path], "weights_csv": Path, "stats_csv": Path, "indices": int array,
        "summary": {"mean_entropy", "mean_effective_steps", "mean_max_weight"}}``.
    """
    from .plots import plot_sample

    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")
    x = np.asarray(to_numpy(x))
    w = np.asarray(to_numpy(weights), dtype=np.float64)
    if w.ndim == 4:
        w = w.mean(axis=-1)  # [S, N, T, k] -> [S, N, T]: the mean of the heads still sums to 1
    if x.ndim != 4 or w.shape != x.shape[:3]:
        raise ValueError(f"x must be [S, N, T, F] and weights [S, N, T] to match, got {x.shape} and {w.shape}")
    n_samples, n_nodes = w.shape[:2]
    if mask is not None:
        mask = np.asarray(to_numpy(mask))
    ids = list(range(n_samples)) if sample_ids is None else [_plain(s) for s in to_numpy(sample_ids)]
    if len(ids) != n_samples:
        raise ValueError(f"sample_ids must have S = {n_samples} entries, got {len(ids)}")
    nodes = [f"node {n}" for n in range(n_nodes)] if node_names is None else [str(n) for n in node_names]

    if indices is None:
        if y_true is None or y_pred is None:
            raise ValueError("write_explanations needs y_true and y_pred to choose samples, or explicit indices")
        if task == "classify":
            indices = choose_samples(y_true, y_pred, per_class=per_class)
        else:
            indices = choose_samples(y_true, y_pred, largest_errors=largest_errors)
    indices = np.asarray(indices, dtype=np.int64).reshape(-1)
    if indices.size and (indices.min() < 0 or indices.max() >= n_samples):
        raise ValueError(f"indices must lie in [0, {n_samples}), got {indices.tolist()}")

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stats = attention_stats(w, mask)
    weights_csv = write_weights_csv(out_dir / "weights.csv", w, ids, nodes, mask)
    stats_csv = write_stats_csv(out_dir / "stats.csv", stats, ids, nodes)

    figures = []
    for i in indices.tolist():
        title = f"sample {ids[i]}: " + _outcome(task, i, y_true, y_pred, class_names)
        figures.append(
            plot_sample(
                out_dir / f"sample_{_safe(ids[i])}.png",
                x[i],
                w[i],
                mask=None if mask is None else mask[i],
                node_names=nodes,
                feature_names=feature_names,
                title=title,
                step_labels=step_labels,
            )
        )
    # Rows with no valid step have zero statistics by definition; they are left out of the means.
    live = stats["argmax_step"] >= 0
    summary = {
        "mean_entropy": float(stats["entropy"][live].mean()) if live.any() else float("nan"),
        "mean_effective_steps": float(stats["effective_steps"][live].mean()) if live.any() else float("nan"),
        "mean_max_weight": float(stats["max_weight"][live].mean()) if live.any() else float("nan"),
    }
    return {
        "figures": figures,
        "weights_csv": weights_csv,
        "stats_csv": stats_csv,
        "indices": indices,
        "summary": summary,
    }


def _outcome(task, i, y_true, y_pred, class_names) -> str:
    if y_true is None or y_pred is None:
        return "prediction not given"
    truth = np.asarray(to_numpy(y_true))[i]
    pred = np.asarray(to_numpy(y_pred))[i]
    if task == "classify":
        if np.ndim(pred) == 1:
            pred = int(np.argmax(pred))
        return f"true {_class_name(truth, class_names)}, predicted {_class_name(pred, class_names)}"
    truth = np.asarray(truth, dtype=np.float64)
    pred = np.asarray(pred, dtype=np.float64)
    if truth.size == 1:
        return f"true {truth.item():.4g}, predicted {pred.item():.4g}"
    return f"mean absolute error {float(np.abs(pred - truth).mean()):.4g}"


def _class_name(label, class_names) -> str:
    label = _plain(label)
    if class_names is not None and isinstance(label, int) and 0 <= label < len(class_names):
        return str(class_names[label])
    return str(label)


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def _safe(value) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in str(value))


__all__ = ["write_explanations"]
