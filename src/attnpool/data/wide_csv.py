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
import math
import os

import numpy as np

from ..errors import DataError
from .csv_arrow import read_csv_arrow
from .series import RawSeries
from .wide_columns import (
    FLOAT32_MAX,
    MISSING,
    check_header,
    first_out_of_order,
    layout,
    parse_times,
    time_column_index,
)


def read_csv_series(path: str, *, time_column=None, delimiter=",") -> RawSeries:
    """Read and validate a wide CSV into one series (no windows): values float64 ``[L, N, F]`` (NaN = missing).

    Reads through pyarrow's CSV reader when pyarrow is installed (``pip install attnpool[columnar]``): about
    ten times faster than row by row (benchmarks/results/read_speed.md). Without it, or when the fast reader meets anything it cannot
    vouch for (a bad cell, rows out of order, an unusual missing-value spelling), the row-by-row reader reads
    the file: it gives the same series and names the exact line and column of any problem.

    Args:
        path: the ``.csv`` file.
        time_column: name of the time column (default: see the module docstring).
        delimiter: cell separator (default: ``","``).

    Returns:
        The series; ``times`` [L] are the time cells as text.

    Raises:
        DataError: one line naming the file (and the line and column of a bad cell).
    """
    if not os.path.exists(path):
        raise DataError(f"{path}: file not found")
    if os.path.isdir(path):
        raise DataError(f"{path}: is a directory, expected a .csv file")
    raw = read_csv_arrow(path, time_column=time_column, delimiter=delimiter)
    if raw is not None:
        return raw
    return read_csv_rows(path, time_column=time_column, delimiter=delimiter)


def read_csv_rows(path: str, *, time_column=None, delimiter=",") -> RawSeries:
    """The row-by-row reader (Python's ``csv`` module): the reference for the fast reader and its fallback.

    Two passes over the file so that memory stays the size of the values, not of every cell as text: the first
    checks that the whole file decodes and parses as CSV and counts the rows, the second converts row by row.
    Problems are reported in the order they always were: decoding, the header, then line by line.
    """
    if not os.path.exists(path):
        raise DataError(f"{path}: file not found")
    if os.path.isdir(path):
        raise DataError(f"{path}: is a directory, expected a .csv file")
    header, n_rows = _scan(path, delimiter)
    t_col = time_column_index(header, time_column, path)
    node_names, feature_names, columns = layout(header, t_col, path)
    times, lines, values = _parse(path, delimiter, header, t_col, columns, n_rows)  # values [L, N, F], NaN = missing
    if values.size and np.isnan(values).all():
        raise DataError(f"{path}: every value is missing ({values.shape[0]} rows x {len(header) - 1} columns "
                        f"are empty or NA); nothing to learn from")
    _check_order(times, lines, header[t_col], path)
    return RawSeries(values=values, times=np.asarray(times, dtype=str), node_names=node_names,
                     feature_names=feature_names, time_name=header[t_col], source=path,
                     has_missing=bool(np.isnan(values).any()))


def _rows(f, delimiter: str):
    """``(line, cells)`` of every row with a non-blank cell; ``line`` is the row's last line in the file."""
    reader = csv.reader(f, delimiter=delimiter)
    for row in reader:
        if any(cell.strip() for cell in row):
            yield reader.line_num, row


def _open(path: str):
    return open(path, newline="", encoding="utf-8-sig")


def _scan(path: str, delimiter: str) -> tuple[list[str], int]:
    """The header (checked) and the number of data rows, after decoding and parsing the whole file once."""
    header, n_rows = None, 0
    try:
        with _open(path) as f:
            for _, row in _rows(f, delimiter):
                if header is None:
                    header = row
                else:
                    n_rows += 1
    except UnicodeDecodeError as err:
        raise DataError(f"{path}: not a UTF-8 text file ({err.reason} at byte {err.start})") from None
    except csv.Error as err:
        raise DataError(f"{path}: malformed CSV ({err})") from None
    if header is None:
        raise DataError(f"{path}: file is empty")
    header = [name.strip() for name in header]
    check_header(header, path)
    return header, n_rows


def _parse(path, delimiter, header, t_col, columns, n_rows):
    """Times (text), the line of each row, and values ``[L, N, F]`` float64, converting one row at a time."""
    width = len(header)
    flat = [c for node in columns for c in node]
    N, F = len(columns), len(columns[0])
    values = np.empty((n_rows, N * F), dtype=np.float64)
    lines = np.empty(n_rows, dtype=np.int64)
    times = []
    with _open(path) as f:
        rows = _rows(f, delimiter)
        next(rows)  # the header
        for r, (line, row) in enumerate(rows):
            if r == n_rows:
                raise DataError(f"{path}: the file changed while it was read (more than {n_rows} rows)")
            if len(row) != width:
                raise DataError(f"{path}: line {line} has {len(row)} cells, the header has {width}")
            times.append(row[t_col].strip())
            lines[r] = line
            out = []  # Python floats, stored once per row (math.isfinite: a numpy call per cell costs more than parsing)
            for c in flat:
                cell = row[c].strip()
                if cell.lower() in MISSING:
                    out.append(math.nan)
                    continue
                try:
                    v = float(cell)
                except ValueError:
                    raise DataError(f"{path}: line {line}, column {header[c]!r}: {cell!r} is not a number") from None
                if not math.isfinite(v) or abs(v) > FLOAT32_MAX:  # the model reads float32: 1e39 would become inf
                    raise DataError(f"{path}: line {line}, column {header[c]!r}: {cell!r} is not finite in float32")
                out.append(v)
            values[r] = out
    if len(times) != n_rows:
        raise DataError(f"{path}: the file changed while it was read ({len(times)} rows, then {n_rows})")
    return times, lines, values.reshape(n_rows, N, F)


def _check_order(times: list[str], lines, name: str, path: str) -> None:
    """Refuse rows out of time order when the time column parses as numbers or ISO dates."""
    parsed = parse_times(times)
    i = None if parsed is None else first_out_of_order(parsed)
    if i is not None:
        raise DataError(
            f"{path}: rows must be in increasing time order; {name} goes from {times[i]!r} to {times[i + 1]!r} "
            f"(line {lines[i + 1]})"
        )
