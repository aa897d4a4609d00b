import numpy as np
import pytest

from attnpool.data import DataError, load_data


def test_shapes_and_defaults():
    ds = load_data("synthetic:peaks", samples=300)
    assert ds.x.shape == (300, 7, 30, 1) and ds.task == "classify" and ds.n_classes == 7
    assert ds.meta["peak_start"].shape == (300, 7) and ds.meta["peak_start"].dtype == np.int64
    assert ds.meta["peak_width"] == 2
    np.testing.assert_array_equal(ds.meta["label_node"], ds.y)


def test_default_size_is_1200():
    assert len(load_data("synthetic:peaks", standardize=False)) == 1200


def test_deterministic_per_seed():
    a = load_data("synthetic:peaks", samples=100, seed=3)
    b = load_data("synthetic:peaks", samples=100, seed=3)
    c = load_data("synthetic:peaks", samples=100, seed=4)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.y, b.y)
    np.testing.assert_array_equal(a.meta["peak_start"], b.meta["peak_start"])
    assert not np.array_equal(a.x, c.x)


def test_peaks_sit_where_meta_says():
    # Without noise and distractors a node's series is its peak on a flat line: check position, width, sign.
    ds = load_data("synthetic:peaks", samples=50, noise=0.0, distractors=0, standardize=False, peak_width=3)
    x = ds.x[..., 0]
    start, sign = ds.meta["peak_start"], ds.meta["peak_sign"]
    for s in range(50):
        for n in range(7):
            flat = np.median(x[s, n])
            on = np.flatnonzero(np.abs(x[s, n] - flat) > 1e-4)
            np.testing.assert_array_equal(on, np.arange(start[s, n], start[s, n] + 3))
            assert np.sign(x[s, n, on[0]] - flat) == sign[s, n]
        assert np.flatnonzero(sign[s] > 0).tolist() == [ds.y[s]]


def test_peak_is_each_nodes_tallest_spike():
    ds = load_data("synthetic:peaks", samples=200, noise=0.0, standardize=False)
    x = ds.x[..., 0]
    x = x - np.median(x, axis=-1, keepdims=True)  # the flat line between spikes is the median
    tallest = np.abs(x).argmax(axis=-1)
    start = ds.meta["peak_start"]
    assert ((tallest >= start) & (tallest < start + ds.meta["peak_width"])).all()
    # 1 peak + 6 distractors of width 2, never touching: 14 spike steps per node.
    assert ((np.abs(x) > 1e-4).sum(axis=-1) == 14).all()


def test_series_mean_says_nothing_about_the_label():
    ds = load_data("synthetic:peaks", standardize=False)
    x = ds.x[..., 0]
    # The flat stretches between spikes (the median) carry nothing: their level is random and independent
    # of the label (centring on the mean would make them depend on the peak's sign).
    flat = np.median(x, axis=-1)
    on_label = flat[np.arange(len(ds.y)), ds.y]
    off_label = np.delete(flat, ds.y + 7 * np.arange(len(ds.y)))
    assert abs(on_label.mean() - off_label.mean()) < 0.15
    # A fixed threshold cannot separate peaks from distractors (each node has its own random gain) ...
    thresholded = max((np.maximum(x - t, 0).mean(-1).argmax(-1) == ds.y).mean() for t in (1.0, 2.0, 3.0, 4.0))
    assert thresholded < 0.5
    # ... while the sign of each node's tallest spike (what attention can find) points to the label node.
    x = x - np.median(x, axis=-1, keepdims=True)
    extreme = np.take_along_axis(x, np.abs(x).argmax(-1)[..., None], -1)[..., 0] / np.abs(x).max(-1)
    assert (extreme.argmax(-1) == ds.y).mean() > 0.8


def test_nodes_option_and_bad_options():
    assert load_data("synthetic:peaks", nodes=4, samples=80).x.shape[1] == 4
    with pytest.raises(DataError, match="unknown option\\(s\\) colour"):
        load_data("synthetic:peaks", colour=1)
    with pytest.raises(DataError, match="unknown synthetic set 'waves'"):
        load_data("synthetic:waves")
    with pytest.raises(DataError, match="samples must be an int >= 1"):
        load_data("synthetic:peaks", samples=0)
