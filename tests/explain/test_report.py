import csv

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from attnpool.explain import write_explanations  # noqa: E402


def test_write_explanations_for_a_tiny_classification_run(tmp_path):
    rng = np.random.default_rng(0)
    samples, nodes, steps, features = 6, 2, 8, 3
    x = rng.normal(size=(samples, nodes, steps, features))
    mask = np.ones((samples, nodes, steps), dtype=bool)
    mask[0, :, 6:] = False
    weights = np.where(mask, rng.random((samples, nodes, steps)), 0.0)
    weights /= weights.sum(axis=-1, keepdims=True)
    y_true = np.array([0, 1, 0, 1, 0, 1])
    scores = np.eye(2)[[0, 1, 1, 1, 0, 0]]
    out = write_explanations(
        tmp_path / "explain",
        x,
        weights,
        mask=mask,
        y_true=y_true,
        y_pred=scores,
        class_names=["rest", "walk"],
        node_names=["left", "right"],
        sample_ids=[10, 11, 12, 13, 14, 15],
        per_class=1,
    )
    np.testing.assert_array_equal(out["indices"], [0, 1])
    assert [p.name for p in out["figures"]] == ["sample_10.png", "sample_11.png"]
    for path in out["figures"]:
        assert path.read_bytes().startswith(b"\x89PNG") and path.stat().st_size > 1000
    with out["weights_csv"].open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == samples * nodes * steps - 2 * 2  # masked steps left out
    assert rows[0] == {"sample": "10", "node": "left", "step": "0", "weight": rows[0]["weight"]}
    with out["stats_csv"].open() as fh:
        assert len(list(csv.DictReader(fh))) == samples * nodes
    assert 1.0 <= out["summary"]["mean_effective_steps"] <= steps


def test_write_explanations_regression_largest_errors_and_multihead(tmp_path):
    x = np.zeros((4, 1, 5, 1))
    weights = np.full((4, 1, 5, 2), 0.2)  # [S, N, T, heads]
    y_true = np.zeros(4)
    y_pred = np.array([0.1, 3.0, 0.0, 2.0])
    out = write_explanations(tmp_path, x, weights, y_true=y_true, y_pred=y_pred, task="regress", largest_errors=2)
    np.testing.assert_array_equal(out["indices"], [1, 3])
    assert out["summary"]["mean_effective_steps"] == pytest.approx(5.0)
    with pytest.raises(ValueError, match="task"):
        write_explanations(tmp_path, x, weights, indices=[0], task="cluster")
    with pytest.raises(ValueError, match="indices"):
        write_explanations(tmp_path, x, weights, indices=[4])
