"""Array arguments of the explanation functions, checked at the door: numpy in, a one-line message out.

Every function here takes numpy arrays or torch tensors (converted without importing torch), and raises
``TypeError`` for a wrong dtype and ``ValueError`` for a wrong shape or value, naming the argument.
"""

from __future__ import annotations

import numpy as np


def to_numpy(value):
    """A torch tensor (possibly on GPU, possibly requiring grad) as numpy; anything else unchanged."""
    # Torch tensors (possibly on GPU, possibly requiring grad) without importing torch here.
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        return value.detach().cpu().numpy()
    return value


def as_weights(name: str, value, min_ndim: int) -> np.ndarray:
    """``value`` as float64 weights ``[..., T]`` with at least ``min_ndim`` axes and one step."""
    arr = np.asarray(to_numpy(value))
    if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    if arr.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} dimension(s), got shape {arr.shape}")
    if arr.shape[-1] == 0:
        raise ValueError(f"{name} must have at least one step on its last axis, got shape {arr.shape}")
    return arr.astype(np.float64, copy=False)


def as_mask(name: str, value, shape) -> np.ndarray:
    """``value`` as a bool mask of exactly ``shape`` (True = valid step)."""
    arr = np.asarray(to_numpy(value))
    if arr.dtype != np.bool_:
        raise TypeError(f"{name} must be bool (True = valid step), got dtype {arr.dtype}")
    if arr.shape != tuple(shape):
        raise ValueError(f"{name} must have the shape of weights {tuple(shape)}, got {arr.shape}")
    return arr


def check_finite_nonnegative(name: str, w: np.ndarray) -> None:
    """Refuse NaN, inf or negative weights."""
    if not np.all(np.isfinite(w)):
        raise ValueError(f"{name} must be finite at valid steps, found {int((~np.isfinite(w)).sum())} NaN/inf")
    if np.any(w < 0):
        raise ValueError(f"{name} must be non-negative, got minimum {float(w.min())}")


def broadcast_int(name: str, value, shape) -> np.ndarray:
    """``value`` as int64 broadcast to ``shape`` (e.g. one window start per sample and node)."""
    arr = np.asarray(to_numpy(value))
    if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must be integer, got dtype {arr.dtype}")
    try:
        return np.broadcast_to(arr, shape).astype(np.int64)
    except ValueError:
        raise ValueError(f"{name} must broadcast to [S, N] = {list(shape)}, got shape {arr.shape}") from None


def as_labels(name: str, labels, count: int) -> list:
    """``count`` labels as plain Python values (default: ``0 .. count-1``)."""
    if labels is None:
        return list(range(count))
    labels = list(to_numpy(labels))
    if len(labels) != count:
        raise ValueError(f"{name} must have {count} entries, got {len(labels)}")
    return [label.item() if isinstance(label, np.generic) else label for label in labels]


def check_count(name: str, value) -> None:
    """Refuse anything but a positive int (bool is not an int here)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")


__all__ = ["as_labels", "as_mask", "as_weights", "broadcast_int", "check_count", "check_finite_nonnegative", "to_numpy"]
