"""Parquet reader for forecasting series (``pip install attnpool[columnar]``): wide or long tables.

Wide, like the CSV: a time column and one column per node (``a``) or per node and feature (``a:load``)::

    time                 a     b     c
    2024-01-01 00:00    1.0   2.5   0.3

Long, as databases and ``DataFrame.to_parquet`` of a stacked frame export it: one row per (time, node), one
column per feature (the first is the target)::

    time                 node   speed   flow
    2024-01-01 00:00     a      61.2    310
    2024-01-01 00:00     b      58.0    NULL        missing cells, and (time, node) pairs without a row, are NaN

Which layout: ``layout="wide"`` or ``"long"``; by default long when ``node_column`` is given or a column is
named ``node`` (any case), wide otherwise. See docs/data.md for the rules and every error.
"""

from __future__ import annotations

import os

import numpy as np

from ..errors import DataError
from .series import RawSeries
from .wide_columns import FLOAT32_MAX, TIME_NAMES, check_header, first_out_of_order, layout, parse_times, short_list

LAYOUTS = ("wide", "long")
#: Rows per batch when a wide table is copied into the series (bounded memory beside the series itself).
BATCH_BYTES = 8 << 20


def read_parquet_series(path: str, *, time_column=None, layout=None, node_column=None, value_columns=None) -> RawSeries:
    """Read and validate a Parquet table into one series: values ``[L, N, F]`` (NaN = missing).

    Args:
        path: the ``.parquet`` / ``.pq`` file.
        time_column: the time column; default: a column named ``time``, ``date``, ``timestamp`` or ``datetime``
            (any case), else the index column pandas stored, else the only date/timestamp column, else the
            first column (long: the first column that is not the node column).
        layout: ``"wide"``, ``"long"`` or None (long when ``node_column`` is given or a column is named
            ``node``, any case; else wide).
        node_column: long layout: the column naming the node of each row (default: the column named ``node``).
        value_columns: long layout: the feature columns, in order (the first is the target); a list of names or
            one comma-separated string (default: every column but time and node).

    Returns:
        The series: values float32 when every value column is float32 (or narrower float), else float64;
        times [L] as stored (datetime64, numbers or text), strictly increasing; nodes and features named as
        above (long: nodes sorted by their id, numbers numerically).

    Raises:
        DataError: one line naming the file and the column (and row) of any problem.
    """
    if not isinstance(path, str) or not os.path.exists(path):
        raise DataError(f"{path}: file not found")
    if os.path.isdir(path):
        raise DataError(f"{path}: is a directory, expected a .parquet file")
    for name, value in (("time_column", time_column), ("node_column", node_column)):
        if value is not None and (not isinstance(value, str) or not value):
            raise DataError(f"{path}: option {name} must be a column name (str), got {value!r}")
    if layout not in (None, *LAYOUTS):
        raise DataError(f"{path}: option layout must be 'wide', 'long' or None (chosen from the columns), got {layout!r}")
    value_columns = _names_option(value_columns, "value_columns", path)
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise DataError(f"{path}: reading Parquet needs pyarrow: pip install 'attnpool[columnar]'") from None
    try:
        pf = pq.ParquetFile(path)
        schema = pf.schema_arrow
    except (pa.ArrowException, OSError) as err:
        raise DataError(f"{path}: not a Parquet file, or a damaged one ({type(err).__name__}: {_first_line(err)})") from None

    names = list(schema.names)
    check_header(names, path, what="columns")
    if pf.metadata.num_rows == 0:
        raise DataError(f"{path}: the table has no rows (columns {short_list(names)})")

    if layout is None:
        layout = "long" if node_column is not None or any(n.lower() == "node" for n in names) else "wide"
    if layout == "wide":
        for name, value in (("node_column", node_column), ("value_columns", value_columns)):
            if value is not None:
                raise DataError(f"{path}: option {name} is for layout 'long'; a wide table names its nodes in its columns")
        return _read_wide(pf, schema, names, time_column, path)
    return _read_long(pf, schema, names, time_column, node_column, value_columns, path)


def _read_wide(pf, schema, names, time_column, path) -> RawSeries:
    import pyarrow as pa

    time_name = names[_time_index(schema, names, time_column, exclude=(), path=path)]
    # The index pandas stored beside the columns (a row number after filtering) is not a node.
    header = [n for n in names if n == time_name or n not in _pandas_index(schema, names)]
    node_names, feature_names, columns = layout(header, header.index(time_name), path)
    flat = [header[c] for node in columns for c in node]
    dtype = _value_dtype(schema, flat, path)
    times, parsed = _times(pf.read(columns=[time_name]).column(0), time_name, path)  # [L]
    i = first_out_of_order(parsed) if parsed is not None else None
    if i is not None:
        raise DataError(f"{path}: rows must be in increasing time order; {time_name} goes from {_show(times[i])} to "
                        f"{_show(times[i + 1])} (row {i + 2})")

    # values [L, N*F], filled batch by batch (column k = the flat (node, feature) order).
    L = pf.metadata.num_rows
    values = np.empty((L, len(flat)), dtype=dtype)
    any_missing, start = False, 0
    rows_per_batch = max(1024, BATCH_BYTES // (len(flat) * 8))
    for batch in pf.iter_batches(batch_size=rows_per_batch, columns=flat):
        stop = start + batch.num_rows
        for k, name in enumerate(flat):
            x = _floats(batch.column(name), dtype, pa)
            _check_finite(x, name, start, path)
            any_missing = any_missing or bool(np.isnan(x).any())
            values[start:stop, k] = x
        start = stop
    if start != L:
        raise DataError(f"{path}: the file holds {start} rows, its metadata says {L}")
    if np.isnan(values).all():
        raise DataError(f"{path}: every value is missing ({L} rows x {len(flat)} columns are null or NaN); nothing to learn from")
    return RawSeries(values=values.reshape(L, len(node_names), len(feature_names)), times=times, node_names=node_names,
                     feature_names=feature_names, time_name=time_name, source=path, has_missing=any_missing)


def _read_long(pf, schema, names, time_column, node_column, value_columns, path) -> RawSeries:
    import pyarrow as pa
    import pyarrow.compute as pc

    if node_column is None:
        node_column = next((n for n in names if n.lower() == "node"), None)
        if node_column is None:
            raise DataError(f"{path}: layout 'long' needs a node column: name it with node_column=, or call it 'node'; "
                            f"columns: {short_list(names)}")
    elif node_column not in names:
        raise DataError(f"{path}: node_column {node_column!r} is not a column; columns: {short_list(names)}")
    time_name = names[_time_index(schema, names, time_column, exclude=(node_column,), path=path)]
    if time_name == node_column:
        raise DataError(f"{path}: time_column and node_column are both {node_column!r}; they must be two columns")
    if value_columns is None:  # the index pandas stored beside the columns is not a feature
        skip = {time_name, node_column, *_pandas_index(schema, names)}
        value_columns = [n for n in names if n not in skip]
    else:
        for name in value_columns:
            if name not in names:
                raise DataError(f"{path}: value_columns: {name!r} is not a column; columns: {short_list(names)}")
            if name in (time_name, node_column):
                raise DataError(f"{path}: value_columns: {name!r} is the {'time' if name == time_name else 'node'} column")
        if len(set(value_columns)) < len(value_columns):
            raise DataError(f"{path}: value_columns names a column twice: {value_columns}")
    if not value_columns:
        raise DataError(f"{path}: a long table needs at least one value column beside {time_name!r} and {node_column!r}")
    dtype = _value_dtype(schema, value_columns, path)

    table = pf.read(columns=[time_name, node_column, *value_columns])
    n_rows = table.num_rows
    # Nodes: sorted distinct ids (numbers numerically); node_code [rows] indexes node_names.
    node_ids = _plain(table.column(node_column))
    if not (pa.types.is_integer(node_ids.type) or pa.types.is_string(node_ids.type) or pa.types.is_large_string(node_ids.type)):
        raise DataError(f"{path}: node column {node_column!r} is {node_ids.type}, expected text or integers")
    _no_nulls(node_ids, node_column, "node", path)
    node_sorted, node_code = _codes(node_ids, pc)
    node_names = [str(v) for v in node_sorted.to_pylist()]
    # Times: sorted distinct times; time_code [rows] indexes them.
    time_ids = _time_values(table.column(time_name), time_name, path)
    if pa.types.is_string(time_ids.type) or pa.types.is_large_string(time_ids.type):
        distinct = time_ids.dictionary_encode()
        text = [str(t) for t in distinct.dictionary.to_pylist()]
        parsed = parse_times(text)
        if parsed is None:
            raise DataError(f"{path}: time column {time_name!r} holds text that is neither numbers nor ISO dates "
                            f"(e.g. {text[0]!r}), so the rows of a long table cannot be put in time order")
        order = np.argsort(parsed, kind="stable")
        same = first_out_of_order(parsed[order])
        if same is not None:
            raise DataError(f"{path}: time column {time_name!r} writes one time two ways: {text[order[same]]!r} and "
                            f"{text[order[same + 1]]!r}")
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        time_code = rank[distinct.indices.to_numpy(zero_copy_only=False).astype(np.int64)]
        times = np.asarray([text[j] for j in order], dtype=str)
        del distinct
    else:
        time_sorted, time_code = _codes(time_ids, pc)
        times = time_sorted.to_numpy(zero_copy_only=False)
    L, N, F = len(times), len(node_names), len(value_columns)

    # One row per (time, node): flat position time * N + node. The time and node columns are done with.
    flat = time_code.astype(np.int64) * N + node_code
    del time_code, node_code, time_ids, node_ids
    table = table.select(value_columns)
    seen = np.zeros(L * N, dtype=bool)
    seen[flat] = True
    if np.count_nonzero(seen) < n_rows:
        order = np.argsort(flat, kind="stable")
        d = int(np.flatnonzero(np.diff(flat[order]) == 0)[0])
        a, b = int(order[d]), int(order[d + 1])
        t, n = divmod(int(flat[a]), N)
        raise DataError(f"{path}: time {_show(times[t])} and node {node_names[n]!r} have two rows "
                        f"(rows {a + 1} and {b + 1}); a long table needs one row per (time, node)")
    del seen

    values = np.full((L * N, F), np.nan, dtype=dtype)  # [L*N, F] -> [L, N, F] below; pairs without a row stay NaN
    for f, name in enumerate(value_columns):
        x = _floats(table.column(name), dtype, pa)
        _check_finite(x, name, 0, path)
        values[flat, f] = x
    del table
    if np.isnan(values).all():
        raise DataError(f"{path}: every value is missing ({n_rows} rows x {F} value columns are null or NaN); "
                        f"nothing to learn from")
    return RawSeries(values=values.reshape(L, N, F), times=times, node_names=node_names, feature_names=list(value_columns),
                     time_name=time_name, source=path, has_missing=bool(np.isnan(values).any()))


def _time_index(schema, names, time_column, *, exclude, path) -> int:
    """The time column: the option, a name like time, pandas' stored index, the only temporal column, the first."""
    import pyarrow as pa

    if time_column is not None:
        if time_column not in names:
            raise DataError(f"{path}: time_column {time_column!r} is not a column; columns: {short_list(names)}")
        return names.index(time_column)
    candidates = [i for i, n in enumerate(names) if n not in exclude]
    for i in candidates:
        if names[i].lower() in TIME_NAMES:
            return i
    index = [c for c in _pandas_index(schema, names) if c not in exclude]
    if len(index) == 1:
        return names.index(index[0])
    temporal = [i for i in candidates if pa.types.is_temporal(schema.field(i).type)]
    if len(temporal) == 1:
        return temporal[0]
    return candidates[0]


def _pandas_index(schema, names) -> list[str]:
    """The columns ``DataFrame.to_parquet`` stored its index in (none for a plain 0..n-1 index)."""
    meta = schema.pandas_metadata or {}
    return [c for c in meta.get("index_columns", []) if isinstance(c, str) and c in names]


def _time_values(column, name: str, path: str):
    """A time column checked (no null, no NaN; a timestamp, date, duration, numbers or text), as one plain array."""
    import pyarrow as pa

    column = _plain(column)
    kind = column.type
    if not (pa.types.is_timestamp(kind) or pa.types.is_date(kind) or pa.types.is_duration(kind)
            or pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_string(kind)
            or pa.types.is_large_string(kind)):
        raise DataError(f"{path}: time column {name!r} is {kind}, expected timestamps, dates, numbers or text")
    _no_nulls(column, name, "time", path)
    if pa.types.is_floating(kind):
        nan = np.isnan(column.to_numpy(zero_copy_only=False))
        if nan.any():
            raise DataError(f"{path}: time column {name!r} is NaN at row {int(np.flatnonzero(nan)[0]) + 1}")
    return column


def _times(column, name: str, path: str):
    """Times [L] as numpy (datetime64, numbers or text) and numbers to order them by (None for free-form text)."""
    import pyarrow as pa

    column = _time_values(column, name, path)
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        text = column.to_pylist()
        return np.asarray(text, dtype=str), parse_times(text)
    times = column.to_numpy(zero_copy_only=False)  # datetime64, timedelta64 or numbers
    return times, (times.view(np.int64) if times.dtype.kind in "mM" else times)


def _value_dtype(schema, columns, path):
    """float32 when every value column is a float of at most 32 bits (or all null), else float64; refuse others."""
    import pyarrow as pa

    small = True
    for name in columns:
        kind = schema.field(name).type
        if pa.types.is_dictionary(kind):
            kind = kind.value_type
        if not (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind) or pa.types.is_null(kind)):
            raise DataError(f"{path}: column {name!r} is {kind}, expected numbers (integers or floats)")
        small = small and (pa.types.is_float16(kind) or pa.types.is_float32(kind) or pa.types.is_null(kind))
    return np.float32 if small else np.float64


def _floats(column, dtype, pa) -> np.ndarray:
    """A numeric column as ``dtype`` numpy; null -> NaN (so does a stored NaN: both mean missing)."""
    column = _plain(column)
    target = pa.float32() if dtype == np.float32 else pa.float64()
    return column.cast(target, safe=False).to_numpy(zero_copy_only=False)


def _check_finite(x: np.ndarray, name: str, start: int, path: str) -> None:
    """Refuse inf and values beyond float32 (the model reads float32); NaN is missing and allowed."""
    bad = np.abs(x) > FLOAT32_MAX  # inf too; NaN compares false
    if bad.any():
        r = int(np.flatnonzero(bad)[0])
        raise DataError(f"{path}: row {start + r + 1}, column {name!r}: {float(x[r])!r} is not finite in float32")


def _codes(ids, pc):
    """Distinct values sorted, and for each row the position of its value among them."""
    distinct = ids.dictionary_encode()
    order = pc.array_sort_indices(distinct.dictionary).to_numpy().astype(np.int64)
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return distinct.dictionary.take(order), rank[distinct.indices.to_numpy(zero_copy_only=False).astype(np.int64)]


def _plain(column):
    """A dictionary-encoded column as its plain values (pandas categoricals are stored so)."""
    import pyarrow as pa

    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    return column.dictionary_decode() if pa.types.is_dictionary(column.type) else column


def _no_nulls(column, name: str, what: str, path: str) -> None:
    if column.null_count:
        row = int(np.flatnonzero(column.is_null().to_numpy(zero_copy_only=False))[0]) + 1
        raise DataError(f"{path}: {what} column {name!r} is empty (null) at row {row}; every row needs its {what}")


def _names_option(value, option: str, path: str):
    if value is None:
        return None
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",")]
    if not isinstance(value, (list, tuple)) or not value or not all(isinstance(v, str) and v for v in value):
        raise DataError(f"{path}: option {option} must be a list of column names or one comma-separated string, "
                        f"got {value!r}")
    return list(value)


def _show(t) -> str:
    return repr(str(t))


def _first_line(err) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__
