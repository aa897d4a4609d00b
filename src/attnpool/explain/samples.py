"""Which samples to explain: a few per class, or the largest errors (deterministic)."""

from __future__ import annotations

import numpy as np

from .arrays import check_count, to_numpy


def choose_samples(y_true, y_pred, per_class: int = 2, largest_errors: int | None = None, errors=None) -> np.ndarray:
    """Pick the samples worth explaining, deterministically.

    Classification (default): for each class of ``y_true`` in sorted order, the first ``per_class`` samples
    (by index) that were classified correctly, topped up with misclassified ones when a class has too few.
    Regression / forecasting (``largest_errors`` or ``errors`` given): the ``k`` samples with the largest
    errors, largest first (ties by index).

    Args:
        y_true: ``[S]`` class labels, or ``[S, ...]`` targets for regression.
        y_pred: ``[S]`` predicted labels or ``[S, K]`` class scores (argmax is taken); for regression
            ``[S, ...]`` predictions. May be None when ``errors`` is given.
        per_class: samples per class (default: 2); also ``k`` when only ``errors`` is given.
        largest_errors: ``k`` for regression; errors default to the mean absolute error per sample.
        errors: optional ``[S]`` error per sample (any "larger is worse" score).

    Returns:
        int64 ``[k]`` sample indices.
    """
    if largest_errors is not None or errors is not None:
        k = per_class if largest_errors is None else largest_errors
        check_count("largest_errors" if largest_errors is not None else "per_class", k)
        if errors is None:
            if y_pred is None:
                raise ValueError("choose_samples needs y_pred or errors to rank regression samples")
            truth = np.asarray(to_numpy(y_true), dtype=np.float64)
            pred = np.asarray(to_numpy(y_pred), dtype=np.float64)
            if truth.shape != pred.shape:
                raise ValueError(f"y_true and y_pred must have the same shape, got {truth.shape} and {pred.shape}")
            errors = np.abs(pred - truth).reshape(len(truth), -1).mean(axis=1) if truth.ndim else np.abs(pred - truth)
        errors = np.asarray(to_numpy(errors), dtype=np.float64)
        if errors.ndim != 1:
            raise ValueError(f"errors must be [S], got shape {errors.shape}")
        # NaN errors rank first: a sample the model cannot score is the one to look at.
        key = np.where(np.isnan(errors), np.inf, errors)
        order = np.argsort(-key, kind="stable")
        return order[:k].astype(np.int64)

    check_count("per_class", per_class)
    truth = np.asarray(to_numpy(y_true))
    pred = np.asarray(to_numpy(y_pred))
    if truth.ndim != 1:
        raise ValueError(f"y_true must be [S] class labels for classification, got shape {truth.shape}")
    if pred.ndim == 2 and len(pred) == len(truth):
        pred = pred.argmax(axis=1)
    if pred.shape != truth.shape:
        raise ValueError(f"y_pred must be [S] labels or [S, K] scores with S = {len(truth)}, got shape {pred.shape}")
    correct = pred == truth
    chosen = []
    for label in np.unique(truth):
        in_class = np.flatnonzero(truth == label)
        ranked = np.concatenate([in_class[correct[in_class]], in_class[~correct[in_class]]])
        chosen.extend(ranked[:per_class].tolist())
    return np.asarray(chosen, dtype=np.int64)


__all__ = ["choose_samples"]
