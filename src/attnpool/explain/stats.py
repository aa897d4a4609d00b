"""Statistics of attention weights over time, the pointing game, CSV tables and sample choice (numpy only).

Every function takes numpy arrays (torch tensors are accepted and converted), so a trained run's weights
``[S, N, T]`` (samples x nodes x steps) can be summarised without torch or matplotlib.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

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
    w = _as_weights("weights", weights, min_ndim=1)
    if mask is not None:
        mask = _as_mask("mask", mask, w.shape)
        w = np.where(mask, w, 0.0)
    _check_finite_nonnegative("weights", w)

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
    w = _as_weights("weights", weights, min_ndim=1)
    if w.ndim != 3:
        raise ValueError(f"weights must be [S, N, T], got shape {tuple(w.shape)}")
    _check_finite_nonnegative("weights", w)
    rows = w.shape[:2]
    start = _broadcast_int("window_start", window_start, rows)
    width = _broadcast_int("window_width", window_width, rows)
    if np.any(width < 1):
        raise ValueError(f"window_width must be >= 1, got minimum {int(width.min())}")
    evaluated = start >= 0
    if valid is not None:
        valid_arr = np.asarray(_to_numpy(valid))
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


def weights_table(weights, sample_ids=None, node_names=None, mask=None) -> list[tuple]:
    """All weights as rows ``(sample, node, step, weight)``, sample-major, then node, then step.

    Args:
        weights: ``[S, N, T]``.
        sample_ids: ``S`` labels for the samples (default: ``0 .. S-1``), e.g. their indices in the data set.
        node_names: ``N`` node names (default: ``0 .. N-1``).
        mask: optional bool ``[S, N, T]``; masked steps are left out of the table.

    Returns:
        List of ``(sample, node, step, weight)`` tuples, ``weight`` a Python float.
    """
    return list(_iter_weight_rows(weights, sample_ids, node_names, mask))


def write_weights_csv(path, weights, sample_ids=None, node_names=None, mask=None) -> Path:
    """Write all weights as CSV with columns ``sample,node,step,weight`` (see :func:`weights_table`).

    Args:
        path: file to write (parent folders are created).
        weights: ``[S, N, T]``.
        sample_ids: ``S`` sample labels (default: ``0 .. S-1``).
        node_names: ``N`` node names (default: ``0 .. N-1``).
        mask: optional bool ``[S, N, T]``; masked steps are left out.

    Returns:
        The path written.
    """
    rows = _iter_weight_rows(weights, sample_ids, node_names, mask)  # streamed: S*N*T rows can be many
    path = _prepare(path)
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(("sample", "node", "step", "weight"))
        for sample, node, step, weight in rows:
            writer.writerow((sample, node, step, _fmt(weight)))
    return path


def write_stats_csv(path, stats, sample_ids=None, node_names=None) -> Path:
    """Write per-node statistics as CSV: ``sample,node,entropy,effective_steps,argmax_step,max_weight``.

    Args:
        path: file to write (parent folders are created).
        stats: the dict of :func:`attention_stats` on ``[S, N, T]`` weights, each entry ``[S, N]``.
        sample_ids: ``S`` sample labels (default: ``0 .. S-1``).
        node_names: ``N`` node names (default: ``0 .. N-1``).

    Returns:
        The path written.
    """
    missing = [key for key in STATS_COLUMNS if key not in stats]
    if missing:
        raise KeyError(f"stats is missing {missing}; expected the dict of attention_stats with keys {STATS_COLUMNS}")
    arrays = {key: np.asarray(stats[key]) for key in STATS_COLUMNS}
    shape = arrays["entropy"].shape
    if len(shape) != 2 or any(a.shape != shape for a in arrays.values()):
        shapes = {key: a.shape for key, a in arrays.items()}
        raise ValueError(f"stats entries must all be [S, N], got shapes {shapes}")
    samples = _labels("sample_ids", sample_ids, shape[0])
    nodes = _labels("node_names", node_names, shape[1])
    path = _prepare(path)
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(("sample", "node", *STATS_COLUMNS))
        for s, sample in enumerate(samples):
            for n, node in enumerate(nodes):
                writer.writerow(
                    (
                        sample,
                        node,
                        _fmt(arrays["entropy"][s, n]),
                        _fmt(arrays["effective_steps"][s, n]),
                        int(arrays["argmax_step"][s, n]),
                        _fmt(arrays["max_weight"][s, n]),
                    )
                )
    return path


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
        _check_count("largest_errors" if largest_errors is not None else "per_class", k)
        if errors is None:
            if y_pred is None:
                raise ValueError("choose_samples needs y_pred or errors to rank regression samples")
            truth = np.asarray(_to_numpy(y_true), dtype=np.float64)
            pred = np.asarray(_to_numpy(y_pred), dtype=np.float64)
            if truth.shape != pred.shape:
                raise ValueError(f"y_true and y_pred must have the same shape, got {truth.shape} and {pred.shape}")
            errors = np.abs(pred - truth).reshape(len(truth), -1).mean(axis=1) if truth.ndim else np.abs(pred - truth)
        errors = np.asarray(_to_numpy(errors), dtype=np.float64)
        if errors.ndim != 1:
            raise ValueError(f"errors must be [S], got shape {errors.shape}")
        # NaN errors rank first: a sample the model cannot score is the one to look at.
        key = np.where(np.isnan(errors), np.inf, errors)
        order = np.argsort(-key, kind="stable")
        return order[:k].astype(np.int64)

    _check_count("per_class", per_class)
    truth = np.asarray(_to_numpy(y_true))
    pred = np.asarray(_to_numpy(y_pred))
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


# ----------------------------------------------------------------------------------------------- helpers


def _iter_weight_rows(weights, sample_ids, node_names, mask):
    w = _as_weights("weights", weights, min_ndim=1)
    if w.ndim != 3:
        raise ValueError(f"weights must be [S, N, T], got shape {tuple(w.shape)}")
    if mask is not None:
        mask = _as_mask("mask", mask, w.shape)
    samples = _labels("sample_ids", sample_ids, w.shape[0])
    nodes = _labels("node_names", node_names, w.shape[1])

    # Checked above, iterated lazily below: a bad argument fails before any file is opened.
    def rows():
        for s, sample in enumerate(samples):
            for n, node in enumerate(nodes):
                for t in range(w.shape[2]):
                    if mask is None or mask[s, n, t]:
                        yield (sample, node, t, float(w[s, n, t]))

    return rows()


def _to_numpy(value):
    # Torch tensors (possibly on GPU, possibly requiring grad) without importing torch here.
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        return value.detach().cpu().numpy()
    return value


def _as_weights(name: str, value, min_ndim: int) -> np.ndarray:
    arr = np.asarray(_to_numpy(value))
    if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    if arr.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} dimension(s), got shape {arr.shape}")
    if arr.shape[-1] == 0:
        raise ValueError(f"{name} must have at least one step on its last axis, got shape {arr.shape}")
    return arr.astype(np.float64, copy=False)


def _as_mask(name: str, value, shape) -> np.ndarray:
    arr = np.asarray(_to_numpy(value))
    if arr.dtype != np.bool_:
        raise TypeError(f"{name} must be bool (True = valid step), got dtype {arr.dtype}")
    if arr.shape != tuple(shape):
        raise ValueError(f"{name} must have the shape of weights {tuple(shape)}, got {arr.shape}")
    return arr


def _check_finite_nonnegative(name: str, w: np.ndarray) -> None:
    if not np.all(np.isfinite(w)):
        raise ValueError(f"{name} must be finite at valid steps, found {int((~np.isfinite(w)).sum())} NaN/inf")
    if np.any(w < 0):
        raise ValueError(f"{name} must be non-negative, got minimum {float(w.min())}")


def _broadcast_int(name: str, value, shape) -> np.ndarray:
    arr = np.asarray(_to_numpy(value))
    if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must be integer, got dtype {arr.dtype}")
    try:
        return np.broadcast_to(arr, shape).astype(np.int64)
    except ValueError:
        raise ValueError(f"{name} must broadcast to [S, N] = {list(shape)}, got shape {arr.shape}") from None


def _labels(name: str, labels, count: int) -> list:
    if labels is None:
        return list(range(count))
    labels = list(_to_numpy(labels))
    if len(labels) != count:
        raise ValueError(f"{name} must have {count} entries, got {len(labels)}")
    return [label.item() if isinstance(label, np.generic) else label for label in labels]


def _check_count(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")


def _prepare(path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _fmt(value) -> str:
    # Eight significant digits: exact enough to recompute statistics, short enough to read.
    return format(float(value), ".8g")


__all__ = [
    "STATS_COLUMNS",
    "attention_stats",
    "choose_samples",
    "pointing_game",
    "weights_table",
    "write_stats_csv",
    "write_weights_csv",
]
