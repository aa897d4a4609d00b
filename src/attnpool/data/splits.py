"""Train/val/test splits: seeded random or stratified, carving val out of a given train part, chronological."""

from __future__ import annotations

import numpy as np

from ..errors import DataError
from .dataset import SPLITS, TimeSeriesSet


def check_fractions(split, source: str) -> tuple[float, float, float]:
    """Validate ``split = (train, val, test)`` fractions: three numbers >= 0 summing to 1, train > 0."""
    try:
        fracs = tuple(float(f) for f in split)
    except (TypeError, ValueError):
        raise DataError(f"{source}: split must be three fractions (train, val, test), got {split!r}") from None
    if len(fracs) != 3 or any(not np.isfinite(f) or f < 0 for f in fracs) or abs(sum(fracs) - 1.0) > 1e-6:
        raise DataError(f"{source}: split must be three fractions >= 0 summing to 1, got {split!r}")
    if fracs[0] <= 0:
        raise DataError(f"{source}: split needs a training part > 0, got {split!r}")
    return fracs


def random_split(
    n: int, fracs: tuple[float, float, float], seed: int, labels: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Split ``n`` samples by ``fracs``; stratified by ``labels`` ([n] ints) when given.

    Sizes are ``round(n * frac)`` for val and test, the rest is train. Stratified: each class gives val and
    test about its share (largest remainders settle the rounding), and keeps at least one sample in train.
    """
    rng = np.random.default_rng(seed)
    n_val, n_test = int(round(n * fracs[1])), int(round(n * fracs[2]))
    if labels is None:
        order = rng.permutation(n)
        parts = {"val": order[:n_val], "test": order[n_val : n_val + n_test], "train": order[n_val + n_test :]}
    else:
        parts = _stratified(labels, {"val": n_val, "test": n_test}, rng)
    return {name: np.sort(parts[name]).astype(np.int64) for name in SPLITS}


def carve_val(
    train: np.ndarray, fracs: tuple[float, float, float], seed: int, labels: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Take a validation part out of a given training part (for sources that only ship train/test).

    The share of val within train is ``val / (train + val)`` of ``fracs``; stratified by ``labels`` ([S],
    indexed by the sample ids in ``train``) when given.

    Returns:
        ``(train, val)`` int64 sample ids.
    """
    share = fracs[1] / (fracs[0] + fracs[1])
    inner = random_split(len(train), (1.0 - share, share, 0.0), seed, None if labels is None else labels[train])
    return np.sort(train[inner["train"]]), np.sort(train[inner["val"]])


def chronological_split(
    n_windows: int, fracs: tuple[float, float, float], gap: int
) -> dict[str, np.ndarray]:
    """Split windows ordered in time into consecutive train, val, test blocks.

    ``gap`` windows are dropped before val and before test (``horizon - 1`` for sliding windows), so no
    target step of one part is also a target step of the next one.
    """
    n_train = int(round(n_windows * fracs[0]))
    n_val = int(round(n_windows * fracs[1]))
    start_val = n_train + (gap if n_val else 0)
    start_test = start_val + n_val + gap if fracs[2] > 0 else n_windows
    return {
        "train": np.arange(0, min(n_train, n_windows), dtype=np.int64),
        "val": np.arange(min(start_val, n_windows), min(start_val + n_val, n_windows), dtype=np.int64),
        "test": np.arange(min(start_test, n_windows), n_windows, dtype=np.int64),
    }


def check_nonempty(splits: dict[str, np.ndarray], fracs, n: int, source: str) -> None:
    """Refuse a split where a part with a fraction > 0 came out empty: too few samples for the split."""
    for name, frac in zip(SPLITS, fracs):
        if frac > 0 and len(splits.get(name, ())) == 0:
            sizes = ", ".join(f"{k} {len(splits.get(k, ()))}" for k in SPLITS)
            raise DataError(
                f"{source}: too few samples for the split {tuple(fracs)}: {n} samples give {sizes}; "
                f"add samples or change split="
            )


def complete_splits(ds: TimeSeriesSet, fracs, seed: int, *, carve_val: bool = True):
    """Splits for every part, and the fractions to hold them to (a part the source left out may stay empty).

    ``carve_val``: a source that gives train but no val part gets val carved out of train by ``fracs``."""
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
    carving = carve_val and "val" not in given and fracs[1] > 0
    if carving:
        splits["train"], splits["val"] = _carve_val(splits["train"], fracs, seed, labels)
    required = (fracs[0], fracs[1] if carving else 0.0, 0.0)
    return splits, required


_carve_val = carve_val  # complete_splits' flag of the same name shadows the function there


def _stratified(labels: np.ndarray, totals: dict[str, int], rng: np.random.Generator) -> dict[str, np.ndarray]:
    labels = np.asarray(labels)
    classes = np.unique(labels)
    members = {c: rng.permutation(np.flatnonzero(labels == c)) for c in classes}
    sizes = np.array([len(members[c]) for c in classes])
    taken = np.zeros(len(classes), dtype=np.int64)
    counts = {}
    for name, total in totals.items():
        exact = sizes * (total / max(len(labels), 1))
        count = np.minimum(np.floor(exact).astype(np.int64), np.maximum(sizes - taken - 1, 0))
        # Hand out what rounding left over to the classes with the largest remainders that can spare one.
        for c in np.argsort(-(exact - count), kind="stable"):
            if count.sum() >= total:
                break
            if sizes[c] - taken[c] - count[c] > 1:
                count[c] += 1
        counts[name] = count
        taken += count
    parts = {name: [] for name in SPLITS}
    for k, c in enumerate(classes):
        start = 0
        for name in totals:
            parts[name].append(members[c][start : start + counts[name][k]])
            start += counts[name][k]
        parts["train"].append(members[c][start:])
    return {name: np.concatenate(p) if p else np.zeros(0, dtype=np.int64) for name, p in parts.items()}
