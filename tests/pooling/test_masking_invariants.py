"""Invariants every pooling must keep: permutation over time, padding, NaN at masked steps, empty rows."""

import pytest
import torch

from attnpool import make_pool
from attnpool.pooling import POOLS

NAMES = list(POOLS)


def _pool(name, channels=8):
    return make_pool(name, channels).double()


def _rows(name, weights):
    """Weights as [..., T, heads] so single- and multi-head pools are checked the same way."""
    return weights if name == "multihead" else weights.unsqueeze(-1)


@pytest.mark.parametrize("name", [n for n in NAMES if n != "last"])  # last-step pooling is order-bound by design
def test_permuting_steps_with_mask_keeps_output(name):
    pool = _pool(name)
    feat = torch.randn(5, 9, 8, dtype=torch.float64)
    mask = torch.rand(5, 9) > 0.3
    perm = torch.randperm(9)
    out = pool(feat, mask=mask)
    out_perm = pool(feat[:, perm], mask=mask[:, perm])
    torch.testing.assert_close(out_perm, out)


@pytest.mark.parametrize("name", NAMES)
def test_masked_padding_changes_nothing(name):
    pool = _pool(name)
    feat = torch.randn(4, 7, 8, dtype=torch.float64)
    out, w = pool(feat, return_weights=True)
    pad = torch.randn(4, 5, 8, dtype=torch.float64) * 1e3
    padded = torch.cat([feat, pad], dim=1)
    mask = torch.cat([torch.ones(4, 7, dtype=torch.bool), torch.zeros(4, 5, dtype=torch.bool)], dim=1)
    out_pad, w_pad = pool(padded, mask=mask, return_weights=True)
    torch.testing.assert_close(out_pad, out)
    torch.testing.assert_close(w_pad[:, :7], w)
    assert (w_pad[:, 7:] == 0).all()


@pytest.mark.parametrize("name", NAMES)
def test_nan_and_inf_at_masked_steps_never_leak(name):
    pool = _pool(name)
    feat = torch.randn(3, 6, 8, dtype=torch.float64)
    mask = torch.ones(3, 6, dtype=torch.bool)
    mask[:, 2] = False
    mask[1, 4] = False
    dirty = feat.clone()
    dirty[:, 2] = float("nan")
    dirty[1, 4] = float("inf")
    clean = feat.clone()
    clean[~mask] = 0.0
    dirty.requires_grad_()
    clean.requires_grad_()
    out_dirty = pool(dirty, mask=mask)
    out_clean = pool(clean, mask=mask)
    torch.testing.assert_close(out_dirty, out_clean)
    out_dirty.sum().backward()
    out_clean.sum().backward()
    assert torch.isfinite(dirty.grad).all()
    torch.testing.assert_close(dirty.grad, clean.grad)
    assert (dirty.grad[~mask] == 0).all()
    for p in pool.parameters():
        assert torch.isfinite(p.grad).all()


@pytest.mark.parametrize("name", NAMES)
def test_empty_row_pools_to_zero_with_finite_gradients(name):
    pool = _pool(name)
    feat = torch.randn(3, 6, 8, dtype=torch.float64, requires_grad=True)
    mask = torch.ones(3, 6, dtype=torch.bool)
    mask[1] = False
    out, w = pool(feat, mask=mask, return_weights=True)
    assert torch.isfinite(out).all() and torch.isfinite(w).all()
    assert (out[1] == 0).all()
    assert (w[1] == 0).all()
    (out.sum() + w.sum()).backward()
    assert torch.isfinite(feat.grad).all()
    assert (feat.grad[1] == 0).all()


@pytest.mark.parametrize("name", NAMES)
def test_weights_sum_to_one_over_valid_steps(name):
    pool = _pool(name)
    feat = torch.randn(6, 10, 8, dtype=torch.float64)
    mask = torch.rand(6, 10) > 0.4
    mask[:, 0] = True
    _, w = pool(feat, mask=mask, return_weights=True)
    w = _rows(name, w)
    torch.testing.assert_close(w.sum(-2), torch.ones(w.shape[0], w.shape[-1], dtype=torch.float64))
    assert (w[~mask] == 0).all()
    assert (w >= 0).all()


@pytest.mark.parametrize("name", ["attention", "gated", "multihead"])
def test_constant_scores_give_mean_pooling(name):
    pool = _pool(name)
    last = pool.attention_w if name == "gated" else pool.attention[2]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.fill_(0.7)
    feat = torch.randn(4, 9, 8, dtype=torch.float64)
    mask = torch.rand(4, 9) > 0.3
    mask[:, 0] = True
    expected = make_pool("mean", 8)(feat, mask=mask)
    torch.testing.assert_close(pool(feat, mask=mask), expected)


def test_max_and_last_by_hand():
    feat = torch.tensor([[[1.0, 5.0], [3.0, -1.0], [9.0, 9.0]]])  # [1, 3, 2]
    mask = torch.tensor([[True, True, False]])
    out, w = make_pool("max", 2)(feat, mask=mask, return_weights=True)
    torch.testing.assert_close(out, torch.tensor([[3.0, 5.0]]))
    torch.testing.assert_close(w, torch.tensor([[0.5, 0.5, 0.0]]))
    out, w = make_pool("last", 2)(feat, mask=mask, return_weights=True)
    torch.testing.assert_close(out, torch.tensor([[3.0, -1.0]]))
    torch.testing.assert_close(w, torch.tensor([[0.0, 1.0, 0.0]]))
    torch.testing.assert_close(make_pool("last", 2)(feat), torch.tensor([[9.0, 9.0]]))


def test_multihead_heads_pool_their_own_channels():
    pool = make_pool("multihead", 8, heads=2).double()
    feat = torch.randn(3, 5, 8, dtype=torch.float64)
    out, w = pool(feat, return_weights=True)
    assert w.shape == (3, 5, 2)
    for head in range(2):
        group = feat[..., head * 4:(head + 1) * 4]
        expected = (w[..., head].unsqueeze(-1) * group).sum(-2)
        torch.testing.assert_close(out[..., head * 4:(head + 1) * 4], expected)


def test_gated_score_formula():
    pool = make_pool("gated", 8).double()
    feat = torch.randn(2, 5, 8, dtype=torch.float64)
    _, w = pool(feat, return_weights=True)
    v = torch.tanh(feat @ pool.attention_V.weight.T + pool.attention_V.bias)
    u = torch.sigmoid(feat @ pool.attention_U.weight.T + pool.attention_U.bias)
    scores = (v * u) @ pool.attention_w.weight[0] + pool.attention_w.bias
    torch.testing.assert_close(w, torch.softmax(scores, dim=-1))


def test_large_logits_stay_finite():
    pool = make_pool("attention", 32)
    feat = torch.randn(14, 30, 32) * 1e4
    mask = torch.rand(14, 30) > 0.2
    for m in (None, mask):
        out, w = pool(feat, mask=m, return_weights=True)
        assert torch.isfinite(out).all() and torch.isfinite(w).all()


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.bfloat16])
def test_dtypes_and_empty_batch(name, dtype):
    pool = make_pool(name, 8).to(dtype)
    feat = torch.randn(3, 5, 8, dtype=dtype)
    mask = torch.rand(3, 5) > 0.3
    out, w = pool(feat, mask=mask, return_weights=True)
    assert out.dtype == dtype and out.shape == (3, 8)
    reference = make_pool(name, 8).double()
    reference.load_state_dict({k: v.double() for k, v in pool.state_dict().items()})
    tol = {torch.float64: 1e-12, torch.float32: 1e-5, torch.bfloat16: 5e-2}[dtype]
    torch.testing.assert_close(out.double(), reference(feat.double(), mask=mask), rtol=tol, atol=tol)
    empty, w_empty = pool(torch.randn(0, 5, 8, dtype=dtype), return_weights=True)
    assert empty.shape == (0, 8) and w_empty.shape[:2] == (0, 5)
