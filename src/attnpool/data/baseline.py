"""The baselines every prediction is shown beside: majority class, training mean, persistence, seasonal naive.

:func:`baseline` computes the one baseline of a set held in memory (``[S, ...]`` like its ``y``). A forecasting
set of windows over a series (:mod:`.windows`) builds its baselines per batch with :func:`persistence` and
:func:`seasonal_naive`, which are the same rules on one batch of windows.
"""

from __future__ import annotations

import numpy as np


def baseline(task: str, x: np.ndarray, mask, y: np.ndarray, train: np.ndarray) -> np.ndarray:
    """The baseline prediction for every sample, same shape and units as ``y``.

    Args:
        task: ``classify`` (the training part's most frequent class), ``regress`` (the training mean of y) or
            ``forecast`` (persistence: the last valid value of each node's target feature 0, repeated H times;
            a node with no valid step in its window falls back to that node's training mean).
        x: ``[S, N, T, F]``, zero at masked steps. mask: bool ``[S, N, T]`` or None. y: the targets.
        train: indices of the training part.
    """
    if task == "classify":
        majority = np.bincount(y[train]).argmax()
        return np.full(y.shape, majority, dtype=np.int64)
    if task == "regress":
        return np.broadcast_to(y[train].mean(axis=0, keepdims=True), y.shape).copy()
    target = x[..., 0]  # [S, N, T]
    fallback = np.zeros(target.shape[1])
    if mask is not None:
        valid = mask[train]  # [S_train, N, T]
        count = valid.sum(axis=(0, 2))  # [N]
        node_mean = np.where(valid, target[train], 0.0).sum(axis=(0, 2)) / np.maximum(count, 1)
        fallback = np.where(count > 0, node_mean, 0.0)
    return persistence(target, mask, fallback, y.shape[-1])


def persistence(target: np.ndarray, mask: np.ndarray | None, fallback: np.ndarray, horizon: int) -> np.ndarray:
    """The last valid value of each row, repeated ``horizon`` times: ``target [B, N, T]`` -> ``[B, N, H]``.

    Args:
        target: the target feature over the window, ``[B, N, T]``.
        mask: bool ``[B, N, T]`` (True = valid step) or None (all valid).
        fallback: ``[N]``, the value of a node with no valid step in its window (its training mean).
        horizon: H.
    """
    if mask is None:
        last = target[..., -1]
    else:
        steps = target.shape[-1]
        # The last True of each row: argmax finds the first True of the reversed row.
        position = steps - 1 - np.argmax(mask[..., ::-1], axis=-1)  # [B, N]
        last = np.take_along_axis(target, position[..., None], axis=-1)[..., 0]
        last = np.where(mask.any(axis=-1), last, np.asarray(fallback, dtype=last.dtype)[None, :])
    return np.repeat(last[..., None], horizon, axis=-1)


def seasonal_offsets(window: int, horizon: int, season: int) -> np.ndarray:
    """Rows, relative to a window's first row, that the seasonal-naive forecast copies: ``[H]`` int64.

    The forecast for step ``T + h`` (``h = 0 .. H-1``, step 0 the window's first) is the value one season
    before it, stepped back by whole seasons until it lies before the forecast starts:
    ``T + h - m * (floor(h / m) + 1)``, always in ``[T - m, T - 1]``.
    """
    h = np.arange(horizon, dtype=np.int64)
    return window + h - season * (h // season + 1)


def seasonal_naive(season_values: np.ndarray, persistence_values: np.ndarray) -> np.ndarray:
    """The seasonal-naive forecast ``[B, N, H]``: ``season_values`` (the target one season earlier, NaN where it
    is missing or before the series' start) where present, else the persistence forecast."""
    return np.where(np.isnan(season_values), persistence_values, season_values)


__all__ = ["baseline", "persistence", "seasonal_naive", "seasonal_offsets"]
