"""AttentionPool against the spec: state_dict compatibility, outputs, gradients, and a step-by-step formula."""

import math

import pytest
import torch
from benchmarks.spec_module import SpecAttentionPooling

from attnpool import AttentionPool


def _spec_by_hand(feat, w1, b1, w2, b2):
    """The spec's formula, one sequence and one step at a time, in float64 Python loops."""
    out = torch.zeros(feat.shape[0], feat.shape[2], dtype=torch.float64)
    for i in range(feat.shape[0]):
        scores = []
        for t in range(feat.shape[1]):
            h = torch.relu(w1 @ feat[i, t] + b1)
            scores.append(float(w2 @ h + b2))
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        for t in range(feat.shape[1]):
            out[i] += feat[i, t] * (exps[t] / total)
    return out


def test_spec_state_dict_loads_strict_both_ways():
    spec = SpecAttentionPooling(32)
    pool = AttentionPool(32)
    pool.load_state_dict(spec.state_dict(), strict=True)
    assert list(pool.state_dict()) == ["attention.0.weight", "attention.0.bias", "attention.2.weight", "attention.2.bias"]
    back = SpecAttentionPooling(32)
    back.load_state_dict(pool.state_dict(), strict=True)
    for key, value in spec.state_dict().items():
        assert torch.equal(back.state_dict()[key], value)


@pytest.mark.parametrize("impl", ["reference", "auto"])
def test_matches_spec_outputs_and_gradients(impl):
    spec = SpecAttentionPooling(32)
    pool = AttentionPool(32, impl=impl)
    pool.load_state_dict(spec.state_dict(), strict=True)
    feat = torch.randn(14, 30, 32)
    a = feat.clone().requires_grad_()
    b = feat.clone().requires_grad_()
    out_spec = spec(a)
    out_pool = pool(b)
    assert out_pool.shape == (14, 32)
    torch.testing.assert_close(out_pool, out_spec, rtol=1e-5, atol=1e-6)
    grad = torch.randn(14, 32)
    out_spec.backward(grad)
    out_pool.backward(grad)
    torch.testing.assert_close(b.grad, a.grad, rtol=1e-5, atol=1e-6)
    for (name, p_spec), (_, p_pool) in zip(spec.named_parameters(), pool.named_parameters()):
        torch.testing.assert_close(p_pool.grad, p_spec.grad, rtol=1e-5, atol=1e-5, msg=name)


def test_matches_step_by_step_formula():
    pool = AttentionPool(8).double()
    feat = torch.randn(3, 5, 8, dtype=torch.float64)
    w1, b1 = pool.attention[0].weight.detach(), pool.attention[0].bias.detach()
    w2, b2 = pool.attention[2].weight.detach()[0], pool.attention[2].bias.detach()[0]
    expected = _spec_by_hand(feat, w1, b1, w2, b2)
    torch.testing.assert_close(pool(feat), expected, rtol=1e-12, atol=1e-12)


def test_weights_are_the_spec_softmax():
    spec = SpecAttentionPooling(32)
    pool = AttentionPool(32)
    pool.load_state_dict(spec.state_dict())
    feat = torch.randn(14, 30, 32)
    _, weights = pool(feat, return_weights=True)
    assert weights.shape == (14, 30)
    torch.testing.assert_close(weights, torch.softmax(spec.attention(feat), dim=1).squeeze(-1))


def test_leading_axes_match_flattened():
    pool = AttentionPool(16)
    feat = torch.randn(2, 7, 30, 16)  # [B, N, T, C] directly
    mask = torch.rand(2, 7, 30) > 0.3
    out, w = pool(feat, mask=mask, return_weights=True)
    flat, wflat = pool(feat.reshape(14, 30, 16), mask=mask.reshape(14, 30), return_weights=True)
    assert out.shape == (2, 7, 16) and w.shape == (2, 7, 30)
    torch.testing.assert_close(out.reshape(14, 16), flat)
    torch.testing.assert_close(w.reshape(14, 30), wflat)


def test_temperature_divides_scores():
    pool = AttentionPool(8, temperature=0.5)
    feat = torch.randn(4, 6, 8)
    _, w = pool(feat, return_weights=True)
    expected = torch.softmax(pool.attention(feat).squeeze(-1) / 0.5, dim=-1)
    torch.testing.assert_close(w, expected)


def test_dropout_only_in_training():
    pool = AttentionPool(8, dropout=0.5)
    feat = torch.randn(64, 6, 8)
    pool.eval()
    _, w = pool(feat, return_weights=True)
    torch.testing.assert_close(w.sum(-1), torch.ones(64))
    pool.train()
    _, w = pool(feat, return_weights=True)
    assert (w == 0).any()


def test_repr_is_short():
    assert repr(AttentionPool(32)) == "AttentionPool(32, hidden=16)"
