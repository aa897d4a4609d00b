"""``read_series_file``: the extension picks the reader; options are checked against the reader's."""

import numpy as np
import pytest

from attnpool.data import DataError
from attnpool.data.series_files import FORMATS, read_series_file


def test_each_extension_reaches_its_reader(tmp_path):
    (tmp_path / "s.csv").write_text("time;a\n0;1\n1;2\n")
    raw = read_series_file(tmp_path / "s.csv", delimiter=";")  # a path-like works
    assert raw.node_names == ["a"] and raw.values.shape == (2, 1, 1)
    with open(tmp_path / "s.NPY", "wb") as f:  # np.save would add ".npy" to the name
        np.save(f, np.ones((4, 2), dtype=np.float32))
    raw = read_series_file(str(tmp_path / "s.NPY"), node_names=["x", "y"])
    assert isinstance(raw.values, np.memmap) and raw.node_names == ["x", "y"]
    pa, pq = pytest.importorskip("pyarrow"), pytest.importorskip("pyarrow.parquet")
    for ext in (".parquet", ".pq"):
        pq.write_table(pa.table({"time": [0, 1], "node": ["a", "b"], "v": [1.0, 2.0]}), tmp_path / f"s{ext}")
        raw = read_series_file(str(tmp_path / f"s{ext}"), value_columns=["v"])
        assert raw.node_names == ["a", "b"] and raw.feature_names == ["v"]


@pytest.mark.parametrize("name, options, message", [
    ("s.csv", {"layout": "long"}, "unknown option(s) for a CSV file: layout; known: time_column, delimiter"),
    ("s.npy", {"time_column": "t", "zz": 1}, "unknown option(s) for a .npy file: time_column, zz; known: node_names, feature_names"),
    ("s.parquet", {"delimiter": ";"}, "for a Parquet file: delimiter; known: time_column, layout, node_column, value_columns"),
    ("s.npz", {}, "unknown series file extension '.npz'; expected one of .csv, .parquet, .pq, .npy"),
    ("noext", {}, "unknown series file extension '(none)'"),
    ("s.csv", {"delimiter": ";;"}, "option delimiter must be one character (str), got ';;'"),
    ("s.csv", {"time_column": 2}, "option time_column must be a column name (str), got 2"),
])
def test_refusals_name_the_known(tmp_path, name, options, message):
    path = tmp_path / name
    path.write_text("time,a\n0,1\n")
    with pytest.raises(DataError) as err:
        read_series_file(str(path), **options)
    assert message in str(err.value) and str(path) in str(err.value)


def test_not_a_path():
    with pytest.raises(DataError, match="a series file must be a path"):
        read_series_file(3)
    assert set(FORMATS) == {".csv", ".parquet", ".pq", ".npy"}
