"""``read_series_file``: one entry point from a series file (``.csv``, ``.parquet``/``.pq``, ``.npy``) to a
:class:`RawSeries`, chosen by the file's extension. Windows are cut from the series elsewhere.
"""

from __future__ import annotations

import os

from ..errors import DataError
from .series import RawSeries

#: Extension -> (format name, the options its reader takes).
FORMATS = {
    ".csv": ("CSV", ("time_column", "delimiter")),
    ".parquet": ("Parquet", ("time_column", "layout", "node_column", "value_columns")),
    ".pq": ("Parquet", ("time_column", "layout", "node_column", "value_columns")),
    ".npy": (".npy", ("node_names", "feature_names")),
}


def read_series_file(path, **options) -> RawSeries:
    """Read one multi-node series from a file, by its extension: values ``[L, N, F]`` (NaN = missing).

    - ``.csv``: a wide table (:func:`attnpool.data.wide_csv.read_csv_series`); options ``time_column``,
      ``delimiter``. Fast through pyarrow when ``attnpool[columnar]`` is installed, row by row otherwise.
    - ``.parquet`` / ``.pq``: a wide or long table (:func:`attnpool.data.parquet.read_parquet_series`); options
      ``time_column``, ``layout``, ``node_column``, ``value_columns``; needs ``attnpool[columnar]``.
    - ``.npy``: ``[L, N]`` or ``[L, N, F]`` float32/float64, memory-mapped
      (:func:`attnpool.data.npy_series.read_npy_series`); options ``node_names``, ``feature_names``.

    Args:
        path: the file (str or path-like); the extension is matched in any case.
        **options: the reader's options (above); any other is refused, naming the known ones.

    Raises:
        DataError: one line naming the file: an unknown extension or option, or the reader's own errors.
    """
    name = os.fspath(path) if isinstance(path, os.PathLike) else path
    if not isinstance(name, str) or not name:
        raise DataError(f"a series file must be a path (str), got {path!r}")
    ext = os.path.splitext(name)[1].lower()
    if ext not in FORMATS:
        raise DataError(f"{name}: unknown series file extension {ext or '(none)'!r}; expected one of "
                        f"{', '.join(FORMATS)}")
    kind, known = FORMATS[ext]
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise DataError(f"{name}: unknown option(s) for a {kind} file: {', '.join(unknown)}; known: {', '.join(known)}")
    if ext == ".csv":
        from .wide_csv import read_csv_series

        _check_csv_options(name, **options)
        return read_csv_series(name, **options)
    if ext == ".npy":
        from .npy_series import read_npy_series

        return read_npy_series(name, **options)
    from .parquet import read_parquet_series

    return read_parquet_series(name, **options)


def _check_csv_options(path: str, time_column=None, delimiter=","):
    # The same checks read_csv makes before it reads (read_csv_series itself trusts its caller).
    if time_column is not None and not isinstance(time_column, str):
        raise DataError(f"{path}: option time_column must be a column name (str), got {time_column!r}")
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise DataError(f"{path}: option delimiter must be one character (str), got {delimiter!r}")
