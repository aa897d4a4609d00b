"""Huge-page output buffers: same contract as torch.empty_like, and a fused backward above the size threshold
still equals the reference."""

import torch

from attnpool import AttentionPool
from attnpool.kernels.memory import HUGE_PAGE_MIN_BYTES, empty_like_large


def test_empty_like_large_is_a_usable_buffer():
    t = torch.randn(HUGE_PAGE_MIN_BYTES // 4 + 12345)  # above the threshold, not a multiple of 2 MiB
    out = empty_like_large(t)
    assert out.shape == t.shape and out.dtype == t.dtype and out.is_contiguous()
    out.copy_(t)
    assert torch.equal(out, t)
    small = empty_like_large(torch.ones(3, 4, dtype=torch.float64).t())
    assert small.shape == (4, 3) and small.dtype == torch.float64 and small.is_contiguous()


def test_fused_backward_above_the_threshold_matches_reference():
    torch.manual_seed(0)
    feat = torch.randn(9000, 30, 32)  # 34.6 MB: the input gradient takes the huge-page path
    assert feat.numel() * 4 >= HUGE_PAGE_MIN_BYTES
    ref, fused = AttentionPool(32, impl="reference"), AttentionPool(32, impl="fused")
    fused.load_state_dict(ref.state_dict())
    grads = []
    for pool in (ref, fused):
        x = feat.clone().requires_grad_()
        pool(x).pow(2).sum().backward()
        grads.append(x.grad)
    torch.testing.assert_close(grads[1], grads[0], rtol=1e-5, atol=1e-6)
