"""The finite range documented in AttentionPool's docstring: float32 inputs with |feat| <= 1e36 at valid steps give
finite outputs, weights and gradients on every path (the spec's C = 32, default initialisation, random output
gradients, masked and unmasked, several seeds).

Measured beyond it with this test's loop (C = 32, 8 seeds, masked and not): every path alike, gradients finite up
to ``max |feat| = 3e37`` and non-finite in every case at 1e38 (the weights' gradient ``feat_t . grad_pooled``
overflows float32, in autograd's backward as in the kernels'); the forward stayed finite up to 3e38 there.
"""

import pytest
import torch

from attnpool import AttentionPool
from attnpool.kernels import chunked as chunked_mod
from attnpool.kernels import fused as fused_mod

LIMIT = 1e36


@pytest.mark.parametrize("impl", ["reference", "small", "fused", "chunked"])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("scale", [1.0, 1e18, LIMIT])
def test_outputs_and_gradients_stay_finite_up_to_the_documented_range(impl, masked, scale, monkeypatch):
    if impl == "small" and masked:
        pytest.skip("the small path takes no mask")
    monkeypatch.setattr(fused_mod, "DEFAULT_BLOCK_STEPS", 64)
    monkeypatch.setattr(chunked_mod, "DEFAULT_CHUNK_STEPS", 16)
    for seed in range(4):
        gen = torch.Generator().manual_seed(seed)
        torch.manual_seed(seed)
        pool = AttentionPool(32, impl=impl)
        feat = torch.randn(6, 30, 32, generator=gen)
        feat = (feat / feat.abs().amax() * scale).requires_grad_(True)  # |feat| reaches the scale exactly
        mask = torch.rand(6, 30, generator=gen) > 0.3 if masked else None
        pooled, weights = pool(feat, mask=mask, return_weights=True)
        loss = (pooled * torch.randn(pooled.shape, generator=gen)).sum()
        loss = loss + (weights * torch.randn(weights.shape, generator=gen)).sum()
        loss.backward()
        for name, value in [("pooled", pooled), ("weights", weights), ("grad feat", feat.grad),
                            *[(f"grad {n}", p.grad) for n, p in pool.named_parameters()]]:  # fmt: skip
            assert torch.isfinite(value).all(), f"{impl}, scale {scale:g}, seed {seed}: {name} not finite"
