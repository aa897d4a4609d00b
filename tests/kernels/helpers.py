"""Shared helpers for the kernel tests: run a pooling forward + backward and compare to the reference."""

from __future__ import annotations

import torch

from attnpool import AttentionPool


def make_case(shape, *, dtype=torch.float32, mask_kind="none", temperature=1.0, hidden=None, seed=0):
    """A pool and an input: ``feat`` of ``shape`` ``[..., T, C]``, and a mask of kind

    ``"none"``, ``"random"`` (about 30% masked), or ``"empty"`` (random, plus one all-masked row and NaN/inf at
    every masked step, which must never reach an output or a gradient).
    """
    gen = torch.Generator().manual_seed(seed)
    channels = shape[-1]
    pool = AttentionPool(channels, hidden, temperature=temperature).to(dtype)
    with torch.no_grad():
        for param in pool.parameters():  # deterministic, and scaled so that the softmax is not flat
            param.copy_(torch.randn(param.shape, generator=gen, dtype=torch.float64).to(dtype) * 0.5)
    feat = torch.randn(shape, generator=gen, dtype=torch.float64).to(dtype)
    mask = None
    if mask_kind != "none":
        mask = torch.rand(shape[:-1], generator=gen) > 0.3
        if mask_kind == "empty":
            mask.view(-1, shape[-2])[0] = False
            bad = torch.full_like(feat[~mask], float("nan"))
            bad.view(-1)[::2] = float("inf")
            feat[~mask] = bad
    return pool, feat, mask


def run(pool, feat, mask, impl, *, grad_weights=True, seed=1):
    """Forward + backward with random output gradients; returns ``[pooled, weights, d feat, d params...]``."""
    pool.impl = impl
    pool.zero_grad(set_to_none=True)
    x = feat.detach().clone().requires_grad_(True)
    if impl == "reference":
        pooled, weights = pool.reference(x, mask)
    else:
        pooled, weights = pool(x, mask=mask, return_weights=True)
    gen = torch.Generator().manual_seed(seed)
    loss = (pooled * torch.randn(pooled.shape, generator=gen, dtype=torch.float64).to(pooled.dtype)).sum()
    if grad_weights:
        loss = loss + (weights * torch.randn(weights.shape, generator=gen, dtype=torch.float64).to(weights.dtype)).sum()
    loss.backward()
    return [pooled.detach(), weights.detach(), x.grad] + [p.grad for p in pool.parameters()]


NAMES = ["pooled", "weights", "grad feat", "grad W1", "grad b1", "grad w2", "grad b2"]


def assert_matches(got, want, rtol):
    """Every tensor within ``rtol`` of the reference, relative to the reference tensor's largest magnitude.

    The gradient of ``b2`` is mathematically 0 (softmax ignores a shift of every score), so both sides hold
    rounding noise: it is compared with an absolute tolerance scaled by the gradient of ``w2``.
    """
    for name, g, w in zip(NAMES, got, want):
        assert g is not None and w is not None, name
        assert g.shape == w.shape and g.dtype == w.dtype, (name, g.shape, w.shape, g.dtype, w.dtype)
        assert torch.isfinite(g).all(), f"{name}: not finite"
        scale = w.abs().max().item() if w.numel() else 0.0
        if name == "grad b2":
            scale = max(scale, got[5].abs().max().item(), 1.0)
        err = (g.double() - w.double()).abs().max().item() if w.numel() else 0.0
        assert err <= rtol * max(scale, 1e-30), f"{name}: max abs error {err:.3e} > {rtol} x {scale:.3e}"
