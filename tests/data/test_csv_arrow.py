"""The pyarrow CSV reader against the row-by-row reader (the oracle): same series, same errors, on many files."""

import random
import sys

import numpy as np
import pytest

from attnpool.data import DataError, wide_csv
from attnpool.data.csv_arrow import NULL_SPELLINGS, read_csv_arrow

pytest.importorskip("pyarrow")

# Cells the row reader reads as numbers, as missing, or refuses; pyarrow must agree or step aside.
NUMBERS = ["1.5", " 2", "3 ", "-0", "+4", "1e3", "1E-2", ".5", "5.", "00012", "1e0001", '"7.25"', "\t8", "-123456.789e-5",
           "0.1", "3.4028234663852886e38", "1e-400"]
MISSING_CELLS = ["", "NA", "na", "nA", "NaN", "nan", "NAN", "null", "NULL", "None", "n/a", "N/A", '""', '"NA"']
ODD = [" NA ", "  ", "1_0", "inf", "-Infinity", "nan ", "-nan", "1e39", "-3.5e38", "1e400", "abc", "0x1", "\uff11", '"1,5"',
       '"2\n"', "1e", "+"]


def equal_series(a, b):
    assert a.values.dtype == b.values.dtype and a.values.shape == b.values.shape
    np.testing.assert_array_equal(a.values, b.values)  # NaN at the same places
    assert np.array_equal(np.signbit(a.values), np.signbit(b.values))  # -0.0 stays -0.0
    assert a.times.dtype == b.times.dtype and np.array_equal(a.times, b.times)
    assert (a.node_names, a.feature_names, a.time_name, a.source, a.has_missing) == (
        b.node_names, b.feature_names, b.time_name, b.source, b.has_missing)


def reference(path, **options):
    try:
        return wide_csv.read_csv_rows(path, **options), None
    except DataError as err:
        return None, str(err)


def check_same(path, **options):
    """Fast reader equal to the row reader, or None; read_csv_series gives the row reader's series or error."""
    ref, message = reference(path, **options)
    fast = read_csv_arrow(path, **options)
    if fast is not None:
        assert ref is not None, f"pyarrow read a file the row reader refuses: {message}"
        equal_series(fast, ref)
    if ref is None:
        with pytest.raises(DataError) as err:
            wide_csv.read_csv_series(path, **options)
        assert str(err.value) == message
    else:
        equal_series(wide_csv.read_csv_series(path, **options), ref)
    return fast, ref


def random_csv(rng: random.Random, odd: float):
    """A random wide CSV as text, and its reader options: header quirks, cells drawn from the lists above, blank
    lines; ``odd`` is the share of odd cells, of rows out of time order (half as often) and of blank-looking rows."""
    n_nodes, n_feat, n_rows = rng.randint(1, 4), rng.randint(1, 2), rng.randint(0, 12)
    delim = rng.choice([",", ";"])
    names = [f"n{i}" if n_feat == 1 else f"n{i}:f{j}" for i in range(n_nodes) for j in range(n_feat)]
    time_name = rng.choice(["time", "Date", "t", " timestamp "])
    header = names[:]
    t_idx = rng.randint(0, len(header))
    header.insert(t_idx, time_name)
    if rng.random() < 0.3:
        header = [f'"{h}"' for h in header]
    kind = rng.choice(["iso", "number", "text"])
    lines = [delim.join(header)]
    for r in range(n_rows):
        t = {"iso": f"2024-01-{r + 1:02d}T00:{r:02d}", "number": str(10 * r + rng.random()), "text": f"week {r}"}[kind]
        if rng.random() < odd / 2:
            t = "2023-12-31" if kind == "iso" else "-5"  # out of order
        if rng.random() < 0.2:
            t = f'"{t}"'
        cells = []
        for _ in names:
            roll = rng.random()
            pool = ODD if roll < odd else MISSING_CELLS if roll < odd + 0.25 else NUMBERS
            cell = rng.choice(pool)
            if delim == ";" and cell == '"1,5"':
                cell = "1,5"
            cells.append(cell)
        row = cells[:]
        row.insert(t_idx, t)
        lines.append(delim.join(row))
        if rng.random() < 0.1:
            lines.append(rng.choice(["", delim * len(names), "  "]) if rng.random() < odd * 3 else "")
    text = "\n".join(lines) + rng.choice(["\n", "\n\n"] if n_rows == 0 else ["\n", "", "\n\n"])
    if rng.random() < 0.3:
        text = text.replace("\n", "\r\n")
    if rng.random() < 0.2:
        text = "\ufeff" + text
    options = {"delimiter": delim}
    if time_name == "t":  # not a name the time rule knows: say which column it is
        options["time_column"] = "t"
    return text, options


@pytest.mark.parametrize("odd", [0.0, 0.02, 0.2])
def test_random_files_read_the_same(tmp_path, odd):
    rng = random.Random(int(odd * 1000))
    fast_used = 0
    for i in range(150):
        text, options = random_csv(rng, odd)
        path = tmp_path / f"r{i}.csv"
        path.write_text(text, encoding="utf-8", newline="")
        fast, _ = check_same(str(path), **options)
        fast_used += fast is not None
    if odd == 0.0:
        assert fast_used > 130  # clean files are read by pyarrow, not handed back


@pytest.mark.parametrize(
    "text, options",
    [
        ('time,"a",b\n"2024-01-01",1.5,"2"\n"2024-01-02",,NA\n', {}),  # quoted names and cells
        ("\ufefftime,a\n0,1\n1,2\n", {}),  # BOM
        ("time,a\r\n0,1\r\n\r\n1,2\r\n\n\n2,3", {}),  # CRLF, blank lines, no final newline
        ("time;a;b\n0;1.5;2\n1;;3\n", {"delimiter": ";"}),
        ("s1:load,s1:temp,date,s2:load,s2:temp\n1,2,2024-01-01,3,4\n5,NaN,2024-01-02,null,N/A\n", {}),
        ("x,when,y\n1,b,2\n3,a,4\n", {"time_column": "when"}),  # free-form times: file order
        ('time,a\n"line\nbreak",1\n2,2\n', {}),  # a quoted newline inside the time cell
        ("time,a\n0,1\n", {}),
        ("time,a,b\n", {}),  # header only: 0 rows
        (" time , a \n 0 , 1 \n", {}),  # spaces around names and cells
    ],
)
def test_layouts_the_fast_reader_takes(tmp_path, text, options):
    path = tmp_path / "f.csv"
    path.write_text(text, encoding="utf-8", newline="")
    fast, ref = check_same(str(path), **options)
    assert fast is not None and ref is not None


@pytest.mark.parametrize(
    "text, message",
    [
        ("time,a\n0,1\n1,x\n", "line 3, column 'a': 'x' is not a number"),
        ("time,a,b\n0,1,2\n1,2\n", "line 3 has 2 cells, the header has 3"),
        ("time,a:x,a:y,b:x\n0,1,2,3\n", "node 'b' has features ['x'] but node 'a' has ['x', 'y']"),
        ("time,a\n0,inf\n", "line 2, column 'a': 'inf' is not finite in float32"),
        ("time,a\n0,1\n1,1e39\n", "line 3, column 'a': '1e39' is not finite in float32"),
        ("time,a\n0,1\n1,-nan\n", "line 3, column 'a': '-nan' is not finite in float32"),
        ("time,a,a\n0,1,2\n", "duplicate column names ['a']"),
        ("time,a\n3,1\n\n2,1\n", "rows must be in increasing time order; time goes from '3' to '2' (line 4)"),
        ("time,a\n2024-01-02,1\n2024-01-01,1\n", "time goes from '2024-01-02' to '2024-01-01' (line 3)"),
        ("time\n0\n", "need a time column and at least one node column"),
        ("time,,b\n0,1,2\n", "header has an empty column name at column 2"),
        ("time,a,b\n0,,\n1,NA,null\n", "every value is missing (2 rows x 2 columns are empty or NA)"),
        ("\n\n", "file is empty"),
        ("time,a\n0,1\n1,2,\n", "line 3 has 3 cells, the header has 2"),
        ("time,:x\n0,1\n", "column ':x' must be 'node' or 'node:feature'"),
    ],
)
def test_errors_are_the_row_readers(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8", newline="")
    assert read_csv_arrow(str(path)) is None
    with pytest.raises(DataError) as err:
        wide_csv.read_csv_series(str(path))
    assert message in str(err.value) and str(path) in str(err.value)
    _, ref_message = reference(str(path))
    assert str(err.value) == ref_message


def test_not_utf8_and_missing_files(tmp_path):
    bad = tmp_path / "latin.csv"
    bad.write_bytes("time,a\n0,1\n1,caf\xe9\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"latin.csv: not a UTF-8 text file \(invalid continuation byte"):
        wide_csv.read_csv_series(str(bad))
    with pytest.raises(DataError, match="nope.csv: file not found"):
        wide_csv.read_csv_series(str(tmp_path / "nope.csv"))
    with pytest.raises(DataError, match="is a directory, expected a .csv file"):
        wide_csv.read_csv_series(str(tmp_path))


def test_a_row_of_empty_cells_is_blank_as_before(tmp_path):
    # ",," is a blank row to the row reader; pyarrow sees a row of nulls and must hand the file back.
    path = tmp_path / "blankish.csv"
    path.write_text("time,a,b\n0,1,2\n,,\n1,3,4\n")
    assert read_csv_arrow(str(path)) is None
    raw = wide_csv.read_csv_series(str(path))
    np.testing.assert_array_equal(raw.values[:, :, 0], [[1, 2], [3, 4]])


def test_values_against_numpy_by_hand(tmp_path):
    rng = np.random.default_rng(0)
    v = rng.normal(size=(50, 3, 2)).round(6)
    v[rng.random(v.shape) < 0.1] = np.nan
    names = [f"s{n}:{f}" for n in range(3) for f in ("load", "temp")]
    lines = ["time," + ",".join(names)]
    for r in range(50):
        lines.append(f"{r}," + ",".join("" if np.isnan(x) else repr(float(x)) for x in v[r].reshape(-1)))
    path = tmp_path / "v.csv"
    path.write_text("\n".join(lines) + "\n")
    raw = read_csv_arrow(str(path))
    assert raw is not None and raw.node_names == ["s0", "s1", "s2"] and raw.feature_names == ["load", "temp"]
    np.testing.assert_array_equal(raw.values, v)
    assert raw.has_missing and list(raw.times[:3]) == ["0", "1", "2"]


def test_fast_reader_reads_a_good_file_alone(tmp_path, monkeypatch):
    path = tmp_path / "good.csv"
    path.write_text("time,a,b\n" + "".join(f"{i},{i}.5,\n" for i in range(100)))

    def no_rows(*args, **kwargs):
        raise AssertionError("the row reader was called for a good file")

    monkeypatch.setattr(wide_csv, "read_csv_rows", no_rows)
    raw = wide_csv.read_csv_series(str(path))
    assert raw.values.shape == (100, 2, 1) and raw.has_missing


def test_without_pyarrow_the_row_reader_reads(tmp_path, monkeypatch):
    path = tmp_path / "plain.csv"
    path.write_text("time,a\n0,1\n1,NA\n2,3\n")
    with_arrow = wide_csv.read_csv_series(str(path))
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # `import pyarrow` now raises ImportError
    monkeypatch.setitem(sys.modules, "pyarrow.csv", None)
    assert read_csv_arrow(str(path)) is None
    equal_series(wide_csv.read_csv_series(str(path)), with_arrow)


def test_null_spellings_are_every_case_of_missing():
    assert {s.lower() for s in NULL_SPELLINGS} == set(wide_csv.MISSING)
    assert "nAn" in NULL_SPELLINGS and "N/a" in NULL_SPELLINGS and len(NULL_SPELLINGS) == 1 + 4 + 8 + 16 + 16 + 4
