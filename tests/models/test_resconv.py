"""ResConvEncoder: the padding rule for a non-causal encoder (also with a strided stem), shapes, gradients, the
depth and stride rules."""

import pytest
import torch
import torch.nn.functional as F

from attnpool import make_pool
from attnpool.models.resconv import (
    MaskedBatchNorm1d,
    ResConvEncoder,
    depth_for_length,
    receptive_field,
    stride_for_length,
)

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


# ---- the strided stem (recipe R2K) ------------------------------------------------------------------------


def test_stride_rule_values():
    # the six UEA sets of benchmarks/ (T = longest series) and the rule's edges: ceil(T / s) >= 100, s <= 2
    sets = {"GunPoint": 150, "ArrowHead": 251, "OSULeaf": 427, "ItalyPowerDemand": 24, "BasicMotions": 100,
            "JapaneseVowels": 29}
    assert {name: stride_for_length(t) for name, t in sets.items()} == {
        "GunPoint": 1, "ArrowHead": 2, "OSULeaf": 2, "ItalyPowerDemand": 1, "BasicMotions": 1, "JapaneseVowels": 1}
    assert [stride_for_length(t) for t in (1, 198, 199, 200, 396, 397, 5000)] == [1, 1, 2, 2, 2, 2, 2]
    for t in range(1, 1200):  # the rule itself, checked by brute force
        s = stride_for_length(t)
        assert s in (1, 2) and (s == 1 or -(-t // s) >= 100)
        assert s == 2 or -(-t // (2 * s)) < 100
    # recipe R2K's rule (strides up to 4) stays one argument away
    assert [stride_for_length(t, max_stride=4) for t in (198, 199, 396, 397, 5000)] == [1, 2, 2, 4, 4]
    with pytest.raises(ValueError, match="steps must be an int >= 1"):
        stride_for_length(0)


def test_depth_rule_runs_on_the_coarse_steps():
    assert ResConvEncoder(1, 8, steps=251, stride=2).depth == depth_for_length(126) == 6  # ArrowHead
    assert ResConvEncoder(1, 8, steps=427, stride=2).depth == depth_for_length(214) == 7  # OSULeaf
    assert ResConvEncoder(1, 8, steps=427, stride=4).depth == depth_for_length(107) == 6
    assert ResConvEncoder(1, 8, steps=427).depth == 8
    for bad in (0, 1.5, True):
        with pytest.raises(ValueError, match="stride must be an int >= 1"):
            ResConvEncoder(1, 8, stride=bad)


def _reference(enc, x, mask):
    """The strided encoder by hand: the stem as a stride-1 convolution read at every s-th step, the blocks on
    those coarse steps under the coarse mask ``mask[:, j*s]``, and input step t taking coarse step ``t // s``."""
    s, steps = enc.stride, x.shape[1]
    m = mask.unsqueeze(1)
    h = x.masked_fill(~mask.unsqueeze(-1), 0.0).transpose(1, 2)
    h = F.conv1d(h, enc.stem.weight, padding=enc.stem_kernel // 2)[..., ::s]
    coarse = m[..., ::s]
    h = torch.relu(enc.stem_norm(h, coarse))
    for block in enc.blocks:
        h = block(h, coarse)
    h = h.masked_fill(~coarse, 0.0)
    h = h[..., torch.arange(steps) // s]  # [B, C, T]
    return h.masked_fill(~m, 0.0).transpose(1, 2)


@pytest.mark.parametrize("stride", [2, 4])
@pytest.mark.parametrize("train", [False, True])
def test_strided_encoder_matches_the_hand_computed_reference(stride, train):
    torch.manual_seed(0)
    enc = ResConvEncoder(2, 16, steps=41, stride=stride, dropout=0.0).train(train)
    x = torch.randn(5, 41, 2)  # 41: not a multiple of the stride
    mask = torch.ones(5, 41, dtype=torch.bool)
    mask[1, 30:] = False  # right padding
    mask[3, 7:12] = False  # and a hole
    out = enc(x, mask)
    assert out.shape == (5, 41, 16)
    torch.testing.assert_close(out, _reference(enc, x, mask), atol=1e-5, rtol=1e-5)
    # one vector per input step, constant within each block of `stride` steps (row 0 has no masked step)
    blocks = out[0, : 41 // stride * stride].reshape(41 // stride, stride, 16)
    assert (blocks == blocks[:, :1]).all()


@pytest.mark.parametrize("stride", [2, 4])
@pytest.mark.parametrize("train", [False, True])
def test_strided_masked_steps_never_change_valid_steps(stride, train):
    torch.manual_seed(0)
    enc = ResConvEncoder(2, 16, steps=40, stride=stride, dropout=0.0).train(train)
    x = torch.randn(6, 40, 2)
    mask = torch.rand(6, 40) > 0.3  # holes anywhere
    mask[:, 0] = True
    x_nan, x_big = x.clone(), x.clone()
    x_nan[~mask], x_big[~mask] = float("nan"), 1e6
    h_nan = enc(x_nan, mask)
    assert torch.isfinite(h_nan).all() and (h_nan[~mask] == 0).all()
    torch.testing.assert_close(h_nan, enc(x_big, mask))


@pytest.mark.parametrize("stride", [2, 4])
def test_strided_right_padding_changes_nothing(stride):
    """Extra right padding (NaN) of any length: the valid steps' encodings are the unpadded series', in eval
    mode and with training-mode batch statistics (the coarse mask keeps exactly the unpadded coarse steps)."""
    torch.manual_seed(0)
    enc = ResConvEncoder(2, 16, steps=40, stride=stride, dropout=0.0)
    with torch.no_grad():
        enc.train()
        enc(torch.randn(8, 40, 2) * 3 + 1)
    x = torch.randn(3, 25, 2)
    for train in (False, True):
        enc.train(train)
        h = enc(x)
        for extra in (1, 3, 15):
            padded = torch.cat([x, torch.full((3, extra, 2), float("nan"))], dim=1)
            mask = torch.zeros(3, 25 + extra, dtype=torch.bool)
            mask[:, :25] = True
            hp = enc(padded, mask)
            torch.testing.assert_close(hp[:, :25], h, atol=1e-5, rtol=1e-5)
            assert (hp[:, 25:] == 0).all()


def test_strided_gradients_are_finite_and_zero_at_masked_inputs():
    torch.manual_seed(0)
    enc = ResConvEncoder(1, 8, steps=30, stride=4, dropout=0.0).train()
    x = torch.randn(4, 30, 1, requires_grad=True)
    mask = torch.ones(4, 30, dtype=torch.bool)
    mask[2, 17:] = False
    z, _ = make_pool("attention-mean", 8)(enc(x.masked_fill(~mask.unsqueeze(-1), float("nan")), mask), mask=mask,
                                          return_weights=True)
    z.pow(2).sum().backward()
    assert torch.isfinite(x.grad).all() and (x.grad[~mask] == 0).all()
