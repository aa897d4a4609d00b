"""The one in-memory form every reader produces: :class:`TimeSeriesSet` (and its error, :class:`DataError`)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ..errors import DataError
from ..tasks import TASKS
from .windows import SeriesWindows, WindowArray

# DataError and TASKS stay importable from here, where they were first defined.
__all__ = ["SPLITS", "TASKS", "DataError", "TimeSeriesSet"]

SPLITS = ("train", "val", "test")


@dataclass
class TimeSeriesSet:
    """A multi-node time-series data set, validated and ready for a model.

    Shapes use ``S`` samples, ``N`` nodes, ``T`` steps, ``F`` features per node and step, ``H`` forecast
    horizon, ``D`` regression targets.

    A forecasting set read from a series (a wide CSV, ...) holds the series once and its windows by start row:
    its ``x``, ``mask``, ``y`` and ``baseline`` are :class:`~attnpool.data.windows.WindowArray` views with the
    shapes below that build windows only when indexed (``ds.x[3]``, ``np.asarray(ds.x[:10])``); ``subset`` and
    ``split`` stay lazy, and :meth:`batch` builds one batch of windows. ``np.asarray(ds.x)`` builds every window:
    for small sets only. :attr:`windows` gives the underlying :class:`~attnpool.data.windows.SeriesWindows`
    (None for a set in memory).

    Attributes:
        x: float32 ``[S, N, T, F]`` in the data's own units; zero at masked steps. A forecasting set over a series:
            window ``s`` is rows ``meta["window_start_row"][s]`` .. ``+ T - 1`` of the series.
        mask: bool ``[S, N, T]`` (True = valid step) or None when every step is valid. Over a series: a node's step
            is valid when every feature of it is present (not NaN).
        y: classify: int64 ``[S]`` in ``[0, n_classes)``; regress: float32 ``[S, D]`` (one target vector per
            sample) or ``[S, N, D]`` (per node); forecast: float32 ``[S, N, H]`` (the next H values of each
            node's target feature, which is feature 0; over a series, rows ``start + T .. start + T + H - 1``).
        task: ``"classify"``, ``"regress"`` or ``"forecast"``.
        adjacency: float32 ``[N, N]`` or None.
        node_names: N names.
        feature_names: F names.
        class_names: names of the classes (classify) or None.
        splits: ``{"train", "val", "test"}`` -> int64 sample indices; disjoint, any may be empty.
        baseline: a prediction to show beside the model's, same shape and units as ``y``: forecast: persistence
            (the last observed value of the node's target, repeated H times); regress: the training mean of y;
            classify: the training part's most frequent class. None when not defined. Over a series the
            seasonal-naive baseline comes beside it per batch (:meth:`batch`, field ``"seasonal_naive"``) when
            ``meta["season"]`` > 0.
        meta: anything else the source knows. By convention an ndarray whose first axis has length S is
            per-sample and follows :meth:`subset`; ``meta["source"]`` is the source string. A forecasting set has
            ``time`` (time of each window's first target row), ``window_start_row``, ``dropped_windows``,
            ``target_feature``, ``time_column`` and ``season`` (steps of the seasonal-naive baseline, 0 = none).
    """

    x: np.ndarray | WindowArray
    y: np.ndarray | WindowArray
    task: str
    mask: np.ndarray | WindowArray | None = None
    adjacency: np.ndarray | None = None
    node_names: list[str] = field(default_factory=list)
    feature_names: list[str] = field(default_factory=list)
    class_names: list[str] | None = None
    splits: dict[str, np.ndarray] = field(default_factory=dict)
    baseline: np.ndarray | WindowArray | None = None
    meta: dict = field(default_factory=dict)

    # ---- sizes -------------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return int(self.x.shape[0])

    @property
    def n_samples(self) -> int:
        return int(self.x.shape[0])

    @property
    def n_nodes(self) -> int:
        return int(self.x.shape[1])

    @property
    def n_steps(self) -> int:
        return int(self.x.shape[2])

    @property
    def n_features(self) -> int:
        return int(self.x.shape[3])

    @property
    def n_classes(self) -> int | None:
        """Number of classes (classify), None for regress and forecast."""
        if self.task != "classify":
            return None
        if self.class_names is not None:
            return len(self.class_names)
        return int(self.y.max()) + 1 if self.y.size else 0

    @property
    def target_shape(self) -> tuple[int, ...]:
        """Shape of one sample's target: ``()`` classify, ``(D,)`` / ``(N, D)`` regress, ``(N, H)`` forecast."""
        return tuple(int(d) for d in self.y.shape[1:])

    @property
    def source(self) -> str:
        return str(self.meta.get("source", "data"))

    @property
    def windows(self) -> SeriesWindows | None:
        """The windows over a series behind a forecasting set read from one; None for a set held in memory."""
        return self.x.windows if isinstance(self.x, WindowArray) else None

    @property
    def baseline_names(self) -> list[str]:
        """The baselines :meth:`batch` can build beside ``y``: forecast ``["persistence"]`` (and
        ``"seasonal_naive"`` over a series with a season), ``["baseline"]`` for regress and classify, ``[]``
        without one."""
        if self.baseline is None:
            return []
        if self.task != "forecast":
            return ["baseline"]
        windows = self.windows
        return ["persistence"] + (["seasonal_naive"] if windows is not None and windows.season > 0 else [])

    # ---- batches -----------------------------------------------------------------------------------------
    def batch(self, indices, fields=("x", "mask", "y")) -> dict[str, np.ndarray]:
        """Build the samples ``indices`` (int positions in this set) as arrays: the one way training, evaluation
        and prediction read a set, in memory or over a series.

        Args:
            indices: int ``[B]``.
            fields: any of ``"x"``, ``"mask"``, ``"y"`` and the :attr:`baseline_names` (``"persistence"``
                and ``"baseline"`` both name :attr:`baseline`).

        Returns:
            ``{"x": float32 [B, N, T, F] (zero at masked steps), "mask": bool [B, N, T] (all True when
            ``mask`` is None), "y": [B, ...], <baseline>: like y}``, new arrays or views of this set's arrays.
        """
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        windows = self.windows
        if windows is not None:
            names = {"baseline": "persistence"}
            built = windows.gather(idx, tuple(dict.fromkeys(names.get(f, f) for f in fields)))
            return {f: built[names.get(f, f)] for f in fields}
        out = {}
        for f in fields:
            if f == "x":
                out[f] = np.asarray(self.x[idx], dtype=np.float32)
            elif f == "mask":
                out[f] = (np.ones((len(idx), *self.x.shape[1:3]), dtype=bool) if self.mask is None
                          else np.asarray(self.mask[idx], dtype=bool))
            elif f == "y":
                out[f] = self.y[idx]
            elif f in ("baseline", "persistence") and self.baseline is not None:
                out[f] = self.baseline[idx]
            else:
                raise DataError(f"{self.source}: cannot build {f!r} for this set; it has x, mask, y"
                                + "".join(f", {b}" for b in self.baseline_names))
        return out

    # ---- transforms --------------------------------------------------------------------------------------
    def subset(self, idx) -> TimeSeriesSet:
        """The samples ``idx`` (int indices or a bool mask over S), in that order.

        A forecasting set over a series stays lazy: only the window start rows are taken. Splits are remapped
        to positions in the subset (a sample keeps its split); per-sample meta arrays (first axis S) are sliced
        too.
        """
        idx = np.asarray(idx)
        if idx.dtype == bool:
            if idx.shape != (self.n_samples,):
                raise DataError(f"{self.source}: bool subset must have shape ({self.n_samples},), got {idx.shape}")
            idx = np.flatnonzero(idx)
        idx = idx.astype(np.int64).reshape(-1)
        if idx.size and (idx.min() < -self.n_samples or idx.max() >= self.n_samples):
            raise DataError(f"{self.source}: subset index out of range for {self.n_samples} samples")
        idx = np.where(idx < 0, idx + self.n_samples, idx)
        # Each sample's position in the subset (-1: left out; a sample taken twice keeps its last position).
        position = np.full(self.n_samples, -1, dtype=np.int64)
        position[idx] = np.arange(len(idx))
        splits = {}
        for name, part in self.splits.items():
            moved = position[np.asarray(part, dtype=np.int64)]
            splits[name] = moved[moved >= 0]
        meta = {
            k: (v[idx] if isinstance(v, np.ndarray) and v.ndim >= 1 and v.shape[0] == self.n_samples else v)
            for k, v in self.meta.items()
        }
        windows = self.windows
        if windows is not None:  # one lazy selection of window starts that every field shares
            part = windows.take(idx)
            return replace(
                self, x=WindowArray(part, "x"), y=WindowArray(part, "y"),
                mask=None if self.mask is None else WindowArray(part, "mask"),
                baseline=None if self.baseline is None else WindowArray(part, "persistence"),
                splits=splits, meta=meta,
            )
        return replace(
            self,
            x=self.x[idx],
            y=self.y[idx],
            mask=None if self.mask is None else self.mask[idx],
            baseline=None if self.baseline is None else self.baseline[idx],
            splits=splits,
            meta=meta,
        )

    def split(self, name: str) -> TimeSeriesSet:
        """The samples of one split (``"train"``, ``"val"`` or ``"test"``) as their own set."""
        if name not in SPLITS:
            raise DataError(f"{self.source}: split must be one of {', '.join(SPLITS)}, got {name!r}")
        return self.subset(self.splits.get(name, np.zeros(0, dtype=np.int64)))

    # ---- display -----------------------------------------------------------------------------------------
    def summary(self) -> str:
        """One or two lines for the command line."""
        sizes = " / ".join(f"{name} {len(self.splits.get(name, ()))}" for name in SPLITS)
        f = self.n_features
        line = (
            f"{self.source}: {self.task}, {self.n_samples} samples ({sizes}), "
            f"{_count(self.n_nodes, 'node')} x {_count(self.n_steps, 'step')} x {_count(f, 'feature')}"
        )
        if self.task == "classify":
            line += f", {self.n_classes} classes"
        elif self.task == "forecast":
            line += f", horizon {self.y.shape[-1]}"
        else:
            line += f", target shape {list(self.target_shape)}"
        extras = []
        if self.mask is not None:
            windows = self.windows
            masked = 1.0 - float(np.mean(self.mask)) if windows is None else windows.masked_fraction()
            if masked is not None:
                extras.append(f"{100.0 * masked:.1f}% of steps masked")
        if self.adjacency is not None:
            extras.append("adjacency given")
        if extras:
            line += "\n  " + "; ".join(extras)
        return line


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"
