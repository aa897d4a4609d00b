import numpy as np
import pytest

from attnpool.data import DataError, load_data

from .helpers import write_csv


def ramp_csv(tmp_path, rows=40, blank=None):
    """time, a, b with a = row index, b = 100 + 2 * row; ``blank`` = (row, column) left empty."""
    lines = ["time,a,b"]
    for i in range(rows):
        a, b = str(i), str(100 + 2 * i)
        if blank == (i, "a"):
            a = ""
        if blank == (i, "b"):
            b = ""
        lines.append(f"{i},{a},{b}")
    return str(write_csv(tmp_path / "ramp.csv", lines))


def test_windows_targets_and_chronological_split(tmp_path):
    ds = load_data(ramp_csv(tmp_path), window=5, horizon=2)
    W = 40 - 5 - 2 + 1
    assert ds.task == "forecast" and ds.node_names == ["a", "b"] and ds.feature_names == ["value"]
    assert ds.x.shape == (W - 2, 2, 5, 1)  # two windows dropped as gaps (horizon - 1 at each boundary)
    # Window s covers rows s..s+4 and targets rows s+5, s+6.
    np.testing.assert_array_equal(ds.x[0, 0, :, 0], [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(ds.y[0], [[5, 6], [110, 112]])
    # Chronological: every train target comes before every val target, val before test; no shared target rows.
    start = ds.meta["window_start_row"]
    tr, va, te = (start[ds.splits[k]] for k in ("train", "val", "test"))
    assert tr.max() + 5 + 1 < va.min() + 5 and va.max() + 5 + 1 < te.min() + 5
    assert np.all(np.diff(np.concatenate([tr, va, te])) > 0)
    assert [len(ds.splits[k]) for k in ("train", "val", "test")] == [24, 5, 3]  # 34 windows: 24 / gap / 5 / gap / 3
    assert ds.meta["time"][0] == "5"


def test_persistence_baseline_by_hand(tmp_path):
    ds = load_data(ramp_csv(tmp_path), window=5, horizon=3)
    base = ds.baseline
    # Window 0 ends at row 4: a = 4, b = 108, repeated over the horizon.
    np.testing.assert_allclose(base[0], [[4, 4, 4], [108, 108, 108]], rtol=1e-5)
    np.testing.assert_allclose(ds.y[0], [[5, 6, 7], [110, 112, 114]], rtol=1e-5)


def test_persistence_skips_a_missing_last_value(tmp_path):
    ds = load_data(ramp_csv(tmp_path, blank=(4, "a")), window=5, horizon=1)
    assert ds.mask is not None and not ds.mask[0, 0, 4] and ds.mask[0, 1, 4]
    assert ds.x[0, 0, 4, 0] == 0.0
    assert ds.baseline[0, 0, 0] == 3.0  # last observed value of node a in window 0
    assert ds.baseline[0, 1, 0] == 108.0


def test_window_with_missing_target_is_dropped(tmp_path):
    ds = load_data(ramp_csv(tmp_path, blank=(10, "b")), window=5, horizon=1)
    assert 5 not in ds.meta["window_start_row"]  # its target is row 10
    assert ds.meta["dropped_windows"] == 1
    assert np.isfinite(ds.y).all()


def test_node_feature_columns(tmp_path):
    lines = ["s1:load,s1:temp,date,s2:load,s2:temp"]
    lines += [f"{i},{-i},2024-01-{i + 1:02d},{10 * i},{1}" for i in range(20)]
    ds = load_data(str(write_csv(tmp_path / "w.csv", lines)), window=4)
    assert ds.node_names == ["s1", "s2"] and ds.feature_names == ["load", "temp"]
    assert ds.x.shape[1:] == (2, 4, 2)
    assert ds.meta["time_column"] == "date"  # a column named date wins over the first column
    np.testing.assert_array_equal(ds.y[0, :, 0], [4, 40])  # the first feature is the target


@pytest.mark.parametrize(
    "lines, message",
    [
        (["time,a", "0,1", "1,x"], "line 3, column 'a': 'x' is not a number"),
        (["time,a,b", "0,1,2", "1,2"], "line 3 has 2 cells, the header has 3"),
        (["time,a:x,a:y,b:x", "0,1,2,3"], "node 'b' has features ['x'] but node 'a' has ['x', 'y']"),
        (["time,a", "0,inf"], "line 2, column 'a': 'inf' is not finite"),
        (["time,a,a", "0,1,2"], "duplicate column names ['a']"),
        (["time,a"] + [f"{i},{i}" for i in range(5)], "too few rows: 5 rows, need at least window + horizon = 31"),
        (["time,a", "3,1", "2,1"], "rows must be in increasing time order"),
        (["time"], "need a time column and at least one node column"),
    ],
)
def test_bad_csv(tmp_path, lines, message):
    path = str(write_csv(tmp_path / "bad.csv", lines))
    with pytest.raises(DataError) as err:
        load_data(path)
    assert message in str(err.value) and path in str(err.value)


def test_empty_csv_and_too_few_windows_for_split(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataError, match="empty.csv: file is empty"):
        load_data(str(empty))
    path = str(write_csv(tmp_path / "short.csv", ["time,a"] + [f"{i},{i}" for i in range(33)]))
    with pytest.raises(DataError, match="too few samples for the split"):
        load_data(path)


def test_csv_refuses_other_tasks(tmp_path):
    with pytest.raises(DataError, match="a wide CSV is a forecast task"):
        load_data(ramp_csv(tmp_path), task="classify")
