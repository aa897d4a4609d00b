"""Parquet series: wide tables against the CSV reader, long tables against a pandas pivot, every error path."""

import numpy as np
import pytest

from attnpool.data import DataError
from attnpool.data.parquet import read_parquet_series
from attnpool.data.wide_csv import read_csv_rows

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")


def write(path, columns: dict, **kwargs):
    pq.write_table(pa.table(columns), path, **kwargs)
    return str(path)


def times(n, start="2024-01-01T00:00"):
    return np.datetime64(start, "s") + np.arange(n) * np.timedelta64(300, "s")


def test_wide_equals_the_csv_reader(tmp_path):
    rng = np.random.default_rng(0)
    v = rng.normal(size=(60, 3, 2)).round(5)
    v[rng.random(v.shape) < 0.1] = np.nan
    names = [f"s{n}:{f}" for n in range(3) for f in ("load", "temp")]
    t = [f"2024-01-01T{h:02d}:{m:02d}" for h in range(5) for m in range(0, 60, 5)]
    cols = {"time": t} | {name: v[:, i // 2, i % 2] for i, name in enumerate(names)}
    path = write(tmp_path / "w.parquet", cols, row_group_size=7)  # many row groups: many batches
    lines = ["time," + ",".join(names)] + [
        t[r] + "," + ",".join("" if np.isnan(x) else repr(float(x)) for x in v[r].reshape(-1)) for r in range(60)]
    (tmp_path / "w.csv").write_text("\n".join(lines) + "\n")
    ref = read_csv_rows(str(tmp_path / "w.csv"))
    raw = read_parquet_series(path)
    np.testing.assert_array_equal(raw.values, ref.values)
    assert raw.values.dtype == np.float64 and raw.has_missing
    assert (raw.node_names, raw.feature_names, raw.time_name) == (ref.node_names, ref.feature_names, "time")
    np.testing.assert_array_equal(raw.times, ref.times)


def test_wide_float32_timestamps_and_the_time_rules(tmp_path):
    v = np.arange(20, dtype=np.float32).reshape(10, 2)
    path = write(tmp_path / "f.parquet", {"a": v[:, 0], "when": pa.array(times(10)), "b": v[:, 1]})
    raw = read_parquet_series(path)  # no column named like time: the only timestamp column is time
    assert raw.values.dtype == np.float32 and raw.time_name == "when" and not raw.has_missing
    np.testing.assert_array_equal(raw.values[:, :, 0], v)
    assert raw.times.dtype.kind == "M" and raw.times[1] - raw.times[0] == np.timedelta64(300, "s")
    path = write(tmp_path / "g.parquet", {"step": np.arange(5), "x": np.ones(5, dtype=np.int32)})
    raw = read_parquet_series(path)  # the first column
    assert raw.time_name == "step" and raw.node_names == ["x"] and raw.values.dtype == np.float64
    raw = read_parquet_series(write(tmp_path / "h.parquet", {"x": np.ones(5), "k": np.arange(5)}), time_column="k")
    assert raw.node_names == ["x"] and list(raw.times) == [0, 1, 2, 3, 4]


def test_pandas_frames_as_users_write_them(tmp_path):
    pd = pytest.importorskip("pandas")
    idx = pd.date_range("2024-01-01", periods=6, freq="5min")
    df = pd.DataFrame({"a": np.arange(6.0), "b": [1.0, np.nan, 3, 4, 5, 6]}, index=idx)
    df.to_parquet(tmp_path / "index.parquet")  # an unnamed DatetimeIndex, stored as __index_level_0__
    raw = read_parquet_series(str(tmp_path / "index.parquet"))
    assert raw.node_names == ["a", "b"] and raw.time_name == "__index_level_0__" and raw.has_missing
    np.testing.assert_array_equal(raw.values[:, 1, 0], df["b"].to_numpy())
    sub = df.reset_index(names="time").iloc[1:]  # a filtered frame: pandas stores its row labels too
    sub.to_parquet(tmp_path / "filtered.parquet")
    raw = read_parquet_series(str(tmp_path / "filtered.parquet"))
    assert raw.node_names == ["a", "b"] and raw.values.shape == (5, 2, 1)


def long_frame(rng, L=12, nodes=("n2", "n10", "n1"), F=2, drop=0.2):
    """A long table in shuffled row order with some (time, node) pairs left out and some nulls."""
    pd = pytest.importorskip("pandas")
    rows = [(t, n) for t in range(L) for n in nodes if rng.random() >= drop]
    df = pd.DataFrame(rows, columns=["time", "node"])
    df["time"] = pd.Timestamp("2024-03-01") + pd.to_timedelta(df["time"] * 5, unit="min")
    for f in range(F):
        x = rng.normal(size=len(df)).round(3)
        x[rng.random(len(df)) < 0.1] = np.nan
        df[f"v{f}"] = x
    return df.sample(frac=1.0, random_state=1).reset_index(drop=True)


def test_long_equals_a_pandas_pivot(tmp_path):
    rng = np.random.default_rng(0)
    df = long_frame(rng)
    df.to_parquet(tmp_path / "long.parquet", index=False)
    raw = read_parquet_series(str(tmp_path / "long.parquet"))  # a column named node: long
    assert raw.node_names == ["n1", "n10", "n2"] and raw.feature_names == ["v0", "v1"] and raw.has_missing
    for f, name in enumerate(["v0", "v1"]):
        ref = df.pivot(index="time", columns="node", values=name).sort_index()[raw.node_names]
        np.testing.assert_array_equal(raw.values[:, :, f], ref.to_numpy())
        np.testing.assert_array_equal(raw.times, ref.index.to_numpy().astype(raw.times.dtype))


def test_long_integer_nodes_numeric_times_value_columns(tmp_path):
    path = write(tmp_path / "l.parquet", {
        "sensor": [10, 2, 10, 2, 2], "t": [1.5, 1.5, 0.5, 0.5, 2.5], "speed": [1.0, 2, 3, 4, 5], "flow": [5, 6, 7, 8, 9]})
    raw = read_parquet_series(path, node_column="sensor", time_column="t", value_columns="flow, speed")
    assert raw.node_names == ["2", "10"] and raw.feature_names == ["flow", "speed"]  # numbers sorted numerically
    np.testing.assert_array_equal(raw.times, [0.5, 1.5, 2.5])
    np.testing.assert_array_equal(raw.values[:, :, 1], [[4, 3], [2, 1], [5, np.nan]])
    np.testing.assert_array_equal(raw.values[:, :, 0], [[8, 7], [6, 5], [9, np.nan]])
    # value_columns as a list, the layout named: same series
    same = read_parquet_series(path, layout="long", node_column="sensor", time_column="t", value_columns=["flow", "speed"])
    np.testing.assert_array_equal(same.values, raw.values)


def test_long_text_times_are_ordered_by_date(tmp_path):
    path = write(tmp_path / "s.parquet", {"node": ["a", "a", "b"], "time": ["2024-01-10", "2024-01-09", "2024-01-10"],
                                          "value": [1.0, 2.0, 3.0]})
    raw = read_parquet_series(path)
    assert list(raw.times) == ["2024-01-09", "2024-01-10"] and raw.values.dtype == np.float64
    np.testing.assert_array_equal(raw.values[:, :, 0], [[2, np.nan], [1, 3]])


def test_long_dictionary_nodes(tmp_path):
    nodes = pa.array(["b", "a", "b", "a"]).dictionary_encode()
    path = write(tmp_path / "d.parquet", {"time": [0, 0, 1, 1], "node": nodes, "x": pa.array([1, 2, 3, 4], pa.float32())})
    raw = read_parquet_series(path)
    assert raw.node_names == ["a", "b"] and raw.values.dtype == np.float32
    np.testing.assert_array_equal(raw.values[:, :, 0], [[2, 1], [4, 3]])


def bad(tmp_path, columns, message, name="bad.parquet", **options):
    path = write(tmp_path / name, columns)
    with pytest.raises(DataError) as err:
        read_parquet_series(path, **options)
    text = str(err.value)
    assert message in text and path in text and "\n" not in text, text


@pytest.mark.parametrize(
    "columns, options, message",
    [
        ({"time": [0, 1], "a": ["x", "y"]}, {}, "column 'a' is string, expected numbers (integers or floats)"),
        ({"time": [0, 1], "a": [True, False]}, {}, "column 'a' is bool, expected numbers"),
        ({"time": [0, 1], "a": [1.0, np.inf]}, {}, "row 2, column 'a': inf is not finite in float32"),
        ({"time": [0, 1], "a": [1e39, 1.0]}, {}, "row 1, column 'a': 1e+39 is not finite in float32"),
        ({"time": [0, 1], "a": [np.nan, None]}, {}, "every value is missing (2 rows x 1 columns are null or NaN)"),
        ({"time": [0, 2, 1], "a": [1.0, 2, 3]}, {}, "rows must be in increasing time order; time goes from '2' to '1' (row 3)"),
        ({"time": [0, 0], "a": [1.0, 2]}, {}, "time goes from '0' to '0' (row 2)"),
        ({"time": ["2024-01-02", "2024-01-01"], "a": [1.0, 2]}, {}, "goes from '2024-01-02' to '2024-01-01' (row 2)"),
        ({"time": [0, None], "a": [1.0, 2]}, {}, "time column 'time' is empty (null) at row 2"),
        ({"time": [0.0, np.nan], "a": [1.0, 2]}, {}, "time column 'time' is NaN at row 2"),
        ({"time": [[1], [2]], "a": [1.0, 2]}, {}, "time column 'time' is list<element: int64>, expected timestamps"),
        ({"time": [0, 1]}, {}, "need a time column and at least one node column, got columns ['time']"),
        ({"time": [0, 1], "a:x": [1.0, 2], "a:y": [1.0, 2], "b:x": [1.0, 2]}, {}, "node 'b' has features ['x'] but node 'a'"),
        ({"time": [0, 1], "a": [1.0, 2]}, {"time_column": "nope"}, "time_column 'nope' is not a column; columns: ['time', 'a']"),
        ({"time": [0, 1], "a": [1.0, 2]}, {"layout": "tall"}, "option layout must be 'wide', 'long' or None"),
        ({"time": [0, 1], "a": [1.0, 2]}, {"layout": "wide", "node_column": "a"}, "option node_column is for layout 'long'"),
        ({"time": [0, 1], "a": [1.0, 2]}, {"value_columns": 3}, "option value_columns must be a list of column names"),
        ({"time": [0, 1], "a": [1.0, 2]}, {"time_column": 3}, "option time_column must be a column name (str), got 3"),
        ({"time": [0, 1], "a": [1.0, 2]}, {"layout": "long"}, "layout 'long' needs a node column"),
        ({"time": [0, 1], "a": [1.0, 2]}, {"node_column": "b"}, "node_column 'b' is not a column"),
        ({"time": [0, 0], "node": ["a", "a"], "v": [1.0, 2]}, {}, "node 'a' have two rows (rows 1 and 2); a long table"),
        ({"time": [0, 1], "node": ["a", None], "v": [1.0, 2]}, {}, "node column 'node' is empty (null) at row 2"),
        ({"time": [0, 1], "node": [1.5, 2.5], "v": [1.0, 2]}, {}, "node column 'node' is double, expected text or integers"),
        ({"time": ["x", "y"], "node": ["a", "a"], "v": [1.0, 2]}, {}, "holds text that is neither numbers nor ISO dates"),
        ({"time": ["1", "1.0"], "node": ["a", "a"], "v": [1.0, 2]}, {}, "writes one time two ways: '1' and '1.0'"),
        ({"time": [0, 1], "node": ["a", "a"]}, {}, "needs at least one value column beside 'time' and 'node'"),
        ({"time": [0, 1], "node": ["a", "a"], "v": [1.0, 2]}, {"value_columns": ["w"]}, "value_columns: 'w' is not a column"),
        ({"time": [0, 1], "node": ["a", "a"], "v": [1.0, 2]}, {"value_columns": "node"}, "value_columns: 'node' is the node column"),
        ({"time": [0, 1], "node": ["a", "a"], "v": [1.0, 2]}, {"value_columns": "v,v"}, "value_columns names a column twice"),
        ({"time": [0, 1], "node": ["a", "b"], "v": [1.0, np.inf]}, {}, "row 2, column 'v': inf is not finite in float32"),
        ({"time": [0, 1], "node": ["a", "b"], "v": [None, np.nan]}, {}, "every value is missing (2 rows x 1 value columns"),
        ({"time": [0, 1], "node": ["a", "b"], "v": ["1", "2"]}, {}, "column 'v' is string, expected numbers"),
        ({"node": ["a", "b"], "v": [1.0, 2]}, {"time_column": "node"}, "time_column and node_column are both 'node'"),
    ],
)
def test_bad_tables(tmp_path, columns, options, message):
    bad(tmp_path, columns, message, **options)


def test_bad_files(tmp_path):
    with pytest.raises(DataError, match="nope.parquet: file not found"):
        read_parquet_series(str(tmp_path / "nope.parquet"))
    with pytest.raises(DataError, match="is a directory, expected a .parquet file"):
        read_parquet_series(str(tmp_path))
    junk = tmp_path / "junk.parquet"
    junk.write_bytes(b"not parquet at all" * 10)
    with pytest.raises(DataError, match=r"junk.parquet: not a Parquet file, or a damaged one \(ArrowInvalid"):
        read_parquet_series(str(junk))
    good = write(tmp_path / "good.parquet", {"time": np.arange(100), "a": np.ones(100)})
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(open(good, "rb").read()[:-30])
    with pytest.raises(DataError, match="cut.parquet: not a Parquet file, or a damaged one"):
        read_parquet_series(str(cut))
    empty = write(tmp_path / "empty.parquet", {"time": pa.array([], pa.int64()), "a": pa.array([], pa.float64())})
    with pytest.raises(DataError, match="the table has no rows"):
        read_parquet_series(empty)
    dup = tmp_path / "dup.parquet"
    pq.write_table(pa.Table.from_arrays([pa.array([0, 1]), pa.array([1.0, 2]), pa.array([1.0, 2])], names=["t", "a", "a"]), dup)
    with pytest.raises(DataError, match=r"duplicate column names \['a'\]"):
        read_parquet_series(str(dup))


def test_without_pyarrow_parquet_says_what_to_install(tmp_path, monkeypatch):
    import sys

    path = write(tmp_path / "w.parquet", {"time": [0, 1], "a": [1.0, 2]})
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(DataError, match=r"w.parquet: reading Parquet needs pyarrow: pip install 'attnpool\[columnar\]'"):
        read_parquet_series(path)
