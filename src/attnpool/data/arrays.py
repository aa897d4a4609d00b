"""Build a :class:`TimeSeriesSet` from arrays in memory: ``from_arrays(x, y, ...)``.

The in-memory twin of the NPZ reader: the same arrays (``x``, ``y``, ``mask``, ``adjacency``, names, a
per-sample split) and the same validation, splitting (:func:`~attnpool.data.load.prepare`),
so an aeon, sktime or pandas user needs no file. As in the CSV reader, NaN in ``x`` marks a missing value: the
node's step is masked (a step is valid when all its features are finite).
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError
from .dataset import SPLITS, TimeSeriesSet
from .load import prepare
from .npz import _split
from .splits import check_fractions


def from_arrays(
    x,
    y,
    *,
    task: str | None = None,
    mask=None,
    adjacency=None,
    node_names=None,
    feature_names=None,
    class_names=None,
    parts=None,
    split=(0.7, 0.15, 0.15),
    seed: int = 0,
    source: str = "arrays",
) -> TimeSeriesSet:
    """A validated and split set from numpy arrays or CPU torch tensors, in the data's own units (the model
    standardizes inside itself).

    Args:
        x: ``[S, N, T, F]`` numbers, any real dtype; NaN = a missing value (that node's step is masked).
        y: classify: ``[S]`` integer class ids or strings (string classes are the sorted distinct labels unless
            ``class_names`` orders them); regress: ``[S]``, ``[S, D]`` or ``[S, N, D]`` floats; forecast:
            ``[S, N, H]``.
        task: ``"classify"``, ``"regress"``, ``"forecast"``, or None to infer it as the NPZ reader does
            (integer or string ``y [S]`` -> classify, float y -> regress).
        mask: ``[S, N, T]`` bool or 0/1 (True = valid step), combined with the NaN in ``x``; None: only NaN masks.
        adjacency: ``[N, N]`` for the graph mixer, or None.
        node_names: N names (default: ``node0 ...``). feature_names: F names (default: ``f0 ...``).
        class_names: K names of the class ids (classify only).
        parts: a split the data already has: ``[S]`` of ``"train"``/``"val"``/``"test"`` or 0/1/2, as the NPZ
            ``split`` array; a part it leaves out is carved from train (val) or stays empty (test).
        split: fractions (train, val, test) for the parts ``parts`` does not give (default: (0.7, 0.15, 0.15)).
        seed: seed of the random (stratified, for classify) split (default: 0).
        source: the name errors and summaries use (default: ``"arrays"``).

    Returns:
        The :class:`TimeSeriesSet`; ``meta["source"]`` is ``source``.

    Raises:
        DataError: one line naming ``source``, the array, what was expected and what came.

    Example:
        >>> ds = from_arrays(np.random.randn(50, 7, 30, 1), np.arange(50) % 2)
        >>> ds.summary()  # 'arrays: classify, 50 samples (train 36 / val 7 / test 7), 7 nodes x 30 steps ...'
    """
    x = _to_numpy(x, "x", source)
    y = _to_numpy(y, "y", source)
    fracs = check_fractions(split, source)
    if x.dtype.kind not in "iuf" or x.dtype == bool:
        raise DataError(f"{source}: x must be real numbers, got dtype {x.dtype}")
    if x.ndim != 4:
        raise DataError(f"{source}: x must have 4 axes [S, N, T, F], got shape {x.shape}")
    missing = np.isnan(x).any(axis=-1) if x.dtype.kind == "f" else np.zeros(x.shape[:3], dtype=bool)  # [S, N, T]
    if mask is not None:
        mask = _to_numpy(mask, "mask", source)
        if mask.shape != x.shape[:3]:
            raise DataError(f"{source}: mask must have shape [S, N, T] = {x.shape[:3]}, got {mask.shape}")
        if mask.dtype != bool:
            if mask.dtype.kind not in "iuf" or not np.isin(mask, (0, 1)).all():
                raise DataError(f"{source}: mask must be bool (or 0/1), got values of dtype {mask.dtype}")
            mask = mask.astype(bool)
    if missing.any():
        mask = ~missing if mask is None else (mask & ~missing)

    if task is not None and task not in ("classify", "regress", "forecast"):
        raise DataError(f"{source}: task must be one of classify, regress, forecast or None, got {task!r}")
    if y.dtype.kind in "USO":  # string labels (an object array of str, as pandas gives, included)
        if task not in (None, "classify"):
            raise DataError(f"{source}: y holds strings, which only fit task 'classify', got task {task!r}")
        y, class_names = _encode_labels(y, class_names, source)
        task = "classify"
    if task is None:
        task = "classify" if (y.dtype.kind in "iu" and y.ndim == 1) else "regress"
    if class_names is not None and task != "classify":
        raise DataError(f"{source}: class_names only fit task 'classify', got task {task!r}")

    raw = TimeSeriesSet(
        x=x,
        y=y,
        task=task,
        mask=mask,
        adjacency=None if adjacency is None else _to_numpy(adjacency, "adjacency", source),
        node_names=_names(node_names),
        feature_names=_names(feature_names),
        class_names=None if class_names is None else _names(class_names),
        splits=_split(None if parts is None else _to_numpy(parts, "parts", source), x.shape[0], source),
        meta={"source": source},
    )
    return prepare(raw, fracs=fracs, seed=seed)


def to_npz(ds: TimeSeriesSet, path) -> None:
    """Write ``ds`` as an NPZ file that :func:`~attnpool.data.load_data` reads back as the same set: ``x`` (NaN at
    masked steps), ``y``, ``mask``, ``split`` (each sample's part), names and adjacency."""
    parts = np.full(ds.n_samples, "train", dtype="<U5")
    for name in SPLITS:
        parts[ds.splits.get(name, np.zeros(0, np.int64))] = name
    x = ds.x if ds.mask is None else np.where(ds.mask[..., None], ds.x, np.nan)
    arrays = {"x": x, "y": ds.y, "split": parts, "node_names": np.array(ds.node_names, dtype=str),
              "feature_names": np.array(ds.feature_names, dtype=str)}
    if ds.mask is not None:
        arrays["mask"] = ds.mask
    if ds.adjacency is not None:
        arrays["adjacency"] = ds.adjacency
    if ds.class_names is not None:
        arrays["class_names"] = np.array(ds.class_names, dtype=str)
    np.savez(path, **arrays)


def _to_numpy(a, name: str, source: str) -> np.ndarray:
    if hasattr(a, "detach"):  # a torch tensor: avoid importing torch for numpy callers
        if a.device.type != "cpu":
            raise DataError(f"{source}: {name} must be on the CPU, got a tensor on {a.device}")
        a = a.detach().numpy()
    try:
        return np.asarray(a)
    except (TypeError, ValueError) as err:  # ragged nested lists
        raise DataError(f"{source}: {name} must be an array, got {type(a).__name__} ({err})") from None


def _encode_labels(y: np.ndarray, class_names, source: str) -> tuple[np.ndarray, list[str]]:
    if y.ndim != 1:
        raise DataError(f"{source}: classify y must have shape [S], got {y.shape}")
    labels = [str(v) for v in y.tolist()]
    names = sorted(set(labels)) if class_names is None else _names(class_names)
    lookup = {c: i for i, c in enumerate(names)}
    unknown = sorted(set(labels) - set(lookup))
    if unknown:
        raise DataError(f"{source}: labels {unknown[:5]} are not in class_names {names}")
    return np.array([lookup[s] for s in labels], dtype=np.int64), names


def _names(names) -> list[str]:
    if names is None:
        return []
    return [str(n) for n in (names.tolist() if isinstance(names, np.ndarray) else names)]
