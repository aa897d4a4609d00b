"""ResConvEncoder: the padding rule for a non-causal encoder, shapes, gradients, the depth rule."""

import pytest
import torch

from attnpool import make_pool
from attnpool.models.resconv import MaskedBatchNorm1d, ResConvEncoder, depth_for_length, receptive_field

NORMS = ("batch", "layer")


def _encoder(norm, **kw):
    torch.manual_seed(0)
    return ResConvEncoder(2, 16, steps=40, norm=norm, dropout=0.0, **kw)


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("train", [False, True])
def test_masked_steps_never_change_valid_steps(norm, train):
    enc = _encoder(norm).train(train)
    x = torch.randn(6, 40, 2)
    mask = torch.rand(6, 40) > 0.3  # holes anywhere, not just right padding
    mask[:, 0] = True
    x_nan = x.clone()
    x_nan[~mask] = float("nan")
    x_big = x.clone()
    x_big[~mask] = 1e6
    h_nan = enc(x_nan, mask)
    h_big = enc(x_big, mask)
    assert torch.isfinite(h_nan).all()
    torch.testing.assert_close(h_nan, h_big)
    assert (h_nan[~mask] == 0).all()


@pytest.mark.parametrize("norm", NORMS)
def test_right_padding_changes_nothing(norm):
    enc = _encoder(norm).eval()
    with torch.no_grad():  # give the running statistics something other than the identity
        enc.train()
        enc(torch.randn(8, 40, 2) * 3 + 1)
        enc.eval()
    x = torch.randn(3, 25, 2)
    h = enc(x)
    padded = torch.cat([x, torch.full((3, 15, 2), float("nan"))], dim=1)
    mask = torch.zeros(3, 40, dtype=torch.bool)
    mask[:, :25] = True
    hp = enc(padded, mask)
    torch.testing.assert_close(hp[:, :25], h, atol=1e-5, rtol=1e-5)
    assert (hp[:, 25:] == 0).all()


def test_training_statistics_ignore_padding():
    """In training mode the masked BatchNorm statistics use valid steps only: extra padding changes nothing."""
    enc = _encoder("batch").train()
    x = torch.randn(4, 30, 2)
    mask = torch.ones(4, 30, dtype=torch.bool)
    mask[1, 20:] = False
    h = enc(x, mask)
    padded = torch.cat([x, torch.randn(4, 10, 2)], dim=1)
    pmask = torch.cat([mask, torch.zeros(4, 10, dtype=torch.bool)], dim=1)
    hp = enc(padded, pmask)
    torch.testing.assert_close(hp[:, :30], h, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("norm", NORMS)
def test_shapes_gradients_and_pooling(norm):
    enc = _encoder(norm).train()
    pool = make_pool("attention", 16)
    x = torch.randn(5, 40, 2, requires_grad=True)
    mask = torch.rand(5, 40) > 0.2
    mask[:, 0] = True
    x_in = x.masked_fill(~mask.unsqueeze(-1), float("nan"))
    h = enc(x_in, mask)
    assert h.shape == (5, 40, 16)
    z, w = pool(h, mask=mask, return_weights=True)
    assert z.shape == (5, 16) and w.shape == (5, 40)
    z.pow(2).sum().backward()
    assert torch.isfinite(x.grad).all()
    assert (x.grad[~mask] == 0).all()
    for p in enc.parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all()


def test_all_masked_rows_stay_finite():
    enc = _encoder("batch").train()
    x = torch.randn(3, 40, 2)
    mask = torch.ones(3, 40, dtype=torch.bool)
    mask[1] = False
    h = enc(x, mask)
    assert torch.isfinite(h).all() and (h[1] == 0).all()


@pytest.mark.parametrize("steps", [1, 7, 24, 29, 100, 150, 251, 427, 1000, 5000])
def test_receptive_field_covers_the_series(steps):
    depth = depth_for_length(steps)
    enc = ResConvEncoder(1, 8, steps=steps)
    assert enc.depth == depth == len(enc.blocks)
    if 2 * steps - 1 <= receptive_field(10):
        assert enc.receptive_field >= 2 * steps - 1  # centred: every step sees every other step
        if depth > 3:  # the smallest depth that covers it
            assert receptive_field(depth - 1) < 2 * steps - 1


def test_receptive_field_is_real():
    """Perturbing the first step changes the last step's encoding and vice versa; the field is not overstated."""
    steps = 150
    torch.manual_seed(0)
    enc = ResConvEncoder(1, 8, steps=steps, dropout=0.0).eval()
    x = torch.randn(1, steps, 1)
    x2 = x.clone()
    x2[0, 0, 0] += 5.0
    assert not torch.allclose(enc(x)[0, -1], enc(x2)[0, -1])
    x3 = x.clone()
    x3[0, -1, 0] += 5.0
    assert not torch.allclose(enc(x)[0, 0], enc(x3)[0, 0])
    rf = enc.receptive_field
    long = torch.randn(1, rf + 20, 1)
    long2 = long.clone()
    long2[0, 0, 0] += 5.0
    # a step further than rf // 2 from step 0 (the conv is centred) is not reached
    far = rf // 2 + 1
    torch.testing.assert_close(enc(long)[0, far:], enc(long2)[0, far:])


def test_masked_batchnorm_matches_batchnorm_without_mask():
    torch.manual_seed(0)
    ours, ref = MaskedBatchNorm1d(4), torch.nn.BatchNorm1d(4)
    h = torch.randn(5, 4, 12) * 2 + 1
    torch.testing.assert_close(ours(h, None), ref(h), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(ours(h, torch.ones(5, 1, 12, dtype=torch.bool)), ref(h), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(ours.running_mean, ref.running_mean)
    torch.testing.assert_close(ours.running_var, ref.running_var)
    ours.eval(), ref.eval()
    torch.testing.assert_close(ours(h, None), ref(h), atol=1e-5, rtol=1e-5)


def test_depth_rule_values():
    assert [depth_for_length(t) for t in (7, 24, 29, 100, 150, 251, 427, 1000)] == [3, 4, 4, 6, 7, 7, 8, 9]
    with pytest.raises(ValueError):
        ResConvEncoder(1, 8, kernel_size=4)
