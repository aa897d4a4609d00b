import warnings

import numpy as np
import pytest
import torch

from attnpool.export import CHECK_SHAPE, EXAMPLE_SHAPE, export_run, run_file
from attnpool.predictor import load_run

onnxruntime = pytest.importorskip("onnxruntime")


def _inputs(S, N, T, F, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((S, N, T, F)).astype(np.float32)
    mask = rng.random((S, N, T)) > 0.25
    mask[0, 0] = False  # a node with no valid step: zero weights, never NaN
    return np.where(mask[..., None], x, np.nan).astype(np.float32), mask


def _exported(path, fmt):
    """``run(x, mask) -> [proba, weights]`` of an exported file, outside the training code."""
    if fmt == "torchscript":
        module = torch.jit.load(str(path))
        return lambda xs, mask: [t.detach().numpy() for t in module(torch.from_numpy(xs), torch.from_numpy(mask))]
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return lambda xs, mask: session.run(None, {"x": xs, "mask": mask})


def test_onnx_runs_in_onnxruntime_at_other_sizes_and_matches_the_predictor(classify_run, tmp_path):
    # The legacy exporter here (under a second); the default torch.export-based one is run by
    # tests/test_readme_notebook.py through `attnpool export`, on the same interface.
    result = export_run(classify_run, "onnx", tmp_path / "m.onnx", dynamo=False)
    assert result.path.is_file() and result.max_difference <= 1e-5
    assert (result.check_shape[0], result.check_shape[2]) == CHECK_SHAPE != EXAMPLE_SHAPE
    session = onnxruntime.InferenceSession(str(result.path), providers=["CPUExecutionProvider"])
    assert [(i.name, i.type) for i in session.get_inputs()] == [("x", "tensor(float)"), ("mask", "tensor(bool)")]
    assert [o.name for o in session.get_outputs()] == ["output", "weights"]
    p = load_run(classify_run)
    for S, T in ((1, 5), (9, 61)):  # sizes neither exported nor checked
        x, mask = _inputs(S, 7, T, 1, seed=T)
        proba, weights = session.run(None, {"x": x, "mask": mask})
        want = p.predict(x, mask)
        np.testing.assert_allclose(proba, want.proba, atol=1e-5)
        np.testing.assert_allclose(weights, want.weights, atol=1e-5)
        assert np.allclose(proba.sum(1), 1.0, atol=1e-5) and (weights[0, 0] == 0).all()


@pytest.mark.parametrize("fmt, dynamo", [("torchscript", True), ("onnx", False)])  # dynamo: ONNX only
def test_torchscript_and_legacy_onnx_give_values_in_data_units(regress_run, tmp_path, fmt, dynamo):
    result = export_run(regress_run, fmt, tmp_path / f"m.{fmt}", dynamo=dynamo)
    assert result.max_difference <= 1e-5
    p = load_run(regress_run)
    x, mask = _inputs(4, 3, 19, 2, seed=1)
    x = 5.0 + 2.0 * x
    values, weights = run_file(result.path, fmt, x, mask)
    want = p.predict(x, mask)
    assert values.shape == (4, 3, 2)
    np.testing.assert_allclose(values, want.y, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(weights, want.weights, atol=1e-5)
    if fmt == "torchscript":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # TorchScript: deprecated upstream, still supported
            module = torch.jit.load(str(result.path))
        with torch.no_grad():
            out, _ = module(torch.from_numpy(x), torch.from_numpy(mask))
        np.testing.assert_allclose(out.numpy(), values)


def test_bad_arguments(classify_run, tmp_path):
    with pytest.raises(ValueError, match="fmt must be one of onnx, torchscript, got 'tflite'"):
        export_run(classify_run, "tflite")
    with pytest.raises(ValueError, match="is a directory"):
        export_run(classify_run, "torchscript", tmp_path)


def test_a_strided_encoder_exports_to_onnx_and_matches_at_other_sizes(tmp_path):
    """resconv with a stem stride (the recipe gives long series one): the coarse mask, the repeat back to T and
    the cut to T run in onnxruntime for T that are no multiple of the stride."""
    from attnpool.data import from_arrays
    from attnpool.workflow import TrainConfig, fit

    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 2, 40, 1)).astype(np.float32)
    fit(TrainConfig(data=from_arrays(x, np.arange(40) % 2), stride=4, epochs=1, channels=8, ensemble=1,
                    progress=False), tmp_path / "run", quiet=True)
    result = export_run(tmp_path / "run", "onnx", tmp_path / "m.onnx", dynamo=False)
    assert result.max_difference <= 1e-5
    session = onnxruntime.InferenceSession(str(result.path), providers=["CPUExecutionProvider"])
    p = load_run(tmp_path / "run")
    for S, T in ((1, 5), (3, 42), (9, 61)):
        xs, mask = _inputs(S, 2, T, 1, seed=T)  # holes anywhere, and a node with no valid step
        proba, weights = session.run(None, {"x": xs, "mask": mask})
        want = p.predict(xs, mask)
        np.testing.assert_allclose(proba, want.proba, atol=1e-5)
        np.testing.assert_allclose(weights, want.weights, atol=1e-5)


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
def test_a_model_with_the_distribution_summary_head_exports_and_matches(tmp_path, fmt):
    """The summary head (counts above thresholds over valid steps and dilated differences, mixed probabilities)
    runs outside torch at sizes neither exported nor checked, holes and an empty node included; for T shorter than
    a dilation its differences count as none."""
    from attnpool.data import from_arrays
    from attnpool.workflow import TrainConfig, fit

    rng = np.random.default_rng(1)
    x = rng.standard_normal((40, 2, 40, 1)).astype(np.float32)
    fit(TrainConfig(data=from_arrays(x, np.arange(40) % 3), distribution=5, epochs=1, channels=8, ensemble=1,
                    progress=False), tmp_path / "run", quiet=True)
    p = load_run(tmp_path / "run")
    assert p.model.summary is not None and p.model.summary.dilations == (0, 1, 2, 4, 8)
    result = export_run(tmp_path / "run", fmt, tmp_path / f"m.{fmt}", dynamo=False)
    assert result.max_difference <= 1e-5
    run = _exported(result.path, fmt)
    for S, T in ((1, 5), (3, 42), (9, 61)):
        xs, mask = _inputs(S, 2, T, 1, seed=T)
        proba, weights = run(xs, mask)
        want = p.predict(xs, mask)
        np.testing.assert_allclose(proba, want.proba, atol=1e-5)
        np.testing.assert_allclose(weights, want.weights, atol=1e-5)


@pytest.mark.parametrize("fmt, dynamo", [("onnx", False), ("torchscript", False), ("onnx", True)])
def test_a_model_reading_counts_on_the_log_scale_exports_and_matches(tmp_path, fmt, dynamo):
    """The log rule (heavy-tailed counts read as log1p(x / s)) travels with the exported file: raw counts in,
    the predictor's probabilities out, at sizes neither exported nor checked, holes, an empty node and a negative
    value (never seen in training) included."""
    from attnpool.data import from_arrays
    from attnpool.workflow import TrainConfig, fit

    rng = np.random.default_rng(2)
    x = np.floor(np.exp(rng.normal(2.0, 2.5, (40, 2, 30, 1)))) * (rng.random((40, 2, 30, 1)) > 0.7)
    fit(TrainConfig(data=from_arrays(x.astype(np.float32), np.arange(40) % 3), epochs=1, channels=8, ensemble=1,
                    distribution=5, progress=False), tmp_path / "run", quiet=True)
    p = load_run(tmp_path / "run")
    assert float(p.model.x_log_scale.min()) == 1.0  # both nodes on the log scale
    result = export_run(tmp_path / "run", fmt, tmp_path / f"m.{fmt}", dynamo=dynamo)
    assert result.max_difference <= 1e-5
    run = _exported(result.path, fmt)
    for S, T in ((1, 5), (3, 42)):
        xs, mask = _inputs(S, 2, T, 1, seed=T)
        xs = np.where(mask[..., None], np.floor(np.exp(3 * np.abs(xs))), np.nan).astype(np.float32)
        mask[-1, -1, 1], xs[-1, -1, 1] = True, -4.0  # a negative count, valid
        proba, weights = run(xs, mask)
        want = p.predict(xs, mask)
        np.testing.assert_allclose(proba, want.proba, atol=1e-5)
        np.testing.assert_allclose(weights, want.weights, atol=1e-5)
