"""The input's log rule (attnpool.models.input_scale) and how the model and training use it."""

import numpy as np
import pytest
import torch

from attnpool import SpatioTemporalNet
from attnpool.models.input_scale import LOG_SKEWNESS, log_scales, signed_log


def _counts(rng, shape, zeros=0.8):
    """Heavy-tailed non-negative integer counts: mostly 0, a few in the thousands."""
    x = np.floor(np.exp(rng.normal(2.0, 2.5, shape)))
    x[rng.random(shape) < zeros] = 0.0
    return x


def _skewness(v):
    c = v - v.mean()
    return float(np.mean(c ** 3) / np.mean(c ** 2) ** 1.5)


def test_the_rule_picks_non_negative_skewed_features_at_their_low_positive_percentile():
    rng = np.random.default_rng(0)
    x = np.empty((50, 2, 30, 3))
    x[:, 0, :, 0] = _counts(rng, (50, 30))  # counts: on
    x[:, 0, :, 1] = rng.standard_normal((50, 30))  # signed: off
    x[:, 0, :, 2] = rng.uniform(0, 1, (50, 30))  # non-negative, not skewed: off
    x[:, 1, :, 0] = np.exp(rng.normal(0, 1.5, (50, 30))) * 1e-3  # positive, skewed, tiny units: on
    x[:, 1, :, 1] = _counts(rng, (50, 30))
    x[0, 1, 0, 1] = -1.0  # one negative value: off
    x[:, 1, :, 2] = 0.0  # constant: off
    scales = log_scales(torch.from_numpy(x)).numpy()
    assert scales.shape == (2, 3)
    for node, feature in ((0, 0), (1, 0)):
        column = x[:, node, :, feature].ravel()
        assert _skewness(column) >= LOG_SKEWNESS
        assert scales[node, feature] == pytest.approx(np.percentile(column[column > 0], 1.0))
    assert scales[0, 0] == 1.0  # integer counts: log1p(x)
    assert scales[0, 1] == scales[0, 2] == scales[1, 1] == scales[1, 2] == 0.0


def test_masked_steps_do_not_enter_the_rule():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((20, 1, 10, 1))  # signed where valid
    mask = np.ones((20, 1, 10), dtype=bool)
    mask[:, :, 7:] = False
    x[:, :, 7:] = np.nan
    assert log_scales(torch.from_numpy(x), torch.from_numpy(mask)).item() == 0.0
    counts = _counts(rng, (20, 1, 10, 1))
    want = log_scales(torch.from_numpy(counts[:, :, :7])).item()
    counts[:, :, 7:] = -1e9  # garbage at masked steps: ignored
    assert want > 0 and log_scales(torch.from_numpy(counts), torch.from_numpy(mask)).item() == want


def test_signed_log_matches_numpy_and_leaves_other_features_alone():
    x = torch.tensor([[-5.0, 0.0, 3.0, 1e6]]).reshape(1, 1, 4, 1).repeat(1, 2, 1, 2)  # [1, N=2, T=4, F=2]
    scale = torch.tensor([[2.0, 0.0], [0.0, 0.5]])
    out = signed_log(x, scale).numpy()
    v = x[0, 0, :, 0].numpy()
    np.testing.assert_allclose(out[0, 0, :, 0], np.sign(v) * np.log1p(np.abs(v) / 2.0), rtol=1e-6)
    np.testing.assert_allclose(out[0, 1, :, 1], np.sign(v) * np.log1p(np.abs(v) / 0.5), rtol=1e-6)
    np.testing.assert_array_equal(out[0, 0, :, 1], v)
    np.testing.assert_array_equal(out[0, 1, :, 0], v)


def test_the_model_standardises_the_log_values_and_predicts_from_raw_counts():
    rng = np.random.default_rng(2)
    x = np.concatenate([_counts(rng, (40, 3, 25, 1)), rng.standard_normal((40, 3, 25, 1))], axis=-1)
    model = SpatioTemporalNet(3, 2, "classify", 2, channels=8).eval()
    model.fit_normalization(torch.from_numpy(x))
    scale = model.x_log_scale.numpy()
    assert (scale[:, 0] == 1.0).all() and (scale[:, 1] == 0.0).all()
    reads = np.concatenate([np.log1p(x[..., :1]), x[..., 1:]], axis=-1)  # what the model should read
    np.testing.assert_allclose(model.x_mean.numpy(), reads.mean(axis=(0, 2)), rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(model.x_std.numpy(), reads.std(axis=(0, 2)), rtol=1e-5)
    xt = torch.from_numpy(x).float()
    want = (torch.from_numpy(reads).float() - model.x_mean[:, None]) / model.x_std[:, None]
    torch.testing.assert_close(model.standardize(xt), want, rtol=1e-5, atol=1e-5)
    # the same network fed the log values by hand, with scale 0, predicts the same from them
    plain = SpatioTemporalNet(3, 2, "classify", 2, channels=8).eval()
    plain.load_state_dict(model.state_dict())
    plain.x_log_scale.zero_()
    torch.testing.assert_close(model(xt)[0], plain(torch.from_numpy(reads).float())[0], rtol=1e-4, atol=1e-5)


def test_forecast_and_signed_data_keep_the_raw_scale():
    rng = np.random.default_rng(3)
    counts = torch.from_numpy(_counts(rng, (30, 2, 20, 1)))
    forecast = SpatioTemporalNet(2, 1, "forecast", 3, channels=8)
    forecast.fit_normalization(counts)
    assert (forecast.x_log_scale == 0).all()  # its output is a change in the data's own units
    regress = SpatioTemporalNet(2, 1, "regress", 1, channels=8)
    regress.fit_normalization(counts, y=torch.randn(30, 1))
    assert (regress.x_log_scale == 1.0).all()
    signed = SpatioTemporalNet(2, 1, "classify", 2, channels=8)
    signed.fit_normalization(torch.randn(30, 2, 20, 1))
    x = torch.randn(4, 2, 20, 1)
    assert (signed.x_log_scale == 0).all() and signed.to_input_units(x) is x


def test_padding_and_nan_at_masked_steps_change_nothing_on_the_log_scale():
    rng = np.random.default_rng(4)
    x = torch.from_numpy(_counts(rng, (6, 2, 30, 1))).float()
    model = SpatioTemporalNet(2, 1, "classify", 3, channels=8, steps=30).eval()
    model.fit_normalization(x)
    assert (model.x_log_scale > 0).all()
    mask = torch.ones(6, 2, 30, dtype=torch.bool)
    mask[:, :, 20:] = False
    dirty = x.clone()
    dirty[:, :, 20:] = float("nan")
    clean = x.clone()
    clean[:, :, 20:] = 1e7
    torch.testing.assert_close(model(dirty, mask)[0], model(clean, mask)[0])
    torch.testing.assert_close(model(dirty, mask)[0], model(x[:, :, :20], mask[:, :, :20])[0], rtol=1e-5, atol=1e-5)


def test_a_state_dict_from_before_the_rule_loads_as_the_raw_scale():
    model = SpatioTemporalNet(2, 1, "classify", 3, channels=8)
    old = {k: v for k, v in model.state_dict().items() if k != "x_log_scale"}
    fresh = SpatioTemporalNet(2, 1, "classify", 3, channels=8)
    fresh.x_log_scale.fill_(5.0)
    fresh.load_state_dict(old)  # strict: the missing buffer is filled with zeros
    assert (fresh.x_log_scale == 0).all()


def test_training_augments_on_the_log_scale():
    """Jitter and scaling act on the values the model reads: on raw counts, a jitter of 3% of the raw std
    (dominated by the few thousands) would turn most zeros into log1p(tens)."""
    from attnpool.train.module import PoolingModule

    rng = np.random.default_rng(5)
    x = torch.from_numpy(_counts(rng, (32, 1, 40, 1))).float()
    module = PoolingModule(dict(n_nodes=1, n_features=1, task="classify", out_features=2, channels=8, steps=40),
                           augment="scale,jitter", seed=0)
    model = module.model
    model.fit_normalization(x)
    seen = {}
    original = model.forward_parts

    def capture(xs, mask=None, summary=None, *, scaled=False):
        seen["x"], seen["scaled"] = xs, scaled
        return original(xs, mask, summary, scaled=scaled)

    model.forward_parts = capture
    module.loss({"x": x, "mask": None, "y": torch.arange(32) % 2}, model, augment=True)
    assert seen["scaled"]
    moved = (model.standardize(seen["x"], scaled=True) - model.standardize(x)).abs()
    zeros = x == 0
    # on the log scale a zero moves by about the jitter (0.03 std) plus its share of the scaling (0.1 of its
    # distance to the mean); on the raw scale the median zero would move by several stds
    assert float(moved[zeros].median()) < 0.2
    raw_jitter = 0.03 * x.std() * torch.randn_like(x)
    assert float((model.standardize(x + raw_jitter) - model.standardize(x)).abs()[zeros].median()) > 1.0


def test_attnpool_train_names_the_features_it_reads_on_the_log_scale_and_the_run_keeps_them(tmp_path):
    import json

    from attnpool.predictor import load_run

    from ..cli_helpers import attnpool

    rng = np.random.default_rng(6)
    x = np.concatenate([rng.standard_normal((30, 2, 20, 1)), _counts(rng, (30, 2, 20, 1))], axis=-1)
    x[:, 1, :, 1] = rng.standard_normal((30, 20))  # node b's second feature is signed
    np.savez(tmp_path / "d.npz", x=x.astype(np.float32), y=np.arange(30) % 2, node_names=np.array(["a", "b"]),
             feature_names=np.array(["level", "cases"]), split=np.array(["train"] * 20 + ["test"] * 10))
    proc = attnpool("train", tmp_path / "d.npz", "--out", tmp_path / "run", "--epochs", "1", "--channels", "8",
                    "--distribution", "0", "--ensemble", "1", "--no-progress")
    assert proc.returncode == 0, proc.stderr
    lines = [li for li in proc.stdout.splitlines() if li.startswith("inputs read as")]
    assert lines == ["inputs read as log1p(x / s) (non-negative, heavy-tailed): a/cases (s = 1)"]
    saved = json.loads((tmp_path / "run" / "config.json").read_text())["resolved"]["log_scale"]
    assert saved == [{"node": "a", "feature": "cases", "scale": 1.0}]
    model = load_run(tmp_path / "run").model
    np.testing.assert_array_equal(model.x_log_scale.numpy(), [[0.0, 1.0], [0.0, 0.0]])
