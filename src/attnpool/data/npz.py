"""NPZ reader: arrays written with ``numpy.savez`` (see docs/data.md).

Arrays: ``x [S, N, T, F]`` and ``y`` (required); ``mask [S, N, T]``, ``adjacency [N, N]``, ``node_names [N]``,
``feature_names [F]``, ``class_names [K]``, ``split [S]`` (``"train"``/``"val"``/``"test"`` or 0/1/2)
(optional). Any other array goes into ``meta`` under its own name.
"""

from __future__ import annotations

import os
import zipfile
import zlib

import numpy as np

from ..errors import DataError
from .dataset import SPLITS, TimeSeriesSet

KNOWN = ("x", "y", "mask", "adjacency", "node_names", "feature_names", "class_names", "split")


def read_npz(path: str, *, task, nodes, fracs, seed, window=None, horizon=None, **options) -> TimeSeriesSet:
    """Read an NPZ file into a raw :class:`TimeSeriesSet` (validation and splits follow in ``prepare``).

    Args:
        path: the ``.npz`` file.
        task: None infers it: y of integers or strings with shape [S] -> classify, float y -> regress;
            give ``"forecast"`` for y ``[S, N, H]``.
        nodes: must be None (x already has its node axis).
    """
    if options:
        raise DataError(f"{path}: unknown option(s) for an NPZ file: {', '.join(sorted(options))}")
    if nodes is not None:
        raise DataError(f"{path}: nodes= groups UEA channels; an NPZ file already has x [S, N, T, F]")
    arrays = _load(path)
    for key in ("x", "y"):
        if key not in arrays:
            raise DataError(f"{path}: missing array {key!r}; found {sorted(arrays) or 'no arrays'}")

    y = arrays["y"]
    class_names = _strings(arrays, "class_names", path)
    if y.dtype.kind in "US":  # string labels: classes are the sorted distinct strings unless named
        if task not in (None, "classify"):
            raise DataError(f"{path}: y holds strings, which only fit task 'classify', got task {task!r}")
        labels = y.astype(str)
        if class_names is None:
            class_names = sorted(set(labels.tolist()))
        lookup = {c: i for i, c in enumerate(class_names)}
        unknown = sorted(set(labels.tolist()) - set(lookup))
        if unknown:
            raise DataError(f"{path}: labels {unknown[:5]} are not in class_names")
        y = np.array([lookup[s] for s in labels.tolist()], dtype=np.int64).reshape(labels.shape)
        task = "classify"
    if task is None:
        task = "classify" if (y.dtype.kind in "iu" and y.ndim == 1) else "regress"

    S = arrays["x"].shape[0] if arrays["x"].ndim else 0
    meta = {k: v for k, v in arrays.items() if k not in KNOWN}
    meta["source"] = path
    return TimeSeriesSet(
        x=arrays["x"],
        y=y,
        task=task,
        mask=arrays.get("mask"),
        adjacency=arrays.get("adjacency"),
        node_names=_strings(arrays, "node_names", path) or [],
        feature_names=_strings(arrays, "feature_names", path) or [],
        class_names=class_names,
        splits=_split(arrays.get("split"), S, path),
        meta=meta,
    )


def _load(path: str) -> dict[str, np.ndarray]:
    if not os.path.exists(path):
        raise DataError(f"{path}: file not found")
    if os.path.isdir(path):
        raise DataError(f"{path}: is a directory, expected an .npz file")
    if os.path.getsize(path) == 0:
        raise DataError(f"{path}: file is empty")
    with open(path, "rb") as f:
        magic = f.read(6)
    if magic.startswith(b"\x93NUMPY"):
        raise DataError(f"{path}: a single .npy array, not an NPZ archive; write x, y, ... with numpy.savez")
    if not magic.startswith(b"PK"):
        raise DataError(f"{path}: not an NPZ archive (the zip file numpy.savez writes)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}
    except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile, zlib.error) as err:
        raise DataError(f"{path}: truncated or corrupt NPZ file ({type(err).__name__}: {err})") from None
    except ValueError as err:
        if "pickle" in str(err).lower():
            raise DataError(
                f"{path}: holds an object array; store names as np.array(names, dtype=str), not lists of objects"
            ) from None
        raise DataError(f"{path}: cannot read NPZ file ({err})") from None
    except OSError as err:
        raise DataError(f"{path}: cannot read NPZ file ({err})") from None


def _strings(arrays: dict, key: str, path: str) -> list[str] | None:
    if key not in arrays:
        return None
    a = arrays[key]
    if a.ndim != 1:
        raise DataError(f"{path}: {key} must be a 1-d array of names, got shape {a.shape}")
    return [str(s) for s in a.tolist()]


def _split(split, S: int, path: str) -> dict[str, np.ndarray]:
    if split is None:
        return {}
    split = np.asarray(split)
    if split.shape != (S,):
        raise DataError(f"{path}: split must have shape [S] = ({S},), got {split.shape}")
    if split.dtype.kind in "US":
        names = split.astype(str)
        bad = sorted(set(names.tolist()) - set(SPLITS))
        if bad:
            raise DataError(f"{path}: split values must be train, val, test, got {bad[:5]}")
        return {name: np.flatnonzero(names == name) for name in SPLITS if (names == name).any()}
    if split.dtype.kind in "iu":
        bad = sorted(set(split.tolist()) - {0, 1, 2})
        if bad:
            raise DataError(f"{path}: split values must be 0 (train), 1 (val), 2 (test), got {bad[:5]}")
        return {name: np.flatnonzero(split == k) for k, name in enumerate(SPLITS) if (split == k).any()}
    raise DataError(f"{path}: split must hold 'train'/'val'/'test' or 0/1/2, got dtype {split.dtype}")
