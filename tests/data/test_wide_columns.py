"""The column rules the wide readers share."""

import numpy as np
import pytest

from attnpool.data import DataError
from attnpool.data.wide_columns import first_out_of_order, parse_times, short_list, time_column_index
from attnpool.data.wide_csv import read_csv_series


def test_parse_times_numbers_dates_or_free_text():
    np.testing.assert_array_equal(parse_times(["1", "2.5", "1e1"]), [1, 2.5, 10])
    ns = parse_times(["2024-01-01", "2024-01-01T00:05"])
    assert ns is not None and ns[1] - ns[0] == 300 * 10**9
    assert parse_times(["week 1", "week 2"]) is None


def test_first_out_of_order_is_the_first_step_back_or_repeat():
    assert first_out_of_order(np.array([1.0, 2, 3])) is None
    assert first_out_of_order(np.array([1.0, 2, 2, 1])) == 1
    assert first_out_of_order(np.array([5.0])) is None


def test_long_name_lists_are_cut_in_messages(tmp_path):
    names = [f"s{i}" for i in range(300)]
    assert short_list(names[:3]) == "['s0', 's1', 's2']"
    text = short_list(names)
    assert text.startswith("['s0', 's1'") and text.endswith("'s19', ... (300 in all)]") and len(text) < 250
    with pytest.raises(DataError, match=r"time_column 'nope' is not a column; columns: \['time', 's0', .* \(301 in all\)\]"):
        time_column_index(["time", *names], "nope", "f.csv")
    path = tmp_path / "wide.csv"
    path.write_text("time," + ",".join(names) + "\n0," + ",".join("1" for _ in names) + "\n")
    with pytest.raises(DataError) as err:
        read_csv_series(str(path), time_column="nope")
    assert len(str(err.value)) < 400 + len(str(path))
