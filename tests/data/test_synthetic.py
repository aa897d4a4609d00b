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
    assert len(load_data("synthetic:peaks")) == 1200


def test_deterministic_per_seed():
    a = load_data("synthetic:peaks", samples=100, seed=3)
    b = load_data("synthetic:peaks", samples=100, seed=3)
    c = load_data("synthetic:peaks", samples=100, seed=4)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.y, b.y)
    np.testing.assert_array_equal(a.meta["peak_start"], b.meta["peak_start"])
    assert not np.array_equal(a.x, c.x)


def test_peak_sits_where_meta_says():
    # Without noise and distractors the label node is its peak on a flat line, and the others stay flat
    # but for one distractor each: check position, width and direction.
    ds = load_data("synthetic:peaks", samples=50, noise=0.0, distractors=0, peak_width=3)
    x = ds.x[..., 0]
    start = ds.meta["peak_start"]
    for s in range(50):
        assert np.flatnonzero(start[s] >= 0).tolist() == [ds.y[s]]
        n = ds.y[s]
        flat = np.median(x[s, n])
        on = np.flatnonzero(np.abs(x[s, n] - flat) > 1e-4)
        np.testing.assert_array_equal(on, np.arange(start[s, n], start[s, n] + 3))
        assert (x[s, n, on] > flat).all()  # the peak points up


def test_peak_is_far_taller_than_every_other_spike_of_its_node():
    ds = load_data("synthetic:peaks", samples=200, noise=0.0)
    x = ds.x[..., 0]
    x = x - np.median(x, axis=-1, keepdims=True)  # the flat line between spikes is the median
    rows = np.arange(200)
    peaked = x[rows, ds.y]  # [S, T]
    start = ds.meta["peak_start"][rows, ds.y]
    in_peak = (np.arange(30) >= start[:, None]) & (np.arange(30) < start[:, None] + 2)
    assert (np.abs(np.where(in_peak, 0, peaked)).max(-1) <= 0.6 * peaked.max(-1) + 1e-4).all()
    assert ((np.abs(peaked).argmax(-1) >= start) & (np.abs(peaked).argmax(-1) < start + 2)).all()
    # 7 spikes of width 2 on every node, never touching: 14 spike steps.
    assert ((np.abs(x) > 1e-4).sum(axis=-1) == 14).all()


def test_neither_level_nor_a_fixed_threshold_gives_the_label():
    ds = load_data("synthetic:peaks")
    x = ds.x[..., 0]
    # The flat stretches between spikes (the median) carry nothing: their level is random and independent
    # of the label (centring on the mean would make them depend on the peak).
    flat = np.median(x, axis=-1)
    on_label = flat[np.arange(len(ds.y)), ds.y]
    off_label = np.delete(flat, ds.y + 7 * np.arange(len(ds.y)))
    assert abs(on_label.mean() - off_label.mean()) < 0.15
    # A fixed threshold cannot separate the peak from tall distractors (each node has its own random gain) ...
    rel = x - flat[..., None]
    thresholded = max((np.maximum(rel - t, 0).mean(-1).argmax(-1) == ds.y).mean() for t in (1.0, 2.0, 3.0, 4.0))
    assert thresholded < 0.6
    # ... while comparing each node's tallest spike with its second tallest (what attention can find) does.
    spikes = np.sort(np.abs(rel), axis=-1)
    contrast = spikes[..., -1] / spikes[..., -3]  # tallest over the next spike's (each spike is 2 steps wide)
    assert (contrast.argmax(-1) == ds.y).mean() > 0.9  # 0.93 here; noise blurs the smaller spikes


def test_nodes_option_and_bad_options():
    assert load_data("synthetic:peaks", nodes=4, samples=80).x.shape[1] == 4
    with pytest.raises(DataError, match="unknown option\\(s\\) colour"):
        load_data("synthetic:peaks", colour=1)
    with pytest.raises(DataError, match="unknown synthetic set 'waves'"):
        load_data("synthetic:waves")
    with pytest.raises(DataError, match="samples must be an int >= 1"):
        load_data("synthetic:peaks", samples=0)
