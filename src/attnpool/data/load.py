"""``load_data``: one entry point for every source, and the steps every source shares.

Each reader returns a raw :class:`TimeSeriesSet` (original units, values at masked steps may be NaN, splits
possibly partial); :func:`prepare` then validates it, completes the splits, zeroes masked steps, computes the
baseline and standardizes x (and y for regress/forecast) with statistics of the training part only.
"""

from __future__ import annotations

import os
from dataclasses import replace

import numpy as np

from .dataset import SPLITS, TASKS, DataError, TimeSeriesSet
from .splits import carve_val, check_fractions, check_nonempty, random_split


def load_data(
    source,
    *,
    task: str | None = None,
    window: int = 30,
    horizon: int = 1,
    nodes=None,
    split=(0.7, 0.15, 0.15),
    seed: int = 0,
    standardize: bool = True,
    **options,
) -> TimeSeriesSet:
    """Read, validate, split and standardize a data set.

    Args:
        source: a path to a ``.npz`` or ``.csv`` file, ``"uea:<Name>"`` (a UEA/UCR set through aeon, e.g.
            ``"uea:BasicMotions"``) or ``"synthetic:peaks"``.
        task: ``"classify"``, ``"regress"`` or ``"forecast"``; None infers it from the source (NPZ: integer or
            string y of shape [S] -> classify, float y -> regress; CSV -> forecast; UEA -> classify, or regress
            for aeon's regression sets; synthetic:peaks -> classify).
        window: steps T per window (CSV only) (default: 30).
        horizon: forecast steps H (CSV only) (default: 1).
        nodes: UEA: how channels group into nodes: None (each channel a node with 1 feature), an int k (k
            nodes of consecutive channels) or a string like ``"0,1,2|3,4,5"``; synthetic:peaks: the number of
            nodes (default: 7). Refused for NPZ and CSV.
        split: fractions (train, val, test) (default: (0.7, 0.15, 0.15)). A split the source ships is kept
            (UEA train/test, an NPZ ``split`` array); val is then carved out of its train part.
        seed: seed of random splits and of synthetic data (default: 0).
        standardize: standardize x per node and feature, and y for regress/forecast, with statistics of
            the training part only (masked steps excluded) (default: True).
        **options: source-specific options: synthetic:peaks takes ``samples``, ``steps``, ``noise``, ...;
            CSV takes ``time_column`` and ``delimiter``; UEA takes ``extract_path`` (aeon's download folder).

    Returns:
        The validated :class:`TimeSeriesSet`.

    Raises:
        DataError: on any problem with the source, with a one-line message naming it.
    """
    if task is not None and task not in TASKS:
        raise DataError(f"{source}: task must be one of {', '.join(TASKS)} or None, got {task!r}")
    name = os.fspath(source) if isinstance(source, os.PathLike) else source
    if not isinstance(name, str) or not name:
        raise DataError(f"source must be a path or a 'uea:<Name>' / 'synthetic:peaks' string, got {source!r}")
    fracs = check_fractions(split, name)
    common = dict(task=task, window=window, horizon=horizon, nodes=nodes, fracs=fracs, seed=seed)

    lower = name.lower()
    if lower.startswith("uea:") or lower.startswith("ucr:"):
        from .uea import read_uea

        raw = read_uea(name, **common, **options)
    elif lower.startswith("synthetic:"):
        from .synthetic import read_synthetic

        raw = read_synthetic(name, **common, **options)
    elif lower.endswith(".npz"):
        from .npz import read_npz

        raw = read_npz(name, **common, **options)
    elif lower.endswith(".csv"):
        from .wide_csv import read_csv

        raw = read_csv(name, **common, **options)
    else:
        raise DataError(
            f"{name}: unknown source; expected a .npz or .csv file, 'uea:<Name>' or 'synthetic:peaks'"
        )
    raw.meta.setdefault("source", name)
    return prepare(raw, fracs=fracs, seed=seed, standardize=standardize)


def prepare(ds: TimeSeriesSet, *, fracs=(0.7, 0.15, 0.15), seed: int = 0, standardize: bool = True) -> TimeSeriesSet:
    """Validate a raw set, complete its splits, zero masked steps, add the baseline, standardize.

    Args:
        ds: a raw set in original units (values at masked steps may be NaN); ``ds.splits`` may be empty,
            hold only train and test, or all three parts.
        fracs: (train, val, test) fractions for the parts the source does not give.
        seed: seed of random splits.
        standardize: see :func:`load_data`.
    """
    src = ds.source
    ds = validate(ds)
    splits, required = _complete_splits(ds, fracs, seed)
    check_nonempty(splits, required, ds.n_samples, src)

    x, mask, y = ds.x, ds.mask, ds.y
    if mask is not None:
        x = np.where(mask[..., None], x, 0.0)
        if mask.all():
            mask = None
    train = splits["train"]

    baseline = _baseline(ds.task, x, mask, y, train)
    x_mean = x_std = target_mean = target_std = None
    if standardize:
        x_mean, x_std = _node_feature_stats(x[train], None if mask is None else mask[train])
        x = (x - x_mean[None, :, None, :]) / x_std[None, :, None, :]
        if mask is not None:
            x = np.where(mask[..., None], x, 0.0)
        if ds.task == "forecast":
            # The forecast target is feature 0 of each node: the same variable as the input, so the same stats.
            target_mean, target_std = x_mean[None, :, 0:1], x_std[None, :, 0:1]
        elif ds.task == "regress":
            target_mean = y[train].mean(axis=0, keepdims=True)
            target_std = _safe_std(y[train].std(axis=0, keepdims=True))
        if target_mean is not None:
            target_mean, target_std = target_mean.astype(np.float32), target_std.astype(np.float32)
            y = (y - target_mean) / target_std
            baseline = (baseline - target_mean) / target_std

    y = y.astype(np.int64) if ds.task == "classify" else y.astype(np.float32)
    return replace(
        ds,
        x=np.ascontiguousarray(x, dtype=np.float32),
        mask=None if mask is None else np.ascontiguousarray(mask, dtype=bool),
        y=y,
        splits=splits,
        baseline=None if baseline is None else baseline.astype(y.dtype),
        target_mean=target_mean,
        target_std=target_std,
        x_mean=None if x_mean is None else x_mean.astype(np.float32),
        x_std=None if x_std is None else x_std.astype(np.float32),
    )


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
    bad = ~np.isfinite(x).all(axis=-1)
    if mask is not None:
        bad &= mask
    if bad.any():
        s, n, t = (int(i) for i in np.argwhere(bad)[0])
        where = "valid steps" if mask is not None else "steps (no mask given)"
        raise DataError(
            f"{src}: x has NaN or inf at {int(bad.sum())} {where}, first at sample {s}, node {n}, step {t}; "
            f"fix them or mark them False in mask"
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
        if not np.isfinite(y).all():
            first = tuple(int(i) for i in np.argwhere(~np.isfinite(y))[0])
            raise DataError(f"{src}: y has {int((~np.isfinite(y)).sum())} NaN or inf values, first at {first}")
        class_names = None

    adjacency = ds.adjacency
    if adjacency is not None:
        adjacency = _numeric(adjacency, "adjacency", src)
        if adjacency.shape != (N, N):
            raise DataError(f"{src}: adjacency must have shape [N, N] = {(N, N)}, got {adjacency.shape}")
        if not np.isfinite(adjacency).all():
            raise DataError(f"{src}: adjacency has NaN or inf values")
        adjacency = adjacency.astype(np.float32)

    node_names = _names(ds.node_names, N, "node_names", "node", src)
    feature_names = _names(ds.feature_names, F, "feature_names", "f", src)
    return replace(
        ds, x=x.astype(np.float64), mask=mask, y=y, task=task, adjacency=adjacency,
        node_names=node_names, feature_names=feature_names, class_names=class_names,
    )


# ---- helpers ---------------------------------------------------------------------------------------------


def _complete_splits(ds: TimeSeriesSet, fracs, seed: int):
    """Splits for every part, and the fractions to hold them to (a part the source left out may stay empty)."""
    src, S = ds.source, ds.n_samples
    labels = ds.y if ds.task == "classify" else None
    given = {k: np.asarray(v, dtype=np.int64).reshape(-1) for k, v in ds.splits.items()}
    unknown = set(given) - set(SPLITS)
    if unknown:
        raise DataError(f"{src}: split names must be train, val, test, got {sorted(unknown)}")
    if not given:
        return random_split(S, fracs, seed, labels), fracs
    seen = np.concatenate([given[k] for k in given]) if given else np.zeros(0, np.int64)
    if seen.size and (seen.min() < 0 or seen.max() >= S):
        raise DataError(f"{src}: split indices must lie in [0, {S}), got min {seen.min()}, max {seen.max()}")
    if len(np.unique(seen)) != len(seen):
        raise DataError(f"{src}: split parts overlap: a sample is in more than one of train, val, test")
    if "train" not in given or len(given["train"]) == 0:
        raise DataError(f"{src}: the given split has no training samples")
    splits = {k: np.sort(given.get(k, np.zeros(0, np.int64))) for k in SPLITS}
    if "val" not in given and fracs[1] > 0:
        splits["train"], splits["val"] = carve_val(splits["train"], fracs, seed, labels)
    required = (fracs[0], fracs[1] if "val" not in given else 0.0, 0.0)
    return splits, required


def _baseline(task: str, x: np.ndarray, mask, y: np.ndarray, train: np.ndarray):
    """The baseline prediction in original units (before standardization)."""
    if task == "classify":
        majority = np.bincount(y[train]).argmax()
        return np.full(y.shape, majority, dtype=np.int64)
    if task == "regress":
        return np.broadcast_to(y[train].mean(axis=0, keepdims=True), y.shape).copy()
    # forecast: persistence, the last valid value of each node's target feature (0), repeated H times.
    target = x[..., 0]  # [S, N, T]
    if mask is None:
        last = target[..., -1]
    else:
        T = target.shape[-1]
        last_step = T - 1 - np.argmax(mask[..., ::-1], axis=-1)  # [S, N]
        last = np.take_along_axis(target, last_step[..., None], axis=-1)[..., 0]
        # A node with no valid step in its window falls back to its training mean.
        node_mean, _ = _node_feature_stats(x[train][..., :1], mask[train])
        last = np.where(mask.any(axis=-1), last, node_mean[None, :, 0])
    return np.repeat(last[..., None], y.shape[-1], axis=-1)


def _node_feature_stats(x: np.ndarray, mask) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std per node and feature over samples and steps, valid steps only: ``[S,N,T,F] -> [N,F]``."""
    w = np.ones(x.shape[:3], dtype=np.float64) if mask is None else mask.astype(np.float64)
    count = w.sum(axis=(0, 2))[:, None]  # [N, 1]
    safe = np.maximum(count, 1.0)
    mean = (x * w[..., None]).sum(axis=(0, 2)) / safe
    var = (((x - mean[None, :, None, :]) ** 2) * w[..., None]).sum(axis=(0, 2)) / safe
    mean = np.where(count > 0, mean, 0.0)
    return mean, _safe_std(np.sqrt(var))


def _safe_std(std: np.ndarray) -> np.ndarray:
    # A constant column would divide by zero; leave it centred but unscaled.
    return np.where(std > 1e-8, std, 1.0)


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
    y = y.astype(np.int64)
    n_classes = len(class_names) if class_names is not None else None
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
