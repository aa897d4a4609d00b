"""The hand-derived backward of each custom autograd Function passes torch.autograd.gradcheck in float64."""

import pytest
import torch

from attnpool.kernels import chunked_attention_pool, fused_attention_pool


def _inputs(mask_kind):
    gen = torch.Generator().manual_seed(3)
    n, t, c, h = 3, 9, 5, 4
    dd = dict(dtype=torch.float64)
    feat = torch.randn(n, t, c, generator=gen, **dd).requires_grad_(True)
    params = [
        (torch.randn(h, c, generator=gen, **dd) * 0.7).requires_grad_(True),
        torch.randn(h, generator=gen, **dd).requires_grad_(True),
        torch.randn(1, h, generator=gen, **dd).requires_grad_(True),
        torch.randn(1, generator=gen, **dd).requires_grad_(True),
    ]
    mask = None
    if mask_kind != "none":
        mask = torch.rand(n, t, generator=gen) > 0.3
        mask[:, 0] = True
        if mask_kind == "empty":
            mask[1] = False
    return feat, mask, params


@pytest.mark.parametrize("mask_kind", ["none", "random", "empty"])
@pytest.mark.parametrize(
    "fn, block",
    [(fused_attention_pool, 4096), (fused_attention_pool, 9), (chunked_attention_pool, 4096), (chunked_attention_pool, 4)],
    ids=["fused", "fused-1row-blocks", "chunked", "chunked-4step-chunks"],
)
def test_gradcheck(fn, block, mask_kind):
    feat, mask, params = _inputs(mask_kind)

    def f(x, w1, b1, w2, b2):
        return fn(x, mask, w1, b1, w2, b2, 0.8, block)

    assert torch.autograd.gradcheck(f, (feat, *params), eps=1e-6, atol=1e-7, rtol=1e-5)
