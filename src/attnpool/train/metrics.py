"""Metrics written to ``metrics.json``: accuracy and macro-F1 for classification, MAE and RMSE (beside the
baseline's) for regression and forecasting."""

from __future__ import annotations

import numpy as np


def classification_metrics(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> dict:
    """``y_true``, ``y_pred``: int ``[S]`` -> ``{"accuracy", "macro_f1", "n"}``.

    Macro-F1 averages the per-class F1 over classes present in ``y_true`` or ``y_pred``.
    """
    y_true = np.asarray(y_true).astype(int)
    y_pred = np.asarray(y_pred).astype(int)
    f1s = []
    for c in range(n_classes):
        tp = np.sum((y_pred == c) & (y_true == c))
        fp = np.sum((y_pred == c) & (y_true != c))
        fn = np.sum((y_pred != c) & (y_true == c))
        if tp + fp + fn == 0:
            continue
        f1s.append(2 * tp / (2 * tp + fp + fn))
    return {
        "accuracy": float(np.mean(y_true == y_pred)) if len(y_true) else float("nan"),
        "macro_f1": float(np.mean(f1s)) if f1s else float("nan"),
        "n": int(len(y_true)),
    }


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray, baseline: np.ndarray | None = None,
                       baseline_name: str = "baseline") -> dict:
    """MAE and RMSE over every value (``y_*`` any shape ``[S, ...]``), with the baseline's beside them."""
    y_true = np.asarray(y_true, dtype=np.float64)
    err = np.asarray(y_pred, dtype=np.float64) - y_true
    out = {"mae": float(np.mean(np.abs(err))), "rmse": float(np.sqrt(np.mean(err**2))), "n": int(len(y_true))}
    if baseline is not None:
        berr = np.asarray(baseline, dtype=np.float64) - y_true
        out[f"{baseline_name}_mae"] = float(np.mean(np.abs(berr)))
        out[f"{baseline_name}_rmse"] = float(np.sqrt(np.mean(berr**2)))
    return out
