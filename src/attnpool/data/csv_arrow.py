"""The fast wide-CSV reader: pyarrow's multi-threaded CSV parser (``pip install attnpool[columnar]``).

It returns exactly the series the row-by-row reader (:func:`attnpool.data.wide_csv.read_csv_rows`) returns, or
None. It never reports a problem itself: on anything it cannot vouch for (a cell pyarrow will not convert, a
NaN or inf written as a number, a value beyond float32, rows out of time order, a row it cannot tell from a
blank one, a header the two parsers read differently), the row reader reads the file and names the line and
column, as it always did. Errors are rare, so their speed does not matter; a good file is read once, in C.

Why the results are the same: pyarrow is told the column types (text for time, float64 for the rest) and the
exact missing-value spellings of the row reader (every case of ``MISSING``); pyarrow and Python's ``float``
both round a decimal to the nearest float64; every number pyarrow accepts, ``float`` accepts (the reverse
is not true: ``1_0``, ``" NA "`` make pyarrow fail, and the row reader then reads them). The comparison test
(tests/data/test_csv_arrow.py) runs both readers over many files.
"""

from __future__ import annotations

import csv
import itertools

import numpy as np

from ..errors import DataError
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


def read_csv_arrow(path: str, *, time_column=None, delimiter=",") -> RawSeries | None:
    """Read a wide CSV through pyarrow; None when pyarrow is not installed or the row reader must decide.

    Args:
        path: an existing ``.csv`` file.
        time_column: name of the time column, or None (the rule of :func:`time_column_index`).
        delimiter: one character.

    Returns:
        The series (values float64 ``[L, N, F]``, NaN = missing; times [L] text), equal to the row reader's.
    """
    try:
        import pyarrow as pa
        import pyarrow.csv as pa_csv
    except ImportError:
        return None
    found = _header(path, delimiter, time_column)
    if found is None:
        return None
    raw_names, header, t_col, node_names, feature_names, columns = found

    types = {name: pa.string() if i == t_col else pa.float64() for i, name in enumerate(raw_names)}
    try:
        table = pa_csv.read_csv(
            path,
            # Quoted cells may hold newlines, as the csv module allows; lines with nothing on them are skipped.
            parse_options=pa_csv.ParseOptions(delimiter=delimiter, newlines_in_values=True, ignore_empty_lines=True),
            convert_options=pa_csv.ConvertOptions(
                column_types=types, null_values=NULL_SPELLINGS, strings_can_be_null=False,
                quoted_strings_can_be_null=True,
            ),
        )
    except (pa.ArrowException, ValueError, UnicodeError, OSError):
        return None
    if [name.strip() for name in table.column_names] != header:
        return None
    if any(table.schema.field(i).type != (pa.string() if i == t_col else pa.float64()) for i in range(len(header))):
        return None

    # values [L, N*F]: column k of the flat (node, feature) order; the checks run column by column.
    L = table.num_rows
    flat = [c for node in columns for c in node]
    values = np.empty((L, len(flat)), dtype=np.float64)
    nulls = in_range = 0
    for k, c in enumerate(flat):
        column = table.column(c)
        x = column.to_numpy()  # float64, a null (missing cell) -> NaN
        nulls += column.null_count
        in_range += np.count_nonzero(np.abs(x) <= FLOAT32_MAX)  # NaN compares false
        values[:, k] = x
    if in_range + nulls != values.size:  # a NaN, inf or 1e39 written as a number: the row reader names its cell
        return None
    if values.size and in_range == 0:  # every value missing: the row reader says so
        return None

    times = [t.strip() for t in table.column(t_col).to_pylist()]
    del table
    pa.default_memory_pool().release_unused()  # hand the parser's buffers back rather than keep them for later
    # The csv module refuses a cell over its field size limit (131,072 characters). Checked on the time cells; a
    # number that long (a 131,072-digit literal) is the one known case pyarrow reads and the row reader refuses.
    if times and max(map(len, times)) > csv.field_size_limit():
        return None
    if nulls:
        # A row of empty cells (",,") is blank to the row reader and skipped; to pyarrow it is a row of nulls.
        empty = np.flatnonzero(np.asarray(times, dtype=str) == "")
        if empty.size and np.isnan(values[empty]).all(axis=1).any():
            return None
    parsed = parse_times(times)
    if parsed is not None and first_out_of_order(parsed) is not None:
        return None  # the row reader names the line
    return RawSeries(values=values.reshape(L, len(node_names), len(feature_names)), times=np.asarray(times, dtype=str),
                     node_names=node_names, feature_names=feature_names, time_name=header[t_col], source=path,
                     has_missing=nulls > 0)


def _header(path: str, delimiter: str, time_column):
    """The header as the row reader reads it (its first non-blank row) and the layout, or None on any problem."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            raw_names = next((row for row in csv.reader(f, delimiter=delimiter) if any(c.strip() for c in row)), None)
        if raw_names is None:
            return None
        header = [name.strip() for name in raw_names]
        check_header(header, path)
        t_col = time_column_index(header, time_column, path)
        node_names, feature_names, columns = layout(header, t_col, path)
    except (UnicodeDecodeError, csv.Error, DataError):
        return None
    return raw_names, header, t_col, node_names, feature_names, columns


def _cases(word: str) -> list[str]:
    """Every spelling of ``word`` in upper and lower case letters (``na`` -> na, nA, Na, NA)."""
    return ["".join(chars) for chars in itertools.product(*({c.lower(), c.upper()} for c in word))]


#: The row reader's missing cells (``MISSING``, any case) as pyarrow's exact-match null strings.
NULL_SPELLINGS = sorted({spelling for word in MISSING for spelling in _cases(word)})
