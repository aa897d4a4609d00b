"""``RawSeries``: one multi-node series as a file holds it, before it is cut into windows.

Every forecasting reader (CSV, Parquet, ``.npy``) returns a :class:`RawSeries`; the windows a model trains on
are built from it by index, batch by batch, so the series is kept once whatever the window length.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class RawSeries:
    """A series ``[L, N, F]`` (``L`` time steps, ``N`` nodes, ``F`` features per node) and its names.

    Attributes:
        values: float32 (or float64) ``[L, N, F]``; NaN marks a missing value; may be a read-only
            ``np.memmap`` (a ``.npy`` opened memory-mapped), so code must not copy it whole.
        times: ``[L]`` time labels (str, numbers or datetime64) or None (the row number is the time).
        node_names: N names.
        feature_names: F names; feature 0 is the forecast target.
        time_name: the name of the time column, or None.
        source: the path or name the series came from (used in error messages).
        has_missing: whether any value is NaN (readers know it from their own pass over the data; None when
            not known).
    """

    values: np.ndarray
    times: np.ndarray | None
    node_names: list[str]
    feature_names: list[str]
    time_name: str | None = None
    source: str = "data"
    has_missing: bool | None = None

    @property
    def n_rows(self) -> int:
        return int(self.values.shape[0])


__all__ = ["RawSeries"]
