"""Every CPU kernel (fused, chunked) equals AttentionPool(impl="reference") on outputs, weights and gradients."""

import pytest
import torch

from attnpool.kernels import chunked as chunked_mod
from attnpool.kernels import fused as fused_mod

from .helpers import assert_matches, make_case, run

IMPLS = ["fused", "chunked"]


@pytest.fixture(params=["default", "tiny_blocks"])
def blocks(request, monkeypatch):
    """Run each case with the default block sizes and with tiny ones (many blocks, chunks across a row)."""
    if request.param == "tiny_blocks":
        monkeypatch.setattr(fused_mod, "DEFAULT_BLOCK_STEPS", 40)
        monkeypatch.setattr(chunked_mod, "DEFAULT_CHUNK_STEPS", 7)
    return request.param


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("mask_kind", ["none", "random", "empty"])
@pytest.mark.parametrize("shape", [(14, 30, 32), (2, 3, 17, 8), (3, 50, 6)])
def test_float32_matches_reference(impl, mask_kind, shape, blocks):
    pool, feat, mask = make_case(shape, mask_kind=mask_kind)
    assert_matches(run(pool, feat, mask, impl), run(pool, feat, mask, "reference"), rtol=1e-5)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("temperature", [0.25, 3.0])
def test_temperature(impl, temperature, blocks):
    pool, feat, mask = make_case((5, 40, 12), mask_kind="empty", temperature=temperature, hidden=5)
    assert_matches(run(pool, feat, mask, impl), run(pool, feat, mask, "reference"), rtol=1e-5)


@pytest.mark.parametrize("impl", IMPLS)
def test_float64_matches_reference_tightly(impl, blocks):
    pool, feat, mask = make_case((4, 33, 10), dtype=torch.float64, mask_kind="empty")
    assert_matches(run(pool, feat, mask, impl), run(pool, feat, mask, "reference"), rtol=1e-12)


@pytest.mark.parametrize("impl", IMPLS)
def test_bfloat16_close_to_reference(impl):
    pool, feat, mask = make_case((6, 20, 16), dtype=torch.bfloat16, mask_kind="random")
    got = run(pool, feat, mask, impl)
    want = run(pool, feat, mask, "reference")
    # bf16 keeps 8 bits of mantissa; both sides round differently (ours sums parameter grads in float32).
    assert_matches(got, want, rtol=5e-2)


@pytest.mark.parametrize("impl", IMPLS)
def test_gradient_through_pooled_only(impl):
    pool, feat, mask = make_case((7, 30, 32), mask_kind="empty")
    got = run(pool, feat, mask, impl, grad_weights=False)
    want = run(pool, feat, mask, "reference", grad_weights=False)
    assert_matches(got, want, rtol=1e-5)


@pytest.mark.parametrize("impl", IMPLS)
def test_gradient_through_weights_only(impl):
    pool, feat, mask = make_case((3, 30, 8), mask_kind="random")
    grads = []
    for name in (impl, "reference"):
        pool.impl = name
        pool.zero_grad(set_to_none=True)
        x = feat.clone().requires_grad_(True)
        weights = pool.reference(x, mask)[1] if name == "reference" else pool(x, mask=mask, return_weights=True)[1]
        (weights * torch.linspace(-1, 1, weights.numel()).view_as(weights)).sum().backward()
        grads.append([weights.detach(), x.grad, pool.attention[0].weight.grad])
    for g, w in zip(*grads):
        torch.testing.assert_close(g, w, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("impl", IMPLS)
def test_frozen_parameters_and_input_without_grad(impl):
    pool, feat, mask = make_case((4, 30, 32), mask_kind="random")
    pool.requires_grad_(False)
    x = feat.clone().requires_grad_(True)
    pool.impl = impl
    pool(x, mask=mask).sum().backward()
    assert x.grad is not None and pool.attention[0].weight.grad is None
    pool.requires_grad_(True)
    pool(feat, mask=mask).sum().backward()  # feat needs no grad: only the parameters get one
    expected = pool.attention[0].weight.grad.clone()
    pool.zero_grad(set_to_none=True)
    pool.reference(feat, mask)[0].sum().backward()
    torch.testing.assert_close(expected, pool.attention[0].weight.grad, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("impl", IMPLS)
def test_inference_under_no_grad_and_empty_batch(impl):
    pool, feat, mask = make_case((9, 30, 32), mask_kind="empty")
    pool.impl = impl
    with torch.no_grad():
        out, weights = pool(feat, mask=mask, return_weights=True)
        ref_out, ref_w = pool.reference(feat, mask)
    torch.testing.assert_close(out, ref_out, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(weights, ref_w, rtol=1e-5, atol=1e-6)
    assert (out[0] == 0).all() and (weights[0] == 0).all()  # the all-masked row
    empty = torch.zeros(0, 5, 30, 32)
    out, weights = pool(empty, return_weights=True)
    assert out.shape == (0, 5, 32) and weights.shape == (0, 5, 30)


@pytest.mark.parametrize("impl", IMPLS)
def test_non_contiguous_input(impl):
    pool, feat, _ = make_case((30, 6, 32))
    feat = feat.transpose(0, 1)  # [6, 30, 32] view, not contiguous
    got = run(pool, feat, None, impl)
    want = run(pool, feat, None, "reference")
    assert_matches(got, want, rtol=1e-5)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_large_scores_are_stable(impl, dtype, blocks):
    # Scores in the hundreds: exp would overflow without the running maximum. The softmax is then nearly
    # one-hot and its gradients cancel, so fp32 gradients are ill-conditioned on both sides: there, compare the
    # forward in fp32 and everything in fp64.
    pool, feat, mask = make_case((3, 30, 8), dtype=dtype, mask_kind="random")
    feat = feat * 300.0
    got = run(pool, feat, mask, impl)
    want = run(pool, feat, mask, "reference")
    if dtype == torch.float64:
        assert_matches(got, want, rtol=1e-10)
    else:
        assert_matches(got[:2], want[:2], rtol=1e-5)
