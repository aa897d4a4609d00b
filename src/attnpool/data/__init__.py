"""Data sets for attnpool: one call, ``load_data(source)``, for NPZ, wide CSV, UEA/UCR (aeon) and synthetic sets.

``from_arrays(x, y, ...)`` builds the same from arrays in memory.
``load_data`` returns a :class:`TimeSeriesSet` (x ``[S, N, T, F]``, mask ``[S, N, T]``, y, splits, baseline...);
a forecasting set read from a series keeps the series once and builds its windows per batch (:mod:`.windows`,
:func:`.forecast.forecast_set`). ``make_loader`` wraps one split in a plain torch ``DataLoader``. Every problem with the input raises
:class:`DataError` (a ``ValueError``) with a one-line message. User guide: docs/data.md.
"""

from ..errors import DataError
from .arrays import from_arrays, to_npz
from .dataset import TimeSeriesSet
from .load import load_data, prepare


def __getattr__(name):
    # torch is imported only when a loader is asked for.
    if name in ("make_loader", "SplitDataset"):
        from . import loader

        return getattr(loader, name)
    if name == "SeriesDataModule":  # Lightning, only when asked for
        from .datamodule import SeriesDataModule

        return SeriesDataModule
    raise AttributeError(f"module 'attnpool.data' has no attribute {name!r}")


__all__ = ["DataError", "SeriesDataModule", "SplitDataset", "TimeSeriesSet", "from_arrays", "load_data", "make_loader",
           "prepare", "to_npz"]
