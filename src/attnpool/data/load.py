"""``load_data``: one entry point for every source, and the steps every source shares.

Each reader returns a raw :class:`TimeSeriesSet` (original units, values at masked steps may be NaN, splits
possibly partial); :func:`prepare` then validates it, completes the splits, zeroes masked steps and computes
the baseline. Values stay in the data's own units: normalisation belongs to the model
(:meth:`attnpool.models.SpatioTemporalNet.fit_normalization`), which is what training and prediction use.
"""

from __future__ import annotations

import os
from dataclasses import replace

import numpy as np

from ..errors import DataError
from ..tasks import TASKS
from .baseline import baseline
from .dataset import TimeSeriesSet
from .season import check_season
from .splits import check_fractions, check_nonempty, complete_splits
from .validate import validate

#: Files that hold one multi-node series (forecasting): read by :func:`attnpool.data.series_files.read_series_file`.
SERIES_EXTENSIONS = (".csv", ".parquet", ".pq", ".npy")

#: The (train, val, test) fractions of a source without a split of its own, when ``split`` is None.
DEFAULT_SPLIT = (0.7, 0.15, 0.15)


def load_data(
    source,
    *,
    task: str | None = None,
    window: int = 30,
    horizon: int = 1,
    nodes=None,
    split=None,
    seed: int = 0,
    season: int | None = None,
    **options,
) -> TimeSeriesSet:
    """Read, validate and split a data set (values in their own units).

    Args:
        source: a path to a ``.npz`` file (arrays), a series file (``.csv``, ``.parquet``/``.pq``, ``.npy``:
            forecasting windows, see :func:`attnpool.data.series_files.read_series_file`), ``"uea:<Name>"`` (a
            UEA/UCR set through aeon, e.g. ``"uea:BasicMotions"``) or ``"synthetic:peaks"``.
        task: ``"classify"``, ``"regress"`` or ``"forecast"``; None infers it from the source (NPZ: integer or
            string y of shape [S] -> classify, float y -> regress; CSV -> forecast; UEA -> classify, or regress
            for aeon's regression sets; synthetic:peaks -> classify).
        window: steps T per window (CSV only) (default: 30).
        horizon: forecast steps H (CSV only) (default: 1).
        nodes: UEA: how channels group into nodes: None (each channel a node with 1 feature), an int k (k
            nodes of consecutive channels) or a string like ``"0,1,2|3,4,5"``; synthetic:peaks: the number of
            nodes (default: 7). Refused for NPZ and CSV.
        split: fractions (train, val, test), or None (default): (0.7, 0.15, 0.15) for a source without a
            split of its own. A split the source ships is kept (UEA train/test, an NPZ ``split`` array); with
            ``split`` None its whole train part stays for training (no validation part: a few samples cannot
            choose anything, and training does not stop early), with fractions given val is carved out of it.
        seed: seed of random splits and of synthetic data (default: 0).
        season: forecasting over a series (CSV): steps of the seasonal-naive baseline; None (default) finds it
            from the time column (steps per day when the times are regular datetimes whose spacing divides a
            day, and a day fits in the series; else none); 0 = none. Kept in ``meta["season"]``. Other
            sources ignore it.
        **options: source-specific options: synthetic:peaks takes ``samples``, ``steps``, ``noise``, ...;
            CSV takes ``time_column`` and ``delimiter``; UEA takes ``extract_path`` (aeon's download folder).

    Returns:
        The validated :class:`TimeSeriesSet`. A CSV gives a forecasting set that keeps the series once and
        builds its windows per batch (see :class:`TimeSeriesSet` and :mod:`attnpool.data.windows`).

    Raises:
        DataError: on any problem with the source, with a one-line message naming it.
    """
    if hasattr(source, "shape"):  # an array: name it by its shape, never print it whole
        raise DataError(f"source must be a path or a 'uea:<Name>' / 'synthetic:peaks' string, got "
                        f"{type(source).__name__} of shape {tuple(source.shape)}; for arrays in memory use "
                        f"attnpool.data.from_arrays(x, y, ...)")
    if task is not None and task not in TASKS:
        raise DataError(f"{source}: task must be one of {', '.join(TASKS)} or None, got {task!r}")
    name = os.fspath(source) if isinstance(source, os.PathLike) else source
    if not isinstance(name, str) or not name:
        raise DataError(f"source must be a path or a 'uea:<Name>' / 'synthetic:peaks' string, got {source!r}")
    fracs = check_fractions(DEFAULT_SPLIT if split is None else split, name)
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
    elif lower.endswith(SERIES_EXTENSIONS):  # one series [L, N, F]: forecasting windows, built per batch
        from .forecast import check_forecast_args, forecast_set
        from .series_files import read_series_file

        if lower.endswith(".csv"):
            options = _csv_options(name, options)
        kind = {".csv": "a wide CSV", ".npy": "a .npy series"}.get(os.path.splitext(lower)[1], "a Parquet file")
        check_forecast_args(name, task=task, window=window, horizon=horizon, nodes=nodes, kind=kind)
        check_season(season, name)
        series = read_series_file(name, **options)
        return forecast_set(series, window=window, horizon=horizon, fracs=fracs, season=season)
    else:
        raise DataError(
            f"{name}: unknown source; expected a .npz, .csv, .parquet/.pq or .npy file, 'uea:<Name>' or "
            f"'synthetic:peaks'"
        )
    raw.meta.setdefault("source", name)
    return prepare(raw, fracs=fracs, seed=seed, carve_val=split is not None)


def _csv_options(path: str, options: dict) -> dict:
    """The options of a wide CSV (``time_column``, ``delimiter``), checked; anything else is refused."""
    unknown = set(options) - {"time_column", "delimiter"}
    if unknown:
        raise DataError(f"{path}: unknown option(s) for a CSV file: {', '.join(sorted(unknown))}; "
                        f"known: time_column, delimiter")
    time_column, delimiter = options.get("time_column"), options.get("delimiter", ",")
    if time_column is not None and not isinstance(time_column, str):
        raise DataError(f"{path}: option time_column must be a column name (str), got {time_column!r}")
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise DataError(f"{path}: option delimiter must be one character (str), got {delimiter!r}")
    return {"time_column": time_column, "delimiter": delimiter}


def prepare(ds: TimeSeriesSet, *, fracs=(0.7, 0.15, 0.15), seed: int = 0, carve_val: bool = True) -> TimeSeriesSet:
    """Validate a raw set, complete its splits, zero masked steps and add the baseline.

    Args:
        ds: a raw set in original units (values at masked steps may be NaN); ``ds.splits`` may be empty,
            hold only train and test, or all three parts.
        fracs: (train, val, test) fractions for the parts the source does not give.
        seed: seed of random splits.
        carve_val: when the source gives train but no val part, carve val out of train by ``fracs``.
    """
    if ds.windows is not None:  # windows over a series (forecast_set): validated and split when built
        return ds
    src = ds.source
    ds = validate(ds)
    splits, required = complete_splits(ds, fracs, seed, carve_val=carve_val)
    check_nonempty(splits, required, ds.n_samples, src)

    x, mask, y = ds.x, ds.mask, ds.y
    if mask is not None:
        x = np.where(mask[..., None], x, 0.0)
        if mask.all():
            mask = None
    base = baseline(ds.task, x, mask, y, splits["train"])
    y = y.astype(np.int64) if ds.task == "classify" else y.astype(np.float32)
    return replace(
        ds,
        x=np.ascontiguousarray(x, dtype=np.float32),
        mask=None if mask is None else np.ascontiguousarray(mask, dtype=bool),
        y=y,
        splits=splits,
        baseline=None if base is None else base.astype(y.dtype),
    )


__all__ = ["DEFAULT_SPLIT", "load_data", "prepare"]
