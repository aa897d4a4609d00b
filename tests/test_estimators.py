import numpy as np
import pytest

pytest.importorskip("aeon")
pytest.importorskip("lightning")

from aeon.testing.estimator_checking import check_estimator  # noqa: E402

from attnpool.estimators import AttentionClassifier, AttentionRegressor  # noqa: E402
from attnpool.predictor import load_run  # noqa: E402

TINY = dict(epochs=2, channels=4, batch_size=8, encoder="linear", patience=2, validation=0.2)


def _cases(n=24, channels=2, T=20, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, channels, T))
    y = np.array(["up", "down"])[np.arange(n) % 2]
    X[y == "up", :, 5:9] += 3.0  # a peak the model can find
    return X, y


@pytest.mark.slow
@pytest.mark.parametrize("estimator", [AttentionClassifier, AttentionRegressor])
def test_aeon_check_estimator_passes(estimator):
    results = check_estimator(estimator, raise_exceptions=True)
    # Every data type the tags claim (multivariate, unequal length, missing values) is among those checked.
    checked = " ".join(results)
    for kind in ("EqualLengthMultivariate", "UnequalLengthMultivariate", "MissingValues"):
        assert kind in checked
    assert all(v == "PASSED" or str(v).startswith(("SKIPPED", "No stored")) for v in results.values())


def test_unequal_length_padding_never_reaches_a_prediction():
    X, y = _cases()
    clf = AttentionClassifier(**TINY).fit(X, y)
    lengths = [20, 13, 7]
    cases = [X[i, :, :n] for i, n in enumerate(lengths)]
    weights = clf.attention_weights(cases)  # [3, 2 nodes, 20 = the longest]
    assert weights.shape == (3, 2, 20)
    for i, n in enumerate(lengths):
        assert (weights[i, :, n:] == 0).all() and np.allclose(weights[i, :, :n].sum(-1), 1.0, atol=1e-5)
        alone = clf.predict_proba([cases[i]])  # the same case without padding
        np.testing.assert_allclose(clf.predict_proba(cases)[i], alone[0], atol=1e-6)
    assert set(clf.predict(cases)) <= {"up", "down"} and list(clf.classes_) == ["down", "up"]


def test_missing_values_are_masked_steps():
    X, y = _cases(seed=1)
    clf = AttentionClassifier(**TINY).fit(X, y)
    holes = X[:4].copy()
    holes[0, 1, 3] = np.nan
    holes[2, 0, 10:15] = np.nan
    weights = clf.attention_weights(holes)
    assert weights[0, 1, 3] == 0 and (weights[2, 0, 10:15] == 0).all()
    # The same as the predictor with those steps masked, whatever x holds there.
    x = np.nan_to_num(holes, nan=1e6)[..., None]  # [4, C, T] -> [4, N=C, T, F=1]
    mask = ~np.isnan(holes)
    want = clf.predictor_.predict(x, mask)
    np.testing.assert_allclose(clf.predict_proba(holes), want.proba, atol=1e-6)


def test_channels_group_into_nodes_and_regression_is_in_y_units():
    X, _ = _cases(n=30, channels=4, seed=2)
    y = 100.0 + 10.0 * X[:, 0, 5:9].mean(-1)
    reg = AttentionRegressor(**dict(TINY, nodes=2)).fit(X, y)
    assert reg.n_nodes_ == 2 and reg.attention_weights(X[:3]).shape == (3, 2, 20)
    pred = reg.predict(X)
    assert pred.shape == (30,) and abs(pred.mean() - 100.0) < 20.0  # de-standardized: near y's scale


def test_save_writes_an_ordinary_run_directory(tmp_path):
    X, y = _cases(seed=3)
    clf = AttentionClassifier(**TINY).fit(X, y)
    run = clf.save(tmp_path / "run")
    assert {p.name for p in run.iterdir()} >= {"config.json", "model.pt", "metrics.json", "data.npz"}
    p = load_run(run)
    assert p.class_names == ["down", "up"]
    np.testing.assert_allclose(p.predict(X[..., None]).proba, clf.predict_proba(X), atol=1e-6)
    from attnpool.workflow import evaluate_run, explain_run
    metrics = evaluate_run(run)  # the run's own data, found through config.json
    assert metrics["val"]["n"] == 5
    pytest.importorskip("matplotlib")
    assert explain_run(run, None, tmp_path / "explain")["figures"]  # no test part: its validation part is drawn
    with pytest.raises(ValueError, match="already holds a run"):
        clf.save(run)
