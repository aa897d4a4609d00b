"""The season of a series for the seasonal-naive baseline: given in steps, or found from the time column."""

from __future__ import annotations

import warnings

import numpy as np

from ..errors import DataError

DAY_NS = 86_400 * 10**9


def resolve_season(season, times: np.ndarray | None, n_rows: int, source: str) -> int:
    """The season ``m`` in steps (0 = no seasonal-naive baseline).

    Args:
        season: an int >= 0 (0 = off), or None: found by :func:`daily_season` from ``times``.
        times: ``[L]`` time labels (str, numbers, datetime64) or None.
        n_rows: L.

    Raises:
        DataError: ``season`` is not None or an int >= 0.
    """
    season = check_season(season, source)
    return daily_season(times, n_rows) if season is None else season


def check_season(season, source: str) -> int | None:
    """``season`` as an int >= 0, or None; anything else is refused with a one-line :class:`DataError`."""
    if season is None:
        return None
    if isinstance(season, bool) or not isinstance(season, (int, np.integer)) or season < 0:
        raise DataError(f"{source}: season must be an int >= 0 (steps; 0 = no seasonal-naive baseline) or None "
                        f"(found from the time column), got {season!r}")
    return int(season)


def daily_season(times: np.ndarray | None, n_rows: int) -> int:
    """Steps per day when ``times`` are regular datetimes whose spacing divides a day and a day fits in the
    series (``2 <= m < n_rows``); else 0.

    Times that parse as numbers are not datetimes (numpy would read ``"2024"`` as a year); strings must be ISO
    dates (``2024-01-01 00:05:00``).
    """
    if times is None or len(times) < 3:
        return 0
    stamps = _as_datetimes(np.asarray(times))
    if stamps is None:
        return 0
    step = np.diff(stamps)
    spacing = int(step[0])
    if spacing <= 0 or not (step == spacing).all() or DAY_NS % spacing:
        return 0
    m = DAY_NS // spacing
    return int(m) if 2 <= m < n_rows else 0


def _as_datetimes(times: np.ndarray) -> np.ndarray | None:
    """int64 nanoseconds, or None when the labels are not datetimes."""
    if times.dtype.kind == "M":
        return times.astype("datetime64[ns]").astype(np.int64)
    if times.dtype.kind not in "USO":
        return None
    try:
        times.astype(np.float64)
        return None  # numbers: row counters, not dates
    except (TypeError, ValueError):
        pass
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # numpy's note that it drops a timezone offset
            return times.astype("datetime64[ns]").astype(np.int64)
    except (TypeError, ValueError, OverflowError):
        return None


__all__ = ["check_season", "daily_season", "resolve_season"]
