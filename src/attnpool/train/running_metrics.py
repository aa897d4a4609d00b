"""The metrics of :mod:`.metrics`, accumulated batch by batch: a test part too large to hold all its predictions
(10,000 nodes x thousands of windows) is scored in one pass with memory of one batch.

Each class gives the same numbers as its one-shot function on the concatenated batches (up to the order of
float64 sums): :class:`RunningClassification` as :func:`~attnpool.train.metrics.classification_metrics`,
:class:`RunningRegression` as :func:`~attnpool.train.metrics.regression_metrics`.
"""

from __future__ import annotations

import numpy as np


class RunningClassification:
    """Accuracy and macro-F1 from a confusion matrix filled batch by batch.

    Args:
        n_classes: K; labels are ``0 .. K-1``.
    """

    def __init__(self, n_classes: int):
        self.n_classes = int(n_classes)
        self.confusion = np.zeros((self.n_classes, self.n_classes), dtype=np.int64)  # [true, predicted]

    def update(self, y_true: np.ndarray, y_pred: np.ndarray) -> None:
        """``y_true``, ``y_pred``: int ``[B]``."""
        t = np.asarray(y_true).astype(np.int64).reshape(-1)
        p = np.asarray(y_pred).astype(np.int64).reshape(-1)
        np.add.at(self.confusion, (t, p), 1)

    def result(self) -> dict:
        """``{"accuracy", "macro_f1", "n"}``; macro-F1 over the classes present in ``y_true`` or ``y_pred``."""
        c = self.confusion
        n = int(c.sum())
        tp = np.diag(c)
        fp = c.sum(axis=0) - tp
        fn = c.sum(axis=1) - tp
        present = (tp + fp + fn) > 0
        f1 = 2 * tp[present] / (2 * tp[present] + fp[present] + fn[present])
        return {
            "accuracy": float(tp.sum() / n) if n else float("nan"),
            "macro_f1": float(f1.mean()) if present.any() else float("nan"),
            "n": n,
        }


class RunningRegression:
    """MAE and RMSE over every value, for the model and for named baselines, summed batch by batch.

    Args:
        baselines: names of the baselines scored beside the model (``persistence_mae``, ...).
    """

    def __init__(self, baselines=()):
        self.names = list(baselines)
        self.samples = 0
        self.values = 0
        self.abs = dict.fromkeys(["", *self.names], 0.0)
        self.sq = dict.fromkeys(["", *self.names], 0.0)

    def update(self, y_true: np.ndarray, y_pred: np.ndarray, baselines: dict | None = None) -> None:
        """``y_true``, ``y_pred``: ``[B, ...]``; ``baselines``: name -> ``[B, ...]`` for every name."""
        truth = np.asarray(y_true, dtype=np.float64)
        self.samples += len(truth)
        self.values += truth.size
        for name, pred in (("", y_pred), *((n, (baselines or {})[n]) for n in self.names)):
            err = np.asarray(pred, dtype=np.float64) - truth
            self.abs[name] += float(np.abs(err).sum())
            self.sq[name] += float((err * err).sum())

    def result(self) -> dict:
        """``{"mae", "rmse", "n", "<baseline>_mae", "<baseline>_rmse", ...}`` (``n`` counts samples)."""
        size = self.values or float("nan")
        out = {"mae": self.abs[""] / size, "rmse": float(np.sqrt(self.sq[""] / size)), "n": self.samples}
        for name in self.names:
            out[f"{name}_mae"] = self.abs[name] / size
            out[f"{name}_rmse"] = float(np.sqrt(self.sq[name] / size))
        return out


__all__ = ["RunningClassification", "RunningRegression"]
