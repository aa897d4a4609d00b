"""Statistics of attention weights over time, and the pointing game (numpy only).

Every function takes numpy arrays (torch tensors are accepted and converted), so a trained run's weights
``[S, N, T]`` (samples x nodes x steps) can be summarised without torch or matplotlib.
"""

from __future__ import annotations

import numpy as np

from .arrays import as_mask, as_weights, broadcast_int, check_finite_nonnegative, to_numpy

STATS_COLUMNS = ("entropy", "effective_steps", "argmax_step", "max_weight")


def attention_stats(weights, mask=None) -> dict[str, np.ndarray]:
    """Per-row statistics of attention weights over the last (time) axis.

    With ``w_t`` the weight of valid step ``t`` (masked steps count as 0):

    - ``entropy = -sum_t w_t log w_t`` (natural log, ``0 log 0 = 0``): ``log T`` for uniform weights over
      ``T`` valid steps, 0 for one-hot weights.
    - ``effective_steps = 1 / sum_t w_t^2`` (the inverse participation ratio): ``T`` for uniform weights,
      1 for one-hot weights, 0 for a row whose weights are all zero.
    - ``argmax_step``: the step of the largest weight (the first one on ties), -1 for an all-zero row.
    - ``max_weight``: that largest weight (0 for an all-zero row).

    The weights are used as given, not renormalised: attention weights sum to 1 over the valid steps
    already, and a row that pools nothing (all steps masked) keeps its zero statistics.

    Args:
        weights: non-negative ``[..., T]`` (e.g. ``[S, N, T]``).
        mask: optional bool ``[..., T]``, True = valid step; weights at masked steps are ignored, even NaN.

    Returns:
        Dict with ``entropy``, ``effective_steps``, ``max_weight`` (float ``[...]``) and ``argmax_step``
        (int ``[...]``).
    """
    w = as_weights("weights", weights, min_ndim=1)
    if mask is not None:
        mask = as_mask("mask", mask, w.shape)
        w = np.where(mask, w, 0.0)
    check_finite_nonnegative("weights", w)

    positive = w > 0
    # np.where evaluates both branches; log of the safe value 1 keeps 0*log0 out of the warnings.
    w_log_w = np.where(positive, w * np.log(np.where(positive, w, 1.0)), 0.0)
    entropy = -w_log_w.sum(axis=-1)
    square_sum = np.square(w).sum(axis=-1)
    any_weight = square_sum > 0
    effective = np.where(any_weight, 1.0 / np.where(any_weight, square_sum, 1.0), 0.0)
    argmax = np.where(any_weight, np.argmax(w, axis=-1), -1).astype(np.int64)
    return {
        "entropy": entropy,
        "effective_steps": effective,
        "argmax_step": argmax,
        "max_weight": w.max(axis=-1),
    }


def pointing_game(weights, window_start, window_width, valid=None) -> dict:
    """The pointing game: does the step of maximum weight lie in the true window, and how much weight is there?

    A (sample, node) is evaluated when it has a window (``window_start >= 0``) and, if given, ``valid`` is
    True. It is a hit when its argmax step lies in ``[start, start + width)``; a row with all-zero weights
    points nowhere and is a miss. The attention mass is the total weight inside the window (clipped to the
    sequence). Uniform weights over ``T`` steps score a mass of ``width / T``, the chance level.

    Args:
        weights: non-negative ``[S, N, T]``.
        window_start: int ``[S, N]`` (or broadcastable, e.g. ``[S, 1]``), the first step of the true window
            per node; negative = no window at this node, not evaluated.
        window_width: int >= 1, the window length in steps (or an int array broadcastable to ``[S, N]``).
        valid: optional bool ``[S, N]`` (or broadcastable) restricting which rows are evaluated.

    Returns:
        ``{"pointing_accuracy": float, "attention_mass": float, "evaluated": int}``; the two means are NaN
        when nothing was evaluated.
    """
    w = as_weights("weights", weights, min_ndim=1)
    if w.ndim != 3:
        raise ValueError(f"weights must be [S, N, T], got shape {tuple(w.shape)}")
    check_finite_nonnegative("weights", w)
    rows = w.shape[:2]
    start = broadcast_int("window_start", window_start, rows)
    width = broadcast_int("window_width", window_width, rows)
    if np.any(width < 1):
        raise ValueError(f"window_width must be >= 1, got minimum {int(width.min())}")
    evaluated = start >= 0
    if valid is not None:
        valid_arr = np.asarray(to_numpy(valid))
        if valid_arr.dtype != np.bool_:
            raise TypeError(f"valid must be bool, got dtype {valid_arr.dtype}")
        try:
            evaluated &= np.broadcast_to(valid_arr, rows)
        except ValueError:
            raise ValueError(f"valid must broadcast to [S, N] = {list(rows)}, got shape {valid_arr.shape}") from None

    argmax = attention_stats(w)["argmax_step"]  # [S, N]
    end = start + width
    hit = (argmax >= start) & (argmax < end)
    steps = np.arange(w.shape[-1])  # [T]
    in_window = (steps >= start[..., None]) & (steps < end[..., None])  # [S, N, T]
    mass = np.where(in_window, w, 0.0).sum(axis=-1)  # [S, N]

    count = int(evaluated.sum())
    if count == 0:
        return {"pointing_accuracy": float("nan"), "attention_mass": float("nan"), "evaluated": 0}
    return {
        "pointing_accuracy": float(hit[evaluated].mean()),
        "attention_mass": float(mass[evaluated].mean()),
        "evaluated": count,
    }


__all__ = ["STATS_COLUMNS", "attention_stats", "pointing_game"]
