import numpy as np
import pytest

pytest.importorskip("aeon")

from attnpool.data import DataError, load_data  # noqa: E402
from attnpool.data.uea import parse_nodes  # noqa: E402


@pytest.fixture(scope="module")
def motions():
    return load_data("uea:BasicMotions")


def test_basic_motions_keeps_aeon_train_test(motions):
    from aeon.datasets import load_classification

    X_test, y_test = load_classification("BasicMotions", split="test")
    assert motions.x.shape == (80, 6, 100, 1) and motions.n_classes == 4
    # aeon's test part is our test part, untouched; by default its whole train part trains (no val carved).
    np.testing.assert_array_equal(motions.splits["test"], np.arange(40, 80))
    np.testing.assert_array_equal(motions.splits["train"], np.arange(40))
    assert len(motions.splits["val"]) == 0
    # with fractions given, val is carved out of aeon's train part, stratified
    carved = load_data("uea:BasicMotions", split=(0.7, 0.15, 0.15))
    assert len(carved.splits["train"]) + len(carved.splits["val"]) == 40
    assert set(carved.y[carved.splits["val"]].tolist()) == {0, 1, 2, 3}
    np.testing.assert_allclose(motions.x[40:, :, :, 0], X_test, rtol=1e-5, atol=1e-5)
    assert [motions.class_names[i] for i in motions.y[40:]] == list(y_test)
    assert motions.node_names[0] == "accelerometer_x"


def test_basic_motions_as_two_sensors():
    ds = load_data("uea:BasicMotions", nodes=2)
    assert ds.x.shape == (80, 2, 100, 3)
    assert ds.node_names == ["accelerometer", "gyroscope"] and ds.feature_names == ["x", "y", "z"]
    same = load_data("uea:BasicMotions", nodes="0,1,2|3,4,5")
    np.testing.assert_array_equal(ds.x, same.x)
    swapped = load_data("uea:BasicMotions", nodes="3,4,5|0,1,2")
    flat = load_data("uea:BasicMotions")
    np.testing.assert_array_equal(swapped.x[:, 0, :, 1], flat.x[:, 4, :, 0])


def test_japanese_vowels_padded_with_masks_never_truncated():
    from aeon.datasets import load_classification

    ds = load_data("uea:JapaneseVowels")
    X_train, _ = load_classification("JapaneseVowels", split="train")
    X_test, _ = load_classification("JapaneseVowels", split="test")
    lengths = np.array([s.shape[1] for s in list(X_train) + list(X_test)])
    assert ds.x.shape == (640, 12, lengths.max(), 1) and ds.mask is not None
    np.testing.assert_array_equal(ds.mask.sum(axis=-1), np.repeat(lengths[:, None], 12, axis=1))
    np.testing.assert_array_equal(ds.meta["lengths"], lengths)
    assert (ds.x[~ds.mask] == 0).all()
    # The last valid step of the longest sample is there, not cut.
    i = int(lengths.argmax())
    series = (list(X_train) + list(X_test))[i]
    np.testing.assert_allclose(ds.x[i, :, -1, 0], series[:, -1], rtol=1e-5, atol=1e-5)


def test_univariate_and_regression_sets():
    arrow = load_data("uea:ArrowHead")
    assert arrow.x.shape[1:] == (1, 251, 1) and arrow.task == "classify"
    covid = load_data("uea:Covid3Month")
    assert covid.task == "regress" and covid.y.shape == (201, 1)
    np.testing.assert_allclose(covid.baseline[0], covid.y[covid.splits["train"]].mean(0), rtol=1e-5)


@pytest.mark.parametrize(
    "source, kwargs, message",
    [
        ("uea:NoSuchSet", {}, "uea:NoSuchSet: cannot load 'NoSuchSet' through aeon (unknown name)"),
        ("uea:", {}, "give a set name"),
        ("uea:BasicMotions", {"nodes": 4}, "nodes=4 must divide the 6 channels into equal groups"),
        ("uea:BasicMotions", {"nodes": "0,1|2"}, "must give every node the same number of channels"),
        ("uea:BasicMotions", {"nodes": "0,9"}, "names channels outside [0, 6)"),
        ("uea:BasicMotions", {"task": "forecast"}, "UEA sets are classify (or regress) tasks"),
    ],
)
def test_bad_uea_requests(source, kwargs, message):
    with pytest.raises(DataError) as err:
        load_data(source, **kwargs)
    assert message in str(err.value)


def test_missing_aeon_gives_install_hint(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "aeon.datasets", None)  # makes the import fail
    with pytest.raises(DataError, match=r"needs aeon: pip install attnpool\[data\]"):
        load_data("uea:BasicMotions")


def test_parse_nodes():
    assert parse_nodes(None, 3, "s") == [[0], [1], [2]]
    assert parse_nodes(3, 6, "s") == [[0, 1], [2, 3], [4, 5]]
    assert parse_nodes("2", 4, "s") == [[0, 1], [2, 3]]
    assert parse_nodes("1,0|3,2", 4, "s") == [[1, 0], [3, 2]]
