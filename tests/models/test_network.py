"""SpatioTemporalNet: shapes for every task/encoder/mixer, masks through the encoder, normalisation buffers."""

import pytest
import torch

from attnpool import SpatioTemporalNet
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
