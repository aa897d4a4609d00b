import numpy as np
import pytest
import torch

from attnpool.predictor import load_run


def _inputs(S, N, T, F, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((S, N, T, F))  # float64 on purpose: any float dtype is accepted
    mask = rng.random((S, N, T)) > 0.2
    mask[..., 0] = True
    return x, mask


def test_classify_matches_the_model(classify_run):
    p = load_run(classify_run)
    x, mask = _inputs(5, p.n_nodes, 33, p.n_features)  # T differs from training's 30
    got = p.predict(x, mask)
    with torch.no_grad():
        logits, weights = p.model(torch.from_numpy(x).float(), torch.from_numpy(mask))
    np.testing.assert_allclose(got.proba, torch.softmax(logits, -1).numpy(), atol=1e-6)
    np.testing.assert_allclose(got.weights, weights.numpy(), atol=1e-6)
    assert got.y.dtype == np.int64 and got.y.tolist() == got.proba.argmax(1).tolist()
    assert got.labels.tolist() == [p.class_names[i] for i in got.y]
    assert got.weights.shape == (5, p.n_nodes, 33) and np.allclose(got.weights.sum(-1), 1.0, atol=1e-5)
    assert (got.weights[~mask] == 0).all()


def test_batches_torch_and_integer_inputs_agree(classify_run):
    p = load_run(classify_run)
    x, mask = _inputs(7, p.n_nodes, 30, p.n_features, seed=1)
    whole = p.predict(x, mask)
    batched = p.predict(torch.from_numpy(x), torch.from_numpy(mask.astype(np.int64)), batch_size=3)
    np.testing.assert_allclose(batched.proba, whole.proba, atol=1e-6)
    np.testing.assert_allclose(batched.weights, whole.weights, atol=1e-6)
    ints = p.predict(np.round(x * 10).astype(np.int32))
    assert ints.proba.shape == (7, len(p.class_names))


def test_values_at_masked_steps_are_never_used(classify_run):
    p = load_run(classify_run)
    x, mask = _inputs(4, p.n_nodes, 30, p.n_features, seed=2)
    clean = p.predict(np.where(mask[..., None], x, 0.0), mask)
    dirty = p.predict(np.where(mask[..., None], x, np.nan), mask)
    np.testing.assert_array_equal(dirty.proba, clean.proba)
    np.testing.assert_array_equal(dirty.weights, clean.weights)


def test_regress_values_in_data_units(regress_run):
    p = load_run(regress_run)
    assert p.task == "regress" and p.model.per_node
    x, mask = _inputs(6, 3, 12, 2, seed=3)
    x = 5.0 + 2.0 * x
    got = p.predict(x, mask)
    with torch.no_grad():
        want, weights = p.model(torch.from_numpy(x).float(), torch.from_numpy(mask))
    assert got.proba is None and got.labels is None and got.y.shape == (6, 3, 2)
    np.testing.assert_allclose(got.y, want.numpy(), rtol=1e-6)
    assert np.abs(got.y).mean() > 10  # de-standardized by the model, not left in standardized units
    empty = p.predict(np.zeros((0, 3, 12, 2)))
    assert empty.y.shape == (0, 3, 2) and empty.weights.shape == (0, 3, 12)


@pytest.mark.parametrize("shape, mask, message", [
    ((2, 3, 30, 1), None, r"x must have N=7 nodes and F=1 features .* got N=3, F=1"),
    ((2, 7, 30, 2), None, r"x must have N=7 nodes and F=1 features .* got N=7, F=2"),
    ((7, 30, 1), None, r"x must have 4 axes \[S, N, T, F\], got shape \(7, 30, 1\); for one sample pass x\[None\]"),
    ((2, 7, 30, 1), np.ones((2, 7, 29), bool), r"mask must have shape \[S, N, T\] = \(2, 7, 30\), got \(2, 7, 29\)"),
])
def test_wrong_shapes_name_expected_and_actual(classify_run, shape, mask, message):
    with pytest.raises(ValueError, match=message):
        load_run(classify_run).predict(np.zeros(shape), mask)


def test_non_finite_at_a_valid_step_names_the_first_position(classify_run):
    p = load_run(classify_run)
    x = np.zeros((3, 7, 30, 1))
    x[1, 2, 5, 0] = 1e39  # finite in float64, inf after the cast to float32
    x[2, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match=r"after the cast to float32\) at 2 steps .*first at sample 1, node 2, step 5"):
        p.predict(x)


def test_missing_run_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_run(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match="has no model.pt"):
        load_run(tmp_path)
