"""Validation of a raw :class:`TimeSeriesSet`: shapes, dtypes, finiteness, labels and names, in canonical dtypes."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..errors import DataError
from ..tasks import TASKS
from .dataset import TimeSeriesSet


def validate(ds: TimeSeriesSet) -> TimeSeriesSet:
    """Check shapes, dtypes, finiteness and labels of a raw set; return it with canonical dtypes.

    Raises:
        DataError: one line naming the source, the array, what was expected and what came.
    """
    src = ds.source
    x = _numeric(ds.x, "x", src)
    if x.ndim != 4:
        raise DataError(f"{src}: x must have 4 axes [S, N, T, F], got shape {x.shape}")
    if min(x.shape) == 0:
        raise DataError(f"{src}: x must have at least one sample, node, step and feature, got shape {x.shape}")
    S, N, T, F = x.shape

    mask = ds.mask
    if mask is not None:
        mask = np.asarray(mask)
        if mask.shape != (S, N, T):
            raise DataError(f"{src}: mask must have shape [S, N, T] = {(S, N, T)}, got {mask.shape}")
        if mask.dtype != bool:
            if not np.issubdtype(mask.dtype, np.number) or not np.isin(mask, (0, 1)).all():
                raise DataError(f"{src}: mask must be bool (or 0/1), got values of dtype {mask.dtype}")
            mask = mask.astype(bool)
        if not mask.any():
            raise DataError(f"{src}: mask marks no valid step at all (every value of mask is False)")
    # Finiteness is checked on the values the model will see: float32. A float64 1e300 is finite, and becomes
    # inf in the cast, which trained to NaN and wrote NaN metrics before this check.
    x32 = _as_float32(x)
    bad = ~np.isfinite(x32)  # [S, N, T, F]
    if mask is not None:
        bad &= mask[..., None]
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        where = "valid steps" if mask is not None else "steps (no mask given)"
        raise DataError(
            f"{src}: x{list(first)} = {x[first]:g} is not finite in float32 ({int(bad.any(-1).sum())} {where} "
            f"have such values); fix them or mark them False in mask"
        )

    task = ds.task
    if task not in TASKS:
        raise DataError(f"{src}: task must be one of {', '.join(TASKS)}, got {task!r}")
    y = np.asarray(ds.y)
    class_names = None if ds.class_names is None else [str(c) for c in ds.class_names]
    if task == "classify":
        y = _labels(y, S, class_names, src)
        if class_names is None:
            class_names = [str(c) for c in range(int(y.max()) + 1)]
    else:
        y = _numeric(y, "y", src)
        if task == "regress":
            if y.ndim == 1:
                y = y[:, None]
            if y.shape[0] != S or not (y.ndim == 2 or (y.ndim == 3 and y.shape[1] == N)):
                raise DataError(f"{src}: regress y must have shape [S], [S, D] or [S, N, D] with S={S}, N={N}, got {y.shape}")
        elif y.ndim != 3 or y.shape[:2] != (S, N):
            raise DataError(f"{src}: forecast y must have shape [S, N, H] with S={S}, N={N}, got {y.shape}")
        if min(y.shape) == 0:
            raise DataError(f"{src}: y must not have an empty axis, got shape {y.shape}")
        bad_y = ~np.isfinite(_as_float32(y))
        if bad_y.any():
            first = tuple(int(i) for i in np.argwhere(bad_y)[0])
            raise DataError(f"{src}: y{list(first)} = {y[first]:g} is not finite in float32 "
                            f"({int(bad_y.sum())} such values)")
        class_names = None

    adjacency = ds.adjacency
    if adjacency is not None:
        adjacency = _numeric(adjacency, "adjacency", src)
        if adjacency.shape != (N, N):
            raise DataError(f"{src}: adjacency must have shape [N, N] = {(N, N)}, got {adjacency.shape}")
        bad_a = ~np.isfinite(_as_float32(adjacency))
        if bad_a.any():
            first = tuple(int(i) for i in np.argwhere(bad_a)[0])
            raise DataError(f"{src}: adjacency{list(first)} = {adjacency[first]:g} is not finite in float32")
        adjacency = adjacency.astype(np.float32)

    node_names = _names(ds.node_names, N, "node_names", "node", src)
    feature_names = _names(ds.feature_names, F, "feature_names", "f", src)
    return replace(
        ds, x=x.astype(np.float64), mask=mask, y=y, task=task, adjacency=adjacency,
        node_names=node_names, feature_names=feature_names, class_names=class_names,
    )


# ---- helpers ---------------------------------------------------------------------------------------------

# More classes than this from integer labels without class_names is taken for ids that are not class indices
# (a y of 10**9 built a billion class names before running out of memory).
MAX_CLASSES = 10_000


def _as_float32(a: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore", invalid="ignore"):
        return np.asarray(a).astype(np.float32)



def _numeric(a, name: str, src: str) -> np.ndarray:
    a = np.asarray(a)
    if a.dtype == bool or not np.issubdtype(a.dtype, np.number):
        raise DataError(f"{src}: {name} must be numeric, got dtype {a.dtype}")
    if np.iscomplexobj(a):
        raise DataError(f"{src}: {name} must be real, got dtype {a.dtype}")
    return a


def _labels(y: np.ndarray, S: int, class_names, src: str) -> np.ndarray:
    if y.shape != (S,):
        raise DataError(f"{src}: classify y must have shape [S] = ({S},), got {y.shape}")
    if y.dtype.kind in "USO":
        raise DataError(f"{src}: classify y must hold integer class ids, got dtype {y.dtype}")
    if y.dtype.kind == "f":
        if not np.isfinite(y).all() or not (y == np.round(y)).all():
            raise DataError(f"{src}: classify y must hold integer class ids, got non-integer values")
    elif y.dtype.kind not in "iu":
        raise DataError(f"{src}: classify y must hold integer class ids, got dtype {y.dtype}")
    if y.dtype.kind == "f" and np.abs(y).max() >= 2**62:
        raise DataError(f"{src}: classify y must hold class ids 0..K-1, got {y[np.abs(y).argmax()]:g}")
    y = y.astype(np.int64)
    n_classes = len(class_names) if class_names is not None else None
    if n_classes is None and y.max() >= MAX_CLASSES:
        raise DataError(f"{src}: classify y must hold class ids 0..K-1 with K <= {MAX_CLASSES}, got label "
                        f"{int(y.max())}; map the labels to 0..K-1 (np.unique(y, return_inverse=True)) or give "
                        f"class_names")
    if y.min() < 0 or (n_classes is not None and y.max() >= n_classes):
        bound = f"[0, {n_classes})" if n_classes is not None else ">= 0"
        bad = y[(y < 0) | (y >= (n_classes if n_classes is not None else np.inf))]
        raise DataError(f"{src}: labels out of range: expected {bound}, got {int(bad[0])} ({len(bad)} labels)")
    return y


def _names(names, n: int, field_name: str, prefix: str, src: str) -> list[str]:
    if names is None or len(names) == 0:
        return [f"{prefix}{i}" for i in range(n)]
    names = [str(s) for s in names]
    if len(names) != n:
        raise DataError(f"{src}: {field_name} must have {n} entries, got {len(names)}")
    return names


__all__ = ["validate"]
