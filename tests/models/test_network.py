"""SpatioTemporalNet: shapes for every task/encoder/mixer, masks through the encoder, normalisation buffers."""

import numpy as np
import pytest
import torch

from attnpool import SpatioTemporalNet
from attnpool.data import load_data
from attnpool.models import ENCODERS, MIXERS, make_encoder


@pytest.mark.parametrize("encoder", ENCODERS)
@pytest.mark.parametrize("mixer", MIXERS)
@pytest.mark.parametrize("task, out, shape", [("classify", 3, (4, 3)), ("regress", 2, (4, 2)), ("forecast", 5, (4, 7, 5))])
def test_shapes_and_gradients(encoder, mixer, task, out, shape):
    model = SpatioTemporalNet(7, 2, task, out, encoder=encoder, mixer=mixer)
    x = torch.randn(4, 7, 30, 2)
    mask = torch.rand(4, 7, 30) > 0.2
    pred, weights = model(x, mask)
    assert pred.shape == shape
    assert weights.shape == (4, 7, 30)
    torch.testing.assert_close(weights.sum(-1), torch.ones(4, 7))
    assert (weights[~mask] == 0).all()
    pred.sum().backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


@pytest.mark.parametrize("encoder", ENCODERS)
def test_padding_does_not_change_valid_step_encodings(encoder):
    torch.manual_seed(0)
    enc = make_encoder(encoder, 3, 16, dropout=0.0).eval()
    x = torch.randn(5, 20, 3)
    padded = torch.cat([x, torch.randn(5, 7, 3) * 100], dim=1)
    padded[:, 22] = float("nan")
    mask = torch.cat([torch.ones(5, 20, dtype=torch.bool), torch.zeros(5, 7, dtype=torch.bool)], dim=1)
    h = enc(x, torch.ones(5, 20, dtype=torch.bool))
    h_pad = enc(padded, mask)
    torch.testing.assert_close(h_pad[:, :20], h)
    assert (h_pad[:, 20:] == 0).all()


def test_model_prediction_ignores_padding_and_nan():
    model = SpatioTemporalNet(3, 2, "classify", 4, encoder="tcn", mixer="attention").eval()
    x = torch.randn(2, 3, 12, 2)
    padded = torch.cat([x, torch.full((2, 3, 4, 2), float("nan"))], dim=2)
    mask = torch.cat([torch.ones(2, 3, 12, dtype=torch.bool), torch.zeros(2, 3, 4, dtype=torch.bool)], dim=2)
    pred, w = model(x)
    pred_pad, w_pad = model(padded, mask)
    torch.testing.assert_close(pred_pad, pred)
    torch.testing.assert_close(w_pad[..., :12], w)


def test_multihead_weights_average_heads():
    model = SpatioTemporalNet(2, 1, "classify", 2, pool="multihead", pool_kwargs={"heads": 4})
    _, w = model(torch.randn(3, 2, 10, 1))
    assert w.shape == (3, 2, 10)
    torch.testing.assert_close(w.sum(-1), torch.ones(3, 2))


def test_normalisation_is_inside_the_model():
    model = SpatioTemporalNet(2, 3, "regress", 1, encoder="linear").eval()
    x = torch.randn(50, 2, 10, 3) * 5 + 7
    y = torch.randn(50, 1) * 3 + 100
    model.fit_normalization(x, None, y)
    torch.testing.assert_close(model.x_mean, x.double().mean(dim=(0, 2)).float(), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(model.y_mean, y.double().mean(0).float())
    pred, _ = model(x)
    assert (pred - 100).abs().mean() < 15  # outputs come back in the target's units


def test_forecast_untrained_head_is_near_persistence():
    model = SpatioTemporalNet(3, 1, "forecast", 2, encoder="linear")
    with torch.no_grad():
        model.head.net[-1].weight.zero_()
        model.head.net[-1].bias.zero_()
    x = torch.randn(4, 3, 10, 1)
    mask = torch.ones(4, 3, 10, dtype=torch.bool)
    mask[:, :, 8:] = False
    pred, _ = model(x, mask)
    torch.testing.assert_close(pred, x[:, :, 7, :1].expand(4, 3, 2))


def test_bad_input_shapes():
    model = SpatioTemporalNet(3, 2, "classify", 2)
    with pytest.raises(ValueError, match=r"x must have shape \[B, 3, T, 2\].*got \(4, 5, 10, 2\)"):
        model(torch.randn(4, 5, 10, 2))
    with pytest.raises(ValueError, match=r"x must have shape \[B, N, T, F\]"):
        model(torch.randn(4, 10, 2))
    with pytest.raises(ValueError, match=r"mask must be bool with shape"):
        model(torch.randn(4, 3, 10, 2), torch.ones(4, 3, 10))
    with pytest.raises(ValueError, match=r"task must be one of"):
        SpatioTemporalNet(3, 2, "cluster", 2)
    with pytest.raises(ValueError, match=r"adjacency must have shape \[N, N\] = \[3, 3\]"):
        SpatioTemporalNet(3, 2, "classify", 2, mixer="graph", adjacency=torch.ones(2, 2))


# ---- normalisation on data as the readers give it (the data layer keeps original units) -----------------


def _fitted(ds, **kwargs):
    """A model for ``ds`` whose normalisation was fitted on the training split, as training does."""
    out = ds.n_classes if ds.task == "classify" else int(ds.y.shape[-1])
    per_node = ds.task == "regress" and ds.y.ndim == 3
    model = SpatioTemporalNet(ds.n_nodes, ds.n_features, ds.task, out, encoder="linear", per_node=per_node,
                              **kwargs).eval()
    train = ds.split("train")
    # np.asarray: a forecasting set over a series builds its (few, here) windows on demand
    mask = None if train.mask is None else torch.from_numpy(np.asarray(train.mask))
    model.fit_normalization(torch.from_numpy(np.asarray(train.x)), mask,
                            torch.from_numpy(np.asarray(train.y)) if ds.task == "regress" else None)
    return model


def _zero_head(model, bias=0.0):
    with torch.no_grad():
        model.head.net[-1].weight.zero_()
        model.head.net[-1].bias.fill_(bias)
    return model


def test_x_statistics_come_from_the_training_split_only(tmp_path):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((40, 2, 6, 1))
    x[20:] += 100.0  # val and test live far away; train-only stats must not see them
    split = np.array(["train"] * 20 + ["val"] * 10 + ["test"] * 10)
    np.savez(tmp_path / "d.npz", x=x.astype(np.float32), y=np.arange(40) % 2, split=split)
    model = _fitted(load_data(str(tmp_path / "d.npz")))
    np.testing.assert_allclose(model.x_mean.numpy(), x[:20].mean(axis=(0, 2)), rtol=1e-5)
    np.testing.assert_allclose(model.x_std.numpy(), x[:20].std(axis=(0, 2)), rtol=1e-5)
    normalised = (torch.from_numpy(x[:20]).float() - model.x_mean[:, None]) / model.x_std[:, None]
    assert abs(float(normalised.mean())) < 1e-5


def test_masked_steps_are_left_out_of_the_statistics(tmp_path):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((30, 2, 5, 1))
    mask = np.ones((30, 2, 5), dtype=bool)
    mask[:, :, -1] = False
    x[:, :, -1] = np.nan
    split = np.array([0] * 20 + [1] * 5 + [2] * 5)
    np.savez(tmp_path / "d.npz", x=x, mask=mask, split=split, y=np.arange(30) % 2)
    model = _fitted(load_data(str(tmp_path / "d.npz")))
    np.testing.assert_allclose(model.x_mean.numpy(), x[:20, :, :-1].mean(axis=(0, 2)), rtol=1e-5)


def test_regress_outputs_come_back_in_the_targets_units(tmp_path):
    rng = np.random.default_rng(1)
    y = rng.normal(5.0, 3.0, size=(40, 2)).astype(np.float32)
    np.savez(tmp_path / "d.npz", x=rng.standard_normal((40, 3, 8, 2)).astype(np.float32), y=y)
    ds = load_data(str(tmp_path / "d.npz"))
    train = ds.splits["train"]
    model = _zero_head(_fitted(ds))
    np.testing.assert_allclose(model.y_mean.numpy(), y[train].mean(0), rtol=1e-5)
    np.testing.assert_allclose(model.y_std.numpy(), y[train].std(0), rtol=1e-5)
    # A head that outputs 0 in normalised units predicts the training mean, in the data's units.
    pred, _ = model(torch.from_numpy(ds.x[:5]))
    np.testing.assert_allclose(pred.detach().numpy(), np.broadcast_to(y[train].mean(0), (5, 2)), rtol=1e-5)


def test_per_node_regress_statistics_per_node_and_output(tmp_path):
    y = np.random.default_rng(0).normal(3, 2, (40, 3, 4))  # [S, N, D]
    x = np.random.default_rng(1).standard_normal((40, 3, 8, 2)).astype(np.float32)
    np.savez(tmp_path / "d.npz", x=x, y=y)
    ds = load_data(str(tmp_path / "d.npz"))
    model = _zero_head(_fitted(ds), bias=1.0)
    mean, std = y[ds.splits["train"]].mean(0), y[ds.splits["train"]].std(0)
    assert model.y_mean.shape == (3, 4)
    pred, _ = model(torch.from_numpy(ds.x[:5]))
    np.testing.assert_allclose(pred.detach().numpy(), np.broadcast_to(mean + std, (5, 3, 4)), rtol=1e-5)


def test_forecast_scale_is_the_target_features_training_std(tmp_path):
    lines = ["time,a,b"] + [f"{i},{i},{100 + 2 * i}" for i in range(40)]
    (tmp_path / "ramp.csv").write_text("\n".join(lines) + "\n")
    ds = load_data(str(tmp_path / "ramp.csv"), window=5, horizon=1)
    train = np.asarray(ds.x[ds.splits["train"]])  # a few windows over the series, built on demand
    model = _zero_head(_fitted(ds), bias=1.0)
    np.testing.assert_allclose(model.x_mean.numpy(), train.mean(axis=(0, 2)), rtol=1e-5)
    np.testing.assert_allclose(model.x_std.numpy(), train.std(axis=(0, 2)), rtol=1e-5)
    # Rows after the training period are unseen: normalised, they exceed the training range.
    test = torch.from_numpy(np.asarray(ds.x[ds.splits["test"]]))
    assert float(((test - model.x_mean[:, None]) / model.x_std[:, None]).max()) > float(
        ((torch.from_numpy(train) - model.x_mean[:, None]) / model.x_std[:, None]).max())
    # One unit of the head's output is one training std of the node's target feature, added to the last value.
    pred, _ = model(torch.from_numpy(np.asarray(ds.x[:3])))
    expected = ds.x[:3, :, -1, 0] + model.x_std[:, 0].numpy()
    np.testing.assert_allclose(pred[..., 0].detach().numpy(), expected, rtol=1e-5)


def test_uea_statistics_from_the_training_split():
    pytest.importorskip("aeon")
    motions = load_data("uea:BasicMotions")
    model = _fitted(motions)
    train = motions.x[motions.splits["train"]]
    np.testing.assert_allclose(model.x_mean.numpy(), train.mean(axis=(0, 2)), rtol=1e-4)
    np.testing.assert_allclose(model.x_std.numpy(), train.std(axis=(0, 2)), rtol=1e-4)


def test_set_normalization_takes_streamed_statistics():
    from attnpool.models import SpatioTemporalEnsemble

    model = SpatioTemporalNet(3, 2, "forecast", 4, encoder="linear")
    mean, std = np.arange(6.0).reshape(3, 2), np.array([[1.0, 2.0], [0.0, 3.0], [4.0, 1e-12]])
    model.set_normalization(mean, std)
    np.testing.assert_allclose(model.x_mean.numpy(), mean)
    np.testing.assert_allclose(model.x_std.numpy(), [[1, 2], [1, 3], [4, 1]])  # a constant feature: std 1
    with pytest.raises(ValueError, match=r"x_mean must have shape \[3, 2\], got \[2, 3\]"):
        model.set_normalization(mean.T, std)
    ensemble = SpatioTemporalEnsemble(2, n_nodes=3, n_features=2, task="forecast", out_features=4, encoder="linear")
    ensemble.set_normalization(mean, std)
    for member in ensemble.members:
        np.testing.assert_allclose(member.x_mean.numpy(), mean)
