"""Property-based checks (hypothesis) over shapes, masks and dtypes against a dense float64 reference."""

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from attnpool import make_pool
from attnpool.pooling import POOLS


def _dense_reference(pool, feat, mask):
    """Pool each row separately on its valid steps only (no mask at all), in float64."""
    lead = feat.shape[:-2]
    flat = feat.reshape(-1, *feat.shape[-2:])
    flat_mask = mask.reshape(-1, mask.shape[-1])
    rows = []
    for row, keep in zip(flat, flat_mask):
        if keep.any():
            rows.append(pool(row[keep].unsqueeze(0)).squeeze(0))
        else:
            rows.append(torch.zeros(feat.shape[-1], dtype=feat.dtype))
    return torch.stack(rows).reshape(*lead, feat.shape[-1]) if rows else torch.zeros(*lead, feat.shape[-1], dtype=feat.dtype)


@settings(max_examples=40, deadline=None)
@given(
    name=st.sampled_from(list(POOLS)),
    lead=st.lists(st.integers(1, 3), min_size=0, max_size=2),
    steps=st.integers(1, 9),
    channels=st.sampled_from([4, 8]),
    dtype=st.sampled_from([torch.float32, torch.float64]),
    seed=st.integers(0, 2**16),
    keep=st.floats(0.0, 1.0),
)
def test_masked_pool_equals_pool_of_valid_steps(name, lead, steps, channels, dtype, seed, keep):
    gen = torch.Generator().manual_seed(seed)
    kwargs = {"heads": 2} if name == "multihead" else {}
    pool = make_pool(name, channels, **kwargs).to(dtype)
    feat = torch.randn(*lead, steps, channels, generator=gen, dtype=dtype)
    mask = torch.rand(*lead, steps, generator=gen) < keep
    out, weights = pool(feat, mask=mask, return_weights=True)
    assert out.shape == (*lead, channels)
    assert weights.shape[: len(lead) + 1] == (*lead, steps)
    assert torch.isfinite(out).all() and torch.isfinite(weights).all()
    expected = _dense_reference(pool, feat, mask)
    tol = 1e-5 if dtype == torch.float32 else 1e-10
    torch.testing.assert_close(out, expected, rtol=tol, atol=tol)
