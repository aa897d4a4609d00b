"""``.npy`` series: memory-mapped, never copied, validated by streaming with bounded memory."""

import tracemalloc

import numpy as np
import pytest

from attnpool.data import DataError, npy_series
from attnpool.data.npy_series import read_npy_series


def save(path, array):
    np.save(path, array)
    return str(path)


def test_values_are_the_file_memory_mapped(tmp_path):
    rng = np.random.default_rng(0)
    a = rng.normal(size=(50, 4, 3)).astype(np.float32)
    a[3, 1, 2] = np.nan
    raw = read_npy_series(save(tmp_path / "s.npy", a))
    assert isinstance(raw.values, np.memmap) and not raw.values.flags.writeable
    np.testing.assert_array_equal(raw.values, a)
    assert raw.values.dtype == np.float32 and raw.has_missing and raw.times is None and raw.time_name is None
    assert raw.node_names == ["0", "1", "2", "3"] and raw.feature_names == ["0", "1", "2"]


def test_two_axes_get_a_feature_axis_without_a_copy(tmp_path):
    a = np.arange(30, dtype=np.float64).reshape(10, 3)
    raw = read_npy_series(save(tmp_path / "s.npy", a))
    assert raw.values.shape == (10, 3, 1) and isinstance(raw.values, np.memmap) and raw.feature_names == ["value"]
    np.testing.assert_array_equal(raw.values[:, :, 0], a)
    assert not raw.has_missing


def test_fortran_order_and_many_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(npy_series, "CHUNK_BYTES", 64)  # 8 float64 per chunk: many chunks, a short last one
    a = np.asfortranarray(np.arange(105, dtype=np.float64).reshape(7, 5, 3))
    a[6, 4, 1] = np.nan
    raw = read_npy_series(save(tmp_path / "f.npy", a))
    np.testing.assert_array_equal(raw.values, a)
    assert raw.has_missing
    a[6, 4, 1] = 0.0
    a[2, 3, 0] = -np.inf  # file position 2 + 7 * 3 = 23
    a[0, 0, 2] = np.inf  # first in C order, but at file position 70: the first in the file is named
    with pytest.raises(DataError, match=r"value -inf at step 2, node 3, feature 0 is not finite in float32"):
        read_npy_series(save(tmp_path / "f.npy", a))


@pytest.mark.parametrize("value, where, shown", [
    (np.inf, (4, 2), "value inf at step 4, node 2 is"),
    (-np.inf, (0, 0), "value -inf at step 0, node 0 is"),
    (1e39, (9, 1), "value 1e+39 at step 9, node 1 is"),
])
def test_inf_is_refused_naming_its_first_position(tmp_path, value, where, shown, monkeypatch):
    monkeypatch.setattr(npy_series, "CHUNK_BYTES", 40)
    a = np.zeros((10, 3), dtype=np.float64)
    a[where] = value
    a[9, 2] = np.inf  # a later one is not named
    with pytest.raises(DataError) as err:
        read_npy_series(save(tmp_path / "bad.npy", a))
    assert shown in str(err.value) and "not finite in float32" in str(err.value)


@pytest.mark.parametrize("array, message", [
    (np.zeros((5, 2), dtype=np.int64), "values must be float32 or float64, got int64 of shape (5, 2)"),
    (np.zeros((5, 2), dtype=np.float16), "got float16 of shape (5, 2)"),
    (np.zeros((5, 2), dtype=">f4"), "got float32 in the other byte order (>f4) of shape (5, 2)"),
    (np.zeros((5, 2), dtype=complex), "got complex128"),
    (np.zeros(5, dtype=np.float32), "values must have shape [L, N] or [L, N, F] (steps, nodes, features), got shape (5,)"),
    (np.zeros((2, 2, 2, 2), dtype=np.float32), "got shape (2, 2, 2, 2)"),
    (np.zeros((0, 3), dtype=np.float32), "values are empty: shape (0, 3)"),
    (np.full((4, 3), np.nan, dtype=np.float32), "every value is missing (12 values are NaN)"),
])
def test_bad_arrays(tmp_path, array, message):
    path = save(tmp_path / "bad.npy", array)
    with pytest.raises(DataError) as err:
        read_npy_series(path)
    assert message in str(err.value) and path in str(err.value)


def test_bad_files(tmp_path):
    with pytest.raises(DataError, match="nope.npy: file not found"):
        read_npy_series(str(tmp_path / "nope.npy"))
    with pytest.raises(DataError, match="is a directory, expected a .npy file"):
        read_npy_series(str(tmp_path))
    (tmp_path / "text.npy").write_text("hello")
    with pytest.raises(DataError, match=r"text.npy: not a .npy file \("):
        read_npy_series(str(tmp_path / "text.npy"))
    objects = tmp_path / "obj.npy"
    np.save(objects, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(DataError, match=r"values must be float32 or float64, got object of shape \(1,\)"):
        read_npy_series(str(objects))
    full = save(tmp_path / "full.npy", np.ones((100, 10), dtype=np.float32))
    (tmp_path / "cut.npy").write_bytes(open(full, "rb").read()[:-100])
    with pytest.raises(DataError, match=r"cut.npy: truncated: shape \(100, 10\) of float32 needs 4128 bytes, the file has 4028"):
        read_npy_series(str(tmp_path / "cut.npy"))


def test_node_names_by_option_sidecar_or_file(tmp_path):
    path = save(tmp_path / "s.npy", np.ones((5, 3), dtype=np.float32))
    assert read_npy_series(path, node_names=["a", "b", "c"]).node_names == ["a", "b", "c"]
    (tmp_path / "s.nodes.txt").write_text("x\ny\nz\n")
    assert read_npy_series(path).node_names == ["x", "y", "z"]  # the sidecar beside the file
    (tmp_path / "other.txt").write_text("p\nq\nr")
    assert read_npy_series(path, node_names=str(tmp_path / "other.txt")).node_names == ["p", "q", "r"]
    raw = read_npy_series(save(tmp_path / "f.npy", np.ones((5, 3, 2))), feature_names="load, temp")
    assert raw.feature_names == ["load", "temp"]


@pytest.mark.parametrize("options, message", [
    ({"node_names": ["a", "b"]}, "node_names gives 2 names, the array has 3 nodes"),
    ({"node_names": ["a", "b", "a"]}, "node_names: 'a' names two nodes"),
    ({"node_names": ["a", "", "c"]}, "node_names: name 2 is empty"),
    ({"node_names": 3}, "option node_names must be a list of str or the path of a text file"),
    ({"node_names": "missing.txt"}, "node names file missing.txt not found"),
    ({"feature_names": "a,b"}, "feature_names gives 2 names, the array has 1 features"),
    ({"feature_names": [1]}, "option feature_names must be a list of str or one comma-separated string"),
])
def test_bad_names(tmp_path, options, message):
    path = save(tmp_path / "s.npy", np.ones((5, 3), dtype=np.float32))
    with pytest.raises(DataError) as err:
        read_npy_series(path, **options)
    assert message in str(err.value)


def test_bad_sidecar_is_named(tmp_path):
    path = save(tmp_path / "s.npy", np.ones((5, 3), dtype=np.float32))
    (tmp_path / "s.nodes.txt").write_text("x\ny\n")
    with pytest.raises(DataError, match=r"node names file .*s.nodes.txt gives 2 names, the array has 3 nodes"):
        read_npy_series(path)


def test_validation_streams_with_bounded_memory(tmp_path):
    # ~100 MB of float32 written in chunks; reading it must not hold it: traced allocations stay near one chunk.
    L, N = 5000, 5000
    path = tmp_path / "big.npy"
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(L, N))
    for start in range(0, L, 500):
        out[start:start + 500] = np.arange(start, start + 500, dtype=np.float32)[:, None]
    out[L - 1, N - 1] = np.nan
    out.flush()
    del out
    tracemalloc.start()
    try:
        raw = read_npy_series(str(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert raw.has_missing and isinstance(raw.values, np.memmap) and raw.values.shape == (L, N, 1)
    assert peak < 3 * npy_series.CHUNK_BYTES, f"peak {peak / 2**20:.1f} MiB for a {L * N * 4 / 2**20:.0f} MiB file"
    assert float(raw.values[1234, 17, 0]) == 1234.0
