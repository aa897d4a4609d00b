"""Windows as views: a forecasting set over a series equals the materialised windows it replaces, stays lazy
through subset / split, keeps a memmap a memmap, and never allocates windows x series."""

import tracemalloc

import numpy as np
import pytest

from attnpool.data import DataError, load_data, make_loader
from attnpool.data.forecast import forecast_set
from attnpool.data.series import RawSeries
from attnpool.data.splits import chronological_split
from attnpool.data.windows import SeriesWindows, WindowArray

from .helpers import write_csv

FRACS = (0.6, 0.2, 0.2)


def make_series(L=160, N=3, F=2, seed=0, times=None, dtype=np.float32):
    """A random series with missing values of every kind: a target missing (drops windows), another feature
    missing (masks the step, keeps the window), and one node with no valid step for longer than a window."""
    rng = np.random.default_rng(seed)
    values = rng.normal(10.0, 3.0, size=(L, N, F)).astype(dtype)
    values[40, 1, 0] = np.nan  # target missing: windows whose targets hold row 40 are dropped
    if F > 1:
        values[60:75, 2, 1] = np.nan  # node 2 masked for 15 rows: windows inside have no valid step there
        values[100, 0, 1] = np.nan
    values[5, 0, 0] = np.nan  # in the first windows' inputs only (no target of a kept window... row 5 < T)
    return RawSeries(values=values, times=times, node_names=[f"n{i}" for i in range(N)],
                     feature_names=[f"f{j}" for j in range(F)], source="series")


def reference(values, T, H, fracs):
    """The windows as read_csv built them before issue 12, written independently with numpy fancy indexing:
    every window materialised, then the split, the dropped windows and the persistence baseline."""
    values = np.asarray(values, dtype=np.float64)
    L = values.shape[0]
    W = L - T - H + 1
    steps = np.arange(W)[:, None] + np.arange(T)[None, :]
    x = np.moveaxis(values[steps], 1, 2)  # [W, N, T, F]
    valid = ~np.isnan(values).any(axis=-1)
    mask = np.moveaxis(valid[steps], 1, 2)
    targets = np.arange(W)[:, None] + T + np.arange(H)[None, :]
    y = np.moveaxis(values[targets][..., 0], 1, 2)
    splits = chronological_split(W, fracs, gap=H - 1)
    keep = np.isfinite(y).all(axis=(1, 2))
    used = np.zeros(W, dtype=bool)
    for part in splits.values():
        used[part] = True
    keep &= used
    new_index = np.cumsum(keep) - 1
    splits = {k: new_index[p[keep[p]]] for k, p in splits.items()}
    x, mask, y = np.where(mask[..., None], x, 0.0)[keep], mask[keep], y[keep]
    # Persistence: the last valid target in the window, else the node's mean over the training windows.
    target = x[..., 0]
    tr = splits["train"]
    count = mask[tr].sum(axis=(0, 2))
    node_mean = np.where(mask[tr], target[tr], 0.0).sum(axis=(0, 2)) / np.maximum(count, 1)
    last = np.zeros(target.shape[:2])
    for s in range(len(x)):
        for n in range(x.shape[1]):
            ok = np.flatnonzero(mask[s, n])
            last[s, n] = target[s, n, ok[-1]] if ok.size else (node_mean[n] if count[n] else 0.0)
    return {"x": x, "mask": mask, "y": y, "persistence": np.repeat(last[..., None], H, -1), "splits": splits,
            "starts": np.flatnonzero(keep), "dropped": int((~keep).sum())}


@pytest.mark.parametrize("T, H", [(7, 3), (12, 1), (5, 12)])
def test_lazy_windows_equal_the_materialised_ones(T, H):
    series = make_series()
    ds = forecast_set(series, window=T, horizon=H, fracs=FRACS, season=0)
    ref = reference(series.values, T, H, FRACS)
    assert not isinstance(ds.x, np.ndarray) and isinstance(ds.x, WindowArray)
    assert ds.x.shape == ref["x"].shape and ds.mask.shape == ref["mask"].shape and ds.y.shape == ref["y"].shape
    np.testing.assert_array_equal(np.asarray(ds.x), ref["x"].astype(np.float32))
    np.testing.assert_array_equal(np.asarray(ds.mask), ref["mask"])
    np.testing.assert_array_equal(np.asarray(ds.y), ref["y"].astype(np.float32))
    np.testing.assert_allclose(np.asarray(ds.baseline), ref["persistence"], rtol=1e-6)
    for name in ("train", "val", "test"):
        np.testing.assert_array_equal(ds.splits[name], ref["splits"][name])
    np.testing.assert_array_equal(ds.meta["window_start_row"], ref["starts"])
    assert ds.meta["dropped_windows"] == ref["dropped"] > 0
    assert ds.meta["target_feature"] == "f0" and ds.meta["season"] == 0
    np.testing.assert_array_equal(ds.meta["time"], ref["starts"] + T)  # no time labels: the row number


def test_a_node_without_valid_steps_falls_back_to_its_training_mean():
    series = make_series()
    ds = forecast_set(series, window=7, horizon=2, fracs=FRACS, season=0)
    mask = np.asarray(ds.mask)
    empty = np.argwhere(~mask.any(axis=-1))  # (window, node) with no valid step: node 2 inside rows 60..74
    assert len(empty) and (empty[:, 1] == 2).all()
    train = np.asarray(ds.split("train").x)[..., 0]
    tmask = np.asarray(ds.split("train").mask)
    expected = train[tmask[:, :, :] & (np.arange(3)[None, :, None] == 2)].mean()
    np.testing.assert_allclose(np.asarray(ds.baseline)[empty[0][0], 2], expected, rtol=1e-6)


@pytest.mark.parametrize("m", [1, 3, 7, 20])
def test_seasonal_naive_by_hand(m):
    series = make_series(L=120)
    T, H = 7, 9
    ds = forecast_set(series, window=T, horizon=H, fracs=FRACS, season=m)
    got = ds.batch(np.arange(len(ds)), ("persistence", "seasonal_naive"))
    values = series.values
    starts = ds.meta["window_start_row"]
    expected = np.empty_like(got["persistence"])
    for k, s in enumerate(starts):
        for h in range(H):
            row = s + T + h - m * (h // m + 1)  # one season before step T+h, stepped back until before the forecast
            for n in range(values.shape[1]):
                v = values[row, n, 0] if row >= 0 else np.nan
                expected[k, n, h] = got["persistence"][k, n, h] if np.isnan(v) else v
    np.testing.assert_array_equal(got["seasonal_naive"], expected)
    if m == 20:  # before the series' start: the first windows fall back to persistence
        np.testing.assert_array_equal(got["seasonal_naive"][0, :, : m - T], got["persistence"][0, :, : m - T])


def test_no_season_means_persistence_and_no_seasonal_metrics():
    ds = forecast_set(make_series(), window=5, horizon=2, fracs=FRACS, season=0)
    assert ds.baseline_names == ["persistence"]
    got = ds.batch([0, 1], ("persistence", "seasonal_naive"))
    np.testing.assert_array_equal(got["seasonal_naive"], got["persistence"])


def test_season_found_from_regular_datetimes_in_a_csv(tmp_path):
    start = np.datetime64("2024-01-01T00:00")
    lines = ["time,a,b"] + [f"{str(start + i * np.timedelta64(1, 'h')).replace('T', ' ')},{i % 24},{i}"
                            for i in range(24 * 5)]
    path = str(write_csv(tmp_path / "hourly.csv", lines))
    ds = load_data(path, window=6, horizon=3)
    assert ds.meta["season"] == 24 and ds.baseline_names == ["persistence", "seasonal_naive"]
    got = ds.batch(np.arange(len(ds)), ("y", "seasonal_naive"))
    np.testing.assert_array_equal(got["seasonal_naive"][-5:, 0], got["y"][-5:, 0])  # node a repeats each day
    assert load_data(path, window=6, horizon=3, season=0).meta["season"] == 0
    assert load_data(path, window=6, horizon=3, season=5).meta["season"] == 5


FIVE_MIN = np.datetime64("2024-01-01") + np.arange(400) * np.timedelta64(5, "m")


@pytest.mark.parametrize("times, expected", [
    (FIVE_MIN, 288),
    (FIVE_MIN[:200], 0),  # a day does not fit
    (np.datetime64("2024-01-01") + np.arange(400) * np.timedelta64(7, "m"), 0),  # 7 min does not divide a day
    (np.datetime64("2024-01-01") + np.arange(400) * np.timedelta64(1, "D"), 0),  # one step a day: no season
    (np.delete(FIVE_MIN, 100), 0),  # a row missing: irregular
    (np.arange(400), 0),  # numbers, not dates
])
def test_daily_season(times, expected):
    from attnpool.data.season import daily_season

    assert daily_season(times, len(times)) == expected
    assert daily_season(times.astype(str), len(times)) == expected  # as a CSV gives them
    assert daily_season(None, 400) == 0


@pytest.mark.parametrize("season", [-1, 2.5, "24", True])
def test_bad_season_is_refused(tmp_path, season):
    lines = ["time,a"] + [f"{i},{i}" for i in range(60)]
    path = str(write_csv(tmp_path / "s.csv", lines))
    with pytest.raises(DataError, match=r"s\.csv: season must be an int >= 0"):
        load_data(path, window=5, season=season)


def test_lazy_indexing_subset_and_split():
    ds = forecast_set(make_series(), window=6, horizon=2, fracs=FRACS, season=3)
    full = {k: np.asarray(getattr(ds, k)) for k in ("x", "mask", "y", "baseline")}
    train = ds.split("train")
    assert isinstance(train.x, WindowArray) and train.windows is not None
    assert train.x.windows is train.mask.windows is train.y.windows is train.baseline.windows  # one selection
    assert train.windows.values is ds.windows.values  # the series is shared, not copied
    for k in full:
        np.testing.assert_array_equal(np.asarray(getattr(train, k)), full[k][ds.splits["train"]])
    x = ds.x
    np.testing.assert_array_equal(x[3], full["x"][3])
    np.testing.assert_array_equal(x[-1], full["x"][-1])
    assert isinstance(x[2:9], WindowArray) and isinstance(x[[4, 1]], WindowArray)
    np.testing.assert_array_equal(np.asarray(x[2:9]), full["x"][2:9])
    np.testing.assert_array_equal(np.asarray(x[[4, 1]]), full["x"][[4, 1]])
    pick = np.zeros(len(ds), dtype=bool)
    pick[::5] = True
    np.testing.assert_array_equal(np.asarray(x[pick]), full["x"][pick])
    np.testing.assert_array_equal(x[0, 1, :, 0], full["x"][0, 1, :, 0])
    np.testing.assert_array_equal(ds.y[[0, 2], 1], full["y"][[0, 2], 1])
    with pytest.raises(IndexError):
        x[len(ds)]
    sub = ds.subset([5, 2, 7])
    np.testing.assert_array_equal(sub.meta["window_start_row"], ds.meta["window_start_row"][[5, 2, 7]])
    np.testing.assert_array_equal(np.asarray(sub.x), full["x"][[5, 2, 7]])
    got = ds.batch([5, 2], ("x", "mask", "y", "baseline"))
    for k in ("x", "mask", "y", "baseline"):
        np.testing.assert_array_equal(got[k], full[k][[5, 2]])
    assert "masked" in ds.summary()


def test_masked_fraction_from_row_counts():
    ds = forecast_set(make_series(), window=6, horizon=2, fracs=FRACS, season=0)
    assert ds.windows.masked_fraction() == pytest.approx(1.0 - np.asarray(ds.mask).mean())
    clean = make_series(F=1)
    clean.values[5, 0, 0] = 9.0
    clean.values[40, 1, 0] = 9.0
    ds = forecast_set(clean, window=6, horizon=2, fracs=FRACS, season=0)
    assert ds.mask is None  # nothing missing in any window: no mask, as for a set in memory


def test_input_statistics_equal_fit_normalization_of_the_windows():
    from attnpool.models import SpatioTemporalNet

    ds = forecast_set(make_series(dtype=np.float64), window=6, horizon=2, fracs=FRACS, season=0)
    train = ds.split("train")
    mean, std = train.windows.input_statistics()
    net = SpatioTemporalNet(3, 2, "forecast", 2, encoder="linear")
    import torch

    net.fit_normalization(torch.from_numpy(np.asarray(train.x)), torch.from_numpy(np.asarray(train.mask)))
    np.testing.assert_allclose(mean, net.x_mean.numpy(), rtol=1e-6)
    np.testing.assert_allclose(std, net.x_std.numpy(), rtol=1e-5)
    other = SpatioTemporalNet(3, 2, "forecast", 2, encoder="linear")
    other.set_normalization(mean, std)
    torch.testing.assert_close(other.x_mean, net.x_mean)
    torch.testing.assert_close(other.x_std, net.x_std)


def test_small_chunks_give_the_same_statistics(monkeypatch):
    from attnpool.data import scan

    ds = forecast_set(make_series(), window=6, horizon=2, fracs=FRACS, season=0)
    whole = ds.split("train").windows.input_statistics()
    monkeypatch.setattr(scan, "CHUNK_BYTES", 8 * 6 * 3)  # 3 rows per chunk: many merges
    fresh = forecast_set(make_series(), window=6, horizon=2, fracs=FRACS, season=0)
    mean, std = fresh.split("train").windows.input_statistics()
    np.testing.assert_allclose(mean, whole[0], rtol=1e-10)
    np.testing.assert_allclose(std, whole[1], rtol=1e-9)
    values = fresh.windows.values
    summary = scan.scan_rows(values)
    np.testing.assert_array_equal(summary.invalid_nodes, np.isnan(values).any(-1).sum(-1))


def test_a_memmap_series_stays_a_memmap(tmp_path):
    values = make_series().values
    np.save(tmp_path / "s.npy", values)
    mapped = np.load(tmp_path / "s.npy", mmap_mode="r")
    series = RawSeries(values=mapped, times=None, node_names=["a", "b", "c"], feature_names=["u", "v"])
    ds = forecast_set(series, window=6, horizon=2, fracs=FRACS, season=4)
    for part in (ds, ds.split("train"), ds.subset([3, 1])):
        assert isinstance(part.windows.values, np.memmap) and part.windows.values is mapped
    mean, std = ds.split("train").windows.input_statistics()
    assert np.isfinite(mean).all() and isinstance(ds.windows.values, np.memmap)
    in_memory = forecast_set(make_series(), window=6, horizon=2, fracs=FRACS, season=4)
    got, want = ds.batch([0, 9, 4]), in_memory.batch([0, 9, 4])
    for k in want:
        np.testing.assert_array_equal(got[k], want[k])


def test_bad_series_values():
    series = make_series()
    series.values[70, 1, 1] = np.inf
    with pytest.raises(DataError, match=r"series: row 70, node 'n1', feature 'f1': inf is not finite in float32"):
        forecast_set(series, window=5, horizon=1, fracs=FRACS)
    big = make_series(dtype=np.float64)
    big.values[3, 0, 0] = 1e300
    with pytest.raises(DataError, match="row 3, node 'n0'"):
        forecast_set(big, window=5, horizon=1, fracs=FRACS)
    ints = RawSeries(values=np.zeros((50, 2, 1), dtype=np.int64), times=None, node_names=["a", "b"],
                     feature_names=["v"], source="ints")
    with pytest.raises(DataError, match="ints: series values must be float32 or float64"):
        forecast_set(ints, window=5, horizon=1, fracs=FRACS)
    names = RawSeries(values=np.zeros((50, 2, 1), dtype=np.float32), times=None, node_names=["a"],
                      feature_names=["v"], source="names")
    with pytest.raises(DataError, match=r"names: node_names must have 2 entries"):
        forecast_set(names, window=5, horizon=1, fracs=FRACS)


def test_loader_batches_are_the_windows_asked_for():
    ds = forecast_set(make_series(), window=6, horizon=2, fracs=FRACS, season=0)
    full = {k: np.asarray(getattr(ds, k)) for k in ("x", "mask", "y")}
    seen = []
    for batch in make_loader(ds, "train", batch_size=8, shuffle=True, seed=3):
        index = batch["index"].numpy()
        seen.extend(index.tolist())
        assert batch["x"].shape == (len(index), 3, 6, 2) and batch["x"].dtype.is_floating_point
        for k in full:
            np.testing.assert_array_equal(batch[k].numpy(), full[k][index])
    assert sorted(seen) == ds.splits["train"].tolist()


def test_no_allocation_of_windows_times_series(tmp_path, monkeypatch):
    """A 2,000-node x 300-step series: load_data and one epoch of batches stay near the series' size, where the
    materialised windows would take over ten times as much. (The file reader's own memory belongs to the reader:
    it is left out by handing load_data the series it would read.)"""
    from attnpool.data import scan, wide_csv

    monkeypatch.setattr(scan, "CHUNK_BYTES", 2**18)  # passes over the series in chunks smaller than it
    L, N, T, H, B = 300, 2000, 24, 12, 8
    rng = np.random.default_rng(0)
    values = rng.normal(size=(L, N, 1))
    values[7, 3, 0] = np.nan
    series = RawSeries(values=values, times=np.arange(L).astype(str), node_names=[f"s{i}" for i in range(N)],
                       feature_names=["value"], time_name="time", source="wide.csv")
    monkeypatch.setattr(wide_csv, "read_csv_series", lambda path, **options: series)
    series_bytes = values.nbytes  # float64, as the CSV reader gives it
    materialised = (L - T - H + 1) * N * (T + 2 * H) * 4  # x, y and the persistence baseline in float32

    tracemalloc.start()
    ds = load_data(str(tmp_path / "wide.csv"), window=T, horizon=H)
    load_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    n = 0
    for batch in make_loader(ds, "train", batch_size=B, shuffle=True):
        n += len(batch["index"])
    epoch_peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()

    assert not isinstance(ds.x, np.ndarray) and ds.mask is not None and n == len(ds.splits["train"])
    batch_bytes = B * N * (T + H) * 8  # one batch's rows, as read from the float64 series
    assert materialised > 10 * series_bytes
    assert load_peak < 0.5 * series_bytes, (load_peak, series_bytes)  # the windowing keeps one number per row
    assert epoch_peak < 4 * batch_bytes < materialised / 5, (epoch_peak, batch_bytes)


def test_take_keeps_settings_and_shares_the_cache():
    ds = forecast_set(make_series(), window=6, horizon=2, fracs=FRACS, season=5)
    windows = ds.windows
    part = windows.take([3, 4])
    assert isinstance(part, SeriesWindows) and part.season == 5 and part.window == 6 and len(part) == 2
    part.input_statistics()
    assert part._cache is windows._cache and len(windows._cache) == 1
