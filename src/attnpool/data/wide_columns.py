"""Column rules shared by the wide readers (CSV and Parquet): which column is time, how columns name nodes
and features, which text means missing, and when rows are in time order.

A wide table has a time column and one column per node (``a``) or per node and feature (``a:load``); see
docs/data.md. The CSV reader (row by row or through pyarrow) and the Parquet reader apply the same rules, so a
table gives the same series whatever file it is stored in.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from ..errors import DataError

#: Names of a time column (any case) chosen when no ``time_column`` is given.
TIME_NAMES = ("time", "date", "timestamp", "datetime")
#: Cell texts (after stripping spaces, any case) that mean a missing value in a CSV.
MISSING = ("", "na", "nan", "null", "none", "n/a")
#: The largest float32: the model reads float32, so a value beyond it (1e39) would become inf.
FLOAT32_MAX = float(np.finfo(np.float32).max)


def check_header(header: list[str], path: str, what: str = "header") -> None:
    """A time column and at least one more, no empty name, no name twice (``header``: names, stripped; ``what``:
    how the messages call them, ``"header"`` for a CSV, ``"columns"`` for a Parquet table)."""
    if len(header) < 2:
        raise DataError(f"{path}: need a time column and at least one node column, got {what} {short_list(header)}")
    if any(not name for name in header):
        raise DataError(f"{path}: header has an empty column name at column {header.index('') + 1}")
    dup = sorted(name for name, count in Counter(header).items() if count > 1)
    if dup:
        raise DataError(f"{path}: duplicate column names {short_list(dup)}")


def time_column_index(header: list[str], time_column, path: str) -> int:
    """The index of the time column: ``time_column`` if given, else the first column named like time, else 0."""
    if time_column is not None:
        if time_column not in header:
            raise DataError(f"{path}: time_column {time_column!r} is not a column; columns: {short_list(header)}")
        return header.index(time_column)
    for i, name in enumerate(header):
        if name.lower() in TIME_NAMES:
            return i
    return 0


def layout(header: list[str], t_col: int, path: str) -> tuple[list[str], list[str], list[list[int]]]:
    """Node names, feature names, and for each (node, feature) its column index: ``columns [N][F]``.

    A column ``a`` is node ``a`` with the one feature ``value``; ``a:load`` is node ``a``, feature ``load`` (split
    at the last ``:``). Features keep the order of their first column; every node needs the same features.
    """
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


def parse_times(times) -> np.ndarray | None:
    """Time labels as numbers to compare: float for numbers, int64 nanoseconds for ISO dates, None otherwise.

    ``times`` is a sequence of str (already stripped). Free-form labels (``"week 1"``) give None: the file's
    order is then the time order.
    """
    try:
        return np.array([float(t) for t in times])
    except ValueError:
        try:
            return np.array(times, dtype="datetime64[ns]").astype(np.int64)
        except ValueError:
            return None


def first_out_of_order(parsed: np.ndarray) -> int | None:
    """The first index ``i`` with ``parsed[i + 1] <= parsed[i]`` (rows must strictly increase), or None.

    ``parsed`` holds numbers (float, or int64 nanoseconds for dates); a NaN compares false, as it always did.
    """
    if len(parsed) < 2:
        return None
    back = np.flatnonzero(np.diff(parsed) <= 0)
    return int(back[0]) if back.size else None


def short_list(names: list[str], limit: int = 20) -> str:
    """``names`` as a Python list, cut after ``limit`` names (a table may have 10,000 columns; errors are one line)."""
    if len(names) <= limit:
        return str(list(names))
    return f"[{', '.join(repr(n) for n in names[:limit])}, ... ({len(names)} in all)]"
