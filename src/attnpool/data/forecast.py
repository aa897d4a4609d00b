"""A forecasting set from a series: window start rows, a chronological split, windows with a missing target dropped.

Every forecasting source (wide CSV, and the Parquet / ``.npy`` readers) reads a
:class:`~attnpool.data.series.RawSeries`; :func:`forecast_set` turns it into a
:class:`~attnpool.data.TimeSeriesSet` whose windows are built per batch (:mod:`.windows`). What it keeps besides
the series is one number per row and one per window: a series of ``L`` rows costs ``O(L)`` here, whatever the
window length, and a memory-mapped series stays on disk.
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError
from .dataset import TimeSeriesSet
from .scan import scan_rows
from .season import resolve_season
from .series import RawSeries
from .splits import check_nonempty, chronological_split
from .windows import SeriesWindows, WindowArray


def check_forecast_args(source: str, *, task, window, horizon, nodes, kind: str = "a wide CSV") -> None:
    """Refuse options a forecasting series cannot take, before the file is read.

    Args:
        kind: what the source is, for the messages (default: ``"a wide CSV"``).
    """
    if task not in (None, "forecast"):
        raise DataError(f"{source}: {kind} is a forecast task, got task {task!r}")
    if nodes is not None:
        raise DataError(f"{source}: nodes= groups UEA channels; in {kind} the column names give the nodes")
    for name, value in (("window", window), ("horizon", horizon)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise DataError(f"{source}: {name} must be a positive int, got {value!r}")


def forecast_set(series: RawSeries, *, window: int, horizon: int, fracs, season=None) -> TimeSeriesSet:
    """Sliding windows over ``series``, split chronologically, as a lazy forecasting set.

    Window ``s`` (``s = 0 .. W-1``, ``W = L - T - H + 1``) takes rows ``s .. s+T-1`` as input and rows
    ``s+T .. s+T+H-1`` of feature 0 (the target) as ``y``. The ``W`` windows are split into consecutive train,
    val and test blocks by ``fracs`` with ``H - 1`` windows dropped at each boundary (no target row in two parts);
    then every window with a missing target value (at any node) is dropped.

    Args:
        series: the series (``values [L, N, F]``, NaN = missing; may be a memmap).
        window: T. horizon: H.
        fracs: (train, val, test) fractions of the windows.
        season: steps of the seasonal-naive baseline; None: steps per day when the time column holds regular
            datetimes (see :func:`~attnpool.data.season.daily_season`); 0: none.

    Returns:
        A validated :class:`TimeSeriesSet` whose ``x``, ``mask``, ``y`` and ``baseline`` (persistence) are
        :class:`~attnpool.data.windows.WindowArray` views; ``meta`` holds ``time`` (of each window's first target
        row), ``window_start_row``, ``dropped_windows``, ``target_feature``, ``time_column`` and ``season``.

    Raises:
        DataError: too few rows for one window or for the split, an infinite value, names that do not match the
            values, or no window with all its targets present.
    """
    src = series.source
    values = _check_values(series)
    L, N, F = values.shape
    T, H = int(window), int(horizon)
    if L < T + H:
        raise DataError(f"{src}: too few rows: {L} rows, need at least window + horizon = {T + H} (more for a split)")
    m = resolve_season(season, series.times, L, src)

    scan = scan_rows(values)  # one streamed pass: per-row summaries, and the first value that cannot be used
    if scan.first_bad is not None:
        r, n, f = scan.first_bad
        raise DataError(f"{src}: row {r}{_time_of(series, r)}, node {series.node_names[n]!r}, feature "
                        f"{series.feature_names[f]!r}: {values[r, n, f]} is not finite in float32; mark a missing "
                        f"value with NaN (an empty cell)")

    W = L - T - H + 1
    splits = chronological_split(W, fracs, gap=H - 1)
    check_nonempty(splits, fracs, W, f"{src} ({L} rows, window {T}, horizon {H}: {W} windows)")
    # A window is kept when all H of its target rows have the target at every node: a sliding count of bad rows.
    bad_rows = np.concatenate([[0], np.cumsum(~scan.target_ok)])
    keep = (bad_rows[T + H : T + H + W] - bad_rows[T : T + W]) == 0
    used = np.zeros(W, dtype=bool)
    for part in splits.values():
        used[part] = True
    keep &= used
    if not keep.any():
        raise DataError(f"{src}: no window has all its {H} target value(s) present ({W} windows, each dropped "
                        f"for a missing target in column(s) of {series.feature_names[0]!r})")
    new_index = np.cumsum(keep) - 1
    splits = {name: new_index[part[keep[part]]].astype(np.int64) for name, part in splits.items()}
    starts = np.flatnonzero(keep).astype(np.int64)

    windows = SeriesWindows(series, starts, T, H, invalid_nodes=scan.invalid_nodes, season=m,
                            train_starts=starts[splits["train"]])
    times = starts + T if series.times is None else np.asarray(series.times)[starts + T]
    return TimeSeriesSet(
        x=WindowArray(windows, "x"),
        y=WindowArray(windows, "y"),
        task="forecast",
        mask=WindowArray(windows, "mask") if windows.has_masked_steps() else None,
        node_names=list(series.node_names),
        feature_names=list(series.feature_names),
        splits=splits,
        baseline=WindowArray(windows, "persistence"),
        meta={
            "source": src,
            "time_column": series.time_name,
            "time": times,
            "window_start_row": starts,
            "dropped_windows": int(W - keep.sum()),
            "target_feature": series.feature_names[0],
            "season": m,
        },
    )


def _check_values(series: RawSeries) -> np.ndarray:
    src, values = series.source, series.values
    if not isinstance(values, np.ndarray) or values.ndim != 3:
        shape = getattr(values, "shape", type(values).__name__)
        raise DataError(f"{src}: a series must be an array [L, N, F] (steps, nodes, features), got {shape}")
    if values.dtype not in (np.float32, np.float64):
        raise DataError(f"{src}: series values must be float32 or float64 (NaN = missing), got dtype {values.dtype}")
    L, N, F = values.shape
    if min(L, N, F) == 0:
        raise DataError(f"{src}: a series needs at least one row, node and feature, got shape [L, N, F] = "
                        f"{list(values.shape)}")
    for name, names, n in (("node_names", series.node_names, N), ("feature_names", series.feature_names, F)):
        if len(names) != n:
            raise DataError(f"{src}: {name} must have {n} entries (the series is [L, N, F] = {list(values.shape)}), "
                            f"got {len(names)}")
    if series.times is not None and len(series.times) != L:
        raise DataError(f"{src}: times must have one label per row ({L}), got {len(series.times)}")
    return values


def _time_of(series: RawSeries, row: int) -> str:
    return "" if series.times is None else f" (time {series.times[row]})"


__all__ = ["check_forecast_args", "forecast_set"]
