"""Wide CSV reader for forecasting: a time column and one column per node (or per node and feature).

Layout (see docs/data.md)::

    time,      a,   b,   c            one feature per node: the column name is the node
    2024-01-01,1.0, 2.5, 0.3

    time,      a:load, a:temp, b:load, b:temp     several: ``node:feature``; feature order is the
    ...                                           order of first appearance; the first is the target

The time column is the one named ``time``, ``date``, ``timestamp`` or ``datetime`` (any case), or the
``time_column`` option, else the first column. Rows must be in time order. An empty cell (or ``NA``, ``NaN``,
``null``) is missing: the node's step is masked in x, and a window whose target has a missing value is dropped.

:func:`read_csv_series` reads the file into a :class:`~attnpool.data.series.RawSeries`; the windows are built
from it by :func:`attnpool.data.forecast.forecast_set`.
"""

from __future__ import annotations

import csv
import os

import numpy as np

from ..errors import DataError
from .series import RawSeries

TIME_NAMES = ("time", "date", "timestamp", "datetime")
MISSING = ("", "na", "nan", "null", "none", "n/a")
FLOAT32_MAX = float(np.finfo(np.float32).max)


def read_csv_series(path: str, *, time_column=None, delimiter=",") -> RawSeries:
    """Read and validate a wide CSV into one series (no windows): values ``[L, N, F]`` (NaN = missing).

    Args:
        path: the ``.csv`` file.
        time_column: name of the time column (default: see the module docstring).
        delimiter: cell separator (default: ``","``).

    Raises:
        DataError: one line naming the file (and the line and column of a bad cell).
    """
    header, rows = _read_rows(path, delimiter)
    t_col = _time_column(header, time_column, path)
    node_names, feature_names, columns = _layout(header, t_col, path)
    times, values = _parse(rows, header, t_col, columns, path)  # values [L, N, F], NaN = missing
    if values.size and np.isnan(values).all():
        raise DataError(f"{path}: every value is missing ({values.shape[0]} rows x {len(header) - 1} columns "
                        f"are empty or NA); nothing to learn from")
    _check_order(times, [line for line, _ in rows], header[t_col], path)
    return RawSeries(values=values, times=np.asarray(times, dtype=str), node_names=node_names,
                     feature_names=feature_names, time_name=header[t_col], source=path,
                     has_missing=bool(np.isnan(values).any()))


def _read_rows(path: str, delimiter: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    if not os.path.exists(path):
        raise DataError(f"{path}: file not found")
    if os.path.isdir(path):
        raise DataError(f"{path}: is a directory, expected a .csv file")
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f, delimiter=delimiter)
            lines = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    except UnicodeDecodeError as err:
        raise DataError(f"{path}: not a UTF-8 text file ({err.reason} at byte {err.start})") from None
    except csv.Error as err:
        raise DataError(f"{path}: malformed CSV ({err})") from None
    if not lines:
        raise DataError(f"{path}: file is empty")
    header = [name.strip() for name in lines[0][1]]
    if len(header) < 2:
        raise DataError(f"{path}: need a time column and at least one node column, got header {header}")
    if any(not name for name in header):
        raise DataError(f"{path}: header has an empty column name at column {header.index('') + 1}")
    dup = sorted({n for n in header if header.count(n) > 1})
    if dup:
        raise DataError(f"{path}: duplicate column names {dup}")
    return header, lines[1:]


def _time_column(header: list[str], time_column, path: str) -> int:
    if time_column is not None:
        if time_column not in header:
            raise DataError(f"{path}: time_column {time_column!r} is not a column; columns: {header}")
        return header.index(time_column)
    for i, name in enumerate(header):
        if name.lower() in TIME_NAMES:
            return i
    return 0


def _layout(header: list[str], t_col: int, path: str):
    """Node names, feature names, and for each (node, feature) its column index: ``columns [N][F]``."""
    features: dict[str, dict[str, int]] = {}
    for i, name in enumerate(header):
        if i == t_col:
            continue
        node, _, feature = name.rpartition(":") if ":" in name else (name, "", "value")
        if not node or not feature:
            raise DataError(f"{path}: column {name!r} must be 'node' or 'node:feature'")
        features.setdefault(node, {})[feature] = i
    node_names = list(features)
    feature_names = list(features[node_names[0]])
    for node in node_names[1:]:
        if list(features[node]) != feature_names:
            raise DataError(
                f"{path}: node {node!r} has features {list(features[node])} but node {node_names[0]!r} has "
                f"{feature_names}; every node needs the same features in the same order"
            )
    columns = [[features[node][f] for f in feature_names] for node in node_names]
    return node_names, feature_names, columns


def _parse(rows, header, t_col, columns, path):
    width = len(header)
    flat = [c for node in columns for c in node]
    N, F = len(columns), len(columns[0])
    values = np.empty((len(rows), N * F), dtype=np.float64)
    times = []
    for r, (line, row) in enumerate(rows):
        if len(row) != width:
            raise DataError(f"{path}: line {line} has {len(row)} cells, the header has {width}")
        times.append(row[t_col].strip())
        for k, c in enumerate(flat):
            cell = row[c].strip()
            if cell.lower() in MISSING:
                values[r, k] = np.nan
                continue
            try:
                v = float(cell)
            except ValueError:
                raise DataError(f"{path}: line {line}, column {header[c]!r}: {cell!r} is not a number") from None
            if not np.isfinite(v) or abs(v) > FLOAT32_MAX:  # the model reads float32: 1e39 would become inf
                raise DataError(f"{path}: line {line}, column {header[c]!r}: {cell!r} is not finite in float32")
            values[r, k] = v
    return times, values.reshape(len(rows), N, F)


def _check_order(times: list[str], lines: list[int], name: str, path: str) -> None:
    """Refuse rows out of time order when the time column parses as numbers or ISO dates."""
    if len(times) < 2:
        return
    parsed = None
    try:
        parsed = np.array([float(t) for t in times])
    except ValueError:
        try:
            parsed = np.array(times, dtype="datetime64[ns]").astype(np.int64)
        except ValueError:
            return  # free-form time labels: the file's order is the time order
    back = np.flatnonzero(np.diff(parsed) <= 0)
    if back.size:
        i = int(back[0])
        raise DataError(
            f"{path}: rows must be in increasing time order; {name} goes from {times[i]!r} to {times[i + 1]!r} "
            f"(line {lines[i + 1]})"
        )
