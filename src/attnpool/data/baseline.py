"""The baseline every prediction is shown beside: majority class, training mean, or persistence."""

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
    import torch

    from ..pooling.last import last_valid

    target = x[..., 0]  # [S, N, T]
    last = last_valid(torch.from_numpy(target), None if mask is None else torch.from_numpy(mask)).numpy()  # [S, N]
    if mask is not None:
        valid = mask[train]  # [S_train, N, T]
        count = valid.sum(axis=(0, 2))  # [N]
        node_mean = np.where(valid, target[train], 0.0).sum(axis=(0, 2)) / np.maximum(count, 1)
        last = np.where(mask.any(axis=-1), last, np.where(count > 0, node_mean, 0.0)[None, :])
    return np.repeat(last[..., None], y.shape[-1], axis=-1)


__all__ = ["baseline"]
