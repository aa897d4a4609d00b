"""Sliding windows over a series, built by index: the series ``[L, N, F]`` is kept once, windows per batch.

A forecasting set is a :class:`~attnpool.data.series.RawSeries` plus the int64 start row of each window. Window
``k`` (start ``s``) takes rows ``s .. s+T-1`` as its input and rows ``s+T .. s+T+H-1`` as its targets. Nothing of
size windows x steps exists until a batch asks for it: :meth:`SeriesWindows.gather` builds ``x``, ``mask``,
``y`` and the baselines of the windows it is given, and :class:`WindowArray` stands in for those arrays in a
:class:`~attnpool.data.TimeSeriesSet` (shape, ``len``, lazy indexing; ``np.asarray`` builds every window, for
small sets and old code only).

The series may be a read-only ``np.memmap``: it is read row range by row range and never copied whole; the
statistics it needs (training means and standard deviations, masked fractions) come from streamed passes
(:mod:`.scan`) and vectors of length ``L``.
"""

from __future__ import annotations

import hashlib

import numpy as np

from .baseline import persistence, seasonal_naive, seasonal_offsets
from .scan import weighted_statistics
from .series import RawSeries

#: What :meth:`SeriesWindows.gather` can build, and each one's shape per window.
FIELDS = ("x", "mask", "y", "persistence", "seasonal_naive")


class SeriesWindows:
    """Windows of ``T`` steps with ``H`` targets after each, over one series, by start row.

    Args:
        series: the series; ``values [L, N, F]`` float32/float64, NaN = missing (a memmap is fine).
        starts: int64 ``[S]``, the first row of each window (``0 <= s <= L - T - H``).
        window: T. horizon: H.
        invalid_nodes: int ``[L]``, the nodes with a missing value in each row (from one pass over the series,
            :func:`~attnpool.data.scan.scan_rows`); None = not known (nothing missing is assumed nowhere: the
            masked fraction is then not available).
        season: m, the season of the seasonal-naive baseline in steps; 0 = none.
        train_starts: the training windows' starts; the persistence baseline of a node with no valid step in its
            window falls back to the node's mean over them (None: these windows' own).

    Subsets (:meth:`take`) share the series, the row summaries and the cache of statistics.
    """

    def __init__(self, series: RawSeries, starts, window: int, horizon: int, *, invalid_nodes=None,
                 season: int = 0, train_starts=None):
        self.series = series
        self.starts = np.asarray(starts, dtype=np.int64).reshape(-1)
        self.window, self.horizon, self.season = int(window), int(horizon), int(season)
        self.invalid_nodes = invalid_nodes
        self.train_starts = self.starts if train_starts is None else np.asarray(train_starts, dtype=np.int64)
        self._cache: dict = {}  # statistics by the starts they are over; shared with every subset

    # ---- sizes -------------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return int(self.starts.shape[0])

    @property
    def values(self) -> np.ndarray:
        return self.series.values

    @property
    def n_nodes(self) -> int:
        return int(self.values.shape[1])

    @property
    def n_features(self) -> int:
        return int(self.values.shape[2])

    def shape(self, field: str) -> tuple[int, ...]:
        """The shape of ``field`` over all windows: x ``[S, N, T, F]``, mask ``[S, N, T]``, y and the baselines
        ``[S, N, H]``."""
        S, N = len(self), self.n_nodes
        if field == "x":
            return (S, N, self.window, self.n_features)
        if field == "mask":
            return (S, N, self.window)
        _check_field(field)
        return (S, N, self.horizon)

    def __repr__(self) -> str:
        L, N, F = self.values.shape
        return (f"SeriesWindows({len(self)} windows, window={self.window}, horizon={self.horizon}, "
                f"season={self.season}, series [{L}, {N}, {F}])")

    # ---- selection ---------------------------------------------------------------------------------------
    def take(self, positions) -> SeriesWindows:
        """The windows at ``positions`` (int indices, a bool mask over S, or a slice), in that order: lazy."""
        if isinstance(positions, slice):
            starts = self.starts[positions]
        else:
            positions = np.asarray(positions)
            if positions.size == 0:  # np.asarray([]) is float
                positions = positions.astype(np.int64)
            if positions.dtype == bool and positions.shape != self.starts.shape:
                raise IndexError(f"bool index must have shape ({len(self)},), got {positions.shape}")
            starts = self.starts[positions].reshape(-1)
        out = object.__new__(SeriesWindows)
        out.__dict__.update(self.__dict__)
        out.starts = starts
        return out

    # ---- building windows --------------------------------------------------------------------------------
    def gather(self, positions=None, fields=("x", "mask", "y")) -> dict[str, np.ndarray]:
        """Build ``fields`` for the windows at ``positions`` (None: every window).

        Returns:
            ``{"x": float32 [B, N, T, F] (zero at missing steps), "mask": bool [B, N, T] (True = every feature
            present), "y": float32 [B, N, H] (feature 0 of the target rows; NaN where missing),
            "persistence": float32 [B, N, H], "seasonal_naive": float32 [B, N, H]}``, the ones asked for.

        Baselines: persistence repeats each node's last valid target value in the window (a node with no valid
        step gets its mean over the training windows); seasonal naive copies the target one season ``m``
        earlier (:func:`~attnpool.data.baseline.seasonal_offsets`), or persistence where that value is missing
        or lies before the series' start (and everywhere when ``season`` is 0).
        """
        for field in fields:
            _check_field(field)
        starts = self.starts if positions is None else self.starts[np.asarray(positions, dtype=np.int64)]
        starts = starts.reshape(-1)
        T, H = self.window, self.horizon
        want_inputs = bool({"x", "mask", "persistence", "seasonal_naive"} & set(fields))
        span = T + H if "y" in fields else T
        block = _rows(self.values, starts, span if want_inputs else H, offset=0 if want_inputs else T)
        out: dict[str, np.ndarray] = {}
        if "y" in fields:  # [B, H, N] -> [B, N, H]
            out["y"] = np.ascontiguousarray(block[:, -H:, :, 0].transpose(0, 2, 1), dtype=np.float32)
        if not want_inputs:
            return out
        inputs = block[:, :T]  # [B, T, N, F]
        missing = np.isnan(inputs)
        if missing.any():
            valid = ~missing.any(axis=-1)  # [B, T, N]
            inputs = np.where(valid[..., None], inputs, 0.0)
        else:
            valid = None
        mask = np.ones((len(starts), self.n_nodes, T), dtype=bool) if valid is None else valid.transpose(0, 2, 1)
        if "x" in fields:  # [B, T, N, F] -> [B, N, T, F]
            out["x"] = np.ascontiguousarray(inputs.transpose(0, 2, 1, 3), dtype=np.float32)
        if "mask" in fields:
            out["mask"] = np.ascontiguousarray(mask)
        if "persistence" in fields or "seasonal_naive" in fields:
            target = inputs[..., 0].transpose(0, 2, 1)  # [B, N, T]
            fallback = np.zeros(self.n_nodes)
            if valid is not None and not mask.any(axis=-1).all():
                fallback = self.fallback()  # only when a node of the batch has no valid step: a streamed pass
            last = persistence(target, None if valid is None else mask, fallback, H).astype(np.float32)
            if "persistence" in fields:
                out["persistence"] = last
            if "seasonal_naive" in fields:
                out["seasonal_naive"] = self._seasonal(starts, last)
        return out

    def _seasonal(self, starts: np.ndarray, last: np.ndarray) -> np.ndarray:
        if self.season <= 0:
            return last.copy()
        rows = starts[:, None] + seasonal_offsets(self.window, self.horizon, self.season)[None, :]  # [B, H]
        before = rows < 0
        picked = np.asarray(self.values[np.maximum(rows, 0).reshape(-1), :, 0], dtype=np.float32)  # [B*H, N]
        picked = picked.reshape(*rows.shape, self.n_nodes).transpose(0, 2, 1)  # [B, N, H]
        picked = np.where(before[:, None, :], np.float32(np.nan), picked)
        return seasonal_naive(picked, last).astype(np.float32)

    # ---- statistics (streamed over the series) -------------------------------------------------------------
    def coverage(self) -> np.ndarray:
        """int64 ``[L]``: how many windows hold each row in their input."""
        L = self.values.shape[0]
        counts = np.bincount(self.starts, minlength=L + 1) - np.bincount(self.starts + self.window, minlength=L + 1)
        return np.cumsum(counts)[:L]

    def input_statistics(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-node, per-feature mean and standard deviation ``[N, F]`` (float64) of these windows' inputs.

        Exactly the statistics of the materialised windows ``x [S, N, T, F]`` over their valid steps (what
        :meth:`~attnpool.models.SpatioTemporalNet.fit_normalization` computes), without building them: each
        row of the series counts as often as windows hold it (:meth:`coverage`), in one streamed pass. A node
        with no valid step gets mean 0 and std 0. Cached: subsets with the same windows share the result.
        """
        key = ("inputs", hashlib.sha1(self.starts.tobytes()).hexdigest(), self.window)
        if key not in self._cache:
            mean, std, _ = weighted_statistics(self.values, self.coverage())
            self._cache[key] = (mean, std)
        return self._cache[key]

    def fallback(self) -> np.ndarray:
        """``[N]``: each node's mean target (feature 0) over the training windows' valid steps (0 for a node
        with none): the persistence baseline of a node with no valid step in its window."""
        train = self if self.train_starts is self.starts else self.take_starts(self.train_starts)
        return train.input_statistics()[0][:, 0]

    def take_starts(self, starts) -> SeriesWindows:
        """These windows' settings over other start rows (sharing the series and the cache)."""
        out = self.take(slice(0, 0))
        out.starts = np.asarray(starts, dtype=np.int64).reshape(-1)
        return out

    def masked_fraction(self) -> float | None:
        """The fraction of (window, node, step) entries that are masked, from the per-row counts (None when
        they are not known)."""
        if self.invalid_nodes is None or len(self) == 0:
            return None if self.invalid_nodes is None else 0.0
        masked = float(np.dot(self.coverage().astype(np.float64), self.invalid_nodes))
        return masked / (len(self) * self.window * self.n_nodes)

    def has_masked_steps(self) -> bool:
        """Whether any window's input has a missing value (True when not known)."""
        if self.invalid_nodes is None:
            return True
        return bool((self.invalid_nodes[self.coverage() > 0] > 0).any())


class WindowArray:
    """One field of a :class:`SeriesWindows` standing in for the array ``[S, ...]`` it would be.

    It has ``shape``, ``ndim``, ``dtype`` and ``len``. Indexing the first axis with a slice, int array or bool
    mask gives another lazy ``WindowArray``; an int gives that one window as an ndarray; a tuple index builds
    the windows its first element picks and applies the rest (``ds.x[0, :, -1]``). ``np.asarray(a)`` builds
    every window: fine for small sets, never used on a training or evaluation path (those call
    :meth:`SeriesWindows.gather` batch by batch).

    Args:
        windows: the windows. field: one of :data:`FIELDS`.
    """

    def __init__(self, windows: SeriesWindows, field: str):
        _check_field(field)
        self.windows, self.field = windows, field

    @property
    def shape(self) -> tuple[int, ...]:
        return self.windows.shape(self.field)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(bool) if self.field == "mask" else np.dtype(np.float32)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, key):
        first, rest = (key[0], key[1:]) if isinstance(key, tuple) else (key, ())
        if first is Ellipsis:
            return self.numpy()[key]
        if isinstance(first, (int, np.integer)) and not isinstance(first, bool):
            n = len(self)
            if not -n <= first < n:
                raise IndexError(f"window {first} is out of range for {n} windows")
            one = self.numpy([int(first) % n])[0]
            return one[rest] if rest else one
        part = WindowArray(self.windows.take(first), self.field)
        return part.numpy()[(slice(None), *rest)] if rest else part

    def numpy(self, positions=None) -> np.ndarray:
        """Build the windows at ``positions`` (None: all) as an ndarray."""
        return self.windows.gather(positions, (self.field,))[self.field]

    def __array__(self, dtype=None, copy=None):
        if copy is False:
            raise ValueError("a WindowArray is built on demand; np.asarray(..., copy=False) cannot give a view")
        out = self.numpy()
        return out if dtype is None else out.astype(dtype, copy=False)

    def __repr__(self) -> str:
        return f"WindowArray({self.field!r}, shape={self.shape}, over {self.windows!r})"


def _check_field(field: str) -> None:
    if field not in FIELDS:
        raise ValueError(f"field must be one of {', '.join(FIELDS)}, got {field!r}")


def _rows(values: np.ndarray, starts: np.ndarray, span: int, offset: int = 0) -> np.ndarray:
    """``values[s + offset : s + offset + span]`` for every start, as float32 ``[B, span, N, F]`` in memory.

    Each window's rows are one contiguous read (also from a memmap), cast to float32 as they are copied (the
    model's dtype: a float64 series costs no float64 batch)."""
    out = np.empty((len(starts), span, *values.shape[1:]), dtype=np.float32)
    for b, s in enumerate(starts.tolist()):
        out[b] = values[s + offset : s + offset + span]
    return out


__all__ = ["FIELDS", "SeriesWindows", "WindowArray"]
